"""What Keras's single-file loaders share: the `path=` argument, their shuffle, their split."""
import os

import numpy as np


def local_path(path, default_name):
    """`(local copy, name in the data and cache folders)` for a loader's `path=` argument: a
    file, a folder holding `default_name`, or (when nothing is there) the name to use."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return os.path.join(path, default_name), default_name
    return path, path


def shuffled(rng, *arrays):
    """`arrays` in one random order, drawn as Keras's loaders draw it (`rng.shuffle` of an
    `arange`), so the same seed gives the same order."""
    indices = np.arange(len(arrays[0]))
    rng.shuffle(indices)
    return tuple(a[indices] for a in arrays)


def check_test_split(test_split, allow_one=False):
    if not (0 <= test_split < 1 or allow_one and test_split == 1):
        raise ValueError(f"Invalid `test_split` argument: {test_split!r}. It must be between 0 "
                         f"and 1 ({'inclusive' if allow_one else 'exclusive'} of 1).")


def train_size(n, test_split):
    """How many of `n` samples go to training: Keras's `int(n * (1 - test_split))`."""
    return int(n * (1 - test_split))
