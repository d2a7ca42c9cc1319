"""LayerNormalization: normalize each sample over its feature axes."""
import warnings

import numpy as np

from mgp import constraints, initializers, ops, regularizers
from mgp.layers._utils import describe, floating, serialize_initializer
from mgp.layers.base import Layer


def check_axes(layer, axis, shape):
    """The axes as a list of ints, each in range for `shape` (an error naming the layer)."""
    axes = axis if isinstance(axis, list) else [axis]
    for a in axes:
        if not -len(shape) <= a < len(shape):
            raise ValueError(f"{describe(layer)}: axis {a} is out of range for inputs of shape "
                             f"{tuple(shape)} (axis={axis})")
    return axes


def normalize_axis(layer_name, axis):
    """Keras's axis argument: an int, or a list of ints (a tuple becomes a list)."""
    if isinstance(axis, (list, tuple)) and all(isinstance(a, (int, np.integer)) and
                                               not isinstance(a, bool) for a in axis):
        return [int(a) for a in axis]
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis)
    raise TypeError(f"{layer_name}: axis must be an int or a list/tuple of ints, got {axis!r}")


class LayerNormalization(Layer):
    """Normalize each sample to zero mean and unit variance over `axis` (its own statistics,
    the same in training and inference), then scale by `gamma` and shift by `beta`:
    `gamma * (x - mean) / sqrt(var + epsilon) + beta`, as one fused op with its own backward.

    Args:
        axis: the axis or list of axes normalized over (-1: the features).
        epsilon: added to the variance.
        center, scale: whether to learn `beta` and `gamma`.
        rms_scaling: Keras's deprecated option (it divides by sqrt(variance + epsilon)
            without subtracting the mean, and uses only gamma); warns, as Keras does.
        beta_initializer, gamma_initializer ('zeros', 'ones'), beta_regularizer,
            gamma_regularizer, beta_constraint, gamma_constraint.

    Weights, in Keras's order: `gamma`, `beta`, each of the normalized axes' sizes (sorted
    axes). Masks pass through.

    Example:
        >>> LayerNormalization()(np.array([[1.0, 2.0, 3.0]])).numpy().round(3)
        array([[-1.224,  0.   ,  1.224]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        rms_scaling = bool(kwargs.pop("rms_scaling", False))
        if rms_scaling:
            warnings.warn("LayerNormalization: rms_scaling=True is deprecated (it scales by the "
                          "variance, not the root mean square); use RMSNormalization",
                          stacklevel=2)
        super().__init__(**kwargs)
        self.axis = normalize_axis("LayerNormalization", axis)
        self.epsilon = float(epsilon)
        self.center, self.scale, self.rms_scaling = bool(center), bool(scale), rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.gamma = self.beta = None

    def build(self, input_shape):
        axes = check_axes(self, self.axis, input_shape)
        if isinstance(self.axis, list):
            self.axis = sorted(self.axis)
            axes = self.axis
        else:
            self.axis = [self.axis]  # Keras keeps the list after building
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f"{describe(self)} needs known sizes on axes {axes}, got inputs "
                             f"of shape {tuple(input_shape)}")
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(shape=shape, initializer=self.gamma_initializer,
                                         name="gamma", regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape=shape, initializer=self.beta_initializer,
                                        name="beta", regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self._sizes = shape

    def call(self, inputs):
        x = floating(inputs, self.dtype)
        axes = check_axes(self, self.axis, x.shape)
        if tuple(x.shape[a] for a in axes) != self._sizes:
            raise ValueError(f"{describe(self)} was built for sizes {self._sizes} on axes "
                             f"{axes}, got inputs of shape {tuple(x.shape)}")
        out = ops.layer_normalization(x, self.gamma, self.beta, tuple(axes), self.epsilon,
                                      rms_scaling=self.rms_scaling)
        return ops.cast(out, self.dtype) if out.dtype != self.dtype else out

    def compute_output_shape(self, input_shape):
        check_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": serialize_initializer(self.beta_initializer),
                "gamma_initializer": serialize_initializer(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}
