"""Conv2D: 2-D convolution over images (im2col plus one GEMM, in `mgp.ops.nn.conv2d`)."""
import numpy as np

from mgp import activations, constraints, initializers, ops, regularizers
from mgp.layers._utils import (check_rank, conv_output_length, describe, floating,
                               normalize_data_format, normalize_padding, normalize_tuple,
                               serialize_initializer)
from mgp.layers.base import Layer


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as Keras): `activation(conv2d(inputs, kernel) + bias)`.

    Args:
        filters: number of output channels.
        kernel_size: int or (height, width).
        strides: int or (sh, sw). dilation_rate: int or (dh, dw). Unlike Keras, strides and
            dilation greater than 1 may be combined.
        padding: 'valid' (no padding) or 'same' (output size ceil(input / stride)).
        data_format: 'channels_last' (batch, height, width, channels), Keras's default when None,
            or 'channels_first' (batch, channels, height, width).
        groups: only 1 (grouped convolution is not implemented).
        activation, use_bias, kernel_initializer, bias_initializer: as in `Dense`.
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            bias_constraint: as in `Dense`.

    Weights: `kernel` (kernel_h, kernel_w, in_channels, filters) and `bias` (filters,).

    Example:
        >>> conv = Conv2D(32, 3, activation="relu")
        >>> conv(np.zeros((8, 28, 28, 1))).shape
        (8, 26, 26, 32)
        >>> conv.count_params()
        320
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(filters, (int, np.integer)) or isinstance(filters, bool) or filters < 1:
            raise ValueError(f"Conv2D: filters must be a positive integer, got {filters!r}")
        if groups != 1:
            raise NotImplementedError(f"Conv2D: grouped convolution is not supported by mgp; got "
                                      f"groups={groups!r} (only 1)")
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.groups = 1
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _axes_words(self):
        return ("(batch, height, width, channels)" if self.data_format == "channels_last"
                else "(batch, channels, height, width)")

    def build(self, input_shape):
        check_rank(self, input_shape, 4, self._axes_words())
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"{describe(self)} needs a known number of input channels, got "
                             f"shape {tuple(input_shape)}")
        self.kernel = self.add_weight(shape=self.kernel_size + (channels, self.filters),
                                      initializer=self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                        name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        check_rank(self, x.shape, 4, self._axes_words())
        channels = self.kernel.shape[2]
        if x.shape[self._channel_axis] != channels:
            raise ValueError(f"{describe(self)} expected inputs with {channels} channels on axis "
                             f"{self._channel_axis} ({self.data_format}), got "
                             f"{tuple(x.shape)}")
        if self.activation is activations.relu:  # fused into the op (see ops.nn.conv2d)
            return ops.nn.conv2d(x, self.kernel, self.bias, self.strides, self.padding,
                                 self.dilation_rate, self.data_format, activation="relu")
        y = ops.nn.conv2d(x, self.kernel, self.bias, self.strides, self.padding,
                          self.dilation_rate, self.data_format)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        first = self.data_format == "channels_first"
        hw = input_shape[2:4] if first else input_shape[1:3]
        out = tuple(conv_output_length(n, k, self.padding, s, d) for n, k, s, d in
                    zip(hw, self.kernel_size, self.strides, self.dilation_rate))
        if first:
            return (input_shape[0], self.filters) + out
        return (input_shape[0],) + out + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}

    def __repr__(self):
        return f"<Conv2D name={self.name}, filters={self.filters}, " \
               f"kernel_size={self.kernel_size}, built={self.built}>"


Convolution2D = Conv2D  # Keras's alias
