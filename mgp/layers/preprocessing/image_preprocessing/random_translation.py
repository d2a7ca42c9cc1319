"""RandomTranslation: each image shifted by random fractions of its height and width."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_choice,
)
from mgp.layers.preprocessing.image_preprocessing.random_rotation import (
    FILL_MODES,
    INTERPOLATIONS,
)
from mgp.layers.preprocessing.image_preprocessing.random_zoom import parse_factor


class RandomTranslation(BaseImagePreprocessingLayer):
    """Shift each image by fractions of its size drawn from `height_factor` (down for
    positive values) and `width_factor` (right) in training; the identity at inference.

    Args:
        height_factor, width_factor: f (in [-1, 1]) for [-f, f], or (lower, upper).
        fill_mode, interpolation, seed, fill_value, data_format: as in `RandomRotation`.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_lower, self.height_upper = parse_factor("RandomTranslation",
                                                            "height_factor", height_factor,
                                                            False)
        self.width_lower, self.width_upper = parse_factor("RandomTranslation", "width_factor",
                                                          width_factor, False)
        check_choice("RandomTranslation", "fill_mode", fill_mode, FILL_MODES)
        check_choice("RandomTranslation", "interpolation", interpolation, INTERPOLATIONS)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        n = self._batch_size(images)
        h, w = self._spatial(images.shape)
        dy = self._uniform((n, 1), self.height_lower, self.height_upper, seed) * h
        dx = self._uniform((n, 1), self.width_lower, self.width_upper, seed) * w
        return {"translations": np.concatenate([dx, dy], 1).astype(np.float32),
                "input_shape": tuple(images.shape)}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        t = ops.convert_to_numpy(transformation["translations"]).astype(np.float32)
        ones, zeros = np.ones((len(t), 1), np.float32), np.zeros((len(t), 1), np.float32)
        matrix = np.concatenate([ones, zeros, -t[:, :1], zeros, ones, -t[:, 1:], zeros, zeros],
                                1)
        return ops.image.affine_transform(images, matrix, interpolation=interpolation,
                                          fill_mode=self.fill_mode, fill_value=self.fill_value,
                                          data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value, "data_format": self.data_format}
