"""RandomRotation: each image rotated about its centre by a random angle."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_choice,
)

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


class RandomRotation(BaseImagePreprocessingLayer):
    """Rotate each image by an angle drawn from `factor` (fractions of a full turn, so 0.1 is
    up to 36 degrees) in training; the identity at inference.

    Args:
        factor: f (angles in [-f, f] turns) or (lower, upper); positive is counter-clockwise.
        fill_mode: how pixels from outside the image are filled: 'reflect', 'wrap',
            'constant' (with `fill_value`) or 'nearest'.
        interpolation: 'bilinear' or 'nearest'.
        seed: an int makes the rotations reproducible.
        fill_value: the value for fill_mode='constant'.
        data_format: 'channels_last' or 'channels_first'.
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        check_choice("RandomRotation", "fill_mode", fill_mode, FILL_MODES)
        check_choice("RandomRotation", "interpolation", interpolation, INTERPOLATIONS)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        n = self._batch_size(images)
        h, w = self._spatial(images.shape)
        angle = self._uniform((n,), self.factor[0] * 360.0, self.factor[1] * 360.0, seed)
        zeros, ones = np.zeros(n, np.float32), np.ones(n, np.float32)
        matrix = self._compute_affine_matrix(0.5, 0.5, angle, zeros, zeros, ones, zeros, zeros,
                                             h, w)
        return {"angle": angle, "rotation_matrix": matrix, "image_height": h,
                "image_width": w, "batch_size": n}

    def _transform_images(self, images, transformation, interpolation):
        return ops.image.affine_transform(
            images, ops.convert_to_numpy(transformation["rotation_matrix"]).reshape(-1, 8),
            interpolation=interpolation, fill_mode=self.fill_mode, fill_value=self.fill_value,
            data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "data_format": self.data_format,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "interpolation": self.interpolation, "seed": self.seed}
