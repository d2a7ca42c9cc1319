"""HashedCrossing: a hash of feature combinations (one value from each of several features)."""
import numpy as np

from mgp.layers._utils import describe
from mgp.layers.base import Layer
from mgp.layers.preprocessing.category_encoding import encode_categorical_inputs
from mgp.layers.preprocessing.hashing import M64, fingerprint64, host_values
from mgp.tensor import Tensor

CROSS_KEY = 0xDECAFCAFFE  # TensorFlow's default key for hashed feature crosses
CAT_MUL = 0xc6a4a7935bd1e995


def _fingerprint_cat64(fp1, fp2):
    """Two 64-bit fingerprints combined into one (TensorFlow's FingerprintCat64)."""
    def mix(v):
        return v ^ (v >> 47)
    result = fp1 ^ CAT_MUL
    result ^= (mix((fp2 * CAT_MUL) & M64) * CAT_MUL) & M64
    result = (result * CAT_MUL) & M64
    result = (mix(result) * CAT_MUL) & M64
    return mix(result)


def _feature_hashes(values):
    """Each value's 64-bit hash in a cross: integers as they are (two's complement), strings by
    their fingerprint."""
    if values.dtype.kind in "iub":
        return [int(v) & M64 for v in values.astype(np.int64)]
    unique, inverse = np.unique(values, return_inverse=True)
    hashes = [fingerprint64(v.encode("utf-8") if isinstance(v, str) else bytes(v))
              for v in unique.tolist()]
    return [hashes[i] for i in inverse]


class HashedCrossing(Layer):
    """Cross features by hashing each combination of their values into `num_bins` bins, with
    the hash Keras (TensorFlow's `sparse.cross_hashed`) uses.

    Called on a tuple or list of at least two features, each integers or strings of one shape:
    (batch,), (batch, 1), or a scalar.

    Args:
        num_bins: the number of bins.
        output_mode: 'int' (bin indices, int64) or 'one_hot' (float32).
        sparse: only False.

    Example:
        >>> HashedCrossing(num_bins=5)((np.array(["A", "B"]), np.array([1, 2])))
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None,
                 **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **{k: v for k, v in kwargs.items()
                                                     if k != "trainable"})
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or \
                num_bins <= 0:
            raise ValueError(f"HashedCrossing: num_bins must be a positive int, got "
                             f"num_bins={num_bins!r}")
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"HashedCrossing: output_mode must be 'int' or 'one_hot', got "
                             f"{output_mode!r}")
        if sparse:
            raise ValueError("HashedCrossing: sparse=True is not supported (mgp has no sparse "
                             "tensors)")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = False

    def _output_dtype(self, inputs):
        return self.dtype

    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"{describe(self)} must be called on a tuple or list of at least "
                             f"two features, got {type(inputs).__name__}")
        features = [host_values(x) for x in inputs]
        shape = features[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(f"{describe(self)}: each feature must be a scalar, (batch,) or "
                             f"(batch, 1), got shape {shape}")
        for f in features:
            if f.shape != shape:
                raise ValueError(f"{describe(self)}: every feature must have one shape, got "
                                 f"{[f.shape for f in features]}")
            if f.dtype.kind not in "iubUSO":
                raise TypeError(f"{describe(self)}: features must be integers or strings, got "
                                f"dtype {f.dtype}")
        columns = [_feature_hashes(f.reshape(-1)) for f in features]
        crossed = []
        for row in zip(*columns):
            h = CROSS_KEY
            for v in row:
                h = _fingerprint_cat64(h, v)
            crossed.append(h % self.num_bins)
        bins = np.asarray(crossed, dtype=np.int64).reshape(shape)
        return encode_categorical_inputs(Tensor(bins), self.output_mode, self.num_bins,
                                         self.dtype, layer=self)

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if not first:
            return (self.num_bins,)
        if first[-1] != 1:
            return first + (self.num_bins,)
        return first[:-1] + (self.num_bins,)

    def get_config(self):
        return {"num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse, "name": self.name, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(**config)
