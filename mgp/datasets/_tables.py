"""What the two housing datasets share: an `.npz` of features `x` and targets `y`, shuffled
and split as Keras does."""
import numpy as np

from mgp.datasets import _files, _splits
from mgp.datasets._formats import read_npz


def load(path, default_name, origin, sha256, cache_dir, num_features, first=None,
         test_split=0.2, seed=113):
    """`(x_train, y_train), (x_test, y_test)` from the `.npz` found or downloaded as
    `_files.fetch` finds it; `first` keeps only the leading samples (before shuffling)."""
    local, fname = _splits.local_path(path, default_name)
    fpath = _files.fetch(fname, origin, sha256, local, cache_dir)
    a = read_npz(fpath, ["x", "y"])
    x, y = a["x"], a["y"]
    if x.ndim != 2 or x.shape[1] != num_features or x.dtype.kind not in "iuf":
        raise ValueError(f"{fpath}: 'x' should be numbers of shape (N, {num_features}), got "
                         f"{x.dtype} {x.shape}")
    if y.shape != (len(x),) or y.dtype.kind not in "iuf":
        raise ValueError(f"{fpath}: 'y' should be numbers of shape ({len(x)},) to match 'x', "
                         f"got {y.dtype} {y.shape}")
    if first is not None:
        x, y = x[:first], y[:first]
    x, y = _splits.shuffled(np.random.RandomState(seed), x, y)
    n = _splits.train_size(len(x), test_split)
    return (x[:n], y[:n]), (x[n:], y[n:])
