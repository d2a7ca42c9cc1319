"""Discretization: numbers bucketed by boundaries, given or learned by `adapt` (quantiles)."""
import numpy as np

from mgp import ops
from mgp.backend import to_numpy
from mgp.layers._utils import describe
from mgp.layers.base import Layer
from mgp.layers.preprocessing.category_encoding import (
    encode_categorical_inputs,
    encoded_shape,
)
from mgp.layers.preprocessing.rescaling import check_numeric
from mgp.tensor import Tensor

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


class Discretization(Layer):
    """Bucket numbers: with boundaries [0., 1., 2.], values < 0 go to 0, [0, 1) to 1, [1, 2) to
    2 and >= 2 to 3.

    Args:
        bin_boundaries: the sorted boundaries; or
        num_bins: the number of buckets, their boundaries learned by `adapt(data)` as
            approximate quantiles (Keras's summary-and-compress algorithm, so the boundaries
            equal Keras's).
        epsilon: the error tolerance of the quantile summary (0.01).
        output_mode: 'int' (bucket indices, int32), or 'one_hot', 'multi_hot', 'count' (as in
            `CategoryEncoding`, over len(bin_boundaries) + 1 buckets).
        sparse: only False.
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None):
        super().__init__(name=name, dtype=dtype)
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"Discretization: output_mode must be one of {list(OUTPUT_MODES)}, "
                             f"got {output_mode!r}")
        if sparse:
            raise ValueError("Discretization: sparse=True is not supported (mgp has no sparse "
                             "tensors)")
        if num_bins is not None and (isinstance(num_bins, bool) or not isinstance(
                num_bins, (int, np.integer)) or num_bins < 0):
            raise ValueError(f"Discretization: num_bins must be an int >= 0, got {num_bins!r}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(f"Discretization: give num_bins or bin_boundaries, not both; got "
                             f"num_bins={num_bins} and bin_boundaries={bin_boundaries}")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("Discretization: give either num_bins or bin_boundaries")
        if bin_boundaries is not None:
            b = np.asarray(bin_boundaries, dtype=np.float64)
            if b.ndim != 1 or np.any(np.diff(b) < 0):
                raise ValueError(f"Discretization: bin_boundaries must be a sorted list of "
                                 f"numbers, got {bin_boundaries!r}")
            bin_boundaries = [float(v) for v in b]
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = float(epsilon)
        self.output_mode = output_mode
        self.sparse = False
        self.summary = None if bin_boundaries else np.array([[], []], dtype="float32")

    @property
    def output_dtype(self):
        return np.dtype("int32") if self.output_mode == "int" else self.dtype

    def _output_dtype(self, inputs):
        return self.output_dtype

    # ---- adapt: Keras's quantile summary ---------------------------------------------------------
    def adapt(self, data, steps=None):
        """Learn `num_bins` buckets of about equal counts from `data` (an array, or an iterable
        of batches, at most `steps` of them)."""
        if self.num_bins is None:
            raise ValueError(f"{describe(self)} was given bin_boundaries; adapt() needs a layer "
                             f"made with num_bins")
        if isinstance(data, (np.ndarray, Tensor)) or not hasattr(data, "__iter__"):
            batches = [data]
        else:
            batches = [b for i, b in enumerate(data) if steps is None or i < steps]
        arrays = []
        for b in batches:
            a = np.asarray(to_numpy(b.data) if isinstance(b, Tensor) else b)
            if a.dtype.kind not in "biuf":
                raise TypeError(f"{describe(self)}: adapt() expected numeric data, got dtype "
                                f"{a.dtype}")
            arrays.append(a.astype("float32"))
        summary = np.array([[], []], dtype="float32")
        for a in arrays:
            summary = merge_summaries(summarize(a, self.epsilon), summary, self.epsilon)
        self.summary = summary
        self.bin_boundaries = get_bin_boundaries(summary, self.num_bins).tolist()

    # ---- call ----------------------------------------------------------------------------------
    def call(self, inputs):
        check_numeric(self, inputs)
        if self.bin_boundaries is None:
            raise ValueError(f"{describe(self)} has no bin boundaries yet: give bin_boundaries, "
                             f"or call adapt(data) before using it")
        indices = ops.digitize(ops.cast(inputs, "float32") if inputs.dtype.kind != "f"
                               else inputs, self.bin_boundaries)
        return encode_categorical_inputs(indices, self.output_mode,
                                         len(self.bin_boundaries) + 1, self.output_dtype,
                                         layer=self)

    def compute_output_shape(self, input_shape):
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None \
            else self.num_bins
        return encoded_shape(input_shape, self.output_mode, depth)

    def get_config(self):
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode, "sparse": self.sparse,
                "name": self.name, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        config.pop("trainable", None)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = boundaries  # an adapted layer
            return layer
        return cls(**config)


def summarize(values, epsilon):
    """Every step-th sorted value with weight step, step = len / (1 / epsilon) (at least 1)."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(values.size / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1)::int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def merge_summaries(prev_summary, next_summary, epsilon):
    merged = np.concatenate((prev_summary, next_summary), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


def get_bin_boundaries(summary, num_bins):
    return compress_summary(summary, 1.0 / num_bins)[0, :-1]


def compress_summary(summary, epsilon):
    """The summary reduced to about 1 / epsilon points by interpolating its cumulative
    weights at even quantiles."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_percents, summary[0])
    cum_weights = np.interp(percents, cum_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")
