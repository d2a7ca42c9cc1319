"""mgp.ops against keras.ops (Keras 3.15 on its torch backend): one table row per op, each row
checked for the same values and dtype as Keras, and (where the op is differentiable) for its
gradient by gradcheck in float64. Dtype promotion, bad input and missing names below."""
import math
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
import hypothesis.extra.numpy as hnp

import mgp
from mgp import ops

import oracles

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's, in Keras's calls
rng = np.random.default_rng(0)


def S(*shape):
    """float32 values in [0.2, 2) with random signs: away from kinks at 0 and from ties."""
    return (rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)).astype(np.float32)


def P(*shape, lo=0.2, hi=2.0):
    """positive float32 values."""
    return rng.uniform(lo, hi, shape).astype(np.float32)


def U(*shape):
    """float32 values in (-0.8, 0.8), for arcsin, arctanh, erfinv."""
    return rng.uniform(-0.8, 0.8, shape).astype(np.float32)


def I(*shape, lo=0, hi=5, dtype=np.int32):  # noqa: E743
    return rng.integers(lo, hi, shape).astype(dtype)


def B(*shape):
    return rng.random(shape) > 0.5


def SPD(n):
    a = rng.standard_normal((n, n))
    return (a @ a.T + n * np.eye(n)).astype(np.float32)


class Row:
    """One op: its arguments, how its result compares with Keras's, whether it has a gradient.

    args: the positional arguments, the same objects given to mgp and to Keras (float32 arrays
        are the inputs gradcheck differentiates, in float64).
    grad: False for ops with no gradient; a tuple of argument positions to differentiate.
    same_dtype: False where mgp's dtype deliberately differs from Keras's torch backend's.
    compare: a function of (mgp outputs, keras outputs) as lists of arrays, instead of
        comparing element by element.
    expected: a NumPy function of the arguments giving the result, where Keras's torch
        backend cannot compute it (said at each row) and NumPy's definition is the reference.
    keras: the Keras name when it is not the row's name (several rows per op).
    """

    def __init__(self, name, *args, keras=None, grad=True, same_dtype=True, compare=None,
                 expected=None, rtol=1e-5, atol=1e-6, **kwargs):
        self.name, self.args, self.kwargs = name, args, kwargs
        self.op = keras or name.split(":")[0]  # a dotted path below ops: "image.resize"
        self.grad, self.same_dtype, self.compare, self.expected = grad, same_dtype, compare, \
            expected
        self.rtol, self.atol = rtol, atol

    def __repr__(self):
        return self.name


def _ortho_abs(m, k):
    """Factorizations are unique up to signs: compare |entries|."""
    return all(np.allclose(np.abs(a), np.abs(b), rtol=1e-4, atol=1e-5) for a, b in zip(m, k))


def _sorted_close(m, k):
    return all(np.allclose(np.sort(a.ravel()), np.sort(b.ravel()), rtol=1e-4, atol=1e-5)
               for a, b in zip(m, k))


def _sparsemax(x, axis):
    """The Euclidean projection onto the simplex (Martins & Astudillo 2016), in NumPy."""
    z = np.moveaxis(x.astype(np.float64), axis, -1)
    s = -np.sort(-z, -1)
    k = np.arange(1, z.shape[-1] + 1)
    cum = np.cumsum(s, -1)
    count = ((1 + k * s) > cum).sum(-1, keepdims=True)
    tau = (np.take_along_axis(cum, count - 1, -1) - 1) / count
    return np.moveaxis(np.maximum(z - tau, 0), -1, axis).astype(x.dtype)


def _eig_close(m, k):
    """Eigenvalues in any order, eigenvectors up to sign."""
    (w, v), (kw, kv) = m, k
    order, korder = np.argsort(w.real), np.argsort(kw.real)
    return (w.dtype == kw.dtype and np.allclose(w[order], kw[korder], rtol=1e-4, atol=1e-5)
            and np.allclose(np.abs(v[:, order]), np.abs(kv[:, korder]), rtol=1e-4, atol=1e-5))


M23, M34, V3 = S(2, 3), S(3, 4), S(3)

