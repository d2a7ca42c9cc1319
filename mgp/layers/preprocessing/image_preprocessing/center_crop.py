"""CenterCrop: the central window of each image (resized instead when the image is smaller)."""
from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_size,
)


def smart_resize(images, size, data_format, dtype):
    """Keras's `smart_resize`: crop the largest centred window of the target's aspect ratio,
    then resize it (bilinear) to `size`."""
    h, w = images.shape[-2:] if data_format == "channels_first" else images.shape[-3:-1]
    th, tw = size
    ch = max(min(h, int(w * th / tw)), 1)
    cw = max(min(w, int(h * tw / th)), 1)
    top, left = (h - ch) // 2, (w - cw) // 2
    rows, cols = slice(top, top + ch), slice(left, left + cw)
    key = (Ellipsis, rows, cols) if data_format == "channels_first" else \
        (Ellipsis, rows, cols, slice(None))
    cropped = ops.get_item(images, key)
    out = ops.image.resize(cropped, size, interpolation="bilinear", data_format=data_format)
    return ops.cast(out, dtype)


class CenterCrop(BaseImagePreprocessingLayer):
    """Crop the central (height, width) window of each image, in training and at inference.
    An image smaller than the window along either side is instead cropped to the window's
    aspect ratio and resized (Keras's `smart_resize`).

    Args:
        height, width: the output size.
        data_format: 'channels_last' or 'channels_first'.

    Example:
        >>> CenterCrop(2, 2)(np.arange(16.).reshape(4, 4, 1))[..., 0]   # [[5, 6], [9, 10]]
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = check_size("CenterCrop", "height", height)
        self.width = check_size("CenterCrop", "width", width)

    def get_random_transformation(self, data, training=True, seed=None):
        return {"input_shape": tuple(self._images_of(data).shape)}

    def transform_images(self, images, transformation=None, training=True):
        x = ops.cast(images, self.dtype)
        h, w = self._spatial(x.shape)
        dh, dw = h - self.height, w - self.width
        if dh < 0 or dw < 0:
            return smart_resize(x, (self.height, self.width), self.data_format, self.dtype)
        rows = slice(dh // 2, dh // 2 + self.height)
        cols = slice(dw // 2, dw // 2 + self.width)
        if self.data_format == "channels_first":
            return ops.get_item(x, (Ellipsis, rows, cols))
        return ops.get_item(x, (Ellipsis, rows, cols, slice(None)))

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training=training)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h, w = (-2, -1) if self.data_format == "channels_first" else (-3, -2)
        shape[h], shape[w] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "data_format": self.data_format}
