"""compile / fit / evaluate / predict: the one training loop every kind of model shares."""
import math

import numpy as np

from mgp import backend, losses as losses_module, metrics as metrics_module, optimizers
from mgp.backend import to_numpy, xp
from mgp.callbacks.base import CallbackList, resolve_verbose
from mgp.tensor import Tensor, no_grad


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _unwrap(arrays, like):
    """A single array back from a one-element list, when the user passed a single array."""
    return arrays if isinstance(like, (list, tuple)) else arrays[0]


def _num_samples(arrays, what):
    if not arrays or any(a is None for a in arrays):
        raise ValueError(f"{what} is missing")
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"all {what} arrays must have the same number of samples, got "
                         f"{[len(a) for a in arrays]}")
    return lengths.pop()


def _host_arrays(data, what):
    arrays = [to_numpy(a.data) if isinstance(a, Tensor) else np.asarray(a)
              for a in _as_list(data)]
    for a in arrays:
        if a.ndim == 0:
            raise ValueError(f"{what} must have a batch axis, got a scalar")
    return arrays


def _check_finite(arrays, what):
    for a in arrays:
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            bad = int(a.size - np.isfinite(a).sum())
            raise ValueError(f"{what} contains {bad} NaN or infinite values; clean the data "
                             f"before training (a NaN input makes every weight NaN)")


def _batch_x(arrays, idx):
    return [Tensor(xp.asarray(a[idx], dtype=np.float32)) for a in arrays]


def _batch_y(arrays, idx):
    return [xp.asarray(a[idx]) for a in arrays]


def _batch_w(weights, idx):
    return None if weights is None else xp.asarray(weights[idx])


def _sample_weights(sample_weight, class_weight, y, n):
    """Per-sample weights (float32, (n,)) from `sample_weight` and/or `class_weight`, or None."""
    weights = None
    if sample_weight is not None:
        weights = np.asarray(to_numpy(sample_weight), dtype=np.float32)
        if weights.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), one weight per sample, got "
                             f"{weights.shape}")
    if class_weight is not None:
        labels = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(n)
        labels = labels.astype(np.int64)
        missing = sorted(set(np.unique(labels).tolist()) - set(class_weight))
        if missing:
            raise ValueError(f"class_weight has no weight for classes {missing}")
        lookup = np.zeros(int(labels.max()) + 1, dtype=np.float32)
        for cls, w in class_weight.items():
            if 0 <= cls < len(lookup):
                lookup[cls] = w
        per_class = lookup[labels]
        weights = per_class if weights is None else weights * per_class
    return weights


