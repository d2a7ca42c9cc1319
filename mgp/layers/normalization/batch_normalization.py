"""BatchNormalization: normalize with batch statistics in training, moving ones at inference."""
import numpy as np

from mgp import constraints, initializers, ops, regularizers
from mgp.backend import xp
from mgp.layers._utils import describe, floating, number, resolved, serialize_initializer
from mgp.layers.base import Layer

EPSILON = 1e-7  # Keras's backend.epsilon(), in the masked statistics' counts


class BatchNormalization(Layer):
    """Normalize each feature (channel) to zero mean and unit variance, then scale and shift.

    In training (`training=True` and the layer trainable) it uses the batch's mean and
    (biased) variance, the gradient flows through them, and the moving statistics are updated
    as Keras does: `moving = moving * momentum + batch * (1 - momentum)`. At inference it uses
    the moving statistics. A layer set `trainable = False` always runs in inference mode (as in
    Keras 3).

    Args:
        axis: the feature axis (-1 for channels_last images and for dense features, 1 for
            channels_first).
        momentum: weight of the old value in the moving statistics.
        epsilon: added to the variance.
        center, scale: whether to learn an offset `beta` and a scale `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer: Keras's defaults 'zeros', 'ones', 'zeros', 'ones'.
        beta_regularizer, gamma_regularizer: penalties on beta and gamma (`mgp.regularizers`).
        beta_constraint, gamma_constraint: projections after each update (`mgp.constraints`).

    Weights, in Keras's order: `gamma`, `beta` (trainable), `moving_mean`, `moving_variance`
    (non-trainable), each of shape (features,).

    Example:
        >>> bn = BatchNormalization()
        >>> y = bn(x, training=True)   # batch statistics; moving ones updated
        >>> y = bn(x)                  # moving statistics
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise ValueError(f"BatchNormalization: axis must be an int, got {axis!r}")
        self.axis = int(axis)
        self.momentum = number(self, "momentum", momentum, 0, 1)
        self.epsilon = number(self, "epsilon", epsilon, 0)
        self.center = bool(center)
        self.scale = bool(scale)
        self.synchronized = bool(synchronized)  # one process: nothing to synchronize
        self.beta_initializer = resolved(
            self, "beta_initializer", beta_initializer, initializers.get)
        self.gamma_initializer = resolved(
            self, "gamma_initializer", gamma_initializer, initializers.get)
        self.moving_mean_initializer = resolved(
            self, "moving_mean_initializer", moving_mean_initializer, initializers.get)
        self.moving_variance_initializer = resolved(
            self, "moving_variance_initializer", moving_variance_initializer, initializers.get)
        self.beta_regularizer = resolved(
            self, "beta_regularizer", beta_regularizer, regularizers.get)
        self.gamma_regularizer = resolved(
            self, "gamma_regularizer", gamma_regularizer, regularizers.get)
        self.beta_constraint = resolved(self, "beta_constraint", beta_constraint, constraints.get)
        self.gamma_constraint = resolved(
            self, "gamma_constraint", gamma_constraint, constraints.get)
        self.supports_masking = True
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def _features(self, shape):
        if not -len(shape) <= self.axis < len(shape):
            raise ValueError(f"{describe(self)}: axis {self.axis} is out of range for inputs of "
                             f"shape {tuple(shape)}")
        return shape[self.axis]

    def build(self, input_shape):
        n = self._features(input_shape)
        if n is None:
            raise ValueError(f"{describe(self)} needs a known size on axis {self.axis}, got "
                             f"shape {tuple(input_shape)}")
        if self.scale:
            self.gamma = self.add_weight(shape=(n,), initializer=self.gamma_initializer,
                                         name="gamma", regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape=(n,), initializer=self.beta_initializer,
                                        name="beta", regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(shape=(n,), initializer=self.moving_mean_initializer,
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=(n,),
                                               initializer=self.moving_variance_initializer,
                                               trainable=False, name="moving_variance")

    def call(self, inputs, training=False, mask=None):
        x = floating(inputs, self.dtype)
        n = self.moving_mean.shape[0]
        if self._features(x.shape) != n:
            raise ValueError(f"{describe(self)} expected inputs with {n} features on axis "
                             f"{self.axis}, got {tuple(x.shape)}")
        if mask is not None and mask.ndim != x.ndim - 1:
            raise ValueError(f"{describe(self)}: the mask must have one axis less than the "
                             f"inputs, got mask {tuple(mask.shape)} for inputs "
                             f"{tuple(x.shape)}")
        if training and self.trainable:
            if mask is not None:  # statistics over the unmasked positions only, as Keras
                out, mean, var = self._masked_batch_norm(x, mask)
            else:
                out, mean, var = ops.nn.batch_norm(x, self.gamma, self.beta, self.axis,
                                                   self.epsilon)
            m = self.momentum
            self.moving_mean.assign(self.moving_mean.data * m + mean * (1 - m))
            self.moving_variance.assign(self.moving_variance.data * m + var * (1 - m))
            return out
        # inference: one affine map, x * scale + shift, from the moving statistics
        bshape = tuple(n if i == self.axis % x.ndim else 1 for i in range(x.ndim))
        inv_std = 1 / ops.sqrt(self.moving_variance + self.epsilon)
        scale = inv_std * self.gamma if self.gamma is not None else inv_std
        shift = -self.moving_mean * scale
        if self.beta is not None:
            shift = shift + self.beta
        return x * ops.reshape(scale, bshape) + ops.reshape(shift, bshape)

    def _masked_batch_norm(self, x, mask):
        """Batch normalization with the mean and variance of the positions where `mask` is
        True (composed from differentiable ops; returns the statistics as arrays too)."""
        axis = self.axis % x.ndim
        axes = tuple(i for i in range(x.ndim) if i != axis)
        keep = xp.broadcast_to(xp.expand_dims(xp.asarray(mask.data, dtype=bool), -1), x.shape)
        count = keep.sum(axis=axes, keepdims=True).astype(x.dtype) + x.dtype.type(EPSILON)
        mean = ops.sum(ops.where(keep, x, 0.0), axis=axes, keepdims=True) / count
        centered = ops.where(keep, x - mean, 0.0)
        var = ops.sum(centered * centered, axis=axes, keepdims=True) / count
        out = (x - mean) / ops.sqrt(var + self.epsilon)
        bshape = mean.shape
        if self.gamma is not None:
            out = out * ops.reshape(self.gamma, bshape)
        if self.beta is not None:
            out = out + ops.reshape(self.beta, bshape)
        return out, mean.data.reshape(-1), var.data.reshape(-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": serialize_initializer(self.beta_initializer),
                "gamma_initializer": serialize_initializer(self.gamma_initializer),
                "moving_mean_initializer": serialize_initializer(self.moving_mean_initializer),
                "moving_variance_initializer":
                    serialize_initializer(self.moving_variance_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint),
                "synchronized": self.synchronized}