ROWS = [
    # ------------------------------------------------------------------------ elementwise unary
    *[Row(n, S(2, 3)) for n in ("abs", "absolute", "fabs", "negative", "square", "exp", "exp2",
                                "expm1", "sin", "cos", "arctan", "sinh", "cosh", "tanh",
                                "arcsinh", "deg2rad", "rad2deg", "sinc", "cbrt", "reciprocal",
                                "relu", "relu6", "sigmoid", "log_sigmoid", "softplus",
                                "softsign", "silu", "swish", "leaky_relu", "elu", "selu", "celu",
                                "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
                                "hard_shrink", "soft_shrink", "tanh_shrink", "sparse_plus",
                                "sparse_sigmoid", "squareplus", "erf", "erfc", "conj",
                                "conjugate", "real", "nan_to_num", "softmax", "log_softmax",
                                "floor", "ceil", "trunc", "round", "copy", "sign")],
    Row("sign:int", I(2, 3, lo=-3, hi=3)),
    Row("relu6:wide", S(2, 3) * 4, keras="relu6"),
    Row("gelu:exact", S(2, 3), keras="gelu", approximate=False),
    Row("leaky_relu:slope", S(2, 3), keras="leaky_relu", negative_slope=0.05),
    Row("elu:alpha", S(2, 3), keras="elu", alpha=0.5),
    Row("celu:alpha", S(2, 3), keras="celu", alpha=2.0),
    Row("hard_shrink:t", S(2, 3), keras="hard_shrink", threshold=1.0),
    Row("soft_shrink:t", S(2, 3), keras="soft_shrink", threshold=1.0),
    Row("squareplus:b", S(2, 3), keras="squareplus", b=2),
    Row("threshold", S(2, 3), 0.5, -1.0),
    Row("round:decimals", S(2, 3) * 10, keras="round", decimals=1),
    Row("tan", U(2, 3)), Row("arcsin", U(2, 3)), Row("arccos", U(2, 3)),
    Row("arctanh", U(2, 3)), Row("erfinv", U(2, 3), atol=2e-6),
    Row("arccosh", P(2, 3, lo=1.2, hi=3)),
    *[Row(n, P(2, 3)) for n in ("log", "log2", "log10", "log1p", "sqrt", "rsqrt")],
    Row("i0", S(2, 3)), Row("i0:wide", np.array([-30.0, -5.0, 0.5, 12.0, 25.0], np.float32),
                            keras="i0", grad=False),
    Row("i0:large", np.array([21.0, 25.0], np.float32), keras="i0"),  # i1's asymptotic form
    *[Row(n, np.array([1.0, -np.inf, np.nan, np.inf, 0.0], np.float32), grad=False)
      for n in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit")],
    Row("nan_to_num:values", np.array([1.0, np.nan, np.inf, -np.inf], np.float32),
        keras="nan_to_num", nan=2.0, posinf=5.0, neginf=-5.0, grad=False),
    Row("isreal", S(2, 3), grad=False),
    *[Row(f"{n}:complex", np.array([1 + 2j, -3 - 1j], np.complex64), keras=n, grad=False)
      for n in ("real", "imag", "conj", "angle", "isreal")],
    Row("angle", S(2, 3), grad=False),
    Row("logical_not", B(2, 3), grad=False),
    Row("bitwise_invert", I(2, 3), grad=False), Row("bitwise_not", I(2, 3), grad=False),
    Row("softmax:axis", S(2, 3, 4), keras="softmax", axis=1),
    Row("softmax:none", S(2, 3), keras="softmax", axis=None),
    Row("log_softmax:axis", S(2, 3, 4), keras="log_softmax", axis=0),
    # Keras's torch sparsemax sums the wrong cumulative sums when the support has two or more
    # elements (its rows then do not sum to 1): the reference is the definition's
    Row("sparsemax", S(2, 4), expected=lambda x: _sparsemax(x, -1)),
    Row("sparsemax:axis", S(3, 2), keras="sparsemax", axis=0, expected=lambda x, axis:
        _sparsemax(x, axis)),
    Row("sparsemax:one", np.array([[3.0, 0.0, -1.0]], np.float32), keras="sparsemax"),
    Row("glu", S(2, 4)), Row("glu:axis", S(4, 3), keras="glu", axis=0),
    # ----------------------------------------------------------------------- elementwise binary
    *[Row(f"{n}:{i}", a, b, keras=n)
      for n in ("add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum",
                "fmax", "fmin", "arctan2", "hypot", "logaddexp", "logaddexp2", "mod", "fmod")
      for i, (a, b) in enumerate([(S(2, 3), S(3)), (S(2, 1), S(1, 3)), (S(3), 1.5)])],
    Row("divide_no_nan", S(2, 3), np.array([1.0, 0.0, -2.0], np.float32), grad=(0,)),
    Row("divide_no_nan:grad", S(2, 3), S(3), keras="divide_no_nan"),
    Row("power:tensor", P(2, 3), S(3), keras="power"),
    Row("power:scalar", P(2, 3), 3, keras="power"), Row("power:base", 2.0, S(3), keras="power"),
    Row("power:int", I(2, 3), 2, keras="power"),
    Row("floor_divide", S(2, 3) * 3, P(3), grad=False),
    Row("floor_divide:int", I(2, 3, hi=9), I(3, lo=1, hi=4), keras="floor_divide"),
    Row("mod:int", I(2, 3, lo=-9, hi=9), I(3, lo=1, hi=4), keras="mod"),
    Row("heaviside", np.array([-1.0, 0.0, 2.0], np.float32), np.full(3, 0.5, np.float32),
        grad=(1,)),
    Row("nextafter", S(3), S(3), grad=False),
    Row("ldexp", S(3), I(3, lo=-2, hi=3)),
    *[Row(n, S(2, 3).round(), S(3).round(), grad=False)
      for n in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")],
    Row("greater:scalar", I(2, 3), 2, keras="greater"),
    *[Row(n, B(2, 3), B(3)) for n in ("logical_and", "logical_or", "logical_xor")],
    Row("isclose", np.array([1.0, 1.0 + 1e-7, 2.0], np.float32), np.ones(3, np.float32),
        grad=False),
    Row("allclose", M23, M23 + np.float32(1e-7), grad=False),
    *[Row(n, I(2, 3, hi=16), I(3, hi=4)) for n in (
        "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "left_shift",
        "bitwise_right_shift", "right_shift")],
    Row("gcd", I(2, 3, lo=1, hi=30), I(3, lo=1, hi=30)),
    Row("lcm", I(2, 3, lo=1, hi=12), I(3, lo=1, hi=12)),
    Row("clip", S(2, 3), -1.0, 1.0), Row("clip:int", I(2, 3, hi=9), 2, 6, keras="clip"),
    Row("clip:tensors", S(2, 3), S(3) * 0.1 - 1, np.float32(1.0), keras="clip"),
    Row("where", B(2, 3), S(2, 3), S(3)),
    Row("where:scalars", B(2, 3), 1.0, S(2, 3), keras="where"),
    Row("where:indices", B(2, 3), keras="where", grad=False),
    # ------------------------------------------------------------------------------- reductions
    *[Row(f"{n}:{i}", S(2, 3, 4), keras=n, **kw)
      for n in ("sum", "mean", "var", "std", "max", "min", "amax", "amin", "ptp", "prod",
                "logsumexp", "nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin",
                "nanprod")
      for i, kw in enumerate([{}, {"axis": 1}, {"axis": (0, 2), "keepdims": True}])],
    Row("sum:int", I(2, 3), keras="sum"), Row("sum:bool", B(2, 3), keras="sum"),
    Row("sum:int8", I(2, 3, dtype=np.int8), keras="sum"),
    Row("mean:int", I(2, 3), keras="mean"), Row("prod:int8", I(2, 3, dtype=np.int8),
                                                 keras="prod"),
    Row("prod:zero", np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]], np.float32), keras="prod",
        axis=1),
    Row("max:initial", S(2, 3), keras="max", axis=1, initial=0.5),
    Row("min:initial", S(2, 3), keras="min", initial=-0.5),
    Row("nanmax:nan", np.array([[1.0, np.nan, 3.0], [np.nan, 2.0, -1.0]], np.float32),
        keras="nanmax", axis=1, grad=False),
    Row("nansum:nan", np.array([[1.0, np.nan, 3.0]], np.float32), keras="nansum", grad=False),
    Row("nanmean:nan", np.array([[1.0, np.nan, 3.0]], np.float32), keras="nanmean", axis=1,
        grad=False),
    *[Row(n, B(2, 3), grad=False) for n in ("all", "any")],
    Row("all:axis", B(2, 3), keras="all", axis=1, keepdims=True, grad=False),
    Row("count_nonzero", np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]], np.float32), grad=False),
    Row("count_nonzero:axis", I(2, 3), keras="count_nonzero", axis=1, grad=False),
    *[Row(f"{n}:{i}", S(2, 3, 4), keras=n, grad=False, **kw)
      for n in ("argmax", "argmin", "nanargmax", "nanargmin")
      for i, kw in enumerate([{}, {"axis": 1}, {"axis": -1, "keepdims": True}])],
    Row("argsort", S(2, 5), grad=False), Row("argsort:axis", S(3, 2), keras="argsort", axis=0,
                                             grad=False),
    Row("sort", S(2, 5)), Row("sort:none", S(2, 3), keras="sort", axis=None),
    Row("top_k", S(2, 5), 3, same_dtype=False), Row("in_top_k", I(4, hi=5), S(4, 5), 2, grad=False),
    Row("median", S(3, 5)), Row("median:axis", S(3, 4), keras="median", axis=1),
    Row("quantile", S(3, 5), 0.3), Row("quantile:q", S(3, 5), np.array([0.1, 0.5, 0.9]),
                                       keras="quantile", axis=1),
    *[Row(f"quantile:{m}", S(3, 5), 0.4, keras="quantile", axis=1, method=m)
      for m in ("lower", "higher", "midpoint", "nearest")],
    Row("percentile", S(3, 5), 40.0, axis=0),
    Row("nanmedian", np.array([[1.0, np.nan, 3.0, 2.0]], np.float32), axis=1, grad=False),
    Row("nanquantile", S(3, 5), 0.3), Row("nanpercentile", S(3, 5), 30.0),
    Row("average", S(2, 3)), Row("average:weights", S(2, 3), weights=P(3), keras="average",
                                             axis=1),
    Row("cumsum", S(2, 3)), Row("cumsum:axis", S(2, 3), keras="cumsum", axis=1),
    Row("cumsum:bool", B(2, 3), keras="cumsum", axis=0),
    Row("cumprod", S(2, 3)), Row("cumprod:axis", S(2, 3), keras="cumprod", axis=0),
    Row("cumprod:zero", np.array([2.0, 0.0, 3.0, 0.5], np.float32), keras="cumprod"),
    Row("nancumsum", S(2, 3)), Row("nancumprod", S(2, 3)),
    Row("diff", S(2, 5)), Row("diff:n", S(2, 5), keras="diff", n=2, axis=1),
    Row("trapezoid", S(2, 5)), Row("trapezoid:x", S(2, 4), np.cumsum(P(4)), keras="trapezoid"),
    Row("trapezoid:dx", S(3, 4), keras="trapezoid", dx=0.5, axis=0),
    # ------------------------------------------------------------------------------- creation
    Row("ones", (2, 3)), Row("zeros", (2,)), Row("ones:int", (2, 3), keras="ones",
                                                  dtype="int32"),
    Row("full", (2, 3), 1.5), Row("full:int", (2,), 7), Row("full:dtype", (2,), 7,
                                                            keras="full", dtype="int8"),
    Row("eye", 3), Row("eye:k", 3, 4, 1, keras="eye"), Row("identity", 3),
    Row("tri", 3), Row("tri:k", 3, 4, -1, keras="tri"),
    Row("zeros_like", I(2, 3)), Row("ones_like", S(2, 3), grad=False),
    Row("full_like", I(2, 3), 2.5),
    Row("full_like:dtype", S(2,), 2, keras="full_like", dtype="int32", grad=False),
    Row("empty", (2, 3), compare=lambda m, k: m[0].shape == k[0].shape),
    Row("empty_like", S(2, 3), compare=lambda m, k: m[0].shape == k[0].shape, grad=False),
    Row("arange", 5), Row("arange:float", 0.0, 2.0, 0.5, keras="arange"),
    Row("arange:dtype", 1, 7, 2, keras="arange", dtype="float32"),
    Row("linspace", 0.0, 1.0, 5), Row("linspace:noend", 0, 2, 4, keras="linspace",
                                      endpoint=False),
    Row("logspace", 0.0, 2.0, 4), Row("geomspace", 1.0, 100.0, 3),
    Row("array", [[1, 2], [3, 4]]), Row("array:float", [1.5, 2], keras="array"),
    Row("bartlett", 5), Row("blackman", 5), Row("hamming", 5), Row("hanning", 5),
    Row("kaiser", 5, 2.0),
    Row("meshgrid", S(3), S(2)), Row("meshgrid:ij", S(3), S(2), keras="meshgrid",
                                     indexing="ij"),
    Row("vander", S(3)), Row("vander:n", S(3), 4, keras="vander", increasing=True),
    # ------------------------------------------------------------------------------- movement
    Row("reshape", S(2, 3), (3, 2)), Row("reshape:-1", S(2, 3, 2), (-1, 4), keras="reshape"),
    Row("transpose", S(2, 3, 4)), Row("transpose:axes", S(2, 3, 4), (1, 2, 0),
                                      keras="transpose"),
    Row("swapaxes", S(2, 3, 4), 0, 2), Row("moveaxis", S(2, 3, 4), 0, -1),
    Row("moveaxis:many", S(2, 3, 4), (0, 1), (2, 0), keras="moveaxis"),
    Row("expand_dims", S(2, 3), 1), Row("expand_dims:tuple", S(2, 3), (0, 3),
                                        keras="expand_dims"),
    Row("squeeze", S(2, 1, 3, 1)), Row("squeeze:axis", S(2, 1, 3, 1), keras="squeeze", axis=1),
    Row("ravel", S(2, 3)), Row("broadcast_to", S(3), (2, 3)),
    Row("concatenate", [S(2, 3), S(1, 3)]), Row("concatenate:axis", [S(2, 3), S(2, 2)], axis=1,
                                                keras="concatenate"),
    Row("stack", [S(2, 3), S(2, 3)]), Row("stack:axis", [S(2, 3), S(2, 3)], axis=-1,
                                          keras="stack"),
    Row("hstack", [S(2, 3), S(2, 1)]), Row("vstack", [S(3), S(3)]),
    Row("dstack", [S(2, 3), S(2, 3)]),
    Row("append", S(2, 3), S(3)), Row("append:axis", S(2, 3), S(1, 3), axis=0,
                                      keras="append"),
    Row("split", S(4, 3), 2), Row("split:indices", S(5, 3), [1, 3], keras="split"),
    Row("split:axis", S(2, 6), 3, axis=1, keras="split"),
    Row("array_split", S(5, 3), 3), Row("hsplit", S(2, 4), 2), Row("vsplit", S(4, 2), 2),
    Row("dsplit", S(2, 2, 4), 2),
    Row("tile", S(2, 3), (2, 1)), Row("tile:int", S(3), 3, keras="tile"),
    Row("tile:rank", S(2, 3), (2, 1, 2), keras="tile"),
    Row("repeat", S(2, 3), 2), Row("repeat:axis", S(2, 3), 2, axis=1, keras="repeat"),
    Row("repeat:counts", S(3, 2), np.array([1, 0, 2]), axis=0, keras="repeat"),
    Row("flip", S(2, 3)), Row("flip:axis", S(2, 3), keras="flip", axis=1),
    Row("fliplr", S(2, 3)), Row("flipud", S(2, 3)),
    Row("rot90", S(2, 3)), Row("rot90:k", S(2, 3, 2), keras="rot90", k=3, axes=(1, 2)),
    Row("roll", S(2, 3), 1), Row("roll:axis", S(2, 3), -1, axis=1, keras="roll"),
    Row("pad", S(2, 3), ((1, 0), (0, 2))),
    Row("pad:value", S(2, 3), ((1, 1), (1, 1)), keras="pad", constant_values=0.5),
    Row("pad:reflect", S(3, 4), ((1, 2), (2, 1)), keras="pad", mode="reflect"),
    # Keras's torch backend pads 'symmetric' as 'edge' and has no 'edge' or 'wrap': NumPy's
    *[Row(f"pad:{m}", S(3, 4), ((1, 2), (2, 1)), keras="pad", mode=m,
          expected=lambda x, w, mode: np.pad(x, w, mode=mode))
      for m in ("symmetric", "edge", "wrap")],
    Row("take", S(2, 3), I(4, hi=6)), Row("take:axis", S(2, 3), np.array([2, 0, -1]), axis=1,
                                          keras="take"),
    Row("take_along_axis", S(3, 4), I(3, 2, hi=4), axis=1),
    Row("take_along_axis:none", S(3, 4), I(5, hi=12), keras="take_along_axis"),
    Row("get_item", S(3, 4), (slice(0, 2), [0, 0, 3])),
    Row("diagonal", S(3, 4)), Row("diagonal:offset", S(2, 3, 4), 1, 1, 2, keras="diagonal"),
    Row("diag", S(3)), Row("diag:k", S(3), 1, keras="diag"), Row("diag:matrix", S(3, 4), -1,
                                                                 keras="diag"),
    Row("diagflat", S(2, 2)),
    Row("tril", S(3, 4)), Row("tril:k", S(2, 3, 3), 1, keras="tril"),
    Row("triu", S(3, 4)), Row("triu:k", S(3, 3), -1, keras="triu"),
    Row("trace", S(3, 4)), Row("trace:int", I(3, 3), keras="trace"),
    Row("size", S(2, 3), grad=False), Row("view", I(2, 4), dtype="float32", grad=False),
    # ------------------------------------------------------------------------- linear algebra
    *[Row(f"matmul:{i}", a, b, keras="matmul") for i, (a, b) in enumerate([
        (M23, M34), (S(3), M34), (M23, S(3)), (S(2, 2, 3), M34), (S(2, 1, 2, 3), S(3, 3, 2))])],
    Row("matmul:int", I(2, 3), I(3, 2), keras="matmul"),
    Row("dot", M23, M34), Row("dot:scalar", 2.0, S(3), keras="dot"),
    Row("dot:vectors", S(3), S(3), keras="dot"),
    Row("tensordot", S(2, 3, 4), S(3, 4, 2)), Row("tensordot:axes", S(2, 3), S(3, 2),
                                                  ([1], [0]), keras="tensordot"),
    Row("einsum", "ij,jk->ik", M23, M34), Row("einsum:batch", "bij,bjk->bik", S(2, 2, 3),
                                              S(2, 3, 2), keras="einsum"),
    Row("einsum:trace", "ii", S(3, 3), keras="einsum"),
    Row("einsum:diag", "ii->i", S(3, 3), keras="einsum"),
    Row("einsum:ellipsis", "...ij,...jk", S(2, 2, 3), S(2, 3, 2), keras="einsum"),
    Row("einsum:implicit", "ij,kj", M23, S(4, 3), keras="einsum"),
    Row("einsum:sum", "ijk->j", S(2, 3, 4), keras="einsum"),
    Row("outer", S(3), S(2)), Row("inner", M23, S(4, 3)), Row("vdot", S(6), S(6)),
    Row("kron", S(2, 2), S(2, 3)), Row("cross", S(2, 3), S(2, 3)),
    Row("correlate", S(5), S(3)), Row("correlate:same", S(5), S(3), mode="same",
                                      keras="correlate"),
    Row("correlate:full", S(4), S(3), mode="full", keras="correlate"),
    Row("slogdet", SPD(3) - np.float32(1)),
    Row("det", S(3, 3)), Row("inv", SPD(3)), Row("solve", SPD(3), S(3, 2)),
    Row("solve:vector", SPD(3), S(3), keras="solve"),
    Row("solve_triangular", np.tril(SPD(3)), S(3, 2), lower=True),
    Row("solve_triangular:upper", np.triu(SPD(3)), S(3), keras="solve_triangular"),
    Row("cholesky", SPD(3)), Row("cholesky:upper", SPD(3), keras="cholesky", upper=True),
    Row("cholesky_inverse", np.linalg.cholesky(SPD(3)).astype(np.float32)),
    Row("eigh", SPD(3), compare=_ortho_abs),
    Row("eig", SPD(3), compare=_eig_close, grad=False),
    Row("qr", S(4, 3), compare=_ortho_abs),
    Row("qr:complete", S(4, 3), keras="qr", mode="complete", compare=_ortho_abs, grad=False),
    Row("svd", S(4, 3), compare=_ortho_abs, grad=False),  # full U: no gradient (as PyTorch)
    Row("svd:reduced", S(3, 4), full_matrices=False, keras="svd", compare=_ortho_abs),
    Row("svd:square", S(3, 3), keras="svd", compare=_ortho_abs),
    Row("svd:values", S(4, 3), compute_uv=False, keras="svd"),
    Row("lu_factor", S(3, 3), grad=False),
    Row("pinv", S(4, 3)), Row("lstsq", S(4, 3), S(4, 2), rtol=1e-4, atol=1e-5),
    Row("matrix_rank", np.array([[1.0, 2.0], [2.0, 4.0]], np.float32), grad=False),
    Row("logdet", SPD(3)), Row("cdist", S(2, 3), S(4, 3)),
    *[Row(f"norm:{i}", S(3, 4), keras="norm", **kw) for i, kw in enumerate([
        {}, {"axis": 1}, {"ord": 1, "axis": 0}, {"ord": np.inf, "axis": 1}, {"ord": 3, "axis": 1},
        {"ord": "fro"}, {"ord": "nuc"}, {"ord": 1}, {"ord": -np.inf}, {"ord": 2},
        {"axis": 1, "keepdims": True}])],
    Row("norm:0", S(3, 4), keras="norm", ord=0, axis=1, grad=False),
    # ------------------------------------------------------------------------ indexing, misc
    Row("select", [B(2, 3), B(2, 3)], [S(2, 3), S(2, 3)], 0.5, grad=False),
    Row("searchsorted", np.sort(S(6)), S(4), grad=False),
    Row("searchsorted:right", np.array([1, 2, 2, 3], np.float32), np.array([2.0], np.float32),
        side="right", keras="searchsorted", grad=False),
    Row("digitize", S(5), np.array([-1.0, 0.0, 1.0], np.float32), grad=False),
    Row("bincount", I(6), grad=False), Row("bincount:weights", I(6), P(6), keras="bincount",
                                           minlength=7, grad=False),
    Row("bincount:2d", I(2, 5), keras="bincount", minlength=5, grad=False),
    Row("histogram", S(20), grad=False, same_dtype=False),
    Row("histogram:range", S(20), 4, (-1.0, 1.0), keras="histogram", grad=False, same_dtype=False),
    Row("unique", I(8), grad=False, same_dtype=False),
    Row("unique:all", I(8), keras="unique", return_index=True, return_inverse=True,
        return_counts=True, grad=False, same_dtype=False),
    Row("unique:size", I(8), keras="unique", size=7, fill_value=-1, grad=False, same_dtype=False),
    Row("nonzero", np.array([[0, 1, 2], [3, 0, 0]]), grad=False,
        compare=lambda m, k: np.array_equal(np.stack(m), k[0])),
    Row("unravel_index", np.array([1, 5, 7], np.int32), (2, 4), grad=False),
    Row("isin", I(2, 3), np.array([1, 3], np.int32), grad=False),
    Row("argpartition", np.array([5, 1, 4, 0, 3, 2], np.int32), 2, grad=False,
        compare=lambda m, k: m[0][2] == k[0][2] and set(m[0][:2]) == set(k[0][:2])),
    Row("corrcoef", S(3, 5)),
    Row("one_hot", np.array([0, 2, -1, 1]), 3, grad=False),
    Row("one_hot:axis", np.array([[0, 2], [1, 1]]), 3, axis=0, keras="one_hot", grad=False),
    Row("multi_hot", np.array([[0, 2], [1, 1]]), 4, grad=False),
    Row("multi_hot:1d", np.array([0, 2]), 3, keras="multi_hot", grad=False),
    *[Row(n, S(5, 2), np.array([0, 0, 2, 1, 2]), 3) for n in (
        "segment_sum", "segment_max", "segment_min", "segment_prod")],
    Row("segment_sum:drop", S(4), np.array([0, 5, 1, 1]), 3, keras="segment_sum"),
    Row("segment_sum:auto", S(4, 2), np.array([0, 2, 1, 1]), keras="segment_sum"),
    Row("extract_sequences", S(2, 10), 4, 3),
    Row("rearrange", S(2, 3, 4), "b h w -> b (h w)"),
    Row("rearrange:split", S(2, 6), "b (h w) -> w b h", h=2, keras="rearrange"),
    # Keras's torch backend fails on '...' here: the reference is the transpose it means
    Row("rearrange:ellipsis", S(2, 3, 4), "... w -> w ...", keras="rearrange",
        expected=lambda x, pattern: np.moveaxis(x, -1, 0)),
    Row("scatter", np.array([[0, 1], [2, 0], [0, 1]]), S(3), (3, 2)),
    Row("scatter:rows", np.array([[1], [0]]), S(2, 3), (3, 3), keras="scatter"),
    Row("scatter_update", S(3, 2), np.array([[0, 1], [2, 0]]), S(2)),
    Row("scatter_update:add", S(3, 2), np.array([[0, 1], [0, 1]]), S(2), reduction="add",
        keras="scatter_update"),
    *[Row(f"scatter_update:{r}", S(3, 2), np.array([[0, 1], [2, 0]]), S(2), reduction=r,
          keras="scatter_update", grad=False) for r in ("max", "min", "mul")],
    Row("slice", S(3, 4), (1, 0), (2, 3)), Row("slice_update", S(3, 4), (1, 1), S(2, 2)),
    Row("unstack", S(2, 3)), Row("unstack:axis", S(2, 3), axis=1, keras="unstack"),
    Row("cast", S(2, 3), "float64"), Row("cast:int", S(2, 3) * 3, "int32", keras="cast",
                                         grad=False),
    Row("saturate_cast", np.array([-300.0, 5.5, 300.0], np.float32), "uint8", grad=False),
    Row("saturate_cast:int8", np.array([-300, 5, 300], np.int32), "int8",
        keras="saturate_cast", grad=False),
    Row("convert_to_tensor", [1, 2], grad=False),
    Row("convert_to_tensor:float", 2.5, keras="convert_to_tensor", grad=False),
    Row("convert_to_tensor:dtype", [1, 2], "float16", keras="convert_to_tensor", grad=False),
    Row("stop_gradient", S(2, 3), grad=False),
    Row("view_as_real", np.array([1 + 2j, 3 - 1j], np.complex64), grad=False),
    Row("view_as_complex", S(3, 2), grad=False, same_dtype=False),
    Row("polar", P(3), S(3), grad=False, same_dtype=False),
    # ----------------------------------------------------------------------- Fourier transforms
    Row("fft", (S(2, 4), S(2, 4)), rtol=1e-4, atol=1e-5),
    Row("fft2", (S(2, 3, 4), S(2, 3, 4)), rtol=1e-4, atol=1e-5),
    Row("ifft2", (S(3, 4), S(3, 4)), rtol=1e-4, atol=1e-5),
    Row("rfft", S(2, 6), rtol=1e-4, atol=1e-5),
    Row("rfft:length", S(2, 5), 8, keras="rfft", rtol=1e-4, atol=1e-5),
    Row("rfft:cut", S(2, 7), 4, keras="rfft", rtol=1e-4, atol=1e-5),
    Row("irfft", (S(2, 4), S(2, 4)), rtol=1e-4, atol=1e-5),
    Row("irfft:length", (S(2, 4), S(2, 4)), 5, keras="irfft", rtol=1e-4, atol=1e-5),
    Row("stft", S(2, 32), 8, 4, 8, rtol=1e-4, atol=1e-5),
    Row("stft:pad", S(40), 6, 3, 8, window="hamming", keras="stft", rtol=1e-4, atol=1e-5),
    Row("stft:nocenter", S(2, 30), 8, 4, 8, window=None, center=False, keras="stft", rtol=1e-4,
        atol=1e-5),
    Row("istft", (S(2, 9, 5), S(2, 9, 5)), 8, 4, 8, rtol=1e-4, atol=1e-5),
    Row("istft:general", (S(7, 5), S(7, 5)), 6, 3, 8, keras="istft", rtol=1e-4, atol=1e-5),
    Row("istft:length", (S(2, 9, 5), S(2, 9, 5)), 8, 4, 8, length=30, keras="istft",
        rtol=1e-4, atol=1e-5),
    # ------------------------------------------------------------------------------------- nn
    Row("moments", S(3, 4), axes=0), Row("moments:keep", S(2, 3, 4), (0, 2), keepdims=True,
                                         keras="moments"),
    Row("batch_normalization", S(3, 4), S(4), P(4), 1, offset=S(4), scale=S(4)),
    Row("batch_normalization:bare", S(3, 4, 2), S(4), P(4), 1, keras="batch_normalization"),
    Row("layer_normalization", S(3, 4), S(4), S(4)),
    Row("layer_normalization:axes", S(2, 3, 4), axis=(1, 2), epsilon=1e-3,
        keras="layer_normalization"),
    Row("rms_normalization", S(3, 4), S(4)),
    # Keras's torch backend normalizes trailing axes only; the formula, over axis 0:
    Row("rms_normalization:axis", S(3, 4), axis=0, keras="rms_normalization",
        expected=lambda x, axis: x / np.sqrt((x * x).mean(0, keepdims=True) + 1e-7)),
    Row("normalize", S(3, 4)), Row("normalize:order", S(3, 4), axis=0, order=1,
                                   keras="normalize"),
    Row("binary_crossentropy", (rng.random((3, 4)) > 0.5).astype(np.float32), P(3, 4, lo=0.1,
                                                                             hi=0.9),
        grad=(1,)),
    Row("binary_crossentropy:logits", (rng.random((3, 4)) > 0.5).astype(np.float32), S(3, 4),
        from_logits=True, keras="binary_crossentropy", grad=(1,)),
    Row("categorical_crossentropy", np.eye(4, dtype=np.float32)[[0, 3, 1]], P(3, 4)),
    Row("categorical_crossentropy:logits", np.eye(4, dtype=np.float32)[[0, 3, 1]], S(3, 4),
        from_logits=True, keras="categorical_crossentropy"),
    Row("categorical_crossentropy:axis", np.eye(3, dtype=np.float32)[[0, 2, 1, 1]].T, P(3, 4),
        axis=0, keras="categorical_crossentropy"),
    Row("sparse_categorical_crossentropy", np.array([0, 3, 1]), P(3, 4)),
    Row("sparse_categorical_crossentropy:logits", np.array([[0], [3], [1]]), S(3, 4),
        from_logits=True, keras="sparse_categorical_crossentropy"),
    Row("sparse_categorical_crossentropy:axis", np.array([0, 2, 1, 1]), S(3, 4),
        from_logits=True, axis=0, keras="sparse_categorical_crossentropy"),
    Row("psnr", P(2, 3), P(2, 3), 2.0),
    Row("dot_product_attention", S(2, 3, 2, 4), S(2, 5, 2, 4), S(2, 5, 2, 4)),
    Row("dot_product_attention:gqa", S(1, 3, 4, 2), S(1, 2, 2, 2), S(1, 2, 2, 2),
        keras="dot_product_attention"),
    Row("dot_product_attention:mask", S(1, 3, 2, 4), S(1, 4, 2, 4), S(1, 4, 2, 4),
        mask=B(1, 2, 3, 4) | np.eye(3, 4, dtype=bool), keras="dot_product_attention"),
    Row("dot_product_attention:causal", S(1, 3, 1, 2), S(1, 3, 1, 2), S(1, 3, 1, 2),
        is_causal=True, scale=0.5, keras="dot_product_attention"),
    Row("dot_product_attention:bias", S(1, 3, 1, 2), S(1, 4, 1, 2), S(1, 4, 1, 2),
        bias=S(1, 1, 3, 4), keras="dot_product_attention"),
    Row("depth_to_space", S(1, 2, 3, 8), 2), Row("space_to_depth", S(1, 4, 6, 2), 2),
    Row("depth_to_space:cf", S(1, 8, 2, 3), 2, data_format="channels_first",
        keras="depth_to_space"),
    Row("space_to_depth:cf", S(1, 2, 4, 6), 2, data_format="channels_first",
        keras="space_to_depth"),
    Row("unfold", S(2, 2, 5, 4), 2), Row("unfold:all", S(1, 2, 6, 5), (2, 3), dilation=(2, 1),
                                         padding=1, stride=2, keras="unfold"),
    Row("fold", S(2, 8, 12), (4, 5), 2), Row("fold:all", S(1, 12, 9), (6, 5), (2, 3),
                                             dilation=(2, 1), padding=1, stride=2,
                                             keras="fold"),
    Row("adaptive_average_pool", S(2, 5, 7, 3), (2, 3)),
    Row("adaptive_average_pool:1d", S(2, 7, 3), 3, keras="adaptive_average_pool"),
    Row("adaptive_average_pool:cf", S(1, 2, 6, 5), 4, data_format="channels_first",
        keras="adaptive_average_pool"),
    Row("adaptive_max_pool", S(2, 5, 7, 3), (2, 3)),
    Row("adaptive_max_pool:3d", S(1, 4, 5, 3, 2), (2, 2, 3), keras="adaptive_max_pool"),
]


