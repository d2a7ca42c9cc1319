"""Learning-rate schedules, as `keras.optimizers.schedules` defines them.

A schedule is a callable `step -> learning rate` that an optimizer calls with its step count
before every update, when it is given as `learning_rate=`. Each computes in float32, operation
by operation as Keras does, and also takes an array of steps (`schedule(np.arange(1000))`, to
plot it). In an optimizer's config a schedule is serialized as Keras serializes it
(`{"module": "keras.optimizers.schedules", "class_name": ..., "config": ...}`).

Example:
    >>> lr = mgp.optimizers.schedules.CosineDecay(0.0, decay_steps=1000, warmup_target=0.1,
    ...                                             warmup_steps=100)
    >>> opt = mgp.optimizers.SGD(learning_rate=lr)
"""
import math

import numpy as np

from mgp.tensor import Tensor

f32 = np.float32


class LearningRateSchedule:
    """Base class: override `__call__(step)` (and `get_config` to make it serializable)."""

    def __call__(self, step):
        raise NotImplementedError(f"learning-rate schedule '{type(self).__name__}' must override "
                                  f"__call__(self, step)")

    def get_config(self):
        raise NotImplementedError(f"learning-rate schedule '{type(self).__name__}' must override "
                                  f"get_config() to be serializable")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def _steps(step):
    """The step(s) as a float32 array, and whether the caller gave a single step."""
    step = step.data if isinstance(step, Tensor) else step
    step = np.asarray(step)
    return step.astype(f32), step.ndim == 0


def _out(value, single):
    value = np.asarray(value, dtype=f32)
    return f32(value) if single else value


