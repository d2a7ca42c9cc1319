"""The engine's fused dense op, `mgp.ops.nn.linear` (what Dense runs on 2-D inputs): its
gradient in float64, and the same bits as matmul, add and relu one after the other."""
import numpy as np
import pytest

import mgp
from mgp import ops
from mgp.ops import nn as F

rng = np.random.default_rng(0)


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("activation", [None, "relu"])
def test_linear_gradcheck(use_bias, activation):
    arrays = [rng.standard_normal((5, 4)), rng.standard_normal((4, 3))]
    arrays += [rng.standard_normal(3)] if use_bias else []
    inputs = [mgp.tensor(a, requires_grad=True) for a in arrays]
    assert mgp.gradcheck(lambda x, k, b=None: F.linear(x, k, b, activation), *inputs)


@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("x_grad", [True, False])
def test_linear_same_bits_as_the_ops_one_by_one(activation, x_grad):
    data = [rng.standard_normal(s).astype(np.float32) for s in ((64, 33), (33, 17), (17,))]
    upstream = rng.standard_normal((64, 17)).astype(np.float32)
    results = []
    for fused in (True, False):
        x, k, b = (mgp.tensor(a, requires_grad=g) for a, g in zip(data, (x_grad, True, True)))
        if fused:
            y = F.linear(x, k, b, activation)
        else:
            y = ops.matmul(x, k) + b
            y = ops.relu(y) if activation else y
        y.backward(upstream)
        results.append([y.data, k.grad, b.grad] + ([x.grad] if x_grad else []))
        assert (x.grad is None) != x_grad
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    with mgp.no_grad():  # inference: no mask kept, the same output
        x, k, b = (mgp.tensor(a) for a in data)
        np.testing.assert_array_equal(F.linear(x, k, b, activation).data, results[0][0])


def test_linear_checks_its_arguments():
    x, k = mgp.tensor(np.ones((2, 3), np.float32)), mgp.tensor(np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"linear: .*\(2, 3\) and \(4, 3\)"):
        F.linear(x, mgp.tensor(np.ones((4, 3), np.float32)))
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        F.linear(x, k, mgp.tensor(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="activation must be None or 'relu'"):
        F.linear(x, k, activation="tanh")
    with pytest.raises(TypeError, match="one dtype"):
        F.linear(x, ops.cast(k, "float64"))


def test_dense_runs_the_fused_op_and_keeps_its_results():
    layer = mgp.layers.Dense(5, activation="relu")
    x = mgp.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    y = layer(x)
    assert y._op == "linear"
    reference = np.maximum(x.data @ layer.kernel.data + layer.bias.data, 0)
    np.testing.assert_array_equal(y.data, reference)
    y3 = layer(mgp.tensor(rng.standard_normal((2, 4, 3)).astype(np.float32)))  # 3-D: unfused
    assert y3.shape == (2, 4, 5)
