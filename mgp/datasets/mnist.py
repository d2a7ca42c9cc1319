"""MNIST handwritten digits dataset."""
import os

from mgp.datasets import _files
from mgp.datasets._formats import check_array_sha256, check_images_and_labels, read_npz

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# SHA-256 of the file served at ORIGIN_FOLDER + "mnist.npz", as published in Keras's source
FILE_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# SHA-256 of each array's raw bytes: the same for any copy holding the canonical arrays,
# however its zip container was written
ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}


def load_data(path="mnist.npz", cache_dir=None):
    """Loads the MNIST dataset.

    This is a dataset of 60,000 28x28 grayscale images of the 10 digits, along with a test set
    of 10,000 images. More info can be found at the
    [MNIST homepage](http://yann.lecun.com/exdb/mnist/).

    The file `mnist.npz` is taken from the first of these places that has it:
    1. `path`, if it names an existing file (or a folder holding `mnist.npz`);
    2. the folder named by the environment variable `MGP_DATA_DIR`;
    3. the cache: `cache_dir` if given, else `$MGP_CACHE_DIR`, else `~/.mgp/datasets/`;
    4. otherwise it is downloaded into the cache from the URL Keras uses,
       https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz, with a progress
       bar, written atomically (an interrupted download leaves no `mnist.npz` behind).

    What is verified: a downloaded or cached file must match Keras's published SHA-256 of
    `mnist.npz` (a cached file that does not is downloaded again). That hash covers the zip
    container, which differs between equally good copies, so in addition every load, whatever
    its source, checks the SHA-256 of each of the four arrays' raw bytes against the canonical
    ones, as well as their dtypes and shapes: `load_data` returns the canonical MNIST or raises
    a `ValueError` that names the file. The archive is read with `allow_pickle=False`.

    Args:
        path: a local copy of `mnist.npz` (or a folder holding it); when no such file exists,
            the file name used in `MGP_DATA_DIR` and in the cache (relative to
            `~/.mgp/datasets`), as in Keras.
        cache_dir: the cache folder, instead of `$MGP_CACHE_DIR` or `~/.mgp/datasets`.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` NumPy array of grayscale image data with shape `(60000, 28, 28)`,
      containing the training data. Pixel values range from 0 to 255.

    **`y_train`**: `uint8` NumPy array of digit labels (integers in range 0-9) with shape
      `(60000,)` for the training data.

    **`x_test`**: `uint8` NumPy array of grayscale image data with shape `(10000, 28, 28)`,
      containing the test data. Pixel values range from 0 to 255.

    **`y_test`**: `uint8` NumPy array of digit labels (integers in range 0-9) with shape
      `(10000,)` for the test data.

    Raises:
        FileNotFoundError: no local copy, and the download failed; the message lists the
            places looked in and the URL.
        ValueError: the file is corrupted, truncated, or not the canonical data.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = mgp.datasets.mnist.load_data()
    assert x_train.shape == (60000, 28, 28)
    assert x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,)
    assert y_test.shape == (10000,)
    ```

    License:

    Yann LeCun and Corinna Cortes hold the copyright of MNIST dataset, which is a derivative
    work from original NIST datasets. MNIST dataset is made available under the terms of the
    [Creative Commons Attribution-Share Alike 3.0 license.](
    https://creativecommons.org/licenses/by-sa/3.0/)
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        local, fname = os.path.join(path, "mnist.npz"), "mnist.npz"
    else:
        local, fname = path, path
    fpath = _files.fetch(fname, ORIGIN_FOLDER + "mnist.npz", FILE_SHA256, local, cache_dir)
    a = read_npz(fpath, ["x_train", "y_train", "x_test", "y_test"])
    check_images_and_labels(a["x_train"], a["y_train"], f"{fpath} (train)")
    check_images_and_labels(a["x_test"], a["y_test"], f"{fpath} (test)")
    check_array_sha256(a, ARRAY_SHA256, fpath)
    return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])
