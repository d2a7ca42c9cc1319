"""mgp.regularizers and mgp.constraints against Keras 3 (torch backend): penalties and their
gradients, projections, configs, and the names `get` accepts."""
import json

import numpy as np
import pytest

import oracles

import mgp
from mgp import constraints, regularizers

keras = oracles.keras()
torch = oracles.torch()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
rng = np.random.default_rng(3)
W = rng.normal(size=(5, 4)).astype(np.float32)

REGULARIZERS = [("L1", {}), ("L1", {"l1": 0.3}), ("L2", {}), ("L2", {"l2": 0.02}),
                ("L1L2", {"l1": 0.01, "l2": 0.03}), ("L1L2", {}),
                ("OrthogonalRegularizer", {}),
                ("OrthogonalRegularizer", {"factor": 0.2, "mode": "columns"})]


@pytest.mark.parametrize("name, kwargs", REGULARIZERS)
def test_regularizer_penalty_gradient_and_config_as_keras(name, kwargs):
    ours = getattr(regularizers, name)(**kwargs)
    theirs = getattr(keras.regularizers, name)(**kwargs)
    w_ours = mgp.tensor(W, requires_grad=True)
    penalty = ours(w_ours)
    w_theirs = torch.tensor(W, requires_grad=True)
    expected = theirs(w_theirs)
    np.testing.assert_allclose(penalty.item(), expected.item(), rtol=1e-5)
    assert penalty.requires_grad == expected.requires_grad  # L1L2(0, 0): a constant in both
    if expected.requires_grad:
        penalty.backward()
        expected.backward()
        np.testing.assert_allclose(w_ours.grad, w_theirs.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert ours.get_config() == theirs.get_config()
    assert regularizers.serialize(ours) == keras.regularizers.serialize(theirs)
    again = regularizers.deserialize(json.loads(json.dumps(keras.regularizers.serialize(theirs))))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()


def test_regularizer_gradcheck_in_float64():
    w = mgp.tensor(rng.normal(size=(4, 3)), dtype=np.float64, requires_grad=True)
    for name, kwargs in REGULARIZERS:
        if kwargs or name != "L1L2":
            reg = getattr(regularizers, name)(**kwargs)
            assert mgp.gradcheck(lambda t: reg(t), w)


@pytest.mark.parametrize("identifier", ["l1", "l2", "l1l2", "L1", "L2", "L1L2",
                                        "orthogonal_regularizer", "OrthogonalRegularizer"])
def test_regularizer_names_as_keras(identifier):
    ours, theirs = regularizers.get(identifier), keras.regularizers.get(identifier)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.get_config() == theirs.get_config()


def test_regularizer_get_errors_and_l1_l2_string():
    reg = regularizers.get("l1_l2")  # the string Keras's documentation names (Keras 3.15: error)
    assert reg.get_config() == {"l1": 0.01, "l2": 0.01}
    with pytest.raises(ValueError, match="unknown regularizer 'l3'; known: "):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="l1 must be a non-negative float, got l1=-1"):
        regularizers.L1(-1)
    with pytest.raises(ValueError, match="needs a 2-D weight, got shape"):
        regularizers.OrthogonalRegularizer()(mgp.tensor(np.ones((2, 2, 2))))

    def fn(w):
        return mgp.ops.sum(w) * 0.0
    assert regularizers.get(fn) is fn


CONSTRAINTS = [("MaxNorm", {}), ("MaxNorm", {"max_value": 0.7, "axis": 1}),
               ("NonNeg", {}), ("UnitNorm", {}), ("UnitNorm", {"axis": [0, 1]}),
               ("MinMaxNorm", {}), ("MinMaxNorm", {"min_value": 0.5, "max_value": 0.9,
                                                   "rate": 0.3, "axis": 1})]


@pytest.mark.parametrize("name, kwargs", CONSTRAINTS)
def test_constraint_projection_and_config_as_keras(name, kwargs):
    ours = getattr(constraints, name)(**kwargs)
    theirs = getattr(keras.constraints, name)(**kwargs)
    np.testing.assert_allclose(ours(W).numpy(), keras.ops.convert_to_numpy(theirs(W)),
                               rtol=1e-6, atol=1e-7)
    assert ours.get_config() == theirs.get_config()
    assert constraints.serialize(ours) == keras.constraints.serialize(theirs)


@pytest.mark.parametrize("identifier", ["max_norm", "non_neg", "unit_norm", "min_max_norm",
                                        "MaxNorm", "NonNeg"])
def test_constraint_names_as_keras(identifier):
    ours, theirs = constraints.get(identifier), keras.constraints.get(identifier)
    assert type(ours).__name__ == type(theirs).__name__
    with pytest.raises(ValueError, match="unknown constraint 'maxnorm'"):
        constraints.get("maxnorm")


def test_constraint_applied_after_each_update_by_any_optimizer_apply():
    layer = mgp.layers.Dense(3, kernel_constraint=constraints.NonNeg(),
                             bias_constraint=lambda b: b * 0)
    layer(np.ones((2, 4)))
    opt = mgp.optimizers.SGD(learning_rate=1.0)
    grads = [np.ones(w.shape, np.float32) for w in layer.trainable_weights]
    opt.apply(grads, layer.trainable_weights)  # kernel - 1 goes negative in places
    assert np.all(layer.kernel.numpy() >= 0) and np.all(layer.bias.numpy() == 0)
