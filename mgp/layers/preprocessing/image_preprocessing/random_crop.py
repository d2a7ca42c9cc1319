"""RandomCrop: a random window of each batch in training; the inputs unchanged at inference."""
from mgp import backend, ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_size,
)


class RandomCrop(BaseImagePreprocessingLayer):
    """Crop a random (height, width) window in training; at inference return the inputs as
    they are (Keras 3's behaviour).

    In training, when the images are larger than the window on both sides, one window position
    is drawn for the whole batch; otherwise the images are centre-cropped to the window's
    aspect ratio and resized to it (bilinear).

    Args:
        height, width: the output size.
        seed: an int makes the crops reproducible; None draws one (recorded in the config, as
            Keras does).
        data_format: 'channels_last' or 'channels_first'.
    """

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(data_format=data_format, name=name, **kwargs)
        self.height = check_size("RandomCrop", "height", height)
        self.width = check_size("RandomCrop", "width", width)
        self._make_generator(seed)
        if seed is None:  # Keras records a drawn seed, so the config reproduces the layer
            self.seed = int(backend.rng().integers(1, int(1e9)))

    def get_random_transformation(self, data, training=True, seed=None):
        h, w = self._spatial(self._images_of(data).shape)
        if training and h > self.height and w > self.width:
            top = int(self._uniform((), 0, float(h - self.height + 1), seed))
            left = int(self._uniform((), 0, float(w - self.width + 1), seed))
            return top, left
        ch = max(min(h, int(w * self.height / self.width)), 1)
        cw = max(min(w, int(h * self.width / self.height)), 1)
        return int((h - ch) / 2), int((w - cw) / 2)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        x = ops.cast(images, self.dtype)
        top, left = (int(v) for v in transformation)
        rows, cols = slice(top, top + self.height), slice(left, left + self.width)
        if self.data_format == "channels_first":
            x = ops.get_item(x, (Ellipsis, rows, cols))
        else:
            x = ops.get_item(x, (Ellipsis, rows, cols, slice(None)))
        if self._spatial(x.shape) != (self.height, self.width):
            x = ops.cast(ops.image.resize(x, (self.height, self.width),
                                          data_format=self.data_format), self.dtype)
        return x

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h, w = (-2, -1) if self.data_format == "channels_first" else (-3, -2)
        shape[h], shape[w] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "seed": self.seed, "data_format": self.data_format}
