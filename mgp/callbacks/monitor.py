"""MonitorCallback: the watch on one logged quantity that EarlyStopping, ModelCheckpoint and
ReduceLROnPlateau share (`monitor`, `mode`, `min_delta`, the best value so far)."""
import operator
import warnings

import numpy as np

from mgp.callbacks.base import Callback

# metrics that get better as they grow; anything else (losses, errors) gets better as it shrinks
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "fbeta", "iou", "r2")


class MonitorCallback(Callback):
    """Base class for callbacks that watch `logs[monitor]` and ask whether it improved.

    Args:
        monitor: the logged quantity to watch, e.g. "val_loss" or "val_accuracy".
        mode: "min" (lower is better), "max" (higher is better) or "auto": "max" for
            accuracy-like names (acc, accuracy, auc, precision, recall, ...) or a compiled metric
            whose `_direction` is "up", "min" otherwise (losses, errors).
        baseline: the initial best value; None means the first value seen is the first best.
        min_delta: an improvement must beat the best by more than this (absolute change).
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto "
                          f"mode.", stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _higher_is_better(self):
        if self.mode != "auto":
            return self.mode == "max"
        name = self.monitor.removeprefix("val_")
        if name == "loss" or name.endswith("loss"):
            return False
        for m in _leaf_metrics(self.model):
            if getattr(m, "name", None) == name and getattr(m, "_direction", None):
                return m._direction == "up"
        return any(key in name for key in _HIGHER_IS_BETTER)

    def _set_monitor_op(self):
        """Fix the direction once the model (and its metrics) are known."""
        if self._higher_is_better():
            self.monitor_op = operator.gt
        else:
            self.monitor_op = operator.lt
            self.min_delta = -abs(self.min_delta)  # so `current - min_delta < best` in one form

    def _is_improvement(self, current, reference):
        """Whether `current` beats `reference` by more than min_delta (always, when no reference)."""
        if reference is None:
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        # compared in float32, as Keras does (its ops cast to floatx), so ties break the same way
        return bool(self.monitor_op(np.float32(current - self.min_delta), np.float32(reference)))

    def __repr__(self):
        mode = self.mode if self.monitor_op is None else \
            ("max" if self.monitor_op is operator.gt else "min")
        return f"<{type(self).__name__} monitor={self.monitor!r} mode={mode!r} best={self.best}>"


def _leaf_metrics(model):
    """The model's metric objects, the compiled metrics' own ones included."""
    for m in getattr(model, "metrics", None) or []:
        yield from getattr(m, "metrics", None) or [m]
