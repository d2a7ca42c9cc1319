"""SeparableConv1D, SeparableConv2D: a depthwise convolution, then a pointwise (1 x 1) one that
mixes the channels; one class, `BaseSeparableConv`, by rank."""
from mgp import constraints, initializers, regularizers
from mgp.layers._utils import describe, resolved, serialize_initializer
from mgp.layers.convolutional.base import Convolution
from mgp.ops.convolution import convolve


class BaseSeparableConv(Convolution):
    """Depthwise-separable convolution: each input channel convolved with its own
    `depth_multiplier` filters (the window, strides, padding and dilation apply here), then a
    1 x 1 convolution to `filters` channels, plus the bias, then the activation.

    Args:
        filters: output channels of the pointwise step.
        kernel_size, strides, padding ('valid' or 'same'), data_format, dilation_rate,
            depth_multiplier, activation, use_bias: as in `BaseDepthwiseConv`.
        depthwise_*, pointwise_*, bias_* initializer / regularizer / constraint, and
            activity_regularizer: for the weights.

    Weights: `depthwise_kernel` (*kernel_size, in_channels, depth_multiplier),
    `pointwise_kernel` (1, ..., 1, in_channels * depth_multiplier, filters), `bias` (filters,).
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         bias_constraint, **kwargs)
        name = type(self).__name__
        self.filters = self._positive(name, filters, "filters")
        self.depth_multiplier = self._positive(name, depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = resolved(
            self, "depthwise_initializer", depthwise_initializer, initializers.get)
        self.pointwise_initializer = resolved(
            self, "pointwise_initializer", pointwise_initializer, initializers.get)
        self.depthwise_regularizer = resolved(
            self, "depthwise_regularizer", depthwise_regularizer, regularizers.get)
        self.pointwise_regularizer = resolved(
            self, "pointwise_regularizer", pointwise_regularizer, regularizers.get)
        self.depthwise_constraint = resolved(
            self, "depthwise_constraint", depthwise_constraint, constraints.get)
        self.pointwise_constraint = resolved(
            self, "pointwise_constraint", pointwise_constraint, constraints.get)
        self.depthwise_kernel = self.pointwise_kernel = self.bias = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self.add_weight(
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, name="depthwise_kernel")
        self.pointwise_kernel = self.add_weight(
            shape=(1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, name="pointwise_kernel")
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint, name="bias")

    def call(self, inputs, training=False):
        channels = self.depthwise_kernel.shape[-2]
        x = self._inputs(inputs, channels)
        grouped = self.depthwise_kernel.reshape(
            self.kernel_size + (1, channels * self.depth_multiplier))
        y = convolve(x, grouped, None, self.strides, self.padding, self.dilation_rate,
                     self.data_format, op=describe(self))
        fused = self._fused_activation
        y = convolve(y, self.pointwise_kernel, self.bias, 1, "valid", 1, self.data_format,
                     fused, op=describe(self))
        return self._finish(y, fused)

    def compute_output_shape(self, input_shape):
        return self._with_channels(input_shape, self.filters, self._conv_spatial(input_shape))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": serialize_initializer(self.depthwise_initializer),
                "pointwise_initializer": serialize_initializer(self.pointwise_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "pointwise_constraint": constraints.serialize(self.pointwise_constraint)}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, filters={self.filters}, " \
               f"kernel_size={self.kernel_size}, built={self.built}>"


class SeparableConv1D(BaseSeparableConv):
    """1-D separable convolution over (batch, steps, channels) (as `BaseSeparableConv`)."""

    rank = 1


class SeparableConv2D(BaseSeparableConv):
    """2-D separable convolution over images (as `BaseSeparableConv`).

    Example:
        >>> SeparableConv2D(16, 3, padding="same")(np.zeros((1, 8, 8, 4))).shape
        (1, 8, 8, 16)
    """

    rank = 2


# Keras's aliases
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
