"""GRUCell and GRU (Cho et al. 2014), with Keras's gate order z, r, h and `reset_after`."""
from mgp import activations, ops
from mgp.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from mgp.layers.rnn.rnn import RNN, cell_layer_config
from mgp.ops.recurrent import gru_sequence


class GRUCell(DropoutRNNCell):
    """One GRU step.

    Args: those of `SimpleRNNCell`, plus `recurrent_activation` ('sigmoid') and `reset_after`
    (True, Keras 3's default: the reset gate multiplies `h @ recurrent_kernel`, and there are
    separate input and recurrent biases, `bias` of shape (2, 3 units); False: it multiplies
    `h` before the product, and `bias` is (3 units,)).

    Weights: `kernel` (features, 3 units), `recurrent_kernel` (units, 3 units), `bias`; the
    gates side by side in the order update (z), reset (r), candidate (h). States: `[h]`.
    """

    _GATES = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
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
        self.reset_after = bool(reset_after)

    def build(self, input_shape):
        n = 3 * self.units
        self._build_kernels(input_shape, (2, n) if self.reset_after else (n,))

    def call(self, inputs, states, training=False):
        self.check_step_input(inputs)
        h = states[0] if isinstance(states, (list, tuple)) else states
        u = self.units
        if training and self.get_dropout_mask(inputs) is not None:
            inputs = inputs * self.get_dropout_mask(inputs)
        hd = h
        if training and self.get_recurrent_dropout_mask(h) is not None:
            hd = h * self.get_recurrent_dropout_mask(h)
        x = ops.matmul(inputs, self.kernel)
        b_in = b_rec = None
        if self.bias is not None:
            b_in, b_rec = (self.bias[0], self.bias[1]) if self.reset_after else (self.bias, None)
            x = x + b_in
        xz, xr, xh = ops.split(x, 3, axis=-1)
        if self.reset_after:
            inner = ops.matmul(hd, self.recurrent_kernel)
            if b_rec is not None:
                inner = inner + b_rec
            rz, rr, rh = ops.split(inner, 3, axis=-1)
            z = self.recurrent_activation(xz + rz)
            r = self.recurrent_activation(xr + rr)
            hh = self.activation(xh + r * rh)
        else:
            inner = ops.matmul(hd, self.recurrent_kernel[:, :2 * u])
            rz, rr = ops.split(inner, 2, axis=-1)
            z = self.recurrent_activation(xz + rz)
            r = self.recurrent_activation(xr + rr)
            hh = self.activation(xh + ops.matmul(r * hd, self.recurrent_kernel[:, 2 * u:]))
        out = z * h + (1 - z) * hh
        return out, ([out] if isinstance(states, (list, tuple)) else out)

    def fused_sequence(self, x, states, mask, go_backwards, training):
        """The whole sequence in one op, or None where it does not apply."""
        if self.activation is not activations.tanh or \
                self.recurrent_activation is not activations.sigmoid or \
                not self._fusable(training):
            return None
        x = self._dropped_sequence(x, training)
        return gru_sequence(x, states[0], self.kernel, self.recurrent_kernel, self.bias, mask,
                            go_backwards, self.reset_after), []

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["reset_after"] = self.reset_after
        return config


class GRU(RNN):
    """Gated Recurrent Unit layer (Keras's `GRU`): an `RNN` over a `GRUCell`, computed by one
    fused op for the default activations.

    Args: those of `GRUCell` and of `RNN`; `use_cudnn` is accepted and ignored.

    Example:
        >>> import numpy as np
        >>> GRU(4)(np.zeros((2, 10, 3))).shape
        (2, 4)
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):
        cell = GRUCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, reset_after=reset_after,
            seed=seed, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
            name="gru_cell", implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"GRU: use_cudnn must be 'auto', True or False, got {use_cudnn!r}")
        self.use_cudnn = use_cudnn

    def get_config(self):
        return cell_layer_config(self, ("recurrent_activation", "reset_after"))

    @classmethod
    def from_config(cls, config):
        return cls(**config)
