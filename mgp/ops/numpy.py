"""The NumPy-like ops, Keras's `keras.ops.numpy` family: each computes its output and defines
its backward right beside it.

Every op takes Tensors, NumPy arrays and Python scalars (converted by Keras's rules,
`convert_to_tensor`) and returns Tensors. Result dtypes follow Keras's promotion lattice
(`mgp.dtypes.result_type`): Python scalars are weak (`x * 2.0` keeps a float16 `x` float16),
integer and boolean inputs to float functions (`exp`, `sqrt`, `mean`, `divide`) give
`floatx()`.

A backward takes `g`, the gradient of the output (at the output's shape), and returns one
gradient per input, at the output's shape or the input's; it never unbroadcasts (the engine's
`sum_to` does that) and never writes `.grad`. It returns None for an input with no gradient.
Functions with no gradient anywhere (comparisons, indices, counts) return plain Tensors.
"""
import builtins
import math
import operator

import numpy as np

from mgp import config
from mgp.backend import xp, to_numpy
from mgp.dtypes import result_type, standardize_dtype
from mgp.tensor import Tensor, cast, convert_to_tensor

_make = Tensor._make
_abs, _max, _min, _sum, _round = builtins.abs, builtins.max, builtins.min, builtins.sum, \
    builtins.round


# ============================================= helpers ==============================================

def _t(x):
    """`x` as a Tensor (Keras's conversion)."""
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def as_tensor(x, like=None):
    """The engine's lift of an operand: `x` as a Tensor, numbers and arrays taking `like`'s
    float dtype (so a float64 constant cannot upcast a float32 computation)."""
    if isinstance(x, Tensor):
        return x
    arr = xp.asarray(x)
    if like is not None and like.dtype.kind == "f" and arr.dtype.kind in "fiub":
        return Tensor(arr, dtype=like.dtype)
    return Tensor(arr)


def _dtype_of(x):
    """What `result_type` sees of an operand: a dtype, or `int` / `float` for a (weak) Python
    scalar. NumPy's float64 scalars are Python floats, hence weak, as Keras treats them."""
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        return int
    if isinstance(x, float):
        return float
    if isinstance(x, np.ndarray):
        return x.dtype
    return convert_to_tensor(x).dtype


def _as(x, dtype):
    """`x` as a Tensor of `dtype`, cast in the graph when it is a Tensor of another dtype."""
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else cast(x, dtype)
    return convert_to_tensor(x, dtype)


def _promote(x1, x2, *extra):
    """Two operands as Tensors of their Keras result dtype (with `extra` joined in: `float`
    for the ops that always give floats)."""
    if not extra and isinstance(x1, Tensor) and isinstance(x2, Tensor) and x1.dtype == x2.dtype:
        return x1, x2
    dtype = result_type(_dtype_of(x1), _dtype_of(x2), *extra)
    return _as(x1, dtype), _as(x2, dtype)


def _float(x):
    """`x` as a float Tensor: integers and booleans become `floatx()`, as Keras's float ops do."""
    x = _t(x)
    return x if x.dtype.kind in "fc" else cast(x, config.floatx())


