"""RMSNormalization: divide by the root mean square over the feature axes, then scale (Zhang &
Sennrich 2019): layer normalization without centring."""
import numpy as np

from mgp import ops
from mgp.layers._utils import describe, floating
from mgp.layers.base import Layer


class RMSNormalization(Layer):
    """x / sqrt(mean(x ** 2 over `axis`) + epsilon) * scale (`mgp.ops.rms_normalization`).

    Args:
        axis: the axis, or a list of axes, to normalize over; `scale` has their sizes.
        epsilon: added to the mean square.

    Weights: `scale`, initialized to ones. As in Keras, building turns `axis` into a sorted
    list (so the config of a built layer holds a list).
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                               for a in axes):
            raise ValueError(f"RMSNormalization: axis must be an int or a list of ints, got "
                             f"{axis!r}")
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon = float(epsilon)
        self.scale = None

    def _axes(self, shape):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -len(shape) <= a < len(shape):
                raise ValueError(f"{describe(self)}: axis {a} is out of range for inputs of "
                                 f"shape {tuple(shape)}")
        return axes

    def build(self, input_shape):
        axes = self._axes(input_shape)
        if isinstance(self.axis, list):
            self.axis = sorted(self.axis)
            axes = self.axis
        else:
            self.axis = axes
        shape = tuple(input_shape[a] for a in axes)
        if None in shape:
            raise ValueError(f"{describe(self)} needs known sizes on axes {axes}, got shape "
                             f"{tuple(input_shape)}")
        self.scale = self.add_weight(shape=shape, initializer="ones", name="scale")

    def call(self, inputs):
        x = floating(inputs, self.dtype)
        axes = self._axes(x.shape)
        got = tuple(x.shape[a] for a in axes)
        if got != tuple(self.scale.shape):
            raise ValueError(f"{describe(self)} expected sizes {tuple(self.scale.shape)} on axes "
                             f"{axes}, got shape {tuple(x.shape)}")
        return ops.nn.rms_normalization(x, self.scale, axes, self.epsilon)

    def compute_output_shape(self, input_shape):
        self._axes(input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
