"""RandomFlip: each image flipped left-right and/or upside down with probability 1/2."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_choice,
)

MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(BaseImagePreprocessingLayer):
    """Flip each image with probability 1/2 in training; the identity at inference.

    Args:
        mode: 'horizontal' (left-right), 'vertical' (upside down) or 'horizontal_and_vertical'
            (both, decided by one draw per image, as Keras does).
        seed: an int makes the flips reproducible.
        data_format: 'channels_last' or 'channels_first'.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        check_choice("RandomFlip", "mode", mode, MODES)
        self.mode = mode
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = (1, 1, 1) if images.ndim == 3 else (images.shape[0], 1, 1, 1)
        return {"flips": self._uniform(shape, 0.0, 1.0, seed) <= 0.5,
                "input_shape": tuple(images.shape)}

    def transform_images(self, images, transformation, training=True):
        x = ops.cast(images, self.dtype)
        if not training or transformation is None:
            return x
        flips = np.asarray(ops.convert_to_numpy(transformation["flips"]), bool)
        flips = flips.reshape((-1, 1, 1, 1))
        width, height = (-1, -2) if self.data_format == "channels_first" else (-2, -3)
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            x = ops.where(flips, ops.flip(x, width), x)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            x = ops.where(flips, ops.flip(x, height), x)
        return x

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "mode": self.mode,
                "data_format": self.data_format}
