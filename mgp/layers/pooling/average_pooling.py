"""AveragePooling1D, AveragePooling2D, AveragePooling3D: the mean over each window
(`BasePooling`). Keras requires pool_size; mgp defaults it as the max pools do."""
from mgp.layers.pooling.base_pooling import BasePooling


class AveragePooling1D(BasePooling):
    """Mean over windows of `pool_size` steps (as `BasePooling`)."""

    rank, pool_mode = 1, "average"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class AveragePooling2D(BasePooling):
    """Mean over each pool_size window of images ('same' padding averages only the real
    inputs; as `BasePooling`)."""

    rank, pool_mode = 2, "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


class AveragePooling3D(BasePooling):
    """Mean over each pool_size window of volumes (as `BasePooling`)."""

    rank, pool_mode = 3, "average"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)


# Keras's aliases
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
