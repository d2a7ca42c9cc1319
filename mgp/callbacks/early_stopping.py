"""EarlyStopping: stop `fit` when a monitored quantity has stopped improving."""
import warnings

from mgp.callbacks.monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop training when `monitor` has not improved for `patience` epochs.

    At the end of each epoch the monitored value is compared with the best so far; after
    `patience` epochs without an improvement larger than `min_delta`, `model.stop_training` is set.

    Args:
        monitor: quantity in the epoch logs to watch (default "val_loss").
        min_delta: a change smaller than this (absolute) does not count as an improvement.
        patience: epochs without improvement after which training stops (default 0).
        verbose: 1 prints a line when the callback stops training or restores weights.
        mode: "auto", "min" or "max" (see `MonitorCallback`).
        baseline: training also stops if the value does not improve on this baseline within
            `patience` epochs.
        restore_best_weights: at the end of training, set the model's weights back to those of
            the best epoch (whether or not training stopped early).
        start_from_epoch: epochs of warm-up before the value is watched at all.

    Example:
        stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
        model.fit(x, y, validation_split=0.2, epochs=100, callbacks=[stop])
        stop.stopped_epoch  # 0-based epoch at which training stopped (0 if it did not)
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # the first watched epoch is the best until another beats it
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # an improvement that still misses the baseline does not reset the patience
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", flush=True)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.", flush=True)
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}", stacklevel=2)
        return value
