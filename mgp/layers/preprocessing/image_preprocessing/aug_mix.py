"""AugMix: the image mixed with several chains of random augmentations of it."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer, check_number, check_size)
from mgp.layers.preprocessing.image_preprocessing.rand_augment import RandAugment

# the augmentations a chain picks from, in Keras's order; all_ops=False keeps the first seven
AUGMENT_LAYERS_ALL = ["random_shear", "random_translation", "random_rotation",
                      "random_posterization", "solarization", "auto_contrast", "equalization",
                      "random_brightness", "random_color_degeneration", "random_contrast",
                      "random_sharpness"]
AUGMENT_LAYERS = AUGMENT_LAYERS_ALL[:7]


class AugMix(BaseImagePreprocessingLayer):
    """In training, make `num_chains` augmented copies of the batch, each by up to
    `chain_depth` augmentations picked at random (a pick may be "none"), mix them with
    Dirichlet(alpha) weights, and mix the result with the images by a Beta(alpha, alpha)
    weight (Hendrycks et al. 2020); then clip to `value_range`. The identity at inference.

    Args:
        value_range: the images' (min, max).
        num_chains: the number of augmented copies (3).
        chain_depth: the most augmentations in a chain (3).
        factor: the augmentations' strength, in [0, 1] (0.3), or (lower, upper).
        alpha: the Dirichlet and Beta parameter (1.0).
        all_ops: pick among all eleven augmentations (True), or the seven geometric and
            histogram ones.
        interpolation: 'bilinear' or 'nearest', for the geometric ones.
        seed: an int makes the draws and picks reproducible.
        data_format: 'channels_last' or 'channels_first'.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3,
                 alpha=1.0, all_ops=True, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = self._checked_value_range(value_range)
        self.num_chains = check_size("AugMix", "num_chains", num_chains)
        self.chain_depth = check_size("AugMix", "chain_depth", chain_depth)
        self._set_factor(factor)
        check_number("AugMix", "alpha", alpha)
        if alpha <= 0:
            raise ValueError(f"AugMix: alpha must be > 0, got alpha={alpha}")
        self.alpha = alpha
        self.all_ops = bool(all_ops)
        self.interpolation = interpolation
        self._make_generator(seed)
        self._augment_layers = AUGMENT_LAYERS_ALL if self.all_ops else AUGMENT_LAYERS
        # the same eleven layers RandAugment composes, of this strength
        self._ops = RandAugment(value_range=value_range, factor=self.factor,
                                interpolation=interpolation, seed=seed, data_format=data_format)

    def get_random_transformation(self, data, training=True, seed=None):
        from mgp import random
        if not training:
            return None
        seed = self.generator if seed is None else seed
        gamma = ops.convert_to_numpy(random.gamma((self.num_chains,), self.alpha, seed=seed))
        weight = float(ops.convert_to_numpy(random.beta((), self.alpha, self.alpha, seed=seed)))
        choices = ops.convert_to_numpy(random.randint(
            (self.num_chains, self.chain_depth), 0, len(self._augment_layers) + 1, seed=seed))
        chains = []
        for row in choices:
            chain = []
            for pick in row.tolist():
                if pick == len(self._augment_layers):  # "none"
                    continue
                name = self._augment_layers[pick]
                chain.append({"layer_name": name, "transformation": getattr(
                    self._ops, name).get_random_transformation(data, seed=seed)})
            chains.append(chain)
        return {"chain_mixing_weights": gamma / gamma.sum(), "weight_sample": weight,
                "chain_transforms": chains}

    def transform_images(self, images, transformation, training=True):
        x = ops.cast(images, self.dtype)
        if not training:
            return x
        weights = np.asarray(ops.convert_to_numpy(transformation["chain_mixing_weights"]),
                             dtype=self.dtype)
        sample = float(ops.convert_to_numpy(transformation["weight_sample"]))
        mixed = ops.zeros_like(x)
        for w, chain in zip(weights, transformation["chain_transforms"]):
            copy = x
            for step in chain:
                copy = getattr(self._ops, step["layer_name"]).transform_images(
                    copy, step["transformation"])
            mixed = mixed + copy * w
        out = sample * x + (1 - sample) * mixed
        return ops.cast(ops.clip(out, self.value_range[0], self.value_range[1]), self.dtype)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "num_chains": self.num_chains, "chain_depth": self.chain_depth,
                "factor": self.factor, "alpha": self.alpha, "all_ops": self.all_ops,
                "interpolation": self.interpolation, "seed": self.seed}
