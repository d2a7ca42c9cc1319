"""Losses as Keras names them.

Each loss is a function `fn(y_true, y_pred, ...)` returning one value per sample (the last axis
reduced), and a `Loss` class whose call `loss(y_true, y_pred, sample_weight=None)` reduces those
to a scalar Tensor: the sum over all values divided by their number ("sum_over_batch_size").
`y_pred` is a Tensor (gradients flow into it); `y_true` is an array or Tensor (no gradient).

Cross-entropies on probabilities work from the logits when they can: mgp's softmax and sigmoid
outputs remember their input (`._logits`), so `Dense(10, activation="softmax")` followed by
`categorical_crossentropy` computes log-softmax of the logits, finite for logits of any size, as
Keras does. Otherwise probabilities are clipped to [1e-7, 1 - 1e-7], as Keras clips them.
"""
import warnings

import numpy as np

from mgp import ops
from mgp.backend import xp
from mgp.layers.base import snake_case
from mgp.tensor import Tensor

EPSILON = 1e-7  # Keras's backend.epsilon()

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ============================================ helpers ===============================================

def _pred(y_pred):
    if isinstance(y_pred, Tensor):
        return y_pred
    arr = xp.asarray(y_pred)
    return Tensor(arr, dtype=np.float32 if arr.dtype.kind != "f" else None)


def _true(y_true):
    """The labels as an array; they take no gradient."""
    return y_true.data if isinstance(y_true, Tensor) else xp.asarray(y_true)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Make ranks equal when they differ by a trailing axis of size 1, as Keras does: (N,) and
    (N, 1) become (N, 1) and (N, 1); (N, T) and (N, T, 1) become (N, T) and (N, T)."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.reshape(tuple(x2.shape) + (1,))
        else:
            x1 = x1.reshape(tuple(x1.shape[:-1]))
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.reshape(tuple(x1.shape) + (1,))
        else:
            x2 = x2.reshape(tuple(x2.shape[:-1]))
    return x1, x2


def _same_shape(name, t, y_pred):
    t2, y2 = squeeze_or_expand_to_same_rank(t, y_pred)
    if tuple(t2.shape) != tuple(y2.shape):
        raise ValueError(f"{name}: y_true has shape {tuple(t.shape)} but y_pred has shape "
                         f"{y_pred.shape}; they must match")
    return t2.astype(y2.dtype, copy=False), y2


def _last(x, axis):
    """Move `axis` of a Tensor or array to the end (cross_entropy works on the last axis)."""
    axis = axis % len(x.shape)
    if axis == len(x.shape) - 1:
        return x
    if isinstance(x, Tensor):
        return ops.transpose(x, [i for i in range(x.ndim) if i != axis] + [axis])
    return xp.moveaxis(x, axis, -1)


def _logits_of(y_pred, op, axis=-1):
    """The logits behind a softmax/sigmoid output, or None. A softmax taken along another axis
    than the loss's does not sum to one along it, and is used as probabilities instead."""
    logits = getattr(y_pred, "_logits", None)
    if logits is None or y_pred._op != op:
        return None
    if op == "softmax" and not bool(xp.all(xp.abs(y_pred.data.sum(axis=axis) - 1) < 1e-3)):
        return None
    return logits


def _log_probs(y_pred, axis):
    """log of the predictions normalized along `axis` and clipped, as Keras does."""
    p = y_pred / y_pred.sum(axis=axis, keepdims=True)
    return p.clip(EPSILON, 1 - EPSILON).log()


# ============================================ functions =============================================

