"""Dense, Activation and Lambda."""
import numpy as np

from mgp import activations, constraints, initializers, ops, regularizers
from mgp.layers._utils import describe, floating, serialize_initializer
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
        kernel_regularizer, bias_regularizer: penalties on the weights (`mgp.regularizers`),
            added to the training loss. activity_regularizer: a penalty on the outputs.
        kernel_constraint, bias_constraint: projections applied after each optimizer update
            (`mgp.constraints`).

    Weights: `kernel` (in_features, units) and `bias` (units,), float32. Masks pass through.

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
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.supports_masking = True
        self.kernel = self.bias = None

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"{describe(self)} needs inputs of shape (batch, ..., features) with "
                             f"a known last dimension, got {tuple(input_shape)}")
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer=self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                        name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

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
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}

    def __repr__(self):
        return f"<Dense name={self.name}, units={self.units}, " \
               f"activation={activations.serialize(self.activation)}, built={self.built}>"


class Activation(Layer):
    """Applies an activation function.

    Args:
        activation: a name ('relu', 'softmax', ...) or a callable.

    Masks pass through.

    Example:
        >>> Activation("relu")(np.array([[-1.0, 2.0]])).data
        array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs, training=False):
        return self.activation(floating(inputs, self.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