def _data(x):
    """The raw operand of a comparison: an array, or a Python scalar left to NumPy."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (bool, int, float)):
        return x
    return _t(x).data


def _broadcast(op, fn, a, b):
    """`fn(a, b)` on the arrays of two operands, naming the op and both shapes when they do not
    broadcast."""
    try:
        if type(a) is Tensor and type(b) is Tensor:  # the usual case, without more lookups
            return fn(a.data, b.data)
        return fn(_data(a), _data(b))
    except ValueError:
        raise ValueError(f"{op}: cannot broadcast shapes {tuple(np.shape(_data(a)))} and "
                         f"{tuple(np.shape(_data(b)))} together") from None


def _axes(axis, ndim):
    """Normalize an axis argument (None, int or sequence) to a tuple of non-negative ints;
    None means every axis, () none."""
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axis:
        if not -ndim <= a < _max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(int(a) % ndim if ndim else 0 for a in axis)


def _axis(axis, ndim):
    """One axis, normalized to non-negative."""
    if not -ndim <= axis < _max(ndim, 1):
        raise ValueError(f"axis {axis} is out of range for a tensor with {ndim} dimensions")
    return int(axis) % ndim if ndim else 0


def _keep(g, x_shape, axes, keepdims):
    """Reinsert the reduced axes into `g` so it broadcasts against the input."""
    if keepdims or g.ndim == len(x_shape):
        return g
    return g.reshape([1 if i in axes else n for i, n in enumerate(x_shape)])


def _no_grad(data):
    """An output no gradient flows through (indices, comparisons, counts)."""
    return Tensor(data, dtype=data.dtype)


# ======================================= elementwise: arithmetic ====================================

def add(x1, x2):
    """x1 + x2, elementwise, with broadcasting."""
    a, b = _promote(x1, x2)
    return _make(_broadcast("add", operator.add, a, b), (a, b), lambda g: (g, g), "add")


def subtract(x1, x2):
    """x1 - x2, elementwise, with broadcasting."""
    a, b = _promote(x1, x2)
    return _make(_broadcast("subtract", operator.sub, a, b), (a, b), lambda g: (g, -g),
                 "subtract")


def multiply(x1, x2):
    """x1 * x2, elementwise, with broadcasting."""
    a, b = _promote(x1, x2)
    return _make(_broadcast("multiply", operator.mul, a, b), (a, b),
                 lambda g: (g * b.data, g * a.data), "multiply")


def divide(x1, x2):
    """x1 / x2, elementwise; integers divide to `floatx()`."""
    a, b = _promote(x1, x2, float)
    out = _broadcast("divide", operator.truediv, a, b)

    def backward(g):
        ga = g / b.data
        return ga, (-ga * out if b.requires_grad else None)
    return _make(out, (a, b), backward, "divide")


true_divide = divide


def divide_no_nan(x1, x2):
    """x1 / x2, and 0 where x2 == 0 (the gradient there is 0 too)."""
    a, b = _promote(x1, x2, float)
    zero = b.data == 0
    safe = xp.where(zero, xp.ones((), dtype=b.dtype), b.data)
    out = xp.where(zero, xp.zeros((), dtype=b.dtype), _broadcast("divide_no_nan", xp.divide,
                                                                 a, safe))

    def backward(g):
        ga = xp.where(zero, 0, g / safe)
        return ga, -ga * out
    return _make(out, (a, b), backward, "divide_no_nan")


def floor_divide(x1, x2):
    """Floor of x1 / x2 (Python's `//`), in their common dtype; no gradient."""
    a, b = _promote(x1, x2)
    return _no_grad(_broadcast("floor_divide", xp.floor_divide, a, b))


def mod(x1, x2):
    """x1 mod x2 with the sign of x2 (Python's `%`); booleans compute as int32."""
    a, b = _promote(x1, x2)
    if a.dtype == np.bool_:
        a, b = cast(a, "int32"), cast(b, "int32")
    out = _broadcast("mod", xp.mod, a, b)
    return _make(out, (a, b), lambda g: (g, -g * xp.floor_divide(a.data, b.data)), "mod")


def fmod(x1, x2):
    """x1 mod x2 with the sign of x1 (C's fmod); booleans compute as int32."""
    a, b = _promote(x1, x2)
    if a.dtype == np.bool_:
        a, b = cast(a, "int32"), cast(b, "int32")
    out = _broadcast("fmod", xp.fmod, a, b)
    return _make(out, (a, b), lambda g: (g, -g * xp.trunc(a.data / b.data)), "fmod")


def power(x1, x2):
    """x1 ** x2, elementwise. The gradient for x2 is taken as 0 where x1 <= 0 (the real power is
    undefined there), and for x1 as 0 where x2 == 0 (x**0 is 1 everywhere, even at 0)."""
    if type(x2) in (int, float) and isinstance(x1, Tensor) and x1.dtype.kind == "f":
        p = x1.dtype.type(x2)  # a float tensor to a Python power: one input, no constant node

        def backward_scalar(g):
            return (xp.zeros_like(g) if p == 0 else g * p * x1.data ** (p - 1),)
        return _make(x1.data ** p, (x1,), backward_scalar, "power")
    a, b = _promote(x1, x2)
    out = _broadcast("power", xp.power, a, b)

    def backward(g):
        ga = gb = None
        if a.requires_grad:  # b * a**(b - 1), with b == 0 kept out of the power (0**-1)
            nonzero = xp.where(b.data == 0, xp.ones((), b.dtype), b.data)
            ga = g * xp.where(b.data == 0, 0, b.data * a.data ** (nonzero - 1))
        if b.requires_grad:
            gb = g * out * xp.log(xp.where(a.data > 0, a.data, 1))
        return ga, gb
    return _make(out, (a, b), backward, "power")


def negative(x):
    """-x."""
    x = _t(x)
    if x.dtype == np.bool_:
        raise TypeError("negative: a boolean tensor cannot be negated; use logical_not")
    return _make(-x.data, (x,), lambda g: (-g,), "negative")


def absolute(x):
    """|x| (booleans are returned as they are). The gradient at 0 is 0."""
    x = _t(x)
    if x.dtype == np.bool_:
        return x
    return _make(xp.abs(x.data), (x,), lambda g: (g * xp.sign(x.data),), "absolute")


abs = absolute


def fabs(x):
    """|x| as a float."""
    return absolute(_float(x))


def square(x):
    """x * x (booleans compute as int32)."""
    x = _t(x)
    if x.dtype == np.bool_:
        x = cast(x, "int32")
    return _make(x.data * x.data, (x,), lambda g: (2 * g * x.data,), "square")


def sqrt(x):
    out_x = _float(x)
    out = xp.sqrt(out_x.data)
    return _make(out, (out_x,), lambda g: (g / (2 * out),), "sqrt")


def cbrt(x):
    """The real cube root."""
    x = _float(x)
    out = xp.cbrt(x.data)
    return _make(out, (x,), lambda g: (g / (3 * out * out),), "cbrt")


def reciprocal(x):
    """1 / x."""
    x = _float(x)
    out = 1 / x.data
    return _make(out, (x,), lambda g: (-g * out * out,), "reciprocal")


def sign(x):
    """-1, 0 or 1 by the sign of x (in x's dtype; booleans are their own sign); its gradient
    is 0."""
    x = _t(x)
    if x.dtype == np.bool_:
        return x
    return _make(xp.sign(x.data), (x,), lambda g: (None,), "sign")


def exp(x):
    x = _float(x)
    out = xp.exp(x.data)
    return _make(out, (x,), lambda g: (g * out,), "exp")


def exp2(x):
    x = _float(x)
    out = xp.exp2(x.data)
    return _make(out, (x,), lambda g: (g * out * math.log(2),), "exp2")


def expm1(x):
    """exp(x) - 1, accurate for small x."""
    x = _float(x)
    out = xp.expm1(x.data)
    return _make(out, (x,), lambda g: (g * (out + 1),), "expm1")


def log(x):
    x = _float(x)
    return _make(xp.log(x.data), (x,), lambda g: (g / x.data,), "log")


def log2(x):
    x = _float(x)
    return _make(xp.log2(x.data), (x,), lambda g: (g / (x.data * math.log(2)),), "log2")


def log10(x):
    x = _float(x)
    return _make(xp.log10(x.data), (x,), lambda g: (g / (x.data * math.log(10)),), "log10")


def log1p(x):
    """log(1 + x), accurate for small x."""
    x = _float(x)
    return _make(xp.log1p(x.data), (x,), lambda g: (g / (1 + x.data),), "log1p")


def logaddexp(x1, x2):
    """log(exp(x1) + exp(x2)) without overflow."""
    a, b = _promote(x1, x2, float)
    out = _broadcast("logaddexp", xp.logaddexp, a, b)
    return _make(out, (a, b), lambda g: (g * xp.exp(a.data - out), g * xp.exp(b.data - out)),
                 "logaddexp")


def logaddexp2(x1, x2):
    """log2(2**x1 + 2**x2) without overflow."""
    a, b = _promote(x1, x2, float)
    out = _broadcast("logaddexp2", xp.logaddexp2, a, b)
    return _make(out, (a, b), lambda g: (g * xp.exp2(a.data - out), g * xp.exp2(b.data - out)),
                 "logaddexp2")


def sin(x):
    x = _float(x)
    return _make(xp.sin(x.data), (x,), lambda g: (g * xp.cos(x.data),), "sin")


def cos(x):
    x = _float(x)
    return _make(xp.cos(x.data), (x,), lambda g: (-g * xp.sin(x.data),), "cos")


def tan(x):
    x = _float(x)
    out = xp.tan(x.data)
    return _make(out, (x,), lambda g: (g * (1 + out * out),), "tan")


def arcsin(x):
    x = _float(x)
    return _make(xp.arcsin(x.data), (x,), lambda g: (g / xp.sqrt(1 - x.data * x.data),),
                 "arcsin")


def arccos(x):
    x = _float(x)
    return _make(xp.arccos(x.data), (x,), lambda g: (-g / xp.sqrt(1 - x.data * x.data),),
                 "arccos")


def arctan(x):
    x = _float(x)
    return _make(xp.arctan(x.data), (x,), lambda g: (g / (1 + x.data * x.data),), "arctan")


def arctan2(x1, x2):
    """The angle of the point (x2, x1), in (-pi, pi]."""
    a, b = _promote(x1, x2, float)
    out = _broadcast("arctan2", xp.arctan2, a, b)

    def backward(g):
        r2 = a.data * a.data + b.data * b.data
        return g * b.data / r2, -g * a.data / r2
    return _make(out, (a, b), backward, "arctan2")


def sinh(x):
    x = _float(x)
    return _make(xp.sinh(x.data), (x,), lambda g: (g * xp.cosh(x.data),), "sinh")


def cosh(x):
    x = _float(x)
    return _make(xp.cosh(x.data), (x,), lambda g: (g * xp.sinh(x.data),), "cosh")


def tanh(x):
    x = _float(x)
    out = xp.tanh(x.data)
    return _make(out, (x,), lambda g: (g * (1 - out * out),), "tanh")


def arcsinh(x):
    x = _float(x)
    return _make(xp.arcsinh(x.data), (x,), lambda g: (g / xp.sqrt(x.data * x.data + 1),),
                 "arcsinh")


def arccosh(x):
    x = _float(x)
    return _make(xp.arccosh(x.data), (x,), lambda g: (g / xp.sqrt(x.data * x.data - 1),),
                 "arccosh")


def arctanh(x):
    x = _float(x)
    return _make(xp.arctanh(x.data), (x,), lambda g: (g / (1 - x.data * x.data),), "arctanh")


def deg2rad(x):
    return multiply(_float(x), math.pi / 180)


def rad2deg(x):
    return multiply(_float(x), 180 / math.pi)


def sinc(x):
    """sin(pi x) / (pi x), and 1 at 0."""
    x = _float(x)
    out = xp.sinc(x.data)

    def backward(g):
        px = math.pi * x.data
        safe = xp.where(px == 0, 1, px)
        return (g * xp.where(px == 0, 0, (xp.cos(safe) - out) / x.data),)
    return _make(out, (x,), backward, "sinc")


def _i1(z):
    """The modified Bessel function of order 1, i0's derivative: its power series below 20,
    the first terms of its asymptotic expansion above (NumPy has i0 only)."""
    a = xp.abs(z).astype(np.float64)
    small = xp.minimum(a, 20.0)
    term = small / 2
    total = term.copy()
    for k in range(1, 60):  # (x/2)^(2k+1) / (k! (k+1)!), each term from the last
        term = term * (small / 2) ** 2 / (k * (k + 1))
        total = total + term
    big = xp.maximum(a, 20.0)
    asymptotic = xp.exp(big) / xp.sqrt(2 * math.pi * big) * (
        1 - 3 / (8 * big) - 15 / (128 * big ** 2) - 315 / (3072 * big ** 3))
    return (xp.sign(z) * xp.where(a <= 20, total, asymptotic)).astype(z.dtype)


def i0(x):
    """The modified Bessel function of the first kind, order 0; its gradient is i1."""
    x = _float(x)
    out = xp.i0(x.data).astype(x.dtype, copy=False)
    return _make(out, (x,), lambda g: (g * _i1(x.data),), "i0")


def hypot(x1, x2):
    """sqrt(x1**2 + x2**2) without overflow."""
    a, b = _promote(x1, x2, float)
    out = _broadcast("hypot", xp.hypot, a, b)
    safe = xp.where(out == 0, 1, out)
    return _make(out, (a, b), lambda g: (g * a.data / safe, g * b.data / safe), "hypot")


def heaviside(x1, x2):
    """0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0 (no gradient to x1)."""
    a, b = _promote(x1, x2, float)
    out = _broadcast("heaviside", xp.heaviside, a, b)
    return _make(out, (a, b), lambda g: (None, g * (a.data == 0)), "heaviside")


def ldexp(x1, x2):
    """x1 * 2**x2, x2 an integer tensor."""
    x2 = _t(x2)
    if x2.dtype.kind not in "iu":
        raise TypeError(f"ldexp: the exponent x2 must be an integer tensor, got dtype "
                        f"{x2.dtype}")
    return multiply(_float(x1), exp2(x2))


def nextafter(x1, x2):
    """The next representable float after x1 towards x2 (no gradient)."""
    a, b = _promote(x1, x2, float)
    return _no_grad(_broadcast("nextafter", xp.nextafter, a, b))


def maximum(x1, x2):
    """Elementwise max; where x1 == x2 the gradient is split evenly between the two."""
    a, b = _promote(x1, x2)
    out = _broadcast("maximum", xp.maximum, a, b)

    def backward(g):
        wa = (a.data > b.data) + g.dtype.type(0.5) * (a.data == b.data)
        return g * wa, g * (1 - wa)
    return _make(out, (a, b), backward, "maximum")


def minimum(x1, x2):
    """Elementwise min; where x1 == x2 the gradient is split evenly between the two."""
    a, b = _promote(x1, x2)
    out = _broadcast("minimum", xp.minimum, a, b)

    def backward(g):
        wa = (a.data < b.data) + g.dtype.type(0.5) * (a.data == b.data)
        return g * wa, g * (1 - wa)
    return _make(out, (a, b), backward, "minimum")


def fmax(x1, x2):
    """Elementwise max that ignores NaN (the other operand wins, and takes the gradient)."""
    a, b = _promote(x1, x2)
    out = _broadcast("fmax", xp.fmax, a, b)

    def backward(g):
        wa = ((a.data > b.data) | xp.isnan(b.data)) + g.dtype.type(0.5) * (a.data == b.data)
        return g * wa, g * (1 - wa)
    return _make(out, (a, b), backward, "fmax")


def fmin(x1, x2):
    """Elementwise min that ignores NaN (the other operand wins, and takes the gradient)."""
    a, b = _promote(x1, x2)
    out = _broadcast("fmin", xp.fmin, a, b)

    def backward(g):
        wa = ((a.data < b.data) | xp.isnan(b.data)) + g.dtype.type(0.5) * (a.data == b.data)
        return g * wa, g * (1 - wa)
    return _make(out, (a, b), backward, "fmin")


def clip(x, x_min, x_max):
    """Clamp x to [x_min, x_max] (scalars or tensors; None leaves that side open). Booleans
    clip as int32. The gradient flows to x inside the bounds, and to the bound that is hit."""
    x = _t(x)
    if x.dtype == np.bool_:
        x = cast(x, "int32")
    bounds = [v for v in (x_min, x_max) if v is not None]
    dtype = result_type(x.dtype, *(_dtype_of(v) for v in bounds))
    x = _as(x, dtype)
    lo = None if x_min is None else _as(x_min, dtype)
    hi = None if x_max is None else _as(x_max, dtype)
    out = x.data
    if lo is not None:
        out = _broadcast("clip", xp.maximum, x, lo)
    if hi is not None:
        out = _broadcast("clip", xp.minimum, Tensor(out, dtype=out.dtype), hi)
    if lo is None and hi is None:
        out = out.copy()

    def backward(g):
        inside = xp.ones(out.shape, dtype=bool)
        if lo is not None:
            inside &= x.data >= lo.data
        if hi is not None:
            inside &= x.data <= hi.data
        grads = [g * inside]
        if lo is not None and hi is not None:  # crossed bounds give hi, as NumPy's clip
            crossed = lo.data > hi.data
            grads += [g * ((x.data < lo.data) & ~crossed), g * ((x.data > hi.data) | crossed)]
        elif lo is not None:
            grads.append(g * (x.data < lo.data))
        elif hi is not None:
            grads.append(g * (x.data > hi.data))
        return tuple(grads)
    parents = (x,) + tuple(v for v in (lo, hi) if v is not None)
    return _make(out, parents, backward, "clip")


def where(condition, x1=None, x2=None):
    """Elementwise `x1 if condition else x2`, in x1's and x2's common dtype; the condition gets
    no gradient. With only the condition: the indices where it holds, as a (ndim, count) int64
    tensor."""
    cond = _t(condition).data.astype(bool, copy=False)
    if x1 is None and x2 is None:
        return _no_grad(xp.stack(xp.nonzero(cond)).astype(np.int64))
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither")
    a, b = _promote(x1, x2)
    try:
        out = xp.where(cond, a.data, b.data)
    except ValueError:
        raise ValueError(f"where: cannot broadcast condition {cond.shape}, x1 {a.shape} and x2 "
                         f"{b.shape} together") from None
    return _make(out, (a, b), lambda g: (g * cond, g * ~cond), "where")


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN to `nan`, +inf and -inf to `posinf` / `neginf` (the dtype's extremes by default);
    the gradient passes where x was finite."""
    x = _t(x)
    if x.dtype.kind not in "fc":
        return x
    out = xp.nan_to_num(x.data, nan=nan, posinf=posinf, neginf=neginf)
    return _make(out, (x,), lambda g: (g * xp.isfinite(x.data),), "nan_to_num")


# ====================================== elementwise: rounding =======================================
# Piecewise constant: their gradient is 0 (as PyTorch's), not undefined, so they stay in a graph.

def floor(x):
    x = _float(x)
    return _make(xp.floor(x.data), (x,), lambda g: (None,), "floor")


def ceil(x):
    x = _float(x)
    return _make(xp.ceil(x.data), (x,), lambda g: (None,), "ceil")


def trunc(x):
    """Round towards zero (integers and booleans are returned as they are)."""
    x = _t(x)
    if x.dtype.kind not in "fc":
        return x
    return _make(xp.trunc(x.data), (x,), lambda g: (None,), "trunc")


def round(x, decimals=0):
    """Round half to even, to `decimals` places; integers keep their dtype."""
    x = _t(x)
    if x.dtype.kind in "iub":
        if decimals >= 0:
            return x
        return _no_grad(xp.round(x.data.astype(np.float64), decimals).astype(x.dtype))
    return _make(xp.round(x.data, decimals), (x,), lambda g: (None,), "round")


# ===================================== comparisons and logic =======================================

def _compare(name, fn, x1, x2):
    return _no_grad(_broadcast(name, fn, x1, x2))  # NumPy compares mixed dtypes by value


def equal(x1, x2): return _compare("equal", xp.equal, x1, x2)
def not_equal(x1, x2): return _compare("not_equal", xp.not_equal, x1, x2)
def less(x1, x2): return _compare("less", xp.less, x1, x2)
def less_equal(x1, x2): return _compare("less_equal", xp.less_equal, x1, x2)
def greater(x1, x2): return _compare("greater", xp.greater, x1, x2)
def greater_equal(x1, x2): return _compare("greater_equal", xp.greater_equal, x1, x2)
def logical_and(x1, x2): return _compare("logical_and", xp.logical_and, x1, x2)
def logical_or(x1, x2): return _compare("logical_or", xp.logical_or, x1, x2)
def logical_xor(x1, x2): return _compare("logical_xor", xp.logical_xor, x1, x2)
def logical_not(x): return _no_grad(xp.logical_not(_t(x).data))


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """|x1 - x2| <= atol + rtol * |x2|, elementwise (exact equality for integers)."""
    a, b = _promote(x1, x2)
    if a.dtype.kind not in "fc":
        return _compare("isclose", xp.equal, a, b)
    return _no_grad(_broadcast("isclose", lambda p, q: xp.isclose(p, q, rtol, atol, equal_nan),
                               a, b))


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether `isclose` holds everywhere, as a boolean scalar tensor."""
    return _no_grad(xp.asarray(isclose(x1, x2, rtol, atol, equal_nan).data.all()))


def isnan(x): return _no_grad(xp.isnan(_t(x).data))
def isinf(x): return _no_grad(xp.isinf(_t(x).data))
def isfinite(x): return _no_grad(xp.isfinite(_t(x).data))
def isposinf(x): return _no_grad(xp.isposinf(_t(x).data))
def isneginf(x): return _no_grad(xp.isneginf(_t(x).data))
def isreal(x): return _no_grad(xp.isreal(_t(x).data))
def signbit(x): return _no_grad(xp.signbit(_t(x).data))


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of x1 occurs in x2."""
    return _no_grad(xp.isin(_t(x1).data, _t(x2).data, assume_unique=assume_unique,
                            invert=invert))


def _bitwise(name, fn, x, y):
    a, b = _promote(x, y)
    if a.dtype.kind not in "iub":
        raise TypeError(f"{name}: needs integer or boolean tensors, got dtype {a.dtype}")
    return _no_grad(_broadcast(name, fn, a, b))


def bitwise_and(x, y): return _bitwise("bitwise_and", xp.bitwise_and, x, y)
def bitwise_or(x, y): return _bitwise("bitwise_or", xp.bitwise_or, x, y)
def bitwise_xor(x, y): return _bitwise("bitwise_xor", xp.bitwise_xor, x, y)
def bitwise_left_shift(x, y): return _bitwise("bitwise_left_shift", xp.left_shift, x, y)
def bitwise_right_shift(x, y): return _bitwise("bitwise_right_shift", xp.right_shift, x, y)


left_shift, right_shift = bitwise_left_shift, bitwise_right_shift


def bitwise_invert(x):
    x = _t(x)
    if x.dtype.kind not in "iub":
        raise TypeError(f"bitwise_invert: needs an integer or boolean tensor, got dtype "
                        f"{x.dtype}")
    return _no_grad(xp.invert(x.data))


bitwise_not = bitwise_invert


def gcd(x1, x2): return _bitwise("gcd", xp.gcd, x1, x2)
def lcm(x1, x2): return _bitwise("lcm", xp.lcm, x1, x2)


# ============================================ reductions ============================================

def _small_int_to_int32(dtype):
    """Sums and products of booleans and 8- or 16-bit integers accumulate in int32, as Keras."""
    return np.dtype(np.int32) if dtype.kind == "b" or (dtype.kind in "iu" and dtype.itemsize < 4) \
        else dtype


def sum(x, axis=None, keepdims=False):
    """Sum over `axis` (None: all axes; (): none). Booleans and small integers sum as int32."""
    x = _t(x)
    axes = _axes(axis, x.ndim)
    dtype = _small_int_to_int32(x.dtype)
    out = x.data.sum(axis=axes, keepdims=keepdims, dtype=dtype)
    return _make(out, (x,),
                 lambda g: (xp.broadcast_to(_keep(g, x.shape, axes, keepdims), x.shape),), "sum")


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over `axis`. Its gradient is the product of the other elements, also where
    some are zero."""
    x = _t(x)
    axes = _axes(axis, x.ndim)
    dtype = _small_int_to_int32(x.dtype) if dtype is None else np.dtype(standardize_dtype(dtype))
    if x.dtype != dtype:
        x = cast(x, dtype)
    out = x.data.prod(axis=axes, keepdims=True, dtype=dtype)

    def backward(g):
        g = _keep(g, x.shape, axes, keepdims)
        zero = x.data == 0
        zeros = zero.sum(axis=axes, keepdims=True)
        others_nonzero = xp.where(zero, 1, x.data).prod(axis=axes, keepdims=True)
        # no zero: out / x; one zero: the others' product, at that zero only; more: 0
        safe = xp.where(zero, 1, x.data)
        share = xp.where(zeros == 0, out / safe, xp.where((zeros == 1) & zero, others_nonzero, 0))
        return (g * share,)
    return _make(out if keepdims else out.reshape(_reduced_shape(x.shape, axes)), (x,), backward,
                 "prod")


def _reduced_shape(shape, axes):
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def mean(x, axis=None, keepdims=False):
    """Mean over `axis`; integers and booleans give float32 (whatever floatx is, as Keras)."""
    x = _t(x)
    if x.dtype.kind not in "fc":
        x = cast(x, result_type(x.dtype, "float32"))
    axes = _axes(axis, x.ndim)
    n = math.prod(x.shape[a] for a in axes)
    out = x.data.mean(axis=axes, keepdims=keepdims) if axes else x.data.copy()
    return _make(out, (x,),
                 lambda g: (xp.broadcast_to(_keep(g, x.shape, axes, keepdims) / n, x.shape),),
                 "mean")


def var(x, axis=None, keepdims=False):
    """The (population) variance over `axis`; by composition."""
    x = _float(x)
    axes = _axes(axis, x.ndim)
    centered = subtract(x, mean(x, axes, keepdims=True))
    return mean(multiply(centered, centered), axes, keepdims)


def std(x, axis=None, keepdims=False):
    """Standard deviation over `axis` (population)."""
    return sqrt(var(x, axis, keepdims))


def _extremum(x, axis, keepdims, reduce, name):
    x = _t(x)
    axes = _axes(axis, x.ndim)
    if x.size == 0:
        raise ValueError(f"{name}: the tensor of shape {x.shape} is empty; give `initial`")
    out = reduce(x.data, axis=axes, keepdims=True)

    def backward(g):
        # ties share the gradient evenly (as PyTorch's amax/amin)
        share = (x.data == out).astype(g.dtype)
        share /= share.sum(axis=axes, keepdims=True)
        return (_keep(g, x.shape, axes, keepdims) * share,)
    return _make(out if keepdims else out.reshape(_reduced_shape(x.shape, axes)), (x,), backward,
                 name)


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over `axis`; tied maxima share the gradient evenly. `initial` joins the
    maximum (and is the result for an empty tensor)."""
    x = _t(x)
    if initial is not None:
        if x.size == 0:
            shape = (1,) * x.ndim if keepdims else _reduced_shape(x.shape, _axes(axis, x.ndim))
            return full(shape, initial, x.dtype)
        return maximum(_extremum(x, axis, keepdims, xp.max, "max"), _as(initial, x.dtype))
    return _extremum(x, axis, keepdims, xp.max, "max")


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over `axis`; tied minima share the gradient evenly."""
    x = _t(x)
    if initial is not None:
        if x.size == 0:
            shape = (1,) * x.ndim if keepdims else _reduced_shape(x.shape, _axes(axis, x.ndim))
            return full(shape, initial, x.dtype)
        return minimum(_extremum(x, axis, keepdims, xp.min, "min"), _as(initial, x.dtype))
    return _extremum(x, axis, keepdims, xp.min, "min")


def amax(x, axis=None, keepdims=False):
    return _extremum(x, axis, keepdims, xp.max, "amax")


def amin(x, axis=None, keepdims=False):
    return _extremum(x, axis, keepdims, xp.min, "amin")


def ptp(x, axis=None, keepdims=False):
    """max - min over `axis`."""
    return subtract(amax(x, axis, keepdims), amin(x, axis, keepdims))


def all(x, axis=None, keepdims=False):
    x = _t(x)
    return _no_grad(xp.asarray(x.data.all(axis=_axes(axis, x.ndim), keepdims=keepdims)))


def any(x, axis=None, keepdims=False):
    x = _t(x)
    return _no_grad(xp.asarray(x.data.any(axis=_axes(axis, x.ndim), keepdims=keepdims)))


def count_nonzero(x, axis=None):
    """How many elements are not zero, over `axis`, as int32."""
    x = _t(x)
    return _no_grad(xp.asarray((x.data != 0).sum(axis=_axes(axis, x.ndim)), dtype=np.int32))


def _arg(x, axis, keepdims, fn):
    x = _t(x)
    data = x.data.astype(np.uint8) if x.dtype == np.bool_ else x.data
    if axis is None:
        out = fn(data.reshape(-1))
        out = xp.asarray(out).reshape((1,) * x.ndim) if keepdims else out
    else:
        out = fn(data, axis=_axis(axis, x.ndim), keepdims=keepdims)
    return _no_grad(xp.asarray(out, dtype=np.int32))


def argmax(x, axis=None, keepdims=False):
    """Index of the (first) maximum along `axis` (of the flattened tensor for None), int32."""
    return _arg(x, axis, keepdims, xp.argmax)


def argmin(x, axis=None, keepdims=False):
    """Index of the (first) minimum along `axis` (of the flattened tensor for None), int32."""
    return _arg(x, axis, keepdims, xp.argmin)


def average(x, axis=None, weights=None):
    """Mean over `axis`, weighted by `weights` (the shape of x, or 1-D along `axis`)."""
    x = _t(x)
    if weights is None:
        return mean(_as(x, result_type(x.dtype, float)), axis)
    w = _t(weights)
    dtype = result_type(x.dtype, w.dtype, float)
    x, w = _as(x, dtype), _as(w, dtype)
    if w.ndim == 1 and x.ndim > 1 and axis is not None:
        w = reshape(w, [w.shape[0] if i == _axis(axis, x.ndim) else 1 for i in range(x.ndim)])
    return divide(sum(multiply(x, w), axis), sum(broadcast_to(w, x.shape), axis))


def cumsum(x, axis=None, dtype=None):
    """Running sum along `axis` (of the flattened tensor for None). Booleans sum as int32."""
    x = _t(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis(axis, x.ndim)
    dtype = np.dtype(standardize_dtype(dtype)) if dtype is not None else \
        (np.dtype(np.int32) if x.dtype == np.bool_ else x.dtype)
    x = _as(x, dtype)
    out = xp.cumsum(x.data, axis=axis, dtype=dtype)
    # adjoint of a running sum: the running sum from the end
    return _make(out, (x,), lambda g: (xp.flip(xp.cumsum(xp.flip(g, axis), axis), axis),),
                 "cumsum")


def cumprod(x, axis=None, dtype=None):
    """Running product along `axis` (of the flattened tensor for None). Its gradient is exact
    also where elements are zero."""
    x = _t(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis(axis, x.ndim)
    dtype = np.dtype(standardize_dtype(dtype)) if dtype is not None else \
        (np.dtype(np.int32) if x.dtype == np.bool_ else x.dtype)
    x = _as(x, dtype)
    out = xp.cumprod(x.data, axis=axis, dtype=dtype)

    def backward(g):
        if not (x.data == 0).any():  # d out_j / d x_k = out_j / x_k for j >= k
            return (xp.flip(xp.cumsum(xp.flip(g * out, axis), axis), axis) / x.data,)
        # with zeros: for each k, the running product with x_k replaced by 1 (n passes over n)
        gx = xp.empty_like(x.data)
        n = x.shape[axis]
        for k in range(n):
            ones_at_k = x.data.copy()
            idx = [slice(None)] * x.ndim
            idx[axis] = k
            ones_at_k[tuple(idx)] = 1
            partial = xp.cumprod(ones_at_k, axis=axis)
            idx_from = list(idx)
            idx_from[axis] = slice(k, None)
            gx[tuple(idx)] = (g[tuple(idx_from)] * partial[tuple(idx_from)]).sum(axis=axis)
        return (gx,)
    return _make(out, (x,), backward, "cumprod")


def diff(a, n=1, axis=-1):
    """The n-th difference along `axis`: a[1:] - a[:-1], n times."""
    a = _t(a)
    axis = _axis(axis, a.ndim)
    for _ in range(n):
        hi = [slice(None)] * a.ndim
        lo = list(hi)
        hi[axis], lo[axis] = slice(1, None), slice(None, -1)
        a = subtract(get_item(a, tuple(hi)), get_item(a, tuple(lo)))
    return a


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of y along `axis` by the trapezoidal rule (sample points x, or spacing dx)."""
    y = _t(y)
    if y.dtype == np.bool_:
        y = cast(y, config.floatx())
    axis = _axis(axis, y.ndim)
    hi = [slice(None)] * y.ndim
    lo = list(hi)
    hi[axis], lo[axis] = slice(1, None), slice(None, -1)
    pairs = multiply(add(get_item(y, tuple(hi)), get_item(y, tuple(lo))), 0.5)
    if x is None:
        return multiply(sum(pairs, axis), dx)
    x = _t(x)
    steps = diff(x, axis=-1 if x.ndim == 1 else axis)
    if x.ndim == 1:
        steps = reshape(steps, [steps.shape[0] if i == axis else 1 for i in range(y.ndim)])
    return sum(multiply(pairs, steps), axis)


# ============================================= creation =============================================

def _dtype_or_floatx(dtype):
    return np.dtype(standardize_dtype(dtype))  # None -> floatx()


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)


def zeros(shape, dtype=None):
    """A tensor of zeros; dtype `floatx()` unless given."""
    return _no_grad(xp.zeros(_shape(shape), dtype=_dtype_or_floatx(dtype)))


def ones(shape, dtype=None):
    """A tensor of ones; dtype `floatx()` unless given."""
    return _no_grad(xp.ones(_shape(shape), dtype=_dtype_or_floatx(dtype)))


def empty(shape, dtype=None):
    """A tensor of the shape with unspecified values (zeros in mgp); dtype `floatx()`."""
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None):
    """A tensor filled with `fill_value` (a scalar, or an array broadcast to the shape);
    dtype `floatx()` unless given."""
    dtype = _dtype_or_floatx(dtype)
    fill = _t(fill_value).data.astype(dtype)
    return _no_grad(xp.array(xp.broadcast_to(fill, _shape(shape))))


def zeros_like(x, dtype=None):
    x = _t(x)
    return _no_grad(xp.zeros(x.shape, dtype=x.dtype if dtype is None else
                             np.dtype(standardize_dtype(dtype))))


def ones_like(x, dtype=None):
    x = _t(x)
    return _no_grad(xp.ones(x.shape, dtype=x.dtype if dtype is None else
                            np.dtype(standardize_dtype(dtype))))


def empty_like(x, dtype=None):
    return zeros_like(x, dtype)


def full_like(x, fill_value, dtype=None):
    x = _t(x)
    return full(x.shape, fill_value, x.dtype if dtype is None else dtype)


def array(x, dtype=None):
    """`convert_to_tensor(x, dtype)`."""
    return convert_to_tensor(x, dtype)


def copy(x):
    """A copy of x (gradients flow through)."""
    x = _t(x)
    return _make(x.data.copy(), (x,), lambda g: (g,), "copy")


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [start, stop); int32 for int arguments, `floatx()` for floats,
    unless `dtype` is given."""
    if dtype is None:
        dtype = result_type(*(_dtype_of(v) for v in (start, stop, step) if v is not None))
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    values = [to_numpy(_t(v).data).item() if not isinstance(v, (int, float)) else v
              for v in (start, stop, step)]
    return _no_grad(xp.arange(*values, dtype=np.dtype(standardize_dtype(dtype))))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced values from start to stop (arrays for start and stop give a grid
    along `axis`); `floatx()` unless `dtype` is given."""
    if dtype is None:
        dtype = result_type(_dtype_of(start), _dtype_of(stop), float)
    dtype = np.dtype(standardize_dtype(dtype))
    lo, hi = to_numpy(_t(start).data), to_numpy(_t(stop).data)
    out, step = np.linspace(lo, hi, num, endpoint=endpoint, retstep=True, axis=axis)
    out = _no_grad(xp.asarray(out.astype(dtype)))
    return (out, _no_grad(xp.asarray(np.asarray(step).astype(dtype)))) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """base ** linspace(start, stop)."""
    if dtype is None:
        dtype = result_type(_dtype_of(start), _dtype_of(stop), float)
    dtype = np.dtype(standardize_dtype(dtype))
    out = np.logspace(to_numpy(_t(start).data), to_numpy(_t(stop).data), num,
                      endpoint=endpoint, base=base, axis=axis)
    return _no_grad(xp.asarray(out.astype(dtype)))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Values spaced evenly on a log scale from start to stop."""
    if dtype is None:
        dtype = result_type(_dtype_of(start), _dtype_of(stop), float)
    dtype = np.dtype(standardize_dtype(dtype))
    out = np.geomspace(to_numpy(_t(start).data), to_numpy(_t(stop).data), num,
                       endpoint=endpoint, axis=axis)
    return _no_grad(xp.asarray(out.astype(dtype)))


def eye(N, M=None, k=0, dtype=None):
    """An N x M matrix with ones on the k-th diagonal."""
    return _no_grad(xp.eye(N, M, k=k, dtype=_dtype_or_floatx(dtype)))


def identity(n, dtype=None):
    """The n x n identity matrix."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """An N x M matrix with ones at and below the k-th diagonal."""
    return _no_grad(xp.tri(N, M, k=k, dtype=_dtype_or_floatx(dtype)))


def _window(name, fn, x, *args):
    n = int(to_numpy(_t(x).data))
    return _no_grad(xp.asarray(fn(n, *args).astype(config.floatx())))


def bartlett(x): return _window("bartlett", np.bartlett, x)
def blackman(x): return _window("blackman", np.blackman, x)
def hamming(x): return _window("hamming", np.hamming, x)
def hanning(x): return _window("hanning", np.hanning, x)
def kaiser(x, beta): return _window("kaiser", np.kaiser, x, beta)


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D tensors ('xy': Cartesian, 'ij': matrix indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xs = [reshape(_t(v), (-1,)) for v in x]
    shape = [v.shape[0] for v in xs]
    if indexing == "xy" and len(xs) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, v in enumerate(xs):
        axis = i
        if indexing == "xy" and len(xs) >= 2 and i < 2:
            axis = 1 - i
        view = [1] * len(xs)
        view[axis] = v.shape[0]
        grids.append(broadcast_to(reshape(v, view), shape))
    return grids


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D x: columns x**(N-1), ..., x**0 (reversed if
    `increasing`)."""
    x = _t(x)
    if x.ndim != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {x.shape}")
    N = x.shape[0] if N is None else N
    powers = np.arange(N) if increasing else np.arange(N)[::-1]
    return power(expand_dims(x, 1), convert_to_tensor(powers.copy(), x.dtype))


# ============================================= movement =============================================

def reshape(x, newshape):
    """x with a new shape (one entry may be -1) and the same elements."""
    x = _t(x)
    shape = _shape(newshape)
    try:
        out = x.data.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into shape {shape}") from None
    return _make(out, (x,), lambda g: (g.reshape(x.shape),), "reshape")


def ravel(x):
    """x flattened to 1-D."""
    return reshape(x, (-1,))


def flatten(x, start_axis=0):
    """The axes from `start_axis` on collapsed into one (PyTorch's flatten; not a Keras op:
    mgp's engine name, for `mgp.flatten` and `Tensor.flatten`)."""
    x = _t(x)
    return reshape(x, x.shape[:start_axis] + (-1,))


def transpose(x, axes=None):
    """Permute axes by `axes` (reverse them when None)."""
    x = _t(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(int(a) for a in axes)
    if sorted(a % _max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the axes of a "
                         f"tensor of shape {x.shape}")
    inverse = tuple(np.argsort([a % x.ndim for a in axes]))
    return _make(x.data.transpose(axes), (x,), lambda g: (g.transpose(inverse),), "transpose")


def swapaxes(x, axis1, axis2):
    """x with two axes exchanged."""
    x = _t(x)
    perm = list(range(x.ndim))
    a, b = _axis(axis1, x.ndim), _axis(axis2, x.ndim)
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, perm)


def moveaxis(x, source, destination):
    """x with the axes `source` moved to the positions `destination`."""
    x = _t(x)
    src, dst = _axes(source, x.ndim), _axes(destination, x.ndim)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} must have "
                         f"the same number of axes")
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def expand_dims(x, axis):
    """x with new axes of size 1 at `axis` (an int or a tuple)."""
    x = _t(x)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out_ndim = x.ndim + len(axes)
    axes = sorted(_axis(a, out_ndim) for a in axes)
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, shape)


def squeeze(x, axis=None):
    """x without its axes of size 1 (only those in `axis` when given, which must be 1)."""
    x = _t(x)
    if axis is None:
        return reshape(x, [n for n in x.shape if n != 1])
    axes = _axes(axis, x.ndim)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, "
                             f"not 1")
    return reshape(x, [n for i, n in enumerate(x.shape) if i not in axes])


