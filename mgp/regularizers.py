"""Regularizers, as Keras names them: penalties on weights (or on a layer's outputs) that are
added to the training loss.

A regularizer is a callable `x -> scalar Tensor`, differentiable in `x`. A layer given
`kernel_regularizer=L2(0.01)` passes it to `add_weight`; the penalty of each regularized weight
is then in `layer.losses` (recomputed from the weight's current value each time it is read), and
`fit` adds the sum of `model.losses` to the loss it minimizes, as Keras does. An
`activity_regularizer` is applied to the layer's outputs at each call, divided by the batch size.

Example:
    >>> layer = mgp.layers.Dense(3, kernel_regularizer="l2")
    >>> y = layer(np.ones((4, 5)))
    >>> layer.losses   # [0.01 * sum(kernel ** 2)]
"""
import math

import numpy as np

from mgp import ops
from mgp.tensor import Tensor

EPSILON = 1e-7  # Keras's backend.epsilon()


class Regularizer:
    """Base class: `__call__(x)` returns the penalty, `get_config()` its arguments."""

    def __call__(self, x):
        return Tensor(np.float32(0.0))

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def _factor(value, name):
    """A non-negative finite float, as Keras validates regularization factors."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative float, got {name}={value!r}")
    return float(value)


class L1L2(Regularizer):
    """`l1 * sum(|x|) + l2 * sum(x ** 2)`.

    Args:
        l1, l2: non-negative factors (None means 0).
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x):
        penalty = Tensor(np.zeros((), x.dtype))
        if self.l1:
            penalty = penalty + x.dtype.type(self.l1) * ops.sum(ops.abs(x))
        if self.l2:
            penalty = penalty + x.dtype.type(self.l2) * ops.sum(x * x)
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """`l1 * sum(|x|)`; the string "l1" gives `L1(0.01)`."""

    def __init__(self, l1=0.01):
        # Keras keeps the factor as a float32 tensor, so its config reads back 0.01 as
        # 0.009999999776482582; kept the same way so that configs compare equal
        self.l1 = float(np.float32(_factor(0.01 if l1 is None else l1, "l1")))

    def __call__(self, x):
        return x.dtype.type(self.l1) * ops.sum(ops.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(x ** 2)`; the string "l2" gives `L2(0.01)`."""

    def __init__(self, l2=0.01):
        self.l2 = _factor(0.01 if l2 is None else l2, "l2")

    def __call__(self, x):
        return x.dtype.type(self.l2) * ops.sum(x * x)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards orthogonality: `factor` times half
    the mean absolute dot product between distinct L2-normalized rows (columns).

    Args:
        factor: the penalty's weight (0.01).
        mode: "rows" (for a Dense kernel (in, units): its input features) or "columns".
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = float(np.float32(_factor(factor, "factor")))  # float32, as Keras keeps it
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got "
                             f"{mode!r}")
        self.mode = mode

    def __call__(self, x):
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer needs a 2-D weight, got shape "
                             f"{tuple(x.shape)}")
        axis = 1 if self.mode == "rows" else 0
        # L2-normalize as Keras's ops.nn.normalize does: x * min(rsqrt(sum x^2), 1 / epsilon)
        inv_norm = ops.minimum(1 / ops.sqrt(ops.sum(x * x, axis=axis, keepdims=True)),
                               x.dtype.type(1 / EPSILON))
        unit = x * inv_norm
        product = ops.matmul(unit, ops.transpose(unit)) if axis == 1 else \
            ops.matmul(ops.transpose(unit), unit)
        size = product.shape[0]
        off_diagonal = product * (1 - np.eye(size, dtype=x.dtype))
        pairs = size * (size - 1) / 2
        return x.dtype.type(self.factor * 0.5 / pairs) * ops.sum(ops.abs(off_diagonal))

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras's lowercase aliases
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_CLASSES = {cls.__name__: cls for cls in (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)}
# names a layer argument may give, as Keras reads them; "l1_l2" is the string Keras's
# documentation names (with both factors 0.01), "l1l2" the one Keras 3.15 accepts (both 0)
_BY_NAME = {"l1": L1, "l2": L2, "l1l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer,
            "regularizer": Regularizer}


def get(identifier):
    """A regularizer from None, a name ("l1", "l2", "l1_l2", "L2", ...), a config dict
    (`{"class_name": "L2", "config": {"l2": 0.01}}`), a Regularizer, or a function of one
    tensor (returned as is).

    Raises:
        ValueError: for anything else; the message lists the known names.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier == "l1_l2":
            return L1L2(l1=0.01, l2=0.01)
        cls = _BY_NAME.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown regularizer {identifier!r}; known: "
                             f"{sorted(_BY_NAME) + ['l1_l2'] + sorted(_CLASSES)}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret regularizer identifier {identifier!r}: expected "
                     f"None, a name, a config dict, a Regularizer or a function")


def serialize(regularizer):
    """Keras's serialized form: `{"module", "class_name", "config", "registered_name"}`."""
    from mgp.saving.serialization_lib import serialize_keras_object
    return serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    from mgp.saving.serialization_lib import deserialize_keras_object
    return deserialize_keras_object(config, module_objects=_CLASSES,
                                    custom_objects=custom_objects, kind="regularizer")
