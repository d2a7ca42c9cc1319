"""AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D: pooling to a fixed output size,
whatever the input's (`mgp.ops.adaptive_average_pool` / `adaptive_max_pool`, PyTorch's bins)."""
from mgp import ops
from mgp.layers._utils import (
    check_rank,
    describe,
    floating,
    normalize_data_format,
    normalize_tuple,
)
from mgp.layers.base import Layer
from mgp.ops.windows import axes_words


class BaseAdaptivePooling(Layer):
    """The mean or max over each of `output_size` bins per spatial axis; bin i of n inputs into
    o outputs covers [floor(i n / o), ceil((i + 1) n / o)), so bins overlap when o does not
    divide n.

    Args:
        output_size: an int (every spatial axis) or one int per spatial axis.
        data_format: 'channels_last' (default when None) or 'channels_first'.
    """

    rank = None  # spatial axes, set by each concrete class
    pool_mode = None  # "max" or "average"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.output_size = normalize_tuple(output_size, self.rank, f"{layer}: output_size")
        try:
            self.data_format = normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f"{layer}: {e}") from None

    def call(self, inputs):
        x = floating(inputs, self.dtype)
        self.compute_output_shape(x.shape)  # checked here to name the layer in the error
        sizes = x.shape[2:] if self.data_format == "channels_first" else x.shape[1:-1]
        if 0 in sizes:
            raise ValueError(f"{describe(self)}: inputs have an empty spatial axis (shape "
                             f"{tuple(x.shape)})")
        pool = ops.adaptive_max_pool if self.pool_mode == "max" else ops.adaptive_average_pool
        return pool(x, self.output_size, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        check_rank(self, shape, self.rank + 2, axes_words(self.rank, self.data_format))
        if self.data_format == "channels_first":
            return shape[:2] + self.output_size
        return shape[:1] + self.output_size + shape[-1:]

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}


def _layer(name, rank, mode, what):
    return type(name, (BaseAdaptivePooling,), {
        "rank": rank, "pool_mode": mode,
        "__doc__": f"The {what} over `output_size` bins of each of {rank} spatial axes "
                   f"(as `BaseAdaptivePooling`)."})


AdaptiveAveragePooling1D = _layer("AdaptiveAveragePooling1D", 1, "average", "mean")
AdaptiveAveragePooling2D = _layer("AdaptiveAveragePooling2D", 2, "average", "mean")
AdaptiveAveragePooling3D = _layer("AdaptiveAveragePooling3D", 3, "average", "mean")
AdaptiveMaxPooling1D = _layer("AdaptiveMaxPooling1D", 1, "max", "maximum")
AdaptiveMaxPooling2D = _layer("AdaptiveMaxPooling2D", 2, "max", "maximum")
AdaptiveMaxPooling3D = _layer("AdaptiveMaxPooling3D", 3, "max", "maximum")
