"""Reuters newswire topic classification dataset."""
import numpy as np

from mgp.datasets import _files, _sequences, _splits
from mgp.datasets._pickle import read_npz
from mgp.datasets._sequences import Split

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# as published in Keras's source: SHA-256 of reuters.npz, MD5 of reuters_word_index.json
FILE_SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"

# the 46 topics, in the order of the labels
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3, cache_dir=None):
    """Loads the Reuters newswire classification dataset.

    This is a dataset of 11,228 newswires from Reuters, labeled over 46 topics. It was
    originally made by parsing and preprocessing the classic Reuters-21578 dataset.

    Each newswire is encoded as a list of word indices: words are ranked by how often they
    occur in the data, so that index 3 stands for the third most frequent word. This makes it
    quick to keep, say, only the 10,000 most common words, or to leave out the 20 most common
    ones. By convention index 0 stands for no word.

    The file `reuters.npz` is taken from the first of these places that has it:
    1. `path`, if it names an existing file (or a folder holding `reuters.npz`);
    2. the folder named by the environment variable `MGP_DATA_DIR`;
    3. the cache: `cache_dir` if given, else `$MGP_CACHE_DIR`, else `~/.mgp/datasets/`;
    4. otherwise it is downloaded into the cache from the URL Keras uses,
       https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz, with a progress
       bar, written atomically (an interrupted download leaves no `reuters.npz` behind) and
       checked against Keras's published SHA-256 (a cached file that does not match it is
       downloaded again).

    The newswires are stored as a NumPy object array, that is as a pickle inside the `.npz`;
    it is decoded by mgp's own reader, which accepts only arrays of lists of integers and runs
    no pickle code, so a tampered file raises a `ValueError` naming it instead of running
    anything.

    The newswires are shuffled by `np.random.RandomState(seed)` before the split, as Keras
    shuffles them; with the same `seed`, mgp and Keras return the same arrays.

    Args:
        path: a local copy of `reuters.npz` (or a folder holding it); when no such file exists,
            the file name used in `MGP_DATA_DIR` and in the cache, as in Keras.
        num_words: integer or None. Words are ranked by how often they occur (in the training
            set) and only the `num_words` most frequent words are kept. Any less frequent word
            appears as `oov_char` in the sequences. If None, all words are kept (but for the
            one of highest index, as in Keras). Defaults to `None`.
        skip_top: skip the `skip_top` most frequent words, which may not be informative. They
            appear as `oov_char` in the sequences. 0 means no words are skipped. Defaults
            to `0`.
        maxlen: integer or None. Keep only the sequences shorter than `maxlen` (start character
            included); longer ones are left out, with their labels. None keeps all. Defaults to
            `None`.
        test_split: float between `0.` and `1.`. Fraction of the dataset to be used as test
            data: `0.2` means that 20% of the dataset is used as test data. Defaults to `0.2`.
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
      (integers): 8,982 and 2,246 of them with the default `test_split` and no `maxlen`. With
      `num_words`, the largest index is `num_words - 1`; with `maxlen`, the longest sequence
      has length `maxlen - 1`.

    **`y_train`, `y_test`**: integer NumPy arrays of topic labels (0-45), one per sequence;
      `get_label_names()` names them.

    **Note**: The out-of-vocabulary index is used only for words that were present in the
    training set but are cut by `num_words` or `skip_top`. Words that were not seen in the
    training set but are in the test set have simply been skipped.

    Raises:
        FileNotFoundError: no local copy, and the download failed; the message lists the
            places looked in and the URL.
        ValueError: the file is corrupted, truncated, or holds anything but the arrays of
            sequences and labels; or `test_split` lies outside [0, 1].
        TypeError: an argument that should be an integer is not.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = mgp.datasets.reuters.load_data(num_words=10000)
    assert len(x_train) == 8982 and len(x_test) == 2246
    assert y_train.max() == 45
    ```
    """
    _sequences.check_arguments(num_words, skip_top, maxlen, start_char, oov_char, index_from)
    _splits.check_test_split(test_split, allow_one=True)
    local, fname = _splits.local_path(path, "reuters.npz")
    fpath = _files.fetch(fname, ORIGIN_FOLDER + "reuters.npz", FILE_SHA256, local, cache_dir)
    a = read_npz(fpath, ["x", "y"])

    rng = np.random.RandomState(seed)
    (split,) = _sequences.encode([Split.shuffled_from(a["x"], a["y"], rng, f"{fpath} (x, y)")],
                                 num_words, skip_top, maxlen, start_char, oov_char, index_from)
    train, test = split.split_at(_splits.train_size(len(split), test_split))
    return (train.keras_x(), _keras_labels(train, maxlen)), \
        (test.keras_x(), _keras_labels(test, maxlen))


def _keras_labels(split, maxlen):
    # Keras rebuilds the labels from a Python list after the maxlen filter, so an empty split's
    # labels are then float64
    return split.labels if split.labels.size or not maxlen else np.array([])


def get_word_index(path="reuters_word_index.json", cache_dir=None):
    """Retrieves a dict mapping words to their index in the Reuters dataset.

    Actual word indices start from 3, with 3 indices reserved for 0 (padding), 1 (start) and
    2 (out of vocabulary). For instance the word index of "the" is 1, but in the sequences of
    `load_data` the index of "the" is 1 + 3 = 4; to translate the sequences back to words,
    subtract 3.

    The file `reuters_word_index.json` is found or downloaded as `load_data` finds
    `reuters.npz` (`path`, then `MGP_DATA_DIR`, then the cache, then Keras's URL, checked
    against Keras's published MD5). It is plain JSON.

    Args:
        path: a local copy of `reuters_word_index.json` (or a folder holding it); otherwise
            the file name used in `MGP_DATA_DIR` and in the cache.
        cache_dir: the cache folder, instead of `$MGP_CACHE_DIR` or `~/.mgp/datasets`.

    Returns:
        The word index dictionary. Keys are word strings, values are their index.
    """
    return _sequences.load_word_index(path, "reuters_word_index.json",
                                      ORIGIN_FOLDER + "reuters_word_index.json", WORD_INDEX_MD5,
                                      cache_dir)


def get_label_names():
    """Returns the topic names as a tuple of strings, at the indices of the labels.

    Reference:

    - [Reuters Dataset](https://martin-thoma.com/nlp-reuters/)
    """
    return LABEL_NAMES
