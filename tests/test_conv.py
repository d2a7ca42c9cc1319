"""conv2d and the pools against direct loop references written here, and their gradients."""
import math
import threading

import numpy as np
import pytest

import mgp
from mgp.ops import nn as F

rng = np.random.default_rng(0)


# ======================================= slow, obvious references ====================================

def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def resolve_padding(padding, hw, window, stride):
    """((top, bottom), (left, right)) as Keras defines each padding form."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":  # output size ceil(n / s); the odd pixel of padding goes after
        pads = []
        for n, w, s in zip(hw, window, stride):
            total = max((math.ceil(n / s) - 1) * s + w - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, int):
        return (padding, padding), (padding, padding)
    if isinstance(padding[0], int):
        return (padding[0],) * 2, (padding[1],) * 2
    return tuple(padding)


def windows(x, window, stride, dilation, padding, fill):
    """Yield (i, j, patch) for every output pixel; patch is (N, kh, kw, C) from NHWC `x`."""
    (kh, kw), (sh, sw), (dh, dw) = window, stride, dilation
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    (t, b), (l, r) = resolve_padding(padding, x.shape[1:3], span, stride)
    xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=fill)
    ho = (xp.shape[1] - span[0]) // sh + 1
    wo = (xp.shape[2] - span[1]) // sw + 1
    for i in range(ho):
        for j in range(wo):
            yield i, j, xp[:, i * sh:i * sh + span[0]:dh, j * sw:j * sw + span[1]:dw, :]


def conv2d_ref(x, k, b, strides, padding, dilation):
    out = {}
    for i, j, patch in windows(x, k.shape[:2], pair(strides), pair(dilation), padding, 0.0):
        out[i, j] = np.einsum("nhwc,hwcf->nf", patch, k)
    res = np.stack([np.stack([out[i, j] for j in range(max(q for _, q in out) + 1)], 1)
                    for i in range(max(p for p, _ in out) + 1)], 1)
    return res if b is None else res + b


def pool_ref(x, pool, strides, padding, kind):
    strides = pair(strides if strides is not None else pool)
    fill = -np.inf if kind == "max" else np.nan  # avg: padding is excluded from the mean
    rows = {}
    for i, j, patch in windows(x, pair(pool), strides, (1, 1), padding, fill):
        v = patch.max(axis=(1, 2)) if kind == "max" else np.nanmean(patch, axis=(1, 2))
        rows.setdefault(i, []).append(v)
    return np.stack([np.stack(rows[i], 1) for i in sorted(rows)], 1)


def nchw(a):
    return a.transpose(0, 3, 1, 2)


def nhwc(a):
    return a.transpose(0, 2, 3, 1)


# ============================================== conv2d ==============================================

CONV_CASES = [
    # (x NHWC shape, kernel shape, strides, padding, dilation)
    ((2, 5, 5, 3), (3, 3, 3, 4), 1, "valid", 1),
    ((2, 7, 5, 2), (3, 2, 2, 3), 1, "same", 1),
    ((1, 7, 6, 2), (3, 3, 2, 2), 2, "same", 1),
    ((1, 8, 7, 1), (2, 3, 1, 2), (2, 3), "same", 1),
    ((2, 7, 7, 2), (3, 3, 2, 2), 1, "valid", 2),
    ((1, 9, 8, 2), (3, 2, 2, 3), 2, "same", (2, 3)),
    ((1, 6, 5, 3), (3, 3, 3, 2), 1, 1, 1),
    ((1, 6, 5, 3), (2, 3, 3, 2), 2, (1, 2), 1),
    ((1, 5, 6, 2), (3, 3, 2, 1), (1, 2), ((0, 2), (1, 0)), (1, 2)),
    ((2, 4, 4, 1), (1, 1, 1, 3), 3, "valid", 1),
    ((2, 9, 8, 1), (3, 2, 1, 2), (2, 1), "same", (2, 2)),  # one channel, strided and dilated
    ((1, 3, 3, 2), (3, 3, 2, 2), 1, "valid", 1),  # the kernel covers the whole image
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("x_shape, k_shape, strides, padding, dilation", CONV_CASES, ids=str)
def test_conv2d_matches_reference(x_shape, k_shape, strides, padding, dilation, data_format):
    x, k = rng.standard_normal(x_shape), rng.standard_normal(k_shape)
    b = rng.standard_normal(k_shape[3])
    expected = conv2d_ref(x, k, b, strides, padding, dilation)
    if data_format == "channels_first":
        x, expected = nchw(x), nchw(expected)
    out = F.conv2d(mgp.tensor(x), mgp.tensor(k), mgp.tensor(b), strides, padding, dilation,
                   data_format)
    assert out.dtype == np.float32 and out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_conv2d_same_keeps_ceil_of_input_over_stride():
    for h, w, s in [(7, 5, 1), (7, 5, 2), (8, 9, 3)]:
        out = F.conv2d(mgp.tensor(np.ones((1, h, w, 1))), mgp.tensor(np.ones((3, 3, 1, 1))),
                       strides=s, padding="same")
        assert out.shape == (1, math.ceil(h / s), math.ceil(w / s), 1)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("x_shape, k_shape, strides, padding, dilation",
                         [CONV_CASES[1], CONV_CASES[3], CONV_CASES[5], CONV_CASES[8]], ids=str)
def test_conv2d_gradcheck(x_shape, k_shape, strides, padding, dilation, data_format):
    x = rng.standard_normal(x_shape)
    if data_format == "channels_first":
        x = nchw(x)
    inputs = [mgp.tensor(a, requires_grad=True) for a in
              (x, rng.standard_normal(k_shape), rng.standard_normal(k_shape[3]))]
    assert mgp.gradcheck(lambda x, k, b: F.conv2d(x, k, b, strides, padding, dilation,
                                                  data_format), *inputs)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("x_shape, k_shape, strides, padding, dilation",
                         [CONV_CASES[0], CONV_CASES[5], CONV_CASES[10]], ids=str)
def test_conv2d_in_pieces_gradcheck(monkeypatch, threads, x_shape, k_shape, strides, padding,
                                    dilation):
    # real inputs run conv2d in pieces of the batch (its weights' gradients summed over the
    # pieces); force one image per piece on these small ones, in turn and on two threads
    from mgp import backend
    monkeypatch.setattr(backend, "_threads", threads)
    monkeypatch.setattr(backend, "_MIN_PIECE", 1)
    monkeypatch.setattr(backend, "_CACHE_PIECE", 1)
    pieces = []
    split = backend.over_batch
    monkeypatch.setattr(backend, "over_batch", lambda fn, n, size, **kw: split(
        lambda rows: pieces.append(rows) or fn(rows), n, size, **kw))
    x_shape = (5,) + x_shape[1:]
    x, k, b = (rng.standard_normal(s) for s in (x_shape, k_shape, k_shape[3:]))
    inputs = [mgp.tensor(a, requires_grad=True) for a in (x, k, b)]
    for activation in (None, "relu"):
        assert mgp.gradcheck(lambda x, k, b: F.conv2d(x, k, b, strides, padding, dilation,
                                                      activation=activation), *inputs)
    assert slice(4, 5) in pieces  # the batch did run one image at a time
    out = F.conv2d(*inputs, strides, padding, dilation)
    np.testing.assert_allclose(out.numpy(), conv2d_ref(x, k, b, strides, padding, dilation),
                               rtol=1e-4, atol=1e-5)


def test_conv2d_gradcheck_fast_on_larger_input():
    inputs = [mgp.tensor(rng.standard_normal(s), requires_grad=True)
              for s in [(4, 12, 12, 3), (3, 3, 3, 8), (8,)]]
    assert mgp.gradcheck(lambda x, k, b: F.conv2d(x, k, b, 2, "same"), *inputs, fast=True)


def test_conv2d_without_bias_and_single_input_gradient():
    x = mgp.tensor(rng.standard_normal((1, 4, 4, 2)), requires_grad=True)
    k = mgp.tensor(rng.standard_normal((2, 2, 2, 1)))
    assert mgp.gradcheck(lambda x: F.conv2d(x, k, padding=1), x)
    k.requires_grad_()
    assert mgp.gradcheck(lambda k: F.conv2d(x.detach(), k, strides=2), k)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("x_shape, k_shape, strides, padding, dilation", CONV_CASES[:4], ids=str)
def test_conv2d_fused_relu_matches_relu_of_conv2d(x_shape, k_shape, strides, padding, dilation,
                                                  data_format):
    x = rng.standard_normal(x_shape)
    x = nchw(x) if data_format == "channels_first" else x
    k, b = rng.standard_normal(k_shape), rng.standard_normal(k_shape[3])
    g = rng.standard_normal(F.conv2d(mgp.tensor(x), mgp.tensor(k), None, strides, padding,
                                     dilation, data_format).shape)
    results = []
    for fused in (False, True):
        xt, kt, bt = (mgp.tensor(a, requires_grad=True) for a in (x, k, b))
        if fused:
            out = F.conv2d(xt, kt, bt, strides, padding, dilation, data_format, activation="relu")
        else:
            out = F.conv2d(xt, kt, bt, strides, padding, dilation, data_format).relu()
        out.backward(g)
        results.append((out.numpy(), xt.grad, kt.grad, bt.grad))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    for got, want in zip(results[1][1:], results[0][1:]):  # sums in another order
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert (results[1][0] >= 0).all() and not np.signbit(results[1][0]).any()  # no -0.0


def test_conv2d_errors():
    with pytest.raises(ValueError, match="activation must be None or 'relu', got 'tanh'"):
        F.conv2d(mgp.tensor(np.ones((1, 3, 3, 1))), mgp.tensor(np.ones((2, 2, 1, 1))),
                 activation="tanh")
    with pytest.raises(ValueError, match=r"conv2d: window \(4, 4\).*larger than the padded input"):
        F.conv2d(mgp.tensor(np.ones((1, 3, 3, 1))), mgp.tensor(np.ones((4, 4, 1, 1))))
    with pytest.raises(ValueError, match=r"window \(5, 5\).*dilation \(2, 2\)"):
        F.conv2d(mgp.tensor(np.ones((1, 4, 4, 1))), mgp.tensor(np.ones((3, 3, 1, 1))),
                 dilation_rate=2)
    assert F.conv2d(mgp.tensor(np.ones((1, 3, 3, 1))), mgp.tensor(np.ones((4, 4, 1, 1))),
                    padding=1).shape == (1, 2, 2, 1)  # padding makes it fit
    with pytest.raises(ValueError, match=r"input has 3 channels.*\(1, 5, 5, 3\).*expects 2"):
        F.conv2d(mgp.tensor(np.ones((1, 5, 5, 3))), mgp.tensor(np.ones((3, 3, 2, 4))))
    with pytest.raises(ValueError, match=r"input has 5 channels.*\(1, 5, 4, 3\), channels_first"):
        F.conv2d(mgp.tensor(np.ones((1, 5, 4, 3))), mgp.tensor(np.ones((3, 3, 3, 4))),
                 data_format="channels_first")
    with pytest.raises(ValueError, match="4-D input"):
        F.conv2d(mgp.tensor(np.ones((5, 5, 3))), mgp.tensor(np.ones((3, 3, 3, 4))))
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        F.conv2d(mgp.tensor(np.ones((1, 5, 5, 3))), mgp.tensor(np.ones((3, 3, 3, 4))),
                 mgp.tensor(np.ones(3)))
    with pytest.raises(ValueError, match="data_format"):
        F.conv2d(mgp.tensor(np.ones((1, 5, 5, 3))), mgp.tensor(np.ones((3, 3, 3, 4))),
                 data_format="NHWC")
    with pytest.raises(ValueError, match="padding must be"):
        F.conv2d(mgp.tensor(np.ones((1, 5, 5, 3))), mgp.tensor(np.ones((3, 3, 3, 4))),
                 padding="full")


# =============================================== pools ==============================================

POOL_CASES = [
    # (x NHWC shape, pool, strides, padding)
    ((2, 6, 6, 3), 2, None, "valid"),      # tiles the input
    ((2, 7, 5, 2), 2, None, "valid"),      # odd sizes: the last row/column is dropped
    ((1, 7, 5, 2), 3, 2, "valid"),
    ((1, 7, 5, 2), 3, 1, "same"),
    ((2, 7, 6, 1), 2, 2, "same"),
    ((1, 5, 8, 2), (2, 3), (1, 2), "same"),
    ((1, 6, 5, 2), 3, 2, 1),
    ((1, 6, 5, 2), (3, 2), (2, 1), ((1, 0), (0, 1))),
]


@pytest.mark.parametrize("kind, op", [("max", F.max_pool2d), ("avg", F.avg_pool2d)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("x_shape, pool, strides, padding", POOL_CASES, ids=str)
def test_pool_matches_reference(x_shape, pool, strides, padding, data_format, kind, op):
    x = rng.standard_normal(x_shape)
    expected = pool_ref(x, pool, strides, padding, kind)
    if data_format == "channels_first":
        x, expected = nchw(x), nchw(expected)
    out = op(mgp.tensor(x), pool, strides, padding, data_format)
    assert out.dtype == np.float32 and out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", [F.max_pool2d, F.avg_pool2d])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("x_shape, pool, strides, padding",
                         [POOL_CASES[1], POOL_CASES[3], POOL_CASES[5], POOL_CASES[7]], ids=str)
def test_pool_gradcheck(x_shape, pool, strides, padding, data_format, op):
    x = rng.standard_normal(x_shape)  # continuous values: no ties inside a window
    x = nchw(x) if data_format == "channels_first" else x
    assert mgp.gradcheck(lambda x: op(x, pool, strides, padding, data_format),
                         mgp.tensor(x, requires_grad=True))


def test_max_pool_tie_gradient_goes_to_the_first_maximum():
    x = mgp.tensor(np.ones((1, 2, 2, 1)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, :, :, 0], [[1, 0], [0, 0]])
    # overlapping windows: each window routes its gradient to its own first maximum
    x = mgp.tensor(np.array([1.0, 3.0, 3.0, 1.0]).reshape(1, 1, 4, 1), requires_grad=True)
    F.max_pool2d(x, (1, 2), strides=1).sum().backward()
    np.testing.assert_array_equal(x.grad.ravel(), [0, 2, 1, 0])


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_max_pool_gradient_is_zero_past_the_last_window(padding):
    # the windows that tile the input write their gradient into an uninitialized buffer: the
    # rows and columns no window covers must still come back as zeros, never stale memory
    x = rng.standard_normal((64, 11, 13, 8)).astype(np.float32)
    for _ in range(3):
        garbage = np.full(x.size * 4, np.nan, dtype=np.float32)  # freed memory to reuse
        del garbage
        t = mgp.tensor(x, requires_grad=True)
        F.max_pool2d(t, 2, padding=padding).sum().backward()
        np.testing.assert_array_equal(t.grad, max_pool_grad_ref(x, 2, None, padding))
        if padding == "valid":
            assert not t.grad[:, 10:].any() and not t.grad[:, :, 12:].any()


def max_pool_grad_ref(x, pool, strides, padding):
    """d(sum of max-pool)/dx by a loop: each window's first maximum (row-major) takes 1."""
    strides = pair(strides if strides is not None else pool)
    (t, _), (l, _) = resolve_padding(padding, x.shape[1:3], pair(pool), strides)
    grad = np.pad(np.zeros_like(x), ((0, 0), (t, t + 8), (l, l + 8), (0, 0)))
    for i, j, patch in windows(x, pair(pool), strides, (1, 1), padding, -np.inf):
        for n in range(x.shape[0]):
            for c in range(x.shape[3]):
                r, q = np.unravel_index(np.argmax(patch[n, :, :, c]), patch.shape[1:3])
                grad[n, i * strides[0] + r, j * strides[1] + q, c] += 1
    return grad[:, t:t + x.shape[1], l:l + x.shape[2]]


