"""Argument normalization and input checks shared by the concrete layers."""
import numpy as np

from mgp import initializers, ops
from mgp.errors import InvalidArgumentError
from mgp.ops.windows import output_length


def normalize_tuple(value, n, name, minimum=1):
    """An int or a sequence of `n` ints as a tuple of `n` ints of at least `minimum` (positive
    by default), as Keras accepts them."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value),) * n
    try:
        value = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}") from None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    value = tuple(int(v) for v in value)
    if len(value) != n or any(v < minimum for v in value):
        kind = "positive" if minimum == 1 else "non-negative" if minimum == 0 else \
            f"at least {minimum}"
        raise ValueError(f"{name} must be an int or a tuple of {n} {kind} ints, got {value!r}")
    return value


def normalize_padding(padding, allow_causal=False):
    """'valid' or 'same' (and 'causal' where a 1-D convolution allows it), lower-cased."""
    mode = str(padding).lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if mode not in allowed:
        words = "'valid', 'same' or 'causal'" if allow_causal else "'valid' or 'same'"
        raise ValueError(f"padding must be {words}, got {padding!r}")
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
    """Output size of a sliding window along one axis (None stays None; never below 0)."""
    out = output_length(length, window, padding, stride, dilation)
    return None if out is None else max(out, 0)


def floating(x, dtype):
    """Integer or boolean inputs (uint8 images) as the layer's float dtype; float tensors keep
    theirs, so a float64 gradient check stays in float64."""
    return x if x.dtype.kind == "f" else ops.cast(x, dtype)


def check_rank(layer, shape, ndim, axes):
    """Raise unless `shape` has `ndim` axes; `axes` names them for the message."""
    if len(shape) != ndim:
        raise ValueError(f"{describe(layer)} expected {ndim}-D inputs {axes}, got shape "
                         f"{tuple(shape)}")


def resolved(layer, name, value, get):
    """`get(value)` for the layer's argument `name` (an initializer, regularizer, constraint or
    activation), with an error naming the layer and the argument when `get` cannot read it."""
    try:
        return get(value)
    except (ValueError, TypeError) as e:
        raise InvalidArgumentError(f"{type(layer).__name__}: {name}={value!r}: {e}") from None


def seed_of(layer, seed):
    """A layer's `seed` argument: None or a non-negative int (what NumPy's generators take)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgumentError(f"{type(layer).__name__}: seed must be an int or None (a "
                                   f"non-negative int), got {seed!r}")
    return int(seed)


def number(layer, name, value, minimum=None, maximum=None):
    """A layer's real-number argument `name` as a float, within [minimum, maximum] if given."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer,
                                                            np.floating)) and np.isfinite(value)
    if ok and (minimum is not None and value < minimum or maximum is not None and value > maximum):
        ok = False
    if not ok:
        bounds = f" in [{minimum}, {maximum}]" if minimum is not None and maximum is not None \
            else f" >= {minimum}" if minimum is not None else ""
        raise InvalidArgumentError(f"{type(layer).__name__}: {name} must be a finite "
                                   f"number{bounds}, got {value!r}")
    return float(value)


def noise_shape_of(layer, noise_shape):
    """A dropout layer's `noise_shape`: None, or a tuple of positive ints and None entries."""
    if noise_shape is None:
        return None
    if not isinstance(noise_shape, (list, tuple)) or any(
            n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))
                               or n < 1) for n in noise_shape):
        raise InvalidArgumentError(f"{type(layer).__name__}: noise_shape must be a tuple of "
                                   f"positive ints or None entries, got {noise_shape!r}")
    return tuple(noise_shape)


def integer(layer, name, value, minimum=1):
    """A layer's integer argument `name`, at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidArgumentError(f"{type(layer).__name__}: {name} must be an int >= "
                                   f"{minimum}, got {value!r}")
    return int(value)


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


def normalize_pairs(value, rank, name):
    """Keras's padding / cropping amounts: one (before, after) pair of non-negative ints per
    spatial axis, from an int (every side), one int per axis (both sides) or one pair per axis.
    A 1-D layer takes an int or one (before, after) pair."""
    def pair(v, what):
        return normalize_tuple(v, 2, what, minimum=0)
    if rank == 1:
        return (pair(value, name),)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (pair(value, name),) * rank
    try:
        entries = tuple(value)
    except TypeError:
        entries = ()
    if len(entries) != rank:
        raise ValueError(f"{name} must be an int, a tuple of {rank} ints or a tuple of {rank} "
                         f"(before, after) pairs, got {value!r}")
    return tuple(pair(v, f"{name} (axis {i + 1})") for i, v in enumerate(entries))


def spatial_axes(rank, data_format):
    """The spatial axes' positions in a (batch, ...) input of the given layout."""
    first = 1 if data_format == "channels_last" else 2
    return tuple(range(first, first + rank))