def _op(namespace, path):
    for part in path.split("."):
        namespace = getattr(namespace, part)
    return namespace


IMG = P(2, 5, 6, 3, lo=0.05, hi=0.95)
IMG_ROWS = [
    *[Row(f"image.resize:{m}", IMG, (4, 9), interpolation=m, keras="image.resize")
      for m in ("nearest", "bilinear", "bicubic")],
    *[Row(f"image.resize:down:{m}", P(1, 9, 8, 2), (4, 3), interpolation=m,
          keras="image.resize") for m in ("nearest", "bilinear", "bicubic")],
    Row("image.resize:antialias", P(1, 9, 8, 2), (4, 3), antialias=True, keras="image.resize",
        rtol=1e-4, atol=1e-4),
    Row("image.resize:crop", IMG, (4, 4), crop_to_aspect_ratio=True, keras="image.resize"),
    Row("image.resize:pad", IMG, (4, 8), pad_to_aspect_ratio=True, fill_value=0.5,
        keras="image.resize"),
    Row("image.resize:cf", P(1, 2, 5, 6), (3, 3), data_format="channels_first",
        keras="image.resize"),
    # integers round the interpolated value: a tie (x.5) may round either way by float error
    Row("image.resize:int", I(5, 6, 3, hi=255, dtype=np.uint8), (3, 4), keras="image.resize",
        atol=1),
    Row("image.extract_patches", IMG, 2),
    Row("image.extract_patches:same", IMG, (3, 2), strides=(2, 3), padding="same",
        keras="image.extract_patches"),
    Row("image.extract_patches:dilated", IMG, 2, strides=1, dilation_rate=2,
        keras="image.extract_patches"),
    Row("image.extract_patches:3d", P(1, 4, 5, 6, 2), (2, 2, 3), keras="image.extract_patches"),
    Row("image.extract_patches_3d", P(1, 4, 4, 4, 2), 2, strides=(1, 2, 2)),
    Row("image.pad_images", IMG, 1, 2, 0, 1),
    Row("image.pad_images:target", IMG, top_padding=1, left_padding=0, target_height=8,
        target_width=9, keras="image.pad_images"),
    Row("image.crop_images", IMG, 1, 2, 1, 1),
    Row("image.crop_images:target", IMG, top_cropping=1, left_cropping=2, target_height=3,
        target_width=3, keras="image.crop_images"),
    Row("image.rgb_to_grayscale", IMG),
    Row("image.rgb_to_hsv", IMG), Row("image.hsv_to_rgb", IMG),
    # Keras's torch backend reads data_format=None as channels_first here: say it
    Row("image.gaussian_blur", IMG, data_format="channels_last"),
    Row("image.gaussian_blur:wide", IMG, (5, 5), (1.5, 0.8), data_format="channels_last",
        keras="image.gaussian_blur"),
    Row("image.sobel_edges", IMG, data_format="channels_last"),
    Row("image.ssim", P(2, 12, 12, 2), P(2, 12, 12, 2), filter_size=5, rtol=1e-4, atol=1e-5),
    Row("image.map_coordinates", S(4, 5), np.stack([rng.uniform(-1, 4, (3, 2)),
                                                     rng.uniform(-1, 5, (3, 2))]).astype(
        np.float32), 1, grad=(0,)),
    *[Row(f"image.map_coordinates:{f}", S(4, 5), np.stack([rng.uniform(-3, 7, 6),
                                                            rng.uniform(-3, 8, 6)]).astype(
        np.float32), 1, keras="image.map_coordinates", fill_mode=f, grad=(0,))
      for f in ("nearest", "wrap", "mirror", "reflect")],
    Row("image.map_coordinates:nearest", S(4, 5), np.array([[0.4, 2.6, 3.5], [1.2, 4.4, -0.2]],
                                                           np.float32), 0,
        keras="image.map_coordinates", fill_value=9.0, grad=(0,)),
    Row("image.affine_transform", IMG, np.array([[1.0, 0.2, -1.0, -0.1, 0.9, 0.5, 0, 0]] * 2,
                                                np.float32), grad=(0,)),
    Row("image.affine_transform:one", IMG[0], np.array([1.0, 0.2, -1.0, -0.1, 0.9, 0.5, 0, 0],
                                                       np.float32), keras="image.affine_transform",
        grad=(0,)),
    Row("image.affine_transform:nearest", IMG, np.array([[0.8, 0.1, 0.5, 0.0, 1.1, -0.3, 0, 0],
                                                         [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0, 0]],
                                                        np.float32),
        interpolation="nearest", fill_mode="reflect", keras="image.affine_transform", grad=(0,)),
    Row("image.perspective_transform", IMG, np.array([[0, 0], [5, 0], [0, 4], [5, 4]],
                                                     np.float32),
        np.array([[0.5, 0.2], [4.5, 0.0], [0.2, 3.6], [5.0, 4.0]], np.float32), grad=(0,),
        rtol=1e-4, atol=1e-5),
    Row("image.scale_and_translate", IMG, (2, 3, 4, 3), np.array([0.6, 0.7], np.float32),
        np.array([0.1, -0.2], np.float32), (1, 2), "linear", grad=(0,)),
    Row("image.scale_and_translate:cubic", IMG, (2, 8, 9, 3), np.array([1.6, 1.5], np.float32),
        np.array([0.0, 0.5], np.float32), (1, 2), "cubic", antialias=False, grad=(0,),
        keras="image.scale_and_translate"),
]