@pytest.mark.parametrize("x_shape, pool, strides, padding", POOL_CASES, ids=str)
def test_max_pool_gradient_with_many_ties_matches_loop(x_shape, pool, strides, padding):
    x = rng.integers(0, 3, x_shape).astype(np.float32)  # three values: ties in most windows
    t = mgp.tensor(x, requires_grad=True)
    F.max_pool2d(t, pool, strides, padding).sum().backward()
    np.testing.assert_array_equal(t.grad, max_pool_grad_ref(x, pool, strides, padding))


def test_avg_pool_same_averages_only_real_pixels():
    out = F.avg_pool2d(mgp.tensor(np.ones((1, 3, 3, 1))), 2, 1, "same")
    np.testing.assert_array_equal(out.numpy(), np.ones((1, 3, 3, 1)))


def test_pool_errors():
    with pytest.raises(ValueError, match=r"max_pool2d: window \(4, 4\).*larger"):
        F.max_pool2d(mgp.tensor(np.ones((1, 3, 3, 1))), 4)
    with pytest.raises(ValueError, match=r"avg_pool2d expects a 4-D input.*\(3, 3\)"):
        F.avg_pool2d(mgp.tensor(np.ones((3, 3))), 2)
    with pytest.raises(ValueError, match=r"strides must be positive, got \(0, 0\)"):
        F.max_pool2d(mgp.tensor(np.ones((1, 4, 4, 1))), 2, 0)
    with pytest.raises(ValueError, match=r"pool_size must be an int or a tuple of 2 ints, got \(2, 2, 2\)"):
        F.max_pool2d(mgp.tensor(np.ones((1, 4, 4, 1))), (2, 2, 2))


