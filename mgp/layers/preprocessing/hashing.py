"""Hashing: values hashed into bins with Keras's hash functions (FarmHash's Fingerprint64, or
SipHash-2-4 when salted), so the bins equal Keras's.

Integers are hashed as their decimal strings and floats first truncated to integers, as Keras
does. The hashes are computed in plain Python, once per distinct value.
"""
import numpy as np

from mgp.backend import to_numpy
from mgp.layers._utils import describe
from mgp.layers.base import Layer
from mgp.layers.preprocessing.category_encoding import encode_categorical_inputs
from mgp.tensor import Tensor

M64 = (1 << 64) - 1

# ========================================== FarmHash ============================================
# farmhashna::Hash64, which TensorFlow's Fingerprint64 (and so Keras's Hashing) uses.
K0, K1, K2 = 0xc3a5c85c97cb3127, 0xb492b66fbe98f273, 0x9ae16a3b2f90404f


def _rotate(v, shift):
    return ((v >> shift) | (v << (64 - shift))) & M64 if shift else v


def _fetch64(s, i):
    return int.from_bytes(s[i:i + 8], "little")


def _fetch32(s, i):
    return int.from_bytes(s[i:i + 4], "little")


def _shift_mix(v):
    return v ^ (v >> 47)


def _hash_len16(u, v, mul):
    a = ((u ^ v) * mul) & M64
    a ^= a >> 47
    b = ((v ^ a) * mul) & M64
    b ^= b >> 47
    return (b * mul) & M64


def _hash_len0to16(s):
    n = len(s)
    if n >= 8:
        mul = K2 + n * 2
        a = (_fetch64(s, 0) + K2) & M64
        b = _fetch64(s, n - 8)
        c = (_rotate(b, 37) * mul + a) & M64
        d = ((_rotate(a, 25) + b) * mul) & M64
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = K2 + n * 2
        return _hash_len16(n + (_fetch32(s, 0) << 3), _fetch32(s, n - 4), mul)
    if n > 0:
        y = s[0] + (s[n >> 1] << 8)
        z = n + (s[n - 1] << 2)
        return (_shift_mix(((y * K2) ^ (z * K0)) & M64) * K2) & M64
    return K2


def _hash_len17to32(s):
    n = len(s)
    mul = K2 + n * 2
    a = (_fetch64(s, 0) * K1) & M64
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & M64
    d = (_fetch64(s, n - 16) * K2) & M64
    return _hash_len16((_rotate((a + b) & M64, 43) + _rotate(c, 30) + d) & M64,
                       (a + _rotate((b + K2) & M64, 18) + c) & M64, mul)


def _hash_len33to64(s):
    n = len(s)
    mul = K2 + n * 2
    a = (_fetch64(s, 0) * K2) & M64
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & M64
    d = (_fetch64(s, n - 16) * K2) & M64
    y = (_rotate((a + b) & M64, 43) + _rotate(c, 30) + d) & M64
    z = _hash_len16(y, (a + _rotate((b + K2) & M64, 18) + c) & M64, mul)
    e = (_fetch64(s, 16) * mul) & M64
    f = _fetch64(s, 24)
    g = ((y + _fetch64(s, n - 32)) * mul) & M64
    h = ((z + _fetch64(s, n - 24)) * mul) & M64
    return _hash_len16((_rotate((e + f) & M64, 43) + _rotate(g, 30) + h) & M64,
                       (e + _rotate((f + a) & M64, 18) + g) & M64, mul)


def _weak_hash32(s, i, a, b):
    w, x, y, z = (_fetch64(s, i + k) for k in (0, 8, 16, 24))
    a = (a + w) & M64
    b = _rotate((b + a + z) & M64, 21)
    c = a
    a = (a + x + y) & M64
    b = (b + _rotate(a, 44)) & M64
    return (a + z) & M64, (b + c) & M64


def fingerprint64(data):
    """FarmHash's 64-bit fingerprint of `data` (bytes), an unsigned int."""
    s, n = bytes(data), len(data)
    if n <= 16:
        return _hash_len0to16(s)
    if n <= 32:
        return _hash_len17to32(s)
    if n <= 64:
        return _hash_len33to64(s)
    seed = 81
    x = seed
    y = (seed * K1 + 113) & M64
    z = (_shift_mix((y * K2 + 113) & M64) * K2) & M64
    v, w = (0, 0), (0, 0)
    x = (x * K2 + _fetch64(s, 0)) & M64
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    i = 0
    while True:  # 64 bytes a round
        x = (_rotate((x + y + v[0] + _fetch64(s, i + 8)) & M64, 37) * K1) & M64
        y = (_rotate((y + v[1] + _fetch64(s, i + 48)) & M64, 42) * K1) & M64
        x ^= w[1]
        y = (y + v[0] + _fetch64(s, i + 40)) & M64
        z = (_rotate((z + w[0]) & M64, 33) * K1) & M64
        v = _weak_hash32(s, i, (v[1] * K1) & M64, (x + w[0]) & M64)
        w = _weak_hash32(s, i + 32, (z + w[1]) & M64, (y + _fetch64(s, i + 16)) & M64)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = K1 + ((z & 0xff) << 1)
    i = last64
    w = ((w[0] + ((n - 1) & 63)) & M64, w[1])
    v = ((v[0] + w[0]) & M64, v[1])
    w = ((w[0] + v[0]) & M64, w[1])
    x = (_rotate((x + y + v[0] + _fetch64(s, i + 8)) & M64, 37) * mul) & M64
    y = (_rotate((y + v[1] + _fetch64(s, i + 48)) & M64, 42) * mul) & M64
    x ^= (w[1] * 9) & M64
    y = (y + v[0] * 9 + _fetch64(s, i + 40)) & M64
    z = (_rotate((z + w[0]) & M64, 33) * mul) & M64
    v = _weak_hash32(s, i, (v[1] * mul) & M64, (x + w[0]) & M64)
    w = _weak_hash32(s, i + 32, (z + w[1]) & M64, (y + _fetch64(s, i + 16)) & M64)
    z, x = x, z
    return _hash_len16((_hash_len16(v[0], w[0], mul) + _shift_mix(y) * K0 + z) & M64,
                       (_hash_len16(v[1], w[1], mul) + x) & M64, mul)


