"""RandomBrightness: a random offset added to each image."""
from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class RandomBrightness(BaseImagePreprocessingLayer):
    """Add to each image a random offset of factor * (max - min) of `value_range` (one per
    image, the same for every channel), then clip to `value_range`, in training; the identity
    at inference.

    Args:
        factor: f in [-1, 1] for offsets in [-f, f], or (lower, upper).
        value_range: the (min, max) of the images' values, (0, 255) by default.
        seed: an int makes the offsets reproducible.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, **kwargs)
        self._make_generator(seed)
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(f"RandomBrightness: value_range must be a list of two numbers, "
                             f"got value_range={value_range!r}")
        self.value_range = sorted(self._checked_value_range(value_range))

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        shape = (1, 1, 1) if images.ndim == 3 else (images.shape[0], 1, 1, 1)
        if not training:
            return {"rgb_delta": ops.convert_to_numpy(ops.zeros(shape))}
        delta = self._uniform(shape, self.factor[0], self.factor[1], seed)
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        delta = ops.reshape(ops.cast(transformation["rgb_delta"], images.dtype), (-1, 1, 1, 1))
        return ops.clip(images + delta, self.value_range[0], self.value_range[1])

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