@pytest.mark.parametrize("data_format, axes", [("channels_last", (1, 2)),
                                               ("channels_first", (2, 3))])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_avg_pool2d(data_format, axes, keepdims):
    x = rng.standard_normal((2, 3, 4, 5))
    out = F.global_avg_pool2d(mgp.tensor(x), data_format, keepdims)
    np.testing.assert_allclose(out.numpy(), x.mean(axes, keepdims=keepdims), rtol=1e-5)
    assert mgp.gradcheck(lambda t: F.global_avg_pool2d(t, data_format, keepdims),
                         mgp.tensor(x, requires_grad=True))


@pytest.mark.parametrize("rows, width", [(3, 32), (1000, 32), (257, 64), (300, 7), (5, 9000)])
def test_apply_row_equals_the_plain_broadcast(rows, width):
    from mgp.ops.convolution import _apply_row
    a = rng.standard_normal((rows, width)).astype(np.float32)
    a[0, 0], a[-1, -1] = np.nan, -np.inf
    row = rng.standard_normal(width).astype(np.float32)
    for ufunc, r in ((np.add, row), (np.maximum, np.zeros(width, np.float32))):
        got = a.copy()
        _apply_row(ufunc, got, r)
        np.testing.assert_array_equal(got, ufunc(a, r))


