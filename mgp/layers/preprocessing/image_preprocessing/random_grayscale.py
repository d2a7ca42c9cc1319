"""RandomGrayscale: each image turned grey with probability `factor`."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_number,
)


class RandomGrayscale(BaseImagePreprocessingLayer):
    """Convert each image to greyscale (keeping its 3 channels) with probability `factor` in
    training; the identity at inference.

    Args:
        factor: the probability, in [0, 1] (0.5).
        data_format: 'channels_last' or 'channels_first'.
        seed: an int makes the choices reproducible.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        check_number("RandomGrayscale", "factor", factor)
        if not 0 <= factor <= 1:
            raise ValueError(f"RandomGrayscale: factor must be in [0, 1], got factor={factor}")
        self.factor = factor
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        images = self._images_of(data)
        apply = self._uniform((self._batch_size(images),), 0, 1, seed) < self.factor
        return apply.reshape(-1, 1, 1, 1)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        grey = ops.image.rgb_to_grayscale(images, data_format=self.data_format)
        axis = 1 if self.data_format == "channels_first" else -1
        grey = ops.repeat(grey, 3, axis=axis) if grey.shape[axis] == 1 else grey
        apply = np.asarray(ops.convert_to_numpy(transformation), bool).reshape(-1, 1, 1, 1)
        return ops.where(apply, grey, images)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
