"""Reshape: each sample to a target shape, keeping the batch axis."""
import math

from mgp import ops
from mgp.layers._utils import describe
from mgp.layers.base import Layer


class Reshape(Layer):
    """Reshape each sample to `target_shape`; the batch axis is kept.

    Args:
        target_shape: tuple of ints, not counting the batch axis; one entry may be -1 (inferred).

    Example:
        >>> Reshape((28, 28, 1))(np.zeros((8, 784))).shape
        (8, 28, 28, 1)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target_shape = tuple(int(n) for n in target_shape)
        except (TypeError, ValueError):
            raise ValueError(f"Reshape: target_shape must be a tuple of ints, got "
                             f"{target_shape!r}") from None
        if sum(n == -1 for n in target_shape) > 1 or any(n < -1 or n == 0 for n in target_shape):
            raise ValueError(f"Reshape: target_shape must hold positive ints and at most one -1, "
                             f"got {target_shape}")
        self.target_shape = target_shape

    def _resolve(self, sample_shape):
        """The target shape for samples of `sample_shape`, with the -1 filled in."""
        size = math.prod(sample_shape)
        known = math.prod(n for n in self.target_shape if n != -1)
        if -1 in self.target_shape and known and size % known == 0:
            return tuple(size // known if n == -1 else n for n in self.target_shape)
        if size == known and -1 not in self.target_shape:
            return self.target_shape
        raise ValueError(f"{describe(self)} cannot reshape samples of shape "
                         f"{tuple(sample_shape)} ({size} values) into target shape "
                         f"{self.target_shape}")

    def call(self, inputs, training=False):
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape[1:]))

    def _output_dtype(self, inputs):
        return inputs.dtype

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape)[1:]
        if None in rest:
            return (input_shape[0],) + tuple(None if n == -1 else n for n in self.target_shape)
        return (input_shape[0],) + self._resolve(rest)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}