def broadcast_to(x, shape):
    """x broadcast to `shape` (a view; the engine sums the gradient back)."""
    x = _t(x)
    try:
        out = xp.broadcast_to(x.data, _shape(shape))
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {tuple(shape)}") \
            from None
    return _make(out, (x,), lambda g: (g,), "broadcast_to")


def _same_dtype(xs):
    xs = [_t(v) for v in xs]
    if len({v.dtype for v in xs}) > 1:
        dtype = result_type(*(v.dtype for v in xs))
        xs = [_as(v, dtype) for v in xs]
    return xs


def concatenate(xs, axis=0):
    """The tensors joined along an existing `axis`."""
    xs = _same_dtype(xs)
    if not xs:
        raise ValueError("concatenate: needs at least one tensor")
    try:
        out = xp.concatenate([v.data for v in xs], axis=axis)
    except ValueError:
        raise ValueError(f"concatenate along axis {axis}: shapes {[v.shape for v in xs]} do not "
                         f"match off that axis") from None
    axis = _axis(axis, out.ndim)
    cuts = np.cumsum([v.shape[axis] for v in xs])[:-1].tolist()  # host ints, any device
    return _make(out, tuple(xs), lambda g: tuple(xp.split(g, cuts, axis=axis)), "concatenate")


def stack(x, axis=0):
    """The tensors joined along a new `axis`."""
    xs = _same_dtype(x)
    try:
        out = xp.stack([v.data for v in xs], axis=axis)
    except ValueError:
        raise ValueError(f"stack: all shapes must be equal, got {[v.shape for v in xs]}") \
            from None
    axis = _axis(axis, out.ndim)
    return _make(out, tuple(xs), lambda g: tuple(xp.moveaxis(g, axis, 0)), "stack")


