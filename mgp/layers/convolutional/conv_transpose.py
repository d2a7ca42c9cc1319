"""Conv1DTranspose, Conv2DTranspose, Conv3DTranspose: the adjoint of a convolution (GEMM then
col2im, in `mgp.ops.convolution.conv_transpose`), one class, `BaseConvTranspose`, by rank."""
from mgp import constraints, initializers, regularizers
from mgp.layers._utils import check_rank, describe, normalize_tuple, resolved, serialize_initializer
from mgp.layers.convolutional.base import Convolution
from mgp.ops.convolution import conv_transpose
from mgp.ops.windows import axes_words, transpose_output_length


class BaseConvTranspose(Convolution):
    """Transposed convolution ("deconvolution"): maps each input position to a kernel-sized
    patch of the output, strides apart, summing where patches overlap; the gradient of a
    convolution with respect to its input.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an int or one per spatial axis.
        padding: 'valid' (output (n - 1) * stride + max(kernel, stride)) or 'same' (output
            n * stride), with the kernel dilated.
        output_padding: None, or an int or one per axis, each less than its stride: extra
            cells on the output's far end, as Keras defines them.
        data_format, activation, use_bias, initializers, regularizers, constraints: as in
            `BaseConv`.

    Weights: `kernel` (*kernel_size, filters, in_channels) and `bias` (filters,).
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         bias_constraint, **kwargs)
        name = type(self).__name__
        self.filters = self._positive(name, filters, "filters")
        self.output_padding = None
        if output_padding is not None:
            try:
                self.output_padding = normalize_tuple(output_padding, self.rank,
                                                      f"{name}: output_padding", minimum=0)
            except ValueError:
                raise ValueError(f"{name}: output_padding must be None, an int or a tuple of "
                                 f"{self.rank} non-negative ints, got {output_padding!r}") \
                    from None
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(f"{name}: output_padding must be less than strides along "
                                 f"every axis, got output_padding={self.output_padding} with "
                                 f"strides={self.strides}")
        self.kernel_initializer = resolved(
            self, "kernel_initializer", kernel_initializer, initializers.get)
        self.kernel_regularizer = resolved(
            self, "kernel_regularizer", kernel_regularizer, regularizers.get)
        self.kernel_constraint = resolved(
            self, "kernel_constraint", kernel_constraint, constraints.get)
        self.kernel = self.bias = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            shape=self.kernel_size + (self.filters, channels),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint, name="bias")

    def call(self, inputs, training=False):
        x = self._inputs(inputs, self.kernel.shape[-1])
        y = conv_transpose(x, self.kernel, self.strides, self.padding, self.output_padding,
                           self.data_format, self.dilation_rate)
        return self.activation(self._add_bias(y))

    def compute_output_shape(self, input_shape):
        check_rank(self, tuple(input_shape), self.rank + 2,
                   axes_words(self.rank, self.data_format))
        extra = self.output_padding or (None,) * self.rank
        out = tuple(transpose_output_length(n, k, self.padding, s, e, d) for n, k, s, e, d in
                    zip(self._spatial(input_shape), self.kernel_size, self.strides, extra,
                        self.dilation_rate))
        if any(o is not None and o < 1 for o in out):
            raise ValueError(f"{describe(self)}: the output would have spatial size {out} for "
                             f"inputs of shape {tuple(input_shape)}")
        return self._with_channels(input_shape, self.filters, out)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "output_padding": self.output_padding,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint)}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, filters={self.filters}, " \
               f"kernel_size={self.kernel_size}, built={self.built}>"


class Conv1DTranspose(BaseConvTranspose):
    """1-D transposed convolution over (batch, steps, channels) (as `BaseConvTranspose`)."""

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """2-D transposed convolution over images (as `BaseConvTranspose`).

    Example:
        >>> Conv2DTranspose(3, 3, strides=2, padding="same")(np.zeros((1, 7, 7, 8))).shape
        (1, 14, 14, 3)
    """

    rank = 2


class Conv3DTranspose(BaseConvTranspose):
    """3-D transposed convolution over volumes (as `BaseConvTranspose`; Keras takes
    data_format before output_padding here)."""

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, output_padding=None, dilation_rate=(1, 1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


# Keras's aliases
Convolution1DTranspose, Convolution2DTranspose, Convolution3DTranspose = \
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose
