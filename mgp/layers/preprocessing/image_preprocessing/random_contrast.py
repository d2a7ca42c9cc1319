"""RandomContrast: each image's contrast scaled by a random factor about its mean."""
from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class RandomContrast(BaseImagePreprocessingLayer):
    """Scale each image's deviation from its (per-channel) mean by a factor drawn from
    [1 - lower, 1 + upper], then clip to `value_range`, in training; the identity at inference.

    Args:
        factor: f in [0, 1] for [1 - f, 1 + f], or (lower, upper).
        value_range: the (min, max) of the images' values, (0, 255) by default.
        seed: an int makes the factors reproducible.
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(**kwargs)
        self._set_factor(factor)
        self.value_range = self._checked_value_range(value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        shape = (1, 1, 1) if images.ndim == 3 else (images.shape[0], 1, 1, 1)
        if not training:
            return {"contrast_factor": ops.convert_to_numpy(ops.zeros(shape))}
        return {"contrast_factor": self._uniform(shape, 1.0 - self.factor[0],
                                                 1.0 + self.factor[1], seed)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        factor = ops.cast(transformation["contrast_factor"], self.dtype)
        h, w = (-2, -1) if self.data_format == "channels_first" else (-3, -2)
        x = ops.cast(images, self.dtype)
        mean = ops.mean(ops.mean(x, axis=h, keepdims=True), axis=w, keepdims=True)
        out = (x - mean) * ops.reshape(factor, (-1, 1, 1, 1)) + mean
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
