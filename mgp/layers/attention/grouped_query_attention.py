"""GroupQueryAttention: multi-head attention where groups of query heads share key and value
heads (fewer key/value projections, as in Llama and Mistral)."""
import math

from mgp import constraints, initializers, ops, regularizers
from mgp.layers._utils import describe, floating, serialize_initializer
from mgp.layers.activations import Softmax
from mgp.layers.attention import _masks
from mgp.layers.attention.multi_head_attention import _Unmasked
from mgp.layers.base import Layer
from mgp.layers.core.einsum_dense import EinsumDense
from mgp.layers.regularization.dropout import Dropout
from mgp.layers.symbolic import SymbolicTensor


class GroupedQueryAttention(Layer):
    """Grouped-query attention (Keras's `layers.GroupQueryAttention`): `num_query_heads`
    heads of size `head_dim`, each group of num_query_heads / num_key_value_heads of them
    attending with one shared key and value head.

    Args:
        head_dim: size of each head. num_query_heads, num_key_value_heads: the head counts
            (the second divides the first).
        dropout, use_bias, sliding_window, use_gate, flash_attention, seed, and the
            initializer / regularizer / constraint arguments: as MultiHeadAttention's.

    Call: `layer(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)` on (batch, steps, features) inputs; returns (B, T, features)
    (the query's feature size), and the scores (B, num_query_heads, T, S) when asked.

    Sublayers, Keras's: `query`, `key`, (`gate`,) `value`, `attention_output` (EinsumDense).
    """

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                 use_bias=True, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 **kwargs):
        # Keras's applies the activity regularizer to its own outputs and its projections'
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for name, value in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                            ("num_key_value_heads", num_key_value_heads)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"GroupQueryAttention: {name} must be a positive integer, "
                                 f"got {value!r}")
        if num_query_heads % num_key_value_heads:
            raise ValueError(f"GroupQueryAttention: num_query_heads ({num_query_heads}) must "
                             f"be divisible by num_key_value_heads ({num_key_value_heads})")
        if sliding_window is not None and (not isinstance(sliding_window, int) or
                                           sliding_window <= 0):
            raise ValueError(f"GroupQueryAttention: sliding_window must be None or a positive "
                             f"integer, got {sliding_window!r}")
        if flash_attention and dropout > 0:
            raise ValueError("GroupQueryAttention: dropout is not supported with "
                             "flash_attention=True; set dropout=0.0")
        self.supports_masking = True
        self.head_dim, self.num_query_heads = head_dim, num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout, self.use_bias, self.use_gate = dropout, bool(use_bias), bool(use_gate)
        self.sliding_window = sliding_window
        self._flash_attention = flash_attention
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(head_dim))

    def _dense(self, equation, shape, bias_axes, name, activation=None):
        return EinsumDense(equation, output_shape=shape, activation=activation,
                           bias_axes=bias_axes if self.use_bias else None, name=name,
                           kernel_initializer=initializers.get(
                               initializers.serialize(self.kernel_initializer)),
                           bias_initializer=initializers.get(
                               initializers.serialize(self.bias_initializer)),
                           kernel_regularizer=self.kernel_regularizer,
                           bias_regularizer=self.bias_regularizer,
                           activity_regularizer=self.activity_regularizer,
                           kernel_constraint=self.kernel_constraint,
                           bias_constraint=self.bias_constraint, dtype=self.dtype)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for what, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(f"{describe(self)} expects {what} of shape (batch, steps, "
                                 f"features), got {tuple(shape)}")
        self.feature_dim = query_shape[-1]
        n, kv, h = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self._query_dense = self._dense("bqm,muh->bquh", (None, n, h), "uh", "query")
        _masks.build(self._query_dense, query_shape)
        self._key_dense = self._dense("bkm,mvh->bkvh", (None, kv, h), "vh", "key")
        _masks.build(self._key_dense, key_shape)
        if self.use_gate:
            self._gate_dense = self._dense("bqm,muh->bquh", (None, n, h), "uh", "gate",
                                           activation="sigmoid")
            _masks.build(self._gate_dense, query_shape)
        self._value_dense = self._dense("bkm,mvh->bkvh", (None, kv, h), "vh", "value")
        _masks.build(self._value_dense, value_shape)
        self._softmax = Softmax(axis=-1, dtype=self.dtype)
        self._dropout_layer = Dropout(rate=self.dropout, seed=self.seed, dtype=self.dtype)
        self._output_dense = self._dense("bquh,uhm->bqm", (None, self.feature_dim), "m",
                                         "attention_output")
        _masks.build(self._output_dense, (None, None, n, h))

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        query, value = floating(query, self.dtype), floating(value, self.dtype)
        key = value if key is None else floating(key, self.dtype)
        if query.ndim != 3 or value.ndim != 3 or key.ndim != 3 or \
                key.shape[1] != value.shape[1]:
            raise ValueError(f"{describe(self)} expects query (B, T, dim), value and key (B, "
                             f"S, dim), got {tuple(query.shape)}, {tuple(value.shape)}, "
                             f"{tuple(key.shape)}")
        causal_only = (use_causal_mask and query_mask is None and value_mask is None and
                       key_mask is None and attention_mask is None and
                       self.sliding_window is None)
        mask = None if causal_only else _masks.attention_mask(
            self, query.shape[0], query.shape[1], value.shape[1], query_mask, value_mask,
            key_mask, attention_mask, use_causal_mask, self.sliding_window)
        with _Unmasked(query, value, key):
            gate = self._gate_dense(query) if self.use_gate else None
            q, k, v = self._query_dense(query), self._key_dense(key), self._value_dense(value)
        if not (self.dropout > 0 or return_attention_scores):
            # the fused op serves each key head's group of query heads without repeating it
            if mask is not None:
                mask = mask[:, None] if mask.ndim == 3 else mask
            out = ops.dot_product_attention(q, k, v, mask=mask,
                                            scale=self._inverse_sqrt_head_dim,
                                            is_causal=causal_only)
            scores = None
        else:
            k = ops.repeat(k, self.num_repeats, axis=2)
            v = ops.repeat(v, self.num_repeats, axis=2)
            if causal_only:
                mask = _masks.band(self, q.shape[1], v.shape[1], True, None)
            # Keras's equations: 'bquh,bkuh->buqk' (query first), then 'buqk,bkuh->bquh'
            out, scores = _masks.softmax_attention(
                q, k, v, mask, self._inverse_sqrt_head_dim, self._softmax,
                self._dropout_layer, training, "bkuh,bquh->buqk", "buqk,bkuh->bquh", 1)
        if gate is not None:
            out = ops.multiply(out, gate)
        out = self._output_dense(out)
        return (out, scores) if return_attention_scores else out

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(f"{describe(self)}: query and value must have the same last "
                             f"dimension, got {tuple(query_shape)} and {tuple(value_shape)}")
        return tuple(query_shape)

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False,
                            **kwargs):
        out = SymbolicTensor(self.compute_output_shape(query.shape, value.shape), self.dtype)
        if not return_attention_scores:
            return out
        source = value if key is None else key
        return out, SymbolicTensor((query.shape[0], self.num_query_heads, query.shape[1],
                                    source.shape[1]), self.dtype)

    def get_config(self):
        return {**super().get_config(), "head_dim": self.head_dim,
                "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "sliding_window": self.sliding_window,
                "dropout": self.dropout,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "seed": self.seed}


GroupQueryAttention = GroupedQueryAttention  # the name Keras exports it under
