"""What the multi-head attention layers share: the attention mask made from the inputs' masks,
the causal and sliding-window bands, and the softmax-and-combine path that returns scores."""
import string

import numpy as np

from mgp import ops
from mgp.backend import xp
from mgp.layers._utils import describe
from mgp.tensor import Tensor


def build(layer, shape):
    """Build a sublayer for `shape` now (as Keras's attention layers build their projections
    in their own build), so that its first call does not build it again."""
    layer.build(tuple(shape))
    layer.built = True
    layer._build_shapes_dict = {"input_shape": tuple(shape)}


def as_bool(layer, what, mask):
    """A mask argument (Tensor, array, list) as a boolean array."""
    if mask is None:
        return None
    data = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
    if data.dtype.kind not in "biuf":
        raise ValueError(f"{describe(layer)}: {what} must be boolean or numeric, got dtype "
                         f"{data.dtype}")
    return data.astype(bool, copy=False)


def band(layer, t, s, causal, window):
    """(1, T, S) booleans: each query position i may see key j when j <= i (causal) and
    |i - j| < window (a sliding window); None when neither applies."""
    allowed = None
    rows, cols = np.arange(t)[:, None], np.arange(s)[None, :]
    if causal:
        allowed = cols <= rows
    if window is not None:
        near = np.abs(rows - cols) < window
        allowed = near if allowed is None else allowed & near
    return None if allowed is None else xp.asarray(allowed[None])


def attention_mask(layer, batch, t, s, query_mask=None, value_mask=None, key_mask=None,
                   attention_mask=None, use_causal_mask=False, sliding_window=None):
    """The (B, T, S)-broadcastable boolean mask Keras builds: the query's mask on the rows, the
    value's and key's on the columns, the causal and sliding-window bands, and the given
    attention_mask, all combined with `and` (None when there is none). Shapes are checked."""
    def check(what, m, shape):
        if m is not None and tuple(m.shape) != shape:
            raise ValueError(f"{describe(layer)}: {what} must have shape {shape}, got "
                             f"{tuple(m.shape)}")
        return m
    q = check("query_mask", as_bool(layer, "query_mask", query_mask), (batch, t))
    v = check("value_mask", as_bool(layer, "value_mask", value_mask), (batch, s))
    k = check("key_mask", as_bool(layer, "key_mask", key_mask), (batch, s))
    out = None
    for m in (None if q is None else q[:, :, None], None if v is None else v[:, None, :],
              None if k is None else k[:, None, :], band(layer, t, s, use_causal_mask,
                                                         sliding_window)):
        if m is not None:
            out = m if out is None else out & m
    given = as_bool(layer, "attention_mask", attention_mask)
    if given is not None:
        try:
            np.broadcast_shapes(given.shape, (batch, t, s))
        except ValueError:
            raise ValueError(f"{describe(layer)}: attention_mask must broadcast to (batch, "
                             f"query steps, key steps) = {(batch, t, s)}, got "
                             f"{tuple(given.shape)}") from None
        out = given if out is None else given & out
    return out


def letters(n, start=0):
    return string.ascii_lowercase[start:start + n]


def projection_equation(free_dims, bound_dims, output_dims):
    """'abc,cde->abde' style: `free_dims` axes pass through, `bound_dims` are contracted with
    the kernel, `output_dims` come from it (they are the bias axes too)."""
    free = letters(free_dims)
    bound = letters(bound_dims, free_dims)
    made = letters(output_dims, free_dims + bound_dims)
    return f"{free}{bound},{bound}{made}->{free}{made}", made, free_dims + output_dims


def attention_equations(rank, attn_axes):
    """Keras's einsum equations for projected tensors (batch, ..., heads, channels) of `rank`:
    the key-query product (key term first), and the combination of scores with values; and
    the rank of the scores (batch dims, heads, query attention axes, key attention axes)."""
    target = letters(rank)
    batch_dims = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    spare = iter(string.ascii_lowercase[rank:])
    source = "".join(target[i] if i in batch_dims or i == rank - 1 else next(spare)
                     for i in range(rank))
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes] +
                      [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def softmax_attention(query, key, value, mask, scale, softmax, dropout, training,
                      dot_equation, combine_equation, n_attn_axes):
    """Scores by einsum, a masked softmax (masked entries 0, a fully masked row all 0, as
    Keras's Softmax layer gives), dropout on the scores, then the combination with values.
    Keras takes this path when it returns scores or drops out; returns (output, scores)."""
    query = ops.multiply(query, query.dtype.type(scale))
    scores = ops.einsum(dot_equation, key, query)
    if mask is not None:
        axis = -2 * n_attn_axes - 1
        while mask.ndim < scores.ndim:
            mask = xp.expand_dims(mask, axis)
    scores = softmax(scores, mask=None if mask is None else Tensor(mask))
    dropped = dropout(scores, training=training) if dropout.rate > 0 else scores
    return ops.einsum(combine_equation, dropped, value), scores