# ============================================== threads =============================================

def _pool_conv_relu_step(x, k, b):
    xt, kt, bt = (mgp.tensor(a, requires_grad=True) for a in (x, k, b))
    out = F.max_pool2d(F.conv2d(xt, kt, bt).relu(), 2)
    (out * out).sum().backward()
    return out.numpy(), xt.grad, kt.grad, bt.grad


@pytest.mark.parametrize("threads", [2, 3])
def test_ops_split_over_threads_match_one_thread(monkeypatch, threads):
    from mgp import backend
    x = rng.integers(-2, 3, (7, 9, 8, 3)).astype(np.float32)  # ties in the pooling windows
    k, b = rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)
    monkeypatch.setattr(backend, "_threads", 1)
    whole = _pool_conv_relu_step(x, k, b)
    monkeypatch.setattr(backend, "_MIN_PIECE", 1)  # split even these small arrays
    expected = _pool_conv_relu_step(x, k, b)  # the same pieces, in turn on this thread
    for got, want in zip(expected, whole):  # the kernel's gradient: pieces' sums, rounded apart
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    monkeypatch.setattr(backend, "_threads", threads)
    calls = []
    split = backend.over_batch
    monkeypatch.setattr(backend, "over_batch", lambda fn, n, size, **kw: calls.append(n) or
                        split(fn, n, size, **kw))
    for got, want in zip(_pool_conv_relu_step(x, k, b), expected):
        np.testing.assert_array_equal(got, want)
    assert calls  # the ops did go through over_batch


