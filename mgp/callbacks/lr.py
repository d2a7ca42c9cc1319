"""Learning-rate callbacks: ReduceLROnPlateau and LearningRateScheduler. Both set the settable
`model.optimizer.learning_rate` and add `learning_rate` to the epoch logs."""
import inspect
import numbers
import warnings

import numpy as np

from mgp.callbacks.base import Callback
from mgp.callbacks.monitor import MonitorCallback


def _current_lr(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"the model's optimizer must have a `learning_rate` attribute, got "
                         f"{type(optimizer).__name__}")
    return float(optimizer.learning_rate)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by `factor` when `monitor` has stopped improving.

    After `patience` epochs without an improvement larger than `min_delta`, the learning rate
    becomes `max(lr * factor, min_lr)`; then `cooldown` epochs pass before waiting starts again.
    The learning rate of each epoch is logged as `learning_rate` (so it appears in `History`).

    Args:
        monitor: quantity in the epoch logs to watch (default "val_loss").
        factor: multiplier of the learning rate, < 1 (default 0.1).
        patience: epochs without improvement before the rate is reduced (default 10).
        verbose: 1 prints a line on each reduction.
        mode: "auto", "min" or "max" (see `MonitorCallback`).
        min_delta: smallest change that counts as an improvement (default 1e-4).
        cooldown: epochs to wait after a reduction before counting again (default 0).
        min_lr: the learning rate never goes below this (default 0).

    Example:
        reduce_lr = ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5, min_lr=1e-5)
        model.fit(x, y, validation_split=0.1, epochs=50, callbacks=[reduce_lr])
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received "
                             f"factor={factor}")
        if kwargs:
            warnings.warn(f"ReduceLROnPlateau ignores the arguments {sorted(kwargs)}",
                          stacklevel=2)
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _current_lr(self.model)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          f"which is not available. Available metrics are: {','.join(logs)}.",
                          stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_lr(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce_lr(self, epoch):
        old_lr = _current_lr(self.model)
        # compare in float32 as the optimizer computes, so min_lr is reached, not approached
        if old_lr <= float(np.float32(self.min_lr)):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        self.model.optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.",
                  flush=True)
        return True


def _takes_lr(schedule):
    """Whether `schedule` accepts (epoch, lr), Keras's current form, or only (epoch)."""
    try:
        params = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: assume the current form
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from `schedule(epoch, lr)`.

    Args:
        schedule: a function of the 0-based epoch and the current learning rate (a float)
            returning the new learning rate; a function of the epoch alone also works.
        verbose: 1 prints the learning rate set at each epoch.

    The learning rate of each epoch is logged as `learning_rate`. Unlike Keras, which accepts
    only floats, an int returned by the schedule is accepted too.

    Example:
        def schedule(epoch, lr):
            return lr if epoch < 10 else lr * 0.9
        model.fit(x, y, epochs=15, callbacks=[LearningRateScheduler(schedule)])
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = _current_lr(self.model)
        new_lr = self.schedule(epoch, lr) if _takes_lr(self.schedule) else self.schedule(epoch)
        if not isinstance(new_lr, numbers.Real) or isinstance(new_lr, bool):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: "
                             f"{new_lr!r}")
        self.model.optimizer.learning_rate = float(new_lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(new_lr)}.", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model)

    def __repr__(self):
        return f"<LearningRateScheduler schedule={getattr(self.schedule, '__name__', '?')}>"
