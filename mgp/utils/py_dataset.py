"""`PyDataset` (Keras's `Sequence`): a dataset written in Python as numbered batches, and the
pool of threads or processes that fetches its batches ahead of the training loop, in order.

`fit` asks for `dataset[i]` in index order (shuffled with Python's `random`, as Keras does,
when `fit(shuffle=True)`). With `workers > 1` the batches are computed by that many threads,
or with `use_multiprocessing=True` by that many forked processes (each works on the dataset
as it was when the epoch began), at most `max_queue_size` batches ahead of the loop; they are
handed back in index order whatever the order they finish in, so a dataset whose
`__getitem__` depends only on its index gives the same batches however many workers it has.
"""
import collections
import concurrent.futures
import itertools
import multiprocessing
import sys
import warnings


class PyDataset:
    """Base class for a dataset of batches computed in Python.

    Subclasses implement `__len__` (the number of batches; or the `num_batches` property,
    None for an endless dataset) and `__getitem__(index)` returning one whole batch: `x`,
    `(x,)`, `(x, y)` or `(x, y, sample_weight)` (arrays, lists or dicts of arrays), or a dict
    (the inputs). `on_epoch_begin` / `on_epoch_end` are called around each epoch, e.g. to
    reshuffle. Call `super().__init__(**kwargs)` in the subclass's constructor.

    Args:
        workers: how many threads (or processes) compute batches ahead of the loop; 1 computes
            them in the loop's thread, one at a time.
        use_multiprocessing: compute them in forked processes instead of threads (real
            parallelism for Python code; the dataset's state is copied into them each epoch).
        max_queue_size: at most this many batches computed ahead of the loop.

    Example:
        >>> class Squares(mgp.utils.PyDataset):
        ...     def __init__(self, n, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x = np.arange(n, dtype="float32")[:, None]
        ...         self.batch_size = batch_size
        ...     def __len__(self):
        ...         return math.ceil(len(self.x) / self.batch_size)
        ...     def __getitem__(self, index):
        ...         x = self.x[index * self.batch_size:(index + 1) * self.batch_size]
        ...         return x, x ** 2
        >>> model.fit(Squares(100, 32, workers=2), epochs=3)
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _defaults_if_super_not_called(self):
        missing = [name for name in ("_workers", "_use_multiprocessing", "_max_queue_size")
                   if not hasattr(self, name)]
        if missing:
            self._workers, self._use_multiprocessing, self._max_queue_size = \
                getattr(self, "_workers", 1), getattr(self, "_use_multiprocessing", False), \
                getattr(self, "_max_queue_size", 10)
            warnings.warn(f"{type(self).__name__} should call super().__init__(**kwargs) in its "
                          f"constructor; kwargs can include workers, use_multiprocessing and "
                          f"max_queue_size (fit() takes none of them)", stacklevel=3)

    @property
    def workers(self):
        self._defaults_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._defaults_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._defaults_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position `index`."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index), "
                                  f"returning the batch at that position")

    @property
    def num_batches(self):
        """The number of batches, or None for an endless dataset (`len(self)` by default)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ (or the "
                                  f"num_batches property: None for an endless dataset)")

    def __iter__(self):
        """The batches in order, one at a time, in this thread (no workers)."""
        count = self.num_batches
        for index in (range(count) if count is not None else itertools.count()):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""

    def __repr__(self):
        try:
            count = self.num_batches
        except NotImplementedError:
            count = "?"
        return f"<{type(self).__name__} num_batches={count} workers={self.workers}>"


Sequence = PyDataset  # Keras's older name, kept by Keras 3 as an alias


def noted(error, dataset, index):
    """`error` with a note naming the batch whose `__getitem__` raised it."""
    error.add_note(f"(raised by {type(dataset).__name__}.__getitem__({index}))")
    return error


def fetch_in_order(dataset, indices):
    """`(index, dataset[index])` for each of `indices` in order, computed by the dataset's
    workers (threads or forked processes) up to `max_queue_size` ahead; an error raised by
    `__getitem__` is raised here, with a note naming the index. Closing the generator stops
    the workers."""
    workers, processes = dataset.workers, dataset.use_multiprocessing
    if workers <= 1 and not (processes and workers > 0):  # Keras's rule for using a pool
        for index in indices:
            try:
                batch = dataset[index]
            except Exception as e:
                raise noted(e, dataset, index)
            yield index, batch
        return
    ahead = max(int(dataset.max_queue_size), 1)
    if processes:
        # fork where the platform offers it safely (Linux): the dataset is inherited, not
        # pickled, so any dataset works; elsewhere the default start method pickles it
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
        pool = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=context, initializer=_adopt, initargs=(dataset,))
        get = _worker_get
    else:
        pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="PyDataset")
        get = dataset.__getitem__
    pending = collections.deque()
    indices = iter(indices)
    try:
        while True:
            for index in itertools.islice(indices, ahead - len(pending)):
                pending.append((index, pool.submit(get, index)))
            if not pending:
                return
            index, future = pending.popleft()
            try:
                batch = future.result()
            except concurrent.futures.process.BrokenProcessPool as e:
                raise RuntimeError(f"a worker process of {type(dataset).__name__} died while "
                                   f"computing batch {index} (use_multiprocessing=True)") from e
            except Exception as e:
                raise noted(e, dataset, index)
            yield index, batch
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


_worker_dataset = None  # in a worker process: the dataset it computes batches of


def _adopt(dataset):
    global _worker_dataset
    _worker_dataset = dataset


def _worker_get(index):
    return _worker_dataset[index]
