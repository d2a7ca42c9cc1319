"""TextVectorization: text to token indices or bag-of-words vectors, in plain Python.

Each string goes through Keras's steps, done as TensorFlow's string ops do them: standardize
(ASCII lower-casing, then removing ASCII punctuation), split (on ASCII whitespace, or into
characters), n-grams (joined by a space, all the 1-grams, then the 2-grams, ...), then a
`StringLookup` with the mask token '' (index 0) and one OOV index (1).
"""
import re

import numpy as np

from mgp.layers._utils import describe
from mgp.layers.base import Layer
from mgp.layers.preprocessing.hashing import host_values
from mgp.layers.preprocessing.string_lookup import StringLookup
from mgp.tensor import Tensor

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")
PUNCTUATION = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"
_STRIP = str.maketrans("", "", PUNCTUATION)
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_WHITESPACE = re.compile("[ \t\n\v\f\r]+")  # the bytes C's isspace() accepts


def _resolve_callable(value, argument):
    """A standardize or split argument from a config: a name, or a registered function."""
    if value is None or isinstance(value, str) or callable(value):
        return value
    if isinstance(value, dict):
        from mgp.models.serialization import _registered
        name = value.get("registered_name") or value.get("config")
        for key in (name, str(name).split(">")[-1]):
            if key in _registered:
                return _registered[key]
    raise ValueError(f"TextVectorization: {argument} {value!r} names no registered function; "
                     f"register it with mgp.saving.register_serializable")