def hstack(xs):
    """Join along axis 1 (axis 0 for 1-D tensors)."""
    xs = [_t(v) for v in xs]
    return concatenate(xs, axis=0 if xs and xs[0].ndim == 1 else 1)


def vstack(xs):
    """Join along axis 0, 1-D tensors taken as rows."""
    return concatenate([reshape(v, (1, -1)) if v.ndim == 1 else v for v in map(_t, xs)], 0)


def dstack(xs):
    """Join along axis 2, lower-dimensional tensors lifted to 3-D first."""
    def lift(v):
        return reshape(v, (1, -1, 1)) if v.ndim == 1 else (expand_dims(v, 2) if v.ndim == 2
                                                          else v)
    return concatenate([lift(_t(v)) for v in xs], 2)


def append(x1, x2, axis=None):
    """x2 after x1 along `axis` (both flattened when None)."""
    if axis is None:
        return concatenate([ravel(x1), ravel(x2)])
    return concatenate([x1, x2], axis)


def _slices(x, axis, bounds):
    axis = _axis(axis, x.ndim)
    head = (slice(None),) * axis
    return [get_item(x, head + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(x, indices_or_sections, axis=0):
    """Split x along `axis` into equal sections (an int, which must divide the axis) or at the
    given indices; a list of tensors."""
    x = _t(x)
    n = x.shape[_axis(axis, x.ndim)]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"split: {k} sections do not divide axis {axis} of shape "
                             f"{x.shape} evenly; use array_split")
        bounds = [i * n // k for i in range(k + 1)]
    else:
        bounds = [0] + [int(i) for i in to_numpy(_t(indices_or_sections).data)] + [n]
    return _slices(x, axis, bounds)


def array_split(x, indices_or_sections, axis=0):
    """Split x along `axis` into `indices_or_sections` nearly equal parts (the first ones one
    longer), or at the given indices."""
    x = _t(x)
    n = x.shape[_axis(axis, x.ndim)]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError(f"array_split: the number of sections must be positive, got {k}")
        sizes = [n // k + (i < n % k) for i in range(k)]
        bounds = [0] + np.cumsum(sizes).tolist()
    else:
        bounds = [0] + [int(i) for i in to_numpy(_t(indices_or_sections).data)] + [n]
    return _slices(x, axis, bounds)


def hsplit(x, indices_or_sections):
    x = _t(x)
    return split(x, indices_or_sections, axis=0 if x.ndim == 1 else 1)


def vsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=0)


def dsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=2)


def tile(x, repeats):
    """x repeated `repeats` times along each axis, by broadcasting (so it is differentiable)."""
    x = _t(x)
    reps = (int(repeats),) if isinstance(repeats, (int, np.integer)) else \
        tuple(int(r) for r in to_numpy(_t(repeats).data).reshape(-1))
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    reps = (1,) * (len(shape) - len(reps)) + reps
    interleaved = [d for n in shape for d in (1, n)]
    big = [d for r, n in zip(reps, shape) for d in (r, n)]
    return reshape(broadcast_to(reshape(x, interleaved), big),
                   [r * n for r, n in zip(reps, shape)])


def repeat(x, repeats, axis=None):
    """Each element repeated `repeats` times (an int, or one count per element) along `axis`
    (of the flattened tensor for None)."""
    x = _t(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis(axis, x.ndim)
    counts = to_numpy(_t(repeats).data)
    index = np.repeat(np.arange(x.shape[axis]), counts)
    return get_item(x, (slice(None),) * axis + (xp.asarray(index),))


def flip(x, axis=None):
    """x reversed along `axis` (all axes for None)."""
    x = _t(x)
    axes = _axes(axis, x.ndim)
    return _make(xp.flip(x.data, axes), (x,), lambda g: (xp.flip(g, axes),), "flip")


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)


def rot90(array, k=1, axes=(0, 1)):
    """x rotated by k quarter turns in the plane of `axes` (from the first towards the second)."""
    x = _t(array)
    if x.ndim < 2:
        raise ValueError(f"rot90: needs at least 2 dimensions, got shape {x.shape}")
    a, b = (_axis(v, x.ndim) for v in axes)
    if a == b:
        raise ValueError(f"rot90: the two axes must differ, got {axes}")
    k %= 4
    if k == 1:
        return swapaxes(flip(x, b), a, b)
    if k == 2:
        return flip(x, (a, b))
    if k == 3:
        return flip(swapaxes(x, a, b), b)
    return x


def roll(x, shift, axis=None):
    """x rolled by `shift` places along `axis` (of the flattened tensor for None)."""
    x = _t(x)
    out = xp.roll(x.data, shift, axis)
    back = tuple(-s for s in shift) if isinstance(shift, (tuple, list)) else -shift
    return _make(out, (x,), lambda g: (xp.roll(g, back, axis),), "roll")


def pad(x, pad_width, mode="constant", constant_values=None):
    """x padded by `pad_width` ((before, after) per axis, one pair for all, or an int) in one
    of NumPy's modes: 'constant' (with `constant_values`, 0 by default), 'edge', 'reflect',
    'symmetric', 'wrap'."""
    x = _t(x)
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width} does not fit a tensor of shape "
                         f"{x.shape}") from None
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: constant_values is only for mode='constant', got mode={mode!r}")
    if mode == "constant":
        value = 0 if constant_values is None else constant_values
        out = xp.pad(x.data, [tuple(w) for w in widths], constant_values=value)
        inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return _make(out, (x,), lambda g: (g[inner],), "pad")
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise ValueError(f"pad: unknown mode {mode!r}; expected 'constant', 'edge', 'reflect', "
                         f"'symmetric' or 'wrap'")
    # where each output position reads from, axis by axis: NumPy's pad of the positions
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:
            source = np.pad(np.arange(x.shape[axis]), (lo, hi), mode=mode)
            x = get_item(x, (slice(None),) * axis + (xp.asarray(source),))
    return x


