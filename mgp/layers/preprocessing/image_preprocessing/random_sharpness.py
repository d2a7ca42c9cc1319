"""RandomSharpness: each image sharpened or blurred by a random amount."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class RandomSharpness(BaseImagePreprocessingLayer):
    """In training, blend each image with a smoothed copy (the 3x3 kernel with 5/13 at the
    centre and 1/13 around it, zero padding): image + (1 - 2 f) * (smoothed - image), f drawn
    from `factor` (0.5 leaves the image, 0 blurs, 1 sharpens), then clip to `value_range`; the
    identity at inference.

    Args:
        factor: f in [0, 1] for [0, f], or (lower, upper).
        value_range: the images' (min, max).
        data_format: 'channels_last' or 'channels_first'.
        seed: an int makes the draws reproducible.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._set_value_range(value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        n = self._batch_size(self._images_of(data))
        return {"factor": self._uniform((n,), self.factor[0], self.factor[1], seed)}

    def transform_images(self, images, transformation=None, training=True):
        x = ops.cast(images, self.dtype)
        if not training:
            return x
        if self.data_format == "channels_first":
            x = ops.swapaxes(x, -3, -1)
        factor = ops.reshape(ops.cast(transformation["factor"], self.dtype) * 2, (-1, 1, 1, 1))
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = np.array([[a, a, a], [a, b, a], [a, a, a]], dtype=self.dtype)
        kernel = np.tile(kernel.reshape(3, 3, 1, 1), (1, 1, x.shape[-1], 1))
        smoothed = ops.depthwise_conv(x, kernel, strides=1, padding="same",
                                      data_format="channels_last")
        x = ops.clip(x + (1.0 - factor) * (smoothed - x), self.value_range[0],
                     self.value_range[1])
        if self.data_format == "channels_first":
            x = ops.swapaxes(x, -3, -1)
        return x

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
