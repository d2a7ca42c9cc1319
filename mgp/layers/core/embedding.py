"""Embedding (integer indices -> dense vectors) and ReversibleEmbedding (which can also project
vectors back onto the vocabulary with the same table)."""
import warnings

import numpy as np

from mgp import constraints, initializers, ops, regularizers
from mgp.backend import xp
from mgp.layers._utils import describe, serialize_initializer
from mgp.layers.base import Layer
from mgp.layers.symbolic import SymbolicTensor, probing
from mgp.tensor import Tensor


def _positive_int(layer, name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


class Embedding(Layer):
    """Turns non-negative integer indices into dense vectors: row `i` of the `embeddings` table.

    Args:
        input_dim: size of the vocabulary (largest index + 1).
        output_dim: size of each vector.
        embeddings_initializer: Keras's default 'uniform' (in [-0.05, 0.05]).
        embeddings_regularizer, embeddings_constraint: a penalty on / a projection of the table.
        mask_zero: index 0 is padding: the outputs carry a mask (batch, ...) that is False
            where the index is 0 (so input_dim must count 0 too).
        weights: optional initial value of the table, as a one-element list (Keras's argument).

    Inputs: integers of any shape (floats holding integral values are accepted, as Keras casts
    them); outputs: inputs.shape + (output_dim,), float32. An index that is negative, not below
    `input_dim`, or not an integer raises a ValueError naming the layer, before anything runs.

    Weights: `embeddings` (input_dim, output_dim). Its gradient is scattered into the rows the
    batch used (repeated indices add up), never a dense one-hot product.

    Example:
        >>> layer = Embedding(1000, 64, mask_zero=True)
        >>> y = layer(np.array([[4, 20, 0]]))
        >>> y.shape, y._keras_mask.numpy()
        ((1, 3, 64), array([[ True,  True, False]]))
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 **kwargs):
        if kwargs.pop("input_length", None) is not None:  # Keras 2's argument, as Keras warns
            warnings.warn("Embedding: input_length is deprecated and has no effect; remove it",
                          stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim = _positive_int(type(self).__name__, "input_dim", input_dim)
        self.output_dim = _positive_int(type(self).__name__, "output_dim", output_dim)
        if lora_rank or quantization_config is not None:
            raise NotImplementedError(f"{type(self).__name__}: lora_rank and "
                                      f"quantization_config are not supported by mgp")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.embeddings = None
        self._initial_weights = weights
        if weights is not None:
            self.build()

    def build(self, input_shape=None):
        if self.embeddings is not None:
            return
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          name="embeddings",
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _indices(self, inputs):
        """The inputs as an intp array, checked: integral values in [0, input_dim)."""
        data = inputs.data if isinstance(inputs, Tensor) else xp.asarray(inputs)
        if data.dtype.kind not in "iub":
            if data.dtype.kind != "f":
                raise ValueError(f"{describe(self)} expects integer indices, got dtype "
                                 f"{data.dtype}")
            if data.size and not bool(xp.all(data == xp.floor(data))):
                raise ValueError(f"{describe(self)} expects integer indices, got non-integer "
                                 f"values in inputs of dtype {data.dtype} (e.g. "
                                 f"{float(data[data != xp.floor(data)].reshape(-1)[0])})")
        if data.size and not probing():  # a probe's indices are stand-ins, not the data's
            low, high = int(data.min()), int(data.max())
            if low < 0 or high >= self.input_dim:
                bad = low if low < 0 else high
                raise ValueError(f"{describe(self)}: index {bad} is out of range for "
                                 f"input_dim={self.input_dim} (indices must be in [0, "
                                 f"{self.input_dim - 1}]); inputs of shape {tuple(data.shape)}")
        if probing():  # only the output's shape matters: any index in range gives it
            data = xp.clip(data, 0, self.input_dim - 1)
        return data.astype(np.intp, copy=False)

    def call(self, inputs):
        return ops.nn.embedding(self.embeddings, self._indices(inputs))

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": serialize_initializer(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero, "quantization_config": None}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("quantization_config", None)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, input_dim={self.input_dim}, " \
               f"output_dim={self.output_dim}, built={self.built}>"


class ReversibleEmbedding(Embedding):
    """An Embedding that can also project back: `layer(x, reverse=True)` maps vectors
    (..., output_dim) to logits (..., input_dim) with the transposed table (tied weights, the
    default) or a table of its own, `reverse_embeddings` (output_dim, input_dim).

    Args (beyond Embedding's):
        tie_weights: share the table between both directions.
        reverse_dtype: the dtype of the reverse product (the layer's by default).
        logit_soft_cap: when given, reverse logits become cap * tanh(logits / cap).

    The forward call keeps Embedding's mask (mask_zero); the reverse call's output has none.
    """

    def __init__(self, input_dim, output_dim, tie_weights=True,
                 embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        self.reverse_embeddings = None

    def build(self, input_shape=None):
        if self.embeddings is not None:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer, name="reverse_embeddings")

    def call(self, inputs, reverse=False):
        if not reverse:
            out = super().call(inputs)
            if self.mask_zero:  # Keras sets it here (its compute_mask answers None)
                out._keras_mask = ops.not_equal(inputs, 0)
            return out
        x = inputs
        if x.ndim < 1 or x.shape[-1] != self.output_dim:
            raise ValueError(f"{describe(self)}: a reverse call expects inputs with last "
                             f"dimension {self.output_dim}, got {tuple(x.shape)}")
        kernel = ops.transpose(self.embeddings) if self.tie_weights else \
            self.reverse_embeddings
        if self.reverse_dtype is not None:
            x, kernel = ops.cast(x, self.reverse_dtype), ops.cast(kernel, self.reverse_dtype)
        elif x.dtype.kind != "f":
            x = ops.cast(x, self.dtype)
        logits = ops.matmul(x, kernel)
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = ops.multiply(ops.tanh(ops.divide(logits, cap)), cap)
        return logits

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_spec(self, inputs, reverse=False, **kwargs):
        shape = tuple(inputs.shape)
        shape = shape[:-1] + (self.input_dim,) if reverse else shape + (self.output_dim,)
        return SymbolicTensor(shape, self.dtype)

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype, "logit_soft_cap": self.logit_soft_cap}
