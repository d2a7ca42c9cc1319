"""GaussianNoise, GaussianDropout, AlphaDropout: random noise while training, the identity at
inference; drawn as Dropout draws (`generator`)."""
import math

import numpy as np

from mgp.backend import xp
from mgp.layers._utils import floating, noise_shape_of, seed_of
from mgp.layers.base import Layer
from mgp.layers.regularization.dropout import generator


class _Noise(Layer):
    """A rate (or standard deviation) in [0, 1] and a seed, shared by the noise layers."""

    _amount = "rate"  # the argument's name

    def __init__(self, amount, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(amount, bool) or not isinstance(amount, (int, float, np.number)) \
                or not 0 <= amount <= 1:
            raise ValueError(f"{type(self).__name__}: {self._amount} must be a number in "
                             f"[0, 1], got {amount!r}")
        setattr(self, self._amount, float(amount))
        self.seed = seed_of(self, seed)
        self._rng = np.random.default_rng(self.seed) if seed is not None else None
        self.supports_masking = True  # masks pass through, as Keras's

    def _normal(self, x, mean, stddev):
        """Normal noise of x's shape and dtype, on x's device."""
        draw = generator(self._rng).standard_normal(x.shape, dtype=np.float32)
        return xp.asarray(draw * np.float32(stddev) + np.float32(mean)).astype(x.dtype, copy=False)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), self._amount: getattr(self, self._amount),
                "seed": self.seed}


class GaussianNoise(_Noise):
    """Add zero-mean Gaussian noise of standard deviation `stddev` while training.

    Args:
        stddev: the noise's standard deviation, in [0, 1] (as Keras checks it).
        seed: an int gives the layer its own generator; None draws from mgp's global one.
    """

    _amount = "stddev"

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(stddev, seed, **kwargs)

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        if not training or self.stddev == 0:
            return x
        return x + self._normal(x, 0.0, self.stddev)


class GaussianDropout(_Noise):
    """Multiply by Gaussian noise of mean 1 and standard deviation sqrt(rate / (1 - rate))
    while training (Dropout's variance without its zeros).

    Args:
        rate: as Dropout's, in [0, 1).
        seed: as GaussianNoise's.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed, **kwargs)

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        if not training or self.rate == 0:
            return x
        if self.rate == 1:
            raise ValueError(f"GaussianDropout '{self.name}': rate 1 makes the noise's standard "
                             f"deviation infinite; use a rate below 1")
        return x * self._normal(x, 1.0, math.sqrt(self.rate / (1 - self.rate)))


# SELU's constants: the value its negative side saturates at is -alpha * scale
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


class AlphaDropout(_Noise):
    """Dropout for self-normalizing networks (SELU): dropped inputs are set to SELU's
    saturation value, then an affine map restores the inputs' mean and variance, as Keras.

    Args:
        rate: fraction of the inputs to drop, in [0, 1].
        noise_shape: the keep mask's shape, None entries taking the input's size.
        seed: as GaussianNoise's.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(rate, seed, **kwargs)
        self.noise_shape = noise_shape_of(self, noise_shape)

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        if not training or self.rate == 0:
            return x
        shape = x.shape if self.noise_shape is None else \
            tuple(n if m is None else m for n, m in zip(x.shape, self.noise_shape))
        keep = generator(self._rng).random(shape, dtype=np.float32) >= self.rate
        keep = xp.asarray(keep).astype(x.dtype)
        saturated = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * saturated ** 2)) ** -0.5
        b = -a * saturated * self.rate
        # a * (x * keep + saturated * (1 - keep)) + b, the constants folded per element
        return x * (a * keep) + (a * saturated * (1 - keep) + b).astype(x.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "noise_shape": self.noise_shape}
