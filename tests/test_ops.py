"""The engine's ops (mgp.ops, with the fused nn ones in mgp.ops.nn): forward against NumPy and
gradient by gradcheck, one line per case (tinygrad's helper_test_op style), plus hypothesis-drawn
broadcasts, axes and keepdims. Every Keras op against Keras itself: tests/test_keras_ops.py."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
import hypothesis.extra.numpy as hnp

import mgp
from mgp import ops as F

rng = np.random.default_rng(0)


def sample(shape, positive=False):
    """Values in [0.2, 2) (random sign unless positive): away from kinks at 0 and from ties."""
    x = rng.uniform(0.2, 2.0, shape)
    return x if positive else x * rng.choice([-1.0, 1.0], shape)


def helper_test_op(shapes, fn, np_fn=None, positive=False, fast=False, rtol=1e-4, atol=1e-5):
    """Check `fn`'s float32 forward against `np_fn` (float64 NumPy) when given, then gradcheck it
    in float64 on inputs of `shapes`."""
    arrays = [sample(s, positive) for s in shapes]
    if np_fn is not None:
        out = fn(*[mgp.tensor(a) for a in arrays])
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), np_fn(*arrays), rtol=rtol, atol=atol)
    assert mgp.gradcheck(fn, *[mgp.tensor(a, requires_grad=True) for a in arrays], fast=fast)


# ============================================ elementwise ============================================

BROADCAST_PAIRS = [
    [(3, 4), (3, 4)],      # same shape
    [(3, 4), (4,)],        # missing leading dim
    [(2, 3, 4), (3, 4)],
    [(3, 4), (1, 4)],      # size-1 dims
    [(3, 4), (3, 1)],
    [(3, 4), ()],          # 0-d scalars
    [(), (3, 4)],
    [(), ()],
    [(3, 1), (1, 4)],      # both operands broadcast at once
    [(2, 1, 4), (3, 1)],
    [(1,), (2, 3)],
]


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_add(shapes): helper_test_op(shapes, F.add, np.add)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_sub(shapes): helper_test_op(shapes, F.subtract, np.subtract)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_mul(shapes): helper_test_op(shapes, F.multiply, np.multiply)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_div(shapes): helper_test_op(shapes, F.divide, np.divide)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_pow_tensor_exponent(shapes): helper_test_op(shapes, F.power, np.power, positive=True)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_maximum(shapes): helper_test_op(shapes, F.maximum, np.maximum)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_minimum(shapes): helper_test_op(shapes, F.minimum, np.minimum)


def test_operators(): helper_test_op([(3, 4), (4,)], lambda a, b: (a + b) * a / b - b ** 2)


@pytest.mark.parametrize("p", [2, 3, 0.5, -1, -1.5, 0, 1])
def test_pow_scalar_exponent(p):
    helper_test_op([(3, 4)], lambda x: F.power(x, p), lambda x: x ** p, positive=True)


def test_pow_scalar_base(): helper_test_op([(3, 4)], lambda x: F.power(2.0, x), lambda x: 2 ** x)
def test_pow_zero_exponent_at_zero_has_zero_gradient():
    x = mgp.tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0])


UNARY_SHAPES = [(), (5,), (3, 4), (2, 3, 4)]


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_neg(shape): helper_test_op([shape], F.negative, np.negative)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_exp(shape): helper_test_op([shape], F.exp, np.exp)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_log(shape): helper_test_op([shape], F.log, np.log, positive=True)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_sqrt(shape): helper_test_op([shape], F.sqrt, np.sqrt, positive=True)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_abs(shape): helper_test_op([shape], F.abs, np.abs)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_tanh(shape): helper_test_op([shape], F.tanh, np.tanh)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_sigmoid(shape): helper_test_op([shape], F.sigmoid, lambda x: 1 / (1 + np.exp(-x)))
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_relu(shape): helper_test_op([shape], F.relu, lambda x: np.maximum(x, 0))
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_leaky_relu(shape):
    helper_test_op([shape], F.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x))
    helper_test_op([shape], lambda x: F.leaky_relu(x, 0.01), lambda x: np.where(x > 0, x, 0.01 * x))
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_elu(shape):
    helper_test_op([shape], F.elu, lambda x: np.where(x > 0, x, np.expm1(x)))
    helper_test_op([shape], lambda x: F.elu(x, 0.5),
                   lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)))
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_softplus(shape): helper_test_op([shape], F.softplus, lambda x: np.log1p(np.exp(x)))


_erf = np.vectorize(math.erf)


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_gelu_exact(shape):
    helper_test_op([shape], lambda x: F.gelu(x, approximate=False),
                   lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))))


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_gelu_tanh(shape):
    c = math.sqrt(2 / math.pi)
    helper_test_op([shape], lambda x: F.gelu(x, approximate=True),
                   lambda x: 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x ** 3))))


def test_gelu_exact_matches_erf_closely():
    x = np.linspace(-6, 6, 1001)
    out = F.gelu(mgp.tensor(x, dtype=np.float64), approximate=False).numpy()
    np.testing.assert_allclose(out, 0.5 * x * (1 + _erf(x / math.sqrt(2))), atol=1e-6)


def test_relu_gives_positive_zero():
    assert repr(F.relu(mgp.tensor([-2.0, 1.0]))) == "tensor([0., 1.])"


def test_softplus_and_sigmoid_stable_for_large_inputs():
    x = mgp.tensor([-1e4, -50.0, 50.0, 1e4], requires_grad=True)
    np.testing.assert_allclose(F.softplus(x).numpy(), [0, 0, 50, 1e4], atol=1e-6)
    np.testing.assert_allclose(F.sigmoid(x).numpy(), [0, 0, 1, 1], atol=1e-6)
    F.softplus(x).sum().backward()
    assert np.isfinite(x.grad).all()


@pytest.mark.parametrize("lo, hi", [(-0.9, 1.1), (None, 1.1), (-0.9, None)])
def test_clip(lo, hi):
    helper_test_op([(4, 5)], lambda x: F.clip(x, lo, hi), lambda x: np.clip(x, lo, hi))


def test_clip_array_bounds():
    lo, hi = np.full(5, -0.9, dtype=np.float32), mgp.tensor(np.full((4, 1), 1.1))
    helper_test_op([(4, 5)], lambda x: F.clip(x, lo, hi), lambda x: np.clip(x, lo, 1.1))


def test_clip_gradient_is_zero_outside_the_bounds():
    x = mgp.tensor([-2.0, 0.5, 2.0], requires_grad=True)
    x.clip(-1, 1).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 0])


@pytest.mark.parametrize("cond_shape, shapes", [
    ((3, 4), [(3, 4), (3, 4)]),
    ((3, 4), [(4,), ()]),
    ((4,), [(3, 1), (3, 4)]),
    ((2, 1, 1), [(3, 1), (1, 4)]),   # the condition broadcasts the output too
], ids=str)
def test_where(cond_shape, shapes):
    cond = rng.random(cond_shape) > 0.5
    helper_test_op(shapes, lambda a, b: F.where(cond, a, b), lambda a, b: np.where(cond, a, b))


def test_where_gradient_routes_by_condition():
    a, b = mgp.tensor([1.0, 2.0], requires_grad=True), mgp.tensor([3.0, 4.0], requires_grad=True)
    F.where(np.array([1, 0]), a, b).sum().backward()  # an integer condition counts as truthiness
    np.testing.assert_array_equal(a.grad, [1, 0])
    np.testing.assert_array_equal(b.grad, [0, 1])


@pytest.mark.parametrize("op, share", [(F.maximum, [0.5, 1, 0]), (F.minimum, [0.5, 0, 1])])
def test_maximum_minimum_ties_split_the_gradient(op, share):
    a = mgp.tensor([1.0, 3.0, 0.0], requires_grad=True)
    b = mgp.tensor([1.0, 2.0, 2.0], requires_grad=True)
    op(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, share)
    np.testing.assert_array_equal(b.grad, 1 - np.array(share))


def test_cast():
    x = mgp.tensor([1.5, -2.5], requires_grad=True)
    y = F.cast(x, np.float64)
    assert y.dtype == np.float64
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2, 2]
    assert F.cast(x, np.int32).dtype == np.int32 and not F.cast(x, np.int32).requires_grad


# ============================================ reductions =============================================

AXES = [None, 0, 1, -1, (0, 2), (-1, 0), ()]
REDUCTIONS = [
    (F.sum, np.sum), (F.mean, np.mean), (F.var, np.var), (F.max, np.max), (F.min, np.min),
    (F.logsumexp, lambda x, axis, keepdims: np.log(np.exp(x).sum(axis, keepdims=keepdims))),
]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("op, np_op", REDUCTIONS, ids=lambda o: getattr(o, "__name__", ""))
def test_reduction(op, np_op, axis, keepdims):
    helper_test_op([(2, 3, 4)], lambda x: op(x, axis, keepdims),
                   lambda x: np_op(x, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("op, np_op", REDUCTIONS, ids=lambda o: getattr(o, "__name__", ""))
def test_reduction_of_0d_and_1d(op, np_op):
    helper_test_op([()], op, lambda x: np_op(x, axis=None, keepdims=False))
    helper_test_op([(5,)], lambda x: op(x, 0), lambda x: np_op(x, axis=0, keepdims=False))


def test_var_ddof():
    helper_test_op([(3, 5)], lambda x: x.var(1, ddof=1), lambda x: np.var(x, 1, ddof=1))
def test_methods():
    helper_test_op([(3, 4)], lambda x: x.sum(0) + x.mean(axis=0) + x.max(0, keepdims=True).sum(0)
                   + x.min(axis=0) + x.var(0) + x.logsumexp(0))


def test_max_min_ties_share_the_gradient_evenly():
    x = mgp.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.grad = None
    x.min().backward()
    np.testing.assert_allclose(x.grad, [[1, 0, 0], [0, 0, 0]])


def test_logsumexp_stable():
    x = mgp.tensor([[1e4, 1e4], [-1e4, -1e4]], requires_grad=True)
    out = x.logsumexp(axis=1)
    np.testing.assert_allclose(out.numpy(), [1e4 + np.log(2), -1e4 + np.log(2)], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, 0.5)


def test_argmax_argmin():
    a = sample((3, 4))
    x = mgp.tensor(a, requires_grad=True)
    for axis in (None, 0, 1, -1):
        assert np.array_equal(F.argmax(x, axis).numpy(), a.argmax(axis))
        assert np.array_equal(F.argmin(x, axis).numpy(), a.argmin(axis))
        assert np.array_equal(x.argmax(axis).numpy(), a.argmax(axis))
    assert not F.argmax(x).requires_grad and F.argmax(x).dtype.kind == "i"


# ============================================== matmul ==============================================

@pytest.mark.parametrize("shapes", [
    [(3,), (3,)],
    [(3,), (3, 4)],
    [(2, 3), (3,)],
    [(2, 3), (3, 4)],
    [(2, 2, 3), (3, 4)],
    [(2, 3), (5, 3, 4)],
    [(3,), (2, 3, 4)],
    [(2, 3, 4), (4,)],
    [(2, 1, 2, 3), (3, 3, 2)],     # broadcast batch dims on both sides
    [(1, 2, 3), (4, 3, 2)],
], ids=str)
def test_matmul(shapes): helper_test_op(shapes, F.matmul, np.matmul)


def test_matmul_fast_gradcheck_on_larger_input():
    helper_test_op([(16, 32), (32, 24)], F.matmul, np.matmul, fast=True)


# ============================================= movement =============================================

def test_reshape():
    helper_test_op([(2, 3, 4)], lambda x: F.reshape(x, (6, 4)), lambda x: x.reshape(6, 4))
    helper_test_op([(2, 3, 4)], lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1))
    helper_test_op([(1,)], lambda x: x.reshape(()), lambda x: x.reshape(()))


@pytest.mark.parametrize("axes", [(), (1, 0, 2), (2, 0, 1), (-1, 0, 1)], ids=str)
def test_transpose(axes):
    helper_test_op([(2, 3, 4)], lambda x: F.transpose(x, axes or None),
                   lambda x: x.transpose(*axes))
    helper_test_op([(2, 3, 4)], lambda x: x.transpose(*axes), lambda x: x.transpose(*axes))


def test_permute_and_T():
    helper_test_op([(2, 3, 4)], lambda x: mgp.permute(x, (2, 0, 1)),
                   lambda x: x.transpose(2, 0, 1))
    helper_test_op([(2, 3)], lambda x: x.T, lambda x: x.T)
    helper_test_op([(2, 3, 4)], lambda x: x.permute(1, 2, 0), lambda x: x.transpose(1, 2, 0))


@pytest.mark.parametrize("axis", [0, 1, -1], ids=str)
def test_expand_dims(axis):
    helper_test_op([(2, 3)], lambda x: F.expand_dims(x, axis), lambda x: np.expand_dims(x, axis))
@pytest.mark.parametrize("axis", [None, 1, (1, 3), -1], ids=str)
def test_squeeze(axis):
    helper_test_op([(2, 1, 3, 1)], lambda x: F.squeeze(x, axis), lambda x: np.squeeze(x, axis))
@pytest.mark.parametrize("start", [0, 1, 2], ids=str)
def test_flatten(start):
    helper_test_op([(2, 3, 4)], lambda x: F.numpy.flatten(x, start),
                   lambda x: x.reshape(x.shape[:start] + (-1,)))
@pytest.mark.parametrize("shape, to", [((3,), (2, 3)), ((3, 1), (3, 4)), ((), (2, 2)),
                                       ((1, 3), (2, 2, 3))], ids=str)
def test_broadcast_to(shape, to):
    helper_test_op([shape], lambda x: F.broadcast_to(x, to), lambda x: np.broadcast_to(x, to))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(axis):
    shapes = [(2, 3, 4), (2, 3, 4), (2, 3, 4)]
    shapes[1] = tuple(5 if i == axis % 3 else n for i, n in enumerate(shapes[1]))
    helper_test_op(shapes, lambda *t: F.concatenate(t, axis), lambda *a: np.concatenate(a, axis))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis):
    helper_test_op([(2, 3)] * 3, lambda *t: F.stack(t, axis), lambda *a: np.stack(a, axis))


def test_concatenate_and_stack_errors():
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(2, 4\)"):
        F.concatenate([mgp.tensor(np.ones((2, 3))), mgp.tensor(np.ones((2, 4)))])
    with pytest.raises(ValueError, match=r"stack.*\(2, 3\).*\(2, 4\)"):
        F.stack([mgp.tensor(np.ones((2, 3))), mgp.tensor(np.ones((2, 4)))])


@pytest.mark.parametrize("pad_width", [1, ((1, 2), (0, 3)), ((0, 0), (2, 1))], ids=str)
def test_pad(pad_width):
    helper_test_op([(2, 3)], lambda x: F.pad(x, pad_width), lambda x: np.pad(x, pad_width))
def test_pad_constant():
    helper_test_op([(2, 3)], lambda x: F.pad(x, 1, constant_values=5.0),
                   lambda x: np.pad(x, 1, constant_values=5.0))


BASIC_INDICES = [1, -1, (slice(None), slice(1, 3)), (Ellipsis, slice(None, None, 2)),
                 (None, 0), (1, 2), (slice(None, None, -1),)]
ADVANCED_INDICES = [[0, 0, 1], ([0, 1, 1], [2, 2, 0]), (slice(None), [3, 0, 3]),
                    np.array([[0, 2], [2, 2]]), (0, [1, 1])]


@pytest.mark.parametrize("index", BASIC_INDICES + ADVANCED_INDICES, ids=str)
def test_getitem(index): helper_test_op([(3, 4)], lambda x: x[index], lambda x: x[index])


def test_getitem_repeated_indices_accumulate():
    x = mgp.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    x[[0, 0, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad, [[2, 2], [1, 1], [0, 0]])


def test_getitem_with_tensor_and_mask_indices():
    a = sample((3, 4))
    x = mgp.tensor(a, requires_grad=True)
    mask = a > 0
    np.testing.assert_allclose(x[mgp.tensor(mask)].numpy(), a[mask], rtol=1e-6)
    np.testing.assert_allclose(F.get_item(x, mgp.tensor([2, 0])).numpy(), a[[2, 0]], rtol=1e-6)
    x[x > 0].sum().backward()
    np.testing.assert_array_equal(x.grad, mask)


# ================================================ nn ================================================

@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax(axis):
    def ref(x):
        e = np.exp(x - x.max(axis, keepdims=True))
        return e / e.sum(axis, keepdims=True)
    helper_test_op([(3, 4, 5)], lambda x: F.softmax(x, axis), ref)
    helper_test_op([(3, 4, 5)], lambda x: x.softmax(axis) * x, lambda x: ref(x) * x)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_log_softmax(axis):
    helper_test_op([(3, 4, 5)], lambda x: F.log_softmax(x, axis),
                   lambda x: x - np.log(np.exp(x).sum(axis, keepdims=True)))


def test_log_softmax_and_softmax_finite_for_huge_logits():
    x = mgp.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4 + 1, -1e4]], requires_grad=True)
    out = F.log_softmax(x)
    assert np.isfinite(out.numpy()).all()
    np.testing.assert_allclose(out.numpy()[0], [0, -2e4, -1e4], rtol=1e-6)
    np.testing.assert_allclose(out.numpy()[1], np.array([-1, 0, -1]) - np.log1p(2 * np.exp(-1)),
                               rtol=1e-6)
    out.sum().backward()
    assert np.isfinite(x.grad).all()
    assert np.isfinite(F.softmax(x).numpy()).all()


def _ce_ref(logits, labels):
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return -np.take_along_axis(logp, labels[..., None], -1)[..., 0]


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)], ids=str)
def test_cross_entropy_int_labels(shape):
    labels = rng.integers(0, shape[-1], shape[:-1])
    helper_test_op([shape], lambda x: F.nn.cross_entropy(x, labels), lambda x: _ce_ref(x, labels))


def test_cross_entropy_probability_targets():
    helper_test_op([(4, 5), (4, 5)], lambda x, t: F.nn.cross_entropy(x, t.softmax()),
                   lambda x, t: -(np.exp(t) / np.exp(t).sum(-1, keepdims=True) *
                                  (x - np.log(np.exp(x).sum(-1, keepdims=True)))).sum(-1))


def test_cross_entropy_one_hot_equals_int_labels():
    logits = mgp.tensor(sample((6, 4)))
    labels = rng.integers(0, 4, 6)
    np.testing.assert_allclose(F.nn.cross_entropy(logits, np.eye(4)[labels]).numpy(),
                               F.nn.cross_entropy(logits, labels).numpy(), rtol=1e-6)


def test_cross_entropy_stable_and_errors():
    x = mgp.tensor([[1e4, -1e4]], requires_grad=True)
    np.testing.assert_allclose(F.nn.cross_entropy(x, [1]).numpy(), [2e4])
    F.nn.cross_entropy(x, [1]).sum().backward()
    np.testing.assert_allclose(x.grad, [[1, -1]])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        F.nn.cross_entropy(x, [2])
    with pytest.raises(ValueError, match=r"labels must have shape \(1,\)"):
        F.nn.cross_entropy(x, [0, 1])
    with pytest.raises(ValueError, match=r"probability targets.*\(1, 2\).*\(1, 3\)"):
        F.nn.cross_entropy(x, np.ones((1, 3)) / 3)
    with pytest.raises(ValueError, match="integer class labels need an integer dtype"):
        F.nn.cross_entropy(x, np.array([1.0]))


def _bce_ref(x, t):
    p = 1 / (1 + np.exp(-x))
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


@pytest.mark.parametrize("shapes", [[(4, 3), (4, 3)], [(4, 3), (3,)], [(4, 1), (4, 3)]], ids=str)
def test_binary_cross_entropy_with_logits(shapes):
    helper_test_op(shapes, lambda x, t: F.nn.binary_cross_entropy_with_logits(x, t.sigmoid()),
                   lambda x, t: _bce_ref(x, 1 / (1 + np.exp(-t))))


def test_binary_cross_entropy_stable_for_large_logits():
    x = mgp.tensor([1e4, -1e4, 1e4], requires_grad=True)
    out = F.nn.binary_cross_entropy_with_logits(x, [1.0, 0.0, 0.0])
    np.testing.assert_allclose(out.numpy(), [0, 0, 1e4])
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [0, 0, 1])


def test_dropout():
    x = mgp.tensor(sample((200, 50)), requires_grad=True)
    assert F.nn.dropout(x, 0.3, training=False) is x
    assert F.nn.dropout(x, 0.0) is x
    mgp.backend.seed(1)
    out = F.nn.dropout(x, 0.3, training=True)
    kept = out.numpy() != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(out.numpy()[kept], x.numpy()[kept] / 0.7, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, kept / np.float32(0.7), rtol=1e-6)  # the mask itself
    assert out.dtype == x.grad.dtype == np.float32
    mgp.backend.seed(1)
    np.testing.assert_array_equal(F.nn.dropout(x, 0.3).numpy(), out.numpy())  # the seed reproduces it
    with pytest.raises(ValueError, match=r"\[0, 1\), got 1"):
        F.nn.dropout(x, 1)


def _batch_norm_ref(x, gamma, beta, axis):
    reduced = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    shape = [n if i == axis % x.ndim else 1 for i, n in enumerate(x.shape)]
    mu, var = x.mean(reduced, keepdims=True), x.var(reduced, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-3) * gamma.reshape(shape) + beta.reshape(shape)


@pytest.mark.parametrize("x_shape, axis", [((6, 3), -1), ((2, 3, 3, 4), -1), ((2, 3, 4, 2), 1)],
                         ids=str)
def test_batch_norm(x_shape, axis):
    c = x_shape[axis]
    helper_test_op([x_shape, (c,), (c,)], lambda x, g, b: F.nn.batch_norm(x, g, b, axis)[0],
                   lambda x, g, b: _batch_norm_ref(x, g, b, axis))
    x = sample(x_shape)
    _, mean, var = F.nn.batch_norm(mgp.tensor(x), axis=axis)
    reduced = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    np.testing.assert_allclose(mean, x.mean(reduced), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var, x.var(reduced), rtol=1e-5)
    helper_test_op([x_shape], lambda x: F.nn.batch_norm(x, axis=axis)[0] * x)


# ============================================ properties ============================================

@settings(max_examples=40, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       st.sampled_from([F.add, F.subtract, F.multiply, F.divide, F.maximum, F.minimum, F.power]))
def test_binary_ops_on_random_broadcasts(shapes, op):
    helper_test_op(list(shapes.input_shapes), op, positive=op is F.power)


@st.composite
def shape_and_axis(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
    axes = draw(st.none() | st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                                     max_size=len(shape), unique_by=lambda a: a % len(shape)))
    if axes is not None and len(axes) == 1 and draw(st.booleans()):
        axes = axes[0]
    return shape, axes if axes is None or isinstance(axes, int) else tuple(axes)


@settings(max_examples=40, deadline=None)
@given(shape_and_axis(), st.booleans(),
       st.sampled_from(REDUCTIONS))
def test_reductions_on_random_axes(shape_axis, keepdims, ops):
    (shape, axis), (op, np_op) = shape_axis, ops
    helper_test_op([shape], lambda x: op(x, axis, keepdims),
                   lambda x: np_op(x, axis=axis, keepdims=keepdims))


# float32 in, float32 out, float32 gradient, for every differentiable op
FLOAT32_CASES = {
    "add": lambda x: F.add(x, 2), "sub": lambda x: F.subtract(1, x), "mul": lambda x: x * 0.5,
    "div": lambda x: F.divide(x, np.float64(3)), "neg": F.negative, "pow": lambda x: F.abs(x) ** 2.5,
    "pow_tensor": lambda x: F.power(F.abs(x), x), "rpow": lambda x: 2 ** x, "exp": F.exp,
    "log": lambda x: F.log(F.abs(x)), "sqrt": lambda x: F.sqrt(F.abs(x)), "abs": F.abs,
    "tanh": F.tanh, "sigmoid": F.sigmoid, "relu": F.relu, "leaky_relu": F.leaky_relu,
    "elu": F.elu, "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate=True),
    "softplus": F.softplus, "maximum": lambda x: F.maximum(x, 0.1),
    "minimum": lambda x: F.minimum(np.zeros(4, np.float32), x),
    "clip": lambda x: F.clip(x, -0.5, 0.5), "clip_f64": lambda x: F.clip(x, np.float64(-0.5), 0.5),
    "elu_f64": lambda x: F.elu(x, np.float64(0.5)),
    "leaky_relu_f64": lambda x: F.leaky_relu(x, np.float64(0.1)),
    "where": lambda x: F.where(x.data > 0, x, 0.0), "sum": lambda x: F.sum(x, 1),
    "mean": F.mean, "var": lambda x: F.var(x, 0), "max": F.max, "min": lambda x: F.min(x, -1),
    "logsumexp": lambda x: F.logsumexp(x, 1), "matmul": lambda x: x @ np.ones((4, 2)),
    "reshape": lambda x: x.reshape(-1), "transpose": F.transpose,
    "permute": lambda x: x.permute(1, 0), "expand_dims": lambda x: F.expand_dims(x, 0),
    "squeeze": lambda x: F.squeeze(x[None]), "flatten": F.numpy.flatten,
    "broadcast_to": lambda x: F.broadcast_to(x, (2, 3, 4)),
    "concatenate": lambda x: F.concatenate([x, np.ones((3, 4), np.float32)]),
    "stack": lambda x: F.stack([x, x]), "pad": lambda x: F.pad(x, 1, constant_values=0.5),
    "getitem": lambda x: F.get_item(x, ([0, 0], [1, 2])), "softmax": F.softmax,
    "log_softmax": F.log_softmax, "cross_entropy": lambda x: F.nn.cross_entropy(x, [0, 1, 3]),
    "cross_entropy_probs": lambda x: F.nn.cross_entropy(x, np.full((3, 4), 0.25)),
    "bce_logits": lambda x: F.nn.binary_cross_entropy_with_logits(x, np.ones(4)),
    "dropout": lambda x: F.nn.dropout(x, 0.5), "cast": lambda x: F.cast(x, np.float32),
    "conv2d": lambda x: F.nn.conv2d(x.reshape(1, 3, 4, 1), np.ones((2, 2, 1, 2)), padding="same"),
    "max_pool2d": lambda x: F.nn.max_pool2d(x.reshape(1, 3, 4, 1), 2, 1, "same"),
    "avg_pool2d": lambda x: F.nn.avg_pool2d(x.reshape(1, 3, 4, 1), 2, 1, "same"),
    "global_avg_pool2d": lambda x: F.nn.global_avg_pool2d(x.reshape(1, 3, 4, 1)),
    "batch_norm": lambda x: F.nn.batch_norm(x, np.ones(4), np.zeros(4))[0],
}


@pytest.mark.parametrize("name", sorted(FLOAT32_CASES))
def test_float32_stays_float32(name):
    x = mgp.tensor(sample((3, 4)), requires_grad=True)
    out = FLOAT32_CASES[name](x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape))
    assert x.grad.dtype == np.float32
