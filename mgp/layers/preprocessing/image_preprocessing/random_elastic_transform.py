"""RandomElasticTransform: each image warped by a smooth random displacement field."""
from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_choice,
)
from mgp.layers.preprocessing.image_preprocessing.random_rotation import INTERPOLATIONS

FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


class RandomElasticTransform(BaseImagePreprocessingLayer):
    """In training, with a probability drawn from `factor`, warp the images with
    `ops.image.elastic_transform`: Gaussian noise smoothed by a Gaussian of
    0.05 * d * min(height, width) and scaled by 0.1 * d * max(height, width), d drawn from
    `scale` once per call; then clip to `value_range`. The identity at inference. The
    displacement fields come from mgp's generators, so they differ from Keras's (whose come
    from its backend's); their distribution is the same.

    Args:
        factor: the probability (1.0), or a (lower, upper) range it is drawn from.
        scale: d in [0, 1] for [0, d], or (lower, upper).
        interpolation: 'bilinear' or 'nearest'.
        fill_mode: 'reflect' (default), 'constant', 'nearest', 'wrap' or 'mirror'.
        fill_value, value_range, seed, data_format: as in the other image layers.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(scale)
        self.scale = self.factor
        self._set_factor(factor)
        check_choice("RandomElasticTransform", "interpolation", interpolation, INTERPOLATIONS)
        check_choice("RandomElasticTransform", "fill_mode", fill_mode, FILL_MODES)
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, fill_value
        self.value_range = self._checked_value_range(value_range)
        self._make_generator(seed)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        n = self._batch_size(self._images_of(data))
        probability = self._uniform((n,), self.factor[0], self.factor[1], seed)
        apply = self._uniform((n,), 0.0, 1.0, seed) < probability
        distortion = float(self._uniform((), self.scale[0], self.scale[1], seed))
        return {"apply_transform": apply, "distortion_factor": distortion,
                "seed": self.generator.next()}

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        h, w = self._spatial(images.shape)
        d = float(ops.convert_to_numpy(transformation["distortion_factor"]))
        warped = ops.image.elastic_transform(
            images, alpha=max(h, w) * 0.1 * d, sigma=min(h, w) * 0.05 * d,
            interpolation=interpolation, fill_mode=self.fill_mode, fill_value=self.fill_value,
            seed=transformation["seed"], data_format=self.data_format)
        apply = ops.convert_to_numpy(transformation["apply_transform"]).reshape(-1, 1, 1, 1)
        out = ops.where(apply, warped, images)
        return ops.cast(ops.clip(out, self.value_range[0], self.value_range[1]), self.dtype)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "value_range": self.value_range,
                "seed": self.seed}
