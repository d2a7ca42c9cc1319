"""RandomGaussianBlur: images blurred by a Gaussian of random width, with a probability."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class RandomGaussianBlur(BaseImagePreprocessingLayer):
    """In training, blur each image with probability drawn from `factor` by a Gaussian on a
    `kernel_size` window (zero padding), its widths (x, y) drawn from `sigma` once per call,
    then clip to `value_range`; the inputs (as floats) at inference.

    Args:
        factor: the probability (1.0), or a (lower, upper) range it is drawn from.
        kernel_size: an odd int, or an (x, y) pair of odd ints.
        sigma: s for widths in [0, s], or (lower, upper).
        value_range: the images' (min, max).
        data_format: 'channels_last' or 'channels_first'.
        seed: an int makes the draws reproducible.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        sizes = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
        if len(sizes) != 2 or any(isinstance(k, bool) or not isinstance(k, (int, float)) or
                                  not k >= 1 or k % 2 != 1 for k in sizes):  # (NaN included)
            raise ValueError(f"RandomGaussianBlur: kernel_size must be an odd number or a pair "
                             f"of them, got kernel_size={kernel_size!r}")
        self.kernel_size = tuple(sizes)
        saved = self.factor
        self._set_factor(sigma)
        self.sigma, self.factor = self.factor, saved
        self.value_range = self._checked_value_range(value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        n = self._batch_size(self._images_of(data))
        probability = self._uniform((n,), self.factor[0], self.factor[1], seed)
        apply = self._uniform((n,), 0.0, 1.0, seed) < probability
        blur = self._uniform((2,), self.sigma[0], self.sigma[1], seed) + np.float32(1e-6)
        return {"should_apply_blur": apply, "blur_factor": blur}

    def transform_images(self, images, transformation=None, training=True):
        x = ops.cast(images, self.dtype)
        if not training or transformation is None:
            return x
        sigma = [float(v) for v in ops.convert_to_numpy(transformation["blur_factor"])]
        blurred = ops.image.gaussian_blur(x, kernel_size=self.kernel_size, sigma=sigma,
                                          data_format=self.data_format)
        apply = ops.convert_to_numpy(transformation["should_apply_blur"]).reshape(-1, 1, 1, 1)
        return ops.clip(ops.where(apply, blurred, x), self.value_range[0], self.value_range[1])

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "kernel_size": self.kernel_size,
                "sigma": self.sigma, "value_range": self.value_range, "seed": self.seed}
