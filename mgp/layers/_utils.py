"""Argument normalization and input checks shared by the concrete layers."""
import math

import numpy as np

from mgp import initializers, ops


def normalize_tuple(value, n, name):
    """An int or a sequence of `n` ints as a tuple of `n` positive ints, as Keras accepts them."""
    if isinstance(value, (int, np.integer)):
        value = (int(value),) * n
    try:
        value = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(value) != n or any(v < 1 for v in value):
        raise ValueError(f"{name} must be an int or a tuple of {n} positive ints, got {value!r}")
    return value


def normalize_padding(padding):
    mode = str(padding).lower()
    if mode not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return mode


def normalize_data_format(data_format):
    """None means Keras's default image data format, 'channels_last'."""
    if data_format is None:
        return "channels_last"
    value = str(data_format).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return value


def conv_output_length(length, window, padding, stride, dilation=1):
    """Output size of a sliding window along one axis (None stays None)."""
    if length is None:
        return None
    if padding == "same":
        return math.ceil(length / stride)
    span = (window - 1) * dilation + 1
    return max((length - span) // stride + 1, 0)


def floating(x, dtype):
    """Integer or boolean inputs (uint8 images) as the layer's float dtype; float tensors keep
    theirs, so a float64 gradient check stays in float64."""
    return x if x.dtype.kind == "f" else ops.cast(x, dtype)


def check_rank(layer, shape, ndim, axes):
    """Raise unless `shape` has `ndim` axes; `axes` names them for the message."""
    if len(shape) != ndim:
        raise ValueError(f"{describe(layer)} expected {ndim}-D inputs {axes}, got shape "
                         f"{tuple(shape)}")


def describe(layer):
    """"Dense 'dense_1'", the way errors name a layer."""
    return f"{type(layer).__name__} '{layer.name}'"


def reject(layer_cls, **options):
    """Refuse Keras options that mgp does not implement (regularizers, constraints, ...)."""
    for key, value in options.items():
        if value is not None:
            raise NotImplementedError(f"{layer_cls}: {key} is not supported by mgp; got "
                                      f"{value!r} (only None)")


def serialize_initializer(initializer):
    """An initializer's config; a plain function (a custom initializer) gives its name."""
    if isinstance(initializer, initializers.Initializer):
        return initializers.serialize(initializer)
    return getattr(initializer, "__name__", repr(initializer))
