"""Probabilistic losses: the cross-entropies (categorical, sparse, binary, their focal forms and
the generalized one), KL divergence and Poisson.

Cross-entropies on probabilities work from the logits when they can: mgp's softmax and sigmoid
outputs remember their input (`._logits`), so `Dense(10, activation="softmax")` followed by
`categorical_crossentropy` computes log-softmax of the logits, finite for logits of any size, as
Keras does on its TensorFlow backend. Otherwise probabilities are clipped to [1e-7, 1 - 1e-7], as
Keras clips them.
"""
import warnings

import numpy as np

from mgp import ops
from mgp.backend import xp
from mgp.losses.loss import EPSILON, BuiltinLoss, as_pred, as_true, same_shape
from mgp.tensor import Tensor


# ============================================ helpers ===============================================

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


def _categorical_log_probs(y_pred, from_logits, axis):
    """log-probabilities along `axis`: log-softmax of the logits where there are logits, else
    of the normalized, clipped predictions."""
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax", axis)
    if logits is not None:
        return ops.log_softmax(logits, axis=axis)
    return _log_probs(y_pred, axis)


def _check_one_hot(name, t, y_pred):
    if tuple(t.shape) == y_pred.shape:
        return
    classes = y_pred.shape[-1] if y_pred.ndim else 0
    if y_pred.ndim and tuple(t.shape) in (y_pred.shape[:-1], y_pred.shape[:-1] + (1,)):
        raise ValueError(
            f"{name} expects one-hot labels of the predictions' shape {y_pred.shape}, got "
            f"labels of shape {tuple(t.shape)}. For integer class labels use "
            f"sparse_categorical_crossentropy, or one-hot encode them with "
            f"mgp.utils.to_categorical(y, num_classes={classes})")
    raise ValueError(f"{name}: y_true has shape {tuple(t.shape)} but y_pred has shape "
                     f"{y_pred.shape}; they must match")


def _warn_single_class(name, y_pred):
    if y_pred.ndim and y_pred.shape[-1] == 1:
        warnings.warn(f"{name} got predictions of shape {y_pred.shape} with a single class, "
                      f"so the loss is always 0; use binary_crossentropy for two classes",
                      stacklevel=3)


def _smooth_categorical(t, label_smoothing):
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    return t


def _class_labels(name, y_true, y_pred, axis, ignore_class=None):
    """Integer labels for predictions with classes along `axis`, checked: the right shape,
    whole numbers, within [0, classes) (except `ignore_class`). Returns (labels, valid)."""
    labels = as_true(y_true, name)
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
    elif labels.dtype.kind not in "iub":
        raise ValueError(f"{name} expects integer class labels, got dtype {labels.dtype}")
    labels = labels.astype(np.int64, copy=False)
    valid = None
    if ignore_class is not None:
        valid = labels != int(ignore_class)
        labels = xp.where(valid, labels, 0)
    classes = y_pred.shape[axis]
    if labels.size and bool(((labels < 0) | (labels >= classes)).any()):  # one wait on a GPU
        raise ValueError(f"{name}: labels must lie in [0, {classes}) for predictions with "
                         f"{classes} classes (shape {y_pred.shape}), got values from "
                         f"{labels.min()} to {labels.max()}")
    return labels, valid


