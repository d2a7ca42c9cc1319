"""Resizing: images resized to a fixed size (optionally cropped or padded to its aspect ratio)."""
from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_choice,
    check_size,
)

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


class Resizing(BaseImagePreprocessingLayer):
    """Resize images to (height, width), in training and at inference alike.

    Args:
        height, width: the output size.
        interpolation: 'bilinear' (default), 'nearest', 'bicubic', 'lanczos3', 'lanczos5'.
        crop_to_aspect_ratio: first crop the largest centred window of the target's aspect
            ratio, so the image is not distorted.
        pad_to_aspect_ratio: first pad (centred, with `fill_value`) to the target's aspect
            ratio instead.
        fill_mode: 'constant' (the only one, as in Keras).
        fill_value: the padding value.
        antialias: widen the filter when shrinking.
        data_format: 'channels_last' or 'channels_first'.

    Integer images stay integers (rounded and saturated), as in Keras.

    Example:
        >>> Resizing(2, 3)(np.ones((4, 6, 6, 1))).shape
        (4, 2, 3, 1)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = check_size("Resizing", "height", height)
        self.width = check_size("Resizing", "width", width)
        check_choice("Resizing", "interpolation", interpolation, INTERPOLATIONS)
        check_choice("Resizing", "fill_mode", fill_mode, ("constant",))
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: give crop_to_aspect_ratio or pad_to_aspect_ratio, not "
                             "both")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def get_random_transformation(self, data, training=True, seed=None):
        return self._spatial(self._images_of(data).shape)

    def _transform_images(self, images, transformation, interpolation):
        resized = ops.image.resize(
            images, (self.height, self.width), interpolation=interpolation,
            antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
            fill_value=self.fill_value, data_format=self.data_format)
        if resized.dtype != images.dtype:
            resized = ops.saturate_cast(ops.round(resized), images.dtype)
        return resized

    def transform_images(self, images, transformation=None, training=True):
        return self._transform_images(images, transformation, self.interpolation)

    def transform_segmentation_masks(self, segmentation_masks, transformation=None,
                                     training=True):
        return self._transform_images(segmentation_masks, transformation, "nearest")

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h, w = (-2, -1) if self.data_format == "channels_first" else (-3, -2)
        shape[h], shape[w] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias,
                "data_format": self.data_format}
