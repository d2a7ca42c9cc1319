"""The windowed pools' shared class: `BasePooling`, parameterized by rank and mode (max or
average), as Keras's BasePooling is."""
from mgp.layers._utils import (check_rank, conv_output_length, describe, floating,
                               normalize_data_format, normalize_padding, normalize_tuple)
from mgp.layers.base import Layer
from mgp.ops.pooling import average_pool, max_pool
from mgp.ops.windows import axes_words


class BasePooling(Layer):
    """Max or mean over each pool_size window (`mgp.ops.max_pool` / `average_pool`).

    Args:
        pool_size: an int or one per spatial axis.
        strides: an int, one per axis, or None for pool_size (non-overlapping windows).
        padding: 'valid' or 'same' (output ceil(input / stride); padding never wins a max and
            is left out of an average).
        data_format: 'channels_last' (default when None) or 'channels_first'.
    """

    rank = None  # spatial axes, set by each concrete class
    pool_mode = None  # "max" or "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        layer = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, self.rank, f"{layer}: pool_size")
        # Keras: strides default to the pool size (non-overlapping windows)
        self.strides = normalize_tuple(strides if strides is not None else self.pool_size,
                                       self.rank, f"{layer}: strides")
        try:
            self.padding = normalize_padding(padding)
            self.data_format = normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f"{layer}: {e}") from None

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        self.compute_output_shape(x.shape)  # checked here to name the layer in the error
        pool = max_pool if self.pool_mode == "max" else average_pool
        return pool(x, self.pool_size, self.strides, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        check_rank(self, shape, self.rank + 2, axes_words(self.rank, self.data_format))
        first = self.data_format == "channels_first"
        sizes = shape[2:] if first else shape[1:-1]
        out = tuple(conv_output_length(n, k, self.padding, s)
                    for n, k, s in zip(sizes, self.pool_size, self.strides))
        if 0 in out:
            raise ValueError(f"{describe(self)}: pool_size {self.pool_size} does not fit inputs "
                             f"of spatial size {sizes} with padding '{self.padding}' (got shape "
                             f"{shape})")
        return shape[:2] + out if first else shape[:1] + out + shape[-1:]

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, pool_size={self.pool_size}, " \
               f"built={self.built}>"
