"""Model: a functional graph of layers (`Model(inputs, outputs)`) or a subclass with `call`."""
from mgp.layers.base import Layer, unique_name
from mgp.layers.operation import Operation
from mgp.layers.symbolic import SymbolicTensor, flatten, map_structure
from mgp.models import functional
from mgp.models.training import Trainer


def functional_layers(model):
    """A functional model's layers in Keras's order (see `functional.functional_layers`),
    without its Operations (which hold no weights)."""
    return [layer for layer in functional.functional_layers(model.inputs, model.outputs)
            if not isinstance(layer, Operation)]


class Model(Trainer, Layer):
    """A model: layers plus compile / fit / evaluate / predict.

    Functional:
        inputs = mgp.Input(shape=(28, 28, 1))
        x = layers.Conv2D(32, 3, activation="relu")(inputs)
        outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
        model = mgp.Model(inputs, outputs)

    Subclassed: override `__init__` (create layers as attributes; they are found by walking the
    attributes) and `call(self, x, training=False)`; override `train_step(self, data)` (and
    `test_step`, `predict_step`) to change what `fit` does with each batch.
    """

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if name is None and type(self) is Model and inputs is not None:
            name = unique_name("functional")  # Keras's name for a functional model
        super().__init__(name=name, **kwargs)
        self.history = None
        self._nodes = None
        self.inputs = self.outputs = None
        if inputs is None and outputs is None:
            return
        if inputs is None or outputs is None:
            raise ValueError("a functional Model needs both inputs and outputs")
        self._set_graph(inputs, outputs)

    def _set_graph(self, inputs, outputs):
        if isinstance(inputs, dict):  # {name: Input}: ordered by the dict
            flat_inputs = list(inputs.values())
        else:
            flat_inputs = flatten(inputs)
        flat_outputs = flatten(outputs)
        for t in flat_inputs + flat_outputs:
            if not isinstance(t, SymbolicTensor):
                raise TypeError(f"Model(inputs, outputs) takes symbolic tensors from mgp.Input "
                                f"and layer calls, got {type(t).__name__}")
        nodes = functional.graph_nodes(flat_outputs)
        functional.check_graph(flat_inputs, nodes)
        self._inputs_structure, self._outputs_structure = inputs, outputs
        self.inputs, self.outputs = flat_inputs, flat_outputs
        self._nodes = nodes
        # the graph does not change once made: its layers in Keras's order, found once
        self._functional_layers = functional.functional_layers(flat_inputs, flat_outputs)
        self.built = True

    _is_graph_network = property(lambda self: self._nodes is not None)
    @property
    def _graph(self):
        """The graph's SymbolicTensors, each after the ones its call reads (None for a
        subclassed model): what the summary, plot_model and the weights layout walk."""
        if self._nodes is None:
            return None
        return [sym for node in self._nodes for sym in node.outputs]

    # ---- structure -------------------------------------------------------------------------------
    @property
    def layers(self):
        """The model's layers: in Keras's graph order (inputs first, then by decreasing depth)
        for functional models, in attribute order for subclassed ones."""
        if self._nodes is None:
            return self._sublayers()
        return [layer for layer in self._functional_layers if not isinstance(layer, Operation)]

    @property
    def operations(self):
        """The layers and the ops called on symbolic tensors (`Operation`s) of a functional
        model, in graph order (Keras's `model.operations`); the layers of any other model."""
        if self._nodes is None:
            return self.layers
        return list(self._functional_layers)

    def _sublayers(self):
        if self._nodes is not None:
            return self.layers
        return super()._sublayers()

    def get_layer(self, name=None, index=None):
        """A layer by name (or by index)."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"index {index} is out of range: model '{self.name}' has "
                                 f"{len(layers)} layers")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r} in model '{self.name}'; layers: "
                         f"{[l.name for l in layers]}")

    @property
    def input(self):
        """A functional model's inputs as given to `Model(inputs, outputs)` (Keras keeps the
        structure; a Sequential's, its Input); a subclassed model's, as any layer's, from its first symbolic call."""
        if self.inputs is None:
            return super().input
        return self._inputs_structure

    @property
    def output(self):
        if self.outputs is None:
            return super().output
        return self._outputs_structure

    @property
    def output_names(self):
        """The names of the layers that make the outputs (Keras names the outputs so)."""
        if isinstance(getattr(self, "_outputs_structure", None), dict):
            return list(self._outputs_structure)
        return [o.layer.name for o in self.outputs or []]

    @property
    def input_names(self):
        return [i.layer.name for i in self.inputs or []]

    @property
    def output_shape(self):
        shapes = [o.shape for o in self.outputs or []]
        if not shapes:
            raise AttributeError(f"model '{self.name}' has no defined output shape yet")
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_shape(self):
        shapes = [i.shape for i in self.inputs or []]
        if not shapes:
            raise AttributeError(f"model '{self.name}' has no defined input shape yet")
        return shapes[0] if len(shapes) == 1 else shapes

    # ---- running ---------------------------------------------------------------------------------
    def _flat_inputs(self, inputs):
        """The given inputs in the order of `self.inputs` (a dict is matched by input name)."""
        if isinstance(inputs, dict) and not isinstance(self._inputs_structure, dict):
            names = self.input_names
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"model '{self.name}' takes inputs {names}; the dict given "
                                 f"has {sorted(inputs)}")
            return [inputs[n] for n in names]
        given = list(inputs.values()) if isinstance(inputs, dict) else flatten(inputs)
        if len(given) != len(self.inputs):
            raise ValueError(f"model '{self.name}' expects {len(self.inputs)} inputs, got "
                             f"{len(given)}")
        return given

    def call(self, inputs, training=None, mask=None):
        if self._nodes is None:
            raise NotImplementedError(f"subclasses of Model must implement call(); model "
                                      f"'{self.name}' has no functional graph")
        given = [x if x is None or not hasattr(x, "shape") else functional.adjusted_rank(x, sym)
                 for x, sym in zip(self._flat_inputs(inputs), self.inputs)]
        functional.attach_input_masks(given, mask)

        def run(node, args, kwargs):
            if training is not None:  # the model's own training wins over a recorded one
                kwargs = {**kwargs, "training": training}
            return node.layer(*args, **kwargs)
        return functional.run_graph(self.inputs, self._nodes, self._outputs_structure, given,
                                    run)

    def compute_output_spec(self, inputs, *args, **kwargs):
        """The outputs on placeholders: the graph's layers inferred in turn (a functional
        model), or `call` run on probes (a subclassed one)."""
        if self._nodes is None:
            return super().compute_output_spec(inputs, *args, **kwargs)
        given = self._flat_inputs(inputs)
        functional.attach_input_masks(given, kwargs.get("mask"))

        def infer(node, args, kw):
            return node.layer.symbolic_outputs(*args, **kw)
        return functional.run_graph(self.inputs, self._nodes, self._outputs_structure, given,
                                    infer)

    def compute_output_shape(self, input_shape):
        if self._nodes is None:
            return super().compute_output_shape(input_shape)
        from mgp.layers.symbolic import map_shapes
        out = self.compute_output_spec(map_shapes(SymbolicTensor, input_shape))
        return map_structure(lambda t: t.shape, out)

    def build(self, input_shape=None):
        self.built = True

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print a table of layers, output shapes and parameter counts, as Keras does
        (`show_trainable`: a column saying Y or N for each layer with weights, - for one
        without). The table is as wide as its contents (`line_length` is accepted, as
        Keras has it); `positions`, `expand_nested` and `layer_range` are not supported."""
        from mgp.models.summary import print_summary
        given = {"positions": positions is not None, "expand_nested": bool(expand_nested),
                 "layer_range": layer_range is not None}
        if any(given.values()):
            raise NotImplementedError(f"summary({', '.join(k for k, v in given.items() if v)}"
                                      f"=...) is not supported by mgp")
        print_summary(self, print_fn=print_fn or print, show_trainable=show_trainable)

    # ---- saving (the file formats live in mgp.saving) --------------------------------------------
    def save_weights(self, filepath, overwrite=True):
        """Write the weights to a Keras 3 compatible `.weights.h5` file (atomically)."""
        from mgp import saving
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False):
        """Read weights from a `.weights.h5` file (mgp's or Keras's); the model is unchanged if
        anything does not match."""
        from mgp import saving
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Save architecture, compile settings, weights and optimizer state: one HDF5 file for
        `.h5`, Keras 3's zip layout for `.keras` (chosen by the suffix)."""
        from mgp import saving
        saving.save_model(self, filepath, overwrite=overwrite,
                          include_optimizer=include_optimizer)

    # ---- config ----------------------------------------------------------------------------------
    def to_json(self, **kwargs):
        """The architecture as Keras's JSON (`mgp.models.model_from_json` reads it back)."""
        import json

        from mgp.saving.serialization_lib import serialize_keras_object
        return json.dumps(serialize_keras_object(self), **kwargs)

    def get_config(self):
        if self._nodes is None:  # a subclassed model: what Layer saves
            return {"name": self.name, "trainable": self.trainable}
        from mgp.models.serialization import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "layers" in config and "input_layers" in config:
            from mgp.models.serialization import functional_from_config
            return functional_from_config(config, custom_objects,
                                          cls=cls if cls is not Model else None)
        return cls(**config)

    def get_build_config(self):
        if self._nodes is not None:
            return None  # a functional model is built by its config
        return super().get_build_config()

    def build_from_config(self, config):
        """Build from `get_build_config()`'s result: a subclassed model by calling it once on
        zeros of the saved input shape(s) (unknown sizes as 1)."""
        if self.built or not config:
            return
        if "input_shape" not in config:
            return super().build_from_config(config)
        import numpy as np

        from mgp.tensor import no_grad
        shape = config["input_shape"]
        several = bool(shape) and not isinstance(shape[0], (int, type(None)))
        inputs = [np.zeros([1] + [d or 1 for d in s[1:]], np.float32)
                  for s in (shape if several else [shape])]
        with no_grad():
            self(inputs if several else inputs[0], training=False)
        self.built = True

    def __repr__(self):
        kind = "functional" if self._nodes is not None else "subclassed"
        return f"<{type(self).__name__} '{self.name}' ({kind}), {len(self.layers)} layers>"
