"""What `fit`, `evaluate` and `predict` iterate over, as Keras 3's data adapters: arrays cut
into batches, or the whole batches that a `PyDataset`, a Python generator or iterator, or a
re-iterable loader (a torch `DataLoader`) yields, with Keras's rules for `steps_per_epoch`.

The loops read every kind of data the same way:

    data.reset()                          # Keras resets before a loop: PyDataset.on_epoch_end
    for step, item in data.epoch():       # item: rows to take (arrays), or a batch
        logs = self.train_step(data.batch(item))

Epochs over batches, as Keras's EpochIterator has them: without `steps_per_epoch` each epoch
is one whole pass (a new pass, reshuffled, per epoch; a generator is read until it ends). With
it, each epoch takes that many batches and the next epoch goes on where the last stopped; an
epoch that reaches the end of a pass of known length stops there (with Keras's "ran out of
data" warning when it asked for more) and the next epoch starts a new pass. A generator cannot
start again: an epoch that finds it empty ends training, with that warning.
"""
import collections.abc
import itertools
import math
import random
import types
import warnings

import numpy as np

from mgp import backend
from mgp.errors import InvalidArgumentError
from mgp.models import arrays
from mgp.models.checks import with_context
from mgp.tensor import Tensor
from mgp.utils.data_adapter_utils import pack_x_y_sample_weight, unpack_x_y_sample_weight
from mgp.utils.dataset_utils import BatchDataset
from mgp.utils.py_dataset import PyDataset, fetch_in_order, noted

_RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset "
            "or generator can generate at least `steps_per_epoch * epochs` batches.")


def is_batches(x):
    """Whether `x` is a source of whole batches (PyDataset, generator / iterator, torch
    DataLoader) rather than arrays to cut into batches."""
    return isinstance(x, (PyDataset, types.GeneratorType, collections.abc.Iterator)) or \
        _is_torch_dataloader(x)


def _is_torch_dataloader(x):
    return any(c.__name__ == "DataLoader" and c.__module__.startswith("torch.utils.data")
               for c in type(x).__mro__)


def check_steps(steps, name):
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer))
                              or steps < 1):
        raise InvalidArgumentError(f"{name} must be a positive integer or None, got {steps!r}")


class ArrayAdapter:
    """Host arrays (as `Trainer._data` checked them) in batches of `batch_size` rows: for fit
    (`shuffle` True or False) index arrays into a new random order each epoch or into the rows
    in order; for evaluate and predict (`shuffle=None`) slices, the rows in order."""

    def __init__(self, xs, ys, weights, n, batch_size, shuffle=False, steps=None):
        self.xs, self.ys, self.weights, self.n = xs, ys, weights, n
        self.batch_size, self.shuffle = batch_size, shuffle
        self.num_batches = math.ceil(n / batch_size)
        if steps is not None:
            self.num_batches = min(self.num_batches, int(steps))

    def reset(self):
        pass

    def epoch(self):
        order = None if self.shuffle is None else \
            backend.rng().permutation(self.n) if self.shuffle else np.arange(self.n)
        for step in range(self.num_batches):
            rows = slice(step * self.batch_size, (step + 1) * self.batch_size)
            yield step, rows if order is None else order[rows]

    def batch(self, rows, predict=False):
        return arrays.batch(self.xs, None if predict else self.ys, self.weights, rows)

    def shard(self, rows, dp):
        """This process's rows of a batch, in data-parallel training (mgp.distribution)."""
        return dp.shard(rows, self.n)


def get(model, x, y=None, sample_weight=None, class_weight=None, shuffle=False, steps=None,
        what="fit"):
    """The adapter for a source of whole batches `x` (see `is_batches`), its arguments checked
    as Keras checks them."""
    kind = "PyDataset" if isinstance(x, PyDataset) else "torch DataLoader" \
        if _is_torch_dataloader(x) else "generator"
    for value, arg, holds in ((y, "y", "the targets"),
                              (sample_weight, "sample_weight", "the sample weights")):
        if value is not None:
            raise ValueError(f"{what}(): when x is a {kind}, {arg} must not be passed; "
                             f"{holds} belong in the batches the {kind} yields")
    if class_weight is not None and kind != "PyDataset":
        raise ValueError(f"{what}(): class_weight is not supported for a {kind} (as in "
                         f"Keras); yield (x, y, sample_weight) batches instead")
    if kind == "PyDataset":
        return PyDatasetAdapter(model, x, class_weight, shuffle, steps, what)
    if kind == "torch DataLoader":
        return LoaderAdapter(model, x, steps, what)
    return IteratorAdapter(model, x, steps, what)