class Trainer:
    """The training API mixed into `Model`: compile, fit, evaluate, predict, train_step."""

    compiled = False
    optimizer = None
    stop_training = False
    _initial_epoch = None

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None):
        """Configure training.

        Args:
            optimizer: name ('sgd', 'adam', 'adamw', 'rmsprop', 'adagrad') or Optimizer.
            loss: name, Loss object or function (y_true, y_pred) -> scalar Tensor; a list (or dict
                keyed by output layer name) for models with several outputs.
            metrics: list of names ('accuracy', 'mae', 'mse') or Metric objects.
            loss_weights: optional per-output weights of the total loss.
        """
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        outputs = getattr(self, "outputs", None) or [None]
        loss_list = self._per_output(loss, outputs, "loss")
        self._losses = [losses_module.get(l) if l is not None else None for l in loss_list]
        self._loss_weights = self._per_output(loss_weights, outputs, "loss_weights") \
            if loss_weights is not None else [1.0] * len(loss_list)
        first_loss = loss_list[0] if loss_list else None
        # resolved now so that an unknown name fails at compile; 'accuracy' is resolved again
        # from the first batch's shapes, as Keras 3 does
        self._metric_ids = list(metrics or [])
        self._metrics = [metrics_module.get(m, loss=first_loss) for m in self._metric_ids]
        self._metrics_from_shapes = False
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.compiled = True
        self._compile_config = {"optimizer": optimizer, "loss": loss, "metrics": metrics,
                                "loss_weights": loss_weights}

    def _per_output(self, value, outputs, what):
        if isinstance(value, dict):
            names = [o.layer.name for o in outputs]
            unknown = set(value) - set(names)
            if unknown:
                raise ValueError(f"{what} names unknown outputs {sorted(unknown)}; the outputs "
                                 f"are {names}")
            return [value.get(n) for n in names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(outputs):
                raise ValueError(f"{what} has {len(value)} entries for {len(outputs)} outputs")
            return list(value)
        return [value] * len(outputs)

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in getattr(self, "_metrics", [])]

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"you must call compile() before {what}()")

    # ---- one step --------------------------------------------------------------------------------
    def compute_loss(self, x, y, y_pred, sample_weight=None):
        """The (weighted) sum of each output's loss: a scalar Tensor."""
        total = None
        for loss_fn, weight, target, pred in zip(self._losses, self._loss_weights, _as_list(y),
                                                  _as_list(y_pred)):
            if loss_fn is None:
                continue
            term = loss_fn(target, pred, sample_weight=sample_weight)
            term = term * weight if weight != 1 else term
            total = term if total is None else total + term
        return total

    def train_step(self, x, y, sample_weight=None):
        """One optimization step on a batch; returns the running logs. Override to customize.

        Args:
            x: a Tensor (or list of Tensors for several inputs), float32.
            y: the targets as arrays (or a list of them).
            sample_weight: optional per-sample weights of the loss and metrics, shape (batch,).
        """
        y_pred = self(_unwrap(_as_list(x), x), training=True)
        weights = self.trainable_weights  # after the call: a subclassed model builds on it
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        for w in weights:
            w.grad = None
        loss.backward()
        self.optimizer.apply([w.grad for w in weights], weights)
        return self._update_logs(loss, y, y_pred, sample_weight)

    def test_step(self, x, y, sample_weight=None):
        y_pred = self(_unwrap(_as_list(x), x), training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        return self._update_logs(loss, y, y_pred, sample_weight)

    def _update_logs(self, loss, y, y_pred, sample_weight=None):
        n = len(_as_list(y)[0])
        self._loss_tracker.update_state(float(loss.item()), sample_weight=n)
        first_true, first_pred = _as_list(y)[0], _as_list(y_pred)[0]
        if not self._metrics_from_shapes:
            self._metrics = [metrics_module.get(m, loss=self._losses[0], y_true=first_true,
                                                y_pred=first_pred) for m in self._metric_ids]
            self._metrics_from_shapes = True
        for m in self._metrics:
            m.update_state(first_true, first_pred, sample_weight=sample_weight)
        return self._logs()

    def _logs(self):
        logs = {"loss": self._loss_tracker.result()}
        for m in self._metrics:
            logs[m.name] = m.result()
        return logs

    def _reset_metrics(self):
        self._loss_tracker.reset_state()
        for m in self._metrics:
            m.reset_state()

    # ---- loops -----------------------------------------------------------------------------------
    def _prepare(self, x, y, batch_size, what):
        if batch_size is None:
            batch_size = 32
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        xs = _host_arrays(x, "x")
        n = _num_samples(xs, "x")
        if n == 0:
            raise ValueError(f"{what}() got empty data: x has 0 samples")
        ys = None
        if y is not None:
            ys = _host_arrays(y, "y")
            ny = _num_samples(ys, "y")
            if ny != n:
                raise ValueError(f"x and y must have the same number of samples, got {n} "
                                 f"inputs and {ny} targets")
        self._check_input_shapes(xs)
        return xs, ys, n

    def _check_input_shapes(self, xs):
        """Compare data with the model's declared input shapes (when it has them)."""
        inputs = getattr(self, "inputs", None)
        if not inputs:
            return
        if len(xs) != len(inputs):
            raise ValueError(f"model '{self.name}' has {len(inputs)} inputs, got {len(xs)} "
                             f"arrays")
        for a, sym in zip(xs, inputs):
            expected = sym.shape[1:]
            if len(expected) != a.ndim - 1 or any(
                    e is not None and e != g for e, g in zip(expected, a.shape[1:])):
                raise ValueError(f"model '{self.name}' expected input shape "
                                 f"{(None,) + tuple(expected)}, got {a.shape} (input "
                                 f"'{sym.layer.name}')")

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None,
            validation_batch_size=None, validation_freq=1):
        """Train for `epochs` passes over (x, y), Keras's signature.

        Args:
            x: array (N, ...) or list of arrays for several inputs. y: targets, N first.
            batch_size: samples per step (default 32).
            validation_split: fraction in [0, 1) taken from the *end* of the data, before
                shuffling, to validate on. validation_data: (x_val, y_val) or
                (x_val, y_val, sample_weight_val) instead.
            class_weight: {class index: weight}, applied to each sample by its label.
            sample_weight: (N,) weights of each sample in the loss and metrics.
            steps_per_epoch: at most this many batches per epoch (each epoch starts a fresh
                shuffle).
            validation_freq: validate every this many epochs.
        Returns:
            A `History` whose `.history` maps 'loss', each metric and 'val_*' to epoch lists.
        """
        self._require_compiled("fit")
        if not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
        xs, ys, n = self._prepare(x, y, batch_size, "fit")
        if ys is None:
            raise ValueError("fit() needs targets y")
        batch_size = batch_size or 32
        weights = _sample_weights(sample_weight, class_weight, ys[0], n)
        if validation_split and validation_data is None:
            split = int(n * (1 - validation_split))
            if split == 0 or split == n:
                raise ValueError(f"validation_split={validation_split} leaves no training or "
                                 f"no validation samples out of {n}")
            validation_data = (_unwrap([a[split:] for a in xs], x),
                               _unwrap([a[split:] for a in ys], y),
                               None if weights is None else weights[split:])
            xs, ys, n = [a[:split] for a in xs], [a[:split] for a in ys], split
            weights = None if weights is None else weights[:split]
        for a in xs:
            _check_finite([a], "x")

        steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            steps = min(steps, int(steps_per_epoch))
        verbose = resolve_verbose(verbose)
        cbs = CallbackList(callbacks, model=self, add_history=True, add_progbar=verbose != 0,
                           verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        self._initial_epoch = None
        cbs.on_train_begin()
        # a callback restoring a backup (BackupAndRestore) sets where to resume, as in Keras
        start_epoch, self._initial_epoch = self._initial_epoch or initial_epoch, None
        epoch_logs = {}
        for epoch in range(start_epoch, epochs):
            self._reset_metrics()
            cbs.on_epoch_begin(epoch)
            order = backend.rng().permutation(n) if shuffle else np.arange(n)
            logs = {}
            for step in range(steps):
                idx = order[step * batch_size:(step + 1) * batch_size]
                cbs.on_train_batch_begin(step)
                logs = self.train_step(_unwrap(_batch_x(xs, idx), x),
                                       _unwrap(_batch_y(ys, idx), y), _batch_w(weights, idx))
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                val_x, val_y, val_w = (tuple(validation_data) + (None,))[:3]
                val_logs = self.evaluate(val_x, val_y, validation_batch_size or batch_size,
                                         verbose=0, sample_weight=val_w, return_dict=True,
                                         _callback_list=cbs)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs)
        return cbs.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 callbacks=None, return_dict=False, _callback_list=None):
        """Loss (and metrics) over (x, y), in batches, without building a graph.

        Returns:
            the loss alone when there are no metrics, else `[loss, *metrics]`; a dict with
            `return_dict=True`.
        """
        self._require_compiled("evaluate")
        xs, ys, n = self._prepare(x, y, batch_size, "evaluate")
        if ys is None:
            raise ValueError("evaluate() needs targets y")
        batch_size = batch_size or 32
        weights = _sample_weights(sample_weight, None, ys[0], n)
        # validation inside fit reuses fit's callbacks, so their on_test_* hooks fire (as Keras)
        verbose = resolve_verbose(verbose)
        cbs = _callback_list or CallbackList(callbacks, model=self, add_progbar=verbose != 0,
                                             verbose=verbose, steps=math.ceil(n / batch_size))
        self._reset_metrics()
        cbs.on_test_begin()
        logs = {}
        with no_grad():
            for step, start in enumerate(range(0, n, batch_size)):
                idx = slice(start, start + batch_size)
                cbs.on_test_batch_begin(step)
                logs = self.test_step(_unwrap(_batch_x(xs, idx), x),
                                      _unwrap(_batch_y(ys, idx), y), _batch_w(weights, idx))
                cbs.on_test_batch_end(step, logs)
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        values = [logs[k] for k in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", callbacks=None):
        """Outputs for `x`, in batches, as NumPy arrays (a list for several outputs)."""
        xs, _, n = self._prepare(x, None, batch_size, "predict")
        batch_size = batch_size or 32
        verbose = resolve_verbose(verbose)
        cbs = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose,
                           steps=math.ceil(n / batch_size))
        cbs.on_predict_begin()
        chunks = []
        with no_grad():
            for step, start in enumerate(range(0, n, batch_size)):
                idx = slice(start, start + batch_size)
                cbs.on_predict_batch_begin(step)
                out = self(_unwrap(_batch_x(xs, idx), x), training=False)
                chunks.append([to_numpy(o.data) for o in _as_list(out)])
                cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        outputs = [np.concatenate(parts) for parts in zip(*chunks)]
        return outputs if len(outputs) > 1 else outputs[0]

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=len(_as_list(x)[0]), verbose=0)
