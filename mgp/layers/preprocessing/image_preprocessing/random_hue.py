"""RandomHue: each image's hue shifted by a random amount."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


def _hsv_channel(images, index, data_format):
    key = (slice(None), index) if data_format == "channels_first" else (Ellipsis, index)
    return ops.get_item(images, key)


def _hsv_stack(h, s, v, data_format):
    return ops.stack([h, s, v], axis=1 if data_format == "channels_first" else -1)


class RandomHue(BaseImagePreprocessingLayer):
    """In training, rotate each RGB image's hue by a random fraction of the colour wheel:
    a factor drawn from `factor`, halved, with a random sign; the identity at inference.

    Args:
        factor: f in [0, 1] for shifts of up to f / 2 of a turn either way, or (lower, upper).
        value_range: the images' (min, max).
        data_format: 'channels_last' or 'channels_first'.
        seed: an int makes the shifts reproducible.
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = self._checked_value_range(value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        n = self._batch_size(self._images_of(data))
        sign = np.where(self._uniform((n,), 0, 1, seed) > 0.5, -1.0, 1.0).astype(np.float32)
        factor = self._uniform((n,), self.factor[0], self.factor[1], seed)
        return {"factor": sign * factor * np.float32(0.5)}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        x = self._transform_value_range(ops.cast(images, self.dtype), self.value_range, (0, 1))
        shift = ops.reshape(ops.cast(transformation["factor"], self.dtype), (-1, 1, 1))
        hsv = ops.image.rgb_to_hsv(x, data_format=self.data_format)
        h = _hsv_channel(hsv, 0, self.data_format) + shift
        h = ops.where(h > 1.0, h - 1.0, h)
        h = ops.where(h < 0.0, h + 1.0, h)
        hsv = _hsv_stack(h, _hsv_channel(hsv, 1, self.data_format),
                         _hsv_channel(hsv, 2, self.data_format), self.data_format)
        rgb = ops.clip(ops.image.hsv_to_rgb(hsv, data_format=self.data_format), 0, 1)
        return ops.cast(self._transform_value_range(rgb, (0, 1), self.value_range), self.dtype)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
