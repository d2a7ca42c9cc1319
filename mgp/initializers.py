"""Weight initializers, as Keras names them. Each is a callable `(shape, dtype) -> ndarray`
drawing from mgp's one random generator (so `mgp.utils.set_random_seed` fixes them)."""
import math

import numpy as np

from mgp import backend


def _fans(shape, input_axes=None, output_axes=None):
    """fan_in, fan_out as Keras computes them (conv kernels: receptive field times channels;
    the sizes of `input_axes` and `output_axes` when both are given)."""
    if input_axes is not None and output_axes is not None:
        return (math.prod(shape[a] for a in input_axes),
                math.prod(shape[a] for a in output_axes))
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype="float32"):
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class Zeros(Constant):
    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def _rng(self):
        return np.random.default_rng(self.seed) if self.seed is not None else backend.rng()

    def __call__(self, shape, dtype="float32"):
        return (self.mean + self.stddev * self._rng().standard_normal(shape)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal, redrawn beyond two standard deviations (as Keras)."""

    def __call__(self, shape, dtype="float32"):
        rng = self._rng()
        z = rng.standard_normal(shape)
        bad = np.abs(z) > 2
        while bad.any():  # expected ~5% redrawn per pass: a handful of passes, not per element
            z[bad] = rng.standard_normal(int(bad.sum()))
            bad = np.abs(z) > 2
        return (self.mean + self.stddev * z).astype(dtype)


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype="float32"):
        rng = np.random.default_rng(self.seed) if self.seed is not None else backend.rng()
        return rng.uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras's family behind glorot_*, he_* and lecun_*: variance scale / fan."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.input_axes, self.output_axes = input_axes, output_axes

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = _fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return RandomUniform(-limit, limit, self.seed)(shape, dtype)
        if self.distribution == "truncated_normal":
            # 0.8796... is the stddev of a unit normal truncated at two standard deviations
            return TruncatedNormal(0.0, math.sqrt(variance) / 0.87962566103423978,
                                   self.seed)(shape, dtype)
        return RandomNormal(0.0, math.sqrt(variance), self.seed)(shape, dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


def _variant(name, scale, mode, distribution):
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": f"VarianceScaling({scale}, {mode!r}, "
                                                      f"{distribution!r})."})


GlorotUniform = _variant("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variant("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variant("HeUniform", 2.0, "fan_in", "uniform")
class Orthogonal(RandomNormal):
    """A (semi-)orthogonal matrix times `gain` (Saxe et al. 2014), Keras's default for the
    recurrent kernels: the QR factor of a standard normal matrix, its columns' signs fixed by
    R's diagonal so that the result is uniformly distributed. Shapes of more than two axes are
    flattened to (product of the leading axes, last axis)."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype="float32"):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of at least 2 axes, got "
                             f"{tuple(shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


HeNormal = _variant("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variant("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variant("LecunNormal", 1.0, "fan_in", "truncated_normal")

_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
}


def get(identifier):
    """An initializer from a name ('glorot_uniform'), a class name, a config dict, or a callable."""
    if isinstance(identifier, Initializer) or callable(identifier) and \
            not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, dict):
        from mgp.saving.serialization_lib import deserialize_keras_object
        return deserialize_keras_object(identifier, module_objects=_classes(),
                                        kind="initializer")
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise ValueError(f"could not interpret initializer {identifier!r}")


def _classes():
    return {cls.__name__: cls for cls in [Initializer] + list(_BY_NAME.values())}


def _lookup(name):
    classes = {cls.__name__: cls for cls in _BY_NAME.values()}
    cls = _BY_NAME.get(name) or classes.get(name)
    if cls is None:
        raise ValueError(f"unknown initializer {name!r}; known: {sorted(_BY_NAME)}")
    return cls


def serialize(initializer):
    """Keras's serialized form: `{"module", "class_name", "config", "registered_name"}`."""
    from mgp.saving.serialization_lib import serialize_keras_object
    return serialize_keras_object(initializer)
