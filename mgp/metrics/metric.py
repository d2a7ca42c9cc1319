"""The Metric base class: a stateful object that accumulates over batches, and the host-side
helpers the metrics share.

`update_state(y_true, y_pred, sample_weight=None)` adds a batch, `result()` gives the running
value (a Python float, or a NumPy array for metrics with one value per threshold or class),
`reset_state()` starts over. Metrics are not differentiable: they compute on host NumPy arrays,
outside the autograd graph, and accumulate in float64. Each `update_state` computes the batch's
contribution in full before adding it, so an input it refuses leaves the state as it was.
"""
import numpy as np

from mgp import initializers
from mgp.backend import to_numpy
from mgp.layers.base import snake_case, unique_name
from mgp.tensor import Tensor
from mgp.variables import Variable


def host(x, what="input"):
    """Labels, predictions or weights as a host NumPy array (one copy from a GPU)."""
    arr = np.asarray(to_numpy(x.data if isinstance(x, Tensor) else x))
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers, got dtype {arr.dtype}")
    return arr


def host_mask(x):
    """The mask Keras attaches to predictions (`_keras_mask`), as a host boolean array, or None."""
    mask = getattr(x, "_keras_mask", None)
    return None if mask is None else host(mask, "mask").astype(bool)


def divide_no_nan(a, b):
    """a / b, and 0 where b is 0 (Keras's divide_no_nan)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def scalar_or_array(value):
    """A result: a Python float for one value, else a float32 array (Keras's dtype)."""
    value = np.asarray(value)
    return float(value) if value.ndim == 0 else value.astype(np.float32)


def check_unit_interval(name, what, values):
    """Thresholds and target rates must lie in [0, 1]."""
    bad = [v if v is None else float(v) for v in np.ravel(values)
           if v is None or not 0 <= v <= 1]
    if bad:
        raise ValueError(f"{name}: {what} must lie in [0, 1], got {bad}")


class Metric:
    """Base class: `update_state(...)`, `result()`, `reset_state()`, `name`, `dtype`.

    Calling a metric updates it and returns the running result, as in Keras. A subclass written
    for Keras works too: `add_variable` (or `add_weight`) gives a state Variable, with `assign`
    and `assign_add`, which the default `reset_state` sets back to zero.

    Args:
        dtype: the result's dtype (float32).
        name: the metric's name; by default the snake-case class name, numbered (`auc_1`).
    """

    # The attributes that hold what `update_state` accumulates, each a sum over the batches seen
    # (a float or float64 array), which data-parallel training (`mgp.distribution`) adds up over
    # the processes. A subclass written for Keras keeps its state in `variables` instead.
    _state_attributes = ()

    def __init__(self, dtype=None, name=None):
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.dtype = "float32" if dtype is None else np.dtype(getattr(dtype, "name", dtype)).name
        self._variables = []  # the state of subclasses written as for Keras (add_variable)

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """A state Variable (not trainable), reset to zero by `reset_state`."""
        value = initializers.get(initializer)(tuple(shape), dtype=dtype or self.dtype)
        variable = Variable(value, name=name or f"variable_{len(self._variables)}",
                            trainable=False, dtype=dtype or self.dtype)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        return self.add_variable(shape, initializer or "zeros", dtype, name=name)

    @property
    def variables(self):
        return list(self._variables)

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        for v in getattr(self, "_variables", ()):
            v.assign(np.zeros(v.shape, dtype=v.dtype))

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def _label(self):
        """How errors name this metric: `AUC 'auc_1'`."""
        return f"{type(self).__name__} '{self.name}'"

    def _error(self, error):
        """`error` again, its message naming this metric (unless it does already)."""
        message = str(error)
        if not message.startswith(type(self).__name__):
            message = f"{self._label}: {message}"
        return type(error)(message)

    def __repr__(self):
        try:
            value = self.result()
            shown = f"{value:.4g}" if isinstance(value, float) else np.array2string(
                np.asarray(value), precision=4)
        except Exception:  # a metric that needs a first batch to know its shape
            return f"<{type(self).__name__} name='{self.name}'>"
        return f"<{type(self).__name__} name='{self.name}' result={shown}>"
