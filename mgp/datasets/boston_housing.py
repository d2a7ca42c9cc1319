"""Boston housing price regression dataset."""
from mgp.datasets import _splits, _tables

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# SHA-256 of boston_housing.npz, as published in Keras's source
FILE_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113, cache_dir=None):
    """Loads the Boston Housing dataset.

    This is a dataset taken from the StatLib library which is maintained at Carnegie Mellon
    University.

    **WARNING:** This dataset has an ethical problem: the authors of this dataset included a
    variable, "B", that may appear to assume that racial self-segregation influences house
    prices. As such, we strongly discourage the use of this dataset, unless in the context of
    illustrating ethical issues in data science and machine learning.

    Samples contain 13 attributes of houses at different locations around the Boston suburbs
    in the late 1970s. Targets are the median values of the houses at a location (in k$).

    The attributes themselves are defined in the
    [StatLib website](http://lib.stat.cmu.edu/datasets/boston).

    The file `boston_housing.npz` is taken from the first of these places that has it:
    1. `path`, if it names an existing file (or a folder holding `boston_housing.npz`);
    2. the folder named by the environment variable `MGP_DATA_DIR`;
    3. the cache: `cache_dir` if given, else `$MGP_CACHE_DIR`, else `~/.mgp/datasets/`;
    4. otherwise it is downloaded into the cache from the URL Keras uses,
       https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz, with a
       progress bar, written atomically and checked against Keras's published SHA-256 (a
       cached file that does not match it is downloaded again).

    The 506 samples are shuffled by `np.random.RandomState(seed)` before the split, as Keras
    shuffles them; with the same `seed`, mgp and Keras return the same arrays.

    Args:
        path: a local copy of `boston_housing.npz` (or a folder holding it); when no such file
            exists, the file name used in `MGP_DATA_DIR` and in the cache, as in Keras.
        test_split: fraction of the data to reserve as test set, in [0, 1).
        seed: Random seed for shuffling the data before computing the test split.
        cache_dir: the cache folder, instead of `$MGP_CACHE_DIR` or `~/.mgp/datasets` (an mgp
            extension).

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`, `x_test`**: NumPy arrays with shape `(num_samples, 13)` containing either the
      training samples (for `x_train`), or test samples (for `x_test`): 404 and 102 of them
      with the default `test_split`; of the file's dtype.

    **`y_train`, `y_test`**: NumPy arrays of shape `(num_samples,)` containing the target
      scalars. The targets are float scalars typically between 10 and 50 that represent
      the home prices in k$.

    Raises:
        ValueError: `test_split` is outside [0, 1); or the file is corrupted or holds other
            arrays.
        FileNotFoundError: no local copy, and the download failed; the message lists the
            places looked in and the URL.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = mgp.datasets.boston_housing.load_data()
    assert x_train.shape == (404, 13) and y_test.shape == (102,)
    ```
    """
    _splits.check_test_split(test_split)
    return _tables.load(path, "boston_housing.npz", ORIGIN_FOLDER + "boston_housing.npz",
                        FILE_SHA256, cache_dir, 13, test_split=test_split, seed=seed)
