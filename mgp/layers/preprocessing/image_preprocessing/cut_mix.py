"""CutMix: a random box of each image replaced by the same box of another image of the batch,
the labels mixed by the area kept."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


def box_masks(shape, boxes, data_format):
    """Boolean masks (batch, ...) of images of `shape`, True inside each image's box
    (x0, x1, y0, y1: (batch,) arrays of pixel bounds, x0 <= x < x1), over every channel."""
    x0, x1, y0, y1 = (np.asarray(b, np.float32).reshape(-1, 1, 1) for b in boxes)
    h, w = (shape[-2], shape[-1]) if data_format == "channels_first" else (shape[-3], shape[-2])
    gy, gx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32),
                         indexing="ij")
    inside = (gx >= x0) & (gx < x1) & (gy >= y0) & (gy < y1)  # (batch, h, w)
    channels = shape[-3] if data_format == "channels_first" else shape[-1]
    axis = 1 if data_format == "channels_first" else -1
    return np.repeat(np.expand_dims(inside, axis), channels, axis=axis)


class CutMix(BaseImagePreprocessingLayer):
    """In training, paste into each image a random box of another image of the batch (a
    random pairing); with dict inputs the labels are mixed by the fraction of the area each
    image keeps. The box's side ratios come from a Beta(a, a) draw, a drawn from `factor`. The
    identity at inference and for a single image.

    Args:
        factor: a in [0, 1] for [0, a], or (lower, upper).
        seed: an int makes the draws reproducible.
        data_format: 'channels_last' or 'channels_first'.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._make_generator(seed)

    def _crop_bounds(self, n, length, ratio, seed):
        crop = (ratio * length).astype(np.float32)
        start = self._uniform((n,), 0, 1, seed) * (length - crop)
        return start, start + crop

    def get_random_transformation(self, data, training=True, seed=None):
        from mgp import random
        images = self._images_of(data)
        if not training or images.ndim == 3:
            return None
        n = images.shape[0]
        h, w = self._spatial(images.shape)
        alpha = float(self._uniform((), self.factor[0], self.factor[1], seed)) + 1e-6
        weight = ops.convert_to_numpy(random.beta((n,), alpha, alpha, seed=self.generator
                                                  if seed is None else seed))
        ratio = np.sqrt(1.0 - weight).astype(np.float32)
        x0, x1 = self._crop_bounds(n, w, ratio, seed)
        y0, y1 = self._crop_bounds(n, h, ratio, seed)
        masks = box_masks(images.shape, (x0, x1, y0, y1), self.data_format)
        mix_weight = 1.0 - (x1 - x0) * (y1 - y0) / (w * h)
        order = ops.convert_to_numpy(random.shuffle(np.arange(n, dtype=np.int32),
                                                    seed=self.generator if seed is None
                                                    else seed))
        return {"permutation_order": order, "batch_masks": masks,
                "mix_weight": mix_weight.astype(np.float32).reshape(-1, 1, 1, 1)}

    def transform_images(self, images, transformation=None, training=True):
        x = ops.cast(images, self.dtype)
        if training and transformation is not None:
            order = ops.convert_to_numpy(transformation["permutation_order"]).astype(np.int64)
            masks = np.asarray(ops.convert_to_numpy(transformation["batch_masks"]), bool)
            x = ops.where(masks, ops.take(x, order, axis=0), x)
        return x

    def transform_labels(self, labels, transformation, training=True):
        if not training or transformation is None:
            return labels
        order = ops.convert_to_numpy(transformation["permutation_order"]).astype(np.int64)
        weight = ops.reshape(ops.cast(transformation["mix_weight"], "float32"), (-1, 1))
        return weight * labels + (1.0 - weight) * ops.take(labels, order, axis=0)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        raise NotImplementedError("CutMix: segmentation masks are not supported (as in Keras)")

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}
