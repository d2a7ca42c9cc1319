"""StringLookup: strings to integer indices through a vocabulary (and back)."""
from mgp.layers._utils import describe
from mgp.layers.preprocessing.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Map strings to indices in a vocabulary, learned by `adapt(data)` or given.

    Args:
        max_tokens: the most indices (special tokens included); None for no limit.
        num_oov_indices: how many indices out-of-vocabulary strings share (hashed among them
            with Keras's hash when more than one); 0 makes them an error.
        mask_token: a string that maps to index 0 (and is left out of the encodings); None for
            no mask.
        oov_token: the string `get_vocabulary` and the inverse lookup show for OOV indices.
        vocabulary: a list or array of strings, or the path of a file of one string a line.
        idf_weights: with output_mode='tf_idf' and a vocabulary: one weight per entry.
        invert: map indices back to strings instead.
        output_mode: 'int' (indices, int64), 'one_hot', 'multi_hot', 'count' (int64, as Keras's
            torch backend gives them) or 'tf_idf' (float32).
        pad_to_max_tokens: make the encodings `max_tokens` long whatever the vocabulary size.
        sparse: only False.
        encoding: the text encoding ('utf-8').
        oov_method, salt: how OOV strings are hashed among several OOV indices.

    Example:
        >>> lookup = StringLookup()
        >>> lookup.adapt(np.array(["a", "b", "b", "c", "c", "c"]))
        >>> lookup(np.array([["c", "a", "z"]]))   # [[1, 3, 0]]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        kwargs.pop("vocabulary_dtype", None)
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def _check_token_kind(self, values, what):
        if values.dtype.kind not in "USO":
            raise TypeError(f"{describe(self)} expected strings in its {what}, got dtype "
                            f"{values.dtype}")

    def _tokens_of(self, values):
        return [v.decode(self.encoding) if isinstance(v, bytes) else str(v)
                for v in values.tolist()]

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}
