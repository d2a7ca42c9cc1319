"""The NumPy-like ops (Keras's `keras.ops.numpy` family): each computes its output and defines
its backward right beside it.

A backward takes `g`, the gradient of the output (at the output's shape), and returns one
gradient per input, also at the output's shape or the input's; it never unbroadcasts (the
engine's `sum_to` does that) and never writes `.grad`. Return None for an input with no gradient.
Neural-network ops (softmax, losses, conv2d, pooling) live in `mgp.ops.nn`.
"""
import builtins
import math

import numpy as np

from mgp.backend import xp
from mgp.tensor import Tensor


def as_tensor(x, like=None):
    """Wrap `x` as a Tensor. Python numbers and arrays take `like`'s float dtype (no upcasting)."""
    if isinstance(x, Tensor):
        return x
    arr = xp.asarray(x)
    if like is not None and like.dtype.kind == "f" and arr.dtype.kind in "fiub":
        return Tensor(arr, dtype=like.dtype)
    return Tensor(arr)


def _binary(a, b):
    """Lift two operands to Tensors of a common dtype, never upcasting float32 by a constant."""
    if not isinstance(a, Tensor):
        a = as_tensor(a, like=b)
    elif not isinstance(b, Tensor):
        b = as_tensor(b, like=a)
    if a.dtype != b.dtype:
        if a.dtype.kind == "f" and b.dtype.kind != "f":
            b = Tensor(b.data, dtype=a.dtype)
        elif b.dtype.kind == "f" and a.dtype.kind != "f":
            a = Tensor(a.data, dtype=b.dtype)
    return a, b


def _broadcast_error(op, a, b):
    return ValueError(f"{op}: cannot broadcast shapes {a.shape} and {b.shape} together")


def _axes(axis, ndim):
    """Normalize an axis argument (None, int or tuple) to a tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axis:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(a % ndim if ndim else 0 for a in axis)


def _keep(g, x_shape, axis, keepdims):
    """Reinsert the reduced axes into `g` so it broadcasts against the input."""
    if keepdims or g.ndim == len(x_shape):
        return g
    return g.reshape([1 if i in axis else n for i, n in enumerate(x_shape)])


# ============================================ elementwise ============================================

def add(a, b):
    a, b = _binary(a, b)
    try:
        out = a.data + b.data
    except ValueError:
        raise _broadcast_error("add", a, b) from None
    return Tensor._make(out, (a, b), lambda g: (g, g), "add")


def sub(a, b):
    a, b = _binary(a, b)
    try:
        out = a.data - b.data
    except ValueError:
        raise _broadcast_error("sub", a, b) from None
    return Tensor._make(out, (a, b), lambda g: (g, -g), "sub")


def mul(a, b):
    a, b = _binary(a, b)
    try:
        out = a.data * b.data
    except ValueError:
        raise _broadcast_error("mul", a, b) from None
    return Tensor._make(out, (a, b), lambda g: (g * b.data, g * a.data), "mul")


def div(a, b):
    a, b = _binary(a, b)
    try:
        out = a.data / b.data
    except ValueError:
        raise _broadcast_error("div", a, b) from None

    def backward(g):
        gb = g / b.data
        return gb, -gb * out
    return Tensor._make(out, (a, b), backward, "div")


def neg(a):
    return Tensor._make(-a.data, (a,), lambda g: (-g,), "neg")


def pow(a, b):
    """a ** b, for a tensor or scalar exponent (or base)."""
    if not isinstance(b, Tensor) and np.ndim(b) == 0 and isinstance(a, Tensor):
        p = float(b)  # scalar exponent: the common case, one gradient
        if a.dtype.kind != "f":  # ints stay ints under a whole power, else take the default float
            if p.is_integer() and p >= 0:
                return Tensor(a.data ** int(p))
            a = Tensor(a.data, dtype=np.float32)
        t = a.dtype.type
        out = a.data ** t(p)

        def backward(g):
            if p == 0:  # x**0 == 1 everywhere, even at x == 0 where x**-1 is inf
                return (xp.zeros_like(g),)
            return (g * t(p) * a.data ** t(p - 1),)
        return Tensor._make(out, (a,), backward, "pow")
    a, b = _binary(a, b)
    try:
        out = a.data ** b.data
    except ValueError:
        raise _broadcast_error("pow", a, b) from None

    def backward(g):
        ga = g * b.data * a.data ** (b.data - 1) if a.requires_grad else None
        # d/db a**b = a**b log a, taken as 0 where a <= 0 (the real power is undefined there)
        gb = g * out * xp.log(xp.where(a.data > 0, a.data, 1)) if b.requires_grad else None
        return ga, gb
    return Tensor._make(out, (a, b), backward, "pow")


def exp(x):
    out = xp.exp(x.data)
    return Tensor._make(out, (x,), lambda g: (g * out,), "exp")


def log(x):
    return Tensor._make(xp.log(x.data), (x,), lambda g: (g / x.data,), "log")


def sqrt(x):
    out = xp.sqrt(x.data)
    return Tensor._make(out, (x,), lambda g: (g / (2 * out),), "sqrt")


def abs(x):
    return Tensor._make(xp.abs(x.data), (x,), lambda g: (g * xp.sign(x.data),), "abs")


def tanh(x):
    out = xp.tanh(x.data)
    return Tensor._make(out, (x,), lambda g: (g * (1 - out * out),), "tanh")


def sigmoid(x):
    # tanh form: no overflow in exp for large |x|
    out = 0.5 * (xp.tanh(0.5 * x.data) + 1)
    result = Tensor._make(out, (x,), lambda g: (g * out * (1 - out),), "sigmoid")
    result._logits = x  # lets binary cross-entropy work from the logits, as Keras does
    return result


def relu(x):
    mask = x.data > 0
    out = xp.maximum(x.data, x.dtype.type(0))  # not x * mask, which gives -0.0 for negatives
    return Tensor._make(out, (x,), lambda g: (g * mask,), "relu")


def leaky_relu(x, negative_slope=0.2):
    """max(x, 0) + negative_slope * min(x, 0). Keras's default slope 0.2."""
    slope = xp.where(x.data > 0, x.dtype.type(1), x.dtype.type(negative_slope))
    return Tensor._make(x.data * slope, (x,), lambda g: (g * slope,), "leaky_relu")


