"""Normalization: inputs shifted and scaled to zero mean and unit variance per feature, with
statistics given or learned by `adapt`."""
import math

import numpy as np

from mgp import ops
from mgp.backend import to_numpy
from mgp.layers._utils import describe
from mgp.layers.base import Layer, SymbolicTensor
from mgp.layers.preprocessing.rescaling import check_numeric
from mgp.tensor import Tensor

EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by


def _first(batch):
    """An (x, y) batch's x, as Keras's adapt takes it."""
    return batch[0] if isinstance(batch, tuple) else batch


def _host(x, dtype=None):
    value = to_numpy(x.data) if isinstance(x, Tensor) else np.asarray(x)
    return value if dtype is None else value.astype(dtype)


class Normalization(Layer):
    """Compute `(inputs - mean) / sqrt(variance)` per feature (or the inverse with
    `invert=True`), with the statistics given as `mean` and `variance` or learned from data by
    `adapt(data)` before use.

    Args:
        axis: the axis or axes that index features, each with its own statistics (-1 by
            default: one mean and variance per last-axis entry); None for one scalar mean and
            variance over everything.
        mean, variance: the statistics, broadcast against the kept axes; give both or neither.
        invert: compute `inputs * sqrt(variance) + mean` instead (un-normalize outputs).

    Weights (when learned by `adapt`, as Keras names them): `mean`, `variance` of the kept
    axes' shape and `count` (int32), none trainable.

    Example:
        >>> norm = Normalization()
        >>> norm.adapt(np.array([[1.0], [2.0], [3.0]]))
        >>> norm(np.array([[2.0]]))   # [[0.]]
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        else:
            try:
                axis = tuple(int(a) for a in axis)
            except (TypeError, ValueError):
                raise ValueError(f"Normalization: axis must be an int, a tuple of ints or None, "
                                 f"got {axis!r}") from None
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization: give both mean and variance or neither, got "
                             f"mean={mean!r} and variance={variance!r}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"Normalization: mean and variance must have the same shape, "
                                 f"got {np.shape(mean)} and {np.shape(variance)}")
            if len(np.shape(mean)) > len(axis):
                raise ValueError(f"Normalization: mean of shape {np.shape(mean)} has more "
                                 f"axes than axis={axis}")
            if np.any(np.asarray(variance, dtype=np.float64) < 0):
                raise ValueError(f"Normalization: variance must be >= 0, got {variance!r}")
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        self.supports_masking = True
        self._build_input_shape = None
        self.mean = self.variance = None  # the statistics at the inputs' broadcast shape

    def _plan(self, input_shape):
        """(kept axes, reduced axes, broadcast shape, statistics shape) for inputs of
        `input_shape`; checks the axes against it."""
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"{describe(self)}: axis {self.axis} is out of range for inputs of "
                             f"shape {tuple(input_shape)}")
        keep = tuple(sorted(a % ndim for a in self.axis))
        for a in keep:
            if input_shape[a] is None:
                raise ValueError(f"{describe(self)} needs a known size on axis {a}, got inputs "
                                 f"of shape {tuple(input_shape)}")
        reduce = tuple(d for d in range(ndim) if d not in keep)
        broadcast = tuple(input_shape[d] if d in keep else 1 for d in range(ndim))
        return keep, reduce, broadcast, tuple(input_shape[d] for d in keep)

    def build(self, input_shape):
        keep, reduce, broadcast, stats_shape = self._plan(input_shape)
        ndim = len(input_shape)
        self._build_input_shape = tuple(input_shape)
        self._keep_axis, self._reduce_axis = keep, reduce
        self._broadcast_shape, self._mean_and_var_shape = broadcast, stats_shape
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(shape=self._mean_and_var_shape,
                                              initializer="zeros", trainable=False, name="mean")
            self.adapt_variance = self.add_weight(shape=self._mean_and_var_shape,
                                                  initializer="ones", trainable=False,
                                                  name="variance")
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                         name="count", dtype="int32")
            # assigning (adapt, set_weights, loading a file) replaces a weight's array, so
            # these two tell whether the statistics were ever set
            self._initial_statistics = (self.adapt_mean.data, self.adapt_variance.data)
        else:
            mean = np.asarray(self.input_mean, dtype=np.float64)
            variance = np.asarray(self.input_variance, dtype=np.float64)
            if mean.ndim:
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[keep[-i]] = mean.shape[-i]
                mean, variance = mean.reshape(expanded), variance.reshape(expanded)
            try:
                self.mean = np.broadcast_to(mean, self._broadcast_shape).astype(self.dtype)
                self.variance = np.broadcast_to(variance,
                                                self._broadcast_shape).astype(self.dtype)
            except ValueError:
                raise ValueError(f"{describe(self)}: mean of shape {np.shape(self.input_mean)} "
                                 f"does not broadcast to the kept axes {keep} of inputs of shape "
                                 f"{tuple(input_shape)}") from None
        self.built = True

    def is_adapted(self):
        """Whether the statistics are set: given, adapted, or loaded."""
        if self.input_mean is not None:
            return True
        if not self.built:
            return False
        mean, variance = self._initial_statistics
        return self.adapt_mean.data is not mean or self.adapt_variance.data is not variance

    # ---- adapt ---------------------------------------------------------------------------------
    def adapt(self, data):
        """Learn the mean and variance of `data`: an array or Tensor (all of it at once), or
        an iterable of batches (arrays, or (x, y) tuples whose x is used), combined batch by
        batch as Keras does. Nothing changes unless the whole pass succeeds."""
        if self.input_mean is not None:
            raise ValueError(f"{describe(self)} was given mean and variance; adapt() cannot "
                             f"learn them")
        if isinstance(data, (np.ndarray, Tensor)):
            batches, whole = None, data
            shape = tuple(data.shape)
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            batches = [_first(b) for b in data]
            if not batches:
                raise ValueError(f"{describe(self)}: adapt() received an empty iterable (no "
                                 f"batches); pass arrays, e.g. layer.adapt([x])")
            if any(not hasattr(b, "shape") for b in batches):
                kinds = sorted({type(b).__name__ for b in batches if not hasattr(b, "shape")})
                raise TypeError(f"{describe(self)}: adapt() expects batches that are arrays or "
                                f"tensors, got {', '.join(kinds)}")
            whole, shape = None, tuple(batches[0].shape)
        else:
            raise TypeError(f"{describe(self)}: adapt() takes an array, a Tensor or an iterable "
                            f"of batches, got {type(data).__name__}")
        for b in ([whole] if batches is None else batches):
            if _host(b).dtype.kind not in "biuf":
                raise TypeError(f"{describe(self)}: adapt() expected numeric data, got dtype "
                                f"{_host(b).dtype}")
        if self.built:
            for d in self._keep_axis:
                if len(shape) != len(self._build_input_shape) or \
                        shape[d] != self._build_input_shape[d]:
                    raise ValueError(f"{describe(self)} was built for inputs of shape "
                                     f"{self._build_input_shape}, but adapt() got data of shape "
                                     f"{shape}")
        keep, reduce, _, stats_shape = self._plan(shape)
        if batches is None:
            x = _host(whole)
            mean, var = np.mean(x, axis=reduce), np.var(x, axis=reduce)
        else:
            mean, var = self._combine(batches, keep, reduce, stats_shape, shape)
        if not self.built:
            self.build(shape)
        self.adapt_mean.assign(np.asarray(mean).reshape(stats_shape))
        self.adapt_variance.assign(np.asarray(var).reshape(stats_shape))

    def _combine(self, batches, keep, reduce, stats_shape, shape):
        """Keras's running combination of batch means and variances, in the layer's dtype."""
        dtype = self.dtype
        mean, var, count = np.zeros(stats_shape, dtype), np.zeros(stats_shape, dtype), 0
        for b in batches:
            x = _host(b, dtype)
            if x.ndim != len(shape) or any(x.shape[d] != shape[d] for d in keep):
                raise ValueError(f"{describe(self)}: adapt() got a batch of shape "
                                 f"{tuple(x.shape)}, expected {shape} on the kept axes {keep}")
            batch_mean, batch_var = x.mean(axis=reduce), x.var(axis=reduce)
            batch_count = math.prod(x.shape[d] for d in reduce) if reduce else 1
            count += batch_count
            w_new = dtype.type(batch_count / count)
            w_old = dtype.type(1.0) - w_new
            new_mean = mean * w_old + batch_mean * w_new
            var = (var + (mean - new_mean) ** 2) * w_old + \
                (batch_var + (batch_mean - new_mean) ** 2) * w_new
            mean = new_mean
        return mean, var

    # ---- call ----------------------------------------------------------------------------------
    def _statistics(self):
        if self.input_mean is not None:
            return self.mean, self.variance
        return (ops.reshape(self.adapt_mean, self._broadcast_shape),
                ops.reshape(self.adapt_variance, self._broadcast_shape))

    def __call__(self, inputs, *args, **kwargs):
        # checked before the call builds anything; a functional model may still be traced
        # through the layer before adapt
        if not isinstance(inputs, SymbolicTensor) and not self.is_adapted():
            raise ValueError(f"{describe(self)} has no mean and variance yet: call adapt(data) "
                             f"on it, or give mean= and variance=, before using it")
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        check_numeric(self, inputs)
        if inputs.ndim != len(self._build_input_shape) or any(
                inputs.shape[d] != self._build_input_shape[d] for d in self._keep_axis):
            raise ValueError(f"{describe(self)} expected inputs of shape "
                             f"{self._build_input_shape} on axes {self._keep_axis}, got "
                             f"{tuple(inputs.shape)}")
        x = ops.cast(inputs, self.dtype)
        mean, variance = self._statistics()
        std = ops.maximum(ops.sqrt(variance), EPSILON)
        if self.invert:
            return mean + x * std
        return (x - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist()}

    def get_build_config(self):
        if self._build_input_shape:
            return {"input_shape": list(self._build_input_shape)}
        return None

    def build_from_config(self, config):
        if config and not self.built:
            self.build(tuple(config["input_shape"]))
