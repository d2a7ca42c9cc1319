"""What IMDB and Reuters share: word-index sequences, re-indexed and filtered as Keras does.

A split is held as one flat int64 array of word indices plus the length of each sequence, so
that shifting, start markers, the `maxlen` filter and the vocabulary cut are array operations;
only at the end do the sequences become the Python lists of ints that Keras returns.
"""
import json
import operator
import os
from itertools import pairwise

import numpy as np

from mgp.datasets import _files, _splits

_MAX_WORD_INDEX_BYTES = 64 << 20  # the JSON word indices are 0.5 MB (Reuters) and 1.6 MB (IMDB)


class Split:
    """Sequences as `flat` word indices and per-sequence `lengths`, with their `labels`."""

    def __init__(self, flat, lengths, labels):
        self.flat, self.lengths, self.labels = flat, lengths, labels

    def __repr__(self):
        return f"Split({len(self.lengths)} sequences, {len(self.flat)} words)"

    @classmethod
    def shuffled_from(cls, x, y, rng, source):
        """From a file's object array `x` of sequences (int64 arrays, as `_pickle.loads` gives
        lists of ints) and its labels `y`, both checked, then shuffled by `rng` as Keras does."""
        if x.ndim != 1 or not all(type(s) is np.ndarray and s.dtype == np.int64 and s.ndim == 1
                                  for s in x):
            raise ValueError(f"{source}: should hold a 1-D array of sequences of ints, got "
                             f"shape {x.shape} with items other than lists of ints")
        if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(x):
            raise ValueError(f"{source}: labels should be integers of shape ({len(x)},) to "
                             f"match the sequences, got {y.dtype} {y.shape}")
        x, y = _splits.shuffled(rng, x, y)
        lengths = np.fromiter(map(len, x), np.int64, count=len(x))
        flat = np.concatenate([np.zeros(0, np.int64), *x])
        if flat.size and max(-flat.min(), flat.max()) >= 1 << 31:
            raise ValueError(f"{source}: holds a word index of magnitude 2**31 or more")
        return cls(flat, lengths, y)

    def __len__(self):
        return len(self.lengths)

    def keep(self, mask):
        """The sequences where `mask` is True."""
        return Split(self.flat[np.repeat(mask, self.lengths)], self.lengths[mask],
                     self.labels[mask])

    def with_markers(self, start_char, index_from):
        """Every index shifted by `index_from`, each sequence led by `start_char` (if not None)."""
        flat = self.flat + index_from
        if start_char is None:
            return Split(flat, self.lengths, self.labels)
        # sequence i's marker lands i places after its first word's old position
        marker = np.zeros(len(flat) + len(self), bool)
        marker[np.cumsum(self.lengths) - self.lengths + np.arange(len(self))] = True
        out = np.empty(len(marker), np.int64)
        out[marker], out[~marker] = start_char, flat
        return Split(out, self.lengths + 1, self.labels)

    def within_vocabulary(self, skip_top, num_words, oov_char):
        """Indices outside `[skip_top, num_words)` replaced by `oov_char`, or dropped if None."""
        inside = (self.flat >= skip_top) & (self.flat < num_words)
        if oov_char is not None:
            return Split(np.where(inside, self.flat, oov_char), self.lengths, self.labels)
        sequence = np.repeat(np.arange(len(self.lengths)), self.lengths)
        lengths = np.bincount(sequence[inside], minlength=len(self.lengths))
        return Split(self.flat[inside], lengths, self.labels)

    def split_at(self, index):
        n = np.sum(self.lengths[:index])
        return (Split(self.flat[:n], self.lengths[:index], self.labels[:index]),
                Split(self.flat[n:], self.lengths[index:], self.labels[index:]))

    def keras_x(self):
        """The sequences as Keras returns them: `np.array(list_of_lists, dtype="object")`."""
        values = self.flat.tolist()
        bounds = np.concatenate([[0], np.cumsum(self.lengths)]).tolist()
        return np.array([values[a:b] for a, b in pairwise(bounds)], dtype="object")


def encode(splits, num_words, skip_top, maxlen, start_char, oov_char, index_from,
           require_all=False):
    """Keras's steps, in Keras's order: markers and shift, the `maxlen` filter, the vocabulary.

    The vocabulary is shared by all `splits`. When `num_words` is None (or 0) it ends at the
    largest index present, which is itself cut (Keras compares `w < num_words`). With
    `require_all`, a `maxlen` that leaves a split empty is an error (as in Keras's IMDB).
    """
    splits = [s.with_markers(start_char, index_from) for s in splits]
    if maxlen:
        splits = [s.keep(s.lengths < maxlen) for s in splits]  # Keras keeps lengths < maxlen
        if require_all and not all(len(s) for s in splits):
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             f"sequence was kept. Increase maxlen.")
    if not num_words:
        if not any(s.flat.size for s in splits):
            raise ValueError(f"no word index is left to take num_words from (maxlen={maxlen})")
        num_words = max(int(s.flat.max()) for s in splits if s.flat.size)
    return [s.within_vocabulary(skip_top, num_words, oov_char) for s in splits]


def check_arguments(num_words, skip_top, maxlen, start_char, oov_char, index_from):
    """Integers where Keras's loaders take integers: a clear error instead of odd indices."""
    for name, value, optional in (("num_words", num_words, True), ("skip_top", skip_top, False),
                                  ("maxlen", maxlen, True), ("start_char", start_char, True),
                                  ("oov_char", oov_char, True), ("index_from", index_from, False)):
        if value is None and optional:
            continue
        try:
            if isinstance(value, bool):
                raise TypeError
            v = operator.index(value)
        except TypeError:
            raise TypeError(f"{name} should be an integer{' or None' if optional else ''}, got "
                            f"{value!r}") from None
        low = 0 if name in ("num_words", "skip_top", "maxlen") else -(1 << 31)
        if not low <= v < 1 << 31:
            raise ValueError(f"{name} should be an integer in [{low}, 2**31), got {value!r}")


def load_word_index(path, default_name, origin, md5, cache_dir):
    """A word index JSON file (`{"word": index}`), found or downloaded, and checked."""
    local, fname = _splits.local_path(path, default_name)
    fpath = _files.fetch(fname, origin, None, local, cache_dir, md5=md5)
    size = os.path.getsize(fpath)
    if size > _MAX_WORD_INDEX_BYTES:
        raise ValueError(f"{fpath}: {size} bytes, more than the {_MAX_WORD_INDEX_BYTES} a word "
                         f"index needs")
    try:
        with open(fpath, encoding="utf-8") as f:
            index = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{fpath}: not a valid JSON word index ({e})") from e
    if type(index) is not dict or not all(type(i) is int for i in index.values()):
        raise ValueError(f"{fpath}: a word index should be a JSON object from words to "
                         f"integers, got {type(index).__name__}")
    return index
