"""AUC: the area under the ROC or precision-recall curve, approximated from the confusion counts
at `num_thresholds` thresholds by a Riemann sum (Keras's algorithm)."""
import numpy as np

from mgp.losses.loss import EPSILON
from mgp.metrics.confusion_metrics import _ConfusionMetric, evenly_spaced
from mgp.metrics.metric import check_unit_interval, divide_no_nan, host

CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
SUMMATIONS = ("interpolation", "majoring", "minoring")


class AUC(_ConfusionMetric):
    """Area under the ROC curve (`curve='ROC'`) or the precision-recall curve (`'PR'`; also
    Keras's `'PRGAIN'`).

    Args:
        num_thresholds: thresholds spaced evenly in [0, 1] (more: a finer approximation).
        curve: 'ROC', 'PR' or 'PRGAIN'.
        summation_method: 'interpolation' (trapezoids; for PR, Davis & Goadrich's
            interpolation), 'majoring' or 'minoring' (upper or lower rectangles).
        thresholds: explicit thresholds in [0, 1] instead of num_thresholds.
        multi_label: labels are independent (samples, labels) columns: one curve per label,
            averaged (weighted by `label_weights`); else every entry counts as one sample.
        num_labels: the number of labels with multi_label (otherwise read from the first batch).
        label_weights: weights of the labels in the average (multi_label), or of each column's
            entries (otherwise).
        from_logits: apply a sigmoid to the predictions first.

    Example:
        >>> m = mgp.metrics.AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> m.result()
        0.75
    """
    _counts = ("tp", "fp", "tn", "fn")

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        kind = type(self).__name__
        if str(curve).lower() not in CURVES:
            raise ValueError(f"{kind}: curve must be one of {list(CURVES.values())}, got "
                             f"{curve!r}")
        if str(summation_method).lower() not in SUMMATIONS:
            raise ValueError(f"{kind}: summation_method must be one of {list(SUMMATIONS)}, got "
                             f"{summation_method!r}")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in np.ravel(thresholds))
            check_unit_interval(kind, "thresholds", inner)
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_spaced(np.array([0.0] + inner + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError(f"{kind}: num_thresholds must be an integer > 1, got "
                                 f"{num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        # the end thresholds just outside [0, 1]: every prediction above the first, none above
        # the last, so the curve reaches both corners
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.curve = CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        self.multi_label, self.num_labels = multi_label, num_labels
        if num_labels and not multi_label:
            raise ValueError(f"{kind}: num_labels is needed only when multi_label is True")
        self.label_weights = None if label_weights is None else \
            np.asarray(label_weights, dtype=np.float64)
        self._from_logits = from_logits
        self._labels = num_labels if multi_label else None  # known after the first batch
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        shape = (self.num_thresholds,) if not self.multi_label else \
            (self.num_thresholds, self._labels or 0)
        for key in self._counts:
            setattr(self, self._count_names[key], np.zeros(shape))

    def update_state(self, y_true, y_pred, sample_weight=None):
        try:
            y_pred = host(y_pred, "y_pred")
        except TypeError as e:
            raise self._error(e) from None
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError(f"{self._label}: y_pred must have rank 2 (samples, labels) "
                                 f"when multi_label=True, got shape {y_pred.shape}")
            if self._labels and y_pred.shape[1] != self._labels:
                raise ValueError(f"{self._label}: y_pred has {y_pred.shape[1]} labels, "
                                 f"expected {self._labels}")
        if self._from_logits:
            y_pred = 1 / (1 + np.exp(-y_pred.astype(np.float32)))
        counts = self._batch_counts(y_true, y_pred, sample_weight, multi_label=self.multi_label,
                                    label_weights=None if self.multi_label
                                    else self.label_weights)
        if self.multi_label and not self._labels:  # the first batch tells the label count
            self._labels = y_pred.shape[1]
            self.reset_state()
        self._add(counts)

    def _average(self, by_threshold):
        """Sum over the thresholds; with multi_label, the (weighted) mean over the labels."""
        if not self.multi_label:
            return float(by_threshold.sum())
        by_label = by_threshold.sum(axis=0)
        if self.label_weights is None:
            return float(by_label.mean()) if by_label.size else 0.0
        return float(divide_no_nan((by_label * self.label_weights).sum(),
                                   self.label_weights.sum()))

    def _interpolated_pr_auc(self):
        """PR-AUC with precision interpolated between thresholds (Davis & Goadrich, 2006), as
        Keras computes it."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore"):
            log_ratio = np.log(ratio)
        increments = divide_no_nan(slope * (dtp + intercept * log_ratio),
                                   np.maximum(tp[1:] + fn[1:], 0))
        return self._average(increments)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc()
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # precision-recall gain (Flach & Kull, 2015)
            scale = divide_no_nan(tp + fn, tn + fp)
            recall_gain = np.where(tp == 0, 0.0, 1.0 - scale * divide_no_nan(fn, tp))
            precision_gain = np.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
            x, y = np.maximum(recall_gain, 0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None
                  else self.label_weights.tolist(),
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
