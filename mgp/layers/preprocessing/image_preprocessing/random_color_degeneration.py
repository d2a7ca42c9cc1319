"""RandomColorDegeneration: each image blended towards its greyscale version."""
from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class RandomColorDegeneration(BaseImagePreprocessingLayer):
    """In training, move each RGB image a random fraction (drawn from `factor`) of the way to
    its greyscale version, then clip to `value_range`; the identity at inference.

    Args:
        factor: f in [0, 1] for [0, f], or (lower, upper).
        value_range: the images' (min, max).
        data_format: 'channels_last' or 'channels_first'.
        seed: an int makes the draws reproducible.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._set_value_range(value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        n = self._batch_size(self._images_of(data))
        return {"factor": self._uniform((n, 1, 1, 1), self.factor[0], self.factor[1], seed)}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        x = ops.cast(images, self.dtype)
        f = ops.reshape(ops.cast(transformation["factor"], self.dtype), (-1, 1, 1, 1))
        grey = ops.image.rgb_to_grayscale(x, data_format=self.data_format)
        return ops.clip(x + f * (grey - x), self.value_range[0], self.value_range[1])

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
