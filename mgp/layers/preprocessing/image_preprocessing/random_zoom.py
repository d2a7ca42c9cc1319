"""RandomZoom: each image zoomed in or out about its centre by random factors."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_choice,
)
from mgp.layers.preprocessing.image_preprocessing.random_rotation import (
    FILL_MODES,
    INTERPOLATIONS,
)


def parse_factor(layer_name, argument, factor, low_open):
    """A number f as (-f, f), or a pair sorted; each in [-1, 1] ((-1, 1] where `low_open`)."""
    def check(v):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or v > 1 or \
                (v <= -1 if low_open else v < -1):
            interval = "(-1, 1]" if low_open else "[-1, 1]"
            raise ValueError(f"{layer_name}: {argument} must be a number or a pair of numbers "
                             f"in {interval}, got {argument}={factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"{layer_name}: {argument} must be a number or a pair of numbers, "
                             f"got {argument}={factor!r}")
        for v in factor:
            check(v)
        return tuple(sorted(float(v) for v in factor))
    check(factor)
    return -abs(float(factor)), abs(float(factor))


class RandomZoom(BaseImagePreprocessingLayer):
    """Zoom each image by factors drawn from `height_factor` and `width_factor` in training;
    the identity at inference. A factor of 0.2 gives output sizes from 80% to 120% of the
    image's view: positive values zoom out, negative ones zoom in.

    Args:
        height_factor: f (in (-1, 1]) for [-f, f], or (lower, upper).
        width_factor: the same for the width; None zooms both sides by the height's factor
            (keeping the aspect ratio).
        fill_mode, interpolation, seed, fill_value, data_format: as in `RandomRotation`.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = parse_factor("RandomZoom", "height_factor",
                                                            height_factor, True)
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = parse_factor("RandomZoom", "width_factor",
                                                              width_factor, True)
        check_choice("RandomZoom", "fill_mode", fill_mode, FILL_MODES)
        check_choice("RandomZoom", "interpolation", interpolation, INTERPOLATIONS)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        shape = (self._batch_size(images), 1)
        height_zoom = self._uniform(shape, 1.0 + self.height_lower, 1.0 + self.height_upper,
                                    seed)
        width_zoom = height_zoom if self.width_factor is None else self._uniform(
            shape, 1.0 + self.width_lower, 1.0 + self.width_upper, seed)
        return {"height_zoom": height_zoom, "width_zoom": width_zoom,
                "input_shape": tuple(images.shape)}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        zw = ops.convert_to_numpy(transformation["width_zoom"]).astype(np.float32).reshape(-1, 1)
        zh = ops.convert_to_numpy(transformation["height_zoom"]).astype(np.float32).reshape(-1, 1)
        h, w = self._spatial(images.shape)
        zeros = np.zeros_like(zw)
        matrix = np.concatenate([zw, zeros, (np.float32(w) - 1) / 2 * (1 - zw), zeros, zh,
                                 (np.float32(h) - 1) / 2 * (1 - zh), zeros, zeros], 1)
        return ops.image.affine_transform(images, matrix, interpolation=interpolation,
                                          fill_mode=self.fill_mode, fill_value=self.fill_value,
                                          data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value, "data_format": self.data_format}
