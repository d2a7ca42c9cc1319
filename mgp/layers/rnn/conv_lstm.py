"""Convolutional LSTM (Shi et al. 2015): an LSTM whose input and recurrent transformations are
convolutions, as Keras's `ConvLSTM1D`, `ConvLSTM2D` and `ConvLSTM3D`.

The cell, `ConvLSTMCell` (internal in Keras too), holds the weights: `kernel`
(*kernel_size, channels, 4 filters), `recurrent_kernel` (*kernel_size, filters, 4 filters) and
`bias` (4 filters,), each the four gates side by side in Keras's order input, forget, candidate,
output. The input convolution uses the layer's strides, padding and dilation; the recurrent one
is always stride 1, 'same', undilated, so the states keep the input convolution's output shape.

Over a whole sequence, the input convolution of every step does not depend on the recurrence:
it runs once, as one convolution over batch * time, and only the recurrent convolution is left
inside the loop over time steps (through the autograd graph).
"""
import numpy as np

from mgp import activations, ops
from mgp.layers._utils import (conv_output_length, describe, normalize_data_format,
                               normalize_padding, normalize_tuple)
from mgp.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from mgp.layers.rnn.rnn import RNN
from mgp.ops.convolution import convolve
from mgp.ops.windows import axes_words
from mgp.tensor import Tensor
from mgp.variables import Variable


