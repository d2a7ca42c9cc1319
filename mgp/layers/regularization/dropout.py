"""Dropout: randomly zero inputs while training (and where the noise layers draw from)."""
import numpy as np

from mgp import backend
from mgp.backend import xp
from mgp.layers._utils import floating, noise_shape_of, seed_of
from mgp.layers.base import Layer


def generator(own):
    """Where a noise layer draws from: its own generator when it was given a seed (on the host,
    so that the draws are the same on every device), else mgp's global generator for the active
    device, which `mgp.utils.set_random_seed` seeds."""
    return own if own is not None else backend.device_rng()


class Dropout(Layer):
    """Zero each input with probability `rate` while training, and scale the rest by
    1 / (1 - rate) so the expected sum is unchanged; the identity at inference.

    Active only when called with `training=True` (which `fit` does). Masks pass through.

    Args:
        rate: fraction of inputs to drop, in [0, 1].
        noise_shape: shape of the keep mask, broadcast against the inputs; None entries take
            the input's size (e.g. (None, 1, 1, None) drops whole feature maps).
        seed: an int gives the layer its own random generator (reproducible masks); None
            draws from mgp's global generator (`mgp.utils.set_random_seed`).

    Example:
        >>> drop = Dropout(0.5)
        >>> drop(np.ones((2, 4)), training=True).data   # about half zeros, the rest 2.0
        >>> drop(np.ones((2, 4))).data                   # unchanged
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.number)) \
                or not 0 <= rate <= 1:
            raise ValueError(f"Dropout: rate must be a number in [0, 1], got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = noise_shape_of(self, noise_shape)
        self.seed = seed_of(self, seed)
        self._rng = np.random.default_rng(self.seed) if seed is not None else None
        self.supports_masking = True

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        if not training or self.rate == 0:
            return x
        keep = generator(self._rng).random(self._noise_shape(x), dtype=np.float32) >= self.rate
        scale = 1 / (1 - self.rate) if self.rate < 1 else 0.0
        return x * xp.asarray(keep * x.dtype.type(scale))

    def _noise_shape(self, x):
        """The keep mask's shape: `noise_shape` with its None entries filled from x."""
        if self.noise_shape is None:
            return x.shape
        return tuple(n if m is None else m for n, m in zip(x.shape, self.noise_shape))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}

