"""CIFAR-10 small images classification dataset."""
import numpy as np

from mgp.datasets import _cifar

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"  # inside the archive
# SHA-256 of the archive, as published in Keras's source
FILE_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
# each batch and its number of images, training batches first, in Keras's order
BATCHES = {**{f"data_batch_{i}": 10000 for i in range(1, 6)}, "test_batch": 10000}


def load_data(path=None, cache_dir=None):
    """Loads the CIFAR10 dataset.

    This is a dataset of 50,000 32x32 color training images and 10,000 test images, labeled
    over 10 categories. See more info at the
    [CIFAR homepage](https://www.cs.toronto.edu/~kriz/cifar.html).

    The classes are:

    | Label | Description |
    |:-----:|-------------|
    |   0   | airplane    |
    |   1   | automobile  |
    |   2   | bird        |
    |   3   | cat         |
    |   4   | deer        |
    |   5   | dog         |
    |   6   | frog        |
    |   7   | horse       |
    |   8   | ship        |
    |   9   | truck       |

    The data is the archive Keras downloads, `cifar-10-python.tar.gz`, taken from the first of
    these places that has it:
    1. `path`: the archive, a folder holding it, or a folder holding the extracted
       `cifar-10-batches-py/` (such as Keras's cache folder `~/.keras/datasets/
       cifar-10-batches-py-target`);
    2. `$MGP_DATA_DIR/cifar-10-python.tar.gz` (or `$MGP_DATA_DIR/cifar-10-batches-py/`);
    3. the cache: `cache_dir` if given, else `$MGP_CACHE_DIR`, else `~/.mgp/datasets/`;
    4. otherwise it is downloaded into the cache from the URL Keras uses,
       https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (163 MB), with a progress bar,
       written atomically (an interrupted download leaves no file behind) and checked against
       Keras's published SHA-256 (a cached file that does not match it is downloaded again).

    The batches are read straight out of the archive, nothing extracted. They are Python
    pickles; mgp decodes them with its own reader, which accepts only the dicts of arrays and
    lists such batches hold and runs no pickle code, so a tampered file raises a `ValueError`
    naming it instead of running anything.

    Args:
        path: a local copy of the data, as above (an mgp extension; Keras's `load_data` takes
            no arguments).
        cache_dir: the cache folder, instead of `$MGP_CACHE_DIR` or `~/.mgp/datasets`.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` NumPy array of RGB image data with shape `(50000, 32, 32, 3)`,
      containing the training data. Pixel values range from 0 to 255.

    **`y_train`**: `uint8` NumPy array of labels (integers in range 0-9) with shape
      `(50000, 1)` for the training data.

    **`x_test`**: `uint8` NumPy array of RGB image data with shape `(10000, 32, 32, 3)`,
      containing the test data. Pixel values range from 0 to 255.

    **`y_test`**: `uint8` NumPy array of labels (integers in range 0-9) with shape
      `(10000, 1)` for the test data.

    Raises:
        FileNotFoundError: no local copy, and the download failed; the message lists the
            places looked in and the URL.
        ValueError: the archive is corrupted, truncated, or holds anything but CIFAR-10's
            batches of images and labels.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = mgp.datasets.cifar10.load_data()
    assert x_train.shape == (50000, 32, 32, 3)
    assert x_test.shape == (10000, 32, 32, 3)
    assert y_train.shape == (50000, 1)
    assert y_test.shape == (10000, 1)
    ```

    **Note**: The CIFAR-10 dataset is known to have a small percentage of mislabeled samples,
    which is inherent to the original dataset. This label noise may impact training and
    evaluation.
    """
    batches, source = _cifar.load_batches(ARCHIVE, FOLDER, BATCHES, path, cache_dir, ORIGIN,
                                          FILE_SHA256)
    splits = {name: _cifar.data_and_labels(batch, "labels", 10, f"{source} ({name})")
              for name, batch in batches.items()}
    train = [splits[name] for name in BATCHES if name != "test_batch"]
    x_train = _cifar.images(np.concatenate([x for x, _ in train]))
    y_train = np.concatenate([y for _, y in train]).astype(np.uint8).reshape(-1, 1)
    x_test, y_test = splits["test_batch"]
    return (x_train, y_train), (_cifar.images(x_test.copy()), y_test.astype(np.uint8)
                                .reshape(-1, 1))
