"""IMDB movie-review sentiment classification dataset."""
import numpy as np

from mgp.datasets import _files, _sequences, _splits
from mgp.datasets._pickle import read_npz
from mgp.datasets._sequences import Split

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# as published in Keras's source: SHA-256 of imdb.npz, MD5 of imdb_word_index.json
FILE_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3, cache_dir=None):
    """Loads the [IMDB dataset](https://ai.stanford.edu/~amaas/data/sentiment/).

    This is a dataset of 25,000 movie reviews from IMDB for training and 25,000 for testing,
    labeled by sentiment (positive/negative). Each review comes encoded as a list of word
    indices: words are ranked by how often they occur in the data, so that index 3 stands for
    the third most frequent word. This makes it quick to keep, say, only the 10,000 most common
    words, or to leave out the 20 most common ones. By convention index 0 stands for no word:
    it is the padding value.

    The file `imdb.npz` is taken from the first of these places that has it:
    1. `path`, if it names an existing file (or a folder holding `imdb.npz`);
    2. the folder named by the environment variable `MGP_DATA_DIR`;
    3. the cache: `cache_dir` if given, else `$MGP_CACHE_DIR`, else `~/.mgp/datasets/`;
    4. otherwise it is downloaded into the cache from the URL Keras uses,
       https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz, with a progress
       bar, written atomically (an interrupted download leaves no `imdb.npz` behind) and
       checked against Keras's published SHA-256 (a cached file that does not match it is
       downloaded again).

    The reviews are stored as NumPy object arrays, that is as pickles inside the `.npz`; they
    are decoded by mgp's own reader, which accepts only arrays of lists of integers and runs no
    pickle code, so a tampered file raises a `ValueError` naming it instead of running anything.

    The data is shuffled as Keras shuffles it: the training reviews, then the test reviews, by
    one `np.random.RandomState(seed)`; with the same `seed`, mgp and Keras return the same
    arrays.

    Args:
        path: a local copy of `imdb.npz` (or a folder holding it); when no such file exists,
            the file name used in `MGP_DATA_DIR` and in the cache, as in Keras.
        num_words: integer or None. Words are ranked by how often they occur (in the training
            set) and only the `num_words` most frequent words are kept. Any less frequent word
            appears as `oov_char` in the sequences. If None, all words are kept (but for the
            one of highest index, as in Keras). Defaults to `None`.
        skip_top: skip the `skip_top` most frequent words, which may not be informative. They
            appear as `oov_char` in the sequences. When 0, no words are skipped. Defaults
            to `0`.
        maxlen: integer or None. Keep only the sequences shorter than `maxlen` (start character
            included); longer ones are left out, with their labels. None keeps all. Defaults to
            `None`.
        seed: integer. Seed for reproducible data shuffling.
        start_char: integer. Each sequence starts with this index; 0 is usually the padding
            value. None leaves sequences without one. Defaults to `1`.
        oov_char: integer. The out-of-vocabulary index: words cut by `num_words` or `skip_top`
            become this. None drops them instead. Defaults to `2`.
        index_from: integer. Actual words are indexed from this index up. Defaults to `3`.
        cache_dir: the cache folder, instead of `$MGP_CACHE_DIR` or `~/.mgp/datasets` (an mgp
            extension).

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`, `x_test`**: object arrays of sequences, each a Python list of word indices
      (integers), 25,000 each when `maxlen` is None. With `num_words`, the largest index is
      `num_words - 1`; with `maxlen`, the longest sequence has length `maxlen - 1`.

    **`y_train`, `y_test`**: integer NumPy arrays of labels (1 for positive, 0 for negative),
      one per sequence.

    **Note**: The out-of-vocabulary index is used only for words that were present in the
    training set but are cut by `num_words` or `skip_top`. Words that were not seen in the
    training set but are in the test set have simply been skipped.

    Raises:
        FileNotFoundError: no local copy, and the download failed; the message lists the
            places looked in and the URL.
        ValueError: the file is corrupted, truncated, or holds anything but the arrays of
            sequences and labels; or `maxlen` leaves no sequence in a split.
        TypeError: an argument that should be an integer is not.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = mgp.datasets.imdb.load_data(num_words=10000)
    assert x_train.shape == (25000,) and y_train.shape == (25000,)
    assert max(max(seq) for seq in x_train) < 10000
    ```
    """
    _sequences.check_arguments(num_words, skip_top, maxlen, start_char, oov_char, index_from)
    local, fname = _splits.local_path(path, "imdb.npz")
    fpath = _files.fetch(fname, ORIGIN_FOLDER + "imdb.npz", FILE_SHA256, local, cache_dir)
    a = read_npz(fpath, ["x_train", "y_train", "x_test", "y_test"])

    rng = np.random.RandomState(seed)
    splits = [Split.shuffled_from(a[f"x_{s}"], a[f"y_{s}"], rng, f"{fpath} (x_{s}, y_{s})")
              for s in ("train", "test")]
    train, test = _sequences.encode(splits, num_words, skip_top, maxlen, start_char, oov_char,
                                    index_from, require_all=True)
    return (train.keras_x(), train.labels), (test.keras_x(), test.labels)


def get_word_index(path="imdb_word_index.json", cache_dir=None):
    """Retrieves a dict mapping words to their index in the IMDB dataset.

    The file `imdb_word_index.json` is found or downloaded as `load_data` finds `imdb.npz`
    (`path`, then `MGP_DATA_DIR`, then the cache, then Keras's URL, checked against Keras's
    published MD5). It is plain JSON.

    Args:
        path: a local copy of `imdb_word_index.json` (or a folder holding it); otherwise the
            file name used in `MGP_DATA_DIR` and in the cache.
        cache_dir: the cache folder, instead of `$MGP_CACHE_DIR` or `~/.mgp/datasets`.

    Returns:
        The word index dictionary. Keys are word strings, values are their index. The indices
        in `load_data`'s sequences are these plus `index_from` (3 by default).

    Example:

    ```python
    start_char, oov_char, index_from = 1, 2, 3
    (x_train, _), _ = mgp.datasets.imdb.load_data(
        start_char=start_char, oov_char=oov_char, index_from=index_from)
    word_index = mgp.datasets.imdb.get_word_index()
    # from index to word, shifted by index_from as the sequences are
    inverted_word_index = {i + index_from: word for word, i in word_index.items()}
    inverted_word_index[start_char] = "[START]"
    inverted_word_index[oov_char] = "[OOV]"
    decoded_sequence = " ".join(inverted_word_index[i] for i in x_train[0])
    ```
    """
    return _sequences.load_word_index(path, "imdb_word_index.json",
                                      ORIGIN_FOLDER + "imdb_word_index.json", WORD_INDEX_MD5,
                                      cache_dir)
