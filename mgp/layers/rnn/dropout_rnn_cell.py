"""What the built-in cells share: Keras's dropout masks (one mask per sequence, reused at every
step) and the checks and configs of their kernel / recurrent kernel / bias arguments."""
import numpy as np

from mgp import activations, backend, constraints, initializers, regularizers
from mgp.layers._utils import describe, serialize_initializer
from mgp.layers.base import Layer
from mgp.tensor import Tensor


class DropoutRNNCell(Layer):
    """Base of SimpleRNNCell, LSTMCell and GRUCell: the weight arguments they share, and the
    dropout masks, drawn once per sequence by `RNN` and dropped after it."""

    _GATES = 1  # kernel columns per unit

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"{type(self).__name__}: units must be a positive integer, got "
                             f"{units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        # Keras clips the rates into [0, 1]
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self.kernel = self.recurrent_kernel = self.bias = None
        self._dropout_mask = self._recurrent_dropout_mask = None

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def _build_kernels(self, input_shape, bias_shape, bias_initializer=None):
        if len(input_shape) < 1 or input_shape[-1] is None:
            raise ValueError(f"{describe(self)} needs step inputs (batch, features) with a "
                             f"known feature dimension, got {tuple(input_shape)}")
        n = self._GATES * self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], n), name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=(self.units, n), name="recurrent_kernel",
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=bias_shape, name="bias",
                                        initializer=bias_initializer or self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def check_step_input(self, x):
        if x.ndim != 2 or x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{describe(self)} expected step inputs of shape (batch, "
                             f"{self.kernel.shape[0]}), got {tuple(x.shape)}")

    # ---- dropout masks: one per sequence ------------------------------------------------------
    @staticmethod
    def _draw(shape, rate, dtype):
        keep = backend.device_rng().random(shape, dtype=np.float32) >= rate
        return (keep * np.float32(1 / (1 - rate))).astype(dtype, copy=False)

    def get_dropout_mask(self, step_input):
        """The inputs' dropout mask for this sequence (drawn on first use), or None."""
        if self._dropout_mask is None and 0 < self.dropout < 1:
            self._dropout_mask = self._draw(step_input.shape, self.dropout, step_input.dtype)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, state):
        if self._recurrent_dropout_mask is None and 0 < self.recurrent_dropout < 1:
            self._recurrent_dropout_mask = self._draw(state.shape, self.recurrent_dropout,
                                                      state.dtype)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def _fusable(self, training):
        """Whether the whole-sequence op applies: the default activations and no recurrent
        dropout in training (its mask would enter the recurrence)."""
        return not (training and 0 < self.recurrent_dropout < 1)

    def _dropped_sequence(self, x, training):
        """x (B, T, F) with the inputs' dropout mask applied at every step (as the per-step
        cells do), when training."""
        if training and 0 < self.dropout < 1:
            return x * self.get_dropout_mask(x[:, 0])[:, None, :]
        return x

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else \
            [self.state_size]
        return [Tensor(np.zeros((batch_size, s), dtype=self.dtype)) for s in sizes]

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "recurrent_initializer": serialize_initializer(self.recurrent_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}
