"""SimpleRNNCell and SimpleRNN: h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + b)."""
from mgp import activations, ops
from mgp.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from mgp.layers.rnn.rnn import RNN, cell_layer_config
from mgp.ops.recurrent import simple_rnn_sequence

_FUSED = {activations.tanh: "tanh", activations.relu: "relu", activations.linear: "linear"}


class SimpleRNNCell(DropoutRNNCell):
    """One step of a fully connected recurrence (Keras's arguments and defaults: tanh,
    glorot_uniform kernel, orthogonal recurrent kernel, zero bias).

    Weights: `kernel` (features, units), `recurrent_kernel` (units, units), `bias` (units,).
    `call(inputs, states)` takes (batch, features) and `[h]`, and returns `(h_new, [h_new])`.
    """

    def build(self, input_shape):
        self._build_kernels(input_shape, (self.units,))

    def call(self, sequence, states, training=False):
        self.check_step_input(sequence)
        prev = states[0] if isinstance(states, (list, tuple)) else states
        if training and self.get_dropout_mask(sequence) is not None:
            sequence = sequence * self.get_dropout_mask(sequence)
        h = ops.matmul(sequence, self.kernel)
        if self.bias is not None:
            h = h + self.bias
        if training and self.get_recurrent_dropout_mask(prev) is not None:
            prev = prev * self.get_recurrent_dropout_mask(prev)
        out = h + ops.matmul(prev, self.recurrent_kernel)
        if self.activation is not None:
            out = self.activation(out)
        return out, ([out] if isinstance(states, (list, tuple)) else out)

    def fused_sequence(self, x, states, mask, go_backwards, training):
        """The whole sequence in one op (see `mgp.ops.recurrent`), or None where it does not
        apply: returns (hidden states (B, T, units), [last carry states besides h])."""
        name = _FUSED.get(self.activation)
        if name is None or not self._fusable(training):
            return None
        x = self._dropped_sequence(x, training)
        return simple_rnn_sequence(x, states[0], self.kernel, self.recurrent_kernel, self.bias,
                                   mask, go_backwards, name), []


class SimpleRNN(RNN):
    """A fully connected RNN whose output is fed back as its input (Keras's `SimpleRNN`).

    Args: those of `SimpleRNNCell` (units, activation, use_bias, the initializers,
    regularizers and constraints of kernel / recurrent_kernel / bias, dropout,
    recurrent_dropout, seed) and of `RNN` (return_sequences, return_state, go_backwards,
    stateful, unroll).

    Example:
        >>> import numpy as np
        >>> SimpleRNN(4)(np.zeros((2, 10, 3))).shape
        (2, 4)
    """

    _CELL = SimpleRNNCell
    _CELL_NAME = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), name=self._CELL_NAME)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)

    def get_config(self):
        config = cell_layer_config(self)
        del config["seed"]  # Keras's SimpleRNN does not record its cell's seed
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
