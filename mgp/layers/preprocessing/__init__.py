"""Preprocessing layers, as Keras groups them: images (resizing, cropping, augmentation, in
`image_preprocessing`), numbers (`Rescaling`, `Normalization`, `Discretization`), categories
(`CategoryEncoding`, `Hashing`, `HashedCrossing`, `IntegerLookup`, `StringLookup`), text
(`TextVectorization`), audio (`MelSpectrogram`, `STFTSpectrogram`) and `Pipeline`.

The random layers draw only in training (`layer(x, training=True)`, which `fit` passes, and
a direct call's default, as in Keras) and return their inputs at inference.
"""
from mgp.layers.preprocessing.category_encoding import CategoryEncoding
from mgp.layers.preprocessing.discretization import Discretization
from mgp.layers.preprocessing.hashed_crossing import HashedCrossing
from mgp.layers.preprocessing.hashing import Hashing
from mgp.layers.preprocessing.image_preprocessing.aug_mix import AugMix
from mgp.layers.preprocessing.image_preprocessing.auto_contrast import AutoContrast
from mgp.layers.preprocessing.image_preprocessing.center_crop import CenterCrop
from mgp.layers.preprocessing.image_preprocessing.clahe import (
    ContrastLimitedAdaptiveHistogramEqualization,
)
from mgp.layers.preprocessing.image_preprocessing.cut_mix import CutMix
from mgp.layers.preprocessing.image_preprocessing.equalization import Equalization
from mgp.layers.preprocessing.image_preprocessing.mix_up import MixUp
from mgp.layers.preprocessing.image_preprocessing.rand_augment import RandAugment
from mgp.layers.preprocessing.image_preprocessing.random_brightness import (
    RandomBrightness,
)
from mgp.layers.preprocessing.image_preprocessing.random_color_degeneration import (
    RandomColorDegeneration,
)
from mgp.layers.preprocessing.image_preprocessing.random_color_jitter import (
    RandomColorJitter,
)
from mgp.layers.preprocessing.image_preprocessing.random_contrast import RandomContrast
from mgp.layers.preprocessing.image_preprocessing.random_crop import RandomCrop
from mgp.layers.preprocessing.image_preprocessing.random_elastic_transform import (
    RandomElasticTransform,
)
from mgp.layers.preprocessing.image_preprocessing.random_erasing import RandomErasing
from mgp.layers.preprocessing.image_preprocessing.random_flip import RandomFlip
from mgp.layers.preprocessing.image_preprocessing.random_gaussian_blur import (
    RandomGaussianBlur,
)
from mgp.layers.preprocessing.image_preprocessing.random_grayscale import (
    RandomGrayscale,
)
from mgp.layers.preprocessing.image_preprocessing.random_hue import RandomHue
from mgp.layers.preprocessing.image_preprocessing.random_invert import RandomInvert
from mgp.layers.preprocessing.image_preprocessing.random_perspective import (
    RandomPerspective,
)
from mgp.layers.preprocessing.image_preprocessing.random_posterization import (
    RandomPosterization,
)
from mgp.layers.preprocessing.image_preprocessing.random_rotation import RandomRotation
from mgp.layers.preprocessing.image_preprocessing.random_saturation import (
    RandomSaturation,
)
from mgp.layers.preprocessing.image_preprocessing.random_sharpness import (
    RandomSharpness,
)
from mgp.layers.preprocessing.image_preprocessing.random_shear import RandomShear
from mgp.layers.preprocessing.image_preprocessing.random_translation import (
    RandomTranslation,
)
from mgp.layers.preprocessing.image_preprocessing.random_zoom import RandomZoom
from mgp.layers.preprocessing.image_preprocessing.resizing import Resizing
from mgp.layers.preprocessing.image_preprocessing.solarization import Solarization
from mgp.layers.preprocessing.integer_lookup import IntegerLookup
from mgp.layers.preprocessing.image_preprocessing.max_num_bounding_boxes import (
    MaxNumBoundingBoxes,
)
from mgp.layers.preprocessing.mel_spectrogram import MelSpectrogram
from mgp.layers.preprocessing.normalization import Normalization
from mgp.layers.preprocessing.pipeline import Pipeline
from mgp.layers.preprocessing.rescaling import Rescaling
from mgp.layers.preprocessing.stft_spectrogram import STFTSpectrogram
from mgp.layers.preprocessing.string_lookup import StringLookup
from mgp.layers.preprocessing.text_vectorization import TextVectorization

__all__ = [
    "AugMix", "AutoContrast", "CategoryEncoding", "CenterCrop",
    "ContrastLimitedAdaptiveHistogramEqualization", "CutMix", "Discretization", "Equalization",
    "HashedCrossing", "Hashing", "IntegerLookup", "MaxNumBoundingBoxes", "MelSpectrogram", "MixUp", "Normalization",
    "Pipeline", "RandAugment", "RandomBrightness", "RandomColorDegeneration",
    "RandomColorJitter", "RandomContrast", "RandomCrop", "RandomElasticTransform",
    "RandomErasing", "RandomFlip", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
    "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomRotation",
    "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation", "RandomZoom",
    "Rescaling", "Resizing", "STFTSpectrogram", "Solarization", "StringLookup",
    "TextVectorization",
]
