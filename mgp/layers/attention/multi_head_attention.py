"""MultiHeadAttention, as in "Attention Is All You Need": EinsumDense projections of query,
key and value into heads, scaled dot-product attention per head, an output projection."""
import math

from mgp import constraints, initializers, ops, regularizers
from mgp.layers._utils import describe, floating, serialize_initializer
from mgp.layers.activations import Softmax
from mgp.layers.attention import _masks
from mgp.layers.base import Layer
from mgp.layers.core.einsum_dense import EinsumDense
from mgp.layers.regularization.dropout import Dropout
from mgp.layers.symbolic import SymbolicTensor, get_mask


def _positive(name, value, optional=False):
    if optional and value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"MultiHeadAttention: {name} must be a positive integer"
                         f"{' or None' if optional else ''}, got {value!r}")
    return value


class _Unmasked:
    """Within it, the given tensors carry no mask (so the projections, which take none, are
    not handed one); the masks are put back after, where Keras drops them for good."""

    def __init__(self, *tensors):
        self.saved = [(t, get_mask(t)) for t in tensors if t is not None]

    def __enter__(self):
        for t, _ in self.saved:
            t._keras_mask = None

    def __exit__(self, *exc):
        for t, m in self.saved:
            t._keras_mask = m


class MultiHeadAttention(Layer):
    """Multi-head attention: `num_heads` scaled dot-product attentions of `query` over
    `key`/`value`, each in its own learned projection, joined by an output projection.

    Args:
        num_heads: number of heads. key_dim: size of each query and key head.
        value_dim: size of each value head (key_dim when None).
        dropout: dropout rate on the attention scores (in training).
        use_bias: whether the projections have biases.
        output_shape: the output's last axes (an int or tuple); the query's feature size when
            None.
        attention_axes: the axes attention runs over (the steps between batch and features
            when None; e.g. (1, 2) attends over both axes of a (batch, h, w, features) input).
        sliding_window: each position sees keys less than this many positions away.
        use_gate: a sigmoid gate (an EinsumDense `gate` on the query) multiplies the heads.
        flash_attention: accepted as Keras has it (one result either way); dropout with
            flash_attention=True is refused as Keras refuses it.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            activity_regularizer, kernel_constraint, bias_constraint: for the projections.
        seed: seed of the dropout.

    Call: `layer(query, value, key=None, attention_mask=None, return_attention_scores=False,
    training=None, use_causal_mask=False)`: query (B, T, dim), value (B, S, dim), key (B, S,
    dim), value by default; attention_mask (B, T, S) booleans, True where a query may attend.
    The query's, value's and key's masks (from Embedding(mask_zero=True), say) are combined
    into it as Keras does, and the output carries the query's mask.
    Returns (B, T, output dim), and the scores (B, heads, T, S) when asked.

    Sublayers, whose weights are Keras's in Keras's order: `query`, `key`, `value` (and
    `gate`), `attention_output`, each an EinsumDense with a `kernel` and a `bias`.

    Example:
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=16)
        >>> mha(x, x).shape          # x: (batch, steps, features) -> the same shape
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        _positive("num_heads", num_heads)
        _positive("key_dim", key_dim)
        _positive("value_dim", value_dim, optional=True)
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads, self._key_dim = num_heads, key_dim
        self._value_dim = value_dim if value_dim else key_dim
        if not 0 <= float(dropout) <= 1:
            raise ValueError(f"MultiHeadAttention: dropout must be in [0, 1], got {dropout!r}")
        self._dropout = dropout
        self._use_bias, self._use_gate = bool(use_bias), bool(use_gate)
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(f"MultiHeadAttention: output_shape must be an int, tuple or "
                                 f"list, got {output_shape!r}") from None
        self._output_shape = output_shape or None
        self._flash_attention = flash_attention
        if flash_attention and dropout > 0:
            raise ValueError("MultiHeadAttention: dropout is not supported with "
                             "flash_attention=True; set dropout=0.0")
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"MultiHeadAttention: attention_axes must be an int, list or "
                             f"tuple, got {attention_axes!r}")
        self._attention_axes = tuple(attention_axes) if attention_axes else None
        if sliding_window is not None and (not isinstance(sliding_window, int) or
                                           isinstance(sliding_window, bool) or
                                           sliding_window <= 0):
            raise ValueError(f"MultiHeadAttention: sliding_window must be None or a positive "
                             f"integer, got {sliding_window!r}")
        self._sliding_window = sliding_window
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(key_dim))

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    def _dense(self, equation, bias_axes, output_shape, name, activation=None):
        return EinsumDense(equation, output_shape=output_shape, activation=activation,
                           bias_axes=bias_axes if self._use_bias else None, name=name,
                           kernel_initializer=initializers.get(
                               initializers.serialize(self._kernel_initializer)),
                           bias_initializer=initializers.get(
                               initializers.serialize(self._bias_initializer)),
                           kernel_regularizer=self._kernel_regularizer,
                           bias_regularizer=self._bias_regularizer,
                           activity_regularizer=self._activity_regularizer,
                           kernel_constraint=self._kernel_constraint,
                           bias_constraint=self._bias_constraint, dtype=self.dtype)

    def _heads(self, rank, size, name, activation=None):
        """The projection of a rank-`rank` input into (..., heads, size)."""
        equation, bias_axes, out_rank = _masks.projection_equation(rank - 1, 1, 2)
        shape = [None] * (out_rank - 3) + [self._num_heads, size]
        return self._dense(equation, bias_axes, shape, name, activation)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        if len(query_shape) < 3 or len(value_shape) < 3:
            raise ValueError(f"{describe(self)} expects query and value of shape (batch, "
                             f"steps..., features), got {tuple(query_shape)} and "
                             f"{tuple(value_shape)}")
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"{describe(self)}: value and key must agree on every axis but "
                             f"the last, got value {tuple(value_shape)} and key "
                             f"{tuple(key_shape)}")
        # attribute order is weight order: query, key, (gate,) value, attention_output
        self._query_dense = self._heads(len(query_shape), self._key_dim, "query")
        _masks.build(self._query_dense, query_shape)
        self._key_dense = self._heads(len(key_shape), self._key_dim, "key")
        _masks.build(self._key_dense, key_shape)
        if self._use_gate:
            self._gate_dense = self._heads(len(query_shape), self._value_dim, "gate",
                                           activation="sigmoid")
            _masks.build(self._gate_dense, query_shape)
        self._value_dense = self._heads(len(value_shape), self._value_dim, "value")
        _masks.build(self._value_dense, value_shape)
        rank = len(value_shape) + 1  # the projected tensors': (batch, ..., heads, channels)
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else rank - 1 + a
                                         for a in self._attention_axes)
        self._dot_product_equation, self._combine_equation, scores_rank = \
            _masks.attention_equations(rank, self._attention_axes)
        n = len(self._attention_axes)
        self._softmax = Softmax(axis=tuple(range(scores_rank - n, scores_rank)),
                                dtype=self.dtype)
        self._dropout_layer = Dropout(rate=self._dropout, seed=self.seed, dtype=self.dtype)
        out_shape = self._output_shape or (query_shape[-1],)
        equation, bias_axes, out_rank = _masks.projection_equation(
            len(query_shape) - 1, 2, len(out_shape))
        self._output_dense = self._dense(equation, bias_axes,
                                         [None] * (out_rank - 1 - len(out_shape)) +
                                         list(out_shape), "attention_output")
        projected = list(self._query_dense.compute_output_shape(query_shape))
        projected[-1] = self._value_dim
        _masks.build(self._output_dense, tuple(projected))
        self._query_rank = len(query_shape)
        # Keras's public names for them, which its weights files use as the groups' names
        self.query_dense, self.key_dense = self._query_dense, self._key_dense
        self.value_dense, self.output_dense = self._value_dense, self._output_dense

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        query, value = floating(query, self.dtype), floating(value, self.dtype)
        key = value if key is None else floating(key, self.dtype)
        query_mask = get_mask(query)  # Keras reads the query's own mask, not the argument
        if query.ndim != self._query_rank or \
                value.shape[1:-1] != key.shape[1:-1]:
            raise ValueError(f"{describe(self)}: query {tuple(query.shape)}, value "
                             f"{tuple(value.shape)} and key {tuple(key.shape)} do not fit the "
                             f"shapes it was built for")
        # only the (batch, steps, features) case has a plain (B, T, S) mask
        flat = query.ndim == 3
        causal_only = (use_causal_mask and query_mask is None and value_mask is None and
                       key_mask is None and attention_mask is None and
                       self._sliding_window is None)
        mask = None
        if not causal_only:
            mask = _masks.attention_mask(
                self, query.shape[0], query.shape[1], value.shape[1], query_mask, value_mask,
                key_mask, attention_mask, use_causal_mask, self._sliding_window) if flat else \
                self._nd_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                              use_causal_mask)
        with _Unmasked(query, value, key):
            gate = self._gate_dense(query) if self._use_gate else None
            q, k, v = self._query_dense(query), self._key_dense(key), self._value_dense(value)
        out, scores = self._compute_attention(q, k, v, mask, training, return_attention_scores,
                                              causal_only)
        if gate is not None:
            out = ops.multiply(out, gate)
        out = self._output_dense(out)
        return (out, scores) if return_attention_scores else out

    def _nd_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask,
                 use_causal_mask):
        """The mask of inputs with more axes: attention_mask, and the causal and sliding-window
        bands over their axis 1, as Keras builds them."""
        if any(m is not None for m in (query_mask, value_mask, key_mask)):
            raise ValueError(f"{describe(self)}: masks of the query, value or key are only "
                             f"supported for (batch, steps, features) inputs; pass "
                             f"attention_mask instead")
        given = _masks.as_bool(self, "attention_mask", attention_mask)
        band = _masks.band(self, query.shape[1], value.shape[1], use_causal_mask,
                           self._sliding_window)
        return band if given is None else given if band is None else given & band

    def _compute_attention(self, query, key, value, mask, training, return_scores,
                           causal_only):
        """(output, scores or None), by Keras's two paths: the fused dot_product_attention
        when no scores are returned and nothing drops out (a fully masked row then averages
        every value, as the torch backend's kernel does), else einsums and a masked softmax
        (where a fully masked row gives 0)."""
        if not (self._dropout > 0 or return_scores or query.ndim != 4):
            if mask is not None:
                while mask.ndim < 4:
                    mask = mask[:, None] if mask.ndim == 3 else mask[None]
            return ops.dot_product_attention(query, key, value, mask=mask,
                                             scale=self._inverse_sqrt_key_dim,
                                             is_causal=causal_only), None
        if causal_only:
            mask = _masks.band(self, query.shape[1], value.shape[1], True, None)
        return _masks.softmax_attention(
            query, key, value, mask, self._inverse_sqrt_key_dim, self._softmax,
            self._dropout_layer, training, self._dot_product_equation,
            self._combine_equation, len(self._attention_axes))

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"{describe(self)}: value and key must agree on every axis but "
                             f"the last, got value {tuple(value_shape)} and key "
                             f"{tuple(key_shape)}")
        query_shape = tuple(query_shape)
        return query_shape[:-1] + self._output_shape if self._output_shape else query_shape

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False,
                            **kwargs):
        out = SymbolicTensor(self.compute_output_shape(
            query.shape, value.shape, None if key is None else key.shape), self.dtype)
        if not return_attention_scores:
            return out
        axes = self._attention_axes
        batch = [query.shape[i] for i in range(query.ndim - 1) if i not in axes]
        scores = batch[:1] + [self._num_heads] + batch[1:] + \
            [query.shape[i] for i in axes] + [value.shape[i] for i in axes]
        return out, SymbolicTensor(scores, self.dtype)

    def get_config(self):
        return {**super().get_config(), "num_heads": self._num_heads,
                "key_dim": self._key_dim, "value_dim": self._value_dim,
                "dropout": self._dropout, "use_bias": self._use_bias,
                "use_gate": self._use_gate, "output_shape": self._output_shape,
                "attention_axes": self._attention_axes,
                "sliding_window": self._sliding_window,
                "kernel_initializer": serialize_initializer(self._kernel_initializer),
                "bias_initializer": serialize_initializer(self._bias_initializer),
                "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self._bias_regularizer),
                "activity_regularizer": regularizers.serialize(self._activity_regularizer),
                "kernel_constraint": constraints.serialize(self._kernel_constraint),
                "bias_constraint": constraints.serialize(self._bias_constraint),
                "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("output_shape", "attention_axes"):
            if isinstance(config.get(key), list):
                config[key] = tuple(config[key])
        return cls(**config)
