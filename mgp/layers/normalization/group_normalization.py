"""GroupNormalization: normalize each sample over groups of channels (Wu & He 2018)."""
import numpy as np

from mgp import constraints, initializers, ops, regularizers
from mgp.layers._utils import describe, floating, serialize_initializer
from mgp.layers.base import Layer
from mgp.layers.input_spec import InputSpec


class GroupNormalization(Layer):
    """Split the channels on `axis` into `groups` groups and normalize each sample's group to
    zero mean and unit variance over its channels and every other non-batch axis, then scale
    and shift per channel. `groups=1` is layer normalization over all but the batch axis,
    `groups=-1` (one channel a group) instance normalization. The same computation in training
    and at inference: no moving statistics.

    Args:
        groups: a positive number of groups dividing the channels, or -1 (one per channel).
        axis: the channel axis.
        epsilon: added to the variance.
        center, scale: whether to learn a per-channel offset `beta` and scale `gamma`.
        beta_initializer, gamma_initializer: Keras's defaults 'zeros' and 'ones'.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: as in Dense.

    Weights, in Keras's order: `gamma`, `beta`, each of shape (channels,).
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or \
                (groups <= 0 and groups != -1):
            raise ValueError(f"GroupNormalization: groups must be a positive int or -1 (one "
                             f"group per channel), got {groups!r}")
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise ValueError(f"GroupNormalization: axis must be an int, got {axis!r}")
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon = int(groups), int(axis), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.gamma = self.beta = None

    def _channels(self, shape):
        if len(shape) < 2 or not -len(shape) <= self.axis < len(shape) or \
                self.axis % len(shape) == 0:
            raise ValueError(f"{describe(self)}: axis {self.axis} is not a non-batch axis of "
                             f"inputs of shape {tuple(shape)}")
        return shape[self.axis]

    def build(self, input_shape):
        channels = self._channels(input_shape)
        if channels is None:
            raise ValueError(f"{describe(self)} needs a known size on axis {self.axis}, got "
                             f"shape {tuple(input_shape)}")
        if self.groups == -1:  # Keras records the resolved count, in its config too
            self.groups = channels
        if channels < self.groups or channels % self.groups:
            raise ValueError(f"{describe(self)}: {self.groups} groups must divide the "
                             f"{channels} channels on axis {self.axis} (shape "
                             f"{tuple(input_shape)})")
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: channels})
        if self.scale:
            self.gamma = self.add_weight(shape=(channels,), initializer=self.gamma_initializer,
                                         name="gamma", regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape=(channels,), initializer=self.beta_initializer,
                                        name="beta", regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)

    def call(self, inputs):
        x = floating(inputs, self.dtype)
        channels = self._channels(x.shape)
        expected = (self.gamma if self.gamma is not None else self.beta)
        if expected is not None and channels != expected.shape[0]:
            raise ValueError(f"{describe(self)} expected {expected.shape[0]} channels on axis "
                             f"{self.axis}, got shape {tuple(x.shape)}")
        axis = self.axis % x.ndim
        # (..., channels, ...) -> (..., groups, channels per group, ...)
        grouped = list(x.shape)
        grouped[axis:axis + 1] = [self.groups, channels // self.groups]
        g = ops.reshape(x, grouped)
        reduce = tuple(i for i in range(1, g.ndim) if i != axis)
        mean, variance = ops.nn.moments(g, reduce, keepdims=True)
        inv = ops.rsqrt(variance + self.epsilon)
        per_channel = [1] * g.ndim
        per_channel[axis:axis + 2] = [self.groups, channels // self.groups]
        if self.gamma is not None:
            inv = inv * ops.reshape(self.gamma, per_channel)
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + ops.reshape(self.beta, per_channel)
        return ops.reshape(g * inv + shift, x.shape)

    def compute_output_shape(self, input_shape):
        self._channels(input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": serialize_initializer(self.beta_initializer),
                "gamma_initializer": serialize_initializer(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}
