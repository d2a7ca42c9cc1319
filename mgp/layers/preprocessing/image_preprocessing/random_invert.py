"""RandomInvert: each image's values flipped (max - value) with a random probability."""
from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class RandomInvert(BaseImagePreprocessingLayer):
    """Replace each image by `value_range[1] - image` with a probability drawn from `factor`,
    in training; the identity at inference.

    Args:
        factor: the probability (1.0), or a (lower, upper) range it is drawn from per image.
        value_range: the images' (min, max).
        seed: an int makes the choices reproducible.
        data_format: 'channels_last' or 'channels_first'.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = self._checked_value_range(value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        n = self._batch_size(self._images_of(data))
        probability = self._uniform((n,), self.factor[0], self.factor[1], seed)
        return {"apply_inversion": self._uniform((n,), 0, 1, seed) < probability}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        x = ops.cast(images, self.dtype)
        apply = ops.convert_to_numpy(transformation["apply_inversion"]).reshape(-1, 1, 1, 1)
        return ops.where(apply, self.value_range[1] - x, x)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
