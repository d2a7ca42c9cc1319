"""Solarization: values above a random threshold inverted, after a random addition."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class Solarization(BaseImagePreprocessingLayer):
    """In training, add to each image a value drawn from `addition_factor` * 255, clip to
    [0, 255], and invert (255 - v) the values at or above a threshold drawn from
    `threshold_factor` * 255 (all on the 0-255 scale of `value_range`); the identity at
    inference.

    Args:
        addition_factor, threshold_factor: f in [0, 1] for [0, f], or (lower, upper).
        value_range: the images' (min, max).
        seed: an int makes the draws reproducible.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self._make_generator(seed)
        self.addition_factor = self._unit_factor(addition_factor, "addition_factor")
        self.threshold_factor = self._unit_factor(threshold_factor, "threshold_factor")
        self._set_value_range(value_range)

    @staticmethod
    def _unit_factor(factor, name):
        values = factor if isinstance(factor, (tuple, list)) else [factor]
        if len(values) not in (1, 2) or any(
                isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or
                not 0 <= v <= 1 for v in values):
            raise ValueError(f"Solarization: {name} must be a number or a pair of numbers in "
                             f"[0, 1], got {name}={factor!r}")
        return tuple(sorted(values)) if len(values) == 2 else (0, values[0])

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = (self._batch_size(images), 1, 1, 1)
        return {"additions": self._uniform(shape, self.addition_factor[0],
                                           self.addition_factor[1] * 255, seed),
                "thresholds": self._uniform(shape, self.threshold_factor[0],
                                            self.threshold_factor[1] * 255, seed)}

    def transform_images(self, images, transformation, training=True):
        x = ops.cast(images, self.dtype)
        if not training or transformation is None:
            return x
        x = self._transform_value_range(x, self.value_range, (0, 255), self.dtype)
        out = ops.clip(x + ops.cast(transformation["additions"], self.dtype), 0, 255)
        out = ops.where(out < ops.cast(transformation["thresholds"], self.dtype), out,
                        255 - out)
        return self._transform_value_range(out, (0, 255), self.value_range, self.dtype)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "seed": self.seed,
                "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor, "value_range": self.value_range}