@pytest.mark.parametrize("calls_blas", [False, True])
def test_over_batch_covers_every_row_once_and_raises_errors(monkeypatch, calls_blas):
    from mgp import backend
    monkeypatch.setattr(backend, "_threads", 3)
    monkeypatch.setattr(backend, "_MIN_PIECE", 1)
    seen = np.zeros(40, int)

    def add(rows):
        seen[rows] += 1
    backend.over_batch(add, 40, 40, calls_blas=calls_blas)
    np.testing.assert_array_equal(seen, 1)

    def fail(rows):
        raise ValueError(f"rows {rows}")
    with pytest.raises(ValueError, match="rows"):
        backend.over_batch(fail, 40, 40, calls_blas=calls_blas)


def test_over_batch_without_a_blas_thread_setting_runs_product_pieces_in_turn(monkeypatch):
    from mgp import backend
    monkeypatch.setattr(backend, "_threads", 2)
    monkeypatch.setattr(backend, "_blas_setter", False)  # as where NumPy's BLAS is not OpenBLAS
    monkeypatch.setattr(backend, "_MIN_PIECE", 1)
    pieces = []
    backend.over_batch(lambda rows: pieces.append((rows, threading.get_ident())), 64, 64,
                       calls_blas=True)
    assert len(pieces) > 1 and {t for _, t in pieces} == {threading.get_ident()}
    assert [r.start for r, _ in pieces] == sorted(r.start for r, _ in pieces)


def test_over_batch_runs_products_on_one_blas_thread_each_and_restores_it(monkeypatch):
    from mgp import backend
    setter = backend._blas_threads_setter()
    config = getattr(np.__config__, "CONFIG", None)  # NumPy >= 1.25
    blas = config["Build Dependencies"]["blas"] if config else {"name": "unknown"}
    openblas = "openblas" in blas["name"].lower()
    version = tuple(int(v) for v in blas["version"].split(".")[:3]) if openblas else ()
    # found exactly where NumPy was built against OpenBLAS 0.3.27 or later
    assert (setter is not None) == (openblas and version >= (0, 3, 27))
    if setter is None:
        return  # the other test covers this BLAS: products run in turn on the calling thread
    monkeypatch.setattr(backend, "_threads", 2)
    monkeypatch.setattr(backend, "_MIN_PIECE", 1)
    before = setter(3)  # this thread's setting, to see that it comes back
    seen = []

    def piece(rows):
        seen.append((setter(1), threading.get_ident()))  # the setting the piece ran with
    try:
        backend.over_batch(piece, 64, 64, calls_blas=True)
        assert {s for s, _ in seen} == {1}
        assert setter(3) == 3  # restored after the pieces

        def fail(rows):
            raise ValueError("a piece failed")
        with pytest.raises(ValueError, match="a piece failed"):
            backend.over_batch(fail, 64, 64, calls_blas=True)
        assert setter(3) == 3  # restored after an error too
    finally:
        setter(before)


