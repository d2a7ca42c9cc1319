"""CIFAR-100 small images classification dataset."""
from mgp.datasets import _cifar

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
ARCHIVE = "cifar-100-python.tar.gz"
FOLDER = "cifar-100-python"  # inside the archive
# SHA-256 of the archive, as published in Keras's source
FILE_SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
BATCHES = {"train": 50000, "test": 10000}  # each batch and its number of images
NUM_CLASSES = {"fine": 100, "coarse": 20}


def load_data(label_mode="fine", path=None, cache_dir=None):
    """Loads the CIFAR100 dataset.

    This is a dataset of 50,000 32x32 color training images and 10,000 test images, labeled
    over 100 fine-grained classes that are grouped into 20 coarse-grained classes. See more
    info at the [CIFAR homepage](https://www.cs.toronto.edu/~kriz/cifar.html).

    The data is the archive Keras downloads, `cifar-100-python.tar.gz`, taken from the first
    of these places that has it:
    1. `path`: the archive, a folder holding it, or a folder holding the extracted
       `cifar-100-python/` (such as Keras's cache folder `~/.keras/datasets/
       cifar-100-python-target`);
    2. `$MGP_DATA_DIR/cifar-100-python.tar.gz` (or `$MGP_DATA_DIR/cifar-100-python/`);
    3. the cache: `cache_dir` if given, else `$MGP_CACHE_DIR`, else `~/.mgp/datasets/`;
    4. otherwise it is downloaded into the cache from the URL Keras uses,
       https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz (161 MB), with a progress
       bar, written atomically (an interrupted download leaves no file behind) and checked
       against Keras's published SHA-256 (a cached file that does not match it is downloaded
       again).

    The batches are read straight out of the archive, nothing extracted. They are Python
    pickles; mgp decodes them with its own reader, which accepts only the dicts of arrays and
    lists such batches hold and runs no pickle code, so a tampered file raises a `ValueError`
    naming it instead of running anything.

    Args:
        label_mode: one of `"fine"`, `"coarse"`. If it is `"fine"`, the category labels are
            the fine-grained labels, and if it is `"coarse"`, the output labels are the
            coarse-grained superclasses.
        path: a local copy of the data, as above (an mgp extension).
        cache_dir: the cache folder, instead of `$MGP_CACHE_DIR` or `~/.mgp/datasets`.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` NumPy array of RGB image data with shape `(50000, 32, 32, 3)`,
      containing the training data. Pixel values range from 0 to 255.

    **`y_train`**: `int64` NumPy array of labels (integers in range 0-99, or 0-19 with
      `label_mode="coarse"`) with shape `(50000, 1)` for the training data (the dtype Keras's
      loader returns, though its docstring says uint8).

    **`x_test`**: `uint8` NumPy array of RGB image data with shape `(10000, 32, 32, 3)`,
      containing the test data. Pixel values range from 0 to 255.

    **`y_test`**: `int64` NumPy array of labels (integers in range 0-99, or 0-19) with shape
      `(10000, 1)` for the test data.

    Raises:
        ValueError: `label_mode` is neither `"fine"` nor `"coarse"`; or the archive is
            corrupted, truncated, or holds anything but CIFAR-100's images and labels.
        FileNotFoundError: no local copy, and the download failed; the message lists the
            places looked in and the URL.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = mgp.datasets.cifar100.load_data()
    assert x_train.shape == (50000, 32, 32, 3)
    assert x_test.shape == (10000, 32, 32, 3)
    assert y_train.shape == (50000, 1)
    assert y_test.shape == (10000, 1)
    ```
    """
    if label_mode not in NUM_CLASSES:
        raise ValueError(f'`label_mode` must be one of "fine", "coarse". Received: '
                         f'label_mode={label_mode!r}.')
    batches, source = _cifar.load_batches(ARCHIVE, FOLDER, BATCHES, path, cache_dir, ORIGIN,
                                          FILE_SHA256)
    splits = []
    for name in ("train", "test"):
        x, y = _cifar.data_and_labels(batches[name], f"{label_mode}_labels",
                                      NUM_CLASSES[label_mode], f"{source} ({name})")
        splits.append((_cifar.images(x.copy()), y.reshape(-1, 1)))
    return tuple(splits)
