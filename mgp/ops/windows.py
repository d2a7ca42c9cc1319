"""Sliding windows over the spatial axes, shared by convolution and pooling.

Arrays here are channels-last, (batch, *spatial, channels), with 1, 2 or 3 spatial axes; the ops
transpose channels-first inputs around them. A window op reads, for every output position, a
window of the padded input: `window_view` shows all windows at once as a strided view (im2col
is a copy of it), and `kernel_offsets` gives, for each position inside the window, the strided
slice of the padded input that position reads at every output position (so that col2im, the
adjoint, is one strided add per kernel position and never a loop over pixels).
"""
import functools
import itertools
import math

import numpy as np

from mgp.backend import xp


def as_tuple(value, rank, name, minimum=1):
    """An int or `rank` ints as a tuple of `rank` ints, each at least `minimum`."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value),) * rank
    try:
        value = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a tuple of {rank} ints, got {value!r}") \
            from None
    if len(value) != rank:
        raise ValueError(f"{name} must be an int or a tuple of {rank} ints, got {value}")
    if min(value) < minimum:
        raise ValueError(f"{name} must be {'positive' if minimum == 1 else 'non-negative'}, "
                         f"got {value}")
    return value


def data_format_of(data_format):
    """None means Keras's default, 'channels_last'."""
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return data_format


def axes_words(rank, data_format="channels_last"):
    """'(batch, height, width, channels)': how errors name the axes of a rank-`rank` input."""
    spatial = {1: ["steps"], 2: ["height", "width"], 3: ["depth", "height", "width"]}[rank]
    axes = ["batch"] + spatial + ["channels"] if data_format == "channels_last" \
        else ["batch", "channels"] + spatial
    return f"({', '.join(axes)})"


def same_padding(size, window, stride):
    """Keras's 'same': the output keeps ceil(size / stride); the odd cell of padding goes after."""
    total = max((math.ceil(size / stride) - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, size, window, stride):
    """Padding as one (before, after) pair per spatial axis. `window` is the dilated kernel size.

    padding: 'valid', 'same', an int (every side), one int per axis (both sides), or one
    (before, after) pair per axis.
    """
    rank = len(size)
    message = f"padding must be 'valid', 'same', an int or {rank} ints or pairs, got {padding!r}"
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * rank
        if mode == "same":
            return tuple(same_padding(n, k, s) for n, k, s in zip(size, window, stride))
        raise ValueError(message)
    if isinstance(padding, (int, np.integer)):
        padding = (int(padding),) * rank
    padding = tuple(padding)
    if len(padding) != rank:
        raise ValueError(message)
    pairs = []
    for p in padding:
        pair = (p, p) if isinstance(p, (int, np.integer)) else tuple(p)
        if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 0 for v in pair):
            raise ValueError(message)
        pairs.append((int(pair[0]), int(pair[1])))
    return tuple(pairs)


def geometry(op, x_shape, kernel, stride, padding, dilation):
    """Padding and output size of a sliding window over channels-last input, with clear errors.

    Returns ((before, after) per axis, output size per axis).
    """
    rank = len(kernel)
    if len(x_shape) != rank + 2:
        raise ValueError(f"{op} expects a {rank + 2}-D input {axes_words(rank)}, got shape "
                         f"{tuple(x_shape)}")
    size = x_shape[1:-1]
    window = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
    pads = resolve_padding(padding, size, window, stride)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, pads))
    if any(w > p for w, p in zip(window, padded)):
        raise ValueError(f"{op}: window {window} (kernel {kernel}, dilation {dilation}) is larger "
                         f"than the padded input {padded} (input {size}, padding {pads})")
    out = tuple((p - w) // s + 1 for p, w, s in zip(padded, window, stride))
    return pads, out


def output_length(length, kernel, padding, stride, dilation=1):
    """Output size along one axis for Keras's 'valid', 'same' and 'causal' padding (None, an
    unknown size, stays None; a window larger than the input gives 0 or less)."""
    if length is None:
        return None
    if padding in ("same", "causal"):
        return -(-length // stride)
    return (length - (kernel - 1) * dilation - 1) // stride + 1


def transpose_crops(size, kernel, stride, padding, output_padding=None, dilation=1):
    """Keras's transposed-convolution geometry along one axis, as the cells cut from each end of
    the full adjoint output ((size - 1) * stride + dilated kernel): (before, after); an `after`
    below zero adds that many zeros instead. The output is then (size - 1) * stride +
    max(window, stride) for 'valid', size * stride for 'same', or, given output_padding,
    (size - 1) * stride + window + output_padding ('valid') or (size - 1) * stride +
    window % 2 + output_padding ('same'), with window the dilated kernel."""
    window = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(window, stride) - window if output_padding is None else output_padding
        return 0, -extra
    if output_padding is None:
        total = stride + window - 2
    else:
        total = window + window % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, window - 1)
    return window - 1 - before, window - 1 - (total - before)


def transpose_output_length(length, kernel, padding, stride, output_padding=None, dilation=1):
    """The transposed convolution's output size along one axis (None stays None)."""
    if length is None:
        return None
    before, after = transpose_crops(length, kernel, stride, padding, output_padding, dilation)
    return (length - 1) * stride + (kernel - 1) * dilation + 1 - before - after


def pad_spatial(a, pads, value=0.0):
    """`a` padded on its spatial axes by `pads` ((before, after) per axis)."""
    if not any(lo or hi for lo, hi in pads):
        return a
    return xp.pad(a, ((0, 0),) + tuple(pads) + ((0, 0),), constant_values=value)


def unpad(a, pads, size):
    """The inverse of `pad_spatial`: the `size` cells after each axis's padding (a view)."""
    return a[(slice(None),) + tuple(slice(lo, lo + n) for (lo, _), n in zip(pads, size))]


def window_view(xpad, kernel, stride, dilation, out):
    """Every window of the padded input at once: a strided view (batch, *out, *kernel, channels).
    Copying it (a reshape) is im2col; the windows overlap, so write nothing through it."""
    spatial = xpad.strides[1:-1]
    return xp.lib.stride_tricks.as_strided(
        xpad, (xpad.shape[0],) + tuple(out) + tuple(kernel) + (xpad.shape[-1],),
        (xpad.strides[0],) + tuple(b * s for b, s in zip(spatial, stride))
        + tuple(b * d for b, d in zip(spatial, dilation)) + (xpad.strides[-1],))


@functools.lru_cache(maxsize=512)
def kernel_offsets(kernel, stride, dilation, out):
    """For each position in the window (row-major), (its index, the slices of the padded input's
    spatial axes it reads at all output positions); prefix a batch slice to index an array.
    Cached: a layer asks for the same ones at every call (made anew, 10 to 50 us a call)."""
    per_axis = [[(i, slice(i * d, i * d + s * (o - 1) + 1, s)) for i in range(k)]
                for k, s, d, o in zip(kernel, stride, dilation, out)]
    return tuple((tuple(i for i, _ in combo), tuple(region for _, region in combo))
                 for combo in itertools.product(*per_axis))


def to_channels_last(x):
    """(batch, channels, *spatial) -> (batch, *spatial, channels), a Tensor op."""
    return x.transpose((0,) + tuple(range(2, x.ndim)) + (1,))


def to_channels_first(x):
    """(batch, *spatial, channels) -> (batch, channels, *spatial), a Tensor op."""
    return x.transpose((0, x.ndim - 1) + tuple(range(1, x.ndim - 1)))
