"""Correlation metrics: Pearson's and the concordance correlation, per sample along `axis`,
averaged over samples."""
import numpy as np

from mgp.losses.loss import EPSILON, squeeze_or_expand_to_same_rank
from mgp.metrics.metric import host
from mgp.metrics.reduction_metrics import BuiltinMeanMetric
from mgp.tensor import Tensor


def _aligned(name, y_true, y_pred):
    t, p = squeeze_or_expand_to_same_rank(host(y_true, "y_true").astype(np.float64),
                                          host(y_pred, "y_pred").astype(np.float64))
    if t.shape != p.shape:
        raise ValueError(f"{name}: y_true has shape {t.shape} but y_pred has shape {p.shape}; "
                         f"they must match")
    return t, p


def _pearson_correlation(y_true, y_pred, axis=-1):
    t, p = _aligned("pearson_correlation", y_true, y_pred)
    t = t - t.mean(axis=axis, keepdims=True)
    p = p - p.mean(axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = t / t.std(axis=axis, keepdims=True)
        p = p / p.std(axis=axis, keepdims=True)
    return (t * p).mean(axis=axis)


def _concordance_correlation(y_true, y_pred, axis=-1):
    # Keras 3.15's formula: its covariance term centres y_true on y_pred's mean
    t, p = _aligned("concordance_correlation", y_true, y_pred)
    t_mean, p_mean = t.mean(axis=axis, keepdims=True), p.mean(axis=axis, keepdims=True)
    t_var, p_var = t.var(axis=axis, keepdims=True), p.var(axis=axis, keepdims=True)
    covariance = (t - p_mean) * (p - p_mean)
    norm = t_var + p_var + (t_mean - p_mean) ** 2
    return (2 * covariance / (norm + EPSILON)).mean(axis=axis)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation of y_true and y_pred along `axis`: one value per sample."""
    return Tensor(_pearson_correlation(y_true, y_pred, axis).astype(np.float32))


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation along `axis`, computed as Keras 3.15 computes it (its
    covariance term uses y_pred's mean for both variables)."""
    return Tensor(_concordance_correlation(y_true, y_pred, axis).astype(np.float32))


class PearsonCorrelation(BuiltinMeanMetric):
    """Mean Pearson correlation of labels and predictions along `axis`."""

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(_pearson_correlation, name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(BuiltinMeanMetric):
    """Mean concordance correlation of labels and predictions along `axis`."""

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(_concordance_correlation, name=name, dtype=dtype, axis=axis)