# =========================================== SipHash ============================================

def siphash24(key, data):
    """SipHash-2-4 of `data` (bytes) under the 128-bit key (k0, k1), an unsigned int (the hash
    TensorFlow's to_hash_bucket_strong takes its buckets from)."""
    k0, k1 = (int(k) & M64 for k in key)
    v0, v1 = k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d
    v2, v3 = k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573

    def rounds(v0, v1, v2, v3, count):
        for _ in range(count):
            v0 = (v0 + v1) & M64
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & M64
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & M64
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & M64
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)
        return v0, v1, v2, v3
    data = bytes(data)
    n = len(data)
    tail = data[n - n % 8:] + bytes(7 - n % 8) + bytes([n & 0xff])
    for m in [int.from_bytes(data[i:i + 8], "little") for i in range(0, n - n % 8, 8)] + \
            [int.from_bytes(tail, "little")]:
        v3 ^= m
        v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 2)
        v0 ^= m
    v2 ^= 0xff
    v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


def _rotl(v, shift):
    return ((v << shift) | (v >> (64 - shift))) & M64


# ======================================= hashing arrays =========================================

def as_hash_strings(values):
    """An array's values as the byte strings Keras hashes: text as UTF-8, integers (and
    floats, truncated first) in decimal."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        values = values.astype(np.int64)
    if values.dtype.kind in "biu":
        return np.char.encode(values.astype(np.int64).astype(str), "utf-8")
    if values.dtype.kind == "U":
        return np.char.encode(values, "utf-8")
    if values.dtype.kind == "S":
        return values
    return np.array([v.encode("utf-8") if isinstance(v, str) else bytes(v)
                     for v in values.reshape(-1)], dtype=object).reshape(values.shape)


def hash_to_buckets(values, num_buckets, salt=None):
    """Each value's bucket in [0, num_buckets): fingerprint64 (or siphash24 under `salt`)
    modulo num_buckets, as int64; each distinct value hashed once."""
    strings = as_hash_strings(values)
    unique, inverse = np.unique(strings.reshape(-1), return_inverse=True)
    if salt is None:
        hashes = [fingerprint64(s) % num_buckets for s in unique]
    else:
        hashes = [siphash24(salt, s) % num_buckets for s in unique]
    return np.asarray(hashes, dtype=np.int64)[inverse].reshape(strings.shape)


def host_values(x):
    return to_numpy(x.data) if isinstance(x, Tensor) else np.asarray(x)


def parse_salt(layer_name, salt):
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in salt):
        return [int(s) for s in salt]
    if isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
        return [int(salt), int(salt)]
    raise ValueError(f"{layer_name}: salt must be an int or a pair of ints, got salt={salt!r}")


class Hashing(Layer):
    """Hash each value (string, integer or float) into one of `num_bins` bins, with the hash
    Keras uses, so that the bins equal Keras's.

    Args:
        num_bins: the number of bins (including the mask's bin when `mask_value` is set).
        mask_value: a value that goes to bin 0; the others then go to bins 1 .. num_bins - 1.
        salt: an int or a pair of ints: hash with SipHash-2-4 under this key instead of
            FarmHash's fingerprint (a "strong" hash, harder to collide on purpose).
        output_mode: 'int' (bin indices, int64), or 'one_hot', 'multi_hot', 'count' (as
            `CategoryEncoding`, float32).
        sparse: only False.

    Example:
        >>> Hashing(num_bins=3)(np.array([["A"], ["B"], ["C"]]))   # the bins Keras gives
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or \
                num_bins <= 0:
            raise ValueError(f"Hashing: num_bins must be a positive int, got "
                             f"num_bins={num_bins!r}")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"Hashing: output_mode must be one of 'int', 'one_hot', "
                             f"'multi_hot', 'count', got {output_mode!r}")
        if output_mode == "int" and self.dtype.name not in ("int32", "int64"):
            raise ValueError(f"Hashing: output_mode='int' needs dtype 'int32' or 'int64', got "
                             f"{self.dtype.name}")
        if sparse:
            raise ValueError("Hashing: sparse=True is not supported (mgp has no sparse tensors)")
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.salt = parse_salt("Hashing", salt)
        self.strong_hash = self.salt is not None
        self.output_mode = output_mode
        self.sparse = False

    def _output_dtype(self, inputs):
        return self.dtype

    def _hash_values_to_bins(self, values):
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == np.asarray(self.mask_value, dtype=values.dtype) \
                if values.dtype.kind not in "US" else values == str(self.mask_value)
        out = hash_to_buckets(values, bins, self.salt)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def call(self, inputs):
        values = host_values(inputs)
        if values.dtype.kind not in "biufUSO":
            raise TypeError(f"{describe(self)} expected strings or numbers, got dtype "
                            f"{values.dtype}")
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        bins = self._hash_values_to_bins(values)
        return encode_categorical_inputs(Tensor(bins), self.output_mode, self.num_bins,
                                         self.dtype, layer=self)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode,
                "sparse": self.sparse}
