"""RandomColorJitter: random brightness, contrast, saturation and hue, one after another."""
from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from mgp.layers.preprocessing.image_preprocessing.random_brightness import (
    RandomBrightness,
)
from mgp.layers.preprocessing.image_preprocessing.random_contrast import RandomContrast
from mgp.layers.preprocessing.image_preprocessing.random_hue import RandomHue
from mgp.layers.preprocessing.image_preprocessing.random_saturation import (
    RandomSaturation,
)


class RandomColorJitter(BaseImagePreprocessingLayer):
    """In training, apply `RandomBrightness`, `RandomContrast`, `RandomSaturation` and
    `RandomHue` in that order, each whose factor is given (their draws from this layer's
    seed generator); the identity at inference.

    Args:
        value_range: the images' (min, max).
        brightness_factor, contrast_factor, saturation_factor, hue_factor: each layer's
            factor, or None to leave it out.
        seed: an int makes the draws reproducible.
        data_format: 'channels_last' or 'channels_first'.
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = self._checked_value_range(value_range)
        self.brightness_factor, self.contrast_factor = brightness_factor, contrast_factor
        self.saturation_factor, self.hue_factor = saturation_factor, hue_factor
        self._make_generator(seed)
        self._steps = []
        for cls, factor in ((RandomBrightness, brightness_factor),
                            (RandomContrast, contrast_factor),
                            (RandomSaturation, saturation_factor), (RandomHue, hue_factor)):
            if factor is not None:
                self._steps.append(cls(factor=factor, value_range=value_range, seed=seed))

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        x = ops.cast(images, self.dtype)
        for step in self._steps:
            draw = step.get_random_transformation(x, seed=self.generator)
            x = step.transform_images(x, draw)
        return ops.cast(x, self.dtype)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor,
                "seed": self.seed}