def _is_basic_index(key):
    items = key if isinstance(key, tuple) else (key,)
    return builtins.all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))
                        for i in items)


def get_item(x, key):
    """x[key]: basic and advanced indexing; repeated advanced indices accumulate their
    gradients."""
    x = _t(x)
    if isinstance(key, Tensor):
        key = key.data
    elif isinstance(key, (tuple, list)) and builtins.any(isinstance(i, Tensor) for i in key):
        key = type(key)(i.data if isinstance(i, Tensor) else i for i in key)
    try:
        out = x.data[key]
    except IndexError as e:
        raise IndexError(f"get_item: index {key!r} does not fit a tensor of shape {x.shape}: "
                         f"{e}") from None
    basic = _is_basic_index(key)

    def backward(g):
        gx = xp.zeros(x.shape, dtype=g.dtype)
        if basic:
            gx[key] = g  # a view: each element selected at most once
        else:
            xp.add.at(gx, key, g)  # x[[0, 0, 1]]: row 0's gradient counts twice
        return (gx,)
    return _make(out, (x,), backward, "get_item")


def take(x, indices, axis=None):
    """The elements of x at `indices` along `axis` (of the flattened tensor for None); negative
    indices count from the end."""
    x = _t(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis(axis, x.ndim)
    idx = _t(indices).data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take: indices must be integers, got dtype {idx.dtype}")
    return get_item(x, (slice(None),) * axis + (idx.astype(np.intp, copy=False),))


def take_along_axis(x, indices, axis=None):
    """The elements of x at `indices` along `axis`, indices broadcast against x elsewhere."""
    x = _t(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis(axis, x.ndim)
    idx = _t(indices).data
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices of shape {idx.shape} need the rank of x "
                         f"{x.shape}")
    idx = xp.where(idx < 0, idx + x.shape[axis], idx).astype(np.intp, copy=False)
    shape = tuple(n if i == axis else _max(n, m) for i, (n, m) in
                  enumerate(zip(idx.shape, x.shape)))
    idx = xp.broadcast_to(idx, shape)
    key = tuple(idx if i == axis else xp.arange(x.shape[i]).reshape(
        [-1 if j == i else 1 for j in range(x.ndim)]) for i in range(x.ndim))
    return get_item(x, key)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The `offset` diagonal of the planes of axes (axis1, axis2), along a new last axis."""
    x = moveaxis(_t(x), (axis1, axis2), (-2, -1))
    n, m = x.shape[-2:]
    length = _max(0, _min(n + _min(offset, 0), m - _max(offset, 0)))
    i = np.arange(length)
    return get_item(x, (Ellipsis, xp.asarray(i - _min(offset, 0)), xp.asarray(i + _max(offset, 0))))


def _embed(shape, key, values):
    """Zeros of `shape` with `values` written at `key` (distinct positions); the gradient of
    `values` is read back at `key`."""
    values = _t(values)
    out = xp.zeros(shape, dtype=values.dtype)
    out[key] = values.data
    return _make(out, (values,), lambda g: (g[key],), "embed")


def diag(x, k=0):
    """A 1-D x as the k-th diagonal of a square matrix, or the k-th diagonal of a 2-D x."""
    x = _t(x)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag: x must be 1-D or 2-D, got shape {x.shape}")
    n = x.shape[0] + _abs(k)
    i = np.arange(x.shape[0])
    return _embed((n, n), (xp.asarray(i - _min(k, 0)), xp.asarray(i + _max(k, 0))), x)


def diagflat(x, k=0):
    """x flattened, as the k-th diagonal of a square matrix."""
    return diag(ravel(x), k)


def _triangle(x, k, lower):
    x = _t(x)
    n, m = x.shape[-2:]
    keep = xp.asarray(np.tri(n, m, k, dtype=bool) if lower else ~np.tri(n, m, k - 1, dtype=bool))
    out = xp.where(keep, x.data, xp.zeros((), dtype=x.dtype))
    return _make(out, (x,), lambda g: (g * keep,), "tril" if lower else "triu")


def tril(x, k=0):
    """x with the elements above the k-th diagonal zeroed (on the last two axes)."""
    return _triangle(x, k, True)


def triu(x, k=0):
    """x with the elements below the k-th diagonal zeroed (on the last two axes)."""
    return _triangle(x, k, False)


def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of the `offset` diagonal (booleans and small integers sum as int32)."""
    return sum(diagonal(x, offset, axis1, axis2), -1)


def ndim(x):
    """The number of dimensions, an int."""
    return x.ndim if isinstance(x, Tensor) else np.ndim(x)


def size(x):
    """The number of elements, as an int64 scalar tensor."""
    return _no_grad(xp.asarray(math.prod(_t(x).shape), dtype=np.int64))


def view(x, dtype=None):
    """x's bytes reinterpreted as `dtype` (no gradient)."""
    x = _t(x)
    if dtype is None:
        return x
    return _no_grad(x.data.view(np.dtype(standardize_dtype(dtype))))


# ========================================== linear algebra ==========================================

def matmul(x1, x2):
    """Matrix product with `np.matmul`'s rules: 1-D operands and broadcast batch dimensions.
    Booleans multiply as `floatx()`; two int8 operands give int32."""
    a, b = _t(x1), _t(x2)
    if a.dtype == np.int8 and b.dtype == np.int8:
        a, b = cast(a, "int32"), cast(b, "int32")
    a, b = _promote(a, b)
    if a.dtype == np.bool_:  # computed in floatx, the result back as bool, as Keras
        out = matmul(cast(a, config.floatx()), cast(b, config.floatx()))
        return _no_grad(out.data != 0)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got shapes {a.shape} and "
                         f"{b.shape}")
    try:
        out = a.data @ b.data
    except ValueError:
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        why = (f"inner dimensions differ ({k_a} != {k_b})" if k_a != k_b
               else "batch dimensions do not broadcast")
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: {why}") \
            from None

    def backward(g):
        # lift 1-D operands to matrices, as np.matmul does, then drop the added axis again
        A = a.data[None, :] if a.ndim == 1 else a.data
        B = b.data[:, None] if b.ndim == 1 else b.data
        G = g[..., None] if b.ndim == 1 else g
        G = G[..., None, :] if a.ndim == 1 else G
        ga = G @ xp.swapaxes(B, -1, -2) if a.requires_grad else None
        gb = xp.swapaxes(A, -1, -2) @ G if b.requires_grad else None
        if ga is not None and a.ndim == 1:
            ga = ga[..., 0, :]
        if gb is not None and b.ndim == 1:
            gb = gb[..., 0]
        return ga, gb
    return _make(out, (a, b), backward, "matmul")