def _keras_args(args, keras):
    """The arguments as Keras takes them: NumPy arrays as its tensors."""
    def convert(a):
        if isinstance(a, np.ndarray):
            return keras.ops.convert_to_tensor(a)
        if isinstance(a, (tuple, list)) and a and all(isinstance(v, np.ndarray) for v in a):
            return type(a)(convert(v) for v in a)
        return a
    return [convert(a) for a in args]


def _leaves(out):
    """An op's result as a list of NumPy arrays (tuples and lists flattened)."""
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _leaves(o)]
    if isinstance(out, mgp.Tensor):
        return [out.numpy()]
    return [np.asarray(out)]


def _keras_leaves(out, keras):
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _keras_leaves(o, keras)]
    return [np.asarray(keras.ops.convert_to_numpy(out))]


def _dtype_name(a):
    return np.asarray(a).dtype.name


@pytest.mark.parametrize("row", ROWS + IMG_ROWS, ids=repr)
def test_same_as_keras(row):
    mine = _leaves(_op(ops, row.op)(*row.args, **row.kwargs))
    if row.expected is not None:
        theirs = _leaves(row.expected(*row.args, **row.kwargs))
        for m, k in zip(mine, theirs):
            assert m.shape == k.shape and m.dtype == k.dtype, f"{row.name}: {m.dtype}{m.shape}"
            np.testing.assert_allclose(m, k, rtol=row.rtol, atol=row.atol, err_msg=row.name)
        return
    keras = oracles.keras()
    kwargs = dict(zip(row.kwargs, _keras_args(list(row.kwargs.values()), keras)))
    theirs = _keras_leaves(_op(keras.ops, row.op)(*_keras_args(row.args, keras), **kwargs),
                           keras)
    if row.compare is not None:
        assert row.compare(mine, theirs), f"{row.name}: {mine} vs Keras {theirs}"
        return
    assert len(mine) == len(theirs), f"{row.name}: {len(mine)} outputs, Keras {len(theirs)}"
    for m, k in zip(mine, theirs):
        assert m.shape == k.shape, f"{row.name}: shape {m.shape}, Keras {k.shape}"
        if row.same_dtype:
            assert _dtype_name(m) == _dtype_name(k), f"{row.name}: {m.dtype}, Keras {k.dtype}"
        np.testing.assert_allclose(m.astype(np.float64) if m.dtype.kind != "c" else m,
                                   k.astype(np.float64) if k.dtype.kind != "c" else k,
                                   rtol=row.rtol, atol=row.atol, err_msg=row.name)


