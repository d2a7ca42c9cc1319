"""Dense and Activation."""
import numpy as np

from mgp import activations, initializers, ops
from mgp.layers._utils import describe, floating, reject, serialize_initializer
from mgp.layers.base import Layer


class Dense(Layer):
    """A densely connected layer: `activation(inputs @ kernel + bias)`.

    Applied on the last axis: inputs (batch, ..., in_features) give (batch, ..., units).

    Args:
        units: number of output features.
        activation: name ('relu'), callable, or None (linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: names, configs or initializers
            (Keras's defaults: 'glorot_uniform', 'zeros').
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            bias_constraint: accepted for Keras compatibility; only None is supported.

    Weights: `kernel` (in_features, units) and `bias` (units,), float32.

    Example:
        >>> layer = Dense(10, activation="softmax")
        >>> layer(np.zeros((32, 1600))).shape
        (32, 10)
        >>> layer.count_params()
        16010
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        reject("Dense", kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
               activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
               bias_constraint=bias_constraint)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel = self.bias = None

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"{describe(self)} needs inputs of shape (batch, ..., features) with "
                             f"a known last dimension, got {tuple(input_shape)}")
        self.kernel = self.add_weight((input_shape[-1], self.units), self.kernel_initializer,
                                      name="kernel")
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias")

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        n_in = self.kernel.shape[0]
        if x.ndim < 2 or x.shape[-1] != n_in:
            raise ValueError(f"{describe(self)} expected inputs with last dimension {n_in}, got "
                             f"{tuple(x.shape)}")
        if x.ndim == 2:
            y = ops.matmul(x, self.kernel)
        else:  # one GEMM over all leading axes, not a batched matmul per sample
            y = ops.matmul(ops.reshape(x, (-1, n_in)), self.kernel)
            y = ops.reshape(y, x.shape[:-1] + (self.units,))
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "kernel_regularizer": None, "bias_regularizer": None,
                "activity_regularizer": None, "kernel_constraint": None,
                "bias_constraint": None}

    def __repr__(self):
        return f"<Dense name={self.name}, units={self.units}, " \
               f"activation={activations.serialize(self.activation)}, built={self.built}>"


class Activation(Layer):
    """Applies an activation function.

    Args:
        activation: a name ('relu', 'softmax', ...) or a callable.

    Example:
        >>> Activation("relu")(np.array([[-1.0, 2.0]])).data
        array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs, training=False):
        return self.activation(floating(inputs, self.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    """Returns its inputs unchanged (any structure): a placeholder, as Keras's."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # masks pass through

    def call(self, inputs, training=False):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
