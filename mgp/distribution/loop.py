"""What `fit`, `evaluate` and `predict` do differently when several processes share the work:
the seam `mgp.models.training` calls (`data_parallel_loop(model)` is None in one process).

Every process runs the same script on the same arrays, and in each loop:

- At the start of `fit` (after the callbacks' `on_train_begin`, so that a backup process 0's
  `BackupAndRestore` restored counts), process 0's weights, optimizer state, random generators
  and first epoch are broadcast to the others. `evaluate` and `predict` broadcast the weights
  of a model no loop of this distribution has synchronized yet.
- At each epoch process 0's generator is broadcast again, so that every process draws the same
  permutation of the samples; each then gets its own dropout stream, seeded from that generator
  and its rank (and so does each generator a layer holds, `Dropout(seed=...)`).
- Each global batch is cut into one contiguous shard per process, their sizes differing by at
  most one. A process whose shard is empty (a last batch smaller than the number of processes)
  runs the step on a stand-in sample, whose gradient counts zero and whose metric updates are
  taken back, so that every process takes part in every collective.
- The gradients are averaged over the processes inside `Optimizer.apply`
  (`mgp.distribution.gradients`).
- After the step one allreduce adds up the metrics' states (sums of numerators and
  denominators, so the logs are those of the whole global batch) and the non-trainable weights
  the step changed (BatchNormalization's moving statistics, weighted by each process's share of
  the batch): every process logs the same numbers and keeps the same weights. Between steps the
  metrics hold these sums; during a step, this process's own.
- The callbacks that write or show something (the progress bar, ModelCheckpoint, CSVLogger,
  BackupAndRestore, TensorBoard, RemoteMonitor) run on process 0 only; the others
  (EarlyStopping, ReduceLROnPlateau, History, ...) on every process, where they see the same
  logs and so decide the same.
- `predict` gathers every process's rows: every process returns all of them, in order.
"""
import hashlib
import json
import warnings
import weakref

import numpy as np

from mgp import backend
from mgp.distribution import mpi
from mgp.distribution.distribution_lib import distribution
from mgp.optimizers.base import set_gradient_reducer

_warned_alone = False


def data_parallel_loop(model):
    """The seam for `model`'s loops: None unless a `DataParallel` spans several processes."""
    dist = distribution()
    if dist is None or dist.num_processes == 1:
        global _warned_alone
        if dist is None and not _warned_alone and mpi.launched_size() > 1:
            _warned_alone = True
            warnings.warn(f"mgp: an MPI launcher started {mpi.launched_size()} processes, but "
                          f"no distribution is set, so each trains on its own; call "
                          f"mgp.distribution.set_distribution(mgp.distribution.DataParallel()) "
                          f"to share the work", stacklevel=3)
        return None
    return DataParallelLoop(model, dist)


def _writer_classes():
    from mgp.callbacks import (BackupAndRestore, CSVLogger, ModelCheckpoint, ProgbarLogger,
                               RemoteMonitor, TensorBoard)
    return ProgbarLogger, ModelCheckpoint, CSVLogger, BackupAndRestore, TensorBoard, RemoteMonitor


def leaf_metrics(metrics):
    """The metrics that hold state: the compiled metrics' own, not their containers."""
    from mgp.models.compile_utils import CompileMetrics, MetricsList
    out = []
    for m in metrics:
        if isinstance(m, (CompileMetrics, MetricsList)):
            out.extend(leaf_metrics(m.metrics))
        else:
            out.append(m)
    return out


def metric_state(metric):
    """[(name, value)] of a metric's additive state: its `_state_attributes`, then the
    variables of one written for Keras (`add_variable`), by their aggregation."""
    state = [(name, getattr(metric, name)) for name in metric._state_attributes]
    state += [(v, v.data) for v in metric.variables if v.aggregation != "none"]
    if not state:
        raise TypeError(f"mgp.distribution cannot add up the state of metric {metric.name!r} "
                        f"({type(metric).__name__}) over the processes: keep its state in "
                        f"variables made by add_variable (or list the attributes that hold it "
                        f"in _state_attributes)")
    return state


