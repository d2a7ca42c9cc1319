"""The Loss base class and how per-sample losses become one number: weights, masks, reductions.

A loss function `fn(y_true, y_pred, ...)` returns per-sample values (a Tensor); a `Loss` object
calls it, folds in `sample_weight` and the mask Keras attaches to predictions (`y_pred._keras_mask`,
and any mask the function attached to its result), and reduces the weighted values to a scalar as
its `reduction` says. `y_pred` is a Tensor (gradients flow into it); `y_true` is an array or
Tensor and takes no gradient.
"""
import numpy as np

from mgp import ops
from mgp.backend import xp
from mgp.layers.base import snake_case, unique_name
from mgp.tensor import Tensor

EPSILON = 1e-7  # Keras's backend.epsilon()

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ============================================ inputs ================================================

def as_pred(y_pred, name=None, dtype=None):
    """Predictions as a floating Tensor (integers become float32; `dtype`, if given, casts)."""
    if not isinstance(y_pred, Tensor):
        arr = xp.asarray(y_pred)
        _check_numeric(name, "y_pred", arr)
        y_pred = Tensor(arr, dtype=np.float32 if arr.dtype.kind != "f" else None)
    elif y_pred.dtype.kind != "f":
        _check_numeric(name, "y_pred", y_pred.data)
        y_pred = Tensor(y_pred.data, dtype=np.float32)
    if dtype is not None and y_pred.dtype != np.dtype(dtype):
        y_pred = ops.cast(y_pred, dtype)
    return y_pred


def as_true(y_true, name=None, what="y_true"):
    """Labels (or weights) as an array on the compute device; they take no gradient."""
    arr = y_true.data if isinstance(y_true, Tensor) else xp.asarray(y_true)
    _check_numeric(name, what, arr)
    return arr


def _check_numeric(name, what, arr):
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name + ': ' if name else ''}{what} must hold numbers, got dtype "
                        f"{arr.dtype}")


def get_mask(x):
    """The mask Keras attaches to a tensor (`_keras_mask`), as a boolean array, or None."""
    mask = getattr(x, "_keras_mask", None)
    if mask is None:
        return None
    return xp.asarray(mask.data if isinstance(mask, Tensor) else mask).astype(bool, copy=False)


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


def same_shape(name, t, y_pred):
    """Labels and predictions aligned as Keras aligns them; any other mismatch is an error
    (Keras would broadcast (N, 1) labels against (N, C) predictions silently)."""
    t2, y2 = squeeze_or_expand_to_same_rank(t, y_pred)
    if tuple(t2.shape) != tuple(y2.shape):
        raise ValueError(f"{name}: y_true has shape {tuple(t.shape)} but y_pred has shape "
                         f"{tuple(y_pred.shape)}; they must match")
    return t2.astype(y2.dtype, copy=False), y2


def broadcast_weights(name, weights, shape):
    """Per-sample weights against values of `shape`: weights of shape (N,) for values (N, T)
    apply to each sample's every step (aligned on the leading axes); otherwise NumPy's rules.
    Returns the weights and whether they were expanded that way."""
    weights, shape = xp.asarray(weights), tuple(shape)
    if weights.ndim < len(shape) and weights.ndim and tuple(weights.shape) == shape[:weights.ndim]:
        return weights.reshape(tuple(weights.shape) + (1,) * (len(shape) - weights.ndim)), True
    try:
        np.broadcast_shapes(tuple(weights.shape), shape)
    except ValueError:
        raise ValueError(f"{name}: sample_weight of shape {tuple(weights.shape)} does not fit "
                         f"values of shape {shape}") from None
    return weights, False


# ======================================= weights, masks, reduction ==================================

def standardize_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(REDUCTIONS)}, got {reduction!r}")
    return reduction


