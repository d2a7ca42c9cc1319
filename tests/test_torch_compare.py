"""Values and gradients of a sample of ops against PyTorch's (skipped where torch is missing)."""
import numpy as np
import pytest

import mgp
from mgp import ops as F

import oracles  # noqa: E402

torch = oracles.torch()
tF = torch.nn.functional

rng = np.random.default_rng(0)


def compare(mgp_fn, torch_fn, *arrays, rtol=1e-5, atol=1e-5):
    """Run both on float32 copies of `arrays`, backpropagate one random upstream gradient
    through each, and compare outputs and every input's gradient."""
    ours = [mgp.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out, ref = mgp_fn(*ours), torch_fn(*theirs)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")


def randn(*shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("a, b", [((5, 4), (4, 3)), ((4,), (4, 3)), ((2, 1, 5, 4), (3, 4, 2)),
                                  ((2, 5, 4), (4,))], ids=str)
def test_matmul(a, b): compare(F.matmul, torch.matmul, randn(*a), randn(*b))


def _torch_conv(x, k, b, stride, padding, dilation):
    # mgp: NHWC input, (kh, kw, in, out) kernel; torch: NCHW, (out, in, kh, kw)
    y = tF.conv2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), b, stride, padding, dilation)
    return y.permute(0, 2, 3, 1)


@pytest.mark.parametrize("x_shape, k_shape, stride, padding, dilation", [
    ((2, 7, 6, 3), (3, 3, 3, 4), 1, 1, 1),
    ((2, 9, 8, 2), (3, 2, 2, 3), 2, (1, 0), 1),
    ((1, 9, 9, 2), (3, 3, 2, 2), (2, 1), 2, (2, 1)),
    ((2, 8, 8, 3), (5, 5, 3, 2), 3, 0, 1),
], ids=str)
def test_conv2d(x_shape, k_shape, stride, padding, dilation):
    compare(lambda x, k, b: F.nn.conv2d(x, k, b, stride, padding, dilation),
            lambda x, k, b: _torch_conv(x, k, b, stride, padding, dilation),
            randn(*x_shape), randn(*k_shape), randn(k_shape[3]), rtol=1e-4, atol=1e-4)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("k_shape, dilation", [((3, 3, 3, 4), 1), ((2, 4, 3, 2), 1),
                                              ((3, 2, 3, 2), (2, 3))], ids=str)
def test_conv2d_same_matches_torch_same(k_shape, dilation):
    # even windows pad one more after than before, in both libraries
    compare(lambda x, k: F.nn.conv2d(x, k, padding="same", dilation_rate=dilation,
                                  data_format="channels_first"),
            lambda x, k: tF.conv2d(x, k.permute(3, 2, 0, 1), padding="same", dilation=dilation),
            randn(2, 3, 7, 6), randn(*k_shape), rtol=1e-4, atol=1e-4)


POOL_CASES = [(2, 2, 0), (3, 2, 1), (3, 1, 1), ((2, 3), (1, 2), (1, 1))]


def _nhwc(torch_pool):
    return lambda x, *args, **kw: torch_pool(x.permute(0, 3, 1, 2), *args, **kw).permute(0, 2, 3, 1)


@pytest.mark.parametrize("pool, stride, padding", POOL_CASES, ids=str)
def test_max_pool2d(pool, stride, padding):
    compare(lambda x: F.nn.max_pool2d(x, pool, stride, padding),
            lambda x: _nhwc(tF.max_pool2d)(x, pool, stride, padding), randn(2, 7, 8, 3))


@pytest.mark.parametrize("pool, stride, padding", POOL_CASES, ids=str)
def test_avg_pool2d(pool, stride, padding):
    # mgp averages only real pixels under padding (Keras's rule): torch's count_include_pad=False
    compare(lambda x: F.nn.avg_pool2d(x, pool, stride, padding),
            lambda x: _nhwc(tF.avg_pool2d)(x, pool, stride, padding, count_include_pad=False),
            randn(2, 7, 8, 3))


@pytest.mark.parametrize("axis", [-1, 0])
def test_log_softmax(axis):
    x = randn(4, 6) * 10
    x[0, 0] = 1e4
    compare(lambda t: F.log_softmax(t, axis), lambda t: tF.log_softmax(t, axis), x)


def test_cross_entropy_int_labels():
    labels = rng.integers(0, 5, 6)
    compare(lambda x: F.nn.cross_entropy(x, labels),
            lambda x: tF.cross_entropy(x, torch.from_numpy(labels), reduction="none"),
            randn(6, 5) * 3)


def test_cross_entropy_probability_targets():
    compare(lambda x, t: F.nn.cross_entropy(x, t.softmax()),
            lambda x, t: tF.cross_entropy(x, t.softmax(-1), reduction="none"),
            randn(6, 5) * 3, randn(6, 5))


def test_binary_cross_entropy_with_logits():
    compare(lambda x, t: F.nn.binary_cross_entropy_with_logits(x, t.sigmoid()),
            lambda x, t: tF.binary_cross_entropy_with_logits(x, t.sigmoid(), reduction="none"),
            randn(4, 3) * 5, randn(4, 3))


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu(approximate):
    compare(lambda x: F.gelu(x, approximate),
            lambda x: tF.gelu(x, approximate="tanh" if approximate else "none"), randn(50) * 3)


def test_softplus(): compare(F.softplus, tF.softplus, randn(50) * 10)
def test_elu(): compare(lambda x: F.elu(x, 0.7), lambda x: tF.elu(x, 0.7), randn(50) * 3)
def test_leaky_relu(): compare(F.leaky_relu, lambda x: tF.leaky_relu(x, 0.2), randn(50))
def test_sigmoid_tanh():
    compare(lambda x: F.sigmoid(x) * F.tanh(x), lambda x: x.sigmoid() * x.tanh(), randn(50) * 4)


@pytest.mark.parametrize("axis, ddof", [(None, 0), (0, 0), (1, 1), ((0, 2), 1)], ids=str)
def test_var(axis, ddof):
    compare(lambda x: x.var(axis, ddof=ddof),
            lambda x: torch.var(x, dim=axis, correction=ddof), randn(3, 4, 5))


def test_logsumexp():
    compare(lambda x: F.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), randn(4, 6) * 20)


@pytest.mark.parametrize("x_shape, axis", [((8, 3), -1), ((2, 3, 4, 5), 1)], ids=str)
def test_batch_norm(x_shape, axis):
    # torch's feature axis is 1, which for 2-D input is also the last
    c = x_shape[axis]
    compare(lambda x, g, b: F.nn.batch_norm(x, g, b, axis)[0],
            lambda x, g, b: tF.batch_norm(x, None, None, g, b, training=True, eps=1e-3),
            randn(*x_shape) * 3 + 1, randn(c), randn(c), rtol=1e-4, atol=1e-4)
