"""ZeroPadding1D, ZeroPadding2D, ZeroPadding3D: zeros around the spatial axes, one class,
`BaseZeroPadding`, parameterized by rank (and the base it shares with the cropping layers)."""
from mgp import ops
from mgp.layers._utils import check_rank, normalize_data_format, normalize_pairs, spatial_axes
from mgp.layers.base import Layer
from mgp.ops.windows import axes_words


class _SpatialAmounts(Layer):
    """A (before, after) amount per spatial axis, and the checks on the input's rank."""

    rank = None  # spatial axes, set by each concrete class

    def __init__(self, amounts, data_format, name_of_amounts, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        try:
            self.data_format = normalize_data_format(data_format)
            self._pairs = normalize_pairs(amounts, self.rank, name_of_amounts)
        except ValueError as e:
            raise ValueError(f"{layer}: {e}") from None

    @property
    def _axes(self):
        return spatial_axes(self.rank, self.data_format)

    def _check(self, shape):
        check_rank(self, shape, self.rank + 2, axes_words(self.rank, self.data_format))

    def _config_value(self):
        """Keras's form: the pair itself for 1-D layers, one pair per axis otherwise."""
        return self._pairs[0] if self.rank == 1 else self._pairs


class BaseZeroPadding(_SpatialAmounts):
    """Zeros added before and after each spatial axis.

    Args:
        padding: an int (every side), one int per spatial axis (both of its sides) or one
            (before, after) pair per axis; for ZeroPadding1D an int or one (before, after) pair.
        data_format: 'channels_last' (default when None) or 'channels_first'.
    """

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(padding, data_format, "padding", **kwargs)
        self.padding = self._config_value()

    def call(self, inputs, training=False):
        self._check(inputs.shape)
        widths = [(0, 0)] * inputs.ndim
        for axis, pair in zip(self._axes, self._pairs):
            widths[axis] = pair
        return ops.pad(inputs, widths)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        self._check(shape)
        for axis, (before, after) in zip(self._axes, self._pairs):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class ZeroPadding1D(BaseZeroPadding):
    """Zeros before and after the steps of (batch, steps, channels) (as `BaseZeroPadding`)."""

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(BaseZeroPadding):
    """Zeros around images (as `BaseZeroPadding`).

    Example:
        >>> ZeroPadding2D(((1, 0), (2, 2)))(np.ones((1, 3, 3, 1))).shape
        (1, 4, 7, 1)
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(BaseZeroPadding):
    """Zeros around volumes (as `BaseZeroPadding`)."""

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)
