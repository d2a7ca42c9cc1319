"""Masking: marks the padded time steps of a sequence."""
from mgp import ops
from mgp.layers.base import Layer


class Masking(Layer):
    """Marks the time steps to skip: a step whose features all equal `mask_value` is masked
    (its mask entry False) and its features set to 0, as Keras's `Masking` does.

    Args:
        mask_value: the value that marks a padded step (0.0).

    Inputs (batch, timesteps, features); the outputs carry a (batch, timesteps) boolean mask,
    which the layers after it (RNNs, pooling, losses) read.

    Example:
        >>> x = np.array([[[1.0], [0.0]]])
        >>> Masking()(x)._keras_mask.numpy()
        array([[ True, False]])
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        out = ops.where(keep, inputs, 0)
        out._keras_mask = ops.squeeze(keep, axis=-1)
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
