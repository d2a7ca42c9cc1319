"""ModelCheckpoint: save the model or its weights during `fit`, every epoch or every N batches."""
import os
import warnings

import numpy as np

from mgp.callbacks.monitor import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model (or only its weights) while training.

    `filepath` is a template filled with the 1-based `epoch` and the entries of the logs, e.g.
    "ckpt-{epoch:02d}-{val_loss:.4f}.weights.h5" writes ckpt-03-0.4121.weights.h5 after the third
    epoch; with an integer `save_freq`, `{batch}` (1-based) is available too. Missing folders are
    created. Each file is written by `model.save_weights` / `model.save`, which replace a file
    whole, so a crash never leaves a half-written checkpoint.

    Args:
        filepath: where to save; must end in ".weights.h5" with `save_weights_only=True`, else in
            ".keras" or ".h5" (a whole model: architecture, weights, optimizer state).
        monitor: quantity that `save_best_only` compares (default "val_loss").
        verbose: 1 prints a line for each save (or skipped save).
        save_best_only: save only when `monitor` improves on the best value so far. With a fixed
            filepath this keeps only the best model. If `monitor` is not in the logs, a warning
            is given and the model is saved anyway.
        save_weights_only: save with `model.save_weights` instead of `model.save`.
        mode: "auto", "min" or "max" (see `MonitorCallback`).
        save_freq: "epoch" (at the end of every epoch) or an integer N (after every N batches,
            counted across epochs).
        initial_value_threshold: a value the first saved model must already beat.

    Example:
        checkpoint = ModelCheckpoint("ckpt/best.weights.h5", monitor="val_accuracy",
                                     save_best_only=True, save_weights_only=True)
        model.fit(x, y, validation_split=0.1, epochs=10, callbacks=[checkpoint])
        model.load_weights("ckpt/best.weights.h5")
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        if save_freq != "epoch" and (not isinstance(save_freq, (int, np.integer))
                                     or isinstance(save_freq, bool) or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are "
                             f"'epoch' or a positive integer (a number of batches)")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(f"When using `save_weights_only=True` in `ModelCheckpoint`, the "
                                 f"filepath provided must end in `.weights.h5` (Keras weights "
                                 f"format). Received: filepath={self.filepath}")
        elif not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(f"The filepath provided must end in `.keras` or `.h5` (a whole "
                             f"model), or in `.weights.h5` with `save_weights_only=True`. "
                             f"Received: filepath={self.filepath}")
        self._batches_since_save = 0
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if os.path.isdir(filepath):
            raise IOError(f"Please specify a non-directory filepath for ModelCheckpoint. "
                          f"Filepath used is an existing directory: {filepath}")
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}", flush=True)

    def _should_save(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}", flush=True)
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"ModelCheckpoint can save the best model only with `{self.monitor}` "
                          f"available, but the logs only have {sorted(logs)}; saving anyway. "
                          f"(Is validation data missing, or the name misspelled?)", stacklevel=2)
            return True
        if np.ndim(current) > 0:
            warnings.warn(f"Can save best model only when `monitor` is a scalar value. Received: "
                          f"{current}. Falling back to `save_best_only=False`.", stacklevel=2)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                      f"{current:.5f}, saving model to {filepath}", flush=True)
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}", flush=True)
        return False

    def _get_file_path(self, epoch, batch, logs):
        """The template filled with the 1-based epoch (and batch), and the logs."""
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f'Reason: {e}; the logs have {sorted(logs)}') from None

    def __repr__(self):
        return (f"<ModelCheckpoint filepath={self.filepath!r} monitor={self.monitor!r} "
                f"save_best_only={self.save_best_only} save_freq={self.save_freq!r}>")
