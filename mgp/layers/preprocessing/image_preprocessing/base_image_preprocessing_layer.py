"""The base of the image preprocessing layers: one random draw per call, then the transform.

A call is two steps, as Keras splits them, so that each can be checked on its own:
`get_random_transformation(data, training)` draws the random factors for the whole batch (from
the layer's `SeedGenerator`, so a seed reproduces them), and `transform_images(images,
transformation, training)` applies them to every image at once. A layer called directly trains
(Keras's default `training=True`); inside `predict` or `evaluate` it is called with
`training=False` and the random layers return their inputs.

Inputs are images (height, width, channels) or batches (batch, height, width, channels), or
channels first with `data_format='channels_first'`; or a dict with 'images' and optionally
'labels' and 'segmentation_masks', each transformed alike (masks with nearest interpolation).
"""
import numpy as np

from mgp import config, ops
from mgp.errors import InvalidArgumentError
from mgp.layers._utils import describe, seed_of
from mgp.layers.base import Layer
from mgp.random import SeedGenerator
from mgp.tensor import Tensor


def standardize_data_format(data_format):
    data_format = config.image_data_format() if data_format is None else str(data_format)
    if data_format.lower() not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return data_format.lower()


def check_choice(layer_name, argument, value, choices):
    if value not in choices:
        raise ValueError(f"{layer_name}: {argument} must be one of {list(choices)}, got "
                         f"{value!r}")


