"""Model: a functional graph of layers (`Model(inputs, outputs)`) or a subclass with `call`."""
from mgp.layers.base import Layer, SymbolicTensor, _flatten, _map
from mgp.models.training import Trainer


def _layer_order(outputs):
    """Symbolic tensors reachable from `outputs`, each after the ones it depends on."""
    order, seen, stack = [], set(), [(o, False) for o in reversed(outputs)]
    while stack:
        sym, expanded = stack.pop()
        if expanded:
            order.append(sym)
            continue
        if id(sym) in seen:
            continue
        seen.add(id(sym))
        stack.append((sym, True))
        stack.extend((s, False) for s in reversed(_flatten(sym.inputs)) if id(s) not in seen)
    return order


def functional_layers(model):
    """A functional model's layers in Keras's order: by decreasing depth (the longest path to
    an output), ties broken by the order a depth-first walk from the outputs first meets them
    (Keras's `map_graph`); InputLayers included."""
    def node_of(sym):
        return (id(sym.layer), id(sym.inputs))

    layer_of, parents, index, order, finished = {}, {}, {}, [], set()
    stack = [(sym, False) for sym in reversed(model.outputs)]
    while stack:
        sym, done = stack.pop()
        node = node_of(sym)
        if done:
            if node not in finished:
                finished.add(node)
                order.append(node)
            continue
        if node in finished:
            continue
        layer_of[node] = sym.layer
        index.setdefault(id(sym.layer), len(index))
        inputs = _flatten(sym.inputs) if sym.inputs != () else []
        parents[node] = [node_of(s) for s in inputs]
        stack.append((sym, True))
        stack.extend((s, False) for s in reversed(inputs))

    node_depth, layer_depth = {}, {}
    for node in reversed(order):
        layer = id(layer_of[node])
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(layer, 0))
        layer_depth[layer] = node_depth[node] = depth
        for parent in parents[node]:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for sym in model.inputs:  # inputs no output depends on
        if id(sym.layer) not in layer_depth:
            layer_depth[id(sym.layer)] = 0
            index[id(sym.layer)] = -1
            layer_of[node_of(sym)] = sym.layer
    by_id = {id(layer): layer for layer in layer_of.values()}
    ids = sorted(layer_depth, key=lambda i: (-layer_depth[i], index[i]))
    return [by_id[i] for i in ids]


class Model(Trainer, Layer):
    """A model: layers plus compile / fit / evaluate / predict.

    Functional:
        inputs = mgp.Input(shape=(28, 28, 1))
        x = layers.Conv2D(32, 3, activation="relu")(inputs)
        outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
        model = mgp.Model(inputs, outputs)

    Subclassed: override `__init__` (create layers as attributes; they are found by walking the
    attributes) and `call(self, x, training=False)`.
    """

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if name is None and type(self) is Model:
            from mgp.layers.base import unique_name
            name = unique_name("functional")  # Keras's name for a functional model
        super().__init__(name=name, **kwargs)
        self.history = None
        self._graph = None
        if inputs is None and outputs is None:
            return
        if inputs is None or outputs is None:
            raise ValueError("a functional Model needs both inputs and outputs")
        self._inputs_structure, self._outputs_structure = inputs, outputs
        self.inputs, self.outputs = _flatten(inputs), _flatten(outputs)
        for t in self.inputs + self.outputs:
            if not isinstance(t, SymbolicTensor):
                raise TypeError(f"Model(inputs, outputs) takes symbolic tensors from mgp.Input "
                                f"and layer calls, got {type(t).__name__}")
        self._graph = _layer_order(self.outputs)
        known = {id(t) for t in self.inputs}
        for sym in self._graph:
            if not sym.inputs and id(sym) not in known:
                raise ValueError(f"output depends on input '{sym.layer.name}', which is not "
                                 f"among the model's inputs")
        self.built = True

    # ---- structure -------------------------------------------------------------------------------
    @property
    def layers(self):
        """The model's layers: in Keras's graph order (inputs first, then by decreasing depth)
        for functional models, in attribute order for subclassed ones."""
        if self._graph is None:
            return self._sublayers()
        return functional_layers(self)

    def _sublayers(self):
        if self._graph is not None:
            return [l for l in self.layers]
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
    def output_shape(self):
        shapes = [o.shape for o in getattr(self, "outputs", None) or []]
        if not shapes:
            raise AttributeError(f"model '{self.name}' has no defined output shape yet")
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_shape(self):
        shapes = [i.shape for i in getattr(self, "inputs", None) or []]
        if not shapes:
            raise AttributeError(f"model '{self.name}' has no defined input shape yet")
        return shapes[0] if len(shapes) == 1 else shapes

    # ---- running ---------------------------------------------------------------------------------
    def call(self, inputs, training=False):
        if self._graph is None:
            raise NotImplementedError(f"subclasses of Model must implement call(); model "
                                      f"'{self.name}' has no functional graph")
        given = _flatten(inputs)
        if len(given) != len(self.inputs):
            raise ValueError(f"model '{self.name}' expects {len(self.inputs)} inputs, got "
                             f"{len(given)}")
        values = {id(sym): t for sym, t in zip(self.inputs, given)}
        calls = {}  # one evaluation per layer call, even when it has several outputs
        for sym in self._graph:
            if id(sym) in values:
                continue
            key = (id(sym.layer), id(sym.inputs))
            if key not in calls:
                args = _map(lambda s: values[id(s)], sym.inputs)
                kwargs = {"training": training, **sym.call_kwargs}
                calls[key] = _flatten(sym.layer(args, **kwargs))
            values[id(sym)] = calls[key][sym.index]
        return _map(lambda s: values[id(s)], self._outputs_structure)

    def build(self, input_shape):
        self.built = True

    def summary(self, line_length=None, print_fn=None):
        """Print a table of layers, output shapes and parameter counts, as Keras does."""
        from mgp.models.summary import print_summary
        print_summary(self, print_fn=print_fn or print)

    # ---- saving (the file formats live in mgp.saving) ----------------------------------------------
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
    def get_config(self):
        from mgp.models.serialization import functional_config
        if self._graph is None:
            return {"name": self.name, "trainable": self.trainable}
        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mgp.models.serialization import functional_from_config
        if "layers" in config and "input_layers" in config:
            return functional_from_config(config, custom_objects)
        return cls(**config)

    def __repr__(self):
        kind = "functional" if self._graph is not None else "subclassed"
        return f"<{type(self).__name__} '{self.name}' ({kind}), {len(self.layers)} layers>"
