"""2-D pooling: max and average over windows, and global average / max over the image."""
from mgp import ops
from mgp.layers._utils import (check_rank, conv_output_length, floating, normalize_data_format,
                               normalize_padding, normalize_tuple)
from mgp.layers.base import Layer


def _axes_words(data_format):
    return ("(batch, height, width, channels)" if data_format == "channels_last"
            else "(batch, channels, height, width)")


class _Pooling2D(Layer):
    """Shared by MaxPooling2D and AveragePooling2D: the window, strides, padding, format."""

    _pool = None  # the ops.nn function

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        # Keras: strides default to the pool size (non-overlapping windows)
        self.strides = normalize_tuple(strides if strides is not None else self.pool_size, 2,
                                       "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        check_rank(self, x.shape, 4, _axes_words(self.data_format))
        return self._pool(x, self.pool_size, self.strides, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, 4, _axes_words(self.data_format))
        first = self.data_format == "channels_first"
        hw = input_shape[2:4] if first else input_shape[1:3]
        out = tuple(conv_output_length(n, k, self.padding, s)
                    for n, k, s in zip(hw, self.pool_size, self.strides))
        return input_shape[:2] + out if first else input_shape[:1] + out + input_shape[3:]

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    """Max over each pool_size window.

    Args:
        pool_size: int or (height, width) of the window; (2, 2) by default.
        strides: int, pair, or None for pool_size.
        padding: 'valid' or 'same' (padding never wins the max).
        data_format: 'channels_last' (default when None) or 'channels_first'.

    Example:
        >>> MaxPooling2D()(np.zeros((8, 26, 26, 32))).shape
        (8, 13, 13, 32)
    """

    _pool = staticmethod(ops.nn.max_pool2d)


class AveragePooling2D(_Pooling2D):
    """Mean over each pool_size window ('same' padding averages only the real inputs, as Keras).

    Args: as `MaxPooling2D` (Keras requires pool_size here; mgp defaults it to (2, 2)).
    """

    _pool = staticmethod(ops.nn.avg_pool2d)


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.keepdims = bool(keepdims)

    @property
    def _spatial(self):
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        check_rank(self, input_shape, 4, _axes_words(self.data_format))
        if self.keepdims:
            return tuple(1 if i in self._spatial else n for i, n in enumerate(input_shape))
        return tuple(n for i, n in enumerate(input_shape) if i not in self._spatial)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over height and width: (batch, h, w, c) -> (batch, c), or (batch, 1, 1, c) with
    keepdims=True.

    Args:
        data_format: 'channels_last' (default when None) or 'channels_first'.
        keepdims: keep the spatial axes with size 1.
    """

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        check_rank(self, x.shape, 4, _axes_words(self.data_format))
        return ops.nn.global_avg_pool2d(x, self.data_format, self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over height and width (arguments as `GlobalAveragePooling2D`)."""

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        check_rank(self, x.shape, 4, _axes_words(self.data_format))
        return ops.max(x, self._spatial, keepdims=self.keepdims)


# Keras's aliases
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
