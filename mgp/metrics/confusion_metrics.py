"""Confusion-matrix metrics at decision thresholds: the four counts, Precision, Recall, and the
best rate at a constrained other (SensitivityAtSpecificity, PrecisionAtRecall, ...).

A prediction counts as positive at threshold th when it is above th; a label is positive when it
is nonzero. Counting is vectorized over predictions and thresholds alike: each prediction falls
into the bucket of thresholds it exceeds (`np.searchsorted`, or for evenly spaced thresholds
Keras's `ceil(p * (T - 1))`), then weighted bucket counts (`np.bincount`) summed from the top
give the count at every threshold, without a (thresholds x predictions) table.
"""
import numpy as np

from mgp.losses.loss import squeeze_or_expand_to_same_rank
from mgp.metrics.metric import Metric, check_unit_interval, divide_no_nan, host, scalar_or_array

NEG_INF = -1e10  # Keras's threshold below every prediction (top_k)


def thresholds_list(name, thresholds, default):
    """The thresholds as a list of floats, each checked to lie in [0, 1]."""
    if thresholds is None:
        return [default]
    values = list(np.ravel(thresholds)) if not isinstance(thresholds, (int, float)) \
        else [thresholds]
    check_unit_interval(name, "thresholds", values)
    return [float(v) for v in values]


def evenly_spaced(thresholds):
    """Keras's test for thresholds i / (T - 1), which take the bucket path."""
    n = len(thresholds)
    return n >= 3 and np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=1e-7)


def _above_counts(buckets, weights, n, labels=1):
    """For each threshold j < n (and label), the total weight of the entries whose bucket is
    above j: entries in bucket b exceed thresholds 0 .. b - 1, bucket 0 exceeds none."""
    counts = np.bincount(buckets.ravel(), weights=weights.ravel(), minlength=(n + 1) * labels)
    counts = counts.reshape(labels, n + 1)
    above = counts[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]  # sum over buckets j + 1 .. n
    return above.T  # (n, labels)


def confusion_counts(name, y_true, y_pred, thresholds, sample_weight=None, top_k=None,
                     class_id=None, multi_label=False, label_weights=None, evenly=False):
    """The weighted true/false positives/negatives of a batch at each threshold.

    Returns:
        dict 'tp', 'fp', 'tn', 'fn' of float64 arrays (T,), or (T, labels) with multi_label.
    """
    y_true = host(y_true, "y_true").astype(np.float32)
    y_pred = host(y_pred, "y_pred").astype(np.float32)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name}: y_true has shape {y_true.shape} but y_pred has shape "
                         f"{y_pred.shape}; they must match")
    if sample_weight is not None:
        sample_weight = host(sample_weight, "sample_weight").astype(np.float32)[..., None]
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:  # all but each row's k best fall below every threshold
        keep = np.zeros(y_pred.shape, dtype=bool)
        k = min(top_k, y_pred.shape[-1])
        np.put_along_axis(keep, np.argsort(-y_pred, axis=-1, kind="stable")[..., :k], True, -1)
        y_pred = np.where(keep, y_pred, np.float32(NEG_INF))
    if class_id is not None:
        if y_pred.ndim < 2 or not -y_pred.shape[-1] <= class_id < y_pred.shape[-1]:
            raise ValueError(f"{name}: class_id {class_id} needs predictions of shape (samples, "
                             f"classes) with more than {class_id} classes, got {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    weights = np.ones(y_pred.shape, np.float32)
    if sample_weight is not None:
        try:
            weights = weights * np.broadcast_to(sample_weight, y_pred.shape)
        except ValueError:
            raise ValueError(f"{name}: sample_weight of shape {sample_weight.shape[:-1]} does "
                             f"not fit predictions of shape {y_pred.shape}") from None
    if label_weights is not None:
        weights = weights * np.broadcast_to(np.asarray(label_weights, np.float32),
                                            y_pred.shape)
    if multi_label:  # one column of counts per label
        if y_pred.ndim != 2:
            raise ValueError(f"{name}: multi_label needs predictions of shape (samples, labels), "
                             f"got {y_pred.shape}")
        labels = y_pred.shape[1]
    else:
        labels = 1
        y_true, y_pred, weights = y_true.reshape(-1, 1), y_pred.reshape(-1, 1), \
            weights.reshape(-1, 1)
    positive = y_true != 0
    n = len(thresholds)
    if evenly:  # Keras's bucket of evenly spaced thresholds, in float32 as Keras computes it
        p = np.clip(y_pred, 0, 1)
        bucket = np.ceil(p * np.float32(n - 1)).astype(np.int64)  # bucket = index + 1
        if thresholds[0] < 0 or thresholds[-1] > 1:
            bucket = np.maximum(bucket, 1)
    else:
        order = np.argsort(thresholds, kind="stable")
        ranked = np.asarray(thresholds, np.float32)[order]
        bucket = np.searchsorted(ranked, y_pred, side="left")  # thresholds strictly below
    bucket = bucket + (n + 1) * np.arange(labels)  # a range of buckets per label
    pos_w, neg_w = np.where(positive, weights, 0), np.where(positive, 0, weights)
    tp, fp = _above_counts(bucket, pos_w, n, labels), _above_counts(bucket, neg_w, n, labels)
    if not evenly:
        unsort = np.argsort(order)
        tp, fp = tp[unsort], fp[unsort]
    counts = {"tp": tp, "fp": fp, "fn": pos_w.sum(axis=0, dtype=np.float64) - tp,
              "tn": neg_w.sum(axis=0, dtype=np.float64) - fp}
    return {key: value if multi_label else value[:, 0] for key, value in counts.items()}


class _ConfusionMetric(Metric):
    """Accumulates some of the four counts at `self.thresholds` (float64, one per threshold)."""

    _counts = ("tp", "fp", "tn", "fn")
    _count_names = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives",
                    "fn": "false_negatives"}

    @property
    def _state_attributes(self):
        return tuple(self._count_names[key] for key in self._counts)

    def reset_state(self):
        for key in self._counts:
            setattr(self, self._count_names[key], np.zeros(len(self.thresholds)))

    def _batch_counts(self, y_true, y_pred, sample_weight, **options):
        try:
            return confusion_counts(self._label, y_true, y_pred, self.thresholds, sample_weight,
                                    evenly=self._evenly, **options)
        except (ValueError, TypeError) as e:
            raise self._error(e) from None

    def _add(self, counts):
        for key in self._counts:  # after every check: a refused batch changes nothing
            name = self._count_names[key]
            setattr(self, name, getattr(self, name) + counts[key])

    def _accumulate(self, y_true, y_pred, sample_weight, **options):
        self._add(self._batch_counts(y_true, y_pred, sample_weight, **options))

    def _one_or_all(self, values):
        return scalar_or_array(values[0] if len(self.thresholds) == 1 else values)


