"""SpatialDropout1D, SpatialDropout2D, SpatialDropout3D: Dropout that zeroes whole feature maps
(one draw per sample and channel), one class, `BaseSpatialDropout`, by rank."""
from mgp.layers._utils import check_rank, describe, normalize_data_format
from mgp.layers.regularization.dropout import Dropout
from mgp.ops.windows import axes_words


class BaseSpatialDropout(Dropout):
    """Zero each (sample, channel) feature map with probability `rate` while training, scaling
    the rest by 1 / (1 - rate); the identity at inference.

    Args:
        rate: fraction of the feature maps to drop, in [0, 1].
        data_format (2-D and 3-D): 'channels_last' (default when None) or 'channels_first'.
        seed: an int gives the layer its own generator; None draws from mgp's global one.
    """

    rank = None  # spatial axes, set by each concrete class

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        try:
            self.data_format = normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f"{type(self).__name__}: {e}") from None

    def call(self, inputs, training=False):
        check_rank(self, inputs.shape, self.rank + 2, axes_words(self.rank, self.data_format))
        return super().call(inputs, training)

    def _noise_shape(self, x):  # one draw per sample and channel
        if self.data_format == "channels_last":
            return (x.shape[0],) + (1,) * self.rank + (x.shape[-1],)
        return x.shape[:2] + (1,) * self.rank

    def compute_output_shape(self, input_shape):
        check_rank(self, tuple(input_shape), self.rank + 2,
                   axes_words(self.rank, self.data_format))
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        del config["trainable"]  # Keras's SpatialDropout takes no `trainable` (nor writes it)
        config["data_format"] = self.data_format
        return config

    def __repr__(self):
        return f"<{describe(self)}, rate={self.rate}>"


class SpatialDropout1D(BaseSpatialDropout):
    """Drop whole channels of (batch, steps, channels) (as `BaseSpatialDropout`)."""

    rank = 1

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, None, seed, name, dtype, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(BaseSpatialDropout):
    """Drop whole feature maps of images (as `BaseSpatialDropout`)."""

    rank = 2


class SpatialDropout3D(BaseSpatialDropout):
    """Drop whole feature maps of volumes (as `BaseSpatialDropout`)."""

    rank = 3
