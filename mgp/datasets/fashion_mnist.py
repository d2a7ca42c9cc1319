"""Fashion-MNIST dataset."""
import os

from mgp.datasets import _files
from mgp.datasets._formats import check_images_and_labels, read_idx

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILES = {  # (images, labels) of each split
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# SHA-256 of each downloaded archive, as in Keras's source (the same as Zalando's originals)
FILE_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz":
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz":
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz":
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
# SHA-256 of the decompressed IDX bytes: the same for any copy holding the original data,
# however it was gzipped
IDX_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz":
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz":
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz":
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def load_data(path=None, cache_dir=None):
    """Loads the Fashion-MNIST dataset.

    This is a dataset of 60,000 28x28 grayscale images of 10 fashion categories, along with a
    test set of 10,000 images. This dataset can be used as a drop-in replacement for MNIST.

    The classes are:

    | Label | Description |
    |:-----:|-------------|
    |   0   | T-shirt/top |
    |   1   | Trouser     |
    |   2   | Pullover    |
    |   3   | Dress       |
    |   4   | Coat        |
    |   5   | Sandal      |
    |   6   | Shirt       |
    |   7   | Sneaker     |
    |   8   | Bag         |
    |   9   | Ankle boot  |

    The data comes as four gzip-compressed IDX files (`train-images-idx3-ubyte.gz`,
    `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`).
    Each is taken from the first of these places that has it:
    1. the folder `path`, if given;
    2. `$MGP_DATA_DIR/fashion-mnist/`;
    3. the cache's `fashion-mnist/` folder: `cache_dir` if given, else `$MGP_CACHE_DIR`, else
       `~/.mgp/datasets/`;
    4. otherwise it is downloaded into the cache from the URLs Keras uses
       (https://storage.googleapis.com/tensorflow/tf-keras-datasets/ + file name), with a
       progress bar, written atomically (an interrupted download leaves no file behind).

    What is verified: a downloaded or cached archive must match its published SHA-256 (a cached
    one that does not is downloaded again). Those hashes cover the gzip container, which differs
    between equally good copies, so in addition every load, whatever its source, checks the
    SHA-256 of the decompressed IDX bytes against the originals. The IDX parser checks the magic
    number, the dtype code, and that the data length matches the dimensions in the header;
    `load_data` returns the original Fashion-MNIST or raises a `ValueError` that names the file.

    Args:
        path: a local folder holding the four files (an mgp extension; Keras's `load_data`
            takes no arguments).
        cache_dir: the cache folder, instead of `$MGP_CACHE_DIR` or `~/.mgp/datasets`.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` NumPy array of grayscale image data with shape `(60000, 28, 28)`,
      containing the training data.

    **`y_train`**: `uint8` NumPy array of labels (integers in range 0-9) with shape `(60000,)`
      for the training data.

    **`x_test`**: `uint8` NumPy array of grayscale image data with shape `(10000, 28, 28)`,
      containing the test data.

    **`y_test`**: `uint8` NumPy array of labels (integers in range 0-9) with shape `(10000,)`
      for the test data.

    Raises:
        FileNotFoundError: a file has no local copy and its download failed; the message names
            the file, the places looked in, and the URL.
        ValueError: a file is corrupted, truncated, or not the original data.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = mgp.datasets.fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28)
    assert x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,)
    assert y_test.shape == (10000,)
    ```

    License:

    The copyright for Fashion-MNIST is held by Zalando SE. Fashion-MNIST is licensed under the
    [MIT license](https://github.com/zalandoresearch/fashion-mnist/blob/master/LICENSE).
    """
    splits = []
    for images, labels in FILES.values():
        x, y = (_load_idx(fname, path, cache_dir) for fname in (images, labels))
        check_images_and_labels(x, y, f"Fashion-MNIST {images} / {labels}")
        splits.append((x, y))
    return tuple(splits)


def _load_idx(fname, path, cache_dir):
    local = None if path is None else os.path.join(os.fspath(path), fname)
    fpath = _files.fetch(f"fashion-mnist/{fname}", ORIGIN_FOLDER + fname, FILE_SHA256[fname],
                         local, cache_dir)
    return read_idx(fpath, IDX_SHA256[fname])