class _ConfusionMatrixConditionCount(_ConfusionMetric):
    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = thresholds_list(type(self).__name__, thresholds, 0.5)
        self._evenly = evenly_spaced(self.thresholds)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._accumulate(y_true, y_pred, sample_weight)

    def result(self):
        return self._one_or_all(getattr(self, self._count_names[self._counts[0]]))

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The weighted number of positive labels predicted above the threshold(s) (0.5 by default;
    a list gives one count per threshold)."""
    _counts = ("tp",)


class FalsePositives(_ConfusionMatrixConditionCount):
    """The weighted number of negative labels predicted above the threshold(s)."""
    _counts = ("fp",)


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The weighted number of negative labels predicted at or below the threshold(s)."""
    _counts = ("tn",)


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The weighted number of positive labels predicted at or below the threshold(s)."""
    _counts = ("fn",)


class Precision(_ConfusionMetric):
    """tp / (tp + fp) at the threshold(s).

    Args:
        thresholds: a float or list in [0, 1] (default 0.5; with top_k, every prediction).
        top_k: only each row's k highest predictions can count as positive.
        class_id: the class (column) to score; by default all entries count.
    """
    _counts = ("tp", "fp")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = thresholds_list(type(self).__name__, thresholds,
                                          0.5 if top_k is None else NEG_INF)
        self._evenly = evenly_spaced(self.thresholds)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._accumulate(y_true, y_pred, sample_weight, top_k=self.top_k,
                         class_id=self.class_id)

    def result(self):
        return self._one_or_all(divide_no_nan(self.true_positives,
                                              self.true_positives + self.false_positives))

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Recall(Precision):
    """tp / (tp + fn) at the threshold(s); arguments as Precision's."""
    _counts = ("tp", "fn")

    def result(self):
        return self._one_or_all(divide_no_nan(self.true_positives,
                                              self.true_positives + self.false_negatives))


class SensitivitySpecificityBase(_ConfusionMetric):
    """The best of one rate where another reaches `value`, over `num_thresholds` evenly spaced
    thresholds in [0, 1]."""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if num_thresholds <= 0:
            raise ValueError(f"{type(self).__name__}: num_thresholds must be an integer > 0, got "
                             f"{num_thresholds}")
        self.value, self.class_id, self.num_thresholds = value, class_id, num_thresholds
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            self.thresholds = [i / (num_thresholds - 1) for i in range(num_thresholds)]
            self._evenly = True
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._accumulate(y_true, y_pred, sample_weight, class_id=self.class_id)

    def _rates(self):
        return {"sensitivity": divide_no_nan(self.true_positives,
                                             self.true_positives + self.false_negatives),
                "specificity": divide_no_nan(self.true_negatives,
                                             self.true_negatives + self.false_positives),
                "precision": divide_no_nan(self.true_positives,
                                           self.true_positives + self.false_positives)}

    def _best_where(self, best, constrained):
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return float(np.max(np.where(feasible, rates[best], 0.0), initial=0.0))

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id}


def _rate(name, what, value):
    check_unit_interval(name, what, [value])
    return value


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) over the thresholds whose specificity is >= `specificity`."""

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        self.specificity = _rate(type(self).__name__, "specificity", specificity)
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best_where("sensitivity", "specificity")

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "specificity": self.specificity}


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity over the thresholds whose sensitivity is >= `sensitivity`."""

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        self.sensitivity = _rate(type(self).__name__, "sensitivity", sensitivity)
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best_where("specificity", "sensitivity")

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "sensitivity": self.sensitivity}


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision over the thresholds whose recall is >= `recall`."""

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        self.recall = _rate(type(self).__name__, "recall", recall)
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best_where("precision", "sensitivity")

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "recall": self.recall}


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall over the thresholds whose precision is >= `precision`."""

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        self.precision = _rate(type(self).__name__, "precision", precision)
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self):
        return self._best_where("sensitivity", "precision")

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "precision": self.precision}
