"""A NumPy stand-in for the CuPy namespace, as strict as CuPy where mgp could go wrong.

Its arrays (`ndarray`) hold a NumPy array but are not one, so code that forgets which device it is
on fails here as it would on a GPU:
- `np.asarray(a)` and `np.array(a)` raise TypeError, as CuPy's `__array__` does; `a.get()` copies
  to the host (and `mgp.backend.to_numpy` uses it).
- their operators and the namespace's functions refuse NumPy arrays (and Tensors) as operands
  ("Unsupported type"), as CuPy's do; NumPy arrays become device arrays only through
  `asarray` / `array`.
- NumPy's own functions and ufuncs refuse them (`np.exp(a)` raises), so a call that bypasses
  `mgp.backend.xp` fails, even where real CuPy would have rescued it through NumPy's dispatch.
- indexing one element gives a 0-d view, not a scalar copy, as in CuPy.
Every copy to the host (`get`, `item`, `bool`, `float`, printing, ...) adds one to `syncs`: on a
GPU each one waits for the device.

Install it with `sys.modules["cupy"] = fake_cupy` (then `mgp.set_device("cuda")` imports it), and
set `visible_gpus = 0` to play a machine without a GPU.
"""
import numbers
import types

import numpy as np

__version__ = "13.0.0"  # the CuPy release whose API this stands in for (mgp needs 13 or newer)
syncs = 0
visible_gpus = 1


def _sync():
    global syncs
    syncs += 1


def _refuse(x):
    return TypeError(f"Unsupported type {type(x)}: a device array operation got a host value; "
                     f"move it with asarray() first")


def _operand(x):
    """A device array's NumPy storage; scalars and containers pass, host arrays are refused."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, (list, tuple)):
        return type(x)(_operand(v) for v in x)
    if isinstance(x, np.ndarray) or (hasattr(x, "__array__")
                                     and not isinstance(x, (np.generic, type))):
        raise _refuse(x)
    return x


def _index(index):
    """An index: device arrays unwrap; host integer or boolean arrays are accepted, as CuPy
    copies them to the device."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    return index._a if isinstance(index, ndarray) else index


def _wrap(x):
    """NumPy results as device arrays (a 0-d array for a scalar, as CuPy returns)."""
    if isinstance(x, np.ndarray):
        return ndarray(x)
    if isinstance(x, np.generic):
        return ndarray(np.asarray(x))
    if isinstance(x, (list, tuple)) and any(isinstance(v, (np.ndarray, np.generic)) for v in x):
        # NumPy's named results (SVDResult, ...) come back as plain tuples, as CuPy's do
        return (list if isinstance(x, list) else tuple)(_wrap(v) for v in x)
    return x


def _function(fn):
    def call(*args, **kwargs):
        return _wrap(fn(*_operand(args), **{k: _operand(v) for k, v in kwargs.items()}))
    call.__name__ = getattr(fn, "__name__", "function")
    return call


def _operator(ufunc, reflected=False, inplace=False):
    def op(self, other):
        if not isinstance(other, (ndarray, np.ndarray, np.generic, numbers.Number)):
            return NotImplemented  # e.g. a Tensor: its reflected operator takes over
        a, b = (_operand(other), self._a) if reflected else (self._a, _operand(other))
        if inplace:
            ufunc(a, b, out=a)
            return self
        return _wrap(ufunc(a, b))
    return op


class ndarray:
    """A device array: a NumPy array behind CuPy's rules (see the module docstring)."""

    __slots__ = ("_a",)
    __array_ufunc__ = None  # NumPy's ufuncs and operators hand over to ours, or refuse

    def __init__(self, a):
        self._a = a

    # ---- the host boundary -----------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` "
                        "to construct a NumPy array explicitly.")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} was called on a device array: go through the "
                        f"array namespace (mgp.backend.xp) instead")

    @property
    def __cuda_array_interface__(self):
        return {"shape": self._a.shape, "typestr": self._a.dtype.str, "data": (0, False),
                "version": 3}

    def get(self):
        _sync()
        return self._a.copy()

    def item(self):
        _sync()
        return self._a.item()

    def tolist(self):
        _sync()
        return self._a.tolist()

    def __bool__(self):
        _sync()
        return bool(self._a)

    def __float__(self):
        _sync()
        return float(self._a)

    def __int__(self):
        _sync()
        return int(self._a)

    def __index__(self):
        _sync()
        return self._a.__index__()

    def __repr__(self):
        _sync()
        return "device " + repr(self._a)

    def __str__(self):
        _sync()
        return str(self._a)

    def __format__(self, spec):
        _sync()
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    # ---- array protocol --------------------------------------------------------------------------
    def __getattr__(self, name):
        if name.startswith("__"):  # never lend NumPy's __array_interface__ and the like
            raise AttributeError(name)
        value = getattr(self._a, name)
        return _function(value) if callable(value) else _wrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (ndarray(self._a[i, ...]) for i in range(len(self._a)))

    def __getitem__(self, index):
        index = _index(index)
        out = self._a[index]
        if isinstance(out, np.generic):  # CuPy gives a 0-d view of the element, not a copy
            out = self._a[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return ndarray(out)

    def __setitem__(self, index, value):
        self._a[_index(index)] = _operand(value)

    def __neg__(self): return ndarray(-self._a)
    def __pos__(self): return ndarray(+self._a)
    def __abs__(self): return ndarray(abs(self._a))
    def __invert__(self): return ndarray(~self._a)


for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                      ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                      ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                      ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor)]:
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
    setattr(ndarray, f"__r{_name}__", _operator(_ufunc, reflected=True))
    setattr(ndarray, f"__i{_name}__", _operator(_ufunc, inplace=True))