def dot(x1, x2):
    """NumPy's dot: a product for scalars, matmul for 1-D and 2-D, and for N-D the sum over
    x1's last axis and x2's second-to-last."""
    a, b = _promote(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if b.ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 2]))


def tensordot(x1, x2, axes=2):
    """The sum of products over the last `axes` axes of x1 and the first of x2, or over the
    axes listed in `axes` = (x1's, x2's); by transposes, a reshape and one matmul."""
    a, b = _promote(x1, x2)
    if isinstance(axes, (int, np.integer)):
        ax_a, ax_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        ax_a, ax_b = ([v] if isinstance(v, (int, np.integer)) else list(v) for v in axes)
    ax_a, ax_b = [_axis(v, a.ndim) for v in ax_a], [_axis(v, b.ndim) for v in ax_b]
    if [a.shape[i] for i in ax_a] != [b.shape[i] for i in ax_b]:
        raise ValueError(f"tensordot: shapes {a.shape} and {b.shape} differ along the summed "
                         f"axes {ax_a} and {ax_b}")
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    k = math.prod(a.shape[i] for i in ax_a)
    am = reshape(transpose(a, free_a + ax_a), (-1, k))
    bm = reshape(transpose(b, ax_b + free_b), (k, -1))
    return reshape(matmul(am, bm), [a.shape[i] for i in free_a] + [b.shape[i] for i in free_b])


def outer(x1, x2):
    """The outer product of x1 and x2, flattened."""
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


def inner(x1, x2):
    """The sum of products over the last axes of x1 and x2."""
    a, b = _promote(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 1]))


