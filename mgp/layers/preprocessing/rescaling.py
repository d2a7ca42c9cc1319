"""Rescaling: inputs * scale + offset."""
import numpy as np

from mgp import config, ops
from mgp.errors import InvalidArgumentError, InvalidDataError
from mgp.layers._utils import describe
from mgp.layers.base import Layer


def serialize_value(value):
    """A number, a list, or an array as Keras serializes one (`__numpy__`)."""
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(),
                                                      "dtype": value.dtype.name}}
    return value


def deserialize_value(value):
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        return np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
    return value


def check_numeric(layer, x):
    """Refuse string (and object) inputs to a numeric layer, naming it."""
    if x.dtype.kind in "USO":
        raise TypeError(f"{describe(layer)} expected numeric inputs, got dtype {x.dtype} "
                        f"(shape {tuple(x.shape)}); strings go through StringLookup, Hashing "
                        f"or TextVectorization first")


class Rescaling(Layer):
    """Multiply the inputs by `scale` and add `offset`, in the layer's float dtype: images in
    [0, 255] to [0, 1] with `Rescaling(1 / 255)`, to [-1, 1] with
    `Rescaling(1 / 127.5, offset=-1)`.

    Args:
        scale: a number, or one per channel (an array broadcast against the last axis, or
            against the channel axis when `image_data_format()` is 'channels_first').
        offset: a number, or one per channel.

    Example:
        >>> Rescaling(1 / 255)(np.array([[0, 255]], "uint8"))   # [[0., 1.]]
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            try:
                values = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                values = None
            if values is None or values.size == 0 or not np.isfinite(values).all():
                raise InvalidArgumentError(f"Rescaling: {name} must be a finite number or one "
                                           f"per channel, got {value!r}")
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        check_numeric(self, inputs)
        scale = ops.cast(self.scale, self.dtype)
        offset = ops.cast(self.offset, self.dtype)
        if scale.ndim > 0 and config.image_data_format() == "channels_first":
            scale = ops.reshape(scale, tuple(scale.shape) + (1,) * (3 - scale.ndim))
        try:
            return ops.cast(inputs, self.dtype) * scale + offset
        except ValueError as e:  # one scale (or offset) per channel, for the wrong channels
            raise InvalidDataError(f"{describe(self)}: scale of shape {tuple(scale.shape)} and "
                                   f"offset of shape {tuple(offset.shape)} do not broadcast "
                                   f"against inputs of shape {tuple(inputs.shape)} ({e})") \
                from None

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": serialize_value(self.scale),
                "offset": serialize_value(self.offset)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["scale"] = deserialize_value(config["scale"])
        config["offset"] = deserialize_value(config["offset"])
        return cls(**config)