for _name, _ufunc in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                      ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
ndarray.__hash__ = None


# ============================================ the namespace ==========================================

def asarray(a, dtype=None, order=None):
    """A device array of `a`: the same array when it is one already (and of `dtype`), else a
    copy, as a transfer to the device makes."""
    if isinstance(a, ndarray):
        return a if dtype is None or a._a.dtype == np.dtype(dtype) else ndarray(
            a._a.astype(dtype, order=order or "K"))
    return ndarray(np.array(a, dtype=dtype, order=order or "K"))


def array(a, dtype=None, copy=True, order="K"):
    if isinstance(a, ndarray):
        return ndarray(np.array(a._a, dtype=dtype, copy=copy, order=order))
    return ndarray(np.array(a, dtype=dtype, order=order))


def ascontiguousarray(a, dtype=None):
    return ndarray(np.ascontiguousarray(a._a if isinstance(a, ndarray) else a, dtype=dtype))


class _Ufunc:
    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self._call = _function(ufunc)
        for method in ("reduce", "accumulate", "outer"):
            setattr(self, method, _function(getattr(ufunc, method)))

    def at(self, a, indices, b=None):
        self._ufunc.at(_operand(a), _index(indices), _operand(b))

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)


class _Generator:
    """`cupy.random.Generator`: another bit generator than NumPy's default (Philox), so that
    masks drawn on the device differ from the host's, as they do on a GPU."""

    def __init__(self, seed=None):
        self._g = np.random.Generator(np.random.Philox(seed))

    def __getattr__(self, name):
        return _function(getattr(self._g, name))


_legacy = np.random.RandomState()


def _seed(value=None):
    global _legacy
    _legacy = np.random.RandomState(value)


random = types.SimpleNamespace(
    default_rng=_Generator, Generator=_Generator, seed=_seed,
    random=lambda size=None, dtype=np.float64: ndarray(
        np.asarray(_legacy.random_sample(size), dtype=dtype)),
    standard_normal=lambda size=None, dtype=np.float64: ndarray(
        np.asarray(_legacy.standard_normal(size), dtype=dtype)),
    permutation=lambda n: ndarray(_legacy.permutation(n)))
lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
    as_strided=_function(np.lib.stride_tricks.as_strided)))
# cupy.linalg and cupy.fft: NumPy's functions behind the device rules (CuPy has no linalg.eig)
linalg = types.SimpleNamespace(LinAlgError=np.linalg.LinAlgError, **{
    name: _function(getattr(np.linalg, name)) for name in (
        "inv", "det", "slogdet", "solve", "cholesky", "qr", "svd", "eigh", "norm", "pinv",
        "lstsq", "matrix_rank")})
fft = types.SimpleNamespace(**{name: _function(getattr(np.fft, name)) for name in (
    "fft", "ifft", "fft2", "ifft2", "rfft", "irfft")})


class _CUDARuntimeError(RuntimeError):
    pass


def _device_count():
    if not visible_gpus:
        raise _CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
    return visible_gpus


class _Device:
    def __init__(self, index=0):
        self.id = index

    def synchronize(self):
        pass


cuda = types.SimpleNamespace(Device=_Device, runtime=types.SimpleNamespace(
    getDeviceCount=_device_count, CUDARuntimeError=_CUDARuntimeError,
    getDeviceProperties=lambda index: {"name": b"fake_cupy (NumPy on the CPU)"}))


_made = {}


def __getattr__(name):
    """Everything else from NumPy: functions and ufuncs behind the device rules, constants and
    dtypes as they are."""
    if name not in _made:
        value = getattr(np, name)
        if isinstance(value, np.ufunc):
            value = _Ufunc(value)
        elif callable(value) and not isinstance(value, type):
            value = _function(value)
        _made[name] = value
    return _made[name]
