"""compile / fit / evaluate / predict, and the step methods they call, as Keras 3 has them.

`fit` hands each batch to `train_step(self, data)`, with `data` being `x`, `(x, y)` or
`(x, y, sample_weight)` (unpack it with `mgp.utils.unpack_x_y_sample_weight`); `evaluate` hands
them to `test_step(data)` and `predict` to `predict_step(data)`. The default `train_step` is
Keras's torch-backend one, since mgp's autograd follows PyTorch's:

    y_pred = self(x, training=True)
    self.zero_grad()
    loss = self.compute_loss(x, y, y_pred, sample_weight)   # compiled loss + self.losses
    loss.backward()
    self.optimizer.apply([v.value.grad for v in self.trainable_weights], self.trainable_weights)
    return self.compute_metrics(x, y, y_pred, sample_weight)

so a subclass overrides any one of those pieces, or the whole step (a GAN with two optimizers
passed to its own `compile`), exactly as Keras's "customizing what happens in fit" guide does.
"""
import warnings

import numpy as np

from mgp import backend, metrics as metrics_module, optimizers
from mgp.callbacks.base import CallbackList, resolve_verbose
from mgp.distribution.loop import data_parallel_loop
from mgp.layers.base import _function, _signature
from mgp.layers.symbolic import flatten
from mgp.errors import InvalidArgumentError, InvalidDataError
from mgp.models import arrays, checks, data_adapters
from mgp.models.compile_utils import (
    CompileLoss, CompileMetrics, check_loss, check_metrics, check_per_output,
)
from mgp.tensor import Tensor, no_grad
from mgp.utils.data_adapter_utils import unpack_x_y_sample_weight


def _pythonify(logs):
    """Step logs as plain floats, dicts flattened (what callbacks receive, as in Keras)."""
    out = {}
    for key, value in (logs or {}).items():
        if isinstance(value, dict):
            out.update(_pythonify(value))
            continue
        if isinstance(value, Tensor):
            value = value.data
        try:
            value = float(np.asarray(backend.to_numpy(value)))
        except (TypeError, ValueError):
            pass
        out[key] = value
    return out


def _first_batch_size(x):
    return next(len(a) for a in flatten(x) if a is not None)


