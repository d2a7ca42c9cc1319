"""The data `fit`, `evaluate` and `predict` take: arrays, or lists / dicts of arrays (several
inputs or outputs), with one sample per row, cut into batches for the step methods.

A batch hands the step methods Tensors, as Keras hands its backend's tensors: floating data as
float32 (float64 included), integers and booleans as they are (token ids stay integers).
"""
import numpy as np

from mgp.backend import to_numpy, xp
from mgp.errors import InvalidArgumentError, InvalidDataError
from mgp.layers.symbolic import flatten, map_structure
from mgp.models import functional
from mgp.models.checks import check_finite as check_finite_array, check_numeric
from mgp.tensor import Tensor
from mgp.utils.data_adapter_utils import pack_x_y_sample_weight


def to_host(data, what):
    """`data` with every leaf a host NumPy array with a batch axis (None stays None)."""
    def host(a):
        if a is None:
            return None
        a = to_numpy(a.data) if isinstance(a, Tensor) else np.asarray(a)
        if a.ndim == 0:
            raise InvalidDataError(f"{what} must be an array with a batch axis (one sample per "
                                   f"row), or a list / dict of such arrays (one per input or "
                                   f"output); got the scalar {a.item()!r} (a list of numbers "
                                   f"is read as one input each: pass np.asarray({what}))")
        if a.dtype == object:
            raise InvalidDataError(f"{what} holds Python objects (dtype object), not numbers; "
                                   f"pad sequences of different lengths with "
                                   f"mgp.utils.pad_sequences")
        if a.dtype.kind not in "US":  # strings: for a model whose input takes them
            check_numeric(a, what)
        return a
    if isinstance(data, tuple):
        data = list(data)
    return map_structure(host, data)


def num_samples(data, what):
    lengths = [len(a) for a in flatten(data) if a is not None]
    if not lengths:
        raise InvalidDataError(f"{what} is missing")
    if len(set(lengths)) != 1:
        raise InvalidDataError(f"all {what} arrays must have the same number of samples, got "
                         f"{lengths}")
    return lengths[0]


def check_finite(data, what):
    for a in flatten(data):
        if a is not None:
            check_finite_array(a, what)


def take(data, idx):
    """Rows `idx` (a slice or index array) of every array in `data`."""
    return map_structure(lambda a: None if a is None else a[idx], data)


def batch(xs, ys, weights, idx, predict=False):
    """Rows `idx` of the host arrays as the step methods' `data`: `x`, `(x, y)` or
    `(x, y, sample_weight)`, as Tensors."""
    x = to_tensors(take(xs, idx))
    if predict or ys is None:
        return pack_x_y_sample_weight(x)
    y = to_tensors(take(ys, idx))
    w = None if weights is None else Tensor(weights[idx])
    return pack_x_y_sample_weight(x, y, w)


def to_tensors(data):
    """A batch as Tensors on the active device: floats as float32, other dtypes kept."""
    def tensor(a):
        if a is None:
            return None
        if a.dtype.kind == "f":
            return Tensor(xp.asarray(a, dtype=np.float32))
        return Tensor(xp.asarray(a))
    return map_structure(tensor, data)


def sample_weights(sample_weight, class_weight, y, n):
    """Per-sample weights (float32, (n,)) from `sample_weight` and/or `class_weight`, or None;
    `class_weight` weighs each sample by the class of its label (one output only)."""
    weights = None
    if sample_weight is not None:
        weights = as_weights(sample_weight, n)
    if class_weight is not None:
        targets = flatten(y)
        if len(targets) != 1:
            raise InvalidArgumentError(f"class_weight works for a model with one output; the "
                                       f"targets are {len(targets)} arrays (give sample_weight "
                                       f"instead)")
        y = targets[0]
        labels = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(n)
        labels = labels.astype(np.int64)
        missing = sorted(set(np.unique(labels).tolist()) - set(class_weight))
        if missing:
            raise InvalidArgumentError(f"class_weight has no weight for classes {missing}")
        lookup = np.zeros(int(labels.max()) + 1, dtype=np.float32)
        for cls, w in class_weight.items():
            if 0 <= cls < len(lookup):
                lookup[cls] = w
        per_class = lookup[labels]
        weights = per_class if weights is None else weights * per_class
    return weights


def as_weights(sample_weight, n, what="sample_weight"):
    """Per-sample weights as float32 (n,), checked: numbers, finite, one per sample."""
    w = sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight
    try:
        weights = np.asarray(to_numpy(w), dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise InvalidDataError(f"{what} must hold numbers, one weight per sample: {e}") from None
    if weights.shape not in ((n,), (n, 1)):
        raise InvalidDataError(f"{what} must have shape ({n},), one weight per sample, got "
                               f"{weights.shape}")
    check_finite_array(weights, what)
    return weights.reshape(n)


def check_input_shapes(model, xs):
    """Compare data with a model's declared input shapes (when it has them)."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return
    arrays = model._flat_inputs(xs) if isinstance(xs, dict) else flatten(xs)
    if len(arrays) != len(inputs):
        raise InvalidDataError(f"model '{model.name}' has {len(inputs)} inputs, got "
                               f"{len(arrays)} arrays")
    for a, sym in zip(arrays, inputs):
        if a.dtype.kind in "US" and np.dtype(sym.dtype).kind not in "USO":
            raise InvalidDataError(f"model '{model.name}' input '{sym.layer.name}' takes "
                                   f"{sym.dtype} numbers, but x holds strings (dtype "
                                   f"{a.dtype}), such as {str(a.flat[0])!r}")
        expected = sym.shape[1:]
        shape = tuple(a.shape)
        shape = functional.adjusted_shape(shape, sym)  # Keras adjusts a trailing 1
        if len(expected) != len(shape) - 1 or any(
                e is not None and e != g for e, g in zip(expected, shape[1:])):
            raise InvalidDataError(f"model '{model.name}' expected input shape "
                                   f"{(None,) + tuple(expected)}, got {a.shape} (input "
                                   f"'{sym.layer.name}')")


def concatenate_outputs(chunks):
    """predict's per-batch outputs (each a Tensor, list or dict of them) joined along the batch
    axis, as NumPy arrays in the same structure."""
    first = chunks[0]
    columns = list(zip(*[flatten(c) for c in chunks]))
    joined = [np.concatenate([to_numpy(t.data if isinstance(t, Tensor) else t) for t in col])
              for col in columns]
    it = iter(joined)
    return map_structure(lambda _: next(it), first)
