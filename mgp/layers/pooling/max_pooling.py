"""MaxPooling1D, MaxPooling2D, MaxPooling3D: the maximum over each window (`BasePooling`)."""
from mgp.layers.pooling.base_pooling import BasePooling


class MaxPooling1D(BasePooling):
    """Max over windows of `pool_size` steps of (batch, steps, channels) (as `BasePooling`)."""

    rank, pool_mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class MaxPooling2D(BasePooling):
    """Max over each pool_size window of images (as `BasePooling`).

    Example:
        >>> MaxPooling2D()(np.zeros((8, 26, 26, 32))).shape
        (8, 13, 13, 32)
    """

    rank, pool_mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class MaxPooling3D(BasePooling):
    """Max over each pool_size window of volumes (as `BasePooling`)."""

    rank, pool_mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


# Keras's aliases
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
