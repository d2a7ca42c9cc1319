"""Image ops, Keras's `keras.ops.image`: resizing, patches, padding and cropping, colour spaces,
filters, and geometric transforms.

Images are (height, width, channels) or (batch, height, width, channels) by default
(`data_format='channels_last'`, or `image_data_format()`), and (.., channels, height, width)
with 'channels_first'. Everything is composed of differentiable ops, so gradients reach the
pixels: resizing is one matrix product per spatial axis (the interpolation weights), patches
are gathers, filters are sums of shifted slices, and geometric transforms interpolate between
gathered pixels.
"""
import math

import numpy as np

from mgp import config
from mgp.backend import to_numpy, xp
from mgp.ops.numpy import (
    _float, _t, absolute, add, cast, clip, concatenate, divide, einsum, expand_dims, floor,
    get_item, maximum, mean, minimum, mod, moveaxis, multiply, pad, reshape, round, squeeze,
    stack, subtract, transpose, where,
)
from mgp.tensor import Tensor


def _format(data_format):
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return data_format


def _batched(op, images, data_format):
    """images as a (batch, height, width, channels) tensor, and how to undo that."""
    x = _t(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: images must be 3-D (one image) or 4-D (a batch), got shape "
                         f"{x.shape}")
    single = x.ndim == 3
    if single:
        x = expand_dims(x, 0)
    channels_first = _format(data_format) == "channels_first"
    if channels_first:
        x = transpose(x, (0, 2, 3, 1))

    def restore(y):
        if channels_first:
            y = transpose(y, (0, 3, 1, 2))
        return squeeze(y, 0) if single else y
    return x, restore


# ============================================= resizing =============================================

def _linear_weights(n_in, n_out):
    """Half-pixel bilinear weights (out, in), the source clamped at 0 (PyTorch's
    align_corners=False)."""
    src = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    w = np.zeros((n_out, n_in))
    np.add.at(w, (np.arange(n_out), lo), 1 - frac)
    np.add.at(w, (np.arange(n_out), hi), frac)
    return w


def _cubic(x, a):
    """Keys's cubic convolution kernel with parameter a."""
    x = np.abs(x)
    return np.where(x <= 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0))


def _cubic_weights(n_in, n_out):
    """Half-pixel bicubic weights (out, in), Keys's a = -0.75 and the border pixels repeated
    (PyTorch's bicubic)."""
    src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    base = np.floor(src).astype(int)
    t = src - base
    w = np.zeros((n_out, n_in))
    for k in range(-1, 3):  # the four taps
        np.add.at(w, (np.arange(n_out), np.clip(base + k, 0, n_in - 1)), _cubic(t - k, -0.75))
    return w


def _kernel_weights(n_in, n_out, scale, translation, kernel, antialias):
    """JAX's scale-and-translate weights (out, in): output pixel i samples the input at
    (i + 0.5 - translation) / scale - 0.5, the kernel widened by 1 / scale when shrinking with
    `antialias`, each output's weights normalized."""
    inv = 1.0 / scale
    width = max(inv, 1.0) if antialias else 1.0
    sample = (np.arange(n_out) + 0.5) * inv - translation * inv - 0.5
    w = kernel(np.abs(sample[:, None] - np.arange(n_in)[None, :]) / width)
    total = w.sum(1, keepdims=True)
    w = np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps,
                 w / np.where(total != 0, total, 1), 0)
    inside = (sample >= -0.5) & (sample <= n_in - 0.5)
    return w * inside[:, None]


def _triangle(x):
    return np.maximum(0, 1 - x)


def _lanczos(radius):
    def kernel(x):
        px = np.pi * x
        with np.errstate(divide="ignore", invalid="ignore"):
            out = radius * np.sin(px) * np.sin(px / radius) / np.where(x != 0, px * px, 1)
        return np.where(x > radius, 0, np.where(x > 1e-3, out, 1))
    return kernel


_KERNELS = {"linear": _triangle, "cubic": lambda x: _cubic(x, -0.5),
            "lanczos3": _lanczos(3.0), "lanczos5": _lanczos(5.0)}


def _apply_weights(x, weights, axis):
    """Resample x along `axis` by a constant (out, in) matrix: one matrix product."""
    w = Tensor(xp.asarray(weights.astype(x.dtype)))
    moved = moveaxis(x, axis, -1)
    return moveaxis(einsum("...i,oi->...o", moved, w), -1, axis)


