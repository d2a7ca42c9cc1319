"""Cropping1D, Cropping2D, Cropping3D: cells cut off the spatial axes, one class,
`BaseCropping`, parameterized by rank."""
from mgp.layers._utils import describe
from mgp.layers.reshaping.zero_padding import _SpatialAmounts


class BaseCropping(_SpatialAmounts):
    """Cells cut off the start and end of each spatial axis.

    Args:
        cropping: an int (every side), one int per spatial axis (both of its sides) or one
            (before, after) pair per axis; for Cropping1D an int or one (before, after) pair.
        data_format: 'channels_last' (default when None) or 'channels_first' (Cropping1D is
            channels-last only, as in Keras).
    """

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(cropping, data_format, "cropping", **kwargs)
        self.cropping = self._config_value()

    def call(self, inputs, training=False):
        shape = tuple(inputs.shape)
        self.compute_output_shape(shape)
        index = [slice(None)] * len(shape)
        for axis, (before, after) in zip(self._axes, self._pairs):
            index[axis] = slice(before, shape[axis] - after)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        self._check(shape)
        for axis, (before, after) in zip(self._axes, self._pairs):
            if shape[axis] is None:
                continue
            if before + after >= shape[axis]:
                raise ValueError(f"{describe(self)}: cropping {self._pairs} must leave at least "
                                 f"one cell of each spatial axis, got inputs of shape "
                                 f"{tuple(input_shape)}")
            shape[axis] -= before + after
        return tuple(shape)

    def get_config(self):
        config = {**super().get_config(), "cropping": self.cropping}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class Cropping1D(BaseCropping):
    """Cut steps off the start and end of (batch, steps, channels) (as `BaseCropping`)."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, None, **kwargs)


class Cropping2D(BaseCropping):
    """Cut rows and columns off images (as `BaseCropping`).

    Example:
        >>> Cropping2D(((2, 2), (4, 4)))(np.ones((1, 28, 28, 3))).shape
        (1, 24, 20, 3)
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(BaseCropping):
    """Cut cells off volumes (as `BaseCropping`)."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)