def apply_mask(sample_weight, mask, dtype, reduction, name="loss"):
    """Fold a boolean mask into the sample weights, as Keras does. For 'sum_over_batch_size' and
    'mean' the kept entries weigh total / kept, so that dividing by the number of entries gives
    the mean over the kept ones; for the other reductions the mask is a 0/1 weight."""
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        kept = int(mask.sum())  # one wait for a GPU, only when masked
        scale = mask.size / kept if kept else 0.0
        float_mask = mask.astype(dtype) * dtype.type(scale)
    else:
        float_mask = mask.astype(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    sample_weight, _ = broadcast_weights(name, sample_weight, float_mask.shape)
    return sample_weight * float_mask


def reduce_values(values, divisor_weights=None, reduction="sum_over_batch_size"):
    """Sum the (weighted) values; divide by their number, or for 'mean_with_sample_weight' by
    the sum of the weights; 0 where the divisor is 0 (Keras's divide_no_nan)."""
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and divisor_weights is not None:
        divisor = float(divisor_weights.sum())
    else:
        divisor = values.size
    return total / divisor if divisor else ops.where(xp.asarray(False), total, 0.0)


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", name="loss"):
    """Weight per-sample losses by `sample_weight` and `mask` and reduce them (see Loss)."""
    reduction = standardize_reduction(reduction)
    dtype = values.dtype
    if sample_weight is not None:
        sample_weight = as_true(sample_weight, name, "sample_weight").astype(dtype, copy=False)
    weights = apply_mask(sample_weight, mask, dtype, reduction, name)
    if weights is None:
        return reduce_values(values, None, reduction)
    values, weights = squeeze_or_expand_to_same_rank(values, weights)
    weights, expanded = broadcast_weights(name, weights, values.shape)
    values = values * weights
    # the divisor of 'mean_with_sample_weight' counts a per-sample weight once per entry it covers
    divisor_weights = xp.broadcast_to(weights, values.shape) if expanded else weights
    return reduce_values(values, divisor_weights, reduction)


# ============================================ classes ===============================================

class Loss:
    """Base class: `loss(y_true, y_pred, sample_weight=None)` -> scalar Tensor.

    Subclasses implement `call(y_true, y_pred)` returning per-sample losses.

    Args:
        name: the loss's name.
        reduction: 'sum_over_batch_size' (default: the weighted sum divided by the number of
            values), 'mean' (the same), 'sum', 'mean_with_sample_weight' (divided by the sum of
            the weights), or 'none' / None (the weighted values themselves).
        dtype: the dtype to compute in; None keeps the predictions' float dtype.

    Masks: a mask on `y_pred` (`y_pred._keras_mask`, set by masking layers) makes the masked
    entries count for nothing, combined with `sample_weight` as Keras 3 does.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction)
        if dtype is not None:
            dtype = np.dtype(getattr(dtype, "name", dtype))
            if dtype.kind != "f":
                raise ValueError(f"{type(self).__name__}: dtype must be a float type, got "
                                 f"{dtype}")
        self._dtype = dtype

    @property
    def dtype(self):
        return "float32" if self._dtype is None else self._dtype.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = get_mask(y_pred)
        try:
            if not isinstance(y_true, Tensor):  # as Keras: `call` gets tensors (labels: no grad)
                y_true = Tensor(as_true(y_true))
            values = self.call(y_true, as_pred(y_pred, dtype=self._dtype))
        except (ValueError, TypeError) as e:
            raise self._error(e) from None
        if not isinstance(values, Tensor):  # a custom function may return an array
            values = Tensor(values)
        out_mask = get_mask(values)
        if in_mask is not None and out_mask is not None:
            mask = in_mask & out_mask
        else:
            mask = in_mask if in_mask is not None else out_mask
        if mask is not None and tuple(mask.shape) != tuple(values.shape):
            mask, _ = squeeze_or_expand_to_same_rank(mask, values)
            if tuple(mask.shape) != tuple(values.shape):
                raise ValueError(f"{self.name}: the mask on y_pred has shape "
                                 f"{tuple(in_mask.shape)}, which does not fit the per-sample "
                                 f"losses of shape {tuple(values.shape)}")
        return reduce_weighted_values(values, sample_weight, mask, self.reduction, self.name)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def _error(self, error):
        """`error` again, its message naming this loss (unless it does already)."""
        message = str(error)
        if not message.startswith(type(self).__name__):
            message = f"{type(self).__name__} '{self.name}': {message}"
        return type(error)(message)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """A Loss from a per-sample function `fn(y_true, y_pred, **kwargs)`; ranks that differ by a
    trailing axis of size 1 are aligned first, as Keras does."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if isinstance(fn, dict):  # a serialized function, as Keras writes it
            from mgp.losses import deserialize_function
            fn = deserialize_function(fn)
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn, self._fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        from mgp.losses import serialize_function
        return {**super().get_config(), "fn": serialize_function(self.fn), **self._fn_kwargs}


class BuiltinLoss(LossFunctionWrapper):
    """The built-in losses: their functions align the shapes themselves (so they also do so when
    called directly, and keep a softmax/sigmoid output intact for the logits path). Their
    configs hold their arguments, not the function."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(fn, reduction, name, dtype, **kwargs)
        for key, value in kwargs.items():  # Keras keeps each argument as an attribute
            setattr(self, key, value)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**Loss.get_config(self), **self._fn_kwargs}