def vdot(x1, x2):
    """The dot product of x1 and x2 flattened (x1 conjugated)."""
    return sum(multiply(conj(ravel(x1)), ravel(x2)))


def kron(x1, x2):
    """The Kronecker product."""
    a, b = _promote(x1, x2)
    nd = _max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b = reshape(b, (1,) * (nd - b.ndim) + b.shape)
    prod_ = multiply(reshape(a, [d for n in a.shape for d in (n, 1)]),
                     reshape(b, [d for n in b.shape for d in (1, n)]))
    return reshape(prod_, [n * m for n, m in zip(a.shape, b.shape)])


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors along the given axes (`axis` sets all three)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _promote(x1, x2)
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise ValueError(f"cross: needs vectors of length 3, got shapes {a.shape} and {b.shape}")

    def c(v, i):
        return get_item(v, (Ellipsis, i))
    out = stack([subtract(multiply(c(a, 1), c(b, 2)), multiply(c(a, 2), c(b, 1))),
                 subtract(multiply(c(a, 2), c(b, 0)), multiply(c(a, 0), c(b, 2))),
                 subtract(multiply(c(a, 0), c(b, 1)), multiply(c(a, 1), c(b, 0)))], -1)
    return moveaxis(out, -1, axisc)


def _einsum_parse(subscripts, shapes):
    """Explicit subscripts: '...' spelled out with spare letters, and the output named."""
    subscripts = subscripts.replace(" ", "")
    ins, arrow, out = subscripts.partition("->")
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(ins)} operands, got {len(shapes)}")
    spare = iter(sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
                        - set(subscripts)))
    ell_rank = _max([len(s) - (len(term) - 3) for term, s in zip(ins, shapes) if "..." in term],
                    default=0)
    ell = "".join(next(spare) for _ in range(ell_rank))
    ins = [term.replace("...", ell[ell_rank - (len(s) - (len(term) - 3)):])
           if "..." in term else term for term, s in zip(ins, shapes)]
    if arrow:
        out = out.replace("...", ell)
    else:
        letters = "".join(ins)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    return ins, out


