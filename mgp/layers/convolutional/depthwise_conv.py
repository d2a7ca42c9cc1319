"""DepthwiseConv1D, DepthwiseConv2D: each input channel convolved with its own filters, one
class, `BaseDepthwiseConv`, by rank (a grouped convolution with one group per channel)."""
from mgp import constraints, initializers, regularizers
from mgp.layers._utils import describe, resolved, serialize_initializer
from mgp.layers.convolutional.base import Convolution
from mgp.ops.convolution import convolve


class BaseDepthwiseConv(Convolution):
    """Depthwise convolution: channel c is convolved with its own `depth_multiplier` filters;
    output channel c * depth_multiplier + m comes from channel c and filter m.

    Args:
        kernel_size, strides, padding ('valid' or 'same'), depth_multiplier, data_format,
            dilation_rate, activation, use_bias: as in `BaseConv` (depth_multiplier: filters
            per input channel, 1 by default).
        depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
            activity_regularizer, depthwise_constraint, bias_constraint: for the weights.

    Weights: `kernel` (*kernel_size, in_channels, depth_multiplier) and `bias`
    (in_channels * depth_multiplier,).
    """

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         bias_constraint, **kwargs)
        self.depth_multiplier = self._positive(type(self).__name__, depth_multiplier,
                                               "depth_multiplier")
        self.depthwise_initializer = resolved(
            self, "depthwise_initializer", depthwise_initializer, initializers.get)
        self.depthwise_regularizer = resolved(
            self, "depthwise_regularizer", depthwise_regularizer, regularizers.get)
        self.depthwise_constraint = resolved(
            self, "depthwise_constraint", depthwise_constraint, constraints.get)
        self.kernel = self.bias = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(channels * self.depth_multiplier,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint, name="bias")

    def call(self, inputs, training=False):
        channels = self.kernel.shape[-2]
        x = self._inputs(inputs, channels)
        fused = self._fused_activation
        # one group per channel: the kernel as a grouped one, (*kernel_size, 1, filters)
        grouped = self.kernel.reshape(self.kernel_size + (1, channels * self.depth_multiplier))
        y = convolve(x, grouped, self.bias, self.strides, self.padding, self.dilation_rate,
                     self.data_format, fused, op=describe(self))
        return self._finish(y, fused)

    def compute_output_shape(self, input_shape):
        channels = tuple(input_shape)[self._channel_axis]
        filters = None if channels is None else channels * self.depth_multiplier
        return self._with_channels(input_shape, filters, self._conv_spatial(input_shape))

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": serialize_initializer(self.depthwise_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint)}


class DepthwiseConv1D(BaseDepthwiseConv):
    """1-D depthwise convolution over (batch, steps, channels) (as `BaseDepthwiseConv`)."""

    rank = 1


class DepthwiseConv2D(BaseDepthwiseConv):
    """2-D depthwise convolution over images (as `BaseDepthwiseConv`).

    Example:
        >>> DepthwiseConv2D(3, depth_multiplier=2)(np.zeros((1, 8, 8, 4))).shape
        (1, 6, 6, 8)
    """

    rank = 2