def _differentiable(row):
    """The positions of the float32 array arguments gradcheck differentiates."""
    if row.grad is False:
        return []
    if isinstance(row.grad, tuple):
        return list(row.grad)
    return [i for i, a in enumerate(row.args) if isinstance(a, np.ndarray)
            and a.dtype == np.float32]


def _as_input(a):
    if isinstance(a, np.ndarray) and a.dtype == np.float32:
        return mgp.tensor(a.astype(np.float64), dtype=np.float64, requires_grad=True)
    if isinstance(a, tuple) and a and all(isinstance(v, np.ndarray) for v in a):
        return tuple(_as_input(v) for v in a)
    return a


def _combined(out):
    """The float parts of an op's result joined into one tensor, for gradcheck."""
    parts = [o for o in (out if isinstance(out, (tuple, list)) else [out])
             if isinstance(o, mgp.Tensor) and o.dtype.kind == "f"]
    if not parts:
        raise AssertionError("no float output to check")
    return ops.concatenate([ops.ravel(p) for p in parts])


GRAD_ROWS = [r for r in ROWS + IMG_ROWS if _differentiable(r) or any(
    isinstance(a, tuple) and a and isinstance(a[0], np.ndarray) for a in r.args) and r.grad]


@pytest.mark.parametrize("row", GRAD_ROWS, ids=repr)
def test_gradient(row):
    args = [_as_input(a) if i in _differentiable(row) or isinstance(a, tuple) else a
            for i, a in enumerate(row.args)]
    leaves = [(i, a) for i, a in enumerate(args) if isinstance(a, mgp.Tensor)
              and a.requires_grad]
    pairs = [(i, j) for i, a in enumerate(args) if isinstance(a, tuple)
             for j, v in enumerate(a) if isinstance(v, mgp.Tensor)]
    tensors = [a for _, a in leaves] + [args[i][j] for i, j in pairs]

    def fn(*ts):
        call = list(args)
        for (i, _), t in zip(leaves, ts):
            call[i] = t
        rest = iter(ts[len(leaves):])
        for i, j in pairs:
            call[i] = tuple(next(rest) if k == j else v for k, v in enumerate(call[i]))
        return _combined(_op(ops, row.op)(*call, **row.kwargs))
    # element by element for small inputs, along random directions for large ones
    fast = sum(t.size for t in tensors) > 64
    assert mgp.gradcheck(fn, *tensors, atol=1e-5, rtol=1e-3, fast=fast)


