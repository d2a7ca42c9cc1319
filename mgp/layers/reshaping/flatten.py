"""Flatten: each sample as one vector, keeping the batch axis."""
import math

from mgp import ops
from mgp.layers._utils import normalize_data_format
from mgp.layers.base import Layer


class Flatten(Layer):
    """Flatten each sample: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...).

    Args:
        data_format: with 'channels_first', channels are moved last before flattening (as
            Keras), so the features come out in the same order under both formats.

    Example:
        >>> Flatten()(np.zeros((8, 5, 5, 64))).shape
        (8, 1600)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs, training=False):
        x = inputs
        if self.data_format == "channels_first" and x.ndim >= 3:
            x = ops.transpose(x, (0,) + tuple(range(2, x.ndim)) + (1,))
        return ops.reshape(x, (x.shape[0], math.prod(x.shape[1:])))

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape)[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def _output_dtype(self, inputs):
        return inputs.dtype  # no cast: uint8 pixels stay uint8

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
