"""F-scores: the weighted harmonic mean of precision and recall, per class or averaged."""
import numpy as np

from mgp.losses.loss import EPSILON
from mgp.metrics.metric import Metric, host, scalar_or_array


class FBetaScore(Metric):
    """(1 + beta^2) precision recall / (beta^2 precision + recall), over every batch.

    Args:
        average: None (one score per class), 'micro' (from the counts pooled over classes),
            'macro' (the mean of the classes' scores) or 'weighted' (weighted by each class's
            number of true labels).
        beta: > 0; how much more recall matters than precision.
        threshold: a prediction above it counts as positive, in (0, 1]; None: each row's
            highest prediction(s).

    Inputs are (batch_size, classes): one-hot or multi-hot labels, and scores.
    """

    _state_attributes = ("true_positives", "false_positives", "false_negatives",
                         "intermediate_weights")

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        kind = type(self).__name__
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{kind}: average must be None, 'micro', 'macro' or 'weighted', "
                             f"got {average!r}")
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"{kind}: beta must be a Python float > 0, got {beta!r}")
        if threshold is not None and (not isinstance(threshold, float) or
                                      not 0.0 < threshold <= 1.0):
            raise ValueError(f"{kind}: threshold must be a Python float in (0, 1], got "
                             f"{threshold!r}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self._classes = None
        self.reset_state()

    def reset_state(self):
        shape = () if self.average == "micro" else (self._classes or 0,)
        self.true_positives, self.false_positives, self.false_negatives, \
            self.intermediate_weights = (np.zeros(shape) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        try:
            t, hit, w = self._batch(y_true, y_pred, sample_weight)
        except (ValueError, TypeError) as e:
            raise self._error(e) from None

        def weighted_sum(v):
            return (v if w is None else v * w).sum(axis=self.axis)
        if self._classes is None:
            self._classes = t.shape[1]
            self.reset_state()
        self.true_positives = self.true_positives + weighted_sum(hit * t)
        self.false_positives = self.false_positives + weighted_sum(hit * (1 - t))
        self.false_negatives = self.false_negatives + weighted_sum((1 - hit) * t)
        self.intermediate_weights = self.intermediate_weights + weighted_sum(t)

    def _batch(self, y_true, y_pred, sample_weight):
        kind = self._label
        t = host(y_true, "y_true").astype(np.float64)
        p = host(y_pred, "y_pred").astype(np.float64)
        if t.ndim != 2 or p.ndim != 2 or t.shape != p.shape:
            raise ValueError(f"{kind} expects y_true and y_pred of the same shape (batch_size, "
                             f"classes), got {t.shape} and {p.shape}")
        if self._classes is not None and p.shape[1] != self._classes:
            raise ValueError(f"{kind}: got {p.shape[1]} classes, expected {self._classes}")
        if self.threshold is None:  # each row's best class (several where tied)
            hit = (p >= p.max(axis=-1, keepdims=True)) & (np.abs(p) > 1e-9)
        else:
            hit = p > self.threshold
        hit = hit.astype(np.float64)
        w = None
        if sample_weight is not None:
            w = host(sample_weight, "sample_weight").astype(np.float64).reshape(-1)
            if w.shape[0] != t.shape[0]:
                raise ValueError(f"{kind}: sample_weight of shape {np.shape(sample_weight)} "
                                 f"does not fit {t.shape[0]} samples")
            w = w[:, None]
        return t, hit, w

    def result(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta ** 2
        score = precision * recall / (b2 * precision + recall + EPSILON) * (1 + b2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (self.intermediate_weights.sum() + EPSILON)
            score = (score * weights).sum()
        elif self.average is not None:
            score = score.mean() if score.size else 0.0
        return scalar_or_array(score)

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score: FBetaScore with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
