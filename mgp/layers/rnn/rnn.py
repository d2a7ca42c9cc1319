"""RNN: a cell run over the time axis, as Keras's `keras.layers.RNN` does it.

Two paths, with the same results:
- a cell that offers `fused_sequence` (the built-in SimpleRNNCell, LSTMCell and GRUCell with
  their default activations, and no recurrent dropout in training) runs the whole sequence as
  one op of `mgp.ops.recurrent`, whose backward goes through time by hand;
- any other cell (a user's, StackedRNNCells, ...) is called step by step, through the autograd
  graph, as Keras's `backend.rnn` loop calls it.

Masks, as Keras applies them: a masked step keeps the previous states, and its output repeats
the previous output (0 before the first kept step), or is 0 with `zero_output_for_mask`.
"""
import numpy as np

from mgp import ops
from mgp.layers._utils import describe
from mgp.layers.base import Layer
from mgp.layers.symbolic import flatten, pack_as
from mgp.tensor import Tensor
from mgp.variables import Variable


def _sizes(state_size):
    return list(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


class RNN(Layer):
    """Runs `cell` over the time axis of (batch, timesteps, features) inputs.

    Args:
        cell: an RNN cell: a layer with `call(inputs, states)` returning `(output, new_states)`
            and a `state_size` (an int or a list of ints; `output_size` optional), or a list of
            cells (stacked, as `StackedRNNCells`).
        return_sequences: the outputs of every step (batch, timesteps, units), or only the last.
        return_state: also return the last states (`[output, *states]`).
        go_backwards: process the sequence in reverse (the returned sequence is in processing
            order, as Keras's).
        stateful: each batch starts from the last states of the previous one (same batch size;
            `reset_states()` sets them back to zeros).
        unroll: accepted as Keras has it (the loop is a Python loop either way).
        zero_output_for_mask: outputs at masked steps are 0 instead of the previous output.

    Call arguments: `sequences`, `initial_state` (a list of tensors, one per state), `mask`
    (batch, timesteps) booleans, `training`.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            from mgp.layers.rnn.stacked_rnn_cells import StackedRNNCells
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise TypeError(f"RNN: cell must have a `call` method, got {cell!r}")
        if getattr(cell, "state_size", None) is None:
            raise ValueError(f"RNN: cell must have a `state_size` (an int or a list of ints), "
                             f"got {cell!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None

    # Keras's layers read their cell's arguments as their own (`layer.units`, ...)
    def __getattr__(self, name):
        cell = self.__dict__.get("cell")
        if cell is not None and not name.startswith("_") and name in _CELL_ATTRIBUTES:
            return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def state_size(self):
        return _sizes(self.cell.state_size)

    def _flat_sizes(self):
        return flatten(self.state_size)

    def _output_size(self):
        size = getattr(self.cell, "output_size", None)
        return size if size is not None else _sizes(self.cell.state_size)[0]

    def build(self, sequences_shape):
        if len(sequences_shape) < 3:
            raise ValueError(f"{describe(self)} expected inputs of shape (batch, timesteps, "
                             f"features), got {tuple(sequences_shape)}")
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build((sequences_shape[0],) + tuple(sequences_shape[2:]))
            self.cell.built = True
        if self.stateful:
            if sequences_shape[0] is None:
                raise ValueError(f"{describe(self)}: stateful=True needs a fixed batch size, "
                                 f"got inputs of shape {tuple(sequences_shape)}")
            self.states = [Variable(np.zeros((sequences_shape[0], s), self.dtype),
                                    name="rnn_state", trainable=False)
                           for s in self._flat_sizes()]

    def get_initial_state(self, batch_size):
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            states = fn(batch_size=batch_size)
            return list(states) if isinstance(states, (list, tuple)) else [states]
        return [Tensor(np.zeros((batch_size, s), self.dtype)) for s in self.state_size]

    def reset_states(self):
        """Set the states of a stateful layer back to zeros."""
        for v in self.states or ():
            v.assign(np.zeros(v.shape, v.dtype))

    reset_state = reset_states

    # ---- checks -------------------------------------------------------------------------------
    def _check(self, x, initial_state, mask):
        if x.ndim < 3:
            raise ValueError(f"{describe(self)} expected inputs of shape (batch, timesteps, "
                             f"features), got {tuple(x.shape)}")
        batch, steps = x.shape[:2]
        kernel = getattr(self.cell, "kernel", None)
        if kernel is not None and x.shape[-1] != kernel.shape[0]:
            raise ValueError(f"{describe(self)} expected {kernel.shape[0]} features per step, "
                             f"got inputs of shape {tuple(x.shape)}")
        if mask is not None and tuple(mask.shape) != (batch, steps):
            raise ValueError(f"{describe(self)}: the mask must have shape (batch, timesteps) = "
                             f"{(batch, steps)} for inputs of shape {tuple(x.shape)}, got a mask "
                             f"of shape {tuple(mask.shape)}")
        if initial_state is not None:
            expected = [(batch, s) for s in self._flat_sizes()]
            got = [tuple(getattr(s, "shape", ())) for s in flatten(initial_state)]
            if got != expected:
                raise ValueError(f"{describe(self)} expected initial_state as {len(expected)} "
                                 f"tensor(s) of shapes {expected}, got {len(got)} of shapes "
                                 f"{got}")
        if self.stateful and self.states is not None and self.states[0].shape[0] != batch:
            raise ValueError(f"{describe(self)} is stateful with batch size "
                             f"{self.states[0].shape[0]}; got inputs of shape {tuple(x.shape)}")

    # ---- call ---------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=False):
        x = sequences if isinstance(sequences, Tensor) else Tensor(sequences)
        if x.dtype.kind != "f":
            x = ops.cast(x, self.dtype)
        if mask is None:
            mask = getattr(sequences, "_keras_mask", None)
        if initial_state is not None:  # one tensor per state, flat (as Keras accepts them)
            initial_state = [s if isinstance(s, Tensor) else Tensor(np.asarray(s, self.dtype))
                             for s in flatten(initial_state)]
        mask_arr = None if mask is None else np.asarray(
            mask.numpy() if isinstance(mask, Tensor) else mask).astype(bool)
        self._check(x, initial_state, mask_arr)
        if initial_state is None:
            initial_state = list(self.states) if self.stateful else \
                flatten(self.get_initial_state(x.shape[0]))
        if self.stateful:  # the stored states start a graph of their own
            initial_state = [Tensor(s.data) if isinstance(s, Variable) else s
                             for s in initial_state]
        fused = getattr(self.cell, "fused_sequence", None)
        try:  # the cells draw their dropout masks once per sequence; dropped after it
            result = fused(x, initial_state, mask_arr, self.go_backwards, bool(training)) \
                if fused is not None else None
            if result is not None:
                outputs, last, states = self._from_hidden(result, mask_arr)
            else:
                outputs, last, states = self._loop(x, initial_state, mask_arr, training)
        finally:
            for c in _cells(self.cell):
                c.reset_dropout_mask()
                c.reset_recurrent_dropout_mask()
        if self.stateful:
            for var, s in zip(self.states, flatten(states)):
                var.assign(s.data)
        output = outputs if self.return_sequences else last
        if not self.return_state:
            return output
        return [output, *pack_as(self._state_structure(), flatten(states))]

    def _state_structure(self):
        """The states' nesting: one entry per state, a list for a stacked cell's states."""
        sizes = self.cell.state_size
        return [0] if not isinstance(sizes, (list, tuple)) else list(sizes)

    def _processing_mask(self, mask):
        return None if mask is None else (mask[:, ::-1] if self.go_backwards else mask)

    def _from_hidden(self, result, mask):
        """Keras's outputs and last states from the fused op's hidden states."""
        hs, other_states = result
        states = [hs[:, -1]] + list(other_states)
        m = self._processing_mask(mask)
        if m is None:
            return hs, hs[:, -1], states
        # an output repeats the last kept step's (the state there), 0 before the first one
        keep = m if self.zero_output_for_mask else np.logical_or.accumulate(m, axis=1)
        keep = keep.reshape(keep.shape + (1,) * (hs.ndim - 2))  # over the features' axes
        outputs = hs * Tensor(keep.astype(hs.dtype))
        return outputs, outputs[:, -1], states

    def _loop(self, x, states, mask, training):
        """The per-step path, through the graph: Keras's `backend.rnn` loop."""
        steps = range(x.shape[1])[::-1] if self.go_backwards else range(x.shape[1])
        m = self._processing_mask(mask)
        structure = self._state_structure()  # the cell always gets a list, as in Keras
        kwargs = {"training": training} if isinstance(self.cell, Layer) else {}
        outputs, prev = [], None
        for k, t in enumerate(steps):
            out, new = self.cell(x[:, t], pack_as(structure, states), **kwargs)
            new = flatten(new)
            if m is not None:
                keep = Tensor(m[:, k].reshape((-1,) + (1,) * (out.ndim - 1)))
                if prev is None:
                    prev = Tensor(np.zeros(out.shape, out.dtype))
                out = ops.where(keep, out, 0.0 if self.zero_output_for_mask else prev)
                new = [ops.where(keep, n, s) for n, s in zip(new, states)]
            outputs.append(out)
            prev, states = out, new
        return ops.stack(outputs, axis=1), outputs[-1], states

    # ---- shapes, masks, config ----------------------------------------------------------------
    def compute_output_shape(self, sequences_shape):
        batch, steps = sequences_shape[0], sequences_shape[1]
        out = (batch, steps, self._output_size()) if self.return_sequences else \
            (batch, self._output_size())
        if self.return_state:
            return [out] + pack_as(self._state_structure(),
                                   [(batch, s) for s in self._flat_sizes()])
        return out

    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        out = mask if self.return_sequences else None
        return [out] + [None] * len(self._state_structure()) if self.return_state else out

    def get_config(self):
        from mgp.models.serialization import serialize_layer
        return {**super().get_config(), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
                "cell": serialize_layer(self.cell)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mgp.models.serialization import deserialize_layer
        config = dict(config)
        config["cell"] = deserialize_layer(config["cell"], custom_objects)
        return cls(**config)


_CELL_ATTRIBUTES = frozenset((
    "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
    "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "dropout", "recurrent_dropout", "reset_after", "seed"))


def _cells(cell):
    """The dropout-holding cells inside `cell` (itself, or those it stacks)."""
    inner = getattr(cell, "cells", None)
    if inner is not None:
        return [c for sub in inner for c in _cells(sub)]
    return [cell] if hasattr(cell, "reset_dropout_mask") else []


def cell_layer_config(layer, extra=()):
    """Keras's config of SimpleRNN / LSTM / GRU: the RNN's entries without `cell`, and the
    cell's arguments at the top level."""
    config = RNN.get_config(layer)
    del config["cell"]
    cell_config = layer.cell.get_config()
    keys = ("units", "activation", *extra, "use_bias", "kernel_initializer",
            "recurrent_initializer", "bias_initializer", "kernel_regularizer",
            "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
            "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed")
    config.update({k: cell_config[k] for k in keys})
    if "activity_regularizer" not in config:
        config["activity_regularizer"] = None
    return config
