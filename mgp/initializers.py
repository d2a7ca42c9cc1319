"""Weight initializers, as Keras names them. Each is a callable `(shape, dtype) -> ndarray`;
the random ones draw from mgp's one random generator (so `mgp.utils.set_random_seed` fixes
them), or, given `seed=`, the same values at every call.

As in Keras, each class also answers to its snake_case name (`glorot_uniform` is
`GlorotUniform`), and `get` / `serialize` / `deserialize` go to and from names and configs."""
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


def _seed(cls, seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"{cls.__name__}: seed must be an int or None, got {seed!r}")
    return None if seed is None else int(seed)


def _rng(seed):
    return np.random.default_rng(seed) if seed is not None else backend.rng()


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, _seed(type(self), seed)

    def _rng(self):
        return _rng(self.seed)

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
        self.minval, self.maxval, self.seed = minval, maxval, _seed(type(self), seed)

    def __call__(self, shape, dtype="float32"):
        return _rng(self.seed).uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras's family behind glorot_*, he_* and lecun_*: variance scale / fan."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        name = type(self).__name__
        if not scale > 0:
            raise ValueError(f"{name}: scale must be a positive float, got {scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"{name}: mode must be 'fan_in', 'fan_out' or 'fan_avg', got "
                             f"{mode!r}")
        distribution = str(distribution).lower()
        if distribution == "normal":  # Keras's older name for the truncated one
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"{name}: distribution must be 'uniform', 'truncated_normal' or "
                             f"'untruncated_normal', got {distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.seed = _seed(type(self), seed)
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
HeNormal = _variant("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variant("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variant("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only; a rectangular one has ones on its
    main diagonal)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype="float32"):
        if len(shape) != 2:
            raise ValueError(f"Identity initializer: only 2-D shapes, got shape {tuple(shape)} "
                             f"of rank {len(shape)}")
        return (self.gain * np.eye(*shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain}


class Orthogonal(Initializer):
    """A random orthogonal matrix times `gain` (Saxe et al. 2014): the Q of the QR factorization
    of a normal matrix, its signs fixed by R's diagonal so that Q is uniformly distributed. A
    shape of rank > 2 is flattened to (prod(shape[:-1]), shape[-1]); its rows (or columns,
    whichever are fewer) are orthonormal."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, _seed(type(self), seed)

    def __call__(self, shape, dtype="float32"):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer: needs a shape of rank 2 or more, got "
                             f"shape {tuple(shape)} of rank {len(shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = _rng(self.seed).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype)

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


def _cosine_sum(*coefficients):
    """A generalized cosine window sum_k (-1)^k a_k cos(2 pi k n / (M - 1)) (SciPy's
    definitions of hann, hamming and blackman)."""
    def window(m):
        t = 2 * np.pi * np.arange(m) / (m - 1)
        return sum((-1) ** k * a * np.cos(k * t) for k, a in enumerate(coefficients))
    return window


# the windows of SciPy's catalogue that STFT takes by name, as symmetric windows of length M > 1
_WINDOWS = {
    "hann": _cosine_sum(0.5, 0.5),
    "hamming": _cosine_sum(0.54, 0.46),
    "blackman": _cosine_sum(0.42, 0.5, 0.08),
    "bartlett": lambda m: 1 - np.abs(2 * np.arange(m) / (m - 1) - 1),
    "boxcar": np.ones,
    "cosine": lambda m: np.sin(np.pi * (np.arange(m) + 0.5) / m),
}


def get_window(name, length, periodic=False):
    """The window `name` of `length` points, as `scipy.signal.get_window(name, length,
    fftbins=periodic)`: a periodic window is the symmetric one of length + 1 without its last
    point (the form whose DFT has no leakage between bins)."""
    if name not in _WINDOWS:
        raise ValueError(f"unknown window {name!r}; mgp has {sorted(_WINDOWS)} (or pass the "
                         f"window's values)")
    if length == 1:
        return np.ones(1)
    if name == "cosine":  # defined on half-integer points, so its periodic form differs
        return _WINDOWS[name](length + periodic)[:length]
    return _WINDOWS[name](length + 1)[:-1] if periodic else _WINDOWS[name](length)


class STFT(Initializer):
    """The kernel of a convolution that computes a short-time Fourier transform (the layer
    `STFTSpectrogram`): for shape (frame_length, channels, bins), the real (`side="real"`) or
    imaginary (`"imag"`) part of exp(-2 pi i t f / (2 (bins - 1))), times the window, divided by
    its L2 norm (`scaling="density"`), its L1 norm (`"spectrum"`) or nothing (None).

    Args:
        side: "real" or "imag".
        window: a window's name (see `get_window`), its values (frame_length of them), or None.
        scaling: "density", "spectrum" or None.
        periodic: whether a named window is periodic (True) or symmetric.
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT initializer: side must be 'real' or 'imag', got {side!r}")
        if isinstance(window, str):
            get_window(window, 2)  # an unknown name fails here, not at the first call
        if scaling not in (None, "density", "spectrum"):
            raise ValueError(f"STFT initializer: scaling must be None, 'density' or 'spectrum', "
                             f"got {scaling!r}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype="float32"):
        if len(shape) != 3:
            raise ValueError(f"STFT initializer: shape must be (frame_length, channels, bins), "
                             f"got {tuple(shape)}")
        frame_length, _, bins = shape
        time = np.arange(frame_length).reshape(-1, 1, 1)
        freq = np.arange(bins).reshape(1, 1, -1) / ((bins - 1) * 2)
        angle = -2 * np.pi * time * freq
        kernel = np.cos(angle) if self.side == "real" else np.sin(angle)
        if self.window is not None:
            win = (get_window(self.window, frame_length, self.periodic)
                   if isinstance(self.window, str) else np.asarray(self.window, np.float64))
            if win.shape != (frame_length,):
                raise ValueError(f"STFT initializer: the window must have frame_length = "
                                 f"{frame_length} values, got shape {win.shape}")
            scale = {"density": np.sqrt(np.sum(win ** 2)), "spectrum": np.sum(np.abs(win)),
                     None: 1.0}[self.scaling]
            kernel = kernel * win.reshape(-1, 1, 1) / scale
        return kernel.astype(dtype)

    def get_config(self):
        window = self.window.tolist() if isinstance(self.window, np.ndarray) else self.window
        return {"side": self.side, "window": window, "periodic": self.periodic,
                "scaling": self.scaling}


IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT
# Keras's snake_case names are the classes themselves
constant, zeros, ones, identity, stft = Constant, Zeros, Ones, Identity, STFT
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal

_CLASSES = (Initializer, Constant, Zeros, Ones, Identity, STFT, RandomNormal, RandomUniform,
            TruncatedNormal, VarianceScaling, Orthogonal, GlorotUniform, GlorotNormal,
            HeUniform, HeNormal, LecunUniform, LecunNormal)


def _snake(name):
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out.replace("s_t_f_t", "stft")


# every name Keras's `get` and `deserialize` take: class names, snake_case names, old aliases
_BY_NAME = {**{cls.__name__: cls for cls in _CLASSES},
            **{_snake(cls.__name__): cls for cls in _CLASSES},
            "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal,
            "STFTInitializer": STFT, "normal": RandomNormal, "uniform": RandomUniform,
            "one": Ones, "zero": Zeros}


def deserialize(config, custom_objects=None):
    """An initializer from Keras's serialized form (`{"class_name", "config", ...}`) or a name."""
    from mgp.saving.serialization_lib import deserialize_keras_object
    return deserialize_keras_object(config, module_objects=_BY_NAME,
                                    custom_objects=custom_objects, kind="initializer")


def get(identifier):
    """An initializer from a name ('glorot_uniform', 'GlorotUniform'), a config dict, a class
    (instantiated with its defaults), an initializer or function (itself), or an array (an
    initializer that returns it, for that shape only); None gives None, as in Keras."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"unknown initializer {identifier!r}; known: "
                             f"{sorted(n for n in _BY_NAME if n != 'initializer')}")
        return cls()
    if isinstance(identifier, type):
        return identifier()
    if isinstance(identifier, np.ndarray) or hasattr(identifier, "__array__") and \
            not callable(identifier):
        return _from_array(np.asarray(identifier))
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret initializer {identifier!r}: expected a name, a "
                     f"config dict, a class, a callable or an array")


def _from_array(values):
    def initialize(shape, dtype="float32"):
        if tuple(shape) != values.shape:
            raise ValueError(f"this initializer holds an array of shape {values.shape}; it "
                             f"cannot initialize shape {tuple(shape)}")
        return values.astype(dtype)
    return initialize


def serialize(initializer):
    """Keras's serialized form: `{"module", "class_name", "config", "registered_name"}`."""
    from mgp.saving.serialization_lib import serialize_keras_object
    return serialize_keras_object(initializer)