def elu(x, alpha=1.0):
    if x.dtype.kind == "f":
        alpha = x.dtype.type(alpha)  # a NumPy float64 alpha would upcast float32
    neg_part = alpha * xp.expm1(xp.minimum(x.data, 0))
    out = xp.where(x.data > 0, x.data, neg_part)
    return Tensor._make(out, (x,), lambda g: (g * xp.where(x.data > 0, 1, neg_part + alpha),),
                        "elu")


def softplus(x):
    # log(1 + e^x) without overflow
    out = xp.logaddexp(x.data.dtype.type(0), x.data)
    return Tensor._make(out, (x,), lambda g: (g * 0.5 * (xp.tanh(0.5 * x.data) + 1),), "softplus")


# erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, float32 resolution); NumPy has no erf.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf_and_derivative(z):
    """erf(z) by A&S 7.1.26 and the exact derivative of that same formula (for a true gradient)."""
    s, az = xp.sign(z), xp.abs(z)
    t = 1 / (1 + _ERF_P * az)
    a1, a2, a3, a4, a5 = _ERF_A
    poly = t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5))))
    dpoly_dt = a1 + t * (2 * a2 + t * (3 * a3 + t * (4 * a4 + t * 5 * a5)))
    e = xp.exp(-az * az)
    erf = s * (1 - poly * e)
    # d/dz of 1 - poly(t(z)) e^{-z^2}, with dt/dz = -p t^2; even in z, so the sign drops out
    derf = (dpoly_dt * _ERF_P * t * t + 2 * az * poly) * e
    return erf, derf


def gelu(x, approximate=False):
    """Gaussian error linear unit. `approximate=True` uses the tanh form (as Keras and PyTorch)."""
    d = x.data
    if approximate:
        c = d.dtype.type(math.sqrt(2 / math.pi))
        inner = c * (d + 0.044715 * d ** 3)
        th = xp.tanh(inner)
        out = 0.5 * d * (1 + th)

        def backward(g):
            dinner = c * (1 + 3 * 0.044715 * d * d)
            return (g * (0.5 * (1 + th) + 0.5 * d * (1 - th * th) * dinner),)
    else:
        erf, derf = _erf_and_derivative(d * d.dtype.type(1 / math.sqrt(2)))
        out = 0.5 * d * (1 + erf)

        def backward(g):
            return (g * (0.5 * (1 + erf) + 0.5 * d * derf * (1 / math.sqrt(2))),)
    return Tensor._make(out.astype(d.dtype, copy=False), (x,), backward, "gelu")


