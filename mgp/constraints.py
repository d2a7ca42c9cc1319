"""Constraints, as Keras names them: projections applied to a weight after each optimizer update.

A constraint is a callable `w -> w'` on the weight's value. A layer given
`kernel_constraint=MaxNorm(2)` passes it to `add_weight`; the optimizer's `apply` then replaces
the weight by `constraint(weight)` after every update (outside the autograd graph), as Keras's
optimizers do.

Example:
    >>> layer = mgp.layers.Dense(3, kernel_constraint=mgp.constraints.NonNeg())
"""

from mgp.backend import xp
from mgp.tensor import Tensor

EPSILON = 1e-7  # Keras's backend.epsilon()


def _array(w):
    return w.data if isinstance(w, Tensor) else xp.asarray(w)


def _norms(w, axis):
    return xp.sqrt(xp.sum(w * w, axis=axis, keepdims=True))


class Constraint:
    """Base class: `__call__(w)` returns the projected weight (the identity here)."""

    def __call__(self, w):
        return Tensor(_array(w))

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


class MaxNorm(Constraint):
    """Rescale each slice along `axis` whose L2 norm exceeds `max_value` down to that norm.

    Args:
        max_value: the largest norm allowed (2).
        axis: the axis (or axes) the norms are taken over: 0 for a Dense kernel (in, units)
            constrains each unit's incoming weights; [0, 1, 2] for a Conv2D kernel each filter.
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = _array(w)
        norms = _norms(w, _axis(self.axis))
        desired = xp.clip(norms, 0, self.max_value)
        return Tensor((w * (desired / (EPSILON + norms))).astype(w.dtype, copy=False))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Replace negative weights by zero."""

    def __call__(self, w):
        w = _array(w)
        return Tensor(xp.maximum(w, w.dtype.type(0)))


class UnitNorm(Constraint):
    """Scale each slice along `axis` to unit L2 norm (`axis` as in `MaxNorm`)."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _array(w)
        return Tensor((w / (EPSILON + _norms(w, _axis(self.axis)))).astype(w.dtype, copy=False))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each slice's L2 norm into [min_value, max_value]: the new norm is
    `rate * clip(norm, min_value, max_value) + (1 - rate) * norm`.

    Args:
        min_value, max_value: the interval (0, 1).
        rate: 1 enforces the interval at once; below 1 moves towards it at each step.
        axis: as in `MaxNorm`.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = _array(w)
        norms = _norms(w, _axis(self.axis))
        desired = self.rate * xp.clip(norms, self.min_value, self.max_value) + \
            (1 - self.rate) * norms
        return Tensor((w * (desired / (EPSILON + norms))).astype(w.dtype, copy=False))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# Keras's lowercase aliases
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_CLASSES = {cls.__name__: cls for cls in (Constraint, MaxNorm, NonNeg, UnitNorm, MinMaxNorm)}
_BY_NAME = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
            "min_max_norm": MinMaxNorm, "constraint": Constraint}


def get(identifier):
    """A constraint from None, a name ("max_norm", "non_neg", "MaxNorm", ...), a config dict,
    a Constraint, or a function `w -> w` (returned as is)."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown constraint {identifier!r}; known: "
                             f"{sorted(_BY_NAME) + sorted(_CLASSES)}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret constraint identifier {identifier!r}: expected "
                     f"None, a name, a config dict, a Constraint or a function")


def serialize(constraint):
    """Keras's serialized form: `{"module", "class_name", "config", "registered_name"}`."""
    from mgp.saving.serialization_lib import serialize_keras_object
    return serialize_keras_object(constraint)


def deserialize(config, custom_objects=None):
    from mgp.saving.serialization_lib import deserialize_keras_object
    return deserialize_keras_object(config, module_objects=_CLASSES,
                                    custom_objects=custom_objects, kind="constraint")
