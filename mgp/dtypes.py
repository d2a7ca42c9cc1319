"""Dtypes as Keras names them, and the promotion rule that decides an op's result dtype.

Keras's rule (adopted from JAX) is a lattice: every dtype sits below the dtypes it converts to
without loss, and two dtypes combine to the lowest dtype above both. Python scalars are *weak*:
`int` and `float` sit low in the lattice, so `x + 1` keeps an int8 `x` int8 and `y * 2.0` keeps
a float16 `y` float16, while an integer tensor times a Python float gives `floatx()`.

One departure, kept on purpose: Keras folds 64-bit results to 32 bits on its JAX and torch
backends (`keras.backend.result_type("float64", float)` is 'float32'). mgp keeps them
('float64'), as Keras's torch backend itself does for most elementwise ops, so that float64
computations (gradient checks) stay float64.
"""
import functools

import numpy as np

from mgp import config

BOOL = ("bool",)
INTS = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
FLOATS = ("bfloat16", "float16", "float32", "float64")
COMPLEX = ("complex64", "complex128")
ALLOWED = BOOL + INTS + FLOATS + COMPLEX + ("string",)

# Each dtype and the dtypes immediately above it. "int" and "float" are the weak types of Python
# ints and floats: an int converts to any integer type, a float to any float type.
_ABOVE = {
    "bool": ("int",),
    "int": ("uint8", "int8", "complex64"),
    "uint8": ("uint16", "int16"), "uint16": ("uint32", "int32"), "uint32": ("uint64", "int64"),
    "uint64": ("float",),
    "int8": ("int16",), "int16": ("int32",), "int32": ("int64",), "int64": ("float",),
    "float": ("bfloat16", "float16"),
    "bfloat16": ("float32",), "float16": ("float32",), "float32": ("float64", "complex64"),
    "float64": ("complex128",), "complex64": ("complex128",), "complex128": (),
}


def _upper_sets():
    """Every dtype's set of dtypes at or above it in the lattice."""
    sets = {}

    def at_or_above(t):
        if t not in sets:
            sets[t] = {t}.union(*(at_or_above(u) for u in _ABOVE[t]))
        return sets[t]
    for t in _ABOVE:
        at_or_above(t)
    return sets


_UPPER = _upper_sets()


@functools.lru_cache(maxsize=1024)
def _join(*types):
    """The lowest dtype at or above all of `types`."""
    common = set.intersection(*(_UPPER[t] for t in types))
    for t in common:
        if common <= _UPPER[t]:  # every common upper bound lies above t: t is the least
            return t
    raise ValueError(f"the dtypes {types} have no common dtype to promote to; cast them "
                     f"explicitly")


_PYTHON = {bool: "bool", int: "int32", float: "float32", complex: "complex64", str: "string"}


def standardize_dtype(dtype):
    """The dtype's name as a string ('float32'), from a string, a NumPy dtype or type, a Python
    type (`int` -> 'int32', `float` -> 'float32'), or None (`floatx()`).

    Raises:
        ValueError: for anything that is not one of Keras's dtypes.
    """
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, str):
        name = "int32" if dtype == "int" else dtype  # Keras reads the string 'int' as int
    elif isinstance(dtype, np.dtype):  # before the Python types: np.dtype("int64") == int
        name = dtype.name
    elif isinstance(dtype, type) and dtype in _PYTHON:
        name = _PYTHON[dtype]
    elif isinstance(dtype, type) and issubclass(dtype, np.generic):
        name = np.dtype(dtype).name
    else:  # another framework's dtype: torch.float32, jax's float32
        name = getattr(dtype, "name", None) or str(dtype).split(".")[-1]
    if name not in ALLOWED:
        raise ValueError(f"invalid dtype {dtype!r}; expected one of {ALLOWED}")
    return name


def is_float_dtype(dtype):
    """True for float16, float32, float64 (and bfloat16)."""
    return standardize_dtype(dtype) in FLOATS


def is_int_dtype(dtype):
    """True for the signed and unsigned integer dtypes."""
    return standardize_dtype(dtype) in INTS


def _weak(arg):
    """(lattice node, is_weak) of one argument of `result_type`."""
    if arg is int or arg is float:
        return ("int" if arg is int else "float"), True
    return standardize_dtype(arg), False


@functools.lru_cache(maxsize=4096)
def _result_type(args, floatx):
    nodes, weak = zip(*(_weak(a) for a in args))
    if len(set(nodes)) == 1:  # one dtype: itself (weak only if every argument was)
        node, is_weak = nodes[0], all(weak)
    elif all(weak):  # only Python scalars: their strong types' join, still weak
        node, is_weak = _join(*{standardize_dtype(a) for a in args}), True
    else:
        node = _join(*set(nodes))
        is_weak = node in ("int", "float")
    if node == "int" or (is_weak and node in INTS):
        return "int16" if floatx == "float16" else "int32"  # by floatx's width, as Keras
    if node == "float" or (is_weak and node in FLOATS):
        return floatx
    return node


def result_type(*dtypes):
    """The dtype an op on inputs of `dtypes` returns, by Keras's promotion lattice.

    Each argument is a dtype (anything `standardize_dtype` takes) or the Python type `int` or
    `float` standing for a Python scalar (weak: it adapts to the other dtypes). None stands for
    `floatx()`; no arguments give `floatx()`.

    Example:
        >>> result_type("int8", int), result_type("int32", float), result_type("uint8", "int8")
        ('int8', 'float32', 'int16')
    """
    floatx = config.floatx()
    if not dtypes:
        return floatx
    return _result_type(tuple(floatx if d is None else d for d in dtypes), floatx)
