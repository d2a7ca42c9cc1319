"""RandomShear: each image sheared along x and y by random amounts."""
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


def _shear_factor(factor, name):
    """f in [0, 1] as (-f, f); a pair as it is, sorted, each in [-1, 1] (Keras's configs hold
    the (-f, f) pair, which Keras 3.15's own check refuses to read back)."""
    def check(v, low):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or \
                not low <= v <= 1:
            raise ValueError(f"RandomShear: {name} must be a number in [0, 1] or a pair of "
                             f"numbers in [-1, 1], got {name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"RandomShear: {name} must be a number or a pair of numbers, got "
                             f"{name}={factor!r}")
        for v in factor:
            check(v, -1)
        return tuple(sorted(factor))
    check(factor, 0)
    return -abs(factor), abs(factor)


class RandomShear(BaseImagePreprocessingLayer):
    """In training, shear each image: output pixel (x, y) takes the input at
    (x + sx * y, sy * x + y), the shear amounts drawn from `x_factor` and `y_factor` with one
    random sign per image; the identity at inference.

    Args:
        x_factor, y_factor: f in [0, 1] for [-f, f], or (lower, upper) in [-1, 1].
        interpolation, fill_mode, fill_value, data_format, seed: as in `RandomRotation`.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.x_factor = _shear_factor(x_factor, "x_factor")
        self.y_factor = _shear_factor(y_factor, "y_factor")
        check_choice("RandomShear", "fill_mode", fill_mode, FILL_MODES)
        check_choice("RandomShear", "interpolation", interpolation, INTERPOLATIONS)
        self.fill_mode, self.fill_value, self.interpolation = fill_mode, fill_value, interpolation
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        n = self._batch_size(images)
        sign = np.where(self._uniform((n, 1), 0, 1, seed) > 0.5, -1.0, 1.0).astype(np.float32)
        shear_y = self._uniform((n, 1), self.y_factor[0], self.y_factor[1], seed)
        shear_x = self._uniform((n, 1), self.x_factor[0], self.x_factor[1], seed)
        return {"shear_factor": np.concatenate([shear_x, shear_y], 1) * sign,
                "input_shape": tuple(images.shape)}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        s = ops.convert_to_numpy(transformation["shear_factor"]).astype(np.float32)
        ones, zeros = np.ones(len(s), np.float32), np.zeros(len(s), np.float32)
        matrix = np.stack([ones, s[:, 0], zeros, s[:, 1], ones, zeros, zeros, zeros], 1)
        return ops.image.affine_transform(images, matrix, interpolation=interpolation,
                                          fill_mode=self.fill_mode, fill_value=self.fill_value,
                                          data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "x_factor": self.x_factor, "y_factor": self.y_factor,
                "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "seed": self.seed, "fill_value": self.fill_value,
                "data_format": self.data_format}