class ConvLSTMCell(DropoutRNNCell):
    """One ConvLSTM step on (batch, *spatial, channels) inputs (channels first for
    `data_format='channels_first'`).

    Args: `rank` (1, 2 or 3 spatial axes), `filters`, `kernel_size`, `strides`, `padding`
    ('valid' or 'same'), `data_format`, `dilation_rate` (strides > 1 and dilation > 1 exclude
    each other, as in Keras), and those of `LSTMCell`. States: `[h, c]`, each of the input
    convolution's output shape.
    """

    _GATES = 4

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        name = type(self).__name__
        if rank not in (1, 2, 3):
            raise ValueError(f"{name}: rank must be 1, 2 or 3, got {rank!r}")
        if not isinstance(filters, (int, np.integer)) or isinstance(filters, bool) or \
                filters < 1:
            raise ValueError(f"{name}: filters must be a positive integer, got {filters!r}")
        super().__init__(filters, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)
        self.rank = rank
        self.filters = self.units
        self.kernel_size = normalize_tuple(kernel_size, rank, f"{name}: kernel_size")
        self.strides = normalize_tuple(strides, rank, f"{name}: strides")
        self.dilation_rate = normalize_tuple(dilation_rate, rank, f"{name}: dilation_rate")
        try:
            self.padding = normalize_padding(padding)
            self.data_format = normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{name}: strides > 1 and dilation_rate > 1 exclude each other, got "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.spatial_dims = self.input_dim = None

    @property
    def state_size(self):  # the states' channels; their full shape is `state_shape`
        return [self.filters, self.filters]

    @property
    def output_size(self):
        return self.filters

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _split_shape(self, shape):
        """(spatial, channels) of a step shape (batch, ...)."""
        if self.data_format == "channels_last":
            return tuple(shape[1:-1]), shape[-1]
        return tuple(shape[2:]), shape[1]

    def state_shape(self, batch_size):
        """The shape of h and c: the input convolution's output for this cell's inputs."""
        out = tuple(conv_output_length(n, k, self.padding, s, d) for n, k, s, d in zip(
            self.spatial_dims, self.kernel_size, self.strides, self.dilation_rate))
        if self.data_format == "channels_last":
            return (batch_size,) + out + (self.filters,)
        return (batch_size, self.filters) + out

    def check_step_shape(self, shape, owner=None):
        """(spatial, channels) of a step shape, checked; errors name `owner` (the layer over
        this cell) or the cell."""
        shape, who = tuple(shape), describe(owner or self)
        if len(shape) != self.rank + 2:
            raise ValueError(f"{who} expected {self.rank + 2}-D step inputs "
                             f"{axes_words(self.rank, self.data_format)}, got shape {shape}")
        spatial, channels = self._split_shape(shape)
        if None in spatial or channels is None:
            raise ValueError(f"{who} needs known spatial sizes and channels, got "
                             f"shape {shape}")
        if self.input_dim is not None and (spatial, channels) != (self.spatial_dims,
                                                                  self.input_dim):
            raise ValueError(f"{who} was built for steps of spatial shape "
                             f"{self.spatial_dims} with {self.input_dim} channels, got shape "
                             f"{shape}")
        if min(o for o in self.state_shape_of(spatial)) < 1:
            raise ValueError(f"{who}: the kernel {self.kernel_size} (dilation "
                             f"{self.dilation_rate}) does not fit step inputs of shape {shape} "
                             f"with padding '{self.padding}'")
        return spatial, channels

    def state_shape_of(self, spatial):
        return [conv_output_length(n, k, self.padding, s, d) for n, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate)]

    def build(self, input_shape):
        self.spatial_dims, self.input_dim = self.check_step_shape(input_shape)
        n = 4 * self.filters
        self.kernel = self.add_weight(shape=self.kernel_size + (self.input_dim, n), name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=self.kernel_size + (self.filters, n), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                u, base = self.filters, self.bias_initializer

                def init(shape, dtype=None):  # i from the initializer, f ones, c and o again
                    return np.concatenate([np.asarray(base((u,), dtype=dtype)),
                                           np.ones((u,), dtype=dtype),
                                           np.asarray(base((2 * u,), dtype=dtype))])
            self.bias = self.add_weight(shape=(n,), name="bias", initializer=init,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    # ---- the step ------------------------------------------------------------------------------
    def _input_conv(self, x):
        return convolve(x, self.kernel, self.bias, self.strides, self.padding,
                        self.dilation_rate, self.data_format)

    def _recurrent_conv(self, h):
        return convolve(h, self.recurrent_kernel, None, 1, "same", 1, self.data_format)

    def _gates(self, z, c):
        zi, zf, zc, zo = ops.split(z, 4, axis=self._channel_axis)
        i, f, o = (self.recurrent_activation(g) for g in (zi, zf, zo))
        c = f * c + i * self.activation(zc)
        return o * self.activation(c), c

    def call(self, inputs, states, training=False):
        self.check_step_shape(inputs.shape)
        h, c = states[0], states[1]
        masks = self.get_dropout_mask(inputs) if training else None
        rmasks = self.get_recurrent_dropout_mask(h) if training else None
        if masks is None and rmasks is None:
            z = self._input_conv(inputs) + self._recurrent_conv(h)
        else:  # Keras's masks are one per gate: each gate convolves its own dropped inputs
            xs = [inputs] * 4 if masks is None else [inputs * m for m in masks]
            hs = [h] * 4 if rmasks is None else [h * m for m in rmasks]
            kernels = ops.split(self.kernel, 4, axis=-1)
            recurrent = ops.split(self.recurrent_kernel, 4, axis=-1)
            biases = [None] * 4 if self.bias is None else ops.split(self.bias, 4)
            z = ops.concatenate([
                convolve(xs[g], kernels[g], biases[g], self.strides, self.padding,
                         self.dilation_rate, self.data_format)
                + convolve(hs[g], recurrent[g], None, 1, "same", 1, self.data_format)
                for g in range(4)], axis=self._channel_axis)
        h, c = self._gates(z, c)
        return h, [h, c]

    # one mask per gate, as Keras's ConvLSTMCell draws them
    def get_dropout_mask(self, step_input):
        if self._dropout_mask is None and 0 < self.dropout < 1:
            self._dropout_mask = [self._draw(step_input.shape, self.dropout, step_input.dtype)
                                  for _ in range(4)]
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, state):
        if self._recurrent_dropout_mask is None and 0 < self.recurrent_dropout < 1:
            self._recurrent_dropout_mask = [
                self._draw(state.shape, self.recurrent_dropout, state.dtype) for _ in range(4)]
        return self._recurrent_dropout_mask

    def fused_sequence(self, x, states, mask, go_backwards, training):
        """The whole sequence, with the input convolution of all steps as one convolution
        (not with dropout in training: its per-gate masks need the step path):
        (hidden states (B, T, ...), [last c])."""
        if training and (0 < self.dropout < 1 or 0 < self.recurrent_dropout < 1):
            return None
        batch, steps = x.shape[:2]
        z = self._input_conv(ops.reshape(x, (batch * steps,) + tuple(x.shape[2:])))
        z = ops.reshape(z, (batch, steps) + tuple(z.shape[1:]))
        h, c = states[0], states[1]
        order = range(steps)[::-1] if go_backwards else range(steps)
        m = None if mask is None else (mask[:, ::-1] if go_backwards else mask)
        keep_shape = (batch,) + (1,) * (h.ndim - 1)
        hs = []
        for k, t in enumerate(order):
            h_new, c_new = self._gates(z[:, t] + self._recurrent_conv(h), c)
            if m is not None:  # a masked step keeps the previous states
                keep = Tensor(m[:, k].reshape(keep_shape))
                h_new, c_new = ops.where(keep, h_new, h), ops.where(keep, c_new, c)
            h, c = h_new, c_new
            hs.append(h)
        return ops.stack(hs, axis=1), [c]

    def get_initial_state(self, batch_size=None):
        return [Tensor(np.zeros(self.state_shape(batch_size), self.dtype)) for _ in range(2)]

    def get_config(self):
        config = super().get_config()
        del config["units"]
        activation = config.pop("activation")
        return {**config, "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": activation,
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


_CELL_ARGS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
              "activation", "recurrent_activation", "use_bias", "kernel_initializer",
              "recurrent_initializer", "bias_initializer", "unit_forget_bias",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout", "seed")


class ConvLSTM(RNN):
    """An `RNN` over a `ConvLSTMCell` of rank `rank` on (batch, timesteps, *spatial, channels)
    inputs ((batch, timesteps, channels, *spatial) channels first). The base of ConvLSTM1D,
    ConvLSTM2D and ConvLSTM3D, which set `rank`."""

    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        try:
            cell = ConvLSTMCell(
                self.rank, filters, kernel_size, strides=strides, padding=padding,
                data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                recurrent_activation=recurrent_activation, use_bias=use_bias,
                kernel_initializer=kernel_initializer,
                recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
                recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                bias_constraint=bias_constraint, dropout=dropout,
                recurrent_dropout=recurrent_dropout, seed=seed, name="conv_lstm_cell",
                dtype=kwargs.get("dtype"))
        except ValueError as e:  # the arguments are the layer's: name it, not its cell
            raise ValueError(str(e).replace("ConvLSTMCell", type(self).__name__, 1)) from None
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful,
                         activity_regularizer=activity_regularizer, **kwargs)

    def __getattr__(self, name):
        cell = self.__dict__.get("cell")
        if cell is not None and name in _CELL_ARGS:
            return getattr(cell, name)
        return super().__getattr__(name)

    def _check_shape(self, shape):
        shape = tuple(shape)
        if len(shape) != self.rank + 3:
            words = axes_words(self.rank, self.cell.data_format)
            raise ValueError(f"{describe(self)} expected {self.rank + 3}-D inputs (batch, "
                             f"timesteps, {words[len('(batch, '):]}, got shape {shape}")
        self.cell.check_step_shape((shape[0],) + shape[2:], owner=self)

    def build(self, sequences_shape):
        self._check_shape(sequences_shape)
        if not self.cell.built:
            self.cell.build((sequences_shape[0],) + tuple(sequences_shape[2:]))
            self.cell.built = True
        if self.stateful:
            if sequences_shape[0] is None:
                raise ValueError(f"{describe(self)}: stateful=True needs a fixed batch size, "
                                 f"got inputs of shape {tuple(sequences_shape)}")
            shape = self.cell.state_shape(sequences_shape[0])
            self.states = [Variable(np.zeros(shape, self.dtype), name="rnn_state",
                                    trainable=False) for _ in range(2)]

    def _check(self, x, initial_state, mask):
        self._check_shape(x.shape)
        batch, steps = x.shape[:2]
        if mask is not None and tuple(mask.shape) != (batch, steps):
            raise ValueError(f"{describe(self)}: the mask must have shape (batch, timesteps) = "
                             f"{(batch, steps)} for inputs of shape {tuple(x.shape)}, got a mask "
                             f"of shape {tuple(mask.shape)}")
        if initial_state is not None:
            expected = [self.cell.state_shape(batch)] * 2
            got = [tuple(getattr(s, "shape", ())) for s in initial_state]
            if got != expected:
                raise ValueError(f"{describe(self)} expected initial_state as 2 tensors of "
                                 f"shape {expected[0]}, got {len(got)} of shapes {got}")
        if self.stateful and self.states is not None and self.states[0].shape[0] != batch:
            raise ValueError(f"{describe(self)} is stateful with batch size "
                             f"{self.states[0].shape[0]}; got inputs of shape {tuple(x.shape)}")

    def compute_output_shape(self, sequences_shape):
        self._check_shape(sequences_shape)
        batch, steps = sequences_shape[0], sequences_shape[1]
        cell = self.cell
        spatial, _ = cell._split_shape((batch,) + tuple(sequences_shape[2:]))
        out = tuple(cell.state_shape_of(spatial))
        state = (batch,) + (out + (cell.filters,) if cell.data_format == "channels_last"
                            else (cell.filters,) + out)
        output = (batch, steps) + state[1:] if self.return_sequences else state
        return [output, state, state] if self.return_state else output

    def get_config(self):
        config = RNN.get_config(self)
        del config["cell"]
        cell_config = self.cell.get_config()
        config.update({k: cell_config[k] for k in _CELL_ARGS})
        if "activity_regularizer" not in config:
            config["activity_regularizer"] = None
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ConvLSTM1D(ConvLSTM):
    """1D convolutional LSTM on (batch, timesteps, steps, channels) inputs.

    Example:
        >>> ConvLSTM1D(4, 3, return_sequences=True)(np.zeros((2, 5, 8, 3))).shape
        (2, 5, 6, 4)
    """
    rank = 1


class ConvLSTM2D(ConvLSTM):
    """2D convolutional LSTM on (batch, timesteps, height, width, channels) inputs.

    Example:
        >>> ConvLSTM2D(4, 3, padding="same")(np.zeros((2, 5, 6, 6, 3))).shape
        (2, 6, 6, 4)
    """
    rank = 2


class ConvLSTM3D(ConvLSTM):
    """3D convolutional LSTM on (batch, timesteps, depth, height, width, channels) inputs.

    Example:
        >>> ConvLSTM3D(2, 3)(np.zeros((1, 3, 4, 4, 4, 1))).shape
        (1, 2, 2, 2, 2)
    """
    rank = 3
