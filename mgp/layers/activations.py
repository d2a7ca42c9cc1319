"""Activation layers with options of their own: ReLU, LeakyReLU, PReLU (a learned slope), ELU and
Softmax (which also reads a mask). `Activation("relu")` (in core) covers the plain functions.

All pass masks through, as Keras's do.
"""
import numpy as np

from mgp import activations, constraints, initializers, ops, regularizers
from mgp.backend import xp
from mgp.errors import InvalidArgumentError
from mgp.layers._utils import describe, floating, number, resolved, serialize_initializer
from mgp.layers.base import Layer
from mgp.tensor import Tensor


def _non_negative(layer, name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if value is None or isinstance(value, bool) or \
            not isinstance(value, (int, float, np.number)) or value < 0:
        raise ValueError(f"{layer}: {name} must be a non-negative number, got {name}={value!r}")
    return value


class _Elementwise(Layer):
    """Same shape out as in; masks pass through."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_Elementwise):
    """`max(x, 0)`, with Keras's options.

    Args:
        max_value: cap the output at this value (None: no cap).
        negative_slope: the slope below `threshold` (0).
        threshold: values below it are damped (0).

    Example:
        >>> ReLU(max_value=6.0)(np.array([[-1.0, 3.0, 9.0]])).data
        array([[0., 3., 6.]], dtype=float32)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _non_negative("ReLU", "max_value", max_value, allow_none=True)
        self.negative_slope = _non_negative("ReLU", "negative_slope", negative_slope)
        self.threshold = _non_negative("ReLU", "threshold", threshold)
        self.built = True

    def call(self, inputs):
        return activations.relu(floating(inputs, self.dtype), negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """`x` for x >= 0, `negative_slope * x` below (Keras's layer default 0.3).

    Args:
        negative_slope: the slope for negative inputs (`alpha`, its older name, is read too).
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2's name
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _non_negative("LeakyReLU", "negative_slope", negative_slope)
        self.built = True

    def call(self, inputs):
        return activations.leaky_relu(floating(inputs, self.dtype), self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(_Elementwise):
    """Leaky ReLU with a learned slope per feature: `max(x, 0) - alpha * max(-x, 0)`.

    Args:
        alpha_initializer: the slopes' initializer ('zeros', as Keras).
        alpha_regularizer, alpha_constraint: a penalty / a projection for the slopes.
        shared_axes: axes (1 = the first after the batch) that share one slope, e.g. [1, 2]
            for one slope per channel of an image.

    Weights: `alpha`, of the input's shape without the batch axis (1 on the shared axes).
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = resolved(
            self, "alpha_initializer", alpha_initializer, initializers.get)
        self.alpha_regularizer = resolved(
            self, "alpha_regularizer", alpha_regularizer, regularizers.get)
        self.alpha_constraint = resolved(
            self, "alpha_constraint", alpha_constraint, constraints.get)
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) \
                else [shared_axes]
            if any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) or a < 1
                   for a in self.shared_axes):
                raise InvalidArgumentError(f"PReLU: shared_axes must be axes counted from 1 "
                                           f"(the first after the batch), got {shared_axes!r}")
        self.alpha = None

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis <= len(shape):
                raise ValueError(f"{describe(self)}: shared axis {axis} is out of range for "
                                 f"inputs of shape {tuple(input_shape)} (axes start at 1, "
                                 f"after the batch axis)")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"{describe(self)} needs known sizes on the axes that do not share "
                             f"a slope, got {tuple(input_shape)}; pass shared_axes for the "
                             f"unknown ones")
        self.alpha = self.add_weight(shape=shape, name="alpha",
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)

    def call(self, inputs):
        x = floating(inputs, self.dtype)
        if x.ndim != self.alpha.ndim + 1 or any(a != 1 and a != d for a, d in
                                                zip(self.alpha.shape, x.shape[1:])):
            raise ValueError(f"{describe(self)} expected inputs of shape (batch,) + "
                             f"{self.alpha.shape} (1: shared), got {tuple(x.shape)}")
        return ops.relu(x) - self.alpha * ops.relu(-x)

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": serialize_initializer(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}


class ELU(_Elementwise):
    """`x` for x > 0, `alpha * (exp(x) - 1)` below.

    Args:
        alpha: the scale of the negative part (1).
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = number(self, "alpha", alpha)
        self.built = True

    def call(self, inputs):
        return activations.elu(floating(inputs, self.dtype), alpha=self.alpha)

    def get_config(self):
        # Keras 3.15's ELU leaves alpha out of its config (so a saved alpha is lost); mgp
        # writes it, and Keras reads it back
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_Elementwise):
    """Softmax over `axis`; where a mask is False (or <= 0.5) the output is 0.

    Args:
        axis: an axis, or a list of axes normalized together (-1).

    Call arguments:
        mask: broadcastable to the inputs (each of its sizes 1 or the input's, aligned from
            the last axis); the masked positions take no probability.

    Example:
        >>> Softmax()(np.array([[1.0, 2.0, 1.0]])).data
        array([[0.21194157, 0.5761169 , 0.21194157]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                           for a in axes):
            raise InvalidArgumentError(f"Softmax: axis must be an int or a list of ints, got "
                                       f"{axis!r}")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.built = True

    def call(self, inputs, mask=None):
        x = floating(inputs, self.dtype)
        keep = None
        if mask is not None:
            keep = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
            if keep.ndim > x.ndim or any(m != 1 and m != i for m, i in
                                         zip(keep.shape[::-1], x.shape[::-1])):
                raise ValueError(f"{describe(self)}: the mask must broadcast to the inputs, "
                                 f"each of its sizes 1 or the input's; got inputs "
                                 f"{tuple(x.shape)} and mask {tuple(keep.shape)}")
            if keep.dtype != bool:
                keep = keep > 0.5
            x = ops.where(keep, x, x.dtype.type(-1e9))
        if isinstance(self.axis, list) and len(self.axis) > 1:
            out = ops.exp(x - ops.logsumexp(x, axis=tuple(self.axis), keepdims=True))
        else:
            axis = self.axis[0] if isinstance(self.axis, list) else self.axis
            out = activations.softmax(x, axis=axis)
        if keep is not None:  # all masked along the axis: zeros, not a uniform distribution
            out = ops.where(keep, out, x.dtype.type(0))
        return out

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