def resize(images, size, interpolation="bilinear", antialias=False,
           crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_mode="constant",
           fill_value=0.0, data_format=None):
    """Images resized to `size` (height, width).

    Args:
        interpolation: 'nearest' (the pixel whose centre is nearest), 'bilinear', 'bicubic'
            (half-pixel centres, as PyTorch's and Keras's), or 'lanczos3' / 'lanczos5'.
        antialias: when shrinking, widen the bilinear or bicubic filter so every input pixel
            counts (no aliasing); without it, output pixels sample their neighbourhood only.
        crop_to_aspect_ratio / pad_to_aspect_ratio: first crop (centred) or pad with
            `fill_value` to the target's aspect ratio.
    Returns:
        The resized images, in their dtype (integers rounded).
    """
    if interpolation not in ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"):
        raise ValueError(f"resize: interpolation must be 'nearest', 'bilinear', 'bicubic', "
                         f"'lanczos3' or 'lanczos5', got {interpolation!r}")
    if fill_mode != "constant":
        raise ValueError(f"resize: fill_mode must be 'constant', got {fill_mode!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: give crop_to_aspect_ratio or pad_to_aspect_ratio, not both")
    if len(size) != 2:
        raise ValueError(f"resize: size must be (height, width), got {size}")
    th, tw = int(size[0]), int(size[1])
    x, restore = _batched("resize", images, data_format)
    dtype = x.dtype
    if dtype.kind != "f":
        x = cast(x, "float32")
    h, w = x.shape[1:3]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(w * th / tw)), 1)
        cw = max(min(w, int(h * tw / th)), 1)
        top, left = int((h - ch) / 2), int((w - cw) / 2)
        x = get_item(x, (slice(None), slice(top, top + ch), slice(left, left + cw)))
    elif pad_to_aspect_ratio:
        ph = max(h, int(w * th / tw))
        pw = max(w, int(h * tw / th))
        top, left = int((ph - h) / 2), int((pw - w) / 2)
        x = pad(x, [(0, 0), (top, top), (left, left), (0, 0)], constant_values=fill_value)
    for axis, n_out in ((1, th), (2, tw)):
        n_in = x.shape[axis]
        if interpolation == "nearest":
            index = np.minimum(np.floor((np.arange(n_out) + 0.5) * n_in / n_out), n_in - 1)
            x = get_item(x, (slice(None),) * axis + (xp.asarray(index.astype(np.intp)),))
            continue
        if interpolation.startswith("lanczos"):
            weights = _kernel_weights(n_in, n_out, n_out / n_in, 0.0, _KERNELS[interpolation],
                                      antialias)
        elif antialias and n_out < n_in:
            kernel = _KERNELS["linear" if interpolation == "bilinear" else "cubic"]
            weights = _kernel_weights(n_in, n_out, n_out / n_in, 0.0, kernel, True)
        elif interpolation == "bilinear":
            weights = _linear_weights(n_in, n_out)
        else:
            weights = _cubic_weights(n_in, n_out)
        x = _apply_weights(x, weights, axis)
    if dtype.kind != "f":
        if interpolation == "bicubic" and dtype == np.uint8:
            x = clip(x, 0, 255)
        x = cast(round(x), dtype)
    return restore(x)


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """Resample `images` (any layout) on `spatial_dims` to `output_shape`: output pixel i
    samples input position (i + 0.5 - translation) / scale - 0.5 with a 'linear', 'cubic',
    'lanczos3' or 'lanczos5' kernel (JAX's scale_and_translate)."""
    aliases = {"bilinear": "linear", "trilinear": "linear", "triangle": "linear",
               "bicubic": "cubic", "tricubic": "cubic"}
    method = aliases.get(method, method)
    if method not in _KERNELS:
        raise ValueError(f"scale_and_translate: unknown method {method!r}; expected one of "
                         f"{sorted(_KERNELS) + sorted(aliases)}")
    x = _t(images)
    integer = x.dtype.kind != "f"
    out = cast(x, "float32") if integer else x
    scale = to_numpy(_t(scale).data).astype(np.float64).reshape(-1)
    translation = to_numpy(_t(translation).data).astype(np.float64).reshape(-1)
    for i, d in enumerate(spatial_dims):
        d = d % x.ndim
        weights = _kernel_weights(x.shape[d], int(output_shape[d]), scale[i], translation[i],
                                  _KERNELS[method], antialias)
        out = _apply_weights(out, weights, d)
    if integer:
        lo, hi = to_numpy(x.data).min(), to_numpy(x.data).max()
        out = cast(clip(round(out), lo, hi), x.dtype)
    return out