def _contract(spec, *arrays):
    """xp.einsum, through BLAS (tensordot) for products of several operands: np.einsum's own
    loop is many times slower on the projections of attention layers."""
    return xp.einsum(spec, *arrays, optimize=len(arrays) > 1)


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation (`np.einsum`'s notation, '...' included). The gradient of each operand
    is an einsum of the others with the output's gradient."""
    ops_ = list(_same_dtype(operands))
    if ops_ and builtins.all(v.dtype == np.int8 for v in ops_):
        ops_ = [cast(v, "int32") for v in ops_]
    ins, out_sub = _einsum_parse(subscripts, [v.shape for v in ops_])
    spec = ",".join(ins) + "->" + out_sub
    try:
        out = _contract(spec, *[v.data for v in ops_])
    except ValueError as e:
        raise ValueError(f"einsum {subscripts!r}: operands of shapes "
                         f"{[v.shape for v in ops_]} do not fit ({e})") from None
    sizes = {c: n for term, v in zip(ins, ops_) for c, n in zip(term, v.shape)}

    letters = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    def grad_of(i, g):
        term = ins[i]
        unique = "".join(dict.fromkeys(term))
        others = [(ins[j], ops_[j].data) for j in range(len(ops_)) if j != i]
        known = set(out_sub).union(*(t for t, _ in others))
        kept = "".join(c for c in unique if c in known)
        h = _contract(",".join([out_sub] + [t for t, _ in others]) + "->" + kept, g,
                      *[d for _, d in others])
        # letters only x_i has were summed in the forward: their gradient is broadcast
        h = xp.broadcast_to(h.reshape([sizes[c] if c in kept else 1 for c in unique]),
                            [sizes[c] for c in unique])
        if len(unique) == len(term):
            return xp.einsum(unique + "->" + term, h)
        # repeated letters ('ii', a diagonal): each repeat gets a fresh letter, tied by an eye
        spare = iter(sorted(letters - set(spec)))
        renamed, ties, seen = "", [], set()
        for c in term:
            fresh = next(spare) if c in seen else c
            if c in seen:
                ties.append(c + fresh)
            seen.add(c)
            renamed += fresh
        return xp.einsum(",".join([unique] + ties) + "->" + renamed, h,
                         *[xp.eye(sizes[t[0]], dtype=g.dtype) for t in ties])

    def backward(g):
        return tuple(grad_of(i, g) if v.requires_grad else None for i, v in enumerate(ops_))
    return _make(xp.asarray(out), tuple(ops_), backward, "einsum")


def slogdet(x):
    """(sign, log|det|) of square matrices over the last two axes; log|det|'s gradient is
    inv(x)^T."""
    x = _float(x)
    sign_, logabs = xp.linalg.slogdet(x.data)
    return (_no_grad(xp.asarray(sign_)),
            _make(xp.asarray(logabs), (x,),
                  lambda g: (g[..., None, None] * xp.swapaxes(xp.linalg.inv(x.data), -1, -2),),
                  "slogdet"))


def correlate(x1, x2, mode="valid"):
    """The cross-correlation of two 1-D sequences, sum_k x1[n + k] * x2[k] ('valid', 'same' or
    'full', as NumPy)."""
    a, b = _promote(x1, x2, float)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"correlate: needs 1-D tensors, got shapes {a.shape} and {b.shape}")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    n, m = a.shape[0], b.shape[0]
    swapped = m > n  # NumPy slides the shorter one and reverses the result
    if swapped:
        a, b, n, m = b, a, m, n
    left = {"valid": 0, "same": m // 2, "full": m - 1}[mode]
    right = {"valid": 0, "same": m - 1 - m // 2, "full": m - 1}[mode]
    padded = pad(a, [(left, right)])
    count = padded.shape[0] - m + 1
    windows = get_item(padded, xp.asarray(np.arange(count)[:, None] + np.arange(m)))
    out = matmul(windows, b)
    return flip(out, 0) if swapped else out


# ======================================= sorting and selection ======================================

def argsort(x, axis=-1):
    """The indices that sort x along `axis` (of the flattened tensor for None); stable, int32."""
    x = _t(x)
    if axis is None:
        x, axis = ravel(x), 0
    data = x.data.astype(np.uint8) if x.dtype == np.bool_ else x.data
    return _no_grad(xp.argsort(data, axis=_axis(axis, x.ndim), kind="stable").astype(np.int32))


def sort(x, axis=-1):
    """x sorted along `axis` (of the flattened tensor for None); the gradient follows each
    element to its place."""
    x = _t(x)
    if axis is None:
        x, axis = ravel(x), 0
    return take_along_axis(x, argsort(x, axis), axis)


def argpartition(x, kth, axis=-1):
    """Indices that put the kth-smallest element of x in place along `axis`, smaller ones
    before it and larger after (in no particular order), int32."""
    x = _t(x)
    if axis is None:
        x, axis = ravel(x), 0
    return _no_grad(xp.argpartition(x.data, kth, axis=_axis(axis, x.ndim)).astype(np.int32))


def searchsorted(sorted_sequence, values, side="left"):
    """Where each value would go in the 1-D `sorted_sequence` to keep it sorted, int32."""
    seq = _t(sorted_sequence)
    if seq.ndim != 1:
        raise ValueError(f"searchsorted: sorted_sequence must be 1-D, got shape {seq.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    return _no_grad(xp.searchsorted(seq.data, _t(values).data, side=side).astype(np.int32))


def digitize(x, bins):
    """The index of the bin each element of x falls in (bins increasing), int32."""
    x = _t(x)
    data = x.data.astype(np.uint8) if x.dtype == np.bool_ else x.data
    return _no_grad(xp.digitize(data, _t(bins).data).astype(np.int32))


def bincount(x, weights=None, minlength=0, sparse=False):
    """How often each non-negative integer occurs in x (1-D, or 2-D row by row), summing
    `weights` instead of ones when given."""
    if sparse:
        raise ValueError("bincount: mgp has no sparse tensors")
    x = _t(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"bincount: x must be 1-D or 2-D, got shape {x.shape}")
    w = None if weights is None else _t(weights)
    dtype = np.dtype(np.int32) if w is None else np.dtype(result_type(x.dtype, w.dtype))
    data = x.data.astype(np.intp)
    length = _max(int(minlength), int(data.max()) + 1 if data.size else 0)
    if x.ndim == 1:
        out = xp.bincount(data, None if w is None else w.data, minlength=length)
    else:
        out = xp.stack([xp.bincount(row, None if w is None else w.data[i], minlength=length)
                        for i, row in enumerate(data)])
    return _no_grad(out.astype(dtype))


def histogram(x, bins=10, range=None):
    """(counts, bin_edges) of x's values in `bins` equal bins over `range` (x's min and max by
    default)."""
    x = _float(x)
    counts, edges = np.histogram(to_numpy(x.data), bins=bins, range=range)
    return (_no_grad(xp.asarray(counts.astype(x.dtype))),
            _no_grad(xp.asarray(edges.astype(x.dtype))))


def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False,
           axis=None, size=None, fill_value=None):
    """The sorted unique elements of x (along `axis`: unique slices), with optionally the first
    indices, the inverse map and the counts. `size` pads (with `fill_value`, else 0) or cuts
    the result to that many."""
    x = _t(x)
    values, index, inverse, counts = np.unique(to_numpy(x.data), return_index=True,
                                               return_inverse=True, return_counts=True,
                                               axis=axis)
    dim = 0 if axis is None else _axis(axis, x.ndim)
    if size is not None:
        have = values.shape[dim]
        if have > size:
            values = np.take(values, np.arange(size), axis=dim)
            index, counts = index[:size], counts[:size]
        elif have < size:
            widths = [(0, 0)] * values.ndim
            widths[dim] = (0, size - have)
            values = np.pad(values, widths, constant_values=0 if fill_value is None
                            else fill_value)
            index = np.pad(index, (0, size - have), constant_values=1)
            counts = np.pad(counts, (0, size - have))
    result = [_no_grad(xp.asarray(values))]
    if return_index:
        result.append(_no_grad(xp.asarray(index)))
    if return_inverse:
        result.append(_no_grad(xp.asarray(inverse.reshape(x.shape) if axis is None
                                          else inverse)))
    if return_counts:
        result.append(_no_grad(xp.asarray(counts)))
    return result[0] if len(result) == 1 else tuple(result)


def nonzero(x):
    """The indices of x's nonzero elements, one int32 tensor per axis."""
    return tuple(_no_grad(i.astype(np.int32)) for i in xp.nonzero(_t(x).data))


def unravel_index(indices, shape):
    """Flat indices as a tuple of coordinate tensors for an array of `shape`."""
    idx = _t(indices)
    return tuple(_no_grad(xp.asarray(c).astype(idx.dtype))
                 for c in xp.unravel_index(idx.data, _shape(shape)))


def select(condlist, choicelist, default=0):
    """Elementwise, the choice of the first condition that holds, else `default`."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions but {len(choicelist)} choices")
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = where(cond, choice, out)
    return _t(out)


def _quantile(x, q, axis, method, keepdims, skip_nan, name):
    x = _t(x)
    dtype = result_type(x.dtype, float)
    x = _as(x, dtype)
    q = _as(q, dtype)
    if bool(((q.data < 0) | (q.data > 1)).any()):
        raise ValueError(f"{name}: quantiles must lie in [0, 1] (percentiles in [0, 100]), got "
                         f"{to_numpy(q.data).tolist()}")
    if method not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"{name}: unknown method {method!r}; expected 'linear', 'lower', "
                         f"'higher', 'midpoint' or 'nearest'")
    axes = _axes(axis, x.ndim)
    rest = [i for i in range(x.ndim) if i not in axes]
    rows = reshape(transpose(x, rest + list(axes)),
                   [x.shape[i] for i in rest] + [math.prod(x.shape[i] for i in axes)])
    ordered = sort(rows, -1)  # NaNs sort last
    n = rows.shape[-1]
    valid = (~xp.isnan(rows.data)).sum(-1, keepdims=True) if skip_nan else \
        xp.full(rows.shape[:-1] + (1,), n)
    qs = q.data.reshape(-1)
    outs = []
    for qk in qs:  # one pass per quantile asked for (q is usually a scalar or a few values)
        pos = qk * (valid - 1)
        lo = xp.floor(pos).astype(np.intp)
        hi = xp.minimum(lo + 1, xp.maximum(valid - 1, 0))
        frac = (pos - lo).astype(dtype)
        if method == "lower":
            hi, frac = lo, xp.zeros_like(frac)
        elif method == "higher":
            lo, frac = xp.ceil(pos).astype(np.intp), xp.zeros_like(frac)
        elif method == "midpoint":
            frac = xp.where(pos == lo, 0, 0.5).astype(dtype)
        elif method == "nearest":
            lo, frac = xp.round(pos).astype(np.intp), xp.zeros_like(frac)
        lo = xp.maximum(lo, 0)
        a = take_along_axis(ordered, lo, -1)
        b = take_along_axis(ordered, hi, -1)
        v = add(a, multiply(subtract(b, a), Tensor(frac, dtype=frac.dtype)))
        if skip_nan:
            v = where(valid == 0, float("nan"), v)
        outs.append(reshape(v, v.shape[:-1]))
    out = stack(outs)
    if keepdims:
        out = reshape(out, (len(qs),) + tuple(1 if i in axes else n_ for i, n_ in
                                              enumerate(x.shape)))
    return reshape(out, q.shape + out.shape[1:])


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The q-th quantiles of x over `axis` (q in [0, 1]; q's dims lead the result); the
    gradient flows to the elements interpolated between."""
    return _quantile(x, q, axis, method, keepdims, False, "quantile")


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The q-th percentiles (q in [0, 100]); see `quantile`."""
    return _quantile(x, divide(q, 100.0), axis, method, keepdims, False, "percentile")


def median(x, axis=None, keepdims=False):
    """The median over `axis` (the mean of the two middle values for an even count)."""
    return _quantile(x, 0.5, axis, "linear", keepdims, False, "median")


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(x, q, axis, method, keepdims, True, "nanquantile")


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(x, divide(q, 100.0), axis, method, keepdims, True, "nanpercentile")


def nanmedian(x, axis=None, keepdims=False):
    return _quantile(x, 0.5, axis, "linear", keepdims, True, "nanmedian")


# ========================================= ignoring NaNs ============================================

def _without_nan(x, fill):
    """x with NaNs replaced by `fill` (the gradient flows through the other elements)."""
    x = _t(x)
    if x.dtype.kind not in "fc":
        return x
    return where(isnan(x), fill, x)


def nansum(x, axis=None, keepdims=False):
    return sum(_without_nan(x, 0), axis, keepdims)


def nanprod(x, axis=None, keepdims=False):
    return prod(_without_nan(x, 1), axis, keepdims)


def nancumsum(x, axis=None, dtype=None):
    return cumsum(_without_nan(x, 0), axis, dtype)


def nancumprod(x, axis=None, dtype=None):
    return cumprod(_without_nan(x, 1), axis, dtype)


def nanmean(x, axis=None, keepdims=False):
    """The mean of the non-NaN elements (NaN where there are none)."""
    x = _float(x)
    count = sum(logical_not(isnan(x)), axis, keepdims)
    return divide(nansum(x, axis, keepdims), count)


def nanvar(x, axis=None, keepdims=False):
    x = _float(x)
    valid = logical_not(isnan(x))
    centered = where(valid, subtract(x, nanmean(x, axis, True)), 0.0)
    return divide(sum(square(centered), axis, keepdims), sum(valid, axis, keepdims))


def nanstd(x, axis=None, keepdims=False):
    return sqrt(nanvar(x, axis, keepdims))


def _nan_extremum(x, axis, keepdims, fn, fill):
    x = _t(x)
    if x.dtype.kind not in "fc":
        return fn(x, axis, keepdims)
    all_nan = all(isnan(x), axis, keepdims)
    return where(all_nan, float("nan"), fn(_without_nan(x, fill), axis, keepdims))


def nanmax(x, axis=None, keepdims=False):
    return _nan_extremum(x, axis, keepdims, amax, -math.inf)


def nanmin(x, axis=None, keepdims=False):
    return _nan_extremum(x, axis, keepdims, amin, math.inf)


def nanargmax(x, axis=None, keepdims=False):
    """argmax ignoring NaNs; -1 where everything is NaN."""
    x = _t(x)
    if x.dtype.kind not in "fc":
        return argmax(x, axis, keepdims)
    index = argmax(_without_nan(x, -math.inf), axis, keepdims)
    all_nan = all(isnan(x), axis, keepdims)
    return _no_grad(xp.where(all_nan.data, -1, index.data).astype(np.int32))


def nanargmin(x, axis=None, keepdims=False):
    """argmin ignoring NaNs; -1 where everything is NaN."""
    x = _t(x)
    if x.dtype.kind not in "fc":
        return argmin(x, axis, keepdims)
    index = argmin(_without_nan(x, math.inf), axis, keepdims)
    all_nan = all(isnan(x), axis, keepdims)
    return _no_grad(xp.where(all_nan.data, -1, index.data).astype(np.int32))


def corrcoef(x):
    """Pearson correlation coefficients of x's rows (variables) over its columns."""
    x = _float(x)
    if x.ndim == 1:
        x = reshape(x, (1, -1))
    centered = subtract(x, mean(x, 1, keepdims=True))
    cov = matmul(centered, transpose(centered))
    d = sqrt(diagonal(cov))
    return clip(divide(cov, outer(d, d)), -1, 1)


# ======================================= complex numbers ============================================

def real(x):
    """The real part (x itself for a real tensor)."""
    x = _t(x)
    return x if x.dtype.kind != "c" else _no_grad(xp.real(x.data).copy())


def imag(x):
    """The imaginary part (zeros for a real tensor)."""
    x = _t(x)
    return zeros_like(x) if x.dtype.kind != "c" else _no_grad(xp.imag(x.data).copy())


def conj(x):
    """The complex conjugate (x itself for a real tensor)."""
    x = _t(x)
    return x if x.dtype.kind != "c" else _no_grad(xp.conj(x.data))


conjugate = conj


def angle(x):
    """The argument of each element, in (-pi, pi] (0 or pi for reals), as a float."""
    x = _t(x)
    if x.dtype.kind != "c":
        x = _float(x)
    return _no_grad(xp.angle(x.data).astype(x.dtype if x.dtype.kind == "f"
                                            else xp.real(x.data).dtype))


# ============================================ vectorize =============================================

def vectorize(pyfunc, *, excluded=None, signature=None):
    """`pyfunc`, mapped over its arguments' elements (or over the loop dimensions around the
    core dimensions of `signature`, as '(n),(n)->()') by a loop, as NumPy's vectorize; the
    results are stacked into tensors, so gradients flow when `pyfunc` uses mgp ops."""
    excluded = set(excluded or ())
    if signature is not None:
        ins, _, outs = signature.replace(" ", "").partition("->")
        core = [len([d for d in term.strip("()").split(",") if d])
                for term in ins[1:-1].split("),(")] if ins else []
    else:
        core = None

    def wrapped(*args, **kwargs):
        mapped = [i for i in range(len(args)) if i not in excluded]
        tensors = {i: _t(args[i]) for i in mapped}
        cores = core or [0] * len(mapped)
        loop = np.broadcast_shapes(*(tensors[i].shape[:tensors[i].ndim - c]
                                     for i, c in zip(mapped, cores)))
        results = []
        for pos in np.ndindex(*loop):
            call = list(args)
            for i, c in zip(mapped, cores):
                t = tensors[i]
                lead = t.ndim - c
                sub = tuple(p if n > 1 else 0 for p, n in zip(pos[len(pos) - lead:],
                                                              t.shape[:lead]))
                call[i] = get_item(t, sub) if sub else t
            results.append(pyfunc(*call, **kwargs))
        if not results:
            raise ValueError("vectorize: the arguments have no elements to map over")
        if isinstance(results[0], tuple):
            return tuple(reshape(stack([r[k] for r in results]), loop + _t(results[0][k]).shape)
                         for k in range(len(results[0])))
        return reshape(stack(results), loop + _t(results[0]).shape)
    return wrapped
