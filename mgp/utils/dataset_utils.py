"""Datasets made from folders of files and from arrays, as Keras's `keras.utils` makes them.

Keras returns a `tf.data.Dataset` from `image_dataset_from_directory` and its siblings; mgp
has no tf.data, so they return a `BatchDataset`: a `PyDataset` of NumPy batches `(x, y)` (or
`x` alone without labels), with `class_names` and `file_paths` as Keras's datasets have them.
It can be indexed, iterated (`for x, y in dataset`), and passed to `fit` / `evaluate` /
`predict` (which then ignore their `shuffle`, as Keras ignores it for a tf.data.Dataset).

Files are found and ordered as Keras orders them (`index_directory`): class folders sorted
(or as `class_names` lists them), files sorted within each, then, with `shuffle`, shuffled by
NumPy's `RandomState(seed)`, so `file_paths`, the labels and the training / validation split
are Keras's for the same seed. Keras's tf.data then reshuffles the training samples in a
buffer at every pass, in an order only TensorFlow defines; a shuffled `BatchDataset` draws a
new order of all its samples at each pass instead, from `seed` and the pass's number.
"""
import math
import os

import numpy as np

from mgp.utils.py_dataset import PyDataset


class BatchDataset(PyDataset):
    """`n` samples in batches: `load(indices)` makes the inputs of those samples (a NumPy
    batch), `targets` (an array, or None) their labels.

    Args:
        n: the number of samples.
        load: a function of an index array returning the batch of those samples' inputs.
        targets: an array of n targets, or None for batches of inputs alone.
        batch_size: samples per batch; None for single samples, without a batch axis.
        shuffle: a new order of the samples at each pass (`on_epoch_begin`, or iterating),
            drawn from `seed` and the pass's number; else their order.
        class_names, file_paths: kept as attributes, as Keras's datasets have them.
        workers, use_multiprocessing, max_queue_size: as for any `PyDataset`.
    """

    def __init__(self, n, load, targets=None, batch_size=32, shuffle=False, seed=None,
                 class_names=None, file_paths=None, **kwargs):
        super().__init__(**kwargs)
        self.n, self.load, self.targets = n, load, targets
        self.batch_size, self.shuffle = batch_size, shuffle
        self.seed = int(np.random.randint(1_000_000)) if seed is None else seed
        self.class_names, self.file_paths = class_names, file_paths
        self._passes = 0
        self._order = self._draw_order()

    def _draw_order(self):
        if not self.shuffle:
            return np.arange(self.n)
        return np.random.default_rng([self.seed, self._passes]).permutation(self.n)

    def __len__(self):
        return self.n if self.batch_size is None else math.ceil(self.n / self.batch_size)

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch {index} of a {type(self).__name__} of {len(self)}")
        index %= len(self)
        if self.batch_size is None:
            rows = self._order[index:index + 1]
        else:
            rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x = self.load(rows)
        if self.batch_size is None:
            x = x[0]
        if self.targets is None:
            return x
        y = self.targets[rows]
        return x, y[0] if self.batch_size is None else y

    def on_epoch_begin(self):
        self._passes += 1
        self._order = self._draw_order()

    def __iter__(self):
        self.on_epoch_begin()
        for index in range(len(self)):
            yield self[index]

    def __repr__(self):
        size = "single samples" if self.batch_size is None else f"batches of {self.batch_size}"
        classes = "" if self.class_names is None else f", class_names={self.class_names}"
        return f"<BatchDataset of {self.n} samples in {len(self)} {size}{classes}>"


