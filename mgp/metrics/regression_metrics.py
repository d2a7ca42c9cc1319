"""Regression metrics: squared, absolute, percentage and logarithmic errors, log-cosh, cosine
similarity, and the R^2 score."""
import warnings

import numpy as np

from mgp import losses
from mgp.losses.loss import EPSILON, squeeze_or_expand_to_same_rank
from mgp.metrics.metric import Metric, host, scalar_or_array
from mgp.metrics.reduction_metrics import BuiltinMeanMetric, Mean
from mgp.tensor import Tensor


def _cosine_similarity(y_true, y_pred, axis=-1):
    t, p = squeeze_or_expand_to_same_rank(host(y_true, "y_true").astype(np.float64),
                                          host(y_pred, "y_pred").astype(np.float64))
    if t.shape != p.shape:
        raise ValueError(f"cosine_similarity: y_true has shape {t.shape} but y_pred has shape "
                         f"{p.shape}; they must match")

    def normalize(x):
        return x / np.sqrt(np.maximum((x * x).sum(axis=axis, keepdims=True), EPSILON ** 2))
    return (normalize(t) * normalize(p)).sum(axis=axis)


class MeanSquaredError(BuiltinMeanMetric):
    """Mean of squared errors."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(BuiltinMeanMetric):
    """Mean of absolute errors."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(BuiltinMeanMetric):
    """Mean of 100 |y_true - y_pred| / |y_true|."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(BuiltinMeanMetric):
    """Mean of squared differences of log(1 + x)."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(BuiltinMeanMetric):
    """Mean of log(cosh(error)) (Keras names it 'logcosh')."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(losses.log_cosh, name=name, dtype=dtype)


class CosineSimilarity(BuiltinMeanMetric):
    """Mean cosine similarity between labels and predictions along `axis` (1: same direction)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine_similarity, name=name, dtype=dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean of squared errors over every batch."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        try:
            t, p = squeeze_or_expand_to_same_rank(host(y_true, "y_true").astype(np.float64),
                                                  host(y_pred, "y_pred").astype(np.float64))
        except TypeError as e:
            raise self._error(e) from None
        if t.shape != p.shape:
            raise ValueError(f"{self._label}: y_true has shape {t.shape} "
                             f"but y_pred has shape {p.shape}; they must match")
        super().update_state((p - t) ** 2, sample_weight=sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


class R2Score(Metric):
    """The coefficient of determination, 1 - residual / total sum of squares, per output column
    and aggregated.

    Args:
        class_aggregation: 'uniform_average' (the mean over columns), 'variance_weighted_average'
            (weighted by each column's variance), or None (one score per column).
        num_regressors: for the adjusted R^2; 0 for the plain score.
    """

    _state_attributes = ("sum", "squared_sum", "total_mse", "count", "num_samples")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in (None, "uniform_average", "variance_weighted_average"):
            raise ValueError(f"R2Score: class_aggregation must be None, 'uniform_average' or "
                             f"'variance_weighted_average', got {class_aggregation!r}")
        if num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be >= 0, got {num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self._columns = None
        self.reset_state()

    def reset_state(self):
        self.num_samples = 0.0
        columns = self._columns or 0
        self.sum, self.squared_sum, self.total_mse, self.count = (
            np.zeros(columns) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        try:
            t, p, w = self._batch(y_true, y_pred, sample_weight)
        except (ValueError, TypeError) as e:
            raise self._error(e) from None
        if self._columns is None:
            self._columns = t.shape[1]
            self.reset_state()
        self.sum = self.sum + (t * w).sum(axis=0)
        self.squared_sum = self.squared_sum + (t * t * w).sum(axis=0)
        self.total_mse = self.total_mse + ((t - p) ** 2 * w).sum(axis=0)
        self.count = self.count + w.sum(axis=0)
        self.num_samples += t.size

    def _batch(self, y_true, y_pred, sample_weight):
        t, p = squeeze_or_expand_to_same_rank(host(y_true, "y_true").astype(np.float64),
                                              host(y_pred, "y_pred").astype(np.float64))
        if t.ndim != 2 or p.ndim != 2 or t.shape != p.shape:
            raise ValueError(f"{self._label} expects y_true and y_pred of the same shape "
                             f"(batch_size, output_dim), got {t.shape} and {p.shape}")
        if self._columns is not None and t.shape[1] != self._columns:
            raise ValueError(f"{self._label}: got {t.shape[1]} output columns, expected "
                             f"{self._columns}")
        w = 1.0 if sample_weight is None else \
            host(sample_weight, "sample_weight").astype(np.float64)
        w = np.asarray(w)
        if w.ndim == 1:
            w = w[:, None]
        try:
            w = np.broadcast_to(w, t.shape)
        except ValueError:
            raise ValueError(f"{self._label}: sample_weight of shape "
                             f"{np.shape(sample_weight)} does not fit y_true of shape "
                             f"{t.shape}") from None
        return t, p, w

    def result(self):
        if self._columns is None:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw = 1 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        if self.num_regressors:
            n, k = self.num_samples, self.num_regressors
            if k > n - 1:
                warnings.warn("R2Score: more independent predictors than data points; giving "
                              "the plain R^2 instead of the adjusted one", stacklevel=2)
            elif k == n - 1:
                warnings.warn("R2Score: the adjusted R^2 divides by zero here; giving the plain "
                              "R^2", stacklevel=2)
            else:
                score = 1 - (1 - score) * (n - 1) / (n - k - 1)
        return scalar_or_array(score)

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(normalize(y_true) * normalize(y_pred)) along `axis` (the metric's sign; the loss
    `mgp.losses.cosine_similarity` is its negative)."""
    return Tensor(_cosine_similarity(y_true, y_pred, axis).astype(np.float32))
