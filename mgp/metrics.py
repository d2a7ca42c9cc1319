"""Metrics as Keras names them: stateful objects that accumulate over batches.

`update_state(y_true, y_pred, sample_weight=None)` adds a batch, `result()` gives the running
value as a Python float, `reset_state()` starts over. Metrics are computed on host NumPy data,
outside the autograd graph, and accumulate in float64.

Each metric here is a weighted mean of per-sample values (Keras's `MeanMetricWrapper`): values
with extra axes are first averaged to one per sample, then `total += sum(value * weight)` and
`count += sum(weight)` (the number of samples when unweighted).
"""
import numpy as np

from mgp import losses
from mgp.backend import to_numpy
from mgp.layers.base import snake_case
from mgp.losses import squeeze_or_expand_to_same_rank
from mgp.tensor import Tensor


def _host(x):
    """Labels or predictions as a host array (one copy from the device per batch on a GPU)."""
    return to_numpy(x.data if isinstance(x, Tensor) else x)


def _aligned(name, y_true, y_pred):
    t, p = squeeze_or_expand_to_same_rank(_host(y_true), _host(y_pred))
    if t.shape != p.shape:
        raise ValueError(f"{name}: y_true has shape {_host(y_true).shape} but y_pred has shape "
                         f"{_host(y_pred).shape}; they must match")
    return t, p


# ========================================= per-sample values =========================================