# ---- finding the files, as Keras's index_directory does ------------------------------------
def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """The files under `directory` whose names end in one of `formats`, with their labels.

    Returns:
        `(file_paths, labels, class_names)`: labels an int32 array ("inferred": the index of
        each file's class folder), the list given, or None; class_names the class folders,
        the sorted labels as strings, or None.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"{directory!r} is not a directory")
    if labels == "inferred":
        folders = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names) <= set(folders):
                raise ValueError(f"class_names {list(class_names)} do not match the "
                                 f"subdirectories of {directory}: {folders} (or a subset)")
            folders = list(class_names)
    else:
        if class_names is not None:
            raise ValueError("class_names can be given only with labels='inferred'")
        folders = [""]
    paths, found = [], []
    for index, folder in enumerate(folders):
        root = os.path.join(directory, folder)
        walk = os.walk(root, followlinks=follow_links)
        for dirpath, _, files in sorted(walk, key=lambda entry: entry[0]):
            for name in sorted(files):
                if name.lower().endswith(formats):
                    paths.append(os.path.join(dirpath, name))
                    found.append(index)
    if labels == "inferred":
        labels = np.array(found, dtype=np.int32)
    elif labels is None:
        folders = None
    else:
        if len(labels) != len(paths):
            raise ValueError(f"labels has {len(labels)} entries but {directory} holds "
                             f"{len(paths)} files (of {', '.join(formats)})")
        folders = [str(label) for label in sorted(set(labels))]
    if verbose:
        classes = "" if labels is None else f" belonging to {len(folders)} classes"
        print(f"Found {len(paths)} files{classes}.")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1_000_000)
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, folders


def check_validation_split(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split}")
    if bool(validation_split) != bool(subset):
        raise ValueError("subset and validation_split go together: give both or neither")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f"subset must be 'training', 'validation' or 'both', got {subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError("validation_split with shuffle needs a seed, so that the training and "
                         "validation subsets do not overlap")


def training_or_validation(samples, labels, validation_split, subset):
    """Keras's split: the validation subset is the last `int(validation_split * n)` samples."""
    if not validation_split:
        return samples, labels
    count = int(validation_split * len(samples))
    keep = slice(None, -count) if subset == "training" else slice(-count, None)
    if count == 0:  # (Keras's slices: nothing for validation, and so nothing for training)
        keep = slice(0, 0)
    print(f"Using {len(samples[keep])} files for {subset}.")
    return samples[keep], None if labels is None else labels[keep]


def encode_labels(labels, label_mode, num_classes):
    """Labels as Keras's datasets yield them: int32, binary float32 (n, 1), or one-hot."""
    labels = np.asarray(labels)
    if label_mode == "binary":
        return labels.astype(np.float32)[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[labels.astype(np.int64)]
    return labels.astype(np.int32)


def from_directory(what, directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                   validation_split, subset, follow_links, verbose, formats, load):
    """The BatchDataset (or, for subset='both', the training and validation pair) of the
    files under `directory`; `load(paths)` makes a batch of inputs from a list of paths."""
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(f"{what}: labels must be 'inferred', None, or a list of integer "
                         f"labels (one per file, in the files' sorted order), got {labels!r}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f"{what}: label_mode must be 'int', 'categorical', 'binary' or "
                         f"None, got {label_mode!r}")
    if labels is None or label_mode is None:
        labels = label_mode = None
    check_validation_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1_000_000)
    paths, found, class_names = index_directory(directory, labels, formats, class_names,
                                                shuffle, seed, follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f"{what}: label_mode='binary' needs exactly 2 classes, found "
                         f"{class_names}")

    def dataset(subset_name, shuffle_it):
        chosen, chosen_labels = training_or_validation(paths, found, validation_split,
                                                       subset_name)
        if not chosen:
            kind = {"training": "training ", "validation": "validation "}.get(subset_name, "")
            raise ValueError(f"{what}: no {kind}files found in directory {directory} (allowed "
                             f"formats: {', '.join(formats)})")
        targets = None if label_mode is None else \
            encode_labels(chosen_labels, label_mode, len(class_names))
        chosen = list(chosen)
        return BatchDataset(len(chosen), lambda rows: load([chosen[i] for i in rows]),
                            targets, batch_size, shuffle_it, seed, class_names, chosen)

    if subset == "both":
        return dataset("training", shuffle), dataset("validation", False)
    return dataset(subset, shuffle)


