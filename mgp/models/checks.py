"""What `fit`, `evaluate` and `predict` check before their first step, so that a bad argument or
a bad value anywhere in the data (the last row included) is an error before any weight, optimizer
variable or metric has changed.

Each check is one vectorized pass over an array (a min, a max, an `isfinite`), done once per call
rather than per batch. The losses and metrics still check each batch they get (a source of
batches, a generator, is only seen batch by batch); these checks move the same rules up front for
arrays, where the whole of the data is known.
"""
import numbers

import numpy as np

from mgp.errors import InvalidArgumentError, InvalidDataError
from mgp.layers.symbolic import flatten

# ========================================== arguments ===========================================

def with_context(error, message):
    """`error` with another message (saying where it happened), of the same type where that
    type takes a message, so that `except InvalidDataError` still catches it."""
    try:
        return type(error)(message)
    except TypeError:
        return ValueError(message)



def _is_int(value):
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def check_epochs(epochs, initial_epoch):
    for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
        if not _is_int(value) or value < 0:
            raise InvalidArgumentError(f"fit(): {name} must be a non-negative integer, got "
                                       f"{value!r}")


def check_validation_freq(validation_freq):
    """An epoch interval (a positive int) or the epochs to validate at (positive ints)."""
    if _is_int(validation_freq):
        if validation_freq >= 1:
            return
    elif isinstance(validation_freq, (list, tuple)):
        if all(_is_int(e) and e >= 1 for e in validation_freq):
            return
    raise InvalidArgumentError(f"fit(): validation_freq must be a positive integer (validate "
                               f"every that many epochs) or a list of epoch numbers counted "
                               f"from 1, got {validation_freq!r}")


def check_validation_split(validation_split):
    if isinstance(validation_split, bool) or not isinstance(
            validation_split, (numbers.Real, np.floating, np.integer)) or \
            not 0 <= validation_split < 1:
        raise InvalidArgumentError(f"fit(): validation_split must be in [0, 1) (a fraction), got "
                                   f"{validation_split!r}")


def check_shuffle(shuffle):
    if not isinstance(shuffle, (bool, np.bool_)):
        raise InvalidArgumentError(f"fit(): shuffle must be True or False, got {shuffle!r}")


def check_validation_data(validation_data):
    """Arrays for validation come as (x_val, y_val) or (x_val, y_val, sample_weight_val)."""
    if isinstance(validation_data, (tuple, list)) and len(validation_data) not in (2, 3):
        raise InvalidArgumentError(f"fit(): validation_data must be (x_val, y_val) or (x_val, "
                                   f"y_val, sample_weight_val), or a dataset / generator; got "
                                   f"a {type(validation_data).__name__} of "
                                   f"{len(validation_data)} items")


def check_class_weight(class_weight):
    """{class index: finite weight}."""
    if class_weight is None:
        return
    if not isinstance(class_weight, dict):
        raise InvalidArgumentError(f"class_weight must be a dict {{class index: weight}}, got "
                                   f"a {type(class_weight).__name__}")
    for cls, weight in class_weight.items():
        if not _is_int(cls):
            raise InvalidArgumentError(f"class_weight: keys must be integer class indices, got "
                                       f"{cls!r}")
        if isinstance(weight, bool) or not isinstance(weight, (numbers.Real, np.number)) or \
                not np.isfinite(weight):
            raise InvalidArgumentError(f"class_weight: the weight of class {cls} must be a "
                                       f"finite number, got {weight!r}")


# ============================================= data =============================================

_KINDS = {"U": "strings", "S": "bytes", "c": "complex numbers", "V": "raw records",
          "M": "dates", "m": "time deltas"}


def check_numeric(a, what):
    """A host array that is numbers (bool, int, float), not strings, complex or records."""
    kind = a.dtype.kind
    if kind in "biuf":
        return
    holds = _KINDS.get(kind, f"values of dtype {a.dtype}")
    raise InvalidDataError(f"{what} holds {holds} (dtype {a.dtype}), not real numbers")


def check_finite(a, what):
    """No NaN or infinity in a float array (one pass)."""
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        bad = np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))
        raise InvalidDataError(f"{what} holds NaN or infinite values in row {bad[0]} "
                               f"({_rows(bad.size)} in all); clean the data before training (a "
                               f"single NaN makes every weight NaN)")


# =========================================== targets ============================================

class _Shape:
    """Something with a `.shape`, for the loss resolution that looks only at shapes."""

    def __init__(self, shape):
        self.shape = tuple(shape)


def output_shapes(model):
    """The model's per-output shapes without the batch axis, or None when not known yet (a
    subclassed model before its first batch)."""
    outputs = getattr(model, "outputs", None)
    if outputs:
        return [tuple(o.shape[1:]) for o in outputs]
    compiled = model._compile_loss
    return getattr(compiled, "output_shapes", None) if compiled is not None else None


def _label_rules(identifier, t, pred_shape, resolve):
    """('sparse', axis, ignore_class), ('one_hot', axis) or None, for the loss or metric named
    by `identifier` on targets `t` and predictions of `pred_shape` (batch axis included)."""
    from mgp.losses.loss import LossFunctionWrapper
    from mgp.losses.probabilistic import (
        categorical_crossentropy, categorical_focal_crossentropy,
        sparse_categorical_crossentropy,
    )
    from mgp.metrics import accuracy_metrics
    try:
        obj = resolve(identifier, t, _Shape(pred_shape))
    except (ValueError, TypeError):
        return None
    obj = obj[0] if isinstance(obj, tuple) else obj
    if isinstance(obj, LossFunctionWrapper):
        kwargs = obj._fn_kwargs
        if obj.fn is sparse_categorical_crossentropy:
            return "sparse", kwargs.get("axis", -1), kwargs.get("ignore_class")
        if obj.fn in (categorical_crossentropy, categorical_focal_crossentropy):
            return "one_hot", kwargs.get("axis", -1)
    if isinstance(obj, (accuracy_metrics.SparseCategoricalAccuracy,
                        accuracy_metrics.SparseTopKCategoricalAccuracy)):
        if not getattr(obj, "from_sorted_ids", False):
            return "sparse", -1, None
    return None