class BatchAdapter:
    """Keras's epoch rules over a source of whole batches; subclasses say how a pass starts
    (`_new_pass`), how it yields `(index, batch)` (`_take`) and how long it is (`size`)."""

    size = None  # batches in one pass; None: unknown or endless

    def __init__(self, model, steps, what, name):
        self.model, self.steps, self.what, self.name = model, steps, what, name
        self.class_weight = None
        self._in_pass, self._seen = False, 0

    @property
    def num_batches(self):
        """Steps per epoch when known (what the progress bar counts to), else None."""
        return self.steps or self.size

    def reset(self):
        """What Keras does as fit or evaluate begins: read (and check) a first batch when the
        model, its compiled loss or metrics are not built yet, then forget the pass under way
        and call the source's `on_epoch_end` (EpochIterator.reset)."""
        if needs_first_batch(self.model):
            self.first_batch()
        self._in_pass, self._seen = False, 0
        self._on_epoch_end()

    def epoch(self):
        self._on_epoch_begin()
        if not self._in_pass or self.steps is None:
            self._new_pass()
            self._in_pass, self._seen = True, 0
        want = self.steps or self.size  # None: until the source ends
        if self.size is not None:
            want = min(want, self.size - self._seen)
        got = 0
        for item in self._take(want):
            yield got, item
            got += 1
            self._seen += 1
        ran_out = got == 0 or self.steps is not None and got < self.steps
        if ran_out or self.size is not None and self._seen >= self.size:
            self._in_pass = False
        if ran_out:
            warnings.warn(_RAN_OUT, stacklevel=3)
            if got == 0 and not self.can_restart and self.what == "fit":
                self.model.stop_training = True
        self._on_epoch_end()

    can_restart = True  # whether a new pass reads the data again (a generator cannot)

    def _on_epoch_begin(self):
        pass

    def _on_epoch_end(self):
        pass

    def first_batch(self):
        """The first batch a loop would get, checked (Keras reads it before the loop, to
        build the model); the pass it started is forgotten at the next `reset`."""
        self._on_epoch_begin()
        self._new_pass()
        for item in self._take(1):
            return self.batch(item)
        raise ValueError(f"{self.what}(): the {self.name} yields no batches")

    # -- one batch: Keras's rules for what a batch may be, then checked and made Tensors -----
    def standardize(self, index, batch):
        """`batch` as `(x,)`, `(x, y)` or `(x, y, sample_weight)` (a dict is the inputs)."""
        if isinstance(batch, list):
            batch = tuple(batch)
        if isinstance(batch, dict) or hasattr(batch, "shape") or hasattr(batch, "__array__"):
            batch = (batch,)
        if not isinstance(batch, tuple) or not 1 <= len(batch) <= 3:
            shown = f"a tuple of {len(batch)} items" if isinstance(batch, tuple) else \
                type(batch).__name__
            raise ValueError(f"{self._where(index)} must be x, (x,), (x, y) or (x, y, "
                             f"sample_weight), with arrays (or lists / dicts of arrays) for x "
                             f"and y; got {shown}")
        if self.class_weight is not None:
            if len(batch) == 3:
                raise ValueError(f"{self._where(index)} has sample weights; class_weight and "
                                 f"sample_weight cannot be used together")
            if len(batch) == 2:
                batch = batch + (class_weights(batch[1], self.class_weight),)
        return batch

    def shard(self, item, dp):
        raise ValueError(f"{self.what}(): data-parallel training (mgp.distribution) splits "
                         f"arrays over the processes; a {self.name} is not split yet: pass "
                         f"arrays")

    def _where(self, index):
        return f"batch {index} of the {self.name}"

    def batch(self, item, predict=False):
        index, batch = item
        x, y, sample_weight = unpack_x_y_sample_weight(self.standardize(index, batch))
        where = self._where(index)
        try:
            xs = arrays.to_host(x, "x")
            n = arrays.num_samples(xs, "x")
            if n == 0:
                raise ValueError("x has 0 samples")
            arrays.check_input_shapes(self.model, xs)
            if predict:
                return pack_x_y_sample_weight(arrays.to_tensors(xs))
            ys = None
            if y is not None:
                ys = arrays.to_host(y, "y")
                if arrays.num_samples(ys, "y") != n:
                    raise ValueError(f"x has {n} samples and y "
                                     f"{arrays.num_samples(ys, 'y')}")
            weights = None
            if sample_weight is not None:
                weights = Tensor(arrays.as_weights(sample_weight, n))
            if self.what == "fit":
                arrays.check_finite(xs, "x")
        except ValueError as e:
            raise with_context(e, f"{where}: {e}") from None
        return pack_x_y_sample_weight(arrays.to_tensors(xs), arrays.to_tensors(ys), weights)


