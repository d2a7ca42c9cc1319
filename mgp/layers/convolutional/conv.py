"""Conv1D, Conv2D, Conv3D: convolution over 1, 2 or 3 spatial axes, one class, `BaseConv`,
parameterized by rank (im2col plus one GEMM, in `mgp.ops.convolution.convolve`)."""
from mgp import constraints, initializers, regularizers
from mgp.layers._utils import describe, resolved, serialize_initializer
from mgp.layers.convolutional.base import Convolution
from mgp.ops.convolution import convolve


class BaseConv(Convolution):
    """N-D convolution (cross-correlation, as Keras): `activation(conv(inputs, kernel) + bias)`.

    Args:
        filters: number of output channels.
        kernel_size: int or one int per spatial axis.
        strides: int or one per axis. dilation_rate: int or one per axis. Unlike Keras, strides
            and dilation greater than 1 may be combined.
        padding: 'valid' (none), 'same' (output size ceil(input / stride)), or, for Conv1D,
            'causal' (the output at step t sees inputs up to t only: the input is padded on the
            left by dilation_rate * (kernel_size - 1)).
        data_format: 'channels_last' (batch, *spatial, channels), Keras's default when None, or
            'channels_first' (batch, channels, *spatial).
        groups: split the input channels into this many groups, each convolved with its own
            filters // groups filters (both must divide evenly).
        activation, use_bias, kernel_initializer, bias_initializer: as in `Dense`.
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            bias_constraint: passed on to the weights (and outputs), as in Keras.

    Weights: `kernel` (*kernel_size, in_channels // groups, filters) and `bias` (filters,).
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         bias_constraint, allow_causal=self.rank == 1, **kwargs)
        name = type(self).__name__
        self.filters = self._positive(name, filters, "filters")
        self.groups = self._positive(name, groups, "groups")
        if self.filters % self.groups:
            raise ValueError(f"{name}: filters ({self.filters}) must be divisible by groups "
                             f"({self.groups})")
        self.kernel_initializer = resolved(
            self, "kernel_initializer", kernel_initializer, initializers.get)
        self.kernel_regularizer = resolved(
            self, "kernel_regularizer", kernel_regularizer, regularizers.get)
        self.kernel_constraint = resolved(
            self, "kernel_constraint", kernel_constraint, constraints.get)
        self.kernel = self.bias = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)  # checked before any weight exists
        self.kernel = self.add_weight(
            shape=self.kernel_size + (channels // self.groups, self.filters),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint, name="bias")

    def _padding_arg(self):
        if self.padding == "causal":  # all of the window's reach before the output step
            return ((self.dilation_rate[0] * (self.kernel_size[0] - 1), 0),)
        return self.padding

    def call(self, inputs, training=False):
        x = self._inputs(inputs, self.kernel.shape[-2] * self.groups)
        fused = self._fused_activation  # relu applied by the op, in the bias's sweep
        y = convolve(x, self.kernel, self.bias, self.strides, self._padding_arg(),
                     self.dilation_rate, self.data_format, fused, op=describe(self))
        return self._finish(y, fused)

    def compute_output_shape(self, input_shape):
        spatial = self._conv_spatial(input_shape)
        channels = tuple(input_shape)[self._channel_axis]
        if channels is not None and channels % self.groups:
            raise ValueError(f"{describe(self)}: the input's {channels} channels must be "
                             f"divisible by groups ({self.groups}), got shape "
                             f"{tuple(input_shape)}")
        return self._with_channels(input_shape, self.filters, spatial)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint)}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, filters={self.filters}, " \
               f"kernel_size={self.kernel_size}, built={self.built}>"


class Conv1D(BaseConv):
    """1-D convolution over (batch, steps, channels) (arguments as `BaseConv`; padding may be
    'causal').

    Example:
        >>> Conv1D(8, 3, padding="causal")(np.zeros((4, 20, 2))).shape
        (4, 20, 8)
    """

    rank = 1


class Conv2D(BaseConv):
    """2-D convolution over (batch, height, width, channels) (arguments as `BaseConv`).

    Example:
        >>> conv = Conv2D(32, 3, activation="relu")
        >>> conv(np.zeros((8, 28, 28, 1))).shape
        (8, 26, 26, 32)
        >>> conv.count_params()
        320
    """

    rank = 2


class Conv3D(BaseConv):
    """3-D convolution over (batch, depth, height, width, channels) (arguments as `BaseConv`).

    Example:
        >>> Conv3D(4, 3)(np.zeros((2, 8, 8, 8, 1))).shape
        (2, 6, 6, 6, 4)
    """

    rank = 3


# Keras's aliases
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