# ---- split_dataset -------------------------------------------------------------------------
def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None,
                  preferred_backend=None):
    """Split arrays (or a tuple / list / dict of arrays with one sample per row, or a
    `BatchDataset`) into a left and a right part.

    Args:
        dataset: an array, a tuple / list / dict of arrays of equal length, or a BatchDataset.
        left_size, right_size: a fraction in (0, 1) or a number of samples; one may be None
            (the rest).
        shuffle: shuffle the samples first (with `seed`).
        preferred_backend: accepted as Keras has it; mgp returns NumPy data either way.
    Returns:
        `(left, right)` in the structure given: arrays for arrays, BatchDatasets of the same
        batch size for a BatchDataset. Keras on its torch backend returns torch Subsets (and
        shuffles with torch's generator: the same sizes, another order).
    """
    if isinstance(dataset, BatchDataset):
        batches = [dataset.load(np.arange(dataset.n))]
        samples = (batches[0],) if dataset.targets is None else (batches[0], dataset.targets)
    else:
        samples = dataset
    leaves = list(samples.values()) if isinstance(samples, dict) else \
        list(samples) if isinstance(samples, (list, tuple)) else [samples]
    if not leaves:
        raise ValueError("split_dataset: received an empty dataset")
    leaves = [np.asarray(a) for a in leaves]
    lengths = {len(a) for a in leaves}
    if len(lengths) != 1:
        raise ValueError(f"split_dataset: the arrays have different lengths "
                         f"{[len(a) for a in leaves]}")
    n = lengths.pop()
    left, right = _split_sizes(left_size, right_size, n)
    order = np.arange(n)
    if shuffle:
        order = np.random.default_rng(seed).permutation(n)
    parts = order[:left], order[left:left + right]
    if isinstance(dataset, BatchDataset):
        out = []
        for rows in parts:
            x = leaves[0][rows]
            y = None if dataset.targets is None else leaves[1][rows]
            out.append(BatchDataset(len(rows), lambda r, x=x: x[r], y, dataset.batch_size,
                                    dataset.shuffle, dataset.seed, dataset.class_names))
        return tuple(out)

    def take(rows):
        if isinstance(samples, dict):
            return {k: np.asarray(v)[rows] for k, v in samples.items()}
        if isinstance(samples, (list, tuple)):
            return type(samples)(np.asarray(v)[rows] for v in samples)
        return np.asarray(samples)[rows]
    return take(parts[0]), take(parts[1])


def _split_sizes(left, right, n):
    """Keras's rules for the two sizes, as sample counts."""
    for name, size in (("left_size", left), ("right_size", right)):
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, (int, float)):
            raise TypeError(f"split_dataset: {name} must be an int, a float or None, got "
                            f"{type(size).__name__}")
        if isinstance(size, int) and not 0 < size < n or \
                isinstance(size, float) and not 0 < size < 1:
            raise ValueError(f"split_dataset: {name} must be a positive number of samples "
                             f"below {n}, or a fraction in (0, 1); got {size}")
    if left is None and right is None:
        raise ValueError("split_dataset: give left_size, right_size, or both")
    if isinstance(left, float) and isinstance(right, float) and left + right > 1:
        raise ValueError(f"split_dataset: left_size + right_size is {left + right}, above 1")
    left = round(left * n) if isinstance(left, float) else left
    right = round(right * n) if isinstance(right, float) else right
    left = n - right if left is None else left
    right = n - left if right is None else right
    if left + right > n:
        raise ValueError(f"split_dataset: left_size + right_size = {left + right} is more "
                         f"than the {n} samples")
    if left == 0 or right == 0:
        raise ValueError(f"split_dataset: with {n} samples, left_size={left} and "
                         f"right_size={right} leave one side empty")
    return int(left), int(right)