# ================================ N-D, grouped, depthwise, transposed ===============================
# Keras's own ops (torch backend) as the reference: the same names, signatures and layouts.

ND_CONV_CASES = [
    # (x channels-last shape, kernel shape, strides, padding, dilation)
    ((2, 9, 4), (3, 4, 5), 1, "valid", 1),
    ((2, 9, 4), (2, 2, 6), 2, "same", 1),             # groups 2
    ((1, 10, 3), (3, 1, 6), 1, "same", 3),            # depthwise-like: groups 3
    ((2, 5, 6, 4), (3, 2, 2, 4), (2, 1), "same", 1),  # groups 2
    ((1, 7, 6, 4), (3, 3, 1, 8), 1, "valid", 2),      # groups 4
    ((2, 4, 5, 3, 2), (2, 3, 2, 2, 3), 1, "valid", 1),
    ((1, 5, 4, 6, 4), (3, 2, 3, 2, 4), (2, 1, 3), "same", 1),
    ((1, 6, 5, 5, 2), (2, 2, 2, 1, 4), 1, "same", (2, 1, 2)),
]


def keras_ops():
    import oracles
    return oracles.keras().ops


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("x_shape, k_shape, strides, padding, dilation", ND_CONV_CASES, ids=str)
def test_conv_nd_grouped_matches_keras_and_gradcheck(x_shape, k_shape, strides, padding,
                                                     dilation, data_format):
    kops = keras_ops()
    x, k = rng.standard_normal(x_shape), rng.standard_normal(k_shape)
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    expected = kops.convert_to_numpy(kops.conv(x.astype(np.float32), k.astype(np.float32),
                                               strides, padding, data_format, dilation))
    out = mgp.ops.conv(x, k, strides, padding, data_format, dilation)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    inputs = [mgp.tensor(a, requires_grad=True) for a in (x, k)]
    assert mgp.gradcheck(lambda x, k: mgp.ops.conv(x, k, strides, padding, data_format,
                                                   dilation), *inputs)