def test_every_op_has_a_row():
    """Each Keras name mgp.ops has appears in the table, in a test of its own below, or in the
    tests of the family that owns it (the CTC ops in the losses' tests)."""
    folder = os.path.dirname(os.path.abspath(__file__))
    here = "".join(open(os.path.join(folder, f)).read() for f in os.listdir(folder)
                   if f.startswith("test_") and f.endswith(".py"))
    tested = {r.op for r in ROWS} | set(re.findall(r"(?:ops|lib|nn)\.(\w+)", here))
    names = [n for n in dir(ops) if not n.startswith("_") and callable(getattr(ops, n))]
    assert sorted(set(names) - tested - {"core", "einops", "image", "linalg", "math", "nn",
                                         "numpy"}) == []


# ======================================== shapes and control flow ====================================

def test_shape_dtype_ndim_is_tensor():
    keras = oracles.keras()
    x = np.zeros((2, 3), np.float32)
    for name in ("shape", "dtype", "ndim", "is_tensor"):
        assert getattr(ops, name)(x) == getattr(keras.ops, name)(x), name
    assert ops.shape(ops.zeros((2, 3))) == (2, 3) and ops.dtype(ops.ones(2, "int8")) == "int8"
    assert ops.is_tensor(ops.ones(2)) and ops.ndim(ops.ones((1, 2, 3))) == 3


def test_convert_to_numpy_leaves_the_graph():
    x = mgp.tensor([1.0, 2.0], requires_grad=True)
    a = ops.convert_to_numpy(x * 2)
    assert isinstance(a, np.ndarray) and a.tolist() == [2.0, 4.0]


def test_cond_switch_and_loops_match_keras():
    keras = oracles.keras()
    for lib in (ops, keras.ops):
        x = lib.convert_to_tensor(np.float32(3.0))
        assert float(lib.cond(x > 2, lambda: x * 2, lambda: x)) == 6.0
        assert float(lib.switch(1, [lambda v: v + 1, lambda v: v * 10], x)) == 30.0
        assert float(lib.switch(7, [lambda v: v + 1, lambda v: v * 10], x)) == 30.0  # clipped
        i, total = lib.while_loop(lambda i, t: i < 4, lambda i, t: (i + 1, t + i), (0, 0.0))
        assert (int(i), float(total)) == (4, 6.0)
        assert int(lib.while_loop(lambda v: v < 100, lambda v: v * 3, 1)) == 243
        assert int(lib.while_loop(lambda v: v < 100, lambda v: v * 3, 1,
                                  maximum_iterations=2)) == 9
        assert float(lib.fori_loop(0, 5, lambda i, v: v + i, 0.0)) == 10.0


def test_scan_map_associative_scan_match_keras():
    keras = oracles.keras()
    xs = S(5, 3)

    def step(carry, x):
        return carry * 0.5 + x, carry.sum() + x
    results = []
    for lib in (ops, keras.ops):
        carry, ys = lib.scan(step, lib.zeros(3), lib.convert_to_tensor(xs))
        _, rev = lib.scan(step, lib.zeros(3), lib.convert_to_tensor(xs), reverse=True)
        mapped = lib.map(lambda v: v * v, lib.convert_to_tensor(xs))
        prefix = lib.associative_scan(lambda a, b: a + b, lib.convert_to_tensor(xs))
        product = lib.associative_scan(lambda a, b: a * b, lib.convert_to_tensor(xs), axis=1,
                                       reverse=True)
        vmapped = lib.vectorized_map(lambda v: v.sum(), lib.convert_to_tensor(xs))
        results.append([lib.convert_to_numpy(v) for v in (carry, ys, rev, mapped, prefix, product,
                                                          vmapped)])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    # nested structures and length-only scans
    carry, ys = ops.scan(lambda c, x: ((c[0] + x["a"], c[1]), x["b"] * 2),
                         (ops.zeros(()), 1.0), {"a": ops.ones(4), "b": ops.arange(4)})
    assert float(carry[0]) == 4.0 and ys.numpy().tolist() == [0, 2, 4, 6]
    count, _ = ops.scan(lambda c, _: (c + 1, None), 0, length=3)
    assert int(count) == 3


def test_control_flow_is_differentiable():
    x = mgp.tensor(S(4, 3).astype(np.float64), requires_grad=True)

    def f(x):
        _, ys = ops.scan(lambda c, row: (c * row, c * row), ops.ones(3, "float64"), x)
        y = ops.fori_loop(0, 2, lambda i, v: v * x[i], ops.ones(3, "float64"))
        z = ops.while_loop(lambda v: ops.sum(ops.abs(v)) < 50, lambda v: v * 2.0, x[0])
        return ops.concatenate([ops.ravel(ys), y, z, ops.ravel(ops.associative_scan(
            lambda a, b: a * b, x))])
    assert mgp.gradcheck(f, x)


def test_vectorize_maps_elements_and_core_dimensions():
    keras = oracles.keras()
    a, b = S(3, 4), S(4)
    for lib in (ops, keras.ops):
        f = lib.vectorize(lambda u, v: u * 2 + v)
        g = lib.vectorize(lambda u, v: lib.sum(u * v), signature="(n),(n)->()")
        out = lib.convert_to_numpy(f(lib.convert_to_tensor(a), lib.convert_to_tensor(b)))
        np.testing.assert_allclose(out, a * 2 + b, rtol=1e-6)
        np.testing.assert_allclose(lib.convert_to_numpy(g(lib.convert_to_tensor(a),
                                                          lib.convert_to_tensor(b))), a @ b,
                                   rtol=1e-5)


def test_custom_gradient_replaces_the_gradient():
    @ops.custom_gradient
    def clipped_identity(x):
        def grad(*args, upstream=None):
            return ops.clip(upstream, -0.5, 0.5)
        return x * 1.0, grad

    @ops.custom_gradient
    def log1pexp(x):  # the TF-style grad(upstream) signature works too
        e = ops.exp(x)
        return ops.log(1 + e), lambda upstream: upstream * (1 - 1 / (1 + e))
    x = mgp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (clipped_identity(x) * mgp.tensor([1.0, -2.0, 0.25])).sum().backward()
    np.testing.assert_allclose(x.grad, [0.5, -0.5, 0.25])
    y = mgp.tensor([0.0, 100.0], requires_grad=True)
    log1pexp(y).sum().backward()
    np.testing.assert_allclose(y.grad, [0.5, 1.0])


def test_jvp_matches_keras():
    keras = oracles.keras()
    x, t = S(3), S(3)

    def f(v):
        return v * v + v.sum()
    mine = ops.jvp(lambda v: ops.sin(v) * ops.sum(v), (x,), (t,))
    theirs = keras.ops.jvp(lambda v: keras.ops.sin(v) * keras.ops.sum(v),
                           (keras.ops.convert_to_tensor(x),), (keras.ops.convert_to_tensor(t),))
    for m, k in zip(mine, theirs):
        np.testing.assert_allclose(m.numpy(), keras.ops.convert_to_numpy(k), rtol=1e-5)
    out, tangent, aux = ops.jvp(lambda v: (f(v), "aux"), (x,), (t,), has_aux=True)
    assert aux == "aux"
    np.testing.assert_allclose(tangent.numpy(), 2 * x * t + t.sum(), rtol=1e-5)


