"""AutoContrast: each image stretched so its values span the whole value range."""
from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class AutoContrast(BaseImagePreprocessingLayer):
    """Stretch each channel of each image linearly so that its lowest value becomes the
    bottom of `value_range` and its highest the top, in training and at inference (a constant
    channel is left as it is). The outputs are floats, integer images too (as in Keras).

    Args:
        value_range: the images' (min, max).
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self._set_value_range(value_range)

    def transform_images(self, images, transformation=None, training=True):
        original = images
        x = ops.cast(self._transform_value_range(images, self.value_range, (0, 255), self.dtype),
                     self.dtype)
        low = ops.min(x, axis=(1, 2), keepdims=True)
        high = ops.max(x, axis=(1, 2), keepdims=True)
        with_range = ops.convert_to_numpy(high - low) > 0
        span = ops.where(with_range, high - low, 1.0)
        scale = 255.0 / span
        out = ops.clip(x * scale - low * scale, 0.0, 255.0)
        out = self._transform_value_range(out, (0, 255), self.value_range, self.dtype)
        return ops.where(with_range, out, ops.cast(original, self.dtype))

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}