def maximum(a, b):
    """Elementwise max; where a == b the gradient is split evenly between the two."""
    a, b = _binary(a, b)
    try:
        out = xp.maximum(a.data, b.data)
    except ValueError:
        raise _broadcast_error("maximum", a, b) from None

    def backward(g):
        wa = (a.data > b.data) + g.dtype.type(0.5) * (a.data == b.data)
        return g * wa, g * (1 - wa)
    return Tensor._make(out, (a, b), backward, "maximum")


def minimum(a, b):
    """Elementwise min; where a == b the gradient is split evenly between the two."""
    a, b = _binary(a, b)
    try:
        out = xp.minimum(a.data, b.data)
    except ValueError:
        raise _broadcast_error("minimum", a, b) from None

    def backward(g):
        wa = (a.data < b.data) + g.dtype.type(0.5) * (a.data == b.data)
        return g * wa, g * (1 - wa)
    return Tensor._make(out, (a, b), backward, "minimum")


def clip(x, min=None, max=None):
    """Clamp to [min, max] (scalars or arrays); the gradient flows where min <= x <= max."""
    if x.dtype.kind == "f":  # bounds take x's dtype, so a float64 bound cannot upcast float32
        min, max = (None if v is None else xp.asarray(v.data if isinstance(v, Tensor) else v,
                                                      dtype=x.dtype) for v in (min, max))
    out = xp.clip(x.data, min, max)
    inside = out == x.data
    return Tensor._make(out, (x,), lambda g: (g * inside,), "clip")


def where(condition, a, b):
    """Elementwise `a if condition else b`; the condition gets no gradient."""
    cond = xp.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = _binary(a, b)
    try:
        out = xp.where(cond, a.data, b.data)
    except ValueError:
        raise ValueError(f"where: cannot broadcast condition {cond.shape}, {a.shape} and "
                         f"{b.shape} together") from None
    return Tensor._make(out, (a, b), lambda g: (g * cond, g * ~cond), "where")


def cast(x, dtype):
    """Change dtype; the gradient is cast back by the engine."""
    out = x.data.astype(dtype)
    if out.dtype.kind != "f" or x.dtype.kind != "f":
        return Tensor(out, dtype=out.dtype)
    return Tensor._make(out, (x,), lambda g: (g,), "cast")


# ============================================ reductions ============================================

def sum(x, axis=None, keepdims=False):
    axes = _axes(axis, x.ndim)
    out = x.data.sum(axis=axes, keepdims=keepdims)
    return Tensor._make(out, (x,),
                        lambda g: (xp.broadcast_to(_keep(g, x.shape, axes, keepdims), x.shape),),
                        "sum")


def mean(x, axis=None, keepdims=False):
    axes = _axes(axis, x.ndim)
    n = math.prod(x.shape[a] for a in axes)
    out = x.data.mean(axis=axes, keepdims=keepdims)
    return Tensor._make(out, (x,),
                        lambda g: (xp.broadcast_to(_keep(g, x.shape, axes, keepdims) / n,
                                                   x.shape),), "mean")


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance, NumPy's definition (ddof=0 is the population variance); by composition."""
    axes = _axes(axis, x.ndim)
    n = math.prod(x.shape[a] for a in axes)
    centered = x - mean(x, axes, keepdims=True)
    return sum(centered * centered, axes, keepdims) / (n - ddof)


def _extremum(x, axis, keepdims, reduce, name):
    axes = _axes(axis, x.ndim)
    out = reduce(x.data, axis=axes, keepdims=True)

    def backward(g):
        # ties share the gradient evenly (as PyTorch's amax/amin)
        share = (x.data == out).astype(g.dtype)
        share /= share.sum(axis=axes, keepdims=True)
        return (_keep(g, x.shape, axes, keepdims) * share,)
    return Tensor._make(out if keepdims else out.squeeze(axes), (x,), backward, name)


def max(x, axis=None, keepdims=False):
    """Maximum along `axis`; tied maxima share the gradient evenly."""
    return _extremum(x, axis, keepdims, xp.max, "max")


