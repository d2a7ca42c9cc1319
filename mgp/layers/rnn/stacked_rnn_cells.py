"""StackedRNNCells: several cells used as one, each step's output feeding the next cell."""
import numpy as np

from mgp.layers.base import Layer
from mgp.layers.symbolic import flatten
from mgp.tensor import Tensor


class StackedRNNCells(Layer):
    """Wraps a list of RNN cells so that `RNN` runs them as one (Keras's `StackedRNNCells`).

    Its `state_size` lists each cell's, its states are a list with one entry per cell, and its
    output is the last cell's. Runs step by step through the graph.

    Example:
        >>> from mgp.layers import RNN, LSTMCell
        >>> cells = [LSTMCell(8), LSTMCell(4)]
        >>> RNN(StackedRNNCells(cells))(np.zeros((2, 5, 3))).shape
        (2, 4)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not callable(getattr(cell, "call", None)) or \
                    getattr(cell, "state_size", None) is None:
                raise ValueError(f"StackedRNNCells: every cell needs a `call` method and a "
                                 f"`state_size`, got {cell!r}")
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        return flatten(last.state_size)[0]

    def get_initial_state(self, batch_size=None):
        states = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                states.append(fn(batch_size=batch_size))
            else:
                states.append([Tensor(np.zeros((batch_size, s), self.dtype))
                               for s in flatten(cell.state_size)])
        return states

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
            size = getattr(cell, "output_size", None) or flatten(cell.state_size)[0]
            input_shape = (input_shape[0], size)

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, state in zip(self.cells, states):
            is_list = isinstance(state, (list, tuple))
            inputs, state = cell(inputs, list(state) if is_list else [state],
                                 training=training)
            if not is_list and isinstance(state, (list, tuple)) and len(state) == 1:
                state = state[0]
            new_states.append(state)
        return inputs, new_states

    def get_config(self):
        from mgp.models.serialization import serialize_layer
        return {**super().get_config(), "cells": [serialize_layer(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mgp.models.serialization import deserialize_layer
        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