def test_rearrange_against_numpy():
    x = S(2, 6, 4)
    np.testing.assert_array_equal(ops.rearrange(x, "b (h w) c -> (b h) w c", w=3).numpy(),
                                  x.reshape(4, 3, 4))
    np.testing.assert_array_equal(ops.rearrange(x, "b n c -> c b n").numpy(),
                                  x.transpose(2, 0, 1))
    with pytest.raises(ValueError, match="every input axis"):
        ops.rearrange(x, "b n c -> b n")


# ============================================ dtype rules ============================================

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "float16", "float32"]
UNARY_DTYPE_OPS = ["abs", "negative", "square", "sqrt", "exp", "log", "sin", "tanh", "floor",
                   "ceil", "round", "sign", "sum", "mean", "var", "max", "argmax", "cumsum",
                   "prod", "relu", "sigmoid", "softplus", "erf", "reciprocal", "expm1", "log1p",
                   "arctan", "all", "isnan", "logical_not", "square", "trunc", "cbrt"]
BINARY_DTYPE_OPS = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power",
                    "floor_divide", "mod", "arctan2", "matmul", "equal", "logaddexp", "hypot",
                    "where"]
# Keras's torch backend turns a Python float into a float32 tensor before it promotes in these,
# so float16 * 1.5 gives float32 there; Keras's lattice (and its JAX backend) keeps the scalar
# weak, as mgp does: float16
STRONG_SCALARS_ON_TORCH = {"arctan2", "logaddexp", "hypot"}


def _keras_dtype(keras, fn):
    try:
        return keras.backend.standardize_dtype(fn().dtype)
    except Exception:  # noqa: BLE001 - an op Keras's torch backend cannot run on this dtype
        return None


@pytest.mark.parametrize("name", sorted(set(UNARY_DTYPE_OPS)))
def test_unary_result_dtypes_match_keras(name):
    """Keras's dtypes for its 8- to 32-bit dtypes; float64 stays float64 in mgp (Keras's
    result_type folds 64-bit results to 32 bits on its torch backend: see mgp.dtypes)."""
    keras = oracles.keras()
    result = getattr(ops, name)(np.ones(3))
    assert ops.dtype(result) in ("float64", "bool", "int32"), ops.dtype(result)
    for dtype in DTYPES:
        x = (np.arange(6).reshape(2, 3) % 3 + 1).astype(dtype)
        theirs = _keras_dtype(keras, lambda: getattr(keras.ops, name)(
            keras.ops.convert_to_tensor(x)))
        if theirs is None:
            continue
        assert ops.dtype(getattr(ops, name)(x)) == theirs, (name, dtype)


@pytest.mark.parametrize("name", BINARY_DTYPE_OPS)
def test_binary_result_dtypes_match_keras(name):
    """Keras's lattice for every pair of its 8- to 32-bit dtypes and Python scalars (Keras's
    dtype contract; 64-bit results differ by backend, and mgp keeps them, see mgp.dtypes)."""
    keras = oracles.keras()
    values = [np.ones((2, 2), d) for d in DTYPES] + [2, 1.5, True]
    for a in values:
        for b in values:
            if not any(isinstance(v, np.ndarray) for v in (a, b)):
                continue
            if name in STRONG_SCALARS_ON_TORCH and not all(isinstance(v, np.ndarray)
                                                            for v in (a, b)):
                continue
            if name == "where":
                fn, args = getattr(ops, name), (np.array([[True, False], [False, True]]), a, b)
            else:
                fn, args = getattr(ops, name), (a, b)
            kargs = [keras.ops.convert_to_tensor(v) if isinstance(v, np.ndarray) else v
                     for v in args]
            theirs = _keras_dtype(keras, lambda: getattr(keras.ops, name)(*kargs))
            if theirs is None:
                continue
            try:
                mine = ops.dtype(fn(*args))
            except TypeError:  # NumPy refuses what torch allows (bool - bool): say so
                assert name == "subtract" and "bool" in (np.asarray(a).dtype.name,
                                                         np.asarray(b).dtype.name)
                continue
            assert mine == theirs, (name, getattr(a, "dtype", a), getattr(b, "dtype", b))


def test_python_scalars_are_weak_and_ints_convert_to_int32():
    assert ops.convert_to_tensor(3).dtype == "int32" and ops.convert_to_tensor(2 ** 40).dtype == \
        "int64"
    assert ops.convert_to_tensor(3.0).dtype == "float32" and ops.convert_to_tensor(True).dtype \
        == "bool"
    assert ops.convert_to_tensor(np.ones(2)).dtype == "float64"  # arrays keep their dtype
    assert ops.add(np.ones(2, np.int8), 3).dtype == "int8"
    assert ops.multiply(np.ones(2, np.float16), 2.5).dtype == "float16"
    assert ops.add(np.ones(2, np.int32), 2.5).dtype == "float32"
    assert ops.add(mgp.tensor(np.ones(2), dtype="float64"), 1.0).dtype == "float64"
    assert mgp.tensor(3).dtype == np.int64 and mgp.tensor(np.ones(2)).dtype == np.float32


def test_result_type_matches_keras_up_to_64_bit_results():
    keras = oracles.keras()
    kinds = DTYPES + ["int64", "uint16", "float64", int, float]
    for a in kinds:
        for b in kinds:
            mine, theirs = mgp.backend.result_type(a, b), keras.backend.result_type(a, b)
            assert mine == theirs or (mine, theirs) in (("float64", "float32"),
                                                        ("int64", "int32")), (a, b)


@pytest.mark.parametrize("floatx", ["float64", "float16"])
def test_floatx_sets_the_default_float(floatx):
    keras = oracles.keras()
    mgp.backend.set_floatx(floatx)
    keras.backend.set_floatx(floatx)
    try:
        for make in (lambda lib: lib.ones(2), lambda lib: lib.zeros((2, 2)),
                     lambda lib: lib.full((2,), 3), lambda lib: lib.eye(2),
                     lambda lib: lib.convert_to_tensor(1.5), lambda lib: lib.exp(np.ones(2, "int32")),
                     lambda lib: lib.add(np.ones(2, "int32"), 1.5), lambda lib: lib.tri(2)):
            assert ops.dtype(make(ops)) == keras.backend.standardize_dtype(make(keras.ops).dtype)
        # Keras folds its result_type's float64 to float32, also for linspace and arange of
        # floats under floatx float64; mgp gives the floatx asked for
        assert ops.dtype(ops.linspace(0, 1, 3)) == ops.dtype(ops.arange(3.0)) == floatx
        assert mgp.random.normal((2,)).dtype == floatx
    finally:
        mgp.backend.set_floatx("float32")
        keras.backend.set_floatx("float32")


# ========================================= broadcasting gradients ====================================

BINARY_GRAD_OPS = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "arctan2",
                   "hypot", "logaddexp", "logaddexp2", "fmax", "fmin", "power", "mod"]


@settings(max_examples=30, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       st.sampled_from(BINARY_GRAD_OPS))
def test_binary_ops_gradcheck_on_random_broadcasts(shapes, name):
    a, b = (S(*s) for s in shapes.input_shapes)
    if name == "power":
        a = np.abs(a)
    ta, tb = (mgp.tensor(v.astype(np.float64), dtype=np.float64, requires_grad=True)
              for v in (a, b))
    assert mgp.gradcheck(getattr(ops, name), ta, tb)
    assert getattr(ops, name)(a, b).shape == np.broadcast_shapes(a.shape, b.shape)


# ============================================== bad input ============================================

@pytest.mark.parametrize("name", BINARY_GRAD_OPS + ["floor_divide", "equal", "less",
                                                    "logical_and", "bitwise_and", "heaviside",
                                                    "divide_no_nan", "fmod", "nextafter"])
def test_mismatched_shapes_name_the_op_and_both_shapes(name):
    a, b = np.ones((2, 3), np.int32 if "bitwise" in name else np.float32), \
        np.ones((4,), np.int32 if "bitwise" in name else np.float32)
    with pytest.raises(ValueError, match=rf"{name}.*\(2, 3\).*\(4,\)"):
        getattr(ops, name)(a, b)


