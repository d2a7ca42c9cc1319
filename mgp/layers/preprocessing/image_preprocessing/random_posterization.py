"""RandomPosterization: each image's values kept to a random number of bits."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class RandomPosterization(BaseImagePreprocessingLayer):
    """In training, keep the `bits` highest bits of each value (on the 0-255 scale of
    `value_range`), `bits` drawn per image from `factor`; the identity at inference.

    Args:
        factor: bits in [1, 8]: a number b for [1, b), or (lower, upper).
        value_range: the images' (min, max).
        data_format: 'channels_last' or 'channels_first'.
        seed: an int makes the draws reproducible.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (1, 8)
    _MAX_FACTOR = 8

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._set_value_range(value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        from mgp import random
        n = self._batch_size(self._images_of(data))
        lo, hi = int(self.factor[0]), int(self.factor[1])
        if lo != hi:
            bits = ops.convert_to_numpy(random.randint(
                (n,), lo, hi, dtype="int32", seed=self.generator if seed is None else seed))
        else:
            bits = np.full((n,), lo)
        return {"shift_factor": (self._MAX_FACTOR - bits).astype(np.uint8)}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        shift = ops.convert_to_numpy(transformation["shift_factor"]).astype(np.uint8)
        shift = shift.reshape(-1, 1, 1, 1)
        x = self._transform_value_range(images, self.value_range, (0, 255), self.dtype)
        x = ops.convert_to_numpy(ops.cast(x, "uint8"))
        x = np.left_shift(np.right_shift(x, shift), shift).astype(self.dtype)
        return self._transform_value_range(ops.convert_to_tensor(x), (0, 255),
                                           self.value_range, self.dtype)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