def check_number(layer_name, argument, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or \
            not np.isfinite(value):
        raise InvalidArgumentError(f"{layer_name}: {argument} must be a finite number, got "
                                   f"{value!r}")
    return value


def check_size(layer_name, argument, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer_name}: {argument} must be a positive int, got {value!r}")
    return int(value)


class BaseImagePreprocessingLayer(Layer):
    """Base class of the image layers (see the module docstring).

    Subclasses define `get_random_transformation` and either `_transform_images(images,
    transformation, interpolation)` (called only in training, on float images) or their own
    `transform_images`.

    Args:
        factor: for layers that take one (`_USE_BASE_FACTOR`): a number f (the range [-f, f],
            cut to `_FACTOR_BOUNDS`) or a pair (lower, upper).
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (-1, 1)

    def __init__(self, factor=None, bounding_box_format=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if bounding_box_format is not None:
            raise NotImplementedError(f"{type(self).__name__}: bounding boxes are not supported "
                                      f"by mgp; got bounding_box_format={bounding_box_format!r}")
        self.bounding_box_format = None
        self.data_format = standardize_data_format(data_format)
        if self._USE_BASE_FACTOR:
            self._set_factor(factor or 0.0)
        elif factor is not None:
            raise ValueError(f"{type(self).__name__} does not take a factor argument, got "
                             f"factor={factor!r}")

    def _set_factor(self, factor):
        lo, hi = self._FACTOR_BOUNDS
        message = (f"{type(self).__name__}: factor must be a number or a pair of numbers in "
                   f"[{lo}, {hi}], got factor={factor!r}")
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or any(isinstance(f, bool) or not isinstance(
                    f, (int, float, np.number)) or not np.isfinite(f) for f in factor):
                raise ValueError(message)
            if factor[0] > hi or factor[1] < lo:
                raise ValueError(message)
            lower, upper = sorted(factor)
        elif isinstance(factor, (int, float, np.number)) and not isinstance(factor, bool):
            if not lo <= factor <= hi:  # (NaN included)
                raise ValueError(message)
            factor = abs(factor)
            lower, upper = max(-factor, lo), factor
        else:
            raise ValueError(message)
        self.factor = (lower, upper)

    def _set_value_range(self, value_range):
        self.value_range = sorted(self._checked_value_range(value_range))

    def _checked_value_range(self, value_range):
        """`value_range` as given (its config keeps it so), checked: two finite numbers."""
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or any(
                isinstance(v, bool) or not isinstance(v, (int, float, np.number))
                or not np.isfinite(v) for v in value_range):
            raise InvalidArgumentError(f"{type(self).__name__}: value_range must be a list of "
                                       f"two numbers, got value_range={value_range!r}")
        return value_range

    def _make_generator(self, seed):
        self.seed = seed_of(self, seed)
        self.generator = SeedGenerator(self.seed)

    # ---- the two steps ---------------------------------------------------------------------------
    def get_random_transformation(self, data, training=True, seed=None):
        return None

    def _transform_images(self, images, transformation, interpolation):
        raise NotImplementedError(f"{type(self).__name__} defines no image transform")

    def transform_images(self, images, transformation, training=True):
        images = ops.cast(images, self.dtype)
        if training:
            images = self._transform_images(images, transformation, self.interpolation)
        return images

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if training:
            return self._transform_images(segmentation_masks, transformation, "nearest")
        return segmentation_masks

    # ---- the call ------------------------------------------------------------------------------
    def _images_of(self, data):
        images = data["images"] if isinstance(data, dict) else data
        if isinstance(images, Tensor) and images.dtype.kind in "USO":
            raise TypeError(f"{describe(self)} expected numeric images, got dtype "
                            f"{images.dtype}")
        return images

    def _is_batched(self, images):
        if images.ndim == 3:
            return False
        if images.ndim == 4:
            return True
        raise ValueError(f"{describe(self)} expected images of rank 3 (height, width, channels) "
                         f"or 4 (a batch), got shape {tuple(images.shape)}")

    def _spatial(self, shape):
        """(height, width) of images of `shape` (batched or not)."""
        if self.data_format == "channels_first":
            return shape[-2], shape[-1]
        return shape[-3], shape[-2]

    def call(self, data, training=True):
        if isinstance(data, dict):
            unknown = set(data) - {"images", "labels", "segmentation_masks"}
            if "images" not in data or unknown:
                raise ValueError(f"{describe(self)} takes a dict with 'images' and optionally "
                                 f"'labels' and 'segmentation_masks', got keys {sorted(data)}"
                                 + (" (bounding boxes are not supported by mgp)"
                                    if "bounding_boxes" in unknown else ""))
            data = {k: ops.convert_to_tensor(v) for k, v in data.items()}
        else:
            data = ops.convert_to_tensor(data)
        images = self._images_of(data)
        batched = self._is_batched(images)
        transformation = self.get_random_transformation(data, training=training)

        def apply(fn, x):
            if batched:
                return fn(x, transformation, training=training)
            return ops.squeeze(fn(ops.expand_dims(x, 0), transformation, training=training), 0)

        if not isinstance(data, dict):
            return apply(self.transform_images, data)
        out = dict(data)
        out["images"] = apply(self.transform_images, data["images"])
        if "labels" in data:
            out["labels"] = apply(self.transform_labels, data["labels"])
        if "segmentation_masks" in data:
            out["segmentation_masks"] = apply(self.transform_segmentation_masks,
                                              data["segmentation_masks"])
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}

    # ---- helpers the layers share ----------------------------------------------------------------
    def _batch_size(self, images):
        return images.shape[0] if images.ndim == 4 else 1

    def _uniform(self, shape, minval, maxval, seed=None):
        """Host float32 samples of U[minval, maxval) from the layer's generator (or `seed`)."""
        from mgp import random
        return ops.convert_to_numpy(random.uniform(shape, minval=minval, maxval=maxval,
                                                   seed=self.generator if seed is None else seed))

    def _transform_value_range(self, images, original_range, target_range, dtype="float32"):
        """images mapped linearly from `original_range` to `target_range`."""
        if tuple(original_range) == tuple(target_range):
            return images
        images = ops.cast(images, dtype)
        (a, b), (c, d) = original_range, target_range
        return (images - float(a)) / (float(b) - float(a)) * (float(d) - float(c)) + float(c)

    @staticmethod
    def _compute_affine_matrix(center_x, center_y, angle, translate_x, translate_y, scale,
                               shear_x, shear_y, height, width):
        """The (batch, 8) transforms of `affine_transform` that rotate by `angle` degrees, shear
        by shear_x / shear_y degrees and scale about (center_x, center_y) (fractions of the
        image), then translate by translate_x / translate_y pixels; every argument after the
        centre is a (batch,) array."""
        rad = np.pi / 180.0
        angle, shear_x, shear_y = (np.asarray(v, np.float32) * np.float32(rad)
                                   for v in (angle, shear_x, shear_y))
        cx, cy = center_x * (width - 1), center_y * (height - 1)
        cos, sin = np.cos(angle), np.sin(angle)
        shx, shy = np.tan(shear_x), np.tan(shear_y)
        a0 = scale * (cos + shx * sin)
        a1 = scale * (-sin + shx * cos)
        a2 = translate_x + cx - cx * a0 - cy * a1
        b0 = scale * (shy * cos + sin)
        b1 = scale * (shy * -sin + cos)
        b2 = translate_y + cy - cx * b0 - cy * b1
        zeros = np.zeros_like(a0)
        return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], 1).astype(np.float32)
