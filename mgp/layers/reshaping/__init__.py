"""Reshaping layers, as Keras groups them: Flatten, Reshape, Permute and RepeatVector; and, one
class each parameterized by rank, up-sampling, zero-padding and cropping."""
from mgp.layers.reshaping.cropping import Cropping1D, Cropping2D, Cropping3D  # noqa: F401
from mgp.layers.reshaping.flatten import Flatten  # noqa: F401
from mgp.layers.reshaping.permute import Permute, RepeatVector  # noqa: F401
from mgp.layers.reshaping.reshape import Reshape  # noqa: F401
from mgp.layers.reshaping.up_sampling import UpSampling1D, UpSampling2D, UpSampling3D  # noqa: F401
from mgp.layers.reshaping.zero_padding import (  # noqa: F401
    ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)
