"""Callback, CallbackList and History: the hooks `fit`, `evaluate` and `predict` call, with
Keras's names and arguments (the progress bar is in `mgp.callbacks.progbar`)."""
from mgp.errors import InvalidArgumentError


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
        from mgp.callbacks.progbar import ProgbarLogger  # it builds on Callback, defined here
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise InvalidArgumentError(f"callbacks must be a list of mgp.callbacks.Callback "
                                       f"instances, got {type(callbacks).__name__} "
                                       f"{callbacks!r}")
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
                raise InvalidArgumentError(f"callbacks must be mgp.callbacks.Callback "
                                           f"instances, got {type(c).__name__} {c!r}")
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


def resolve_verbose(verbose):
    """'auto' is 1, as in Keras: the bar itself knows whether it is on a terminal, in a log
    file or in a notebook (`mgp.callbacks.progbar`)."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise InvalidArgumentError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)
