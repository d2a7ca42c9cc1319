"""Equalization: histogram equalization of each channel."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_size,
)


class Equalization(BaseImagePreprocessingLayer):
    """Spread each channel's values so that their histogram is about flat: every value is
    replaced by its cumulative frequency, on the 0-255 scale of `value_range`, in training; the
    identity at inference. As in Keras, a channel's histogram is taken over the whole batch.

    Args:
        value_range: the images' (min, max).
        bins: the histogram's bins (256).
        data_format: 'channels_last' or 'channels_first'.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = check_size("Equalization", "bins", bins)
        self._set_value_range(value_range)

    def _scale(self, values, source, target):
        scale = (target[1] - target[0]) / (source[1] - source[0])
        return values * np.float32(scale) + np.float32(target[0] - source[0] * scale)

    def _equalize(self, channel):
        """One channel (all images of the batch): a host float32 array."""
        channel = self._scale(channel, self.value_range, (0, 255))
        index = np.clip((channel * (self.bins - 1) / 255).astype(np.int32), 0, self.bins - 1)
        hist = np.bincount(index.reshape(-1), minlength=self.bins)
        if np.count_nonzero(hist) <= 1:
            return self._scale(channel, (0, 255), self.value_range)
        cdf = np.cumsum(hist)
        cdf_min = cdf[np.nonzero(cdf)[0][0]]
        denominator = max(cdf[-1] - cdf_min, 1)
        table = np.clip(np.round(((cdf - cdf_min) * 255 / denominator).astype(np.float32)),
                        0, 255)
        positions = np.clip(channel / np.float32(255.0) * (self.bins - 1), 0, self.bins - 1)
        out = table[positions.astype(np.int32)]
        return self._scale(out, (0, 255), self.value_range)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        x = ops.convert_to_numpy(ops.cast(images, self.dtype))
        axis = -3 if self.data_format == "channels_first" else -1
        channels = [self._equalize(np.take(x, i, axis=axis)) for i in range(x.shape[axis])]
        return ops.convert_to_tensor(np.stack(channels, axis=axis).astype(self.dtype))

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "bins": self.bins, "value_range": self.value_range}