class TextVectorization(Layer):
    """Turn strings into sequences of token indices ('int') or into vectors over the
    vocabulary ('multi_hot', 'count', 'tf_idf', 'one_hot'), with a vocabulary learned by
    `adapt(texts)` (ordered by frequency, as Keras orders it) or given.

    Args:
        max_tokens: the vocabulary's size limit, the mask and OOV indices included.
        standardize: 'lower_and_strip_punctuation' (default), 'lower', 'strip_punctuation',
            None, or a function from a NumPy array of strings to one of the same shape.
        split: 'whitespace' (default), 'character', None (each string is one token), or a
            function from a 1-D NumPy array of strings to a list of token lists.
        ngrams: None, an int n (the 1- to n-grams), or a tuple of widths.
        output_mode: 'int' (int64 indices, 0 padding), 'multi_hot', 'count', 'one_hot' (int64)
            or 'tf_idf' (float32).
        output_sequence_length: with 'int', cut or pad every sequence to this length (else the
            batch's longest).
        pad_to_max_tokens: make the vectors `max_tokens` long.
        vocabulary: a list of strings or a file path; idf_weights: with 'tf_idf'.
        sparse, ragged: only False.
        encoding: 'utf-8'.

    Example:
        >>> vectorize = TextVectorization(output_sequence_length=4)
        >>> vectorize.adapt(["the cat sat", "the dog"])
        >>> vectorize(["The cat!"])   # [[2, 3, 0, 0]]
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", name=None, **kwargs):
        standardize = _resolve_callable(standardize, "standardize")
        split = _resolve_callable(split, "split")
        if not (standardize is None or callable(standardize) or standardize in STANDARDIZE):
            raise ValueError(f"TextVectorization: standardize must be one of {list(STANDARDIZE)}, "
                             f"None or a function, got {standardize!r}")
        if not (split is None or callable(split) or split in SPLIT):
            raise ValueError(f"TextVectorization: split must be one of {list(SPLIT)}, None or a "
                             f"function, got {split!r}")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool)
                                   and ngrams > 0) or
                (isinstance(ngrams, tuple) and ngrams and all(
                    isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in ngrams))):
            raise ValueError(f"TextVectorization: ngrams must be None, a positive int or a tuple "
                             f"of them, got ngrams={ngrams!r}")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(f"TextVectorization: output_sequence_length is used only with "
                                 f"output_mode='int', got output_mode={output_mode!r}")
            if isinstance(output_sequence_length, bool) or not isinstance(
                    output_sequence_length, (int, np.integer)) or output_sequence_length < 1:
                raise ValueError(f"TextVectorization: output_sequence_length must be a positive "
                                 f"int or None, got {output_sequence_length!r}")
        if sparse or ragged:
            raise ValueError("TextVectorization: sparse and ragged outputs are not supported "
                             "(mgp has neither sparse nor ragged tensors)")
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = False
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._has_input_vocabulary = has_input_vocabulary
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size, name=self.name + "_lookup")

    def build(self, input_shape=None):
        self.built = True

    # ---- the text pipeline -----------------------------------------------------------------------
    def _strings(self, inputs):
        """The inputs as a NumPy array of Python strings."""
        values = host_values(inputs) if not isinstance(inputs, (list, tuple)) \
            else np.asarray(inputs)
        if values.dtype.kind == "S":
            values = np.char.decode(values, self._encoding)
        elif values.dtype.kind == "O":
            values = np.array([v.decode(self._encoding) if isinstance(v, bytes) else v
                               for v in values.reshape(-1)], dtype=object).reshape(values.shape)
            if not all(isinstance(v, str) for v in values.reshape(-1)):
                raise TypeError(f"{describe(self)} expected strings, got "
                                f"{sorted({type(v).__name__ for v in values.reshape(-1)})}")
            values = values.astype(str)
        if values.dtype.kind != "U":
            raise TypeError(f"{describe(self)} expected strings, got dtype {values.dtype} "
                            f"(shape {values.shape})")
        return values

    def _standardized(self, strings):
        if callable(self._standardize):
            return np.asarray(self._standardize(strings), dtype=str)
        if self._standardize is None:
            return strings
        flat = strings.reshape(-1).tolist()
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            flat = [s.translate(_LOWER) for s in flat]
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            flat = [s.translate(_STRIP) for s in flat]
        return np.array(flat, dtype=str).reshape(strings.shape)

    def _ngrams_of(self, tokens):
        out = []
        for n in self._ngrams:
            out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
        return out

    def _preprocess(self, inputs):
        """The standardized inputs split into tokens: a list of token lists (one per string)
        with a splitter, else the array of standardized strings."""
        strings = self._standardized(self._strings(inputs))
        if self._split is None:
            if self._ngrams is not None:
                raise ValueError(f"{describe(self)}: ngrams need split (the n-grams of one "
                                 f"token are the token)")
            return strings
        if strings.ndim > 1:
            if strings.shape[-1] != 1:
                raise ValueError(f"{describe(self)}: to split strings, the inputs must be 1-D "
                                 f"or have a last axis of 1, got shape {strings.shape}")
            strings = strings[..., 0]
        if strings.ndim > 1:
            raise ValueError(f"{describe(self)}: inputs of shape {strings.shape + (1,)} have "
                             f"too many axes; give (batch,) or (batch, 1)")
        flat = strings.reshape(-1).tolist()
        if callable(self._split):
            docs = [list(map(str, doc)) for doc in self._split(np.asarray(flat, dtype=str))]
        elif self._split == "whitespace":
            docs = [[t for t in _WHITESPACE.split(s) if t] for s in flat]
        else:
            docs = [list(s) for s in flat]
        if self._ngrams is not None:
            docs = [self._ngrams_of(doc) for doc in docs]
        return docs

    # ---- vocabulary ----------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary from texts: an array or list of strings, or an iterable of
        batches of them (at most `steps`)."""
        if self._has_input_vocabulary:
            raise ValueError(f"{describe(self)} was given a vocabulary (argument or "
                             f"set_vocabulary()); adapt() cannot learn one")
        if isinstance(data, (list, tuple, np.ndarray, Tensor, str)):
            batches = [np.asarray([data]) if isinstance(data, str) else data]
        elif hasattr(data, "__iter__"):
            batches = [b for i, b in enumerate(data) if steps is None or i < steps]
        else:
            raise TypeError(f"{describe(self)}: adapt() takes strings (an array, a list or an "
                            f"iterable of batches), got {type(data).__name__}")
        documents = []
        for batch in batches:
            tokens = self._preprocess(batch)
            if isinstance(tokens, np.ndarray):  # no splitting: rows of whole strings
                rows = tokens.reshape(len(tokens), -1) if tokens.ndim else tokens.reshape(1, 1)
                tokens = [row.tolist() for row in rows]
            documents.extend(tokens)
        self._lookup_layer._learn(documents)

    def get_vocabulary(self, include_special_tokens=True):
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)
        self._has_input_vocabulary = True

    # ---- call ----------------------------------------------------------------------------------
    def _output_dtype(self, inputs):
        # Keras's symbolic dtype: int64 indices, else floatx (though its encodings are int64
        # tensors but for tf_idf)
        return np.dtype("int64") if self._output_mode == "int" else np.dtype("float32")

    def call(self, inputs):
        lookup = self._lookup_layer
        lookup._check_vocabulary_known()
        tokens = self._preprocess(inputs)
        if isinstance(tokens, np.ndarray):  # no splitting: a lookup of whole strings
            out = lookup._lookup(tokens)
            if self._output_mode != "int":
                return Tensor(lookup._encode(out))
            n = self._output_sequence_length
            if n is not None and out.ndim:
                out = out[..., :n]
                out = np.pad(out, [(0, 0)] * (out.ndim - 1) + [(0, n - out.shape[-1])])
            return Tensor(out)
        flat = [t for doc in tokens for t in doc]
        indices = lookup._lookup(np.asarray(flat, dtype=str)) if flat else \
            np.zeros(0, np.int64)
        bounds = np.cumsum([0] + [len(doc) for doc in tokens])
        rows = [indices[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        if self._output_mode != "int":
            if self._output_mode == "one_hot":
                raise ValueError(f"{describe(self)}: output_mode='one_hot' needs one token per "
                                 f"input (split=None); got split={self._split!r}")
            return Tensor(lookup._encode_rows(rows))
        length = self._output_sequence_length
        if length is None:
            length = max((len(r) for r in rows), default=0)
        out = np.zeros((len(rows), length), dtype=np.int64)
        for i, r in enumerate(rows):  # one slice per string
            out[i, :min(len(r), length)] = r[:length]
        return Tensor(out)

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            if self._split is None:
                shape = tuple(input_shape)
                if self._output_sequence_length is not None and len(shape) > 1:
                    shape = shape[:-1] + (self._output_sequence_length,)
                return shape
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            shape = tuple(input_shape) + ((1,) if len(input_shape) <= 1 else ())
        else:
            shape = tuple(input_shape) + (None,)
        return self._lookup_layer.compute_output_shape(shape)

    # ---- config and files ----------------------------------------------------------------------
    def get_config(self):
        lookup = self._lookup_layer
        return {**super().get_config(), "max_tokens": lookup.max_tokens,
                "standardize": self._standardize, "split": self._split,
                "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": False,
                "ragged": False, "vocabulary": _as_list(lookup.input_vocabulary),
                "idf_weights": _as_list(lookup.input_idf_weights), "encoding": self._encoding,
                "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config):
        return cls(**dict(config))

    def save_own_variables(self, store):
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store):
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)


def _as_list(x):
    if isinstance(x, Tensor):
        x = host_values(x)
    return x.tolist() if isinstance(x, np.ndarray) else x
