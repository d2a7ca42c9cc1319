"""RandomErasing: a random box of each image filled with noise or a value."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from mgp.layers.preprocessing.image_preprocessing.cut_mix import box_masks


class RandomErasing(BaseImagePreprocessingLayer):
    """In training, with a probability drawn from `factor`, fill a random box of each image
    (its sides the square roots of fractions drawn from `scale`, times the image's) with
    `fill_value`, or with Gaussian noise times the top of `value_range` when None (clipped to
    `value_range`); the inputs (as floats) at inference.

    Args:
        factor: the probability (1.0), or a (lower, upper) range it is drawn from.
        scale: the (lower, upper) range of the box's area fractions, in [0, 1].
        fill_value: a number, three numbers (one per channel), or None (noise).
        value_range: the images' (min, max).
        seed: an int makes the draws reproducible.
        data_format: 'channels_last' or 'channels_first'.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(scale)
        self.scale = self.factor
        self._set_factor(factor)
        if fill_value is not None and not (
                isinstance(fill_value, (int, float)) and not isinstance(fill_value, bool) or
                isinstance(fill_value, (tuple, list)) and len(fill_value) == 3):
            raise ValueError(f"RandomErasing: fill_value must be a number, three numbers or "
                             f"None, got fill_value={fill_value!r}")
        self.fill_value = fill_value
        self.value_range = self._checked_value_range(value_range)
        self._make_generator(seed)

    def _crop_bounds(self, n, length, ratio, seed):
        crop = (ratio * length).astype(np.float32)
        start = self._uniform((n,), 0, 1, seed) * (length - crop)
        return start, start + crop

    def get_random_transformation(self, data, training=True, seed=None):
        from mgp import random
        if not training:
            return None
        images = self._images_of(data)
        shape = tuple(images.shape) if images.ndim == 4 else (1,) + tuple(images.shape)
        n = shape[0]
        h, w = self._spatial(shape)
        ratios = np.sqrt(self._uniform((n, 2), self.scale[0], self.scale[1], seed))
        x0, x1 = self._crop_bounds(n, w, ratios[:, 0], seed)
        y0, y1 = self._crop_bounds(n, h, ratios[:, 1], seed)
        masks = box_masks(shape, (x0, x1, y0, y1), self.data_format)
        probability = self._uniform((n,), self.factor[0], self.factor[1], seed)
        apply = self._uniform((n,), 0.0, 1.0, seed) < probability
        if self.fill_value is None:
            fill = ops.convert_to_numpy(random.normal(
                shape, seed=self.generator if seed is None else seed)) * self.value_range[1]
        else:
            fill = np.broadcast_to(np.asarray(self.fill_value, np.float32), shape)
        fill = np.clip(fill, self.value_range[0], self.value_range[1]).astype(np.float32)
        return {"apply_erasing": apply, "batch_masks": masks, "fill_value": fill}

    def transform_images(self, images, transformation=None, training=True):
        x = ops.cast(images, self.dtype)
        if not training:
            return x
        masks = np.asarray(ops.convert_to_numpy(transformation["batch_masks"]), bool)
        apply = ops.convert_to_numpy(transformation["apply_erasing"]).reshape(-1, 1, 1, 1)
        fill = ops.cast(transformation["fill_value"], self.dtype)
        return ops.where(apply, ops.where(masks, fill, x), x)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "fill_value": self.fill_value, "value_range": self.value_range,
                "seed": self.seed}