def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred exactly, else 0.0."""
    t, p = _aligned("accuracy", y_true, y_pred)
    return (t == p).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) equals the 0/1 label."""
    t, p = _aligned("binary_accuracy", y_true, y_pred)
    return (t == (p > threshold).astype(t.dtype)).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    """1.0 where the argmax of the one-hot label equals the argmax of the prediction."""
    t, p = _host(y_true), _host(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"categorical_accuracy expects one-hot labels of the predictions' "
                         f"shape {p.shape}, got labels of shape {t.shape}; for integer labels "
                         f"use sparse_categorical_accuracy")
    return (t.argmax(-1) == p.argmax(-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals the argmax of the prediction."""
    t, p = _host(y_true), _host(y_pred)
    if t.ndim == p.ndim and t.ndim and t.shape[-1] == 1:
        t = t.reshape(t.shape[:-1])
    if t.shape != p.shape[:-1]:
        raise ValueError(f"sparse_categorical_accuracy: labels of shape {_host(y_true).shape} "
                         f"do not fit predictions of shape {p.shape}; expected labels of shape "
                         f"{p.shape[:-1]}")
    return (t == p.argmax(-1)).astype(np.float32)


def mean_squared_error(y_true, y_pred):
    t, p = _aligned("mean_squared_error", y_true, y_pred)
    return ((t - p) ** 2).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    t, p = _aligned("mean_absolute_error", y_true, y_pred)
    return np.abs(t - p).mean(axis=-1)


# ============================================= metrics ==============================================

class Metric:
    """Base class: `update_state(...)`, `result() -> float`, `reset_state()`, `name`.

    Calling a metric updates it and returns the running result, as in Keras.
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = "float32" if dtype is None else str(np.dtype(dtype))
        self.reset_state()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name='{self.name}' result={self.result():.4g}>"


class Mean(Metric):
    """The (weighted) mean of the values given, e.g. of the batch losses.

    Example:
        >>> m = mgp.metrics.Mean()
        >>> m.update_state(2.0, sample_weight=3)   # a batch of 3 with mean loss 2
        >>> m.update_state(4.0, sample_weight=1)
        >>> m.result()
        2.5
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values, weights = _host(values).astype(np.float64), None
        if sample_weight is not None:
            weights = _host(sample_weight).astype(np.float64)
            values, weights = squeeze_or_expand_to_same_rank(values, weights)
            if values.ndim > weights.ndim:  # e.g. per-timestep values, per-sample weights
                values = values.mean(axis=tuple(range(weights.ndim, values.ndim)))
            try:
                weights = np.broadcast_to(weights, values.shape)
            except ValueError:
                raise ValueError(f"{self.name}: sample_weight of shape "
                                 f"{np.shape(_host(sample_weight))} does not fit values of shape "
                                 f"{values.shape}") from None
            values = values * weights
            if weights.ndim > 1:
                weights = weights.mean(axis=tuple(range(1, weights.ndim)))
        if values.ndim > 1:  # one value per sample
            values = values.mean(axis=tuple(range(1, values.ndim)))
        self.total += float(values.sum())
        if weights is not None:
            self.count += float(weights.sum())
        else:
            self.count += values.shape[0] if values.ndim else 1

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """A metric from a per-sample function `fn(y_true, y_pred, **kwargs)` on NumPy arrays."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(_host(y_true), _host(y_pred), **self._fn_kwargs),
                             sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches the 0/1 label.

    Args:
        threshold: probability above which a prediction counts as 1 (default 0.5).
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class (argmax) matches the one-hot label."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class (argmax) matches the integer label.

    Example:
        >>> m = mgp.metrics.SparseCategoricalAccuracy()
        >>> m.update_state([2, 1], [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
        >>> m.result()
        0.5
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of squared errors."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of absolute errors."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


# ============================================= lookup ===============================================

_BY_NAME = {
    "mean": Mean, "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
}
_CLASSES = {cls.__name__: cls for cls in list(_BY_NAME.values()) + [Accuracy]}


def get(identifier, loss=None, y_true=None, y_pred=None):
    """A Metric from a name, a config dict, a Metric, or a per-sample function.

    A name gives a metric of that name, as Keras's `compile` names them (History keys `mae`,
    `mse`, `accuracy`, `acc`). 'accuracy' / 'acc' picks the accuracy that fits the problem:
    with `y_true` and `y_pred` (anything with a `.shape`, e.g. the first batch) by Keras 3's rule
    (predictions with last axis 1: BinaryAccuracy; labels of lower rank or with last axis 1:
    SparseCategoricalAccuracy; else CategoricalAccuracy); otherwise by the `loss` (sparse
    categorical, categorical or binary cross-entropy); otherwise plain `Accuracy`.

    Example:
        >>> mgp.metrics.get("accuracy", loss="sparse_categorical_crossentropy")
        <SparseCategoricalAccuracy name='accuracy' result=0>
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return _lookup(identifier.get("class_name")).from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _accuracy_for(loss, y_true, y_pred)(name=identifier)
        return _lookup(identifier)(name=identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"could not interpret metric identifier {identifier!r}: expected a name, a "
                     f"config dict, a Metric or a function")


def _lookup(name):
    cls = _BY_NAME.get(name) or _CLASSES.get(name) or _BY_NAME.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown metric {name!r}; known: "
                         f"{['accuracy', 'acc'] + sorted(_BY_NAME) + sorted(_CLASSES)}")
    return cls


def _accuracy_for(loss, y_true, y_pred):
    if y_true is not None and y_pred is not None:
        t, p = tuple(y_true.shape), tuple(y_pred.shape)
        if p and p[-1] == 1:
            return BinaryAccuracy
        if len(t) < len(p) or t and t[-1] == 1 and p[-1] > 1:
            return SparseCategoricalAccuracy
        return CategoricalAccuracy
    if isinstance(loss, str):
        loss = losses.get(loss)
    if isinstance(loss, losses.SparseCategoricalCrossentropy) or \
            loss is losses.sparse_categorical_crossentropy:
        return SparseCategoricalAccuracy
    if isinstance(loss, losses.CategoricalCrossentropy) or \
            loss is losses.categorical_crossentropy:
        return CategoricalAccuracy
    if isinstance(loss, losses.BinaryCrossentropy) or loss is losses.binary_crossentropy:
        return BinaryAccuracy
    return Accuracy


def serialize(metric):
    """The metric as Keras's serialized dict (`module`, `class_name`, `config`)."""
    return {"module": "keras.metrics", "class_name": type(metric).__name__,
            "config": metric.get_config(), "registered_name": None}


def deserialize(config):
    return get(config)
