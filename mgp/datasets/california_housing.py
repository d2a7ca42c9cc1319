"""California housing price regression dataset."""
from mgp.datasets import _splits, _tables

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# SHA-256 of california_housing.npz, as published in Keras's source
FILE_SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
VERSIONS = {"large": None, "small": 600}  # how many of the samples each version keeps


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113,
              cache_dir=None):
    """Loads the California Housing dataset.

    This dataset was obtained from the [StatLib repository](
    https://www.dcc.fc.up.pt/~ltorgo/Regression/cal_housing.html).

    It's a continuous regression dataset with 20,640 samples with 8 features each.

    The target variable is a scalar: the median house value for California districts, in
    dollars.

    The 8 input features are the following:

    - MedInc: median income in block group
    - HouseAge: median house age in block group
    - AveRooms: average number of rooms per household
    - AveBedrms: average number of bedrooms per household
    - Population: block group population
    - AveOccup: average number of household members
    - Latitude: block group latitude
    - Longitude: block group longitude

    This dataset was derived from the 1990 U.S. census, using one row per census block group.
    A block group is the smallest geographical unit for which the U.S. Census Bureau publishes
    sample data (a block group typically has a population of 600 to 3,000 people).

    A household is a group of people residing within a home. Since the average number of rooms
    and bedrooms in this dataset are provided per household, these columns may take
    surprisingly large values for block groups with few households and many empty houses, such
    as vacation resorts.

    The file `california_housing.npz` is taken from the first of these places that has it:
    1. `path`, if it names an existing file (or a folder holding `california_housing.npz`);
    2. the folder named by the environment variable `MGP_DATA_DIR`;
    3. the cache: `cache_dir` if given, else `$MGP_CACHE_DIR`, else `~/.mgp/datasets/`;
    4. otherwise it is downloaded into the cache from the URL Keras uses,
       https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz,
       with a progress bar, written atomically and checked against Keras's published SHA-256
       (a cached file that does not match it is downloaded again).

    The samples are shuffled by `np.random.RandomState(seed)` before the split, as Keras
    shuffles them; with the same `seed`, mgp and Keras return the same arrays.

    Args:
        version: `"small"` or `"large"`. The small version contains 600 samples, the large
            version contains 20,640 samples. The purpose of the small version is to serve as
            an approximate replacement for the deprecated `boston_housing` dataset.
        path: a local copy of `california_housing.npz` (or a folder holding it); when no such
            file exists, the file name used in `MGP_DATA_DIR` and in the cache, as in Keras.
        test_split: fraction of the data to reserve as test set, in [0, 1).
        seed: Random seed for shuffling the data before computing the test split.
        cache_dir: the cache folder, instead of `$MGP_CACHE_DIR` or `~/.mgp/datasets` (an mgp
            extension).

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`, `x_test`**: NumPy arrays with shape `(num_samples, 8)` containing either the
      training samples (for `x_train`), or test samples (for `x_test`), of the file's dtype.

    **`y_train`, `y_test`**: NumPy arrays of shape `(num_samples,)` containing the target
      scalars. The targets are float scalars typically between 25,000 and 500,000 that
      represent the home prices in dollars.

    Raises:
        ValueError: `version` is neither `"small"` nor `"large"`, `test_split` is outside
            [0, 1); or the file is corrupted or holds other arrays.
        FileNotFoundError: no local copy, and the download failed; the message lists the
            places looked in and the URL.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = mgp.datasets.california_housing.load_data(
        version="small")
    assert x_train.shape == (480, 8) and y_test.shape == (120,)
    ```
    """
    _splits.check_test_split(test_split)
    if version not in VERSIONS:
        raise ValueError(f"Argument `version` must be one of 'small', 'large'. Received: "
                         f"version={version!r}")
    return _tables.load(path, "california_housing.npz",
                        ORIGIN_FOLDER + "california_housing.npz", FILE_SHA256, cache_dir, 8,
                        first=VERSIONS[version], test_split=test_split, seed=seed)
