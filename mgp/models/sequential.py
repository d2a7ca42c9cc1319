"""Sequential: a plain stack of layers, each feeding the next."""
from mgp.layers.base import Layer
from mgp.models import functional
from mgp.layers.symbolic import SymbolicTensor, flatten, map_structure, set_mask
from mgp.models.model import Model


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: list of layers; may start with `mgp.Input(shape)` (or the first layer may be
            given `input_shape=`) so the model is built at once and `summary()` works before
            any data is seen.
        trainable: whether training updates the layers' weights.
        name: the model's name (default 'sequential', numbered).

    Masks pass from each layer to the next, as in a functional model.

    Example:
        model = mgp.Sequential([
            mgp.Input(shape=(784,)),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(name=name, trainable=trainable)
        self._layers = []
        self._input = None  # the Input placeholder, once the input shape is known
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._rebuild()

    def add(self, layer, rebuild=True):
        """Append a layer (or start the stack with `mgp.Input(shape)`)."""
        from mgp.layers import InputLayer
        if isinstance(layer, SymbolicTensor) and isinstance(layer.layer, InputLayer):
            if self._layers or self._input is not None:
                raise ValueError("mgp.Input can only start a Sequential model")
            self._input = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential takes layers, got {type(layer).__name__}: {layer!r}")
        if isinstance(layer, InputLayer):
            if self._layers or self._input is not None:
                raise ValueError("an InputLayer can only start a Sequential model")
            self._input = layer.output
            return
        if any(l is layer for l in self._layers):
            raise ValueError(f"layer '{layer.name}' is already in model '{self.name}'")
        self._layers.append(layer)
        if rebuild:
            self._rebuild()

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        if not self._layers:
            raise IndexError(f"model '{self.name}' has no layers to pop")
        layer = self._layers.pop()
        if rebuild:
            self._rebuild()
        return layer

    def _rebuild(self):
        """Trace the stack symbolically when the input shape is known (builds every layer)."""
        if self._input is None and self._layers and self._layers[0]._input_shape_arg:
            from mgp.layers import Input
            self._input = Input(shape=self._layers[0]._input_shape_arg)
        self.inputs = self.outputs = None
        if self._input is None or not self._layers:
            self.built = False
            return
        x = self._input
        for layer in self._layers:
            x = layer(x)
        self.inputs, self.outputs = [self._input], flatten(x)
        self._inputs_structure, self._outputs_structure = self._input, x
        self.built = True

    @property
    def layers(self):
        return list(self._layers)

    def _sublayers(self):
        return list(self._layers)

    @property
    def output_names(self):
        return [self._layers[-1].name] if self._layers else []

    def build(self, input_shape=None):
        """Build all layers for inputs of `input_shape` (batch axis first)."""
        if input_shape is not None and self._input is None:
            from mgp.layers import Input
            self._input = Input(batch_shape=(None,) + tuple(input_shape)[1:])
            self._rebuild()

    def call(self, inputs, training=None, mask=None):
        x = inputs
        if getattr(self, "_input", None) is not None and hasattr(x, "shape"):
            x = functional.adjusted_rank(x, self._input)  # as a functional model does
        if mask is not None:
            set_mask(x, mask)
        for layer in self._layers:
            x = layer(x) if training is None else layer(x, training=training)
        return x

    def compute_output_spec(self, inputs, *args, **kwargs):
        x = inputs
        for layer in self._layers:
            x = layer.symbolic_outputs(x)
        return x

    def compute_output_shape(self, input_shape):
        out = self.compute_output_spec(SymbolicTensor(input_shape))
        return map_structure(lambda t: t.shape, out)

    def __call__(self, inputs, *args, **kwargs):
        if not self.built and not isinstance(inputs, SymbolicTensor):
            self.build((None,) + tuple(getattr(inputs, "shape", ())[1:]))
        return super().__call__(inputs, *args, **kwargs)

    def get_config(self):
        from mgp.models.serialization import serialize_layer
        layers = [serialize_layer(l) for l in self._layers]
        if self._input is not None:
            layers.insert(0, serialize_layer(self._input.layer))
        config = {**Layer.get_config(self), "layers": layers}
        if self._input is not None:
            config["build_input_shape"] = list(self._input.shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mgp.models.serialization import check_layer_entries, deserialize_layer
        from mgp.layers import Input
        check_layer_entries(config, f"Sequential model '{config.get('name')}'")
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config["layers"]:
            if entry["class_name"] == "InputLayer":
                c = entry["config"]
                shape = c.get("batch_shape") or c.get("batch_input_shape")
                model.add(Input(batch_shape=tuple(shape), dtype=c.get("dtype"),
                                name=c.get("name")), rebuild=False)
            else:
                model.add(deserialize_layer(entry, custom_objects), rebuild=False)
        if model._input is None and config.get("build_input_shape"):
            model._input = Input(batch_shape=tuple(config["build_input_shape"]))
        model._rebuild()
        return model

    def get_build_config(self):
        if self._input is None:
            return None
        return {"input_shape": list(self._input.shape)}

    def build_from_config(self, config):
        if not self.built and config and config.get("input_shape"):
            self.build(config["input_shape"])

    def __repr__(self):
        return f"<Sequential '{self.name}', {len(self._layers)} layers, built={self.built}>"

