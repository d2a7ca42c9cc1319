"""Callback, CallbackList, History and ProgbarLogger: the hooks `fit`, `evaluate` and `predict`
call, with Keras's names and arguments."""
import sys
import time

import numpy as np


class Callback:
    """Base class: override any hook. `self.model` and `self.params` are set before training.

    `params` holds `epochs`, `steps` (batches per epoch) and `verbose`. Set
    `self.model.stop_training = True` to stop `fit` after the current batch/epoch.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    # Keras's older names on_batch_begin/end are what the train-batch hooks call by default
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    def __repr__(self):
        return f"<{type(self).__name__}>"


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class CallbackList:
    """Fans each hook out to a list of callbacks, in order. `History` is always attached, and a
    `ProgbarLogger` when `verbose` is not 0."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = list(callbacks or [])
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if add_history:
            self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
            if self.history is None:
                self.history = History()
                self.callbacks.append(self.history)
        for c in self.callbacks:
            if not isinstance(c, Callback):
                raise TypeError(f"callbacks must be mgp.callbacks.Callback instances, got "
                                f"{type(c).__name__}")
            if model is not None:
                c.set_model(model)
            c.set_params(dict(params))

    def __getattr__(self, hook):
        if hook not in _HOOKS:
            raise AttributeError(hook)
        indexed = hook.startswith("on_epoch_") or "_batch_" in hook  # (epoch or batch, logs)

        def fan_out(*args, logs=None):
            # every callback gets `logs` ({} when the loop has none), as in Keras, so that
            # `LambdaCallback(on_epoch_begin=lambda epoch, logs: ...)` works
            if len(args) > (1 if indexed else 0):
                *args, logs = args
            logs = {} if logs is None else logs
            for c in self.callbacks:
                getattr(c, hook)(*args, logs)
        return fan_out

    def __iter__(self):
        return iter(self.callbacks)


class History(Callback):
    """Records each epoch's logs: `history.history["loss"]` is the list of epoch losses."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def __repr__(self):
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"


def _format_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, (float, np.floating)) else f"{k}: {v}"
                      for k, v in logs.items())


def resolve_verbose(verbose):
    """'auto' is 1 (a live bar) on a terminal or in a notebook, 2 (a line per epoch) otherwise."""
    if verbose != "auto":
        return int(verbose)
    if "ipykernel" in sys.modules:
        return 1
    return 1 if sys.stdout.isatty() else 2


class ProgbarLogger(Callback):
    """Progress output of `fit`: with verbose 1 a tqdm bar per epoch under `Epoch i/n`, the running
    loss and metrics on it and the validation figures added at the end; with verbose 2 one line
    per epoch."""

    def __init__(self):
        super().__init__()
        self._bar = None

    def on_epoch_begin(self, epoch, logs=None):
        verbose, epochs = self.params.get("verbose", 1), self.params.get("epochs", 1)
        print(f"Epoch {epoch + 1}/{epochs}", flush=True)
        self._start = time.perf_counter()
        self._seen = 0
        if verbose == 1:
            from tqdm.auto import tqdm
            self._bar = tqdm(total=self.params.get("steps"), unit="step", file=sys.stdout,
                             dynamic_ncols=True, leave=True)

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._bar is not None:
            self._bar.update(1)
            if batch % 10 == 0 or batch + 1 == self.params.get("steps"):
                self._bar.set_postfix_str(_format_logs(logs or {}), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        if self._bar is not None:
            self._bar.set_postfix_str(_format_logs(logs or {}), refresh=True)
            self._bar.close()
            self._bar = None
        elif self.params.get("verbose", 1) == 2:
            steps = self._seen or 1
            print(f"{self._seen}/{self.params.get('steps')} - {elapsed:.0f}s - "
                  f"{1000 * elapsed / steps:.0f}ms/step - {_format_logs(logs or {})}", flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
