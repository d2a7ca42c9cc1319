"""Metrics that reduce values: `Sum`, `Mean`, and `MeanMetricWrapper`, the weighted mean of a
per-sample function (most metrics are one).

Values with extra axes are first reduced to one per sample; then, with weights,
`total += sum(value * weight)` and `count += sum(weight)`, else `count += number of samples`.
A mask on the predictions (`y_pred._keras_mask`) is a 0/1 factor of the weights, as in Keras.
"""
import numpy as np

from mgp.losses.loss import squeeze_or_expand_to_same_rank
from mgp.metrics.metric import Metric, divide_no_nan, host, host_mask
from mgp.tensor import Tensor, no_grad


def _fold_mask(name, sample_weight, mask):
    """The weights times a 0/1 mask (Keras's apply_mask for reduction 'sum'); per-sample
    weights (N,) under a mask (N, T) weigh each of the sample's steps."""
    if mask is None:
        return sample_weight
    float_mask = mask.astype(np.float64)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return _broadcast(name, sample_weight, float_mask.shape) * float_mask


def _broadcast(name, weights, shape):
    if weights.ndim < len(shape) and weights.ndim and weights.shape == shape[:weights.ndim]:
        weights = weights.reshape(weights.shape + (1,) * (len(shape) - weights.ndim))
    try:
        return np.broadcast_to(weights, shape)
    except ValueError:
        raise ValueError(f"{name}: sample_weight of shape {weights.shape} does not fit values of "
                         f"shape {shape}") from None


def reduce_to_samplewise_values(name, values, sample_weight, reduce_fn, mask=None):
    """One value per sample (and its weight), as Keras reduces them: values with more axes than
    the weights are first reduced over the extra axes, then weighted; weights with several axes
    are reduced to one per sample."""
    values = values.astype(np.float64)
    if sample_weight is not None:
        sample_weight = host(sample_weight, "sample_weight").astype(np.float64)
        sample_weight = _fold_mask(name, sample_weight, mask)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = reduce_fn(values, axis=tuple(range(sample_weight.ndim, values.ndim)))
        sample_weight = _broadcast(name, sample_weight, values.shape)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values given.

    Example:
        >>> m = mgp.metrics.Sum()
        >>> m.update_state([1.0, 3.0, 5.0, 7.0])
        >>> m.result()
        16.0
    """

    _state_attributes = ("total",)

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        mask = host_mask(values)
        try:
            values, _ = reduce_to_samplewise_values(self._label, host(values, "values"),
                                                    sample_weight, np.sum, mask)
        except (ValueError, TypeError) as e:
            raise self._error(e) from None
        self.total += float(values.sum())

    def result(self):
        return self.total


class Mean(Metric):
    """The (weighted) mean of the values given, e.g. of the batch losses.

    Example:
        >>> m = mgp.metrics.Mean()
        >>> m.update_state(2.0, sample_weight=3)   # a batch of 3 with mean loss 2
        >>> m.update_state(4.0, sample_weight=1)
        >>> m.result()
        2.5
    """

    _state_attributes = ("total", "count")

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        mask = host_mask(values)
        if mask is None and type(sample_weight) in (int, float) and type(values) is Tensor \
                and values.ndim == 0 and values.dtype.kind == "f":
            # a batch's mean loss and its size, as the training loop gives them every step:
            # the same float64 sums as below, without the general reduction
            self.total += float(values.data) * sample_weight
            self.count += sample_weight
            return
        try:
            values, weights = reduce_to_samplewise_values(self._label, host(values, "values"),
                                                          sample_weight, np.mean, mask)
        except (ValueError, TypeError) as e:
            raise self._error(e) from None
        total = float(values.sum())
        if weights is not None:
            count = float(weights.sum())
        else:
            count = values.shape[0] if values.ndim else 1
        self.total += total
        self.count += count

    def result(self):
        return float(divide_no_nan(self.total, self.count))


class MeanMetricWrapper(Mean):
    """A metric from a per-sample function `fn(y_true, y_pred, **kwargs)`: the weighted mean of
    its values over every batch given. The function may return a Tensor (the loss functions
    do; they run outside the graph here) or an array.

    Example:
        >>> m = mgp.metrics.MeanMetricWrapper(mgp.losses.mean_squared_error, name="mse")
        >>> m.update_state([[1.0], [2.0]], [[1.5], [2.0]])
        >>> m.result()
        0.125
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if isinstance(fn, (dict, str)):  # a serialized function
            from mgp.metrics import deserialize_function
            fn = deserialize_function(fn)
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = host_mask(y_pred)
        try:
            with no_grad():
                values = self._fn(y_true, y_pred, **self._fn_kwargs)
            if sample_weight is not None:
                sample_weight = host(sample_weight, "sample_weight").astype(np.float64)
            sample_weight = _fold_mask(self._label, sample_weight, mask)
        except (ValueError, TypeError) as e:
            raise self._error(e) from None
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        from mgp.losses import serialize_function
        return {**super().get_config(), "fn": serialize_function(self._fn), **self._fn_kwargs}


class BuiltinMeanMetric(MeanMetricWrapper):
    """The built-in mean metrics: their configs hold their arguments, not the function."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(fn, name=name, dtype=dtype, **kwargs)
        for key, value in kwargs.items():  # Keras keeps each argument as an attribute
            setattr(self, key, value)

    def get_config(self):
        return {**Mean.get_config(self), **self._fn_kwargs}
