"""Random tensors, as Keras's `keras.random` draws them.

Every function takes `seed`, which decides where the randomness comes from:
- None: mgp's global generator, which `mgp.utils.set_random_seed(n)` reseeds, so one seed
  reproduces a whole run;
- an int: a fixed draw (the same int gives the same values on every call);
- a `SeedGenerator`: its own stream, advanced by each draw (a generator made with a seed
  reproduces its sequence);
- a seed tensor, as `SeedGenerator.next()` returns: a fixed draw, as an int.

Values are drawn on the host with NumPy's generators (so a seed gives the same numbers on every
device) and then placed on the active device. They differ from Keras's (each backend has its
own generator); the distributions are the same.
"""

import numpy as np

from mgp import backend, config
from mgp.backend import to_numpy, xp
from mgp.dtypes import standardize_dtype
from mgp.tensor import Tensor


class SeedGenerator:
    """A stream of random draws of its own: pass it as `seed=` to the functions here, and each
    call advances it.

    Args:
        seed: an int to reproduce the stream; None draws one from mgp's global generator (so
            `mgp.utils.set_random_seed` reproduces it too).
        name: a name, for the repr.

    Example:
        >>> gen = mgp.random.SeedGenerator(42)
        >>> a, b = mgp.random.normal((2,), seed=gen), mgp.random.normal((2,), seed=gen)
        >>> # a and b differ; SeedGenerator(42) gives the same a, then the same b, again
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"SeedGenerator: unexpected arguments {sorted(kwargs)}")
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(f"SeedGenerator: seed must be an int or None, got {seed!r}")
        self._seed = None if seed is None else int(seed)
        initial = self._seed if seed is not None else int(backend.rng().integers(2 ** 63))
        self._rng = np.random.default_rng(initial)
        self.name = name or config.unique_name("seed_generator")

    @property
    def seed(self):
        return self._seed

    def next(self, ordered=True):
        """A fresh seed tensor (two int32 values) from this stream; passing it as `seed=`
        gives a fixed draw."""
        return Tensor(xp.asarray(self._rng.integers(0, 2 ** 31 - 1, size=2, dtype=np.int32)),
                      dtype=np.int32)

    def get_config(self):
        return {"seed": self._seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name!r} seed={self._seed}>"


def _generator_for(seed):
    """The NumPy generator a draw with `seed` takes its values from."""
    if seed is None:
        return backend.rng()
    if isinstance(seed, SeedGenerator):
        return seed._rng
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)):
        return np.random.default_rng(int(seed))
    if isinstance(seed, Tensor) or isinstance(seed, (np.ndarray, list, tuple)):
        values = to_numpy(seed.data if isinstance(seed, Tensor) else np.asarray(seed))
        if values.dtype.kind not in "iu":
            raise ValueError(f"seed tensor must hold integers, got dtype {values.dtype}")
        return np.random.default_rng([int(v) % 2 ** 32 for v in values.reshape(-1)])
    raise ValueError(f"seed must be None, an int, a SeedGenerator or a seed tensor, got "
                     f"{seed!r}")


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _float_dtype(dtype, fn):
    dtype = np.dtype(standardize_dtype(dtype))
    if dtype.kind != "f":
        raise ValueError(f"{fn}: dtype must be a float dtype, got {dtype}")
    return dtype


def _host(x):
    """A parameter (scalar or tensor) as a host float64 array."""
    if isinstance(x, Tensor):
        return to_numpy(x.data).astype(np.float64)
    return np.asarray(x, dtype=np.float64)


def _out(values, dtype):
    return Tensor(xp.asarray(np.asarray(values).astype(dtype, copy=False)), dtype=dtype)


# ============================================== draws ===============================================

def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of the normal distribution N(mean, stddev**2); dtype `floatx()` unless given."""
    dtype = _float_dtype(dtype, "normal")
    z = _generator_for(seed).standard_normal(_shape(shape))
    return _out(_host(mean) + _host(stddev) * z, dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev**2) truncated to within two standard deviations (values
    further out are drawn again)."""
    dtype = _float_dtype(dtype, "truncated_normal")
    rng = _generator_for(seed)
    z = rng.standard_normal(_shape(shape))
    outside = np.abs(z) > 2
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2
    return _out(_host(mean) + _host(stddev) * z, dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of the uniform distribution on [minval, maxval); float dtypes only (`randint`
    draws integers)."""
    dtype = np.dtype(standardize_dtype(dtype))
    if dtype.kind != "f":
        raise ValueError(f"uniform: dtype must be a float dtype, got {dtype}; use "
                         f"mgp.random.randint for integers")
    u = _generator_for(seed).random(_shape(shape))
    lo, hi = _host(minval), _host(maxval)
    return _out(lo + (hi - lo) * u, dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from [minval, maxval)."""
    dtype = np.dtype(standardize_dtype(dtype))
    if dtype.kind not in "iu":
        raise ValueError(f"randint: dtype must be an integer dtype, got {dtype}")
    lo, hi = _host(minval).astype(np.int64), _host(maxval).astype(np.int64)
    if np.any(hi <= lo):
        raise ValueError(f"randint: maxval ({maxval}) must be greater than minval ({minval})")
    return _out(_generator_for(seed).integers(lo, hi, size=_shape(shape)), dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """For each row of `logits` (batch, classes), `num_samples` classes drawn with
    probabilities softmax(logits): (batch, num_samples)."""
    x = to_numpy(logits.data if isinstance(logits, Tensor) else np.asarray(logits))
    if x.ndim != 2:
        raise ValueError(f"categorical: logits must be 2-D (batch, classes), got shape "
                         f"{x.shape}")
    dtype = np.dtype(standardize_dtype(dtype))
    # the Gumbel-max trick: argmax of logits plus Gumbel noise is a softmax sample
    u = _generator_for(seed).random((x.shape[0], int(num_samples), x.shape[1]))
    gumbel = -np.log(-np.log(np.clip(u, 1e-20, 1.0)))
    return _out(np.argmax(x[:, None, :].astype(np.float64) + gumbel, axis=-1), dtype)


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of the gamma distribution with shape `alpha` and scale 1."""
    dtype = _float_dtype(dtype, "gamma")
    return _out(_generator_for(seed).gamma(_host(alpha), size=_shape(shape)), dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples of the beta distribution with parameters `alpha` and `beta`."""
    dtype = _float_dtype(dtype, "beta")
    return _out(_generator_for(seed).beta(_host(alpha), _host(beta), size=_shape(shape)),
                dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples of the binomial distribution: successes in `counts` trials of probability
    `probabilities`; dtype `floatx()` unless given."""
    dtype = np.dtype(standardize_dtype(dtype))
    n = _host(counts).astype(np.int64)
    p = _host(probabilities)
    return _out(_generator_for(seed).binomial(n, p, size=_shape(shape)), dtype)


# ===================================== ops on given tensors =========================================

def dropout(inputs, rate, noise_shape=None, seed=None):
    """inputs with each element zeroed with probability `rate` and the rest scaled by
    1 / (1 - rate); `noise_shape` (broadcast against the inputs) shares one draw across axes.
    Differentiable in the inputs."""
    from mgp.ops.numpy import _float, multiply
    x = _float(inputs)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    shape = x.shape if noise_shape is None else tuple(
        x.shape[i] if n is None else int(n) for i, n in enumerate(noise_shape))
    keep = _generator_for(seed).random(shape) >= rate
    mask = (keep / (1 - rate)).astype(x.dtype)
    return multiply(x, Tensor(xp.asarray(mask), dtype=x.dtype))


def shuffle(x, axis=0, seed=None):
    """x with its slices along `axis` in a random order (gradients follow them)."""
    from mgp.ops.numpy import _axis, _t, take
    x = _t(x)
    axis = _axis(axis, x.ndim)
    order = _generator_for(seed).permutation(x.shape[axis])
    return take(x, Tensor(xp.asarray(order)), axis)
