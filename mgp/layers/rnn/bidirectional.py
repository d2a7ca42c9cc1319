"""Bidirectional: an RNN run forwards and a copy of it backwards, their outputs merged."""
from mgp import ops
from mgp.layers._utils import describe
from mgp.layers.base import Layer

_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Keras's `Bidirectional` wrapper.

    Args:
        layer: an RNN layer (`LSTM`, `GRU`, `SimpleRNN`, `RNN`); a copy of it, made from its
            config and named `forward_<name>`, reads the sequence forwards.
        merge_mode: how the two outputs combine: 'concat' (the default), 'sum', 'mul', 'ave',
            or None (a list of both).
        backward_layer: the layer reading backwards; by default a copy of `layer` with
            `go_backwards` flipped, named `backward_<name>`. Its `go_backwards` must differ
            from the forward one's, and `stateful`, `return_sequences`, `return_state` match.

    The backward sequence is flipped back into time order before merging. With
    `return_state`, the outputs are followed by the forward states, then the backward ones;
    `initial_state` takes them in the same order. As Keras does, the wrapped layers output 0
    at masked steps when they return sequences.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        from mgp.models.serialization import deserialize_layer, serialize_layer
        if not isinstance(layer, Layer):
            raise TypeError(f"Bidirectional: layer must be a Layer, got {layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise TypeError(f"Bidirectional: backward_layer must be a Layer, got "
                             f"{backward_layer!r}")
        if merge_mode not in _MODES:
            raise ValueError(f"Bidirectional: merge_mode must be one of {list(_MODES)}, got "
                             f"{merge_mode!r}")
        super().__init__(**kwargs)

        def copy(prefix, backwards=None):
            config = serialize_layer(layer)
            name = layer.name.removeprefix(prefix)
            config["config"]["name"] = prefix + name
            if backwards is not None:
                config["config"]["go_backwards"] = backwards
            return deserialize_layer(config)
        self.forward_layer = copy("forward_")
        self.backward_layer = backward_layer if backward_layer is not None else \
            copy("backward_", not layer.go_backwards)
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError(f"Bidirectional: the forward and backward layers need different "
                             f"go_backwards, both have {fwd.go_backwards}")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError(f"Bidirectional: the forward and backward layers need the same "
                                 f"{attr}, got {getattr(fwd, attr)} and {getattr(bwd, attr)}")
        for sub in (fwd, bwd):  # Keras's rule: masked steps of a returned sequence give 0
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.stateful, self.return_sequences = layer.stateful, layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self._initial_weights = weights

    def build(self, sequences_shape):
        if len(sequences_shape) != 3:
            raise ValueError(f"{describe(self)} expected inputs of shape (batch, timesteps, "
                             f"features), got {tuple(sequences_shape)}")
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub._maybe_build({"inputs": _Shape(sequences_shape)})
        if self._initial_weights:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, sequences, initial_state=None, mask=None, training=False):
        fwd_state = bwd_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            fwd_state, bwd_state = initial_state[:half], initial_state[half:]
        if mask is None:
            mask = getattr(sequences, "_keras_mask", None)
        y = self.forward_layer(sequences, initial_state=fwd_state, mask=mask, training=training)
        y_rev = self.backward_layer(sequences, initial_state=bwd_state, mask=mask,
                                    training=training)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            output = ops.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (list(output) if self.merge_mode is None else [output]) + list(states)
        return output

    def reset_states(self):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def compute_output_shape(self, sequences_shape):
        fwd = self.forward_layer.compute_output_shape(sequences_shape)
        bwd = self.backward_layer.compute_output_shape(sequences_shape)
        states = []
        if self.return_state:
            fwd, states, bwd = fwd[0], list(fwd[1:]) + list(bwd[1:]), bwd[0]
        if self.merge_mode == "concat":
            out = [tuple(fwd[:-1]) + (fwd[-1] + bwd[-1],)]
        elif self.merge_mode is None:
            out = [tuple(fwd), tuple(bwd)]
        else:
            out = [tuple(fwd)]
        if self.return_state or self.merge_mode is None:
            return out + states
        return out[0]

    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = len(self.forward_layer._state_structure()) * 2
            return outs + [None] * n
        return outs if self.merge_mode is None else out

    def get_config(self):
        from mgp.models.serialization import serialize_layer
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize_layer(self.forward_layer),
                "backward_layer": serialize_layer(self.backward_layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mgp.models.serialization import deserialize_layer
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"],
                                                         custom_objects)
        return cls(**config)


class _Shape:
    """A stand-in with only a shape, to build a wrapped layer from a shape."""

    def __init__(self, shape):
        self.shape = tuple(shape)
