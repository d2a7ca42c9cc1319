"""Accuracy metrics: exact, binary, categorical, sparse categorical and top-k.

Each per-sample function is public in the form Keras has (`mgp.metrics.binary_accuracy(y_true,
y_pred)` returns a Tensor of 0.0 / 1.0); the metric classes use its host-side form, which takes
and returns NumPy arrays.
"""
import numpy as np

from mgp.losses.loss import squeeze_or_expand_to_same_rank
from mgp.metrics.metric import host
from mgp.metrics.reduction_metrics import BuiltinMeanMetric
from mgp.tensor import Tensor


def _aligned(name, y_true, y_pred):
    t, p = squeeze_or_expand_to_same_rank(host(y_true, "y_true"), host(y_pred, "y_pred"))
    if t.shape != p.shape:
        raise ValueError(f"{name}: y_true has shape {host(y_true).shape} but y_pred has shape "
                         f"{host(y_pred).shape}; they must match")
    return t, p


def _integer_labels(name, labels, classes):
    """Sparse labels as int64, checked: whole numbers in [0, classes)."""
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        raise ValueError(f"{name} expects integer class labels, got non-integer values such as "
                         f"{labels[labels != np.round(labels)].flat[0]}")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"{name}: labels must lie in [0, {classes}) for predictions with "
                         f"{classes} classes, got values from {labels.min()} to {labels.max()}")
    return labels


def _in_top_k(labels, y_pred, k):
    """Whether each label's score is among the k highest of its row (ties count as in)."""
    classes = y_pred.shape[-1]
    kth = np.partition(y_pred, classes - min(k, classes), axis=-1)[..., classes - min(k, classes)]
    return np.take_along_axis(y_pred, labels[..., None], axis=-1)[..., 0] >= kth


# ======================================= host-side functions ========================================

def _accuracy(y_true, y_pred):
    t, p = _aligned("accuracy", y_true, y_pred)
    return (t == p).astype(np.float32)


def _binary_accuracy(y_true, y_pred, threshold=0.5):
    t, p = _aligned("binary_accuracy", y_true, y_pred)
    return (t == (p > threshold).astype(t.dtype)).astype(np.float32)


def _categorical_accuracy(y_true, y_pred):
    t, p = host(y_true, "y_true"), host(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"categorical_accuracy expects one-hot labels of the predictions' "
                         f"shape {p.shape}, got labels of shape {t.shape}; for integer labels "
                         f"use sparse_categorical_accuracy")
    return (t.argmax(-1) == p.argmax(-1)).astype(np.float32)


def _sparse_labels(name, y_true, y_pred):
    t, p = host(y_true, "y_true"), host(y_pred, "y_pred")
    if t.ndim == p.ndim and t.ndim and t.shape[-1] == 1:
        t = t.reshape(t.shape[:-1])
    if not p.ndim or t.shape != p.shape[:-1]:
        raise ValueError(f"{name}: labels of shape {host(y_true).shape} do not fit predictions "
                         f"of shape {p.shape}; expected labels of shape {p.shape[:-1]}")
    return t, p


def _sparse_categorical_accuracy(y_true, y_pred):
    t, p = _sparse_labels("sparse_categorical_accuracy", y_true, y_pred)
    return (t == p.argmax(-1)).astype(np.float32)


def _top_k_categorical_accuracy(y_true, y_pred, k=5):
    t, p = host(y_true, "y_true"), host(y_pred, "y_pred")
    if t.shape != p.shape or not p.ndim:
        raise ValueError(f"top_k_categorical_accuracy expects one-hot labels of the "
                         f"predictions' shape {p.shape}, got labels of shape {t.shape}; for "
                         f"integer labels use sparse_top_k_categorical_accuracy")
    return _in_top_k(t.argmax(-1), p, k).astype(np.float32)


def _sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    name = "sparse_top_k_categorical_accuracy"
    t, p = _sparse_labels(name, y_true, y_pred)
    if from_sorted_ids:  # y_pred holds the predicted class ids, best first
        return (p[..., :k] == t[..., None]).any(axis=-1).astype(np.float32)
    labels = _integer_labels(name, t, p.shape[-1])
    return _in_top_k(labels, p, k).astype(np.float32)


# ========================================= public functions =========================================

def accuracy(y_true, y_pred):
    """1.0 where y_true equals y_pred exactly, else 0.0: a Tensor of their aligned shape."""
    return Tensor(_accuracy(y_true, y_pred))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) equals the 0/1 label, else 0.0: a Tensor of y_pred's
    shape (labels (N,) are aligned with predictions (N, 1))."""
    return Tensor(_binary_accuracy(y_true, y_pred, threshold))


def categorical_accuracy(y_true, y_pred):
    """1.0 where the argmax of the one-hot label equals the argmax of the prediction: (N,)."""
    return Tensor(_categorical_accuracy(y_true, y_pred))


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals the argmax of the prediction: (N,)."""
    return Tensor(_sparse_categorical_accuracy(y_true, y_pred))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the k highest predictions: (N,)."""
    return Tensor(_top_k_categorical_accuracy(y_true, y_pred, k))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the k highest predictions (or, with
    `from_sorted_ids`, among the first k ids of y_pred): (N,)."""
    return Tensor(_sparse_top_k_categorical_accuracy(y_true, y_pred, k, from_sorted_ids))


# ============================================ classes ===============================================

class Accuracy(BuiltinMeanMetric):
    """How often predictions equal labels exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(_accuracy, name=name, dtype=dtype)


class BinaryAccuracy(BuiltinMeanMetric):
    """How often `y_pred > threshold` matches the 0/1 label.

    Args:
        threshold: probability above which a prediction counts as 1 (default 0.5).
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(_binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(BuiltinMeanMetric):
    """How often the predicted class (argmax) matches the one-hot label."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(_categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(BuiltinMeanMetric):
    """How often the predicted class (argmax) matches the integer label.

    Example:
        >>> m = mgp.metrics.SparseCategoricalAccuracy()
        >>> m.update_state([2, 1], [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
        >>> m.result()
        0.5
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(_sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(BuiltinMeanMetric):
    """How often the one-hot label's class is among the `k` highest predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(BuiltinMeanMetric):
    """How often the integer label is among the `k` highest predictions.

    Args:
        from_sorted_ids: y_pred holds class ids sorted best first, not scores.
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(_sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)

    def get_config(self):
        config = {**super().get_config()}
        if not self.from_sorted_ids:  # as Keras writes it
            del config["from_sorted_ids"]
        return config
