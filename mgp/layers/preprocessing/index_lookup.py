"""The lookup layers' common part: a vocabulary mapping tokens to indices (and back), learned by
`adapt` with Keras's ordering or set directly, and the encodings of the indices. Plain Python
and NumPy: each call looks up the distinct tokens once.

Indices, as Keras lays them out: the mask token (0, when there is one and the output is
'int'), then `num_oov_indices` out-of-vocabulary indices, then the vocabulary by decreasing
frequency (ties broken by the larger token first).
"""
import collections
import os

import numpy as np

from mgp.layers._utils import describe
from mgp.layers.base import Layer
from mgp.layers.preprocessing.hashing import hash_to_buckets, host_values, parse_salt
from mgp.tensor import Tensor

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _listify(x):
    if isinstance(x, Tensor):
        x = host_values(x)
    if isinstance(x, np.ndarray):
        x = x.tolist()
    return x


class IndexLookup(Layer):
    """Base of `StringLookup` and `IntegerLookup` (see those for the arguments)."""

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 sparse=False, pad_to_max_tokens=False, oov_method="floormod", name=None,
                 salt=None, **kwargs):
        cls = type(self).__name__
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(
                max_tokens, (int, np.integer)) or max_tokens <= 1):
            raise ValueError(f"{cls}: max_tokens must be an int > 1 when set, got "
                             f"max_tokens={max_tokens!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{cls}: pad_to_max_tokens=True needs max_tokens")
        if isinstance(num_oov_indices, bool) or not isinstance(
                num_oov_indices, (int, np.integer)) or num_oov_indices < 0:
            raise ValueError(f"{cls}: num_oov_indices must be an int >= 0, got "
                             f"num_oov_indices={num_oov_indices!r}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{cls}: oov_method must be 'floormod' or 'farmhash', got "
                             f"{oov_method!r}")
        if salt is not None and vocabulary_dtype == "int64" and oov_method != "farmhash":
            raise ValueError(f"{cls}: salt is used only with oov_method='farmhash', got "
                             f"oov_method={oov_method!r}")
        salt = parse_salt(cls, salt)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"{cls}: output_mode must be one of {list(OUTPUT_MODES)}, got "
                             f"{output_mode!r}")
        if invert and output_mode != "int":
            raise ValueError(f"{cls}: invert=True needs output_mode='int', got "
                             f"{output_mode!r}")
        if sparse:
            raise ValueError(f"{cls}: sparse=True is not supported (mgp has no sparse tensors)")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{cls}: idf_weights are used only with output_mode='tf_idf', got "
                             f"output_mode={output_mode!r}")
        frozen = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        self.invert = bool(invert)
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens, self._index = [], {}
        self.idf_weights = None
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError(f"{cls}: output_mode='tf_idf' with a vocabulary needs idf_weights "
                             f"too")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            self.idf_weights = np.asarray(idf_weights, dtype=np.float32)

    # ---- the index layout ----------------------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The number of indices: special tokens and the vocabulary."""
        return len(self._tokens) + self._token_start_index()

    def _record_vocabulary_size(self):
        if self.output_mode != "int" and not self.pad_to_max_tokens and \
                self._frozen_vocab_size is not None and \
                self.vocabulary_size() != self._frozen_vocab_size:
            raise RuntimeError(f"{describe(self)}: with output_mode={self.output_mode!r} and "
                               f"pad_to_max_tokens=False the vocabulary size cannot change "
                               f"after the layer is used; it was {self._frozen_vocab_size}, "
                               f"the new one is {self.vocabulary_size()}")
        self._frozen_vocab_size = self.vocabulary_size()

    def get_vocabulary(self, include_special_tokens=True):
        """The tokens by index: with the mask and OOV tokens first unless
        `include_special_tokens=False`."""
        vocab = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    # ---- setting the vocabulary ----------------------------------------------------------------
    def _check_token_kind(self, values, what):
        raise NotImplementedError

    def _read_vocabulary_file(self, path):
        if not os.path.isfile(path):
            raise ValueError(f"{describe(self)}: vocabulary file {path!r} does not exist")
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        return self._parse_lines(lines)

    def _parse_lines(self, lines):
        return lines

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (and, for output_mode='tf_idf', the idf weights): a list or
        array of distinct tokens, optionally starting with the special tokens in their layout,
        or the path of a text file with one token per line. Checked whole before anything
        changes."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"{describe(self)}: output_mode='tf_idf' needs idf_weights "
                                 f"with the vocabulary")
        elif idf_weights is not None:
            raise ValueError(f"{describe(self)}: idf_weights are used only with "
                             f"output_mode='tf_idf', not {self.output_mode!r}")
        if isinstance(vocabulary, str):
            if self.output_mode == "tf_idf":
                raise ValueError(f"{describe(self)}: output_mode='tf_idf' cannot read its "
                                 f"vocabulary from a file")
            vocabulary = self._read_vocabulary_file(vocabulary)
        vocabulary = np.asarray(_listify(vocabulary))
        if vocabulary.size == 0:
            raise ValueError(f"{describe(self)}: cannot set an empty vocabulary")
        if vocabulary.ndim != 1:
            raise ValueError(f"{describe(self)}: the vocabulary must be a flat list of tokens, "
                             f"got shape {vocabulary.shape}")
        self._check_token_kind(vocabulary, "vocabulary")
        oov_start, token_start = self._oov_start_index(), self._token_start_index()
        special = [self.mask_token] * oov_start + [self.oov_token] * self.num_oov_indices
        found_special = len(vocabulary) >= token_start and \
            [v for v in vocabulary[:token_start].tolist()] == special
        tokens = vocabulary[token_start:] if found_special else vocabulary
        tokens = tokens.tolist()
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(f"{describe(self)}: the vocabulary repeats {repeated}; make its "
                             f"tokens unique")
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(f"{describe(self)}: the mask token {self.mask_token!r} is in the "
                             f"vocabulary at an unexpected place; leave the special tokens "
                             f"out, or put them first in this order: {special}")
        if self.oov_token is not None and self.invert and self.oov_token in tokens:
            raise ValueError(f"{describe(self)}: the OOV token {self.oov_token!r} is in the "
                             f"vocabulary at an unexpected place; leave the special tokens "
                             f"out, or put them first in this order: {special}")
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(f"{describe(self)}: a vocabulary of {token_start + len(tokens)} "
                             f"indices (special tokens included) exceeds "
                             f"max_tokens={self.max_tokens}")
        weights = None
        if self.output_mode == "tf_idf":
            idf = np.asarray(_listify(idf_weights), dtype=np.float64)
            if idf.ndim != 1 or len(idf) != len(vocabulary):
                raise ValueError(f"{describe(self)}: idf_weights must be 1-D with one weight per "
                                 f"vocabulary entry ({len(vocabulary)}), got shape {idf.shape}")
            front, front_value = (0, 0) if found_special else (token_start, np.average(idf))
            back = self.max_tokens - front - len(idf) if self.pad_to_max_tokens else 0
            weights = np.pad(idf, (front, back), constant_values=(front_value, 0))
        previous = (self._tokens, self._index, self._frozen_vocab_size)
        self._tokens = tokens
        self._index = {t: token_start + i for i, t in enumerate(tokens)}
        try:
            self._record_vocabulary_size()
        except RuntimeError:
            self._tokens, self._index, self._frozen_vocab_size = previous
            raise
        if weights is not None:
            self.idf_weights = weights.astype(np.float32)

    # ---- adapt ---------------------------------------------------------------------------------
    def adapt(self, data, steps=None):
        """Learn the vocabulary from `data`: an array or list (each row a document; a flat
        array is one token per document), or an iterable of batches (at most `steps`). The
        tokens are ordered by decreasing count, ties by the larger token first, and cut to
        `max_tokens`; with output_mode='tf_idf' the idf weights are learned too."""
        if self._has_input_vocabulary:
            raise ValueError(f"{describe(self)} was given a vocabulary (argument or "
                             f"set_vocabulary()); adapt() cannot learn one")
        if isinstance(data, (list, tuple, np.ndarray, Tensor)):
            batch = host_values(data) if not isinstance(data, (list, tuple)) else np.asarray(data)
            if batch.ndim == 1:
                batch = batch[:, None]
            batches = [batch]
        elif hasattr(data, "__iter__"):
            batches = [host_values(b) for i, b in enumerate(data)
                       if steps is None or i < steps]
        else:
            raise TypeError(f"{describe(self)}: adapt() takes an array, a list or an iterable of "
                            f"batches, got {type(data).__name__}")
        documents = []
        for batch in batches:
            batch = np.asarray(batch)
            self._check_token_kind(batch, "adapt() data")
            if batch.ndim == 0:
                batch = batch[None]
            if batch.ndim == 1:
                batch = batch[None]
            documents.extend(self._tokens_of(row.reshape(-1)) for row in batch)
        self._learn(documents)

    def _learn(self, documents):
        """Set the vocabulary (and idf weights) from documents, each a list of tokens."""
        counts = collections.Counter(t for doc in documents for t in doc)
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        if not counts:
            self._record_vocabulary_size()
            return
        order = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start_index()]
        weights = None
        if self.output_mode == "tf_idf":
            doc_counts = collections.Counter(t for doc in documents for t in set(doc))
            idf = np.log(1 + len(documents) / (1 + np.array([doc_counts[t] for t in order],
                                                            dtype=np.float64)))
            idf = idf.astype(np.float32)
            weights = np.pad(idf, (self._token_start_index(), 0), constant_values=idf.mean())
            if self.pad_to_max_tokens and self.max_tokens is not None:
                weights = np.pad(weights, (0, self.max_tokens - len(weights)))
        previous = (self._tokens, self._index, self._frozen_vocab_size)
        self._tokens = order
        self._index = {t: self._token_start_index() + i for i, t in enumerate(order)}
        try:
            self._record_vocabulary_size()
        except RuntimeError:
            self._tokens, self._index, self._frozen_vocab_size = previous
            raise
        if weights is not None:
            self.idf_weights = weights.astype(np.float32)

    def _tokens_of(self, values):
        """Python tokens of a flat array (str or int), as the vocabulary holds them."""
        return values.tolist()

    # ---- call ----------------------------------------------------------------------------------
    def _output_dtype(self, inputs):
        if self.invert:
            return np.dtype(str) if self.vocabulary_dtype == "string" else np.dtype("int64")
        # Keras's symbolic dtype: int64 indices, else floatx (though its encodings are int64
        # tensors but for tf_idf)
        return np.dtype("int64") if self.output_mode == "int" else np.dtype("float32")

    def _lookup(self, values):
        """Indices (int64) of a token array, with the mask, OOV and hashing rules."""
        unique, inverse = np.unique(values.reshape(-1), return_inverse=True)
        default = self._oov_start_index() if self.num_oov_indices == 1 else -1
        tokens = self._tokens_of(unique)
        found = np.array([self._index.get(t, default) for t in tokens], dtype=np.int64)
        if self.num_oov_indices == 0 and np.any(found == -1):
            missing = [t for t, i in zip(tokens, found) if i == -1 and t != self.mask_token]
            if missing:
                raise ValueError(f"{describe(self)}: with num_oov_indices=0 every input must be "
                                 f"in the vocabulary, got {missing[:10]}")
        if self.num_oov_indices > 1:
            oov = found == -1
            if np.any(oov):
                if self.vocabulary_dtype == "int64" and self.oov_method != "farmhash":
                    buckets = np.mod(unique[oov].astype(np.int64), self.num_oov_indices)
                else:
                    buckets = hash_to_buckets(unique[oov], self.num_oov_indices, self.salt)
                found[oov] = buckets + self._oov_start_index()
        if self.mask_token is not None:
            masked = np.array([t == self.mask_token for t in tokens], dtype=bool)
            found[masked] = 0 if self.output_mode == "int" else np.iinfo(np.int64).max
        return found[inverse].reshape(values.shape)

    def _invert(self, values):
        if values.dtype.kind not in "biu":
            raise TypeError(f"{describe(self)} (invert=True) expected integer indices, got "
                            f"dtype {values.dtype}")
        vocab = self.get_vocabulary()
        table = np.array(vocab + [self.oov_token], dtype=object)
        index = np.where((values >= 0) & (values < len(vocab)), values, len(vocab))
        out = table[index]
        if self.vocabulary_dtype == "string":
            return out.astype(str)
        return out.astype(np.int64)

    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    def _encode(self, indices):
        """TensorFlow's encoding of lookups, as Keras uses it: counts along the last axis, one
        row per sample (a 1-D input is one sample; one_hot gives each value its row)."""
        x = indices
        if x.ndim == 0:
            x = x[None]
        if self.output_mode == "one_hot" and x.shape[-1] != 1:
            x = x[..., None]
        if x.ndim > 2:
            raise ValueError(f"{describe(self)}: output_mode={self.output_mode!r} takes inputs "
                             f"of rank 2 at most, got shape {indices.shape}")
        out = self._encode_rows(list(x) if x.ndim == 2 else [x])
        return out if x.ndim == 2 else out[0]

    def _encode_rows(self, rows):
        """(len(rows), depth) counts of each row's indices (indices at or past the depth, the
        mask in these modes, are left out), binary for one_hot / multi_hot, times the idf
        weights for tf_idf."""
        depth = self._depth()
        counts = np.zeros((len(rows), depth), dtype=np.int64)
        lengths = [len(r) for r in rows]
        flat = np.concatenate([np.asarray(r, dtype=np.int64).reshape(-1) for r in rows]) \
            if rows else np.zeros(0, np.int64)
        row_of = np.repeat(np.arange(len(rows)), lengths)
        valid = (flat >= 0) & (flat < depth)
        np.add.at(counts, (row_of[valid], flat[valid]), 1)
        if self.output_mode in ("multi_hot", "one_hot"):
            counts = np.minimum(counts, 1)
        if self.output_mode == "tf_idf":
            return counts.astype(np.float32) * self.idf_weights
        return counts

    def _check_vocabulary_known(self):
        if self.output_mode != "int" and not self.pad_to_max_tokens and \
                self._frozen_vocab_size is None:
            raise RuntimeError(f"{describe(self)}: with output_mode={self.output_mode!r} and "
                               f"pad_to_max_tokens=False the vocabulary must be set (vocabulary= "
                               f"or adapt()) before the layer is called")

    def call(self, inputs):
        self._check_vocabulary_known()
        values = host_values(inputs)
        if self.invert:
            return Tensor(self._invert(values))
        self._check_token_kind(values, "inputs")
        indices = self._lookup(values)
        if self.output_mode == "int":
            return Tensor(indices)
        return Tensor(self._encode(indices))

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self._depth()
        shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(shape) > 1 and shape[-1] == 1:
                return shape[:-1] + (depth,)
            return shape + (depth,)
        return shape[:-1] + (depth,)

    # ---- config and files ----------------------------------------------------------------------
    def get_config(self):
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype,
                "idf_weights": _listify(self.input_idf_weights),
                "vocabulary": _listify(self.input_vocabulary),
                "vocabulary_size": self._frozen_vocab_size, "oov_method": self.oov_method,
                "salt": self.salt}

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.built = True

    def save_own_variables(self, store):
        """The idf weights (output_mode='tf_idf'), under Keras's key."""
        if self.output_mode == "tf_idf":
            store["idf_weights"] = np.asarray(self.idf_weights, dtype=np.float32)

    def load_own_variables(self, store):
        if self.output_mode == "tf_idf":
            self.idf_weights = np.asarray(store["idf_weights"], dtype=np.float32)

    def save_assets(self, dir_path):
        """The learned vocabulary as `vocabulary.txt` in `dir_path` (one token a line, special
        tokens first), as Keras writes it into a `.keras` file's assets."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary(include_special_tokens=True)))

    def load_assets(self, dir_path):
        if self.input_vocabulary is not None:
            return
        path = os.path.join(dir_path, "vocabulary.txt")
        values = self._read_vocabulary_file(path)
        if self.output_mode == "tf_idf":
            # the saved weights may be padded to max_tokens; set_vocabulary pads them again
            self.set_vocabulary(values, idf_weights=self.idf_weights[:len(values)])
        else:
            self.set_vocabulary(values)
