"""TimeDistributed: one layer applied to every time step of a sequence."""
from mgp import ops
from mgp.layers._utils import describe
from mgp.layers.base import _function, _signature
from mgp.layers.wrapper import Wrapper


class TimeDistributed(Wrapper):
    """Applies `layer` to each slice `inputs[:, t]` of (batch, timesteps, ...) inputs, with the
    same weights at every step (Keras's `TimeDistributed`).

    The steps are folded into the batch axis, so the wrapped layer runs once on
    (batch * timesteps, ...) inputs (one GEMM for a Dense) instead of once per step; for layers
    that treat each sample on its own this is the same result. A mask of shape
    (batch, timesteps) is passed to the wrapped layer folded the same way, and passed on.
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _child_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"{describe(self)} expected inputs of at least 3 dimensions "
                             f"(batch, timesteps, ...), got {tuple(input_shape)}")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        super().build(self._child_shape(input_shape))

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        self._child_shape(shape)
        if mask is not None and tuple(mask.shape[:2]) != shape[:2]:
            raise ValueError(f"{describe(self)}: the mask's first two dimensions must be "
                             f"(batch, timesteps) = {shape[:2]} for inputs of shape {shape}, "
                             f"got a mask of shape {tuple(mask.shape)}")
        batch, steps = shape[:2]
        kwargs = {} if training is None else {"training": training}
        if mask is not None and "mask" in _signature(_function(self.layer.call))[0]:
            kwargs["mask"] = ops.reshape(mask, (batch * steps,) + tuple(mask.shape[2:]))
        y = self.layer(ops.reshape(inputs, (batch * steps,) + shape[2:]), **kwargs)
        return ops.reshape(y, (batch, steps) + tuple(y.shape[1:]))

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child[0], input_shape[1], *child[1:])
