"""`image_dataset_from_directory`: a folder of image files (one subfolder per class) as a
dataset of (images, labels) batches, as Keras makes it (see `dataset_utils` for what mgp
returns in place of a tf.data.Dataset). Images are decoded by Pillow (`mgp[images]`) and
resized by `mgp.ops.image.resize`, as Keras's grain path decodes and resizes them."""
import numpy as np

from mgp import config
from mgp.utils import dataset_utils, image_utils

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                   "gaussian", "mitchellcubic")


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",
                                 verbose=True):
    """A dataset of image batches from a folder, with Keras's arguments.

    With `labels="inferred"`, `directory` holds one subfolder per class (`class_a/`,
    `class_b/`, ...; labels 0, 1, ... in sorted order, or in the order of `class_names`).

    Args:
        labels: 'inferred', None (images only), or a list of integer labels, one per file in
            the files' sorted order.
        label_mode: 'int' (int32 labels), 'categorical' (one-hot float32), 'binary' (float32,
            (batch, 1); two classes), or None.
        color_mode: 'grayscale', 'rgb' or 'rgba': 1, 3 or 4 channels.
        batch_size: images per batch (None: single images).
        image_size: `(height, width)` every image is resized to.
        shuffle, seed: shuffle the files (as Keras) and each pass's order (see
            `dataset_utils`); the seed is needed with `validation_split`.
        validation_split, subset: the fraction kept for validation, and which subset to
            return: 'training', 'validation', or 'both' (a pair).
        interpolation: the resize's interpolation ('bilinear', 'nearest', 'bicubic',
            'lanczos3', 'lanczos5').
        crop_to_aspect_ratio / pad_to_aspect_ratio: crop (centred) or pad to the target's
            aspect ratio before resizing.
        format: 'tf' or 'grain', accepted as Keras has it; mgp returns its BatchDataset.
    Returns:
        A `BatchDataset` of `(images, labels)` batches (images float32, (batch, height, width,
        channels), or channels first with `data_format='channels_first'`), with `class_names`
        and `file_paths`; or a (training, validation) pair for `subset="both"`.

    Example:
        >>> train, val = mgp.utils.image_dataset_from_directory(
        ...     "flowers", image_size=(180, 180), validation_split=0.2, subset="both", seed=1)
        >>> model.fit(train, validation_data=val, epochs=10)
    """
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}.get(color_mode)
    if channels is None:
        raise ValueError(f"image_dataset_from_directory: color_mode must be 'grayscale', "
                         f"'rgb' or 'rgba', got {color_mode!r}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"image_dataset_from_directory: image_size must be (height, width), "
                         f"got {image_size!r}")
    interpolation = interpolation.lower()
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"image_dataset_from_directory: interpolation must be one of "
                         f"{_INTERPOLATIONS}, got {interpolation!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("image_dataset_from_directory: give crop_to_aspect_ratio or "
                         "pad_to_aspect_ratio, not both")
    if format not in ("tf", "grain"):
        raise ValueError(f"image_dataset_from_directory: format must be 'tf' or 'grain', got "
                         f"{format!r}")
    data_format = image_utils._data_format(data_format)
    image_utils.pil_image()  # the missing extra is named now, not at the first batch

    def load(paths):
        return np.stack([load_image(p, image_size, color_mode, interpolation, data_format,
                                    crop_to_aspect_ratio, pad_to_aspect_ratio) for p in paths])
    return dataset_utils.from_directory(
        "image_dataset_from_directory", directory, labels, label_mode, class_names,
        batch_size, shuffle, seed, validation_split, subset, follow_links, verbose,
        ALLOWLIST_FORMATS, load)


def load_image(path, image_size, color_mode="rgb", interpolation="bilinear",
               data_format=None, crop_to_aspect_ratio=False, pad_to_aspect_ratio=False):
    """One image file as a float32 array resized to `image_size` (the first frame of an
    animated GIF)."""
    from mgp.ops import image as image_ops
    img = image_utils.convert_color(image_utils.open_image(path, "image_dataset_from_directory"),
                                    color_mode, "image_dataset_from_directory")
    x = np.asarray(img, dtype=np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    data_format = data_format or config.image_data_format()
    if data_format == "channels_first":
        x = x.transpose(2, 0, 1)
    out = image_ops.resize(x, tuple(image_size), interpolation=interpolation,
                           crop_to_aspect_ratio=crop_to_aspect_ratio,
                           pad_to_aspect_ratio=pad_to_aspect_ratio, data_format=data_format)
    return np.asarray(out.numpy(), dtype=np.float32)
