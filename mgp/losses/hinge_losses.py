"""Hinge losses, for maximum-margin classifiers: labels -1 / 1 (0 / 1 labels are mapped to -1 / 1,
as Keras maps them), predictions are scores."""
from mgp import ops
from mgp.backend import xp
from mgp.losses.loss import BuiltinLoss, as_pred, as_true, same_shape


def _signed_labels(name, y_true, y_pred):
    """Labels and predictions aligned; labels that are all 0 or 1 become -1 or 1."""
    t, y_pred = same_shape(name, as_true(y_true, name), as_pred(y_pred, name))
    if bool(xp.all((t == 0) | (t == 1))):  # one wait on a GPU
        t = 2 * t - 1
    return t, y_pred


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis."""
    t, y_pred = _signed_labels("hinge", y_true, y_pred)
    return ops.maximum(1 - y_pred * t, 0.0).mean(axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)^2) over the last axis."""
    t, y_pred = _signed_labels("squared_hinge", y_true, y_pred)
    margin = ops.maximum(1 - y_pred * t, 0.0)
    return (margin * margin).mean(axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0) for one-hot labels, where pos is the true class's score and neg the
    best other class's score (Crammer-Singer)."""
    name = "categorical_hinge"
    t, y_pred = same_shape(name, as_true(y_true, name), as_pred(y_pred, name))
    pos = (y_pred * t).sum(axis=-1)
    neg = (y_pred * (1 - t)).max(axis=-1)
    return ops.maximum(neg - pos + 1, 0.0)


class Hinge(BuiltinLoss):
    """Hinge loss for -1 / 1 (or 0 / 1) labels."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction, name, dtype)


class SquaredHinge(BuiltinLoss):
    """Squared hinge loss for -1 / 1 (or 0 / 1) labels."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction, name, dtype)


class CategoricalHinge(BuiltinLoss):
    """Multi-class hinge loss for one-hot labels."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction, name, dtype)