@pytest.mark.parametrize("call, message", [
    (lambda: ops.matmul(np.ones((2, 3)), np.ones((4, 2))), r"matmul.*\(2, 3\).*\(4, 2\)"),
    (lambda: ops.concatenate([np.ones((2, 3)), np.ones((2, 4))]), r"concatenate.*\(2, 3\).*\(2, 4\)"),
    (lambda: ops.stack([np.ones((2, 3)), np.ones((2, 4))]), r"stack.*\(2, 3\).*\(2, 4\)"),
    (lambda: ops.where(np.ones((2, 3), bool), np.ones(4), 0.0), r"where.*\(2, 3\).*\(4,\)"),
    (lambda: ops.reshape(np.ones((2, 3)), (4, 2)), r"reshape.*\(2, 3\).*\(4, 2\)"),
    (lambda: ops.broadcast_to(np.ones(3), (2, 4)), r"broadcast_to.*\(3,\).*\(2, 4\)"),
    (lambda: ops.tensordot(np.ones((2, 3)), np.ones((4, 2)), 1), r"tensordot.*\(2, 3\).*\(4, 2\)"),
    (lambda: ops.einsum("ij,jk", np.ones((2, 3)), np.ones((4, 2))), r"einsum.*\(2, 3\).*\(4, 2\)"),
    (lambda: ops.clip(np.ones((2, 3)), np.zeros(4), 1.0), r"clip.*\(2, 3\).*\(4,\)"),
    (lambda: ops.binary_crossentropy(np.ones((2, 3)), np.ones((3, 2)) * 0.5),
     r"binary_crossentropy.*\(2, 3\).*\(3, 2\)"),
    (lambda: ops.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4))),
     r"categorical_crossentropy.*\(2, 3\).*\(2, 4\)"),
    (lambda: ops.sparse_categorical_crossentropy(np.ones(3, int), np.ones((2, 4))),
     r"sparse_categorical_crossentropy.*\(2,\).*\(2, 4\)"),
    (lambda: ops.dot_product_attention(np.ones((1, 2, 2, 4)), np.ones((1, 3, 2, 3)),
                                       np.ones((1, 3, 2, 3))),
     r"dot_product_attention.*\(1, 3, 2, 3\).*\(1, 2, 2, 4\)"),
    (lambda: ops.solve(np.eye(3), np.ones((4, 2))), r"solve.*\(3, 3\).*\(4, 2\)"),
    (lambda: ops.cross(np.ones((2, 3)), np.ones((2, 2))), r"cross.*\(2, 3\).*\(2, 2\)"),
    (lambda: ops.segment_sum(np.ones((4, 2)), np.zeros(3, int)), r"segment_sum.*\(4, 2\).*\(3,\)"),
    (lambda: ops.image.ssim(np.ones((8, 8, 1)), np.ones((8, 9, 1))), r"ssim.*\(8, 8, 1\).*\(8, 9, 1\)"),
    (lambda: ops.psnr(np.ones(3), np.ones(4), 1.0), r"psnr.*\(3,\).*\(4,\)"),
])
def test_bad_shapes_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: ops.transpose(np.ones((2, 3)), (0, 0)), "not a permutation"),
    (lambda: ops.squeeze(np.ones((2, 3)), 1), "axis 1 .* size 3"),
    (lambda: ops.sum(np.ones((2, 3)), 2), "axis 2 is out of range"),
    (lambda: ops.split(np.ones(5), 2), "do not divide"),
    (lambda: ops.one_hot([0, 1], 2, sparse=True), "sparse"),
    (lambda: ops.convert_to_tensor([1, [2, 3]]), "ragged"),
    (lambda: ops.cast(np.ones(2), "complex256"), "invalid dtype"),
    (lambda: ops.quantile(np.ones(3), 1.5), r"\[0, 1\]"),
    (lambda: ops.image.resize(np.ones((4, 4, 1)), (2, 2), interpolation="cubic"),
     "interpolation"),
    (lambda: ops.image.resize(np.ones((4, 4)), (2, 2)), "3-D .* 4-D"),
    (lambda: ops.bitwise_and(np.ones(2), np.ones(2)), "integer"),
    (lambda: ops.top_k(np.ones(3), 5), "k=5"),
    (lambda: ops.nn.normalize(np.ones(3), order=0), "order"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_gradients_that_are_not_defined_say_so():
    x = mgp.tensor(S(4, 3).astype(np.float64), requires_grad=True)
    u, s, vh = ops.svd(x)  # full_matrices=True: U is 4 x 4, its last column arbitrary
    with pytest.raises(ValueError, match=r"svd.*full_matrices=False.*\(4, 3\)"):
        ops.sum(u).backward()
    q, r = ops.qr(mgp.tensor(S(2, 3).astype(np.float64), requires_grad=True))
    with pytest.raises(ValueError, match=r"qr.*\(2, 3\)"):
        ops.sum(q).backward()


def test_an_op_on_a_symbolic_tensor_records_a_call_of_the_graph():
    out = ops.add(mgp.Input((3,)), 1.0)  # see tests/test_symbolic_ops.py
    assert out.shape == (None, 3) and out.layer.class_name == "Add"


# ========================================== missing names ============================================

NAMESPACES = ["ops", "ops.nn", "ops.numpy", "ops.linalg", "ops.image", "random", "backend"]


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_keras_name_is_present_or_says_it_is_missing(namespace):
    keras = oracles.keras()
    theirs, mine = _op(keras, namespace), _op(mgp, namespace)
    for name in (n for n in dir(theirs) if not n.startswith("_")):
        try:
            getattr(mine, name)
        except AttributeError as e:
            assert str(e) == f"mgp.{namespace} has no `{name}` yet; Keras 3 has it"


def test_a_missing_name_says_so_and_an_unknown_one_does_not():
    from mgp._absent import absent
    lookup = absent("mgp.ops", "fft3 conv4d")
    with pytest.raises(AttributeError, match=r"mgp.ops has no `fft3` yet; Keras 3 has it"):
        lookup("fft3")
    with pytest.raises(AttributeError, match=r"has no attribute 'no_such_op'"):
        lookup("no_such_op")
    with pytest.raises(AttributeError, match=r"module 'mgp.ops' has no attribute 'no_such_op'"):
        ops.no_such_op  # noqa: B018
    assert not hasattr(ops.nn, "no_such_op")


# ======================================== on the stand-in GPU ========================================

@pytest.fixture
def cuda(monkeypatch):
    """mgp on tests/fake_cupy.py (as strict as CuPy about host and device arrays) for the test."""
    import sys

    import fake_cupy
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setattr(fake_cupy, "visible_gpus", 1)
    mgp.set_device("cuda")
    yield fake_cupy
    mgp.set_device("cpu")


def _device_inputs(args):
    return [mgp.tensor(a, dtype=a.dtype) if isinstance(a, np.ndarray) else
            tuple(mgp.tensor(v, dtype=v.dtype) for v in a) if isinstance(a, tuple) and a and
            all(isinstance(v, np.ndarray) for v in a) else a for a in args]


@pytest.mark.parametrize("row", ROWS + IMG_ROWS, ids=repr)
def test_on_the_stand_in_gpu_as_on_the_cpu(row, cuda):
    """Every op runs on device arrays without a host round trip the stand-in refuses, and gives
    the CPU's values (its arithmetic is NumPy's)."""
    op = _op(ops, row.op)
    mgp.set_device("cpu")
    expected = _leaves(op(*row.args, **row.kwargs))
    mgp.set_device("cuda")
    result = op(*_device_inputs(row.args), **row.kwargs)
    got = [mgp.backend.to_numpy(o.data) if isinstance(o, mgp.Tensor) else np.asarray(o)
           for o in (result if isinstance(result, (tuple, list)) else [result])]
    got = [leaf for g in got for leaf in ([g] if not isinstance(g, (tuple, list)) else g)]
    if row.compare is not None and row.op in ("empty", "empty_like"):
        return
    for e, g in zip(expected, got):
        np.testing.assert_allclose(np.asarray(g, dtype=e.dtype), e, rtol=1e-6, atol=1e-6,
                                   err_msg=row.name)


@pytest.mark.parametrize("row", GRAD_ROWS, ids=repr)
def test_gradients_on_the_stand_in_gpu_as_on_the_cpu(row, cuda):
    """Each backward runs on device arrays too, with the CPU's gradients."""
    positions = _differentiable(row)
    grads = []
    for device in ("cpu", "cuda"):
        mgp.set_device(device)
        args = [mgp.tensor(a, dtype=a.dtype, requires_grad=True) if i in positions else
                tuple(mgp.tensor(v, dtype=v.dtype, requires_grad=True) for v in a)
                if isinstance(a, tuple) and a and all(isinstance(v, np.ndarray) for v in a)
                else mgp.tensor(a, dtype=a.dtype) if isinstance(a, np.ndarray) else a
                for i, a in enumerate(row.args)]
        out = _combined(_op(ops, row.op)(*args, **row.kwargs))
        out.backward(mgp.tensor(np.linspace(-1, 1, out.size).reshape(out.shape),
                                dtype=out.dtype))
        leaves = [t for a in args for t in (a if isinstance(a, tuple) else (a,))
                  if isinstance(t, mgp.Tensor) and t.requires_grad]
        grads.append([np.zeros(t.shape) if t.grad is None else mgp.backend.to_numpy(t.grad)
                      for t in leaves])
    for cpu, gpu in zip(*grads):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-5, atol=1e-6, err_msg=row.name)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_signatures_are_keras_s(namespace):
    """Every function: Keras's parameter names, order, kinds and defaults."""
    import inspect
    keras = oracles.keras()
    theirs, mine = _op(keras, namespace), _op(mgp, namespace)
    for name in (n for n in dir(theirs) if not n.startswith("_")):
        fn = getattr(theirs, name)
        if inspect.ismodule(fn) or not hasattr(mine, name):
            continue
        expected = [(p.name, p.default, p.kind) for p in
                    inspect.signature(fn).parameters.values()]
        got = [(p.name, p.default, p.kind) for p in
               inspect.signature(getattr(mine, name)).parameters.values()]
        assert got == expected, f"{namespace}.{name}"
