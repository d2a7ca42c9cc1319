"""RandomSaturation: each image's saturation scaled by a random factor."""
from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from mgp.layers.preprocessing.image_preprocessing.random_hue import (
    _hsv_channel,
    _hsv_stack,
)

EPSILON = 1e-7


class RandomSaturation(BaseImagePreprocessingLayer):
    """In training, scale each RGB image's saturation by f / (1 - f), f drawn from `factor`
    (0.5 leaves it; 0 makes the image grey; near 1 saturates it fully), as Keras does it; the
    identity at inference.

    Args:
        factor: f for draws from [-f, f] (a negative draw clips the saturation to the bottom
            of `value_range`: grey, as in Keras), or (lower, upper).
        value_range: the images' (min, max); the saturation is clipped to it, as in Keras.
        data_format: 'channels_last' or 'channels_first'.
        seed: an int makes the draws reproducible.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._set_value_range(value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        n = self._batch_size(self._images_of(data))
        f = self._uniform((n,), self.factor[0], self.factor[1], seed)
        return {"factor": f / (1 - f + EPSILON)}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        scale = ops.reshape(ops.cast(transformation["factor"], self.dtype), (-1, 1, 1))
        hsv = ops.image.rgb_to_hsv(images, data_format=self.data_format)
        s = ops.clip(_hsv_channel(hsv, 1, self.data_format) * scale, self.value_range[0],
                     self.value_range[1])
        hsv = _hsv_stack(_hsv_channel(hsv, 0, self.data_format), s,
                         _hsv_channel(hsv, 2, self.data_format), self.data_format)
        return ops.image.hsv_to_rgb(hsv, data_format=self.data_format)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