TRANSPOSE_CASES = [
    # (x channels-last shape, kernel (*k, filters, in), strides, padding, output_padding, dilation)
    ((2, 5, 3), (3, 2, 3), 1, "valid", None, 1),
    ((2, 5, 3), (3, 2, 3), 2, "same", None, 1),
    ((1, 4, 2), (4, 3, 2), 3, "valid", 2, 1),
    ((1, 4, 2), (2, 2, 2), 4, "same", 1, 1),
    ((1, 5, 2), (3, 2, 2), 1, "same", None, 2),
    ((2, 4, 3, 2), (3, 2, 3, 2), (2, 3), "same", (1, 0), 1),
    ((1, 3, 4, 2), (2, 2, 2, 2), 2, "valid", None, 1),
    ((1, 3, 3, 2, 2), (2, 3, 2, 2, 2), (1, 2, 2), "same", (0, 1, 1), 1),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("x_shape, k_shape, strides, padding, output_padding, dilation",
                         TRANSPOSE_CASES, ids=str)
def test_conv_transpose_matches_keras_and_gradcheck(x_shape, k_shape, strides, padding,
                                                    output_padding, dilation, data_format):
    kops = keras_ops()
    x, k = rng.standard_normal(x_shape), rng.standard_normal(k_shape)
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    expected = kops.convert_to_numpy(kops.conv_transpose(
        x.astype(np.float32), k.astype(np.float32), strides, padding, output_padding,
        data_format, dilation))
    out = mgp.ops.conv_transpose(x, k, strides, padding, output_padding, data_format, dilation)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    inputs = [mgp.tensor(a, requires_grad=True) for a in (x, k)]
    assert mgp.gradcheck(lambda x, k: mgp.ops.conv_transpose(
        x, k, strides, padding, output_padding, data_format, dilation), *inputs)


def test_conv_transpose_is_the_adjoint_of_conv():
    # <conv(z, k), x> == <z, conv_transpose(x, k)> for every z and x, with the same kernel:
    # 'valid' with output_padding 0 gives the full (n - 1) * stride + window cells, which are
    # z's cells up to the last that a window reaches (the rest get nothing)
    def f64(a):
        return mgp.tensor(a, dtype=np.float64)
    k = rng.standard_normal((3, 2, 4, 5))
    for strides, dilation in [(1, 1), (2, 1), ((2, 3), 1), (1, (2, 1))]:
        z = rng.standard_normal((2, 9, 8, 4))
        y = mgp.ops.conv(f64(z), f64(k), strides, "valid", None, dilation).numpy()
        x = rng.standard_normal(y.shape)
        zt = mgp.ops.conv_transpose(f64(x), f64(k), strides, "valid", 0, None, dilation).numpy()
        reached = z[tuple(slice(0, n) for n in zt.shape)]
        np.testing.assert_allclose((y * x).sum(), (reached * zt).sum(), rtol=1e-10)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("x_shape, k_shape, strides, padding, dilation", [
    ((2, 9, 3), (3, 3, 2), 2, "same", 1),
    ((1, 6, 5, 2), (2, 3, 2, 3), 1, "valid", 2),
    ((1, 7, 6, 3), (3, 3, 3, 1), (2, 1), "same", 1),
], ids=str)
def test_depthwise_and_separable_conv_match_keras_and_gradcheck(x_shape, k_shape, strides,
                                                                 padding, dilation, data_format):
    kops = keras_ops()
    x, k = rng.standard_normal(x_shape), rng.standard_normal(k_shape)
    rank = len(x_shape) - 2
    pk = rng.standard_normal((1,) * rank + (k_shape[-2] * k_shape[-1], 4))
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    f32 = [a.astype(np.float32) for a in (x, k, pk)]
    depthwise = kops.depthwise_conv(f32[0], f32[1], strides, padding, data_format, dilation)
    separable = kops.separable_conv(*f32, strides, padding, data_format, dilation)
    np.testing.assert_allclose(
        mgp.ops.depthwise_conv(x, k, strides, padding, data_format, dilation).numpy(),
        kops.convert_to_numpy(depthwise), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        mgp.ops.separable_conv(x, k, pk, strides, padding, data_format, dilation).numpy(),
        kops.convert_to_numpy(separable), rtol=1e-4, atol=1e-5)
    inputs = [mgp.tensor(a, requires_grad=True) for a in (x, k, pk)]
    assert mgp.gradcheck(lambda x, k: mgp.ops.depthwise_conv(x, k, strides, padding,
                                                             data_format, dilation), *inputs[:2])
    assert mgp.gradcheck(lambda x, k, p: mgp.ops.separable_conv(x, k, p, strides, padding,
                                                                data_format, dilation), *inputs)


ND_POOL_CASES = [
    # (x channels-last shape, pool, strides, padding)
    ((2, 9, 3), 2, None, "valid"),
    ((2, 9, 3), 3, 2, "same"),
    ((1, 8, 2), 3, 1, "valid"),
    ((2, 6, 5, 4, 2), 2, None, "valid"),
    ((1, 5, 6, 5, 2), (3, 2, 3), (2, 2, 1), "same"),
    ((1, 4, 5, 4, 1), (1, 3, 2), 1, "valid"),
]


@pytest.mark.parametrize("op", ["max_pool", "average_pool"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("x_shape, pool, strides, padding", ND_POOL_CASES, ids=str)
def test_pool_nd_matches_keras_and_gradcheck(x_shape, pool, strides, padding, data_format, op):
    kops = keras_ops()
    x = rng.standard_normal(x_shape)
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    fn = getattr(mgp.ops, op)
    out = fn(x, pool, strides, padding, data_format)
    if op == "max_pool" or padding == "valid" or x_shape == (2, 9, 3):  # see average 'same'
        expected = kops.convert_to_numpy(getattr(kops, op)(x.astype(np.float32), pool, strides,
                                                           padding, data_format))
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert mgp.gradcheck(lambda x: fn(x, pool, strides, padding, data_format),
                         mgp.tensor(x, requires_grad=True))


def test_average_pool_same_with_uneven_padding_averages_the_covered_inputs():
    # Keras's TensorFlow and JAX backends leave the padding out of each window's mean (mgp
    # does too); its torch backend pads by repeating the edge there instead
    x = np.arange(5, dtype=np.float32).reshape(1, 5, 1)
    out = mgp.ops.average_pool(x, 2, 2, "same").numpy().ravel()
    np.testing.assert_array_equal(out, [0.5, 2.5, 4.0])


@pytest.mark.parametrize("x_shape, pool, strides, padding", ND_POOL_CASES, ids=str)
def test_max_pool_nd_tie_gradient_goes_to_the_first_maximum(x_shape, pool, strides, padding):
    x = rng.integers(0, 3, x_shape).astype(np.float32)  # ties in most windows
    t = mgp.tensor(x, requires_grad=True)
    out = mgp.ops.max_pool(t, pool, strides, padding)
    out.sum().backward()
    torch = pytest.importorskip("torch")  # PyTorch routes a tie to the first maximum too
    rank = len(x_shape) - 2
    pads = resolve_padding_nd(padding, x_shape[1:-1], pool, strides)
    xt = torch.tensor(np.pad(np.moveaxis(x, -1, 1), ((0, 0), (0, 0)) + pads,
                             constant_values=-np.inf), requires_grad=True)
    pool_fn = [torch.nn.functional.max_pool1d, torch.nn.functional.max_pool2d,
               torch.nn.functional.max_pool3d][rank - 1]
    pool_fn(xt, pool, strides if strides is not None else pool).sum().backward()
    inner = (slice(None), slice(None)) + tuple(slice(lo, lo + n) for (lo, _), n in
                                               zip(pads, x_shape[1:-1]))
    np.testing.assert_array_equal(t.grad, np.moveaxis(xt.grad.numpy()[inner], 1, -1))


def resolve_padding_nd(padding, size, pool, strides):
    rank = len(size)
    pool = (pool,) * rank if isinstance(pool, int) else pool
    strides = pool if strides is None else (strides,) * rank if isinstance(strides, int) \
        else strides
    if padding == "valid":
        return ((0, 0),) * rank
    pads = []
    for n, k, s in zip(size, pool, strides):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


@pytest.mark.parametrize("threads", [1, 2])
def test_grouped_and_transposed_conv_in_pieces_gradcheck(monkeypatch, threads):
    # one image per piece, in turn and on two threads, as the 2-D test above does
    from mgp import backend
    monkeypatch.setattr(backend, "_threads", threads)
    monkeypatch.setattr(backend, "_MIN_PIECE", 1)
    monkeypatch.setattr(backend, "_CACHE_PIECE", 1)
    x = mgp.tensor(rng.standard_normal((3, 5, 4, 4)), requires_grad=True)
    k = mgp.tensor(rng.standard_normal((3, 2, 2, 4)), requires_grad=True)
    b = mgp.tensor(rng.standard_normal(4), requires_grad=True)
    assert mgp.gradcheck(lambda x, k, b: mgp.ops.nn.convolve(x, k, b, 2, "same",
                                                          activation="relu"), x, k, b)
    kt = mgp.tensor(rng.standard_normal((2, 2, 3, 4)), requires_grad=True)
    assert mgp.gradcheck(lambda x, k: mgp.ops.conv_transpose(x, k, 2, "same"), x, kt)
    assert mgp.gradcheck(lambda x: mgp.ops.max_pool(x, (2, 3), 1), x)


def test_nd_conv_errors():
    x = mgp.tensor(np.ones((1, 5, 6, 4)))
    with pytest.raises(ValueError, match=r"kernel must have 3, 4 or 5 axes.*\(3, 3\)"):
        mgp.ops.conv(x, np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"conv expects a 3-D input .* kernel of shape "
                                         r"\(3, 4, 2\), got shape \(1, 5, 6, 4\)"):
        mgp.ops.conv(x, np.ones((3, 4, 2)))
    with pytest.raises(ValueError, match=r"input has 4 channels .* expects 3"):
        mgp.ops.conv(x, np.ones((3, 3, 3, 2)))
    with pytest.raises(ValueError, match=r"input has 4 channels .* expects 2 \(or, grouped"):
        mgp.ops.conv(x, np.ones((3, 3, 2, 3)))  # 2 groups, but 3 filters do not split in 2
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same', got 1"):
        mgp.ops.conv(x, np.ones((3, 3, 4, 2)), padding=1)
    with pytest.raises(ValueError, match=r"depthwise_conv: input has 4 channels .* expects 2"):
        mgp.ops.depthwise_conv(x, np.ones((3, 3, 2, 1)))
    with pytest.raises(ValueError, match=r"conv_transpose: input has 4 channels.*expects 3"):
        mgp.ops.conv_transpose(x, np.ones((3, 3, 2, 3)))
    with pytest.raises(ValueError, match=r"output_padding must be less than strides"):
        mgp.ops.conv_transpose(x, np.ones((3, 3, 2, 4)), 2, "same", output_padding=2)
    with pytest.raises(ValueError, match=r"output size \(0, 0\) is not positive"):
        mgp.ops.conv_transpose(np.ones((1, 1, 1, 1)), np.ones((2, 2, 1, 1)), 1, "same", 0)
    with pytest.raises(ValueError, match=r"max_pool expects a 3-, 4- or 5-D input"):
        mgp.ops.max_pool(np.ones((2, 3)), 2)
    with pytest.raises(ValueError, match=r"average_pool: window \(4,\).*larger"):
        mgp.ops.average_pool(np.ones((1, 3, 2)), 4)
