"""Regression losses: squared, absolute, percentage and logarithmic errors, Huber, log-cosh,
cosine similarity. Each function returns one value per sample: the last axis reduced."""
import math

from mgp import ops
from mgp.backend import xp
from mgp.losses.loss import EPSILON, BuiltinLoss, as_pred, as_true, same_shape
from mgp.tensor import Tensor


def _aligned(name, y_true, y_pred):
    return same_shape(name, as_true(y_true, name), as_pred(y_pred, name))


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)^2) over the last axis: shape y_pred.shape[:-1]."""
    t, y_pred = _aligned("mean_squared_error", y_true, y_pred)
    d = y_pred - t
    return (d * d).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis."""
    t, y_pred = _aligned("mean_absolute_error", y_true, y_pred)
    return (y_pred - t).abs().mean(axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis."""
    t, y_pred = _aligned("mean_absolute_percentage_error", y_true, y_pred)
    scale = 100.0 / xp.maximum(xp.abs(t), EPSILON)  # labels only: a constant
    return ((y_pred - t).abs() * scale).mean(axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(1 + max(y_pred, 1e-7)) - log(1 + max(y_true, 1e-7)))^2) over the last axis."""
    t, y_pred = _aligned("mean_squared_logarithmic_error", y_true, y_pred)
    d = (y_pred.clip(EPSILON, None) + 1.0).log() - xp.log(xp.maximum(t, EPSILON) + 1.0)
    return (d * d).mean(axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Mean over the last axis of 0.5 e^2 where |e| <= delta, else delta (|e| - 0.5 delta)."""
    t, y_pred = _aligned("huber", y_true, y_pred)
    error = y_pred - t
    small = abs(error.data) <= delta
    return ops.where(small, 0.5 * error * error, delta * error.abs() - 0.5 * delta * delta) \
        .mean(axis=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true))) over the last axis, as x + softplus(-2x) - log 2 so that
    large errors cannot overflow."""
    t, y_pred = _aligned("log_cosh", y_true, y_pred)
    x = y_pred - t
    return (x + ops.softplus(-2.0 * x) - math.log(2.0)).mean(axis=-1)


def l2_normalize(x, axis=-1):
    """x / max(||x||, 1e-7) along `axis` (Keras's normalize; a zero vector stays zero). The
    norm is floored inside the square root, so a zero vector has a finite gradient."""
    return x / (x * x).sum(axis=axis, keepdims=True).clip(EPSILON * EPSILON, None).sqrt()


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(normalize(y_true) * normalize(y_pred)) along `axis`: -1 for the same direction,
    0 for orthogonal ones or a zero vector."""
    t, y_pred = _aligned("cosine_similarity", y_true, y_pred)
    t = l2_normalize(Tensor(t, dtype=t.dtype), axis).data
    return -(l2_normalize(y_pred, axis) * t).sum(axis=axis)


# ============================================ classes ===============================================

class MeanSquaredError(BuiltinLoss):
    """Mean of squared errors (alias 'mse')."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction, name, dtype)


class MeanAbsoluteError(BuiltinLoss):
    """Mean of absolute errors (alias 'mae')."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


class MeanAbsolutePercentageError(BuiltinLoss):
    """100 * mean(|y_true - y_pred| / |y_true|) (alias 'mape')."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction, name, dtype)


class MeanSquaredLogarithmicError(BuiltinLoss):
    """Mean of squared differences of log(1 + x) (alias 'msle')."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction, name, dtype)


class Huber(BuiltinLoss):
    """Huber loss: quadratic for errors up to `delta`, linear beyond."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(huber, reduction, name, dtype, delta=float(delta))


class LogCosh(BuiltinLoss):
    """Mean of log(cosh(error)): about e^2 / 2 for small errors, |e| - log 2 for large ones."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction, name, dtype)


class CosineSimilarity(BuiltinLoss):
    """Negative cosine similarity along `axis` (minimizing it aligns the vectors)."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)
