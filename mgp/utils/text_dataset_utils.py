"""`text_dataset_from_directory`: a folder of .txt files (one subfolder per class) as a
dataset of (texts, labels) batches, as Keras makes it (see `dataset_utils`)."""
import numpy as np

from mgp.utils import dataset_utils


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """A dataset of text batches from the .txt files of a folder, with Keras's arguments
    (those of `image_dataset_from_directory` that apply to text).

    Args:
        max_length: keep at most this many characters of each text.
    Returns:
        A `BatchDataset` of `(texts, labels)` batches, texts a NumPy string array (read as
        UTF-8; Keras's tf.data gives byte strings), with `class_names` and
        `file_paths`; or a (training, validation) pair for `subset="both"`.

    Example:
        >>> train = mgp.utils.text_dataset_from_directory("aclImdb/train", batch_size=32)
        >>> texts, labels = train[0]
    """
    if format not in ("tf", "grain"):
        raise ValueError(f"text_dataset_from_directory: format must be 'tf' or 'grain', got "
                         f"{format!r}")

    def load(paths):
        texts = []
        for path in paths:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            texts.append(text if max_length is None else text[:max_length])
        return np.array(texts, dtype=str)
    return dataset_utils.from_directory(
        "text_dataset_from_directory", directory, labels, label_mode, class_names, batch_size,
        shuffle, seed, validation_split, subset, follow_links, verbose, (".txt",), load)
