"""UpSampling1D, UpSampling2D, UpSampling3D: repeat each cell `size` times along each spatial
axis (nearest neighbour), or, in 2-D, interpolate bilinearly; one class, `BaseUpSampling`."""
import numpy as np

from mgp import ops
from mgp.layers._utils import check_rank, normalize_data_format, normalize_tuple, spatial_axes
from mgp.layers.base import Layer
from mgp.ops.windows import axes_words


class BaseUpSampling(Layer):
    """Each spatial axis made `size` times longer.

    Args:
        size: an int or one per spatial axis.
        data_format: 'channels_last' (default when None) or 'channels_first'.
        interpolation (2-D only): 'nearest' (each cell repeated) or 'bilinear' (half-pixel
            centres, as Keras's `ops.image.resize`).
    """

    rank = None  # spatial axes, set by each concrete class

    def __init__(self, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.size = normalize_tuple(size, self.rank, f"{layer}: size")
        try:
            self.data_format = normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f"{layer}: {e}") from None
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{layer}: interpolation must be 'nearest' or 'bilinear' (mgp has "
                             f"not got Keras's bicubic and lanczos yet), got {interpolation!r}")

    @property
    def _axes(self):
        return spatial_axes(self.rank, self.data_format)

    def call(self, inputs, training=False):
        self.compute_output_shape(inputs.shape)
        if self.interpolation == "bilinear":
            return self._bilinear(inputs)
        # each spatial axis followed by a new axis of `size` (a broadcast view), merged into it
        shape = list(inputs.shape)
        spread = list(shape)
        for axis, factor in sorted(zip(self._axes, self.size), reverse=True):
            shape.insert(axis + 1, 1)
            spread.insert(axis + 1, factor)
        out = self.compute_output_shape(inputs.shape)
        return ops.reshape(ops.broadcast_to(ops.reshape(inputs, shape), spread), out)

    def _bilinear(self, x):
        """Interpolation along each spatial axis in turn, as one matrix product: the output's
        cells are fixed mixtures of at most two neighbouring input cells."""
        for axis, factor in zip(self._axes, self.size):
            shape = x.shape
            n = shape[axis]
            weights = ops.convert_to_tensor(_linear_weights(n, factor, x.dtype))
            lead = int(np.prod(shape[:axis]))
            y = ops.matmul(weights, ops.reshape(x, (lead, n, -1)))  # (lead, n * factor, rest)
            x = ops.reshape(y, shape[:axis] + (n * factor,) + shape[axis + 1:])
        return x

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        check_rank(self, shape, self.rank + 2, axes_words(self.rank, self.data_format))
        for axis, factor in zip(self._axes, self.size):
            shape[axis] = None if shape[axis] is None else shape[axis] * factor
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


def _linear_weights(n, factor, dtype):
    """(n * factor, n): each output cell's weights over the input cells for linear
    interpolation with half-pixel centres (output cell j sits at input coordinate
    (j + 0.5) / factor - 0.5, clamped to the first cell), as PyTorch's and TensorFlow's
    bilinear resize without antialiasing."""
    out = np.arange(n * factor)
    src = np.maximum((out + 0.5) / factor - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(int), n - 1)
    high = np.minimum(low + 1, n - 1)
    frac = src - low
    weights = np.zeros((n * factor, n), dtype=np.float64)
    np.add.at(weights, (out, low), 1 - frac)
    np.add.at(weights, (out, high), frac)
    return weights.astype(dtype)


class UpSampling1D(BaseUpSampling):
    """Repeat each step `size` times: (batch, steps, features) -> (batch, steps * size,
    features).

    Args:
        size: a positive int.
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        if not isinstance(size, int) or isinstance(size, bool):
            raise ValueError(f"UpSampling1D: size must be a positive integer, got {size!r}")
        super().__init__(size, None, "nearest", **kwargs)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size[0]
        del config["data_format"]
        return config


class UpSampling2D(BaseUpSampling):
    """Images made `size` times larger, by repeating pixels or bilinear interpolation (as
    `BaseUpSampling`).

    Example:
        >>> UpSampling2D(2, interpolation="bilinear")(np.zeros((1, 4, 4, 3))).shape
        (1, 8, 8, 3)
    """

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(BaseUpSampling):
    """Volumes made `size` times larger by repeating cells (as `BaseUpSampling`)."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)

