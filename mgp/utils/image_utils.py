"""Images as files and arrays, as Keras's `keras.utils` has them: `load_img`, `img_to_array`,
`array_to_img`, `save_img`. Decoding and encoding go through Pillow, an optional extra
(`pip install "mgp[images]"`), imported only when an image is read or written."""
import io
import pathlib
import warnings

import numpy as np

from mgp import config


def pil_image():
    """Pillow's `Image` module, or an ImportError naming the extra that brings it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('reading and writing images needs Pillow: pip install "mgp[images]" '
                          '(or pip install pillow)') from None
    return Image


def _resampling(name):
    image = pil_image()
    methods = {"nearest": image.Resampling.NEAREST, "bilinear": image.Resampling.BILINEAR,
               "bicubic": image.Resampling.BICUBIC, "hamming": image.Resampling.HAMMING,
               "box": image.Resampling.BOX, "lanczos": image.Resampling.LANCZOS}
    if name not in methods:
        raise ValueError(f"load_img: interpolation must be one of {sorted(methods)}, got "
                         f"{name!r}")
    return methods[name]


def _data_format(data_format):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return data_format


def open_image(path, what="load_img"):
    """A Pillow image of the file at `path` (or an `io.BytesIO`), decoded in full; a file that
    is not an image Pillow can read raises a ValueError naming it."""
    image = pil_image()
    if isinstance(path, io.BytesIO):
        data, name = path, "the bytes given"
    elif isinstance(path, (str, bytes, pathlib.Path)):
        name = str(pathlib.Path(path.decode() if isinstance(path, bytes) else path).resolve())
        with open(name, "rb") as f:
            data = io.BytesIO(f.read())
    else:
        raise TypeError(f"{what}: path must be a path or an io.BytesIO, got "
                        f"{type(path).__name__}")
    try:
        img = image.open(data)
        img.load()
    except (OSError, SyntaxError, ValueError) as e:  # Pillow's errors for a broken file
        raise ValueError(f"{what}: {name} is not an image Pillow can read ({e})") from None
    return img


def convert_color(img, color_mode, what="load_img"):
    """`img` with the channels `color_mode` asks for ('grayscale' keeps 16- and 32-bit
    grayscale as they are, as Keras does)."""
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode in ("rgb", "rgba"):
        mode = color_mode.upper()
        return img if img.mode == mode else img.convert(mode)
    raise ValueError(f"{what}: color_mode must be 'grayscale', 'rgb' or 'rgba', got "
                     f"{color_mode!r}")


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Load an image file into a Pillow image.

    Args:
        path: the file's path, or an `io.BytesIO` of its bytes.
        color_mode: 'grayscale', 'rgb' or 'rgba'.
        target_size: None (the file's size) or `(height, width)` to resize to.
        interpolation: Pillow's resampling when resizing: 'nearest', 'bilinear', 'bicubic',
            'lanczos', 'box' or 'hamming'.
        keep_aspect_ratio: crop the centre to the target's aspect ratio before resizing.
    Returns:
        A `PIL.Image.Image`.

    Example:
        >>> img = mgp.utils.load_img("cat.jpg", target_size=(224, 224))
        >>> batch = mgp.utils.img_to_array(img)[None]   # (1, 224, 224, 3) float32
    """
    img = convert_color(open_image(path), color_mode)
    if target_size is None:
        return img
    width_height = (int(target_size[1]), int(target_size[0]))
    if img.size == width_height:
        return img
    resample = _resampling(interpolation)
    if not keep_aspect_ratio:
        return img.resize(width_height, resample)
    width, height = img.size
    crop_h = min(height, width * width_height[1] // width_height[0])
    crop_w = min(width, height * width_height[0] // width_height[1])
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return img.resize(width_height, resample, box=(left, top, left + crop_w, top + crop_h))


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image as an array: (height, width, channels) (channels first with
    `data_format='channels_first'`), in `dtype` (default floatx, float32)."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[:, :, None]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}")
    return x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """An array (height, width, channels) as a Pillow image: 1 channel 'L' (or 'I' when values
    pass 255), 3 'RGB', 4 'RGBA'; with `scale`, values are first stretched to [0, 255]."""
    data_format = _data_format(data_format)
    image = pil_image()
    x = np.array(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected one image of rank 3, got shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - x.min()
        top = x.max()
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image.fromarray(x.astype(np.uint8), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if x.max() > 255:
            return image.fromarray(x[:, :, 0].astype(np.int32), "I")
        return image.fromarray(x[:, :, 0].astype(np.uint8), "L")
    raise ValueError(f"array_to_img: images have 1, 3 or 4 channels, got {channels} (shape "
                     f"{x.shape})")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save an array as an image file, in the format its extension names (or `file_format`);
    other keyword arguments go to Pillow's `Image.save` (e.g. `quality=95`)."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.",
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)
