"""What every convolution layer shares: its window (kernel_size, strides, padding, dilation), its
data format, the bias and activation, and the checks on its inputs.

Each family (conv, conv_transpose, depthwise_conv, separable_conv) is one class parameterized by
`rank`, the number of spatial axes, as Keras's BaseConv is; Conv1D, Conv2D and Conv3D only set it.
"""
from mgp import activations, constraints, initializers, regularizers
from mgp.layers._utils import (check_rank, conv_output_length, describe, floating, resolved,
                               normalize_data_format, normalize_padding, normalize_tuple,
                               serialize_initializer)
from mgp.layers.base import Layer
from mgp.ops.windows import axes_words


class Convolution(Layer):
    """The shared base of the convolution layers (not a Keras class: Keras repeats these in each
    of its base classes). Subclasses set `rank`, create their weights in `build`, and compute in
    `call`."""

    rank = None  # the number of spatial axes, set by each concrete class

    def __init__(self, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, bias_initializer="zeros",
                 bias_regularizer=None, activity_regularizer=None, bias_constraint=None,
                 allow_causal=False, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = type(self).__name__
        self.kernel_size = normalize_tuple(kernel_size, self.rank, f"{name}: kernel_size")
        self.strides = normalize_tuple(strides, self.rank, f"{name}: strides")
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, f"{name}: dilation_rate")
        try:
            self.padding = normalize_padding(padding, allow_causal=allow_causal)
            self.data_format = normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
        self.activation = resolved(self, "activation", activation, activations.get)
        self.use_bias = bool(use_bias)
        self.bias_initializer = resolved(
            self, "bias_initializer", bias_initializer, initializers.get)
        self.bias_regularizer = resolved(
            self, "bias_regularizer", bias_regularizer, regularizers.get)
        self.bias_constraint = resolved(self, "bias_constraint", bias_constraint, constraints.get)

    @staticmethod
    def _positive(layer_name, value, name):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{layer_name}: {name} must be a positive integer, got {value!r}")
        return int(value)

    # ---- shapes --------------------------------------------------------------------------------
    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _spatial(self, shape):
        return tuple(shape[1:-1] if self.data_format == "channels_last" else shape[2:])

    def _with_channels(self, shape, channels, spatial):
        """The output shape: batch, then `spatial` and `channels` in the layer's layout."""
        if self.data_format == "channels_last":
            return (shape[0],) + tuple(spatial) + (channels,)
        return (shape[0], channels) + tuple(spatial)

    def _input_channels(self, shape, expected=None):
        """The number of input channels of `shape`, after checking its rank (and, once built,
        its channels): errors name the layer and the shape it got."""
        shape = tuple(shape)
        check_rank(self, shape, self.rank + 2, axes_words(self.rank, self.data_format))
        channels = shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"{describe(self)} needs a known number of input channels, got "
                             f"shape {shape}")
        if expected is not None and channels != expected:
            raise ValueError(f"{describe(self)} expected inputs with {expected} channels on axis "
                             f"{self._channel_axis} ({self.data_format}), got {shape}")
        return channels

    def _conv_spatial(self, shape):
        """The output's spatial size for a convolution window, which must fit the input."""
        check_rank(self, tuple(shape), self.rank + 2, axes_words(self.rank, self.data_format))
        sizes = self._spatial(shape)
        out = tuple(conv_output_length(n, k, self.padding, s, d) for n, k, s, d in
                    zip(sizes, self.kernel_size, self.strides, self.dilation_rate))
        if 0 in out:
            raise ValueError(f"{describe(self)}: kernel_size {self.kernel_size} with "
                             f"dilation_rate {self.dilation_rate} does not fit inputs of spatial "
                             f"size {sizes} with padding '{self.padding}' (got shape "
                             f"{tuple(shape)})")
        return out

    def _inputs(self, inputs, expected_channels):
        """The inputs as floats, checked before any computation."""
        x = floating(inputs, self.dtype)
        self._input_channels(x.shape, expected_channels)
        self.compute_output_shape(x.shape)
        return x

    # ---- bias, activation, config --------------------------------------------------------------
    @property
    def _fused_activation(self):
        """'relu' when the op can apply the activation itself (in place, with the bias)."""
        return "relu" if self.activation is activations.relu else None

    def _finish(self, y, fused):
        return y if fused else self.activation(y)

    def _add_bias(self, y):
        if self.bias is None:
            return y
        shape = (-1,) if self.data_format == "channels_last" else (-1,) + (1,) * self.rank
        return y + self.bias.reshape(shape)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "bias_constraint": constraints.serialize(self.bias_constraint)}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, kernel_size={self.kernel_size}, " \
               f"built={self.built}>"
