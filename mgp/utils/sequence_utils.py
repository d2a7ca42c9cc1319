"""`pad_sequences`: a list of sequences of different lengths as one array."""
import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pad (or truncate) each sequence to the same length, as Keras does.

    Args:
        sequences: a list of sequences (lists or arrays; each element a number, or an array of
            one common shape).
        maxlen: the length of the result; the longest sequence's by default.
        dtype: the result's dtype ('int32'; `object` for strings).
        padding: 'pre' (pad before the sequence) or 'post' (after).
        truncating: 'pre' (drop the start of a longer sequence) or 'post' (its end).
        value: the padding value.
    Returns:
        an array of shape `(len(sequences), maxlen) + element shape`.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
        array([[2, 3],
               [0, 4]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: sequences must be a list of sequences, got "
                         f"{type(sequences).__name__}")
    if padding not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding must be 'pre' or 'post', got {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: truncating must be 'pre' or 'post', got "
                         f"{truncating!r}")
    arrays = []
    for i, s in enumerate(sequences):
        if not hasattr(s, "__len__"):
            raise ValueError(f"pad_sequences: sequences must be a list of sequences; the one at "
                             f"position {i} is not a sequence: {s!r}")
        arrays.append(np.asarray(s, dtype=dtype) if len(s) else None)
    element = next((a.shape[1:] for a in arrays if a is not None), ())
    for i, a in enumerate(arrays):
        if a is not None and a.shape[1:] != element:
            raise ValueError(f"pad_sequences: the elements of the sequence at position {i} have "
                             f"shape {a.shape[1:]}, the first non-empty one's have {element}")
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(f"pad_sequences: dtype {dtype} does not hold the string padding value "
                         f"{value!r}; use dtype=object for strings of any length")
    lengths = np.array([0 if a is None else len(a) for a in arrays], dtype=np.int64)
    if maxlen is None:
        maxlen = int(lengths.max()) if len(lengths) else 0
    out = np.full((len(arrays), maxlen) + element, value, dtype=dtype)
    kept = np.minimum(lengths, maxlen)
    if not kept.sum():
        return out
    flat = np.concatenate([a for a in arrays if a is not None])
    # every kept element in one assignment: its row, its place in the row and in `flat`
    starts = np.cumsum(lengths) - lengths
    if truncating == "pre":
        starts = starts + lengths - kept
    rows = np.repeat(np.arange(len(arrays)), kept)
    within = np.arange(kept.sum()) - np.repeat(np.cumsum(kept) - kept, kept)
    columns = within + (np.repeat(maxlen - kept, kept) if padding == "pre" else 0)
    out[rows, columns] = flat[np.repeat(starts, kept) + within]
    return out
