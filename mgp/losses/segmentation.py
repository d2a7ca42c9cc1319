"""Overlap losses for segmentation: Dice and Tversky, 1 minus a soft overlap score of the
predicted and true masks. With `axis=None` (the default, as in Keras) the overlap is taken over
the whole batch and the loss is a single value; pass e.g. `axis=(1, 2)` for one per image."""
from mgp.losses.loss import EPSILON, BuiltinLoss, as_pred, as_true, same_shape


def dice(y_true, y_pred, axis=None):
    """1 - 2 |t p| / (|t| + |p|), sums taken over `axis`."""
    t, y_pred = same_shape("dice", as_true(y_true, "dice"), as_pred(y_pred, "dice"))
    intersection = (y_pred * t).sum(axis=axis)
    total = y_pred.sum(axis=axis) + t.sum(axis=axis) + EPSILON
    return 1 - 2.0 * intersection / total


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - |t p| / (|t p| + alpha |t (1 - p)| + beta |(1 - t) p|), sums taken over `axis`:
    alpha weighs the missed foreground, beta the false foreground; 0.5 / 0.5 is Dice."""
    t, y_pred = same_shape("tversky", as_true(y_true, "tversky"), as_pred(y_pred, "tversky"))
    intersection = (y_pred * t).sum(axis=axis)
    missed = ((1 - y_pred) * t).sum(axis=axis)
    extra = (y_pred * (1 - t)).sum(axis=axis)
    return 1 - intersection / (intersection + alpha * missed + beta * extra + EPSILON)


class Dice(BuiltinLoss):
    """Dice loss (see `dice`)."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction, name, dtype, axis=axis)


class Tversky(BuiltinLoss):
    """Tversky loss (see `tversky`)."""

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(tversky, reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)