# ========================================= cross-entropies ==========================================

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
    y_pred, t = as_pred(y_pred, name), as_true(y_true, name)
    _check_one_hot(name, t, y_pred)
    _warn_single_class(name, y_pred)
    t = _smooth_categorical(t.astype(y_pred.dtype, copy=False), label_smoothing)
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax", axis)
    if logits is not None:  # fused log-softmax and its backward
        return ops.nn.cross_entropy(_last(logits, axis), _last(t, axis))
    return -(t * _log_probs(y_pred, axis)).sum(axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Cross-entropy between integer class labels and predicted class probabilities.

    Args:
        y_true: class indices in [0, C), shape (N,) or (N, 1) for y_pred (N, C); integral floats
            such as 3.0 are accepted.
        y_pred: probabilities (or logits with from_logits=True), classes along `axis`.
        ignore_class: a label value (e.g. -1 or 255 for padding) whose entries get loss 0 and
            a mask on the result, so that a Loss averages over the other entries only.
    Returns:
        Tensor of per-sample losses, y_pred's shape without `axis`.
    """
    name = "sparse_categorical_crossentropy"
    y_pred = as_pred(y_pred, name)
    labels, valid = _class_labels(name, y_true, y_pred, axis, ignore_class)
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax", axis)
    if logits is not None:
        out = ops.nn.cross_entropy(_last(logits, axis), labels)
    else:
        one_hot = (labels[..., None] == xp.arange(y_pred.shape[axis])).astype(y_pred.dtype)
        out = -(one_hot * _log_probs(_last(y_pred, axis), -1)).sum(axis=-1)
    if valid is not None:
        out = ops.where(valid, out, 0.0)
        out._keras_mask = valid
    return out


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy, averaged over `axis`: -[t log p + (1 - t) log(1 - p)].

    Args:
        y_true: 0/1 (or soft) labels, y_pred's shape; (N,) is accepted for y_pred (N, 1).
        y_pred: probabilities (or logits with from_logits=True).
    Returns:
        Tensor of per-sample losses, y_pred's shape without `axis`.
    """
    name = "binary_crossentropy"
    y_pred = as_pred(y_pred, name)
    logits = y_pred if from_logits else _logits_of(y_pred, "sigmoid")
    # align the shapes of the logits, not of the sigmoid's output (a reshape would hide them)
    t, x = same_shape(name, as_true(y_true, name),
                      logits if logits is not None else y_pred)
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    if logits is not None:  # fused, stable for logits of any size
        return ops.nn.binary_cross_entropy_with_logits(x, t).mean(axis=axis)
    p = x.clip(EPSILON, 1 - EPSILON)
    return -(t * p.log() + (1 - t) * (1 - p).log()).mean(axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy scaled by (1 - p_t)^gamma, which down-weights the examples the model
    already gets right (Lin et al., 2017), averaged over `axis`.

    Args:
        apply_class_balancing: also weight positives by `alpha` and negatives by 1 - alpha.
        gamma: the focusing exponent; 0 gives binary cross-entropy.
    Returns:
        Tensor of per-sample losses, y_pred's shape without `axis`.
    """
    name = "binary_focal_crossentropy"
    y_pred = as_pred(y_pred, name)
    logits = y_pred if from_logits else _logits_of(y_pred, "sigmoid")
    t, x = same_shape(name, as_true(y_true, name),
                      logits if logits is not None else y_pred)
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    if logits is not None:  # log sigmoid(x) = -softplus(-x), stable for logits of any size
        p = ops.sigmoid(x)
        bce = t * ops.softplus(-x) + (1 - t) * ops.softplus(x)
    else:
        p = x
        clipped = x.clip(EPSILON, 1 - EPSILON)
        bce = -(t * clipped.log() + (1 - t) * (1 - clipped).log())
    p_t = p * t + (1 - p) * (1 - t)
    focal = (1 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = focal * (t * alpha + (1 - t) * (1 - alpha))
    return focal.mean(axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy with each class's term scaled by alpha (1 - p)^gamma, summed
    along `axis`: the focal loss for many classes.

    Returns:
        Tensor of per-sample losses, y_pred's shape without `axis`.
    """
    name = "categorical_focal_crossentropy"
    y_pred, t = as_pred(y_pred, name), as_true(y_true, name)
    _check_one_hot(name, t, y_pred)
    _warn_single_class(name, y_pred)
    t = _smooth_categorical(t.astype(y_pred.dtype, copy=False), label_smoothing)
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax", axis)
    if logits is not None:
        log_p = ops.log_softmax(logits, axis=axis)
        p = log_p.exp()
    else:
        p = (y_pred / y_pred.sum(axis=axis, keepdims=True)).clip(EPSILON, 1 - EPSILON)
        log_p = p.log()
    return (alpha * (1 - p) ** gamma * (-t * log_p)).sum(axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p_y^q) / q for integer labels y and class probabilities p (Zhang & Sabuncu, 2018):
    cross-entropy as q -> 0, mean absolute error at q = 1; robust to noisy labels.

    Args:
        y_true: integer class labels (N,); y_pred: probabilities (N, C).
        q: in (0, 1).
    """
    name = "categorical_generalized_cross_entropy"
    y_pred = as_pred(y_pred, name)
    labels, _ = _class_labels(name, y_true, y_pred, -1)
    one_hot = (labels[..., None] == xp.arange(y_pred.shape[-1])).astype(y_pred.dtype)
    p = (y_pred * one_hot).sum(axis=-1)
    return (1 - p ** q) / q


def kl_divergence(y_true, y_pred):
    """sum(t log(t / p)) over the last axis, with t and p clipped to [1e-7, 1]."""
    name = "kl_divergence"
    t, y_pred = same_shape(name, as_true(y_true, name), as_pred(y_pred, name))
    t = xp.clip(t, EPSILON, 1)
    return (t * (xp.log(t) - y_pred.clip(EPSILON, 1).log())).sum(axis=-1)


def poisson(y_true, y_pred):
    """mean(p - t log(p + 1e-7)) over the last axis: the Poisson negative log-likelihood of
    counts t at rates p, up to a term in t alone."""
    name = "poisson"
    t, y_pred = same_shape(name, as_true(y_true, name), as_pred(y_pred, name))
    return (y_pred - t * (y_pred + EPSILON).log()).mean(axis=-1)


# ============================================ classes ===============================================

class CategoricalCrossentropy(BuiltinLoss):
    """Cross-entropy for one-hot labels (see `categorical_crossentropy`).

    Example:
        >>> loss = mgp.losses.CategoricalCrossentropy(from_logits=True)
        >>> loss([[0, 1]], mgp.tensor([[0.0, 2.0]]))   # a scalar Tensor
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(BuiltinLoss):
    """Cross-entropy for integer labels (see `sparse_categorical_crossentropy`).

    Example:
        >>> loss = mgp.losses.SparseCategoricalCrossentropy(from_logits=True)
        >>> loss([1, 0], mgp.tensor([[0.0, 2.0], [1.0, -1.0]]))
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)


class BinaryCrossentropy(BuiltinLoss):
    """Binary cross-entropy for 0/1 labels (see `binary_crossentropy`)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(BuiltinLoss):
    """Focal binary cross-entropy (see `binary_focal_crossentropy`)."""

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(binary_focal_crossentropy, reduction, name, dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(BuiltinLoss):
    """Focal categorical cross-entropy (see `categorical_focal_crossentropy`)."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha,
                         gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


class CategoricalGeneralizedCrossEntropy(BuiltinLoss):
    """Generalized cross-entropy for integer labels (see
    `categorical_generalized_cross_entropy`); `q` in (0, 1)."""

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in (0, 1), got {q}")
        super().__init__(categorical_generalized_cross_entropy, reduction, name, dtype, q=q)


class KLDivergence(BuiltinLoss):
    """Kullback-Leibler divergence between label and predicted distributions (alias 'kld')."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction, name, dtype)


class Poisson(BuiltinLoss):
    """Poisson loss: mean(y_pred - y_true log y_pred)."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction, name, dtype)
