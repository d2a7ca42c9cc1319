"""Keras 3 as the oracle for `mgp.activations`: every function Keras has, by name and with its
arguments, gives Keras's values and input gradients; layers take each as `activation="..."`
and write Keras's name in their configs; `serialize` / `deserialize` / `get` answer as Keras's."""
import numpy as np
import oracles
import pytest

keras = oracles.keras()
torch = oracles.torch()

import mgp
from mgp import activations, layers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
rng = np.random.default_rng(0)
# points on both sides of every kink (+-0.5, +-1, 0), none exactly on one, where the derivative
# is a convention
X = (np.linspace(-3.05, 3.05, 24).astype(np.float32).reshape(2, 3, 4)
     + rng.uniform(-0.01, 0.01, (2, 3, 4)).astype(np.float32))

# (name, keyword arguments): every function in keras.activations, defaults and non-defaults
CASES = [(name, {}) for name in [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "leaky_relu", "elu", "selu",
    "gelu", "softplus", "softsign", "silu", "swish", "relu6", "hard_sigmoid", "mish",
    "exponential", "celu", "glu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh",
    "log_sigmoid", "soft_shrink", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus",
    "tanh_shrink"]] + [
    ("celu", {"alpha": 0.7}), ("glu", {"axis": 0}), ("hard_shrink", {"threshold": 1.2}),
    ("soft_shrink", {"threshold": 0.3}), ("squareplus", {"b": 1.5}),
    ("sparsemax", {"axis": 1}), ("threshold", {"threshold": 0.4, "default_value": -2.0}),
    ("softmax", {"axis": 0}), ("gelu", {"approximate": True}),
    ("relu", {"max_value": 2.5}), ("relu", {"max_value": 6.0}), ("relu", {"threshold": 0.4}),
    ("relu", {"max_value": 1.2, "negative_slope": 0.1, "threshold": 0.4}),
    ("relu", {"max_value": 2.0, "negative_slope": 0.3})]


def _sparsemax_reference(x, axis=-1):
    """The projection onto the simplex (Martins & Astudillo 2016) in torch, for autograd: Keras's
    torch sparsemax sums every cumulative sum of the support instead of taking the last one, so
    its rows do not sum to 1 once two logits are in the support (docs/keras_differences.md)."""
    z = torch.sort(x, dim=axis, descending=True).values
    shape = [1] * x.ndim
    shape[axis] = -1
    k = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype).view(shape)
    cum = torch.cumsum(z, dim=axis)
    count = ((1 + k * z) > cum).sum(dim=axis, keepdim=True)
    tau = (torch.gather(cum, axis, count - 1) - 1) / count
    return torch.clamp(x - tau, min=0)


def _oracle(name):
    return _sparsemax_reference if name == "sparsemax" else getattr(keras.activations, name)


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{c[0]}{c[1] or ''}" for c in CASES])
def test_values_and_gradients_as_keras(name, kwargs):
    g = rng.normal(size=getattr(keras.activations, name)(X, **kwargs).shape).astype(np.float32)
    x_ours = mgp.tensor(X, requires_grad=True)
    ours = getattr(activations, name)(x_ours, **kwargs)
    (ours * g).sum().backward()
    x_theirs = torch.tensor(X, requires_grad=True)
    theirs = _oracle(name)(x_theirs, **kwargs)
    (theirs * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_sparsemax_as_keras_where_one_logit_is_the_support():
    x = np.array([[3.0, 0.5, -1.0], [-2.0, 4.0, 1.5]], np.float32)
    np.testing.assert_allclose(activations.sparsemax(x).data,
                               keras.ops.convert_to_numpy(keras.activations.sparsemax(x)))
    np.testing.assert_allclose(activations.sparsemax(X).data.sum(-1), 1.0, rtol=1e-6)


NEW = ["celu", "glu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid",
       "soft_shrink", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink"]


@pytest.mark.parametrize("name", NEW)
def test_dense_takes_each_by_name_as_keras(name):
    x = rng.normal(size=(3, 5)).astype(np.float32)
    ours, theirs = layers.Dense(4, activation=name), keras.layers.Dense(4, activation=name)
    ours(x), theirs(x)
    if name == "sparsemax":
        # one logit in each row's support (see _sparsemax_reference): the kernel passes the
        # first four inputs through, and each row has one input 10 above the others
        ours.set_weights([np.eye(5, 4, dtype=np.float32), np.zeros(4, np.float32)])
        x = (10 * np.eye(5, dtype=np.float32)[[0, 3, 1]] + 0.1 * x).astype(np.float32)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x).data, keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5,
                               atol=1e-6)
    assert ours.get_config()["activation"] == theirs.get_config()["activation"]
    again = layers.Dense.from_config(ours.get_config())
    assert again.activation is activations.get(name)


def test_serialize_deserialize_get_as_keras():
    for name in NEW + ["threshold", "relu", "swish"]:
        ours, theirs = activations.get(name), keras.activations.get(name)
        assert activations.serialize(ours) == keras.activations.serialize(theirs), name
        assert activations.deserialize(name) is ours
        if name not in ("hard_swish", "swish"):  # Keras's deserialize refuses its aliases
            assert keras.activations.deserialize(name) is theirs
        entry = keras.saving.serialize_keras_object(theirs)  # the dict form of .keras files
        assert activations.deserialize(entry) is ours
    assert activations.deserialize("hard_swish") is activations.hard_silu
    assert activations.deserialize("mine", custom_objects={"mine": abs}) is abs


def test_bad_names_and_arguments_say_what_they_got():
    with pytest.raises(ValueError, match="unknown activation 'hard_swishy'"):
        activations.get("hard_swishy")
    with pytest.raises(ValueError, match="'nope'"):
        activations.deserialize("nope")
    with pytest.raises(TypeError):  # threshold's two values have no defaults, as in Keras
        activations.threshold(X)


@pytest.mark.parametrize("max_value", [6.0, 2.5])
def test_capped_relu_gradchecked_and_zero_at_its_kinks_as_torch_relu6(max_value):
    """relu with only a max_value (ReLU6 and its kin) is one fused op: its gradient checked in
    float64 away from the kinks, and at them (x = 0 and x = max_value exactly) 0 as torch's
    relu6 (hardtanh) has it; Keras computes relu6 with torch's."""
    x = np.concatenate([np.linspace(-1, max_value + 1, 25) + 0.013, [0.0, max_value]])
    assert mgp.gradcheck(lambda t: activations.relu(t, max_value=max_value),
                         mgp.tensor(x[:-2].reshape(5, 5), dtype="float64", requires_grad=True))
    for fn in (lambda t: activations.relu(t, max_value=max_value), mgp.ops.relu6):
        if fn is mgp.ops.relu6 and max_value != 6.0:
            continue
        t = mgp.tensor(x.astype(np.float32), requires_grad=True)
        out = fn(t)
        out.sum().backward()
        theirs = torch.tensor(x.astype(np.float32), requires_grad=True)
        expected = torch.clamp(theirs, 0, max_value)
        torch.nn.functional.hardtanh(theirs, 0.0, max_value).sum().backward()
        np.testing.assert_array_equal(out.data, expected.detach().numpy())
        np.testing.assert_array_equal(t.grad, theirs.grad.numpy())
        assert t.grad[-2] == t.grad[-1] == 0
    layer_out = layers.ReLU(max_value=max_value)(x.astype(np.float32))
    np.testing.assert_array_equal(
        layer_out.data, keras.ops.convert_to_numpy(keras.layers.ReLU(max_value=max_value)(
            x.astype(np.float32))))
