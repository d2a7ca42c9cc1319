"""Activation functions, as Keras names them, and `get` / `serialize` to go to and from names.

Each takes a Tensor (or an array) and returns a Tensor built from `mgp.ops`, so gradients flow.
`softmax` and `sigmoid` outputs remember their logits, so a cross-entropy loss after them is
computed from the logits, as Keras does.

Example:
    >>> mgp.activations.get("relu")(mgp.tensor([-1.0, 2.0]))
    Tensor([0., 2.], ...)
"""
import numpy as np

from mgp import ops
from mgp.ops.nn import capped_relu


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), with Keras's options: a slope below `threshold`, a cap at `max_value`."""
    x = ops.convert_to_tensor(x)
    if negative_slope == 0 and threshold == 0:
        if max_value is None:
            return ops.relu(x)
        if np.issubdtype(x.dtype, np.floating):
            return capped_relu(x, max_value)  # ReLU6 and its kin: one fused pass
    out = ops.where(x.data > threshold, x, (x - threshold) * negative_slope)
    return out if max_value is None else ops.minimum(out, max_value)


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return ops.sigmoid(x)


def tanh(x):
    return ops.tanh(x)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis` (the last by default)."""
    return ops.nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return ops.nn.log_softmax(x, axis=axis)


def linear(x):
    """The identity."""
    return ops.convert_to_tensor(x)


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope * x otherwise (Keras's default slope 0.2)."""
    return ops.leaky_relu(x, negative_slope)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return ops.elu(x, alpha)


def selu(x):
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (2017)."""
    return ops.selu(x)


def gelu(x, approximate=False):
    """x * Phi(x), Phi the standard normal CDF; `approximate=True` uses the tanh form."""
    return ops.gelu(x, approximate)


def softplus(x):
    """log(1 + exp(x)), without overflow."""
    return ops.softplus(x)


def softsign(x):
    """x / (1 + |x|)."""
    return ops.softsign(x)


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return ops.silu(x)


swish = silu


def relu6(x):
    """min(max(x, 0), 6)."""
    return ops.relu6(x)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: clip(x / 6 + 1 / 2, 0, 1), as Keras 3."""
    return ops.hard_sigmoid(x)


def mish(x):
    """x * tanh(softplus(x))."""
    x = ops.convert_to_tensor(x)
    return x * ops.tanh(ops.softplus(x))


def exponential(x):
    return ops.exp(x)


def celu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise: ELU made continuously differentiable."""
    return ops.celu(x, alpha)


def glu(x, axis=-1):
    """Gated linear unit: x split in halves a, b along `axis`, a * sigmoid(b)."""
    return ops.glu(x, axis)


def hard_silu(x):
    """x * hard_sigmoid(x), the piecewise form of silu (also called hard_swish)."""
    return ops.hard_silu(x)


hard_swish = hard_silu


def hard_tanh(x):
    """clip(x, -1, 1)."""
    return ops.hard_tanh(x)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, 0 elsewhere."""
    return ops.hard_shrink(x, threshold)


def soft_shrink(x, threshold=0.5):
    """x moved toward 0 by `threshold`, and 0 where |x| <= threshold."""
    return ops.soft_shrink(x, threshold)


def tanh_shrink(x):
    """x - tanh(x)."""
    return ops.tanh_shrink(x)


def threshold(x, threshold, default_value):
    """x where x > threshold, `default_value` elsewhere (both arguments required, as Keras)."""
    return ops.threshold(x, threshold, default_value)


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), without overflow."""
    return ops.log_sigmoid(x)


def sparse_plus(x):
    """0 for x <= -1, (x + 1)^2 / 4 for |x| < 1, x for x >= 1: a piecewise softplus."""
    return ops.sparse_plus(x)


def sparse_sigmoid(x):
    """0 for x <= -1, (x + 1) / 2 for |x| < 1, 1 for x >= 1: a piecewise sigmoid."""
    return ops.sparse_sigmoid(x)


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2, a smooth relu without exponentials."""
    return ops.squareplus(x, b)


def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the simplex along `axis`: softmax with exact zeros."""
    return ops.sparsemax(x, axis)


_BY_NAME = {fn.__name__: fn for fn in (
    relu, sigmoid, tanh, softmax, log_softmax, linear, leaky_relu, elu, selu, gelu, softplus,
    softsign, silu, relu6, hard_sigmoid, mish, exponential, celu, glu, hard_silu, hard_tanh,
    hard_shrink, soft_shrink, tanh_shrink, threshold, log_sigmoid, sparse_plus, sparse_sigmoid,
    squareplus, sparsemax)}
_BY_NAME["swish"] = silu
_BY_NAME["hard_swish"] = hard_silu  # an alias: it serializes as "hard_silu", as in Keras


def get(identifier):
    """The activation function for a name ('relu'), None (linear), a callable (itself), or
    Keras's serialized form of a function; a name mgp does not have is looked up among the
    registered functions (`register_keras_serializable`) and the custom objects in scope.

    Raises:
        ValueError: for an unknown name; the message lists the known ones.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier)
        if fn is None:
            fn = _custom(identifier)
        if fn is None:
            raise ValueError(f"unknown activation {identifier!r}; known activations: "
                             f"{sorted(_BY_NAME)}")
        return fn
    if isinstance(identifier, dict) and "config" in identifier:  # Keras's serialized form
        return get(identifier["config"])
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret activation {identifier!r}: expected a name "
                     f"({', '.join(sorted(_BY_NAME))}), None or a callable")


def _custom(name):
    """A registered function or custom object called `name` ('my_package>custom_fn'), or None."""
    from mgp.saving.serialization_lib import UnknownObjectError, resolve
    try:
        fn = resolve(name, kind="activation")
    except UnknownObjectError:
        return None
    return fn if callable(fn) else None


def serialize(activation):
    """The name of a built-in activation ('relu'); for any other function, Keras's serialized
    form (`{"class_name": "function", "config": "my_package>custom_fn", ...}`), by which
    `get` finds it again once registered."""
    activation = get(activation)
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"cannot serialize activation {activation!r}: it has no name")
    if _BY_NAME.get(name) is activation:
        return name
    from mgp.saving.serialization_lib import serialize_keras_object
    return serialize_keras_object(activation)


def deserialize(config, custom_objects=None):
    """The activation function for a serialized form: a name ('relu') or Keras's dict
    (`{"class_name": "function", "config": "relu", ...}`); `custom_objects` maps names to the
    user's own functions.

    Raises:
        ValueError: for a name that is neither an activation nor in `custom_objects`.
    """
    from mgp.saving.serialization_lib import deserialize_keras_object
    return deserialize_keras_object(config, module_objects=_BY_NAME,
                                    custom_objects=custom_objects, kind="activation")


__all__ = sorted(_BY_NAME) + ["deserialize", "get", "serialize"]
