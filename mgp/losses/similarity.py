"""Circle loss, for metric learning: pulls embeddings of the same class together and pushes other
classes apart, each pair weighted by how far it is from its optimum (Sun et al., 2020)."""
import numpy as np

from mgp import ops
from mgp.backend import xp
from mgp.losses.loss import BuiltinLoss, as_pred, as_true

# stands for log(0) in the log-sum-exps: exp of it is 0 in float32, and unlike -inf it keeps the
# gradient of a row with no positive (or no negative) pairs finite (zero)
_LOG_ZERO = -1e9


def _int_labels(name, labels):
    labels = as_true(labels, name)
    if labels.ndim == 2 and labels.shape[-1] == 1:
        labels = labels.reshape(-1)
    if labels.ndim != 1:
        raise ValueError(f"{name} expects one integer label per embedding, shape (N,), got "
                         f"labels of shape {tuple(labels.shape)}")
    return labels.astype(np.int64)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    """Circle loss of each embedding against the reference embeddings (the batch by default).

    Args:
        y_true: integer labels (N,).
        y_pred: L2-normalized embeddings (N, D).
        ref_labels, ref_embeddings: (M,) and (M, D); default: y_true and y_pred.
        remove_diagonal: leave each embedding's pair with itself out of the positives.
        gamma: the scale; margin: the relaxation (Keras's defaults 80 and 0.4).
    Returns:
        Tensor (N,), with a mask (`_keras_mask`) that keeps the samples whose loss is above 0,
        so that a Loss averages over those.
    """
    name = "circle"
    y_pred = as_pred(y_pred, name)
    if y_pred.ndim != 2:
        raise ValueError(f"{name} expects embeddings of shape (N, D), got {y_pred.shape}")
    labels = _int_labels(name, y_true)
    if labels.shape[0] != y_pred.shape[0]:
        raise ValueError(f"{name}: {labels.shape[0]} labels for {y_pred.shape[0]} embeddings")
    ref = y_pred if ref_embeddings is None else as_pred(ref_embeddings, name)
    ref_labels = labels if ref_labels is None else _int_labels(name, ref_labels)
    if ref.ndim != 2 or ref.shape != (ref_labels.shape[0], y_pred.shape[1]):
        raise ValueError(f"{name}: ref_embeddings of shape {ref.shape} do not fit "
                         f"{ref_labels.shape[0]} ref_labels and embeddings of size "
                         f"{y_pred.shape[1]}")
    distances = ops.maximum(1 - y_pred @ ref.T, 0.0)  # cosine distances (N, M)
    positive = labels[:, None] == ref_labels[None, :]
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~xp.eye(*positive.shape, dtype=bool)
    pos_weights = ops.maximum((margin + distances) * positive, 0.0)
    neg_weights = ops.maximum((1 + margin - distances) * negative, 0.0)
    pos_terms = -gamma * pos_weights * (margin - distances)
    neg_terms = gamma * neg_weights * ((1 - margin) - distances)
    pos_loss = ops.where(positive, pos_terms, _LOG_ZERO).logsumexp(axis=1)
    neg_loss = ops.where(negative, neg_terms, _LOG_ZERO).logsumexp(axis=1)
    out = ops.softplus(pos_loss + neg_loss)
    out._keras_mask = out.data > 0
    return out


class Circle(BuiltinLoss):
    """Circle loss for embeddings (see `circle`)."""

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(circle, reduction, name, dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)
