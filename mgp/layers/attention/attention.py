"""Attention (Luong-style dot-product) and AdditiveAttention (Bahdanau-style): attention of a
query sequence over a value sequence, without projections."""
import numpy as np

from mgp import ops
from mgp.backend import xp
from mgp.layers._utils import describe, floating
from mgp.layers.attention import _masks
from mgp.layers.base import Layer
from mgp.layers.regularization.dropout import generator
from mgp.layers.symbolic import SymbolicTensor


class Attention(Layer):
    """Dot-product attention: `softmax(query @ key^T) @ value`.

    Args:
        use_scale: learn a scalar `scale` multiplying the scores.
        score_mode: 'dot' (query . key) or 'concat' (`concat_score_weight *
            sum(tanh(query + key))`).
        dropout: dropout rate on the attention distribution (in training).
        seed: seed of the dropout.

    Call: `layer([query, value])` or `layer([query, value, key])` (key = value by default),
    query (B, Tq, dim), value (B, Tv, dim), key (B, Tv, dim); `mask=[query_mask, value_mask]`
    (taken from the inputs' masks by default): masked values take no attention, masked query
    steps give 0 and the output carries the query's mask. `use_causal_mask=True` lets step i
    attend only to steps <= i; `return_attention_scores=True` also returns the (B, Tq, Tv)
    distribution. Returns (B, Tq, value dim).

    Weights: `scale` (when use_scale) and `concat_score_weight` ('concat'), scalars.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{type(self).__name__}: score_mode must be 'dot' or 'concat', "
                             f"got {score_mode!r}")
        self.use_scale, self.score_mode = bool(use_scale), score_mode
        self.dropout, self.seed = dropout, seed
        self.supports_masking = True
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.scale = self.concat_score_weight = None

    def _validate(self, inputs, mask=None):
        name = describe(self)
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
            raise ValueError(f"{name} must be called on a list [query, value] or [query, "
                             f"value, key], got {type(inputs).__name__}"
                             f"{'' if not isinstance(inputs, (list, tuple)) else ' of length'}"
                             f"{'' if not isinstance(inputs, (list, tuple)) else len(inputs)}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or
                                 not 2 <= len(mask) <= 3):
            raise ValueError(f"{name}: mask must be a list [query_mask, value_mask], got "
                             f"{mask!r}")

    def build(self, input_shape):
        self._validate(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(shape=(), initializer="ones",
                                                       name="concat_score_weight")

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -2, -1))
            return scores if self.scale is None else ops.multiply(scores, self.scale)
        summed = ops.expand_dims(query, -2) + ops.expand_dims(key, -3)  # (B, Tq, Tv, dim)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * ops.sum(ops.tanh(summed), axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        self._validate(inputs, mask)
        q, v = floating(inputs[0], self.dtype), floating(inputs[1], self.dtype)
        k = floating(inputs[2], self.dtype) if len(inputs) > 2 else v
        if q.ndim < 3 or v.ndim != q.ndim or k.shape[:-1] != v.shape[:-1] or \
                q.shape[-1] != k.shape[-1]:
            raise ValueError(f"{describe(self)} expects query (B, Tq, dim), value (B, Tv, "
                             f"vdim) and key (B, Tv, dim), got {tuple(q.shape)}, "
                             f"{tuple(v.shape)}, {tuple(k.shape)}")
        q_mask = _masks.as_bool(self, "query mask", mask[0]) if mask else None
        v_mask = _masks.as_bool(self, "value mask", mask[1]) if mask else None
        for what, m, t in (("query", q_mask, q), ("value", v_mask, v)):
            if m is not None and tuple(m.shape) != tuple(t.shape[:-1]):
                raise ValueError(f"{describe(self)}: the {what} mask must have shape "
                                 f"{tuple(t.shape[:-1])}, got {tuple(m.shape)}")
        scores = self._calculate_scores(q, k)
        allowed = None if v_mask is None else v_mask[..., None, :]
        if use_causal_mask:
            band = _masks.band(self, scores.shape[-2], scores.shape[-1], True, None)
            allowed = band if allowed is None else allowed & band
        if allowed is not None:  # Keras subtracts 1e9 where masked (65504 in float16)
            big = 65504.0 if scores.dtype == "float16" else 1.0e9
            scores = ops.where(allowed, scores, scores - scores.dtype.type(big))
        weights = ops.softmax(scores, axis=-1)
        dropped = weights
        if training and self.dropout > 0:  # the returned scores are before dropout, as Keras's
            keep = generator(self._rng).random(weights.shape, dtype=np.float32) >= self.dropout
            dropped = weights * xp.asarray(keep * weights.dtype.type(1 / (1 - self.dropout)))
        out = ops.matmul(dropped, v)
        if q_mask is not None:
            out = ops.where(xp.expand_dims(q_mask, -1), out, out.dtype.type(0))
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        self._validate(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return ops.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False, **kwargs):
        self._validate(inputs, mask)
        out = SymbolicTensor(self.compute_output_shape([t.shape for t in inputs]), self.dtype)
        if not return_attention_scores:
            return out
        key = inputs[2] if len(inputs) > 2 else inputs[1]
        return out, SymbolicTensor(tuple(inputs[0].shape[:-1]) + (key.shape[-2],),
                                   self.dtype)

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: scores `sum(scale * tanh(query + key), -1)`, with
    a learned per-feature `scale` (dim,) when use_scale (the default), then as Attention.

    Args:
        use_scale: learn `scale` (glorot_uniform initialized).
        dropout: dropout rate on the attention distribution (in training).
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(shape=(input_shape[0][-1],),
                                         initializer="glorot_uniform", name="scale")

    def _calculate_scores(self, query, key):
        summed = ops.tanh(ops.expand_dims(query, -2) + ops.expand_dims(key, -3))
        if self.scale is not None:
            summed = self.scale * summed
        return ops.sum(summed, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
