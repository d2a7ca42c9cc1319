"""Intersection-over-union metrics for segmentation, from an accumulated confusion matrix: per
class, IoU = tp / (tp + fp + fn), averaged over the classes asked for."""
import warnings

import numpy as np

from mgp.losses.loss import EPSILON
from mgp.metrics.metric import Metric, host


class _IoUBase(Metric):
    """Accumulates a (num_classes, num_classes) confusion matrix: rows are true classes, columns
    predicted ones. Labels or predictions outside [0, num_classes) (and `ignore_class`) are left
    out, as in Keras; with sparse_y_true / sparse_y_pred False the argmax along `axis` is taken.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int32")
        if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(f"{type(self).__name__}: num_classes must be a positive integer, "
                             f"got {num_classes!r}")
        self.num_classes, self.ignore_class = int(num_classes), ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis
        self.reset_state()

    _state_attributes = ("total_cm",)

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None):
        try:
            cells, weights = self._batch(y_true, y_pred, sample_weight)
        except (ValueError, TypeError) as e:
            raise self._error(e) from None
        n = self.num_classes
        self.total_cm = self.total_cm + np.bincount(cells, weights=weights,
                                                    minlength=n * n).reshape(n, n)

    def _batch(self, y_true, y_pred, sample_weight):
        """The confusion-matrix cells (true * n + predicted) of the batch's kept entries, and
        their weights."""
        kind = self._label
        t, p = host(y_true, "y_true"), host(y_pred, "y_pred")
        if not self.sparse_y_true:
            t = t.argmax(axis=self.axis)
        if not self.sparse_y_pred:
            p = p.argmax(axis=self.axis)
        integer = np.dtype(self.dtype).kind in "iu"
        # Keras casts labels, predictions and weights to the metric's dtype (int32 by default)
        t, p = t.astype(self.dtype).reshape(-1), p.astype(self.dtype).reshape(-1)
        if t.shape != p.shape:
            raise ValueError(f"{kind}: y_true has {t.size} entries but y_pred has {p.size}; "
                             f"they must match")
        w = np.ones(t.shape)
        if sample_weight is not None:
            sw = host(sample_weight, "sample_weight")
            if integer and sw.dtype.kind == "f":
                warnings.warn(f"{kind}: float sample weights are cast to the metric's dtype "
                              f"{self.dtype} (pass dtype='float32' to keep fractions)",
                              stacklevel=2)
            sw = sw.astype(self.dtype).reshape(-1)
            try:
                w = np.broadcast_to(sw, t.shape).astype(np.float64)
            except ValueError:
                raise ValueError(f"{kind}: sample_weight of shape {np.shape(sample_weight)} does "
                                 f"not fit {t.size} entries") from None
        n = self.num_classes
        keep = (t >= 0) & (t < n) & (p >= 0) & (p < n)
        if self.ignore_class is not None:
            keep &= t != self.ignore_class
        return (t[keep] * n + p[keep]).astype(np.int64), w[keep]

    def _iou(self, class_ids):
        cm = self.total_cm
        tp = np.diag(cm)
        denominator = (cm.sum(axis=0) + cm.sum(axis=1) - tp)[class_ids]
        tp = tp[class_ids]
        valid = denominator > 1e-9
        iou = np.where(valid, tp / (denominator + EPSILON), 0.0)
        return float(iou.sum() / (valid.sum() + EPSILON))


class IoU(_IoUBase):
    """The mean IoU over `target_class_ids`: e.g. [0] for the IoU of class 0 alone.

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes to average over.
        ignore_class: a label value to leave out (e.g. 255 for void pixels).
        sparse_y_true, sparse_y_pred: integer classes (True) or scores to take the argmax of.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)
        ids = [int(i) for i in target_class_ids]
        if not ids or min(ids) < 0 or max(ids) >= self.num_classes:
            raise ValueError(f"{type(self).__name__}: target_class_ids must be classes in "
                             f"[0, {self.num_classes}), got {list(target_class_ids)}")
        self.target_class_ids = ids

    def result(self):
        return self._iou(self.target_class_ids)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of thresholded binary predictions: a prediction >= `threshold` is class 1.

    Args:
        target_class_ids: (0, 1) averages both classes, [1] the foreground's IoU alone.
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        try:
            p = host(y_pred, "y_pred").astype(np.float32) >= self.threshold
        except TypeError as e:
            raise self._error(e) from None
        super().update_state(y_true, p.astype(self.dtype), sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """The mean IoU over all classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=list(range(num_classes)),
                         name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """IoU for one-hot labels and per-class scores (argmax taken along `axis`)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """Mean IoU over all classes for one-hot labels and per-class scores."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}