# ============================================= patches ==============================================

def _tuple(value, n, name):
    value = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(value) != n:
        raise ValueError(f"{name} must be an int or {n} ints, got {value}")
    return tuple(int(v) for v in value)


def _patches(x, size, strides, dilation_rate, padding, op):
    """Patches of a channels-last (batch, *spatial, channels) x: (batch, *out, prod(size) * C),
    each patch flattened in (offsets..., channel) order, as Keras's identity-kernel conv."""
    spatial = x.ndim - 2
    size = _tuple(size, spatial, "size")
    strides = size if strides is None or strides == 0 else _tuple(strides, spatial, "strides")
    dilation = _tuple(dilation_rate, spatial, "dilation_rate")
    padding = str(padding).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got {padding!r}")
    widths = [(0, 0)]
    for n, k, s, d in zip(x.shape[1:-1], size, strides, dilation):
        window = (k - 1) * d + 1
        if padding == "same":
            total = max((math.ceil(n / s) - 1) * s + window - n, 0)
            widths.append((total // 2, total - total // 2))
        else:
            if window > n:
                raise ValueError(f"{op}: patches of {size} (dilation {dilation}) do not fit "
                                 f"images of {x.shape[1:-1]}")
            widths.append((0, 0))
    widths.append((0, 0))
    x = pad(x, widths)
    key, outs = [slice(None)], []
    for axis, (n, k, s, d) in enumerate(zip(x.shape[1:-1], size, strides, dilation)):
        out = (n - (k - 1) * d - 1) // s + 1
        outs.append(out)
        index = np.arange(out)[:, None] * s + np.arange(k)[None, :] * d  # (out, k)
        shape = [1] * (2 * spatial)
        shape[2 * axis], shape[2 * axis + 1] = out, k
        key.append(xp.asarray(index.reshape(shape)))
    gathered = get_item(x, tuple(key))  # (batch, o1, k1, o2, k2, ..., C)
    order = [0] + [1 + 2 * i for i in range(spatial)] + [2 + 2 * i for i in range(spatial)] \
        + [1 + 2 * spatial]
    return reshape(transpose(gathered, order),
                   (x.shape[0],) + tuple(outs) + (math.prod(size) * x.shape[-1],))


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Patches of `size` (an int or (height, width); 3 ints for volumes) every `strides`
    (size by default): (batch, out_h, out_w, size_h * size_w * channels)."""
    if not isinstance(size, (int, np.integer)) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    x, restore = _batched("extract_patches", images, data_format)
    return restore(_patches(x, size, strides, dilation_rate, padding, "extract_patches"))


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """Patches of volumes (batch, depth, height, width, channels):
    (batch, out_d, out_h, out_w, size_d * size_h * size_w * channels)."""
    x = _t(volumes)
    if x.ndim not in (4, 5):
        raise ValueError(f"extract_patches_3d: volumes must be 4-D or 5-D, got shape "
                         f"{x.shape}")
    single = x.ndim == 4
    if single:
        x = expand_dims(x, 0)
    channels_first = _format(data_format) == "channels_first"
    if channels_first:
        x = transpose(x, (0, 2, 3, 4, 1))
    out = _patches(x, size, strides, dilation_rate, padding, "extract_patches_3d")
    if channels_first:
        out = transpose(out, (0, 4, 1, 2, 3))
    return squeeze(out, 0) if single else out


# ====================================== padding and cropping ========================================

def _sides(op, before, after, target, size, what):
    given = [before, after, target].count(None)
    if given != 1:
        raise ValueError(f"{op}: give exactly two of the {what} arguments")
    return before, after, target


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Images padded with zeros: give two of top/bottom/target_height and two of
    left/right/target_width."""
    x, restore = _batched("pad_images", images, data_format)
    h, w = x.shape[1:3]
    top, bottom, th = _sides("pad_images", top_padding, bottom_padding, target_height, h,
                             "top_padding, bottom_padding, target_height")
    left, right, tw = _sides("pad_images", left_padding, right_padding, target_width, w,
                             "left_padding, right_padding, target_width")
    top = th - bottom - h if top is None else top
    bottom = th - top - h if bottom is None else bottom
    left = tw - right - w if left is None else left
    right = tw - left - w if right is None else right
    for name, v in (("top_padding", top), ("bottom_padding", bottom),
                    ("left_padding", left), ("right_padding", right)):
        if v < 0:
            raise ValueError(f"pad_images: {name} must be >= 0, got {v} (images {h}x{w})")
    return restore(pad(x, [(0, 0), (top, bottom), (left, right), (0, 0)]))


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Images cropped: give two of top/bottom/target_height and two of
    left/right/target_width."""
    x, restore = _batched("crop_images", images, data_format)
    h, w = x.shape[1:3]
    top, bottom, th = _sides("crop_images", top_cropping, bottom_cropping, target_height, h,
                             "top_cropping, bottom_cropping, target_height")
    left, right, tw = _sides("crop_images", left_cropping, right_cropping, target_width, w,
                             "left_cropping, right_cropping, target_width")
    top = h - th - bottom if top is None else top
    th = h - bottom - top if th is None else th
    left = w - tw - right if left is None else left
    tw = w - right - left if tw is None else tw
    for name, v in (("top_cropping", top), ("target_height", th), ("left_cropping", left),
                    ("target_width", tw)):
        if v < 0:
            raise ValueError(f"crop_images: {name} must be >= 0, got {v} (images {h}x{w})")
    return restore(get_item(x, (slice(None), slice(top, top + th), slice(left, left + tw))))


# ============================================= colour ===============================================

def _channels(x):
    return [get_item(x, (Ellipsis, c)) for c in range(x.shape[-1])]


def rgb_to_grayscale(images, data_format=None):
    """0.2989 R + 0.587 G + 0.114 B, keeping a channel axis of 1 (grayscale input is copied)."""
    x, restore = _batched("rgb_to_grayscale", images, data_format)
    if x.shape[-1] not in (1, 3):
        raise ValueError(f"rgb_to_grayscale: images need 3 (RGB) or 1 channels, got shape "
                         f"{_t(images).shape}")
    if x.shape[-1] == 1:
        return restore(add(x, 0))
    r, g, b = _channels(x)
    gray = add(add(multiply(r, 0.2989), multiply(g, 0.587)), multiply(b, 0.114))
    return restore(expand_dims(cast(gray, x.dtype), -1))


def _float_images(op, images, data_format):
    x, restore = _batched(op, images, data_format)
    if x.dtype.kind != "f":
        raise ValueError(f"{op}: images must be a float dtype, got {x.dtype}")
    if x.shape[-1] != 3:
        raise ValueError(f"{op}: images need 3 channels, got shape {_t(images).shape}")
    return x, restore


def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to hue, saturation, value, each in [0, 1]."""
    x, restore = _float_images("rgb_to_hsv", images, data_format)
    eps = float(np.finfo(x.dtype).eps)
    x = where(absolute(x).data < eps, 0.0, x)
    r, g, b = _channels(x)
    value = maximum(maximum(r, g), b)
    range_ = subtract(value, minimum(minimum(r, g), b))
    positive = value.data > 0
    saturation = where(positive, divide(range_, where(positive, value, 1.0)), 0.0)
    norm = divide(1.0, multiply(where(range_.data > 0, range_, 1.0), 6.0))
    hue = where(value.data == g.data, add(multiply(norm, subtract(b, r)), 2.0 / 6.0),
                add(multiply(norm, subtract(r, g)), 4.0 / 6.0))
    hue = where(value.data == r.data, multiply(norm, subtract(g, b)), hue)
    hue = where(range_.data > 0, hue, 0.0)
    hue = add(hue, (hue.data < 0).astype(x.dtype))
    return restore(stack([hue, saturation, value], -1))


def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value in [0, 1] to RGB."""
    x, restore = _float_images("hsv_to_rgb", images, data_format)
    h, s, v = _channels(x)
    dh = multiply(mod(h, 1.0), 6.0)
    dr = clip(subtract(absolute(subtract(dh, 3.0)), 1.0), 0.0, 1.0)
    dg = clip(subtract(2.0, absolute(subtract(dh, 2.0))), 0.0, 1.0)
    db = clip(subtract(2.0, absolute(subtract(dh, 4.0))), 0.0, 1.0)
    grey = subtract(1.0, s)
    rgb = [multiply(v, add(grey, multiply(s, d))) for d in (dr, dg, db)]
    return restore(stack(rgb, -1))


# ============================================= filters ==============================================

def _filter_separable(x, rows, cols):
    """Cross-correlate each channel of channels-last x with the outer product of two 1-D
    kernels, zero-padded to keep the size: a sum of shifted slices per axis."""
    out = x
    for axis, kernel in ((1, rows), (2, cols)):
        k = len(kernel)
        n = out.shape[axis]
        padded = pad(out, [(0, 0)] * axis + [(k // 2, k - 1 - k // 2)] + [(0, 0)] *
                     (out.ndim - axis - 1))
        total = None
        for i, c in enumerate(kernel):
            if c == 0:
                continue
            part = multiply(get_item(padded, (slice(None),) * axis + (slice(i, i + n),)),
                            float(c))
            total = part if total is None else add(total, part)
        out = total
    return out


def _gaussian(size, sigma):
    x = np.arange(size) - (size - 1) / 2
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Each channel blurred by a Gaussian on a window, zero padding keeping the size. As in
    Keras, the first of `kernel_size` and of `sigma` is for the width axis, the second for the
    height axis."""
    x, restore = _batched("gaussian_blur", images, data_format)
    x = _float(x)
    kx, ky = _tuple(kernel_size, 2, "kernel_size")
    sx, sy = (float(v) for v in (sigma if not isinstance(sigma, (int, float)) else
                                 (sigma, sigma)))
    return restore(_filter_separable(x, _gaussian(ky, sy), _gaussian(kx, sx)))


def sobel_edges(images, data_format=None):
    """Sobel gradients of each channel: (..., channels, 2), the vertical then the horizontal
    edge response (zero padding)."""
    x = _float(images)
    if x.ndim != 4:
        raise ValueError(f"sobel_edges: images must be 4-D, got shape {x.shape}")
    channels_first = _format(data_format) == "channels_first"
    if channels_first:
        x = transpose(x, (0, 2, 3, 1))
    dy = _filter_separable(x, [-1, 0, 1], [1, 2, 1])
    dx = _filter_separable(x, [1, 2, 1], [-1, 0, 1])
    edges = stack([dy, dx], -1)  # (N, H, W, C, 2)
    return transpose(edges, (0, 3, 1, 2, 4)) if channels_first else edges


def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """The structural similarity of two images (or batches), averaged over pixels and channels
    (a Gaussian window of filter_size, 'valid' positions)."""
    a, restore_a = _batched("ssim", image1, data_format)
    b, _ = _batched("ssim", image2, data_format)
    dtype = a.dtype
    a, b = _float(a), _float(b)
    if a.shape != b.shape:
        raise ValueError(f"ssim: image1 {_t(image1).shape} and image2 {_t(image2).shape} must "
                         f"have the same shape")
    k = _gaussian(filter_size, filter_sigma)

    def blur(v):  # 'valid' positions only
        full = _filter_separable(v, k, k)
        lo, hi = filter_size // 2, filter_size - 1 - filter_size // 2
        return get_item(full, (slice(None), slice(lo, full.shape[1] - hi),
                               slice(lo, full.shape[2] - hi)))
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = blur(a), blur(b)
    s11 = subtract(blur(multiply(a, a)), multiply(mu1, mu1))
    s22 = subtract(blur(multiply(b, b)), multiply(mu2, mu2))
    s12 = subtract(blur(multiply(a, b)), multiply(mu1, mu2))
    num = multiply(add(multiply(mu1, mu2) * 2.0, c1), add(multiply(s12, 2.0), c2))
    den = multiply(add(add(multiply(mu1, mu1), multiply(mu2, mu2)), c1), add(add(s11, s22), c2))
    value = mean(divide(num, den), (1, 2, 3))
    if _t(image1).ndim == 3:
        value = squeeze(value, 0)
    return cast(value, dtype) if dtype.kind == "f" else value


# ======================================= geometric transforms =======================================

def _fixed_index(index, size, fill_mode):
    """Integer positions brought inside [0, size) by `fill_mode`."""
    if fill_mode in ("constant", "nearest"):
        return np.clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return np.mod(index, size)
    if fill_mode == "mirror":  # ... 2 1 | 0 1 2 ... (the edge not repeated)
        s = max(size - 1, 1)
        return np.abs(np.mod(index + s, 2 * s) - s) if size > 1 else np.zeros_like(index)
    if fill_mode == "reflect":  # ... 1 0 | 0 1 ... (the edge repeated)
        s = 2 * size
        m = np.mod(index, s)
        return np.where(m >= size, s - 1 - m, m)
    raise ValueError(f"unknown fill_mode {fill_mode!r}; expected 'constant', 'nearest', "
                     f"'wrap', 'mirror' or 'reflect'")


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """inputs sampled at `coordinates` (one tensor per axis of inputs, all of one shape) by
    nearest (order 0) or linear (order 1) interpolation; positions outside are filled by
    `fill_mode` ('constant' with fill_value, 'nearest', 'wrap', 'mirror', 'reflect'). Linear
    interpolation is differentiable in the inputs and the coordinates."""
    x = _t(inputs)
    coords = [_t(c) for c in coordinates]
    if len(coords) != x.ndim:
        raise ValueError(f"map_coordinates: need one coordinate tensor per axis of inputs "
                         f"{x.shape}, got {len(coords)}")
    if order not in (0, 1):
        raise ValueError(f"map_coordinates: order must be 0 (nearest) or 1 (linear), got "
                         f"{order}")
    integer = x.dtype.kind != "f"
    xf = cast(x, "float32") if integer else x
    coords = [_float(c) for c in coords]
    taps = []  # per axis: [(integer index array, weight tensor or 1)]
    for c in coords:
        if order == 0:  # rounding half to even, as Keras
            taps.append([(np.round(to_numpy(c.data)).astype(np.int64), None)])
        else:
            lo = floor(c)
            frac = subtract(c, lo)
            i = to_numpy(lo.data).astype(np.int64)
            taps.append([(i, subtract(1.0, frac)), (i + 1, frac)])
    total = None
    for combo in np.ndindex(*(len(t) for t in taps)):
        picks = [taps[a][k] for a, k in enumerate(combo)]
        key = tuple(xp.asarray(_fixed_index(i, n, fill_mode))
                    for (i, _), n in zip(picks, x.shape))
        value = get_item(xf, key)
        if fill_mode == "constant":
            inside = np.ones(picks[0][0].shape, dtype=bool)
            for (i, _), n in zip(picks, x.shape):
                inside &= (i >= 0) & (i < n)
            value = where(xp.asarray(inside), value, float(fill_value))
        for _, weight in picks:
            if weight is not None:
                value = multiply(value, weight)
        total = value if total is None else add(total, value)
    if integer:
        total = cast(round(total), x.dtype)
    return total


def _sample(x, ys, xs, interpolation, fill_mode, fill_value):
    """Channels-last images x (N, H, W, C) sampled at per-image float positions ys, xs
    (N, H', W'): nearest (rounding half to even, as Keras) or bilinear, one gather per tap
    for the whole batch; differentiable in x and in the positions."""
    n, h, w, c = x.shape
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got "
                         f"{interpolation!r}")
    batch = xp.asarray(np.arange(n)[:, None, None])
    if interpolation == "nearest":
        taps = [(np.round(to_numpy(ys.data)).astype(np.int64),
                 np.round(to_numpy(xs.data)).astype(np.int64), None)]
    else:
        y0, x0 = floor(ys), floor(xs)
        fy, fx = subtract(ys, y0), subtract(xs, x0)
        iy, ix = to_numpy(y0.data).astype(np.int64), to_numpy(x0.data).astype(np.int64)
        gy, gx = subtract(1.0, fy), subtract(1.0, fx)
        taps = [(iy, ix, multiply(gy, gx)), (iy, ix + 1, multiply(gy, fx)),
                (iy + 1, ix, multiply(fy, gx)), (iy + 1, ix + 1, multiply(fy, fx))]
    total = None
    for iy, ix, weight in taps:
        key = (batch, xp.asarray(_fixed_index(iy, h, fill_mode)),
               xp.asarray(_fixed_index(ix, w, fill_mode)))
        value = get_item(x, key)  # (N, H', W', C)
        if fill_mode == "constant":
            inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
            value = where(xp.asarray(inside[..., None]), value, float(fill_value))
        if weight is not None:
            value = multiply(value, expand_dims(weight, -1))
        total = value if total is None else add(total, value)
    return total


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Images transformed by projective `transform`s [a0, a1, a2, b0, b1, b2, c0, c1] (one, or
    one per image): output pixel (x, y) takes the input at ((a0 x + a1 y + a2) / k,
    (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1."""
    x, restore = _batched("affine_transform", images, data_format)
    dtype = x.dtype
    x = _float(x)
    t = _float(transform)
    if t.ndim not in (1, 2) or t.shape[-1] != 8:
        raise ValueError(f"affine_transform: transform must be (8,) or (batch, 8), got "
                         f"{t.shape}")
    if t.ndim == 1:
        t = expand_dims(t, 0)
    n, h, w, _ = x.shape
    gy, gx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")
    gx, gy = Tensor(xp.asarray(gx.astype(t.dtype))), Tensor(xp.asarray(gy.astype(t.dtype)))

    def col(i):
        return reshape(get_item(t, (slice(None), i)), (-1, 1, 1))
    k = add(add(multiply(col(6), gx), multiply(col(7), gy)), 1.0)
    xs = divide(add(add(multiply(col(0), gx), multiply(col(1), gy)), col(2)), k)
    ys = divide(add(add(multiply(col(3), gx), multiply(col(4), gy)), col(5)), k)
    if xs.shape[0] != n:
        xs, ys = (v if v.shape[0] == n else concatenate([v] * n, 0) for v in (xs, ys))
    out = _sample(x, ys, xs, interpolation, fill_mode, fill_value)
    return restore(out if dtype.kind == "f" else cast(round(out), dtype))


def _homography(start, end):
    """The 8 projective coefficients mapping `end` corner points onto `start` ones."""
    from mgp.ops.linalg import solve
    rows, rhs = [], []
    for i in range(4):
        sx, sy = get_item(start, (slice(None), i, 0)), get_item(start, (slice(None), i, 1))
        ex, ey = get_item(end, (slice(None), i, 0)), get_item(end, (slice(None), i, 1))
        one, zero = add(multiply(ex, 0.0), 1.0), multiply(ex, 0.0)
        rows.append(stack([ex, ey, one, zero, zero, zero, multiply(multiply(sx, ex), -1.0),
                           multiply(multiply(sx, ey), -1.0)], -1))
        rows.append(stack([zero, zero, zero, ex, ey, one, multiply(multiply(sy, ex), -1.0),
                           multiply(multiply(sy, ey), -1.0)], -1))
        rhs += [sx, sy]
    return solve(stack(rows, 1), stack(rhs, -1))


def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Images warped so that the four `start_points` (x, y) land on `end_points` ((4, 2), or
    (batch, 4, 2))."""
    start, end = _float(start_points), _float(end_points)
    for name, p in (("start_points", start), ("end_points", end)):
        if p.shape[-2:] != (4, 2) or p.ndim not in (2, 3):
            raise ValueError(f"perspective_transform: {name} must be (4, 2) or (batch, 4, 2), "
                             f"got {p.shape}")
    if start.shape != end.shape:
        raise ValueError(f"perspective_transform: start_points {start.shape} and end_points "
                         f"{end.shape} differ")
    if start.ndim == 2:
        start, end = expand_dims(start, 0), expand_dims(end, 0)
    return affine_transform(images, _homography(start, end), interpolation, "constant",
                            fill_value, data_format)


def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Images warped by a random displacement field: Gaussian noise smoothed by a Gaussian of
    `sigma`, scaled by `alpha` (Simard et al. 2003). `seed` as in `mgp.random`."""
    from mgp import random
    x, restore = _batched("elastic_transform", images, data_format)
    dtype = x.dtype
    x = _float(x)
    n, h, w, _ = x.shape
    size = int(6 * sigma) | 1
    seed = random._generator_for(seed)
    fields = []
    for _ in range(2):
        noise = multiply(random.normal((n, h, w, 1), dtype=x.dtype, seed=seed), float(sigma))
        smooth = _filter_separable(noise, _gaussian(size, sigma), _gaussian(size, sigma))
        fields.append(reshape(smooth, (n, h, w)))
    gy, gx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")
    xs = add(Tensor(xp.asarray(gx.astype(x.dtype))), multiply(fields[0], float(alpha)))
    ys = add(Tensor(xp.asarray(gy.astype(x.dtype))), multiply(fields[1], float(alpha)))
    out = _sample(x, ys, xs, interpolation, fill_mode, fill_value)
    return restore(cast(out, dtype))