class Trainer:
    """The training API mixed into `Model`: compile, fit, evaluate, predict, the step methods."""

    compiled = False
    optimizer = None
    loss = None
    stop_training = False
    _initial_epoch = None
    _loss_tracker = _compile_loss = _compile_metrics = None

    # ---- compile ---------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configure training, with Keras 3's arguments.

        Args:
            optimizer: a name ('sgd', 'adam', 'adamw', 'rmsprop', 'adagrad') or Optimizer.
            loss: a name, Loss object or function `(y_true, y_pred) -> per-sample values`; for a
                model with several outputs, a list (one per output) or a dict keyed by output
                name (None: no loss for that output); one loss applies to every output.
            loss_weights: the weight of each output's loss in the total: a float, list or dict.
            metrics: names ('accuracy', 'mae', ...), Metric objects or functions, computed
                without sample weights; for several outputs a list with one entry (a metric or
                a list of them) per output, or a dict keyed by output name.
            weighted_metrics: the same, weighted by `sample_weight` / `class_weight`.
            run_eagerly, jit_compile, auto_scale_loss: accepted as Keras has them (mgp always
                runs eagerly). steps_per_execution: only 1.
        """
        if steps_per_execution != 1:
            raise NotImplementedError(f"compile(): steps_per_execution={steps_per_execution!r} "
                                      f"is not supported by mgp (only 1, as on Keras's torch "
                                      f"backend)")
        # everything is resolved before anything is assigned: a bad argument leaves the model
        # as it was
        try:
            resolved_optimizer = optimizers.get(optimizer)
        except (ValueError, TypeError) as e:
            raise InvalidArgumentError(f"compile(): optimizer={optimizer!r}: {e}") from None
        check_loss(loss)
        check_metrics(metrics, "metrics")
        check_metrics(weighted_metrics, "weighted_metrics")
        names = self._compile_output_names()
        for what, value in (("loss", loss), ("loss_weights", loss_weights),
                            ("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if isinstance(value, dict) and names is not None:
                unknown = sorted(set(value) - set(names))
                if unknown:
                    raise InvalidArgumentError(f"compile(): {what} names outputs {unknown}, but "
                                               f"the model's outputs are {names}")
        check_per_output(loss, names, "loss")
        check_per_output(loss_weights, names, "loss_weights")
        compile_loss = CompileLoss(loss, loss_weights, names) if loss is not None else None
        compile_metrics = CompileMetrics(metrics, weighted_metrics, names) \
            if metrics or weighted_metrics else None

        self.optimizer = resolved_optimizer
        self.loss = loss
        self._compile_loss, self._compile_metrics = compile_loss, compile_metrics
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.run_eagerly, self.jit_compile = run_eagerly, jit_compile
        self.stop_training = False
        self.compiled = True
        self._compile_config = {"optimizer": optimizer, "loss": loss,
                                "loss_weights": loss_weights, "metrics": metrics,
                                "weighted_metrics": weighted_metrics,
                                "run_eagerly": run_eagerly,
                                "steps_per_execution": steps_per_execution,
                                "jit_compile": jit_compile}

    def _compile_output_names(self):
        """The output names losses and metrics may be keyed by (None: not known yet)."""
        if getattr(self, "outputs", None):
            return self.output_names
        return None

    def get_compile_config(self):
        """The arguments of `compile` as Keras's `compile_config` (None when not compiled)."""
        if not self.compiled or getattr(self, "_compile_config", None) is None:
            return None
        from mgp.saving.serialization_lib import serialize_keras_object
        config = dict(self._compile_config)
        config["optimizer"] = self.optimizer  # its current state (learning rate, ...)
        try:
            return serialize_keras_object(config)
        except (TypeError, ValueError) as e:
            raise ValueError(f"cannot save the compile settings of model '{self.name}': {e}") \
                from None

    def compile_from_config(self, config, custom_objects=None):
        """`compile` with the arguments `get_compile_config` saved (names resolved only among
        mgp's optimizers, losses and metrics, and `custom_objects`)."""
        from mgp.saving import model_file
        self.compile(**model_file.deserialize_compile_config(config, custom_objects))

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"you must call compile() before {what}()")

    # ---- metrics -----------------------------------------------------------------------------
    @property
    def metrics(self):
        """The metrics the logs report, in Keras's order: the loss tracker, the compiled
        metrics, the per-output loss trackers, then the Metric objects this model (and its
        layers, sub-models aside) holds as attributes. `fit` resets each at every epoch."""
        out = []
        if self.compiled:
            out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        seen = {id(m) for m in out}
        for layer in self._flatten_layers():
            if layer is not self and isinstance(layer, Trainer) or \
                    type(layer).__module__.startswith("mgp."):
                continue  # a sub-model's metrics are its own; mgp's layers hold none
            for m in layer._own_metrics():
                if id(m) not in seen:
                    seen.add(id(m))
                    out.append(m)
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """Every metric's result as a dict (a metric with a dict result, the compiled metrics,
        contributes its entries)."""
        out = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[m.name] = result
        return out

    def _get_metrics_result_or_logs(self, logs):
        """The metrics' results when the step reported exactly those names, else the step's
        own logs (a custom step may report other things), as Keras does."""
        results = self.get_metrics_result()
        if isinstance(logs, dict) and set(logs) == set(results):
            return results
        return logs

    def _flatten_metrics_in_order(self, logs):
        """evaluate's list: the metrics in `metrics` order, then the other log keys sorted."""
        names = []
        for m in self.metrics:
            if isinstance(m, CompileMetrics):
                names.extend(x.name for x in m.metrics)
            else:
                names.append(m.name)
        values = [logs[n] for n in names if n in logs]
        values += [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    # ---- the step pieces ---------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss: the compiled loss plus `self.losses` (regularization penalties and
        `add_loss` losses of the last call), a scalar Tensor. Override to change it.

        Raises:
            ValueError: when there is nothing to compute (no loss compiled, none added).
        """
        total = []
        if self._compile_loss is not None:
            if y is None:
                raise ValueError(f"model '{self.name}' was compiled with a loss but the data "
                                 f"has no targets y; pass y to fit/evaluate (or override "
                                 f"compute_loss / train_step)")
            value = self._compile_loss(y, y_pred, sample_weight)
            if value is not None:
                total.append(value)
        for loss in self.losses:
            total.append(loss.sum() if loss.ndim else loss)
        if not total:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        out = total[0]
        for term in total[1:]:
            out = out + term
        return out

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """`compute_loss`, also for overrides written without the `training` argument."""
        if "training" in _signature(_function(self.compute_loss))[0]:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with a batch and return every metric's result (the
        logs). Override to update metrics of your own."""
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def train_step(self, data):
        """One optimization step on a batch `data` (`x`, `(x, y)` or `(x, y, sample_weight)`);
        returns the logs. Override to customize training."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        weights = self.trainable_weights[:]  # after the call: a subclassed model builds on it
        for v in weights:  # self.zero_grad(): only these can hold gradients
            v.grad = None
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                  training=True)
        self._loss_tracker.update_state(loss, sample_weight=_first_batch_size(x))
        if self.optimizer is not None:  # LossScaleOptimizer scales up; others return it as is
            loss = self.optimizer.scale_loss(loss)
        if weights:
            loss.backward()
            with no_grad():
                self.optimizer.apply([v.value.grad for v in weights], weights)
        else:
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        """Loss and metrics on a batch, without training; returns the logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                  training=False)
        self._loss_tracker.update_state(loss, sample_weight=_first_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """The model's outputs for a batch."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # ---- loops -----------------------------------------------------------------------------------
    def _data(self, x, y, sample_weight, class_weight, batch_size, what):
        """Host arrays of x, y and the per-sample weights, checked; and the batch size."""
        if batch_size is None:
            batch_size = 32
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise InvalidArgumentError(f"{what}(): batch_size must be a positive integer, got "
                                       f"{batch_size!r}")
        if x is None:
            raise InvalidArgumentError(f"{what}() needs input data x")
        if sample_weight is not None and class_weight is not None:
            raise InvalidArgumentError(f"{what}() takes sample_weight or class_weight, not both "
                                       f"(as Keras): fold the class weights into sample_weight")
        checks.check_class_weight(class_weight)
        xs = arrays.to_host(x, "x")
        n = arrays.num_samples(xs, "x")
        if n == 0:
            raise InvalidDataError(f"{what}() got empty data: x has 0 samples")
        ys = None
        if y is not None:
            ys = arrays.to_host(y, "y")
            ny = arrays.num_samples(ys, "y")
            if ny != n:
                raise InvalidDataError(f"x and y must have the same number of samples, got {n} "
                                       f"inputs and {ny} targets")
        arrays.check_input_shapes(self, xs)
        training = what in ("fit", "train_on_batch")
        if training:  # (evaluate and predict give NaN where the data has it, as in Keras)
            for a in flatten(xs):
                checks.check_finite(a, "x")
        if ys is not None and self.compiled:
            checks.check_targets(self, ys, n, "y", training=training)
        weights = arrays.sample_weights(sample_weight, class_weight, ys, n) \
            if sample_weight is not None or class_weight is not None else None
        return xs, ys, weights, n, int(batch_size)

    _batch = staticmethod(arrays.batch)

    def _adapter(self, x, y, sample_weight, class_weight, batch_size, shuffle, steps, what):
        """The data as batches: arrays, or a PyDataset / generator (mgp.models.data_adapters)."""
        data_adapters.check_steps(steps, "steps_per_epoch" if what == "fit" else "steps")
        if data_adapters.is_batches(x):
            return data_adapters.get(self, x, y, sample_weight, class_weight, shuffle, steps,
                                     what)
        xs, ys, weights, n, batch_size = self._data(x, y, sample_weight, class_weight,
                                                    batch_size, what)
        return data_adapters.ArrayAdapter(xs, ys, weights, n, batch_size,
                                          shuffle if what == "fit" else None, steps)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for `epochs` passes over (x, y), with Keras's arguments.

        Args:
            x: an array (N, ...), or a list / dict of arrays for several inputs; or a
                `PyDataset`, a generator / iterator or a torch DataLoader yielding whole
                batches (`x`, `(x, y)` or `(x, y, sample_weight)`).
            y: the targets, N first (a list / dict for several outputs); None when the
                `train_step` needs none (a GAN), or when x yields batches.
            batch_size: samples per step (default 32).
            validation_split: fraction in [0, 1) taken from the *end* of the data, before
                shuffling, to validate on (arrays only). validation_data: (x_val, y_val),
                (x_val, y_val, sample_weight_val), or a PyDataset / generator instead.
            class_weight: {class index: weight}, applied to each sample by its label.
            sample_weight: (N,) weights of each sample in the loss and weighted metrics.
            steps_per_epoch: at most this many batches per epoch (arrays: each epoch starts a
                fresh shuffle; batches: each epoch goes on where the last stopped).
                validation_steps: at most this many validation batches.
            validation_freq: validate every this many epochs (or at the epochs listed).
        Returns:
            A `History` whose `.history` maps 'loss', each metric and 'val_*' to epoch lists.
        """
        self._require_compiled("fit")
        # every argument and the whole of the data are checked before the first step: a bad
        # value anywhere leaves the weights, the optimizer and the metrics as they were
        checks.check_validation_split(validation_split)
        checks.check_epochs(epochs, initial_epoch)
        checks.check_shuffle(shuffle)
        checks.check_validation_freq(validation_freq)
        if validation_data is not None:
            if not data_adapters.is_batches(validation_data):
                checks.check_validation_data(validation_data)
        if data_adapters.is_batches(x):
            if validation_split:
                raise ValueError("fit(): validation_split works for arrays only; when x yields "
                                 "batches, pass validation_data")
            data = self._adapter(x, y, sample_weight, class_weight, None, shuffle,
                                 steps_per_epoch, "fit")
        else:
            data_adapters.check_steps(steps_per_epoch, "steps_per_epoch")
            xs, ys, weights, n, batch_size = self._data(x, y, sample_weight, class_weight,
                                                        batch_size, "fit")
            if validation_split and validation_data is None:
                split = int(n * (1 - validation_split))
                if split == 0 or split == n:
                    raise InvalidArgumentError(f"validation_split={validation_split} leaves no "
                                               f"training or no validation samples out of {n}")
                validation_data = (arrays.take(xs, slice(split, None)),
                                   arrays.take(ys, slice(split, None)),
                                   None if weights is None else weights[split:])
                xs, ys = arrays.take(xs, slice(None, split)), arrays.take(ys, slice(None, split))
                weights, n = None if weights is None else weights[:split], split
            data = data_adapters.ArrayAdapter(xs, ys, weights, n, batch_size, shuffle,
                                              steps_per_epoch)
        val_data = None  # one adapter for every validation (a generator goes on being read)
        if validation_data is not None:
            val_x, val_y, val_w = unpack_x_y_sample_weight(validation_data)
            try:
                val_data = self._adapter(val_x, val_y, val_w, None,
                                         validation_batch_size or batch_size, False,
                                         validation_steps, "evaluate")
            except ValueError as e:  # said of validation_data, in the error's own type
                raise checks.with_context(e, f"fit(): validation_data: {e}") from None
        data.reset()
        steps = data.num_batches
        verbose = resolve_verbose(verbose)
        dp = data_parallel_loop(self)  # mgp.distribution: None unless processes share the work
        if dp:
            callbacks, verbose = dp.local_callbacks(callbacks, verbose)
        cbs = CallbackList(callbacks, model=self, add_history=True, add_progbar=verbose != 0,
                           verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        self._initial_epoch = None
        cbs.on_train_begin()
        # a callback restoring a backup (BackupAndRestore) sets where to resume, as in Keras
        start_epoch, self._initial_epoch = self._initial_epoch or initial_epoch, None
        if dp:  # process 0's weights, optimizer state, generators and epoch on every process
            start_epoch = dp.begin_fit(start_epoch)
        epoch_logs = {}
        for epoch in range(start_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            if dp:  # the same permutation on every process, a dropout stream of its own
                dp.begin_epoch()
            logs = {}
            for step, item in data.epoch():
                cbs.on_train_batch_begin(step)
                if dp:  # this process's shard of the global batch
                    item = data.shard(item, dp)
                logs = _pythonify(self.train_step(data.batch(item)))
                if dp:  # the metrics (and so the logs) of the whole global batch
                    logs = dp.end_step(logs)
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = _pythonify(self._get_metrics_result_or_logs(logs))
            if val_data is not None and _should_validate(epoch, validation_freq):
                val_logs = self.evaluate(verbose=0, return_dict=True, _callback_list=cbs,
                                         _data=val_data)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if self.optimizer is not None and epochs > start_epoch:
            # with use_ema, the model keeps the weights' moving average, as in Keras
            self.optimizer.finalize_variable_values(self.trainable_weights)
        cbs.on_train_end(epoch_logs)
        if dp:
            dp.end_fit()
        return cbs.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, _callback_list=None,
                 _data=None):
        """Loss and metrics over (x, y), in batches, without building a graph.

        Returns:
            the loss alone when there are no metrics, else the values in `metrics_names`
            order (then any other log keys, sorted); a dict with `return_dict=True`.
        """
        self._require_compiled("evaluate")
        data = _data or self._adapter(x, y, sample_weight, None, batch_size, False, steps,
                                      "evaluate")
        data.reset()
        num_steps = data.num_batches
        # validation inside fit reuses fit's callbacks, so their on_test_* hooks fire (as Keras)
        verbose = resolve_verbose(verbose)
        dp = data_parallel_loop(self)  # mgp.distribution: None unless processes share the work
        if dp and _callback_list is None:
            callbacks, verbose = dp.local_callbacks(callbacks, verbose)
        cbs = _callback_list or CallbackList(callbacks, model=self, add_progbar=verbose != 0,
                                             verbose=verbose, steps=num_steps)
        self.reset_metrics()
        if dp:
            dp.begin_evaluation(inside_fit=_callback_list is not None)
        cbs.on_test_begin()
        logs = {}
        with no_grad():
            for step, item in data.epoch():
                cbs.on_test_batch_begin(step)
                if dp:
                    item = data.shard(item, dp)
                logs = _pythonify(self.test_step(data.batch(item)))
                if dp:
                    logs = dp.end_step(logs)
                cbs.on_test_batch_end(step, logs)
        logs = _pythonify(self._get_metrics_result_or_logs(logs))
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for `x`, in batches, as NumPy arrays (in the model's output structure: a
        list or dict for several outputs)."""
        data = self._adapter(x, None, None, None, batch_size, False, steps, "predict")
        num_steps = data.num_batches
        verbose = resolve_verbose(verbose)
        dp = data_parallel_loop(self)  # mgp.distribution: None unless processes share the work
        if dp:
            callbacks, verbose = dp.local_callbacks(callbacks, verbose)
            dp.begin_evaluation(inside_fit=False)
        cbs = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose,
                           steps=num_steps)
        cbs.on_predict_begin()
        chunks = []
        with no_grad():
            for step, item in data.epoch():
                cbs.on_predict_batch_begin(step)
                if dp:
                    item = data.shard(item, dp)
                out = self.predict_step(data.batch(item, predict=True))
                chunks.append(out)
                cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        outputs = arrays.concatenate_outputs(chunks)
        return dp.gather_outputs(outputs) if dp else outputs  # every process gets every row

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One `train_step` on the whole of (x, y); returns this batch's logs."""
        self._require_compiled("train_on_batch")
        xs, ys, weights, n, _ = self._data(x, y, sample_weight, class_weight, 1,
                                           "train_on_batch")
        self.reset_metrics()
        dp, idx = data_parallel_loop(self), slice(None)  # mgp.distribution, as in fit
        if dp:
            idx = dp.begin_train_on_batch(n)
        logs = _pythonify(self.train_step(self._batch(xs, ys, weights, idx)))
        if dp:
            logs = dp.end_train_on_batch(logs)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One `test_step` on the whole of (x, y); returns the logs."""
        self._require_compiled("test_on_batch")
        xs, ys, weights, n, _ = self._data(x, y, sample_weight, None, 1, "test_on_batch")
        self.reset_metrics()
        dp, idx = data_parallel_loop(self), slice(None)  # mgp.distribution, as in evaluate
        if dp:
            dp.begin_evaluation(inside_fit=False)
            idx = dp.shard(idx, n)
        with no_grad():
            logs = _pythonify(self.test_step(self._batch(xs, ys, weights, idx)))
        if dp:
            logs = dp.end_step(logs)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        """`predict_step` on the whole of x, as NumPy arrays."""
        xs, _, _, n, _ = self._data(x, None, None, None, 1, "predict_on_batch")
        dp, idx = data_parallel_loop(self), slice(None)  # mgp.distribution, as in predict
        if dp:
            dp.begin_evaluation(inside_fit=False)
            idx = dp.shard(idx, n)
        with no_grad():
            out = self.predict_step(self._batch(xs, None, None, idx, predict=True))
        outputs = arrays.concatenate_outputs([out])
        return dp.gather_outputs(outputs) if dp else outputs


def _should_validate(epoch, validation_freq):
    """Whether to validate after `epoch` (counted from 0); `validation_freq` was checked by
    fit (mgp.models.checks.check_validation_freq)."""
    if isinstance(validation_freq, (list, tuple)):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0


def _metric_attributes(layer):
    """The Metric objects a layer holds as attributes (directly or in lists and dicts)."""
    found = []
    for name, value in vars(layer).items():
        if name in ("_loss_tracker", "_compile_metrics", "_compile_loss", "_compile_config"):
            continue
        if isinstance(value, metrics_module.Metric):
            found.append(value)
        elif isinstance(value, (list, tuple, dict)):
            found.extend(v for v in flatten(value) if isinstance(v, metrics_module.Metric))
    return found
