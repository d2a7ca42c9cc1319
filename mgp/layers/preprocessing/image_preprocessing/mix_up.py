"""MixUp: each image (and label) blended with another of the batch."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_number,
)


class MixUp(BaseImagePreprocessingLayer):
    """In training, replace each image by w * image + (1 - w) * another image of the batch (a
    random pairing), w drawn from Beta(alpha, alpha) per image; with dict inputs the labels are
    mixed alike. The identity at inference.

    Args:
        alpha: the Beta distribution's parameter (0.2).
        data_format: 'channels_last' or 'channels_first'.
        seed: an int makes the draws reproducible.
    """

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        check_number("MixUp", "alpha", alpha)
        if alpha <= 0:
            raise ValueError(f"MixUp: alpha must be > 0, got alpha={alpha}")
        self.alpha = alpha
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        from mgp import random
        n = self._batch_size(self._images_of(data))
        seed = self.generator if seed is None else seed
        order = ops.convert_to_numpy(random.shuffle(np.arange(n, dtype=np.int64), seed=seed))
        weight = ops.convert_to_numpy(random.beta((n,), self.alpha, self.alpha, seed=seed))
        return {"mix_weight": weight, "permutation_order": order}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        x = ops.cast(images, self.dtype)
        order = ops.convert_to_numpy(transformation["permutation_order"]).astype(np.int64)
        w = ops.reshape(ops.cast(transformation["mix_weight"], self.dtype), (-1, 1, 1, 1))
        return w * x + (1.0 - w) * ops.take(x, order, axis=0)

    def transform_labels(self, labels, transformation, training=True):
        if not training:
            return labels
        order = ops.convert_to_numpy(transformation["permutation_order"]).astype(np.int64)
        w = ops.reshape(ops.cast(transformation["mix_weight"], "float32"), (-1, 1))
        return w * labels + (1.0 - w) * ops.take(labels, order, axis=0)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "seed": self.seed}