def class_weights(y, class_weight):
    """Per-sample weights for a batch's labels `y` by `class_weight` (1 for a class it does
    not name), as Keras weighs dataset batches."""
    y = np.asarray(backend.to_numpy(y.data if isinstance(y, Tensor) else y))
    if y.ndim > 1:
        y = y.argmax(axis=-1) if y.shape[-1] != 1 else y.squeeze(-1)
    labels = np.round(y).astype(np.int64).reshape(-1)
    return np.array([class_weight.get(int(c), 1.0) for c in labels], dtype=np.float32)


class PyDatasetAdapter(BatchAdapter):
    """A PyDataset's batches in index order, or shuffled per pass with Python's `random` (as
    Keras does), computed by its workers."""

    def __init__(self, model, dataset, class_weight, shuffle, steps, what):
        super().__init__(model, steps, what, type(dataset).__name__)
        # the datasets made from folders and arrays shuffle themselves (their own shuffle=),
        # as Keras leaves a tf.data.Dataset's order alone
        shuffle = shuffle and not isinstance(dataset, BatchDataset)
        self.dataset, self.shuffle, self.class_weight = dataset, shuffle, class_weight
        self.size = dataset.num_batches
        if self.size is None and steps is None:
            raise ValueError(f"{what}(): {self.name} is endless (num_batches is None); pass "
                             f"{'steps_per_epoch' if what == 'fit' else 'steps'} to say how "
                             f"many batches make an epoch")
        if self.size is not None and self.size < 1:
            raise ValueError(f"{what}(): {self.name} has no batches (len {self.size})")
        if self.size is None and shuffle and what == "fit":
            warnings.warn(f"shuffle=True is ignored for the endless {self.name}: it is "
                          f"expected to yield shuffled batches", stacklevel=3)
        self._order = None

    def _new_pass(self):
        if self.size is None:  # an endless dataset counts on from where it was
            self._order = self._order or itertools.count()
            return
        order = list(range(self.size))
        if self.shuffle:
            random.shuffle(order)
        self._order = iter(order)

    def _take(self, count):
        return fetch_in_order(self.dataset, itertools.islice(self._order, count))

    def first_batch(self):
        self._on_epoch_begin()
        index = 0
        if self.size is not None:  # (an endless dataset's count is left where it is)
            self._new_pass()
            index = next(self._order)
        try:
            batch = self.dataset[index]  # in this thread: one batch needs no workers
        except Exception as e:
            raise noted(e, self.dataset, index)
        return self.batch((index, batch))

    def _on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def _on_epoch_end(self):
        self.dataset.on_epoch_end()


class IteratorAdapter(BatchAdapter):
    """A generator's (or any iterator's) batches, read once; the first is read at once, to
    check it before anything runs, and handed on first."""

    can_restart = False

    def __init__(self, model, iterator, steps, what):
        super().__init__(model, steps, what, "generator")
        try:
            first = next(iterator)
        except StopIteration:
            raise ValueError(f"{what}(): the generator must yield at least one batch; it is "
                             f"empty") from None
        self._first = first
        self._iterator = itertools.chain([first], iterator)
        self._count = itertools.count()

    def _new_pass(self):
        pass

    def _take(self, count):
        return zip(self._count, itertools.islice(self._iterator, count))

    def first_batch(self):
        return self.batch((0, self._first))


class LoaderAdapter(BatchAdapter):
    """A re-iterable loader's batches (a torch DataLoader), a new `iter()` per pass."""

    def __init__(self, model, loader, steps, what):
        super().__init__(model, steps, what, type(loader).__name__)
        self.loader = loader
        try:
            self.size = len(loader)
        except TypeError:
            self.size = None
        self._iterator = None

    def _new_pass(self):
        self._iterator = enumerate(iter(self.loader))

    def _take(self, count):
        return itertools.islice(self._iterator, count)


def needs_first_batch(model):
    """Whether Keras would read a first batch before the loop to build the model, its
    compiled loss or metrics (it does, and a PyDataset sees that read)."""
    unbuilt = [layer for layer in model._flatten_layers() if not layer.built]
    return bool(unbuilt) or any(
        part is not None and not getattr(part, "built", True)
        for part in (model._compile_loss, model._compile_metrics))