def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)^2) over the last axis: shape y_pred.shape[:-1]."""
    t, y_pred = _same_shape("mean_squared_error", _true(y_true), _pred(y_pred))
    d = y_pred - t
    return (d * d).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis."""
    t, y_pred = _same_shape("mean_absolute_error", _true(y_true), _pred(y_pred))
    return (y_pred - t).abs().mean(axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Mean over the last axis of 0.5 e^2 where |e| <= delta, else delta (|e| - 0.5 delta)."""
    t, y_pred = _same_shape("huber", _true(y_true), _pred(y_pred))
    error = y_pred - t
    small = xp.abs(error.data) <= delta
    abs_error = error.abs()
    return ops.where(small, 0.5 * error * error, delta * abs_error - 0.5 * delta * delta) \
        .mean(axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy between one-hot (or soft) labels and predicted class probabilities.

    Args:
        y_true: one-hot labels, the shape of y_pred, e.g. (N, C).
        y_pred: probabilities (or logits with from_logits=True), e.g. (N, C).
        label_smoothing: mix the labels with the uniform distribution by this much.
        axis: the class axis.
    Returns:
        Tensor of per-sample losses, y_pred's shape without `axis`.
    """
    name = "categorical_crossentropy"
    y_pred, t = _pred(y_pred), _true(y_true)
    if tuple(t.shape) != y_pred.shape:
        classes = y_pred.shape[axis] if y_pred.ndim else 0
        if y_pred.ndim and tuple(t.shape) in (y_pred.shape[:-1], y_pred.shape[:-1] + (1,)):
            raise ValueError(
                f"{name} expects one-hot labels of the predictions' shape {y_pred.shape}, got "
                f"labels of shape {tuple(t.shape)}. For integer class labels use "
                f"sparse_categorical_crossentropy, or one-hot encode them with "
                f"mgp.utils.to_categorical(y, num_classes={classes})")
        raise ValueError(f"{name}: y_true has shape {tuple(t.shape)} but y_pred has shape "
                         f"{y_pred.shape}; they must match")
    if y_pred.ndim and y_pred.shape[-1] == 1:
        warnings.warn(f"{name} got predictions of shape {y_pred.shape} with a single class, "
                      f"so the loss is always 0; use binary_crossentropy for two classes",
                      stacklevel=2)
    t = t.astype(y_pred.dtype, copy=False)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax", axis)
    if logits is not None:
        return ops.nn.cross_entropy(_last(logits, axis), _last(t, axis))
    return -(t * _log_probs(y_pred, axis)).sum(axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Cross-entropy between integer class labels and predicted class probabilities.

    Args:
        y_true: class indices in [0, C), shape (N,) or (N, 1) for y_pred (N, C); integral floats
            such as 3.0 are accepted.
        y_pred: probabilities (or logits with from_logits=True), classes along `axis`.
    Returns:
        Tensor of per-sample losses, y_pred's shape without `axis`.
    """
    if ignore_class is not None:
        raise NotImplementedError("sparse_categorical_crossentropy: mgp does not implement "
                                  "ignore_class")
    name = "sparse_categorical_crossentropy"
    y_pred, labels = _pred(y_pred), _true(y_true)
    if labels.ndim == y_pred.ndim and labels.ndim and labels.shape[axis] == 1:
        labels = labels.squeeze(axis)
    expected = tuple(n for i, n in enumerate(y_pred.shape) if i != axis % max(y_pred.ndim, 1))
    if tuple(labels.shape) != expected:
        hint = (" (these look like one-hot labels: use categorical_crossentropy)"
                if tuple(labels.shape) == y_pred.shape else "")
        raise ValueError(f"{name}: labels of shape {tuple(labels.shape)} do not fit predictions "
                         f"of shape {y_pred.shape}; expected labels of shape {expected}{hint}")
    if labels.dtype.kind == "f":
        if not bool(xp.all(labels == xp.round(labels))):
            raise ValueError(f"{name} expects integer class labels, got non-integer values "
                             f"such as {labels[labels != xp.round(labels)].flat[0]}")
        labels = labels.astype(np.int64)
    elif labels.dtype.kind not in "iub":
        raise ValueError(f"{name} expects integer class labels, got dtype {labels.dtype}")
    classes = y_pred.shape[axis]
    if labels.size and bool(((labels < 0) | (labels >= classes)).any()):  # one wait on a GPU
        raise ValueError(f"{name}: labels must lie in [0, {classes}) for predictions with "
                         f"{classes} classes (shape {y_pred.shape}), got values from "
                         f"{labels.min()} to {labels.max()}")
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax", axis)
    if logits is not None:
        return ops.nn.cross_entropy(_last(logits, axis), labels.astype(np.int64, copy=False))
    one_hot = (labels[..., None] == xp.arange(classes)).astype(y_pred.dtype)
    return -(one_hot * _log_probs(_last(y_pred, axis), -1)).sum(axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy, averaged over `axis`: -[t log p + (1 - t) log(1 - p)].

    Args:
        y_true: 0/1 (or soft) labels, y_pred's shape; (N,) is accepted for y_pred (N, 1).
        y_pred: probabilities (or logits with from_logits=True).
    Returns:
        Tensor of per-sample losses, y_pred's shape without `axis`.
    """
    y_pred = _pred(y_pred)
    logits = y_pred if from_logits else _logits_of(y_pred, "sigmoid")
    # align the shapes of the logits, not of the sigmoid's output (a reshape would hide them)
    t, x = _same_shape("binary_crossentropy", _true(y_true),
                       logits if logits is not None else y_pred)
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    if logits is not None:
        return ops.nn.binary_cross_entropy_with_logits(x, t).mean(axis=axis)
    p = x.clip(EPSILON, 1 - EPSILON)
    return -(t * p.log() + (1 - t) * (1 - p).log()).mean(axis=axis)


# ============================================ classes ===============================================

def reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Weight per-sample losses and reduce them as Keras does: 'sum_over_batch_size' and 'mean'
    divide the weighted sum by the number of values, 'mean_with_sample_weight' by the sum of the
    weights, 'sum' sums, 'none' returns them."""
    weights = None
    if sample_weight is not None:
        weights = xp.asarray(_true(sample_weight), dtype=values.dtype)
        values, weights = squeeze_or_expand_to_same_rank(values, weights)
        values = values * weights
    if reduction in (None, "none") or values.ndim == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:
        divisor = float(weights.sum())
    else:
        divisor = values.size
    return total / divisor if divisor else total * 0


class Loss:
    """Base class: `loss(y_true, y_pred, sample_weight=None)` -> scalar Tensor.

    Subclasses implement `call(y_true, y_pred)` returning per-sample losses.

    Args:
        name: the loss's name. reduction: one of `REDUCTIONS` (default 'sum_over_batch_size').
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {list(REDUCTIONS)}, got {reduction!r}")
        if dtype not in (None, "float32", np.float32):
            raise NotImplementedError(f"losses compute in float32, got dtype={dtype!r}")
        self.name = name or snake_case(type(self).__name__)
        self.reduction = reduction

    def __call__(self, y_true, y_pred, sample_weight=None):
        return reduce_weighted_values(self.call(y_true, _pred(y_pred)), sample_weight,
                                      self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """A Loss from a per-sample function `fn(y_true, y_pred, **kwargs)`."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn, self._fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(_true(y_true), y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class _BuiltinLoss(LossFunctionWrapper):
    """The built-in losses: their functions align the shapes themselves (so they also do so when
    called directly, and keep a softmax/sigmoid output intact for the logits path)."""

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)


class MeanSquaredError(_BuiltinLoss):
    """Mean of squared errors (alias 'mse')."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction, name, dtype)


class MeanAbsoluteError(_BuiltinLoss):
    """Mean of absolute errors (alias 'mae')."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


class Huber(_BuiltinLoss):
    """Huber loss: quadratic for errors up to `delta`, linear beyond."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(huber, reduction, name, dtype, delta=float(delta))


class CategoricalCrossentropy(_BuiltinLoss):
    """Cross-entropy for one-hot labels (see `categorical_crossentropy`).

    Example:
        >>> loss = mgp.losses.CategoricalCrossentropy(from_logits=True)
        >>> loss([[0, 1]], mgp.tensor([[0.0, 2.0]]))   # a scalar Tensor
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(_BuiltinLoss):
    """Cross-entropy for integer labels (see `sparse_categorical_crossentropy`).

    Example:
        >>> loss = mgp.losses.SparseCategoricalCrossentropy(from_logits=True)
        >>> loss([1, 0], mgp.tensor([[0.0, 2.0], [1.0, -1.0]]))
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis


class BinaryCrossentropy(_BuiltinLoss):
    """Binary cross-entropy for 0/1 labels (see `binary_crossentropy`)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


# ============================================ lookup ================================================

_BY_NAME = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "huber": Huber,
}
_CLASSES = {cls.__name__: cls for cls in _BY_NAME.values()}


def get(identifier):
    """A Loss from a name ('mse', 'categorical_crossentropy', 'CategoricalCrossentropy'), a
    config dict (`{"class_name": ..., "config": {...}}`), or a Loss or function (returned as is;
    a function gives per-sample values, wrap it in `LossFunctionWrapper` to reduce them).

    Unlike Keras, which returns the function for a function's name, a name always gives a Loss
    instance here, so `get(name)(y_true, y_pred)` is the scalar loss.
    """
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        return _lookup(identifier.get("class_name")).from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise ValueError(f"could not interpret loss identifier {identifier!r}: expected a name, a "
                     f"config dict, a Loss or a function")


def _lookup(name):
    cls = _BY_NAME.get(name) or _CLASSES.get(name) or _BY_NAME.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown loss {name!r}; known: {sorted(_BY_NAME) + sorted(_CLASSES)}")
    return cls


def serialize(loss):
    """The loss as Keras's serialized dict (`module`, `class_name`, `config`)."""
    return {"module": "keras.losses", "class_name": type(loss).__name__,
            "config": loss.get_config(), "registered_name": None}


def deserialize(config):
    return get(config)
