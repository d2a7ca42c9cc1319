"""Pipeline: preprocessing layers applied one after another, as one layer."""
import functools
import inspect

from mgp.layers.base import Layer


class Pipeline(Layer):
    """Apply `layers` in order; `training` (True by default, as for the augmentation layers
    called directly) goes to each layer that takes it, and the mask each one attaches to its
    outputs goes to the next. Unlike a Sequential model it is a plain layer: it can sit in a
    data pipeline or inside a model.

    Args:
        layers: the layers, in order.
        name: the layer's name.

    Example:
        >>> augment = Pipeline([RandomFlip(), RandomRotation(0.1)])
        >>> augment(images)
    """

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(l, Layer)
                                                           for l in layers):
            raise ValueError(f"Pipeline: layers must be a list of layers, got {layers!r}")
        self._pipeline_layers = list(layers)

    @property
    def layers(self):
        return self._pipeline_layers

    def call(self, inputs, training=True, mask=None):
        outputs = inputs
        for layer in self._pipeline_layers:
            kwargs = {}
            if "training" in _call_parameters(layer) and training is not None:
                kwargs["training"] = training
            if "mask" in _call_parameters(layer) and mask is not None:
                kwargs["mask"] = mask
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = getattr(outputs, "_keras_mask", None)
        return outputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        from mgp.models.serialization import serialize_layer
        return {"layers": [serialize_layer(l) for l in self._pipeline_layers],
                "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mgp.models.serialization import deserialize_layer
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(f"Pipeline: the config must hold a list of serialized layers under "
                             f"'layers', got layers={layers!r}")
        return cls([deserialize_layer(entry, custom_objects) for entry in layers],
                   name=config.get("name"))


@functools.lru_cache(maxsize=None)
def _parameters(call):
    return frozenset(inspect.signature(call).parameters)


def _call_parameters(layer):
    """The names `layer.call` takes (asked once per class's call)."""
    return _parameters(getattr(layer.call, "__func__", layer.call))