def _check_steps(who, name, value):
    if not value > 0:
        raise ValueError(f"{who}: {name} must be > 0, got {value!r}")


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`; with `staircase`, the
    exponent is floored (the rate drops every `decay_steps`).

    Args:
        initial_learning_rate: float. decay_steps: int > 0. decay_rate: float.
        staircase: bool. name: kept in the config.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        _check_steps("ExponentialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        s, single = _steps(step)
        p = s / f32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return _out(f32(self.initial_learning_rate) * np.power(f32(self.decay_rate), p), single)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while `step <= boundaries[0]`, `values[1]` while
    `boundaries[0] < step <= boundaries[1]`, ..., `values[-1]` after `boundaries[-1]`.

    Args:
        boundaries: increasing step numbers. values: one more float than `boundaries`.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"PiecewiseConstantDecay: boundaries must have one element less than "
                             f"values, got boundaries={boundaries} ({len(boundaries)}) and "
                             f"values={values} ({len(values)})")
        if any(not low < high for low, high in zip(boundaries, boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay: boundaries must be strictly increasing, "
                             f"got {boundaries}")
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        raw = np.asarray(step.data if isinstance(step, Tensor) else step)
        # the boundaries take the step's dtype, as in Keras (integer steps truncate them)
        b = np.asarray(self.boundaries).astype(raw.dtype) if raw.dtype.kind in "iu" else \
            np.asarray(self.boundaries, dtype=np.float64)
        v = np.asarray(self.values, dtype=f32)
        out = (raw <= b[0]) * v[0] + (raw > b[-1]) * v[-1]
        for low, high, value in zip(b[:-1], b[1:], v[1:-1]):
            out = out + ((raw > low) & (raw <= high)) * value
        return _out(out, raw.ndim == 0)

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From `initial_learning_rate` to `end_learning_rate` over `decay_steps`:
    `(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end`. With `cycle`,
    `decay_steps` grows to the first multiple of itself past `step`, so the decay restarts.

    Args:
        initial_learning_rate: float. decay_steps: int > 0. end_learning_rate: default 1e-4.
        power: default 1 (linear). cycle: bool.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        _check_steps("PolynomialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle = end_learning_rate, power, cycle
        self.name = name

    def __call__(self, step):
        s, single = _steps(step)
        decay_steps = f32(self.decay_steps)
        if self.cycle:
            multiplier = np.where(s == 0, f32(1), np.ceil(s / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            s = np.minimum(s, decay_steps)
        p = s / decay_steps
        start, end = f32(self.initial_learning_rate), f32(self.end_learning_rate)
        return _out((start - end) * np.power(1 - p, f32(self.power)) + end, single)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`; with `staircase`,
    `step / decay_steps` is floored.

    Args:
        initial_learning_rate: float. decay_steps: > 0. decay_rate: float. staircase: bool.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        _check_steps("InverseTimeDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        s, single = _steps(step)
        p = s / f32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return _out(f32(self.initial_learning_rate) / (f32(1) + f32(self.decay_rate) * p),
                    single)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def _cosine(fraction, alpha, scale=1.0):
    """`(1 - alpha) * scale * (1 + cos(pi * fraction)) / 2 + alpha`, in float32."""
    cosine = f32(0.5) * scale * (f32(1) + np.cos(f32(math.pi) * fraction))
    return (1 - alpha) * cosine + alpha


class CosineDecay(LearningRateSchedule):
    """An optional linear warm-up, then a cosine decay.

    With `warmup_target`, the rate rises linearly from `initial_learning_rate` to
    `warmup_target` over `warmup_steps`, then decays from `warmup_target`; without it, it
    decays from `initial_learning_rate`. The decay takes `decay_steps` and ends at `alpha` times
    the rate it started from: `start * ((1 - alpha) * (1 + cos(pi * t / decay_steps)) / 2 +
    alpha)`.

    Args:
        initial_learning_rate: float. decay_steps: int > 0. alpha: default 0.
        warmup_target: float or None. warmup_steps: default 0.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_steps("CosineDecay", "decay_steps", decay_steps)
        if not warmup_steps >= 0:
            raise ValueError(f"CosineDecay: warmup_steps must be >= 0, got {warmup_steps!r}")
        self.initial_learning_rate, self.decay_steps, self.alpha = (initial_learning_rate,
                                                                    decay_steps, alpha)
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def __call__(self, step):
        s, single = _steps(step)
        start, decay_steps = f32(self.initial_learning_rate), f32(self.decay_steps)
        if self.warmup_target is None:
            s = np.minimum(s, decay_steps)
            return _out(start * _cosine(s / decay_steps, self.alpha), single)
        target, warmup = f32(self.warmup_target), f32(self.warmup_steps)
        s = np.minimum(s, decay_steps + warmup)
        with np.errstate(divide="ignore", invalid="ignore"):  # the branch not taken at 0 steps
            rising = (target - start) * (s / warmup) + start
        decaying = target * _cosine((s - warmup) / decay_steps, self.alpha)
        return _out(np.where(s < warmup, rising, decaying), single)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): the rate decays from `initial_learning_rate` to
    `alpha` times it over `first_decay_steps`, then restarts; each period lasts `t_mul` times
    longer than the last and starts `m_mul` times lower.

    Args:
        initial_learning_rate: float. first_decay_steps: int > 0. t_mul: default 2.
        m_mul: default 1. alpha: default 0.
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        _check_steps("CosineDecayRestarts", "first_decay_steps", first_decay_steps)
        self.initial_learning_rate, self.first_decay_steps = (initial_learning_rate,
                                                              first_decay_steps)
        self.t_mul, self.m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        s, single = _steps(step)
        fraction = s / f32(self.first_decay_steps)
        t_mul, m_mul, alpha = f32(self.t_mul), f32(self.m_mul), f32(self.alpha)
        if t_mul == 1:
            restart = np.floor(fraction)
            fraction = fraction - restart
        else:  # period i lasts t_mul**i: invert the geometric sum of the periods so far
            restart = np.floor(np.log(1 - fraction * (1 - t_mul)) / np.log(t_mul))
            done = (1 - np.power(t_mul, restart)) / (1 - t_mul)
            fraction = (fraction - done) / np.power(t_mul, restart)
        decayed = _cosine(fraction, alpha, scale=np.power(m_mul, restart))
        return _out(f32(self.initial_learning_rate) * decayed, single)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


# ---- serialization ---------------------------------------------------------------------------------
_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay,
                                          PolynomialDecay, InverseTimeDecay, CosineDecay,
                                          CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """The schedule as Keras serializes it: `{"module", "class_name", "config",
    "registered_name"}`."""
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError(f"serialize expects a LearningRateSchedule, got "
                        f"{learning_rate_schedule!r}")
    return {"module": "keras.optimizers.schedules",
            "class_name": type(learning_rate_schedule).__name__,
            "config": learning_rate_schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """A schedule from its serialized dict (Keras's or mgp's); `custom_objects` maps the names
    of your own schedule classes to them."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"cannot deserialize a learning-rate schedule from {config!r}: "
                         f"expected a dict with 'class_name' and 'config'")
    name = config["class_name"]
    known = {**_BY_NAME, **(custom_objects or {})}
    cls = known.get(name) or known.get(config.get("registered_name") or "")
    if cls is None:
        raise ValueError(f"unknown learning-rate schedule {name!r}; known: {sorted(_BY_NAME)} "
                         f"(pass your own in custom_objects)")
    return cls.from_config(dict(config.get("config", {})))
