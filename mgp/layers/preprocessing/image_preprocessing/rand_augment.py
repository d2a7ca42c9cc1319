"""RandAugment: a few augmentations picked at random from a fixed list, each call."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.auto_contrast import AutoContrast
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_size,
)
from mgp.layers.preprocessing.image_preprocessing.equalization import Equalization
from mgp.layers.preprocessing.image_preprocessing.random_brightness import (
    RandomBrightness,
)
from mgp.layers.preprocessing.image_preprocessing.random_color_degeneration import (
    RandomColorDegeneration,
)
from mgp.layers.preprocessing.image_preprocessing.random_contrast import RandomContrast
from mgp.layers.preprocessing.image_preprocessing.random_posterization import (
    RandomPosterization,
)
from mgp.layers.preprocessing.image_preprocessing.random_rotation import RandomRotation
from mgp.layers.preprocessing.image_preprocessing.random_sharpness import (
    RandomSharpness,
)
from mgp.layers.preprocessing.image_preprocessing.random_shear import RandomShear
from mgp.layers.preprocessing.image_preprocessing.random_translation import (
    RandomTranslation,
)
from mgp.layers.preprocessing.image_preprocessing.solarization import Solarization


class RandAugment(BaseImagePreprocessingLayer):
    """In training, apply `num_ops` augmentations in turn, each picked at random (the same for
    the whole batch) from: shear, translation, rotation, brightness, colour degeneration,
    contrast, sharpness, posterization, solarization, auto-contrast and equalization, all of
    strength `factor` (Cubuk et al. 2019, as Keras composes it); the identity at inference.

    Args:
        value_range: the images' (min, max).
        num_ops: how many augmentations per call (2).
        factor: the strength, in [0, 1] (0.5), or (lower, upper).
        interpolation: 'bilinear' or 'nearest', for the geometric ones.
        seed: an int makes the picks and their draws reproducible.
        data_format: 'channels_last' or 'channels_first'.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _AUGMENT_LAYERS = ["random_shear", "random_translation", "random_rotation",
                       "random_brightness", "random_color_degeneration", "random_contrast",
                       "random_sharpness", "random_posterization", "solarization",
                       "auto_contrast", "equalization"]

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear",
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = self._checked_value_range(value_range)
        self.num_ops = check_size("RandAugment", "num_ops", num_ops)
        self._set_factor(factor)
        self.interpolation = interpolation
        self._make_generator(seed)
        f, r, fmt = self.factor, self.value_range, data_format
        self.random_shear = RandomShear(x_factor=f, y_factor=f, interpolation=interpolation,
                                        seed=seed, data_format=fmt)
        self.random_translation = RandomTranslation(height_factor=f, width_factor=f,
                                                    interpolation=interpolation, seed=seed,
                                                    data_format=fmt)
        self.random_rotation = RandomRotation(factor=f, interpolation=interpolation, seed=seed,
                                              data_format=fmt)
        self.random_brightness = RandomBrightness(factor=f, value_range=r, seed=seed,
                                                  data_format=fmt)
        self.random_color_degeneration = RandomColorDegeneration(factor=f, value_range=r,
                                                                 seed=seed, data_format=fmt)
        self.random_contrast = RandomContrast(factor=f, value_range=r, seed=seed,
                                              data_format=fmt)
        self.random_sharpness = RandomSharpness(factor=f, value_range=r, seed=seed,
                                                data_format=fmt)
        self.solarization = Solarization(addition_factor=f, threshold_factor=f, value_range=r,
                                         seed=seed, data_format=fmt)
        self.random_posterization = RandomPosterization(factor=max(1, int(8 * f[1])),
                                                        value_range=r, seed=seed,
                                                        data_format=fmt)
        self.auto_contrast = AutoContrast(value_range=r, data_format=fmt)
        self.equalization = Equalization(value_range=r, data_format=fmt)

    def get_random_transformation(self, data, training=True, seed=None):
        from mgp import random
        if not training:
            return None
        seed = self.generator if seed is None else seed
        picks = ops.convert_to_numpy(random.randint((self.num_ops,), 0,
                                                    len(self._AUGMENT_LAYERS), seed=seed))
        transforms = {name: getattr(self, name).get_random_transformation(data, seed=seed)
                      for name in self._AUGMENT_LAYERS}
        return {"transforms": transforms, "layer_idxes": picks}

    def transform_images(self, images, transformation, training=True):
        x = ops.cast(images, self.dtype)
        if not training:
            return x
        picks = np.asarray(ops.convert_to_numpy(transformation["layer_idxes"])).reshape(-1)
        for i in range(self.num_ops):
            name = self._AUGMENT_LAYERS[int(picks[i])]
            x = getattr(self, name).transform_images(x, transformation["transforms"][name])
        return ops.cast(x, self.dtype)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training:
            return segmentation_masks
        picks = np.asarray(ops.convert_to_numpy(transformation["layer_idxes"])).reshape(-1)
        for i in range(self.num_ops):
            name = self._AUGMENT_LAYERS[int(picks[i])]
            segmentation_masks = getattr(self, name).transform_segmentation_masks(
                segmentation_masks, transformation["transforms"][name])
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "num_ops": self.num_ops, "factor": self.factor,
                "interpolation": self.interpolation, "seed": self.seed}
