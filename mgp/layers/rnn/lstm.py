"""LSTMCell and LSTM (Hochreiter & Schmidhuber 1997), with Keras's gate order i, f, c, o."""
import numpy as np

from mgp import activations, ops
from mgp.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from mgp.layers.rnn.rnn import RNN, cell_layer_config
from mgp.ops.recurrent import lstm_sequence


class LSTMCell(DropoutRNNCell):
    """One LSTM step.

    Args: those of `SimpleRNNCell`, plus `recurrent_activation` ('sigmoid', for the gates) and
    `unit_forget_bias` (True: the forget gate's bias starts at 1, the rest from
    `bias_initializer`).

    Weights: `kernel` (features, 4 units), `recurrent_kernel` (units, 4 units), `bias`
    (4 units,), each the four gates side by side in the order input, forget, candidate, output.
    States: `[h, c]`.
    """

    _GATES = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        kwargs.pop("implementation", None)  # Keras's choice of kernel layout; same result
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def build(self, input_shape):
        init = None
        if self.unit_forget_bias:
            u, base = self.units, self.bias_initializer

            def init(shape, dtype=None):  # i from the initializer, f ones, c and o again
                return np.concatenate([np.asarray(base((u,), dtype=dtype)),
                                       np.ones((u,), dtype=dtype),
                                       np.asarray(base((2 * u,), dtype=dtype))])
        self._build_kernels(input_shape, (4 * self.units,), init)

    def call(self, inputs, states, training=False):
        self.check_step_input(inputs)
        h, c = states[0], states[1]
        if training and self.get_dropout_mask(inputs) is not None:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.get_recurrent_dropout_mask(h) is not None:
            h = h * self.get_recurrent_dropout_mask(h)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        zi, zf, zc, zo = ops.split(z, 4, axis=1)
        i, f, o = (self.recurrent_activation(g) for g in (zi, zf, zo))
        c = f * c + i * self.activation(zc)
        h = o * self.activation(c)
        return h, [h, c]

    def fused_sequence(self, x, states, mask, go_backwards, training):
        """The whole sequence in one op, or None where it does not apply (other activations,
        recurrent dropout): (hidden states (B, T, units), [last c])."""
        if self.activation is not activations.tanh or \
                self.recurrent_activation is not activations.sigmoid or \
                not self._fusable(training):
            return None
        x = self._dropped_sequence(x, training)
        hs, c = lstm_sequence(x, states[0], states[1], self.kernel, self.recurrent_kernel,
                              self.bias, mask, go_backwards)
        return hs, [c]

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class LSTM(RNN):
    """Long Short-Term Memory layer (Keras's `LSTM`): an `RNN` over an `LSTMCell`, computed by
    one fused op for the default activations.

    Args: those of `LSTMCell` and of `RNN`; `use_cudnn` is accepted and ignored (there is
    no cuDNN here).

    Example:
        >>> LSTM(4, return_sequences=True)(np.zeros((2, 10, 3))).shape
        (2, 10, 4)
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        cell = LSTMCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), name="lstm_cell",
            implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"LSTM: use_cudnn must be 'auto', True or False, got {use_cudnn!r}")
        self.use_cudnn = use_cudnn

    def get_config(self):
        return cell_layer_config(self, ("recurrent_activation", "unit_forget_bias"))

    @classmethod
    def from_config(cls, config):
        return cls(**config)