def min(x, axis=None, keepdims=False):
    """Minimum along `axis`; tied minima share the gradient evenly."""
    return _extremum(x, axis, keepdims, xp.min, "min")


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) along `axis`, stable for large |x| (own backward: softmax weights)."""
    axes = _axes(axis, x.ndim)
    m = x.data.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    s = xp.exp(x.data - m).sum(axis=axes, keepdims=True)
    out = xp.log(s) + m

    def backward(g):
        # softmax weights from the shifted logits: exp(x - out) would lose the digits that
        # rounding `out` to float32 cost (1e-4 relative at |x| ~ 1e4)
        return (_keep(g, x.shape, axes, keepdims) * (xp.exp(x.data - m) / s),)
    return Tensor._make(out if keepdims else out.squeeze(axes), (x,), backward, "logsumexp")


def argmax(x, axis=None):
    """Indices of the maxima (no gradient)."""
    return Tensor(x.data.argmax(axis=axis))


def argmin(x, axis=None):
    """Indices of the minima (no gradient)."""
    return Tensor(x.data.argmin(axis=axis))


# ============================================== matmul ==============================================

def matmul(a, b):
    """Matrix product with `np.matmul`'s rules: 1-D operands and broadcast batch dimensions."""
    a, b = _binary(a, b)
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
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: {why}") from None

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
    return Tensor._make(out, (a, b), backward, "matmul")


# ============================================= movement =============================================

def reshape(x, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(shape[0])
    try:
        out = x.data.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into shape {shape}") from None
    return Tensor._make(out, (x,), lambda g: (g.reshape(x.shape),), "reshape")


def transpose(x, *axes):
    """Permute axes (reverse them when none are given), as `ndarray.transpose`."""
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = tuple(axes[0])
    axes = axes or tuple(reversed(range(x.ndim)))
    if sorted(a % builtins.max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of a tensor of shape "
                         f"{x.shape}")
    inverse = tuple(np.argsort([a % x.ndim for a in axes]))
    return Tensor._make(x.data.transpose(axes), (x,), lambda g: (g.transpose(inverse),),
                        "transpose")


permute = transpose


def expand_dims(x, axis):
    return reshape(x, xp.expand_dims(x.data, axis).shape)


def squeeze(x, axis=None):
    return reshape(x, x.data.squeeze(axis).shape)


def flatten(x, start_axis=0):
    """Collapse the axes from `start_axis` on into one (1 keeps the batch axis, as Keras)."""
    return reshape(x, x.shape[:start_axis] + (-1,))


def broadcast_to(x, shape):
    try:
        out = xp.broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {tuple(shape)}") \
            from None
    return Tensor._make(out, (x,), lambda g: (g,), "broadcast_to")  # the engine sums it back


def concatenate(tensors, axis=0):
    tensors = [as_tensor(t) for t in tensors]
    try:
        out = xp.concatenate([t.data for t in tensors], axis=axis)
    except ValueError:
        raise ValueError(f"concatenate along axis {axis}: shapes "
                         f"{[t.shape for t in tensors]} do not match off that axis") from None
    cuts = np.cumsum([t.shape[axis] for t in tensors])[:-1].tolist()  # host ints, any device
    return Tensor._make(out, tuple(tensors), lambda g: tuple(xp.split(g, cuts, axis=axis)),
                        "concatenate")


def stack(tensors, axis=0):
    tensors = [as_tensor(t) for t in tensors]
    try:
        out = xp.stack([t.data for t in tensors], axis=axis)
    except ValueError:
        raise ValueError(f"stack: all shapes must be equal, got {[t.shape for t in tensors]}") \
            from None
    return Tensor._make(out, tuple(tensors),
                        lambda g: tuple(xp.moveaxis(g, axis, 0)), "stack")


def pad(x, pad_width, constant_value=0.0):
    """Constant padding with `np.pad`'s `pad_width` ((before, after) per axis)."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
    out = xp.pad(x.data, [tuple(w) for w in widths], constant_values=constant_value)
    inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
    return Tensor._make(out, (x,), lambda g: (g[inner],), "pad")


def _is_basic_index(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))
               for i in items)


def getitem(x, index):
    """Basic and advanced indexing; repeated advanced indices accumulate their gradients."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    out = x.data[index]
    basic = _is_basic_index(index)

    def backward(g):
        gx = xp.zeros(x.shape, dtype=g.dtype)
        if basic:
            gx[index] = g  # a view: each element selected at most once
        else:
            xp.add.at(gx, index, g)  # x[[0, 0, 1]]: row 0's gradient counts twice
        return (gx,)
    return Tensor._make(out, (x,), backward, "getitem")

