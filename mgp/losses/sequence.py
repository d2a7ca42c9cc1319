"""The CTC loss, for sequence labelling without frame-level alignment (speech, handwriting)."""
import numpy as np

from mgp import ops
from mgp.backend import xp
from mgp.losses.loss import BuiltinLoss, as_pred, as_true


def ctc(y_true, y_pred):
    """Per-sequence CTC loss, Keras's convention: class 0 is the blank and pads the labels.

    Args:
        y_true: integer labels (batch, max_label_length), padded with 0.
        y_pred: logits (batch, max_time, classes); every sequence uses all max_time frames.
    Returns:
        Tensor (batch,).
    """
    labels, y_pred = as_true(y_true, "ctc"), as_pred(y_pred, "ctc")
    if labels.ndim != 2:
        raise ValueError(f"ctc: y_true must be integer labels of shape (batch, max_length), got "
                         f"shape {tuple(labels.shape)}")
    if y_pred.ndim != 3:
        raise ValueError(f"ctc: y_pred must be logits of shape (batch, max_length, classes), "
                         f"got shape {y_pred.shape}")
    if labels.dtype.kind == "f" and not bool(xp.all(labels == xp.round(labels))):
        raise ValueError("ctc expects integer labels, got non-integer values")
    labels = labels.astype(np.int64)
    label_length = (labels != 0).sum(axis=-1)
    frames = xp.full((y_pred.shape[0],), y_pred.shape[1], dtype=np.int64)
    return ops.ctc_loss(labels, y_pred, label_length, frames, mask_index=0)


class CTC(BuiltinLoss):
    """CTC loss (see `ctc`)."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction, name, dtype)