def check_targets(model, ys, n, what="y", training=True):
    """The targets against the compiled loss and metrics and the model's output shapes: class
    indices whole numbers in [0, classes) (or the loss's `ignore_class`), one-hot labels of the
    outputs' shape with values in [0, 1]; and, for training, no NaN or infinity anywhere."""
    from mgp.models.compile_utils import _per_output, resolve_loss, resolve_metric, targets_for
    for a in flatten(ys):
        if a is not None:
            check_numeric(a, what)
            if training:
                check_finite(a, what)
    shapes = output_shapes(model)
    if shapes is None or ys is None:
        return
    names = list(model.output_names) if len(shapes) == len(getattr(
        model, "output_names", []) or []) else [None] * len(shapes)
    try:
        flat = targets_for(ys, names, what)
    except ValueError as e:
        raise InvalidDataError(str(e)) from None
    rules = [[] for _ in shapes]
    loss = model._compile_loss
    if loss is not None:
        for i, identifier in enumerate(_per_output(loss._loss, names, "loss")):
            if identifier is not None and flat[i] is not None:
                rules[i].append(_label_rules(identifier, flat[i], (n,) + shapes[i],
                                             resolve_loss))
    metrics = model._compile_metrics
    if metrics is not None:
        for value in (metrics._metrics, metrics._weighted):
            for i, entry in enumerate(_metric_entries(value, names)):
                for m in entry:
                    if flat[i] is not None:
                        rules[i].append(_label_rules(m, flat[i], (n,) + shapes[i],
                                                     resolve_metric))
    for i, (t, shape) in enumerate(zip(flat, shapes)):
        where = what if len(shapes) == 1 else f"{what} for output '{names[i] or i}'"
        for rule in rules[i]:
            if rule is not None and t is not None:
                _check_labels(rule, t, (n,) + shape, where)


def _metric_entries(value, names):
    """The compiled (weighted) metrics as one list per output, as CompileMetrics reads them."""
    from mgp.models.compile_utils import _per_output
    if not value:
        return [[] for _ in names]
    if len(names) == 1:
        return [flatten(value)]
    try:
        entries = _per_output(value, names, "metrics")
    except ValueError:
        return [[] for _ in names]
    return [[] if e is None else flatten(e) if isinstance(e, (list, tuple)) else [e]
            for e in entries]


def _first_bad(bad, t):
    """(rows with a bad entry, the first such row, its first bad value) for a mask over `t`."""
    rows = bad.reshape(len(t), -1)
    any_bad = rows.any(axis=1)
    row = int(np.flatnonzero(any_bad)[0])
    return int(any_bad.sum()), row, t.reshape(len(t), -1)[row][rows[row]][0]


def _rows(count):
    return f"{count} row" if count == 1 else f"{count} rows"


def _check_labels(rule, t, pred_shape, what):
    if None in pred_shape or not pred_shape[1:]:
        return
    classes = pred_shape[rule[1]]
    if rule[0] == "sparse":
        ignore = rule[2]
        axis = rule[1] % len(pred_shape)
        expected = pred_shape[:axis] + pred_shape[axis + 1:]
        if t.shape not in (expected, expected + (1,)):
            hint = " (these look like one-hot labels: use categorical_crossentropy)" \
                if t.shape == pred_shape else ""
            raise InvalidDataError(f"{what} has shape {t.shape}, but class indices for "
                                   f"predictions of shape {pred_shape} have shape "
                                   f"{expected}{hint}")
        if t.dtype.kind == "f":
            fractional = t != np.round(t)  # NaN included
            if fractional.any():
                count, row, value = _first_bad(fractional, t)
                raise InvalidDataError(f"{what} must hold integer class indices for "
                                       f"predictions with {classes} classes, but row {row} "
                                       f"holds {float(value):g} ({_rows(count)} in all)")
        bad = (t < 0) | (t >= classes)
        if ignore is not None:
            bad &= t != ignore
        if bad.any():
            count, row, value = _first_bad(bad, t)
            extra = f" (or {ignore}, the loss's ignore_class)" if ignore is not None else ""
            raise InvalidDataError(f"{what}: class indices must lie in [0, {classes}){extra} "
                                   f"for predictions with {classes} classes, but row {row} holds "
                                   f"{float(value):g} ({_rows(count)} in all)")
        return
    if t.shape != pred_shape:
        hint = f"; one-hot encode class indices with mgp.utils.to_categorical(y, " \
               f"num_classes={classes}), or use sparse_categorical_crossentropy" \
            if t.shape in (pred_shape[:-1], pred_shape[:-1] + (1,)) else ""
        raise InvalidDataError(f"{what} has shape {t.shape}, but one-hot labels for "
                               f"predictions of shape {pred_shape} have that shape{hint}")
    bad = ~((t >= 0) & (t <= 1))  # NaN included
    if bad.any():
        count, row, value = _first_bad(bad, t)
        raise InvalidDataError(f"{what}: one-hot (or probability) labels must lie in [0, 1], "
                               f"but row {row} holds {float(value):g} ({_rows(count)} in all)")
