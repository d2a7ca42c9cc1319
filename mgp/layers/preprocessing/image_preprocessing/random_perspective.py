"""RandomPerspective: each image warped by moving its corners at random."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_choice,
    check_number,
)
from mgp.layers.preprocessing.image_preprocessing.random_rotation import INTERPOLATIONS


class RandomPerspective(BaseImagePreprocessingLayer):
    """In training, with a probability drawn from `factor`, warp each image by the projective
    transform that moves its four corners by random fractions (up to `scale` / 2) of their
    coordinates; the identity at inference.

    Args:
        factor: the probability (1.0), or a (lower, upper) range it is drawn from.
        scale: the largest corner displacement, in [0, 1].
        interpolation: 'bilinear' or 'nearest'.
        fill_value: the value of pixels from outside the image.
        seed: an int makes the draws reproducible.
        data_format: 'channels_last' or 'channels_first'.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0,
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        check_number("RandomPerspective", "scale", scale)
        check_number("RandomPerspective", "fill_value", fill_value)
        if not 0.0 <= scale <= 1.0:
            raise ValueError(f"RandomPerspective: scale must be in [0, 1], got scale={scale}")
        check_choice("RandomPerspective", "interpolation", interpolation, INTERPOLATIONS)
        self.scale, self.fill_value, self.interpolation = scale, fill_value, interpolation
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        n = self._batch_size(images)
        h, w = self._spatial(images.shape)
        probability = self._uniform((n,), self.factor[0], self.factor[1], seed)
        apply = self._uniform((n,), 0.0, 1.0, seed) < probability
        shift = self._uniform((n, 4, 2), -0.5 * self.scale, 0.5 * self.scale, seed)
        start = np.repeat(np.array([[[0.0, 0.0], [w - 1, 0.0], [0.0, h - 1], [w - 1, h - 1]]],
                                   np.float32), n, axis=0)
        return {"apply_perspective": apply, "start_points": start,
                "end_points": start + start * shift, "input_shape": tuple(images.shape)}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        out = ops.image.perspective_transform(
            images, ops.convert_to_numpy(transformation["start_points"]),
            ops.convert_to_numpy(transformation["end_points"]), interpolation=interpolation,
            fill_value=self.fill_value, data_format=self.data_format)
        apply = ops.convert_to_numpy(transformation["apply_perspective"]).reshape(-1, 1, 1, 1)
        return ops.where(apply, out, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value,
                "seed": self.seed}