def _set_metric_state(metric, state):
    for key, value in state:
        if isinstance(key, str):
            setattr(metric, key, value)
        else:
            key.data = value


def _generators(model):
    """The NumPy generators the model's layers hold, in a fixed order."""
    from mgp.callbacks.backup import _layer_generators
    found = _layer_generators(model)
    return [found[k] for k in sorted(found)]


def _own_stream(state, rank):
    """A seed for process `rank`'s stream, from a generator state that every process shares."""
    digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).digest()
    return np.random.SeedSequence(int.from_bytes(digest, "little"), spawn_key=(rank,))


class DataParallelLoop:
    """One `fit`, `evaluate` or `predict` shared among the processes (see the module doc)."""

    def __init__(self, model, dist):
        self.model, self.distribution = model, dist
        self.comm = dist._communicator()
        self.rank, self.size = self.comm.rank, self.comm.size
        self.reducer = dist._gradient_reducer()
        self.reducer.count = None  # a step left open by an error does not count
        self.count = 0             # this process's samples in the current step
        self._local = []           # [(metric, state)]: this process's own, between steps
        self._taken_back = None    # metric states from before a stand-in step
        self._before = []          # [(variable, array)]: non-trainable weights before the step
        self._batches = []         # predict: (first row, rows) of each global batch
        self._attach = False       # fill gradient buckets from the backward pass (default step)

    # ---- callbacks -----------------------------------------------------------------------------
    def local_callbacks(self, callbacks, verbose):
        """The callbacks (and verbosity) of this process: on processes other than 0, none of
        those that write."""
        if self.rank == 0:
            return callbacks, verbose
        writers = _writer_classes()
        return [c for c in callbacks or [] if not isinstance(c, writers)], 0

    # ---- the start of a loop -----------------------------------------------------------------
    def begin_fit(self, start_epoch):
        """Process 0's training state on every process; returns the epoch to start at."""
        start_epoch = self.synchronize(optimizer=True, epoch=start_epoch)
        self._start_training()
        return start_epoch

    def _start_training(self):
        """Every optimizer's `apply` averages its gradients over the processes from now on."""
        set_gradient_reducer(self.reducer)
        from mgp.models.training import Trainer
        self._attach = type(self.model).train_step is Trainer.train_step
        self._attach_hooks()

    def _attach_hooks(self):
        """The default train_step's gradients start their allreduce from the backward pass
        (a model built by its first step gets them from the second)."""
        if self._attach and self.model.built:
            self.reducer.attach(self.model.trainable_weights)
            self._attach = False

    def end_fit(self):
        self.reducer.detach()
        set_gradient_reducer(None)
        backend.set_process_stream(None)

    def begin_train_on_batch(self, n):
        """train_on_batch: `fit`'s start (process 0's state only the first time), one epoch's
        streams, and this process's shard of the `n` samples."""
        if not self._synchronized():
            self.synchronize(optimizer=True)
        self._start_training()
        self.begin_epoch()
        return self.shard(slice(None), n)

    def end_train_on_batch(self, logs):
        logs = self.end_step(logs)
        self.end_fit()
        return logs

    def begin_evaluation(self, inside_fit):
        """evaluate / predict: the weights of a model not synchronized yet."""
        if not inside_fit and not self._synchronized():
            self.synchronize(optimizer=False)
        self._local = []

    def _synchronized(self):
        return any(ref() is self.model for ref in self.distribution._synchronized)

    def synchronize(self, optimizer, epoch=0):
        """Broadcast process 0's weights (and optimizer state, generators and `epoch`)."""
        model, opt = self.model, getattr(self.model, "optimizer", None) if optimizer else None
        mine = {"weights": [[v.path, list(v.shape), str(v.dtype)] for v in model.weights],
                "optimizer_built": bool(opt is not None and opt.built),
                "rng": backend.rng().bit_generator.state,
                "generators": [g.bit_generator.state for g in _generators(model)],
                "epoch": int(epoch)}
        theirs = self.comm.broadcast_json(mine, "process 0's model description")
        for key in ("weights", "generators"):
            if [len(x) for x in theirs[key]] != [len(x) for x in mine[key]] or \
                    key == "weights" and theirs[key] != mine[key]:
                raise ValueError(f"process {self.rank}'s model '{model.name}' has other {key} "
                                 f"than process 0's: "
                                 f"{_first_difference(theirs[key], mine[key])}; every process "
                                 f"must build the same model")
        if theirs["optimizer_built"] and not opt.built:
            opt.build(model.trainable_weights)
        variables = list(model.weights) + (list(opt.variables) if theirs["optimizer_built"]
                                           else [])
        self._broadcast_values(variables)
        backend.rng().bit_generator.state = theirs["rng"]
        for g, state in zip(_generators(model), theirs["generators"]):
            g.bit_generator.state = state
        self.distribution._synchronized.append(weakref.ref(model))
        return theirs["epoch"]

    def _broadcast_values(self, variables):
        """Process 0's values of `variables`, one message per dtype."""
        by_dtype = {}
        for v in variables:
            by_dtype.setdefault(np.dtype(v.dtype), []).append(v)
        for dtype, group in by_dtype.items():
            flat = np.concatenate([backend.to_numpy(v.data).reshape(-1) for v in group]) \
                if self.rank == 0 else np.empty(sum(v.size for v in group), dtype)
            self.comm.broadcast(flat, f"process 0's {dtype} weights")
            if self.rank != 0:
                offset = 0
                for v in group:
                    v.data = backend.xp.asarray(flat[offset:offset + v.size].reshape(v.shape))
                    offset += v.size

    def begin_epoch(self):
        """Process 0's generator on every process (the same permutation), then this process's
        own dropout stream and layer generators, seeded from it."""
        generators = _generators(self.model)
        states = self.comm.broadcast_json(
            [backend.rng().bit_generator.state] + [g.bit_generator.state for g in generators],
            "process 0's random generators")
        backend.rng().bit_generator.state = states[0]
        backend.set_process_stream(_own_stream(states[0], self.rank))
        for g, state in zip(generators, states[1:]):
            g.bit_generator.state = type(g.bit_generator)(_own_stream(state, self.rank)).state
        self._local = []

    # ---- a step --------------------------------------------------------------------------------
    def shard(self, idx, n=None):
        """This process's rows of the global batch `idx` (an index array, or a slice of the `n`
        samples); opens the step."""
        rows = range(n)[idx] if isinstance(idx, slice) else idx
        total = len(rows)
        lo, hi = total * self.rank // self.size, total * (self.rank + 1) // self.size
        self.count = hi - lo
        if isinstance(idx, slice):
            self._batches.append((rows.start, total))
        local = rows[lo:hi] if self.count else rows[:1]  # an empty shard: a stand-in sample
        for metric, state in self._local:
            _set_metric_state(metric, state)
        self._local = []
        self._taken_back = None
        if not self.count:
            self._taken_back = [(m, [(k, v.copy() if hasattr(v, "copy") else v)
                                     for k, v in metric_state(m)])
                                for m in leaf_metrics(self.model.metrics)]
        self._before = [(v, v.data) for v in self.model.non_trainable_weights
                        if v.dtype.kind == "f"]
        self.reducer.begin_step(self.count)
        return slice(local.start, local.stop) if isinstance(local, range) else local

    def end_step(self, logs):
        """Close the step: the metrics and the weights the step changed, summed over the
        processes; returns the logs of the whole global batch (the same on every process)."""
        self.reducer.end_step()
        self._attach_hooks()
        metrics = leaf_metrics(self.model.metrics)
        if self._taken_back is not None:
            self._take_back(metrics)
        states = [(m, metric_state(m)) for m in metrics]
        changed = [v for v, before in self._before if v.data is not before]
        results = self.model.get_metrics_result()
        own_logs = isinstance(logs, dict) and set(logs) != set(results)
        custom = [k for k, v in logs.items() if isinstance(v, float)] if own_logs else []

        parts = [np.zeros(1)]  # the buffer's length, to check every process sent the same
        for metric, state in states:
            parts += [_weighted(key, value, self.count, self.rank) for key, value in state]
        parts += [self.count * backend.to_numpy(v.data).astype(np.float64).reshape(-1)
                  for v in changed]
        parts += [np.array([self.count * logs[k] if self.count else 0.0]) for k in custom]
        parts.append(np.array([float(self.count)]))
        buffer = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1) for p in parts])
        buffer[0] = buffer.size
        self.comm.sum(buffer, "the metrics of the step")
        if buffer[0] != buffer.size * self.size:
            raise RuntimeError(f"mgp.distribution: the processes disagree on the metrics and "
                               f"weights of the step (process {self.rank} sent "
                               f"{buffer.size} numbers); every process must run the same model "
                               f"and metrics")
        total = buffer[-1]
        offset = 1
        for metric, state in states:
            summed = []
            for key, value in state:
                size = np.size(value)
                part = buffer[offset:offset + size]
                offset += size
                summed.append((key, _unweighted(key, value, part, total)))
            self._local.append((metric, state))
            _set_metric_state(metric, summed)
        for v in changed:
            part = buffer[offset:offset + v.size]
            offset += v.size
            v.data = backend.xp.asarray((part / total).reshape(v.shape).astype(v.dtype))
        if not own_logs:
            from mgp.models.training import _pythonify
            return _pythonify(self.model.get_metrics_result())
        logs = dict(logs)
        for k in custom:
            logs[k] = float(buffer[offset] / total)
            offset += 1
        return logs

    def _take_back(self, metrics):
        """Undo what a stand-in sample added to the metrics (a metric the step created, or
        whose state took its shape in the step, starts from nothing)."""
        before = {id(m): state for m, state in self._taken_back}
        for m in metrics:
            state = before.get(id(m))
            now = metric_state(m)
            if state is None or [np.shape(v) for _, v in state] != \
                    [np.shape(v) for _, v in now]:
                m.reset_state()
            else:
                _set_metric_state(m, state)

    # ---- predict -------------------------------------------------------------------------------
    def gather_outputs(self, outputs):
        """Every process's predictions (a structure of arrays, this process's rows), as the
        predictions for all rows in order, on every process."""
        from mgp.layers.symbolic import flatten, map_structure
        shards = [[(start + total * q // self.size, total * (q + 1) // self.size -
                    total * q // self.size) for start, total in self._batches]
                  for q in range(self.size)]
        mine = shards[self.rank]
        keep = np.concatenate([np.full(max(count, 1), count > 0) for _, count in mine])
        counts = [sum(c for _, c in rows) for rows in shards]
        order = np.concatenate([np.arange(first, first + count) for rows in shards
                                for first, count in rows])
        joined = []
        for leaf in flatten(outputs):
            gathered = self.comm.gather(np.asarray(leaf)[keep], counts, "the predictions")
            out = np.empty_like(gathered)
            out[order] = gathered
            joined.append(out)
        it = iter(joined)
        return map_structure(lambda _: next(it), outputs)


def _weighted(key, value, count, rank):
    """What this process adds to the sum of one piece of metric state."""
    value = np.asarray(backend.to_numpy(value), dtype=np.float64)
    aggregation = getattr(key, "aggregation", "sum")
    if aggregation == "mean":
        return value * count
    if aggregation == "only_first_replica":
        return value if rank == 0 else np.zeros_like(value)
    return value


def _unweighted(key, old, summed, total):
    """The summed piece of metric state, in the form the metric keeps it."""
    aggregation = getattr(key, "aggregation", "sum")
    if aggregation == "mean":
        summed = summed / total
    if isinstance(key, str):
        if isinstance(old, np.ndarray):
            return summed.reshape(old.shape).astype(old.dtype)
        return float(summed[0])
    return backend.xp.asarray(summed.reshape(key.shape).astype(key.dtype))


def _first_difference(theirs, mine):
    for i, (a, b) in enumerate(zip(theirs, mine)):
        if a != b:
            return f"process 0 has {a}, this one {b} (item {i})"
    return f"process 0 has {len(theirs)}, this one {len(mine)}"
