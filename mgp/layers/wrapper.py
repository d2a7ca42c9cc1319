"""Wrapper: the base class of layers that hold one other layer and change how it runs
(SpectralNormalization here; TimeDistributed and Bidirectional in Keras)."""
from mgp.layers.base import Layer


class Wrapper(Layer):
    """A layer around `layer`: builds it on its first input, tracks its weights (they are the
    wrapper's too) and writes it into the wrapper's config, from which `from_config` rebuilds
    it. Subclasses define `call`.

    Args:
        layer: the layer to wrap (an `mgp.layers.Layer`).
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__}: layer must be an mgp layer, got "
                             f"{layer!r} of type {type(layer).__name__}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:  # through build_from_config, so its build shape is recorded
            self.layer.build_from_config({"input_shape": input_shape})

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        from mgp.models.serialization import serialize_layer
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mgp.models.serialization import deserialize_layer
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)
