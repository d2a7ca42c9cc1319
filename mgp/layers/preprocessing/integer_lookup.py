"""IntegerLookup: integers to contiguous indices through a vocabulary (and back)."""
import numpy as np

from mgp.layers._utils import describe
from mgp.layers.preprocessing.index_lookup import IndexLookup


class IntegerLookup(IndexLookup):
    """Map integers (category ids that need not be contiguous) to indices in a vocabulary,
    learned by `adapt(data)` or given.

    Args:
        max_tokens, num_oov_indices, vocabulary, idf_weights, invert, output_mode,
        pad_to_max_tokens, sparse: as in `StringLookup`.
        mask_token: an integer that maps to index 0; None for no mask.
        oov_token: the integer shown for OOV indices (-1).
        vocabulary_dtype: only 'int64'.
        oov_method: 'floormod' (OOV integers spread over the OOV indices by value modulo
            their count) or 'farmhash' (by Keras's hash of their decimal string, with `salt`).

    Example:
        >>> lookup = IntegerLookup(vocabulary=[12, 36, 1138])
        >>> lookup(np.array([[12, 1138, 42]]))   # [[1, 3, 0]]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError(f"IntegerLookup: vocabulary_dtype must be 'int64', got "
                             f"{vocabulary_dtype!r}")
        for arg, value in (("mask_token", mask_token), ("oov_token", oov_token)):
            if value is not None and (isinstance(value, bool) or not isinstance(
                    value, (int, np.integer))):
                raise ValueError(f"IntegerLookup: {arg} must be an int or None, got {value!r}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=None if mask_token is None else int(mask_token),
                         oov_token=None if oov_token is None else int(oov_token),
                         vocabulary=vocabulary, vocabulary_dtype="int64",
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
                         oov_method=oov_method, salt=salt, name=name, **kwargs)

    def _check_token_kind(self, values, what):
        if values.dtype.kind not in "biu":
            raise TypeError(f"{describe(self)} expected integers in its {what}, got dtype "
                            f"{values.dtype}")

    def _tokens_of(self, values):
        return [int(v) for v in values.tolist()]

    def _parse_lines(self, lines):
        return [int(line) for line in lines]

    def get_config(self):
        config = super().get_config()
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
