"""UnitNormalization: scale each sample to unit L2 norm over its feature axes."""
from mgp import ops
from mgp.layers._utils import floating
from mgp.layers.base import Layer
from mgp.layers.normalization.layer_normalization import check_axes, normalize_axis


class UnitNormalization(Layer):
    """`x / sqrt(max(sum(x ** 2 over axis), 1e-12))`: unit L2 norm over `axis` (an int or a
    list of ints). No weights; masks pass through.

    Example:
        >>> UnitNormalization()(np.array([[3.0, 4.0]])).numpy()
        array([[0.6, 0.8]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = normalize_axis("UnitNormalization", axis)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        x = floating(inputs, self.dtype)
        axes = tuple(check_axes(self, self.axis, x.shape))
        return ops.normalize(x, axis=axes, order=2, epsilon=1e-12)

    def compute_output_shape(self, input_shape):
        check_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
