"""Neural-network ops, Keras's `keras.ops.nn` family: activations, softmax, losses,
normalization, one-hot encodings, attention, and the engine's fused dense layer, convolution,
pooling and batch normalization.

Each op computes its output and its backward side by side, or is composed of ops that do;
the fused ones have their own backward, for speed or numerical stability (said at each).
Convolution lives in `mgp.ops.convolution` and pooling in `mgp.ops.pooling` (over the
sliding-window geometry of `mgp.ops.windows`); they are Keras's `ops.nn` functions, so they are
reached here too.
"""
import math

import numpy as np

from mgp import backend, config
from mgp._absent import absent as _absent
from mgp.backend import xp
from mgp.dtypes import result_type
from mgp.ops import numpy as knp
from mgp.ops.convolution import (  # noqa: F401
    _apply_row, conv, conv_transpose, depthwise_conv, separable_conv, conv2d, convolve)
from mgp.ops.math import _erf_and_derivative
from mgp.ops.numpy import (
    _as, _axes, _float, _make, _t, absolute, add, amax, as_tensor, cast, clip, divide, einsum,
    get_item, log, maximum, mean, minimum, multiply, negative, pad, reshape, sqrt, square,
    subtract, take_along_axis, tanh, transpose, where,
)
from mgp.ops.pooling import (  # noqa: F401
    average_pool, max_pool, max_pool2d, avg_pool2d, global_avg_pool2d)
from mgp.tensor import Tensor, is_grad_enabled

# ============================================ activations ===========================================


def relu(x):
    """max(x, 0)."""
    x = _t(x)
    mask = x.data > 0
    out = xp.maximum(x.data, x.dtype.type(0))  # not x * mask, which gives -0.0 for negatives
    return _make(out, (x,), lambda g: (g * mask,), "relu")


def relu6(x):
    """min(max(x, 0), 6)."""
    return capped_relu(x, 6)


def capped_relu(x, max_value):
    """min(max(x, 0), max_value): relu6, and `activations.relu(x, max_value=...)` (the
    `ReLU(max_value=6)` of MobileNets), fused: one pass over x at inference, where `where`,
    a multiply and `minimum` made several. The gradient is 1 strictly inside (0, max_value),
    0 elsewhere (at both kinks too), as torch's and Keras's relu6."""
    x = _t(x)
    top = x.dtype.type(max_value)
    out = xp.clip(x.data, x.dtype.type(0), top)

    def backward(g):
        # the mask is made here, not in the forward, so inference never pays for it
        return (g * ((x.data > 0) & (x.data < top)),)
    return _make(out, (x,), backward, "capped_relu")


def sigmoid(x):
    """1 / (1 + exp(-x)), in the tanh form that cannot overflow."""
    x = _float(x)
    out = 0.5 * (xp.tanh(0.5 * x.data) + 1)
    result = _make(out, (x,), lambda g: (g * out * (1 - out),), "sigmoid")
    result._logits = x  # lets binary cross-entropy work from the logits, as Keras does
    return result


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), finite for any x."""
    return negative(softplus(negative(_float(x))))


def softplus(x):
    """log(1 + exp(x)) without overflow."""
    x = _float(x)
    out = xp.logaddexp(x.data.dtype.type(0), x.data)
    return _make(out, (x,), lambda g: (g * 0.5 * (xp.tanh(0.5 * x.data) + 1),), "softplus")


def softsign(x):
    """x / (1 + |x|)."""
    x = _float(x)
    d = 1 + xp.abs(x.data)
    return _make(x.data / d, (x,), lambda g: (g / (d * d),), "softsign")


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    x = _float(x)
    s = 0.5 * (xp.tanh(0.5 * x.data) + 1)
    return _make(x.data * s, (x,), lambda g: (g * s * (1 + x.data * (1 - s)),), "silu")


swish = silu


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope * x otherwise (Keras's default slope 0.2)."""
    x = _float(x)
    slope = xp.where(x.data > 0, x.dtype.type(1), x.dtype.type(negative_slope))
    return _make(x.data * slope, (x,), lambda g: (g * slope,), "leaky_relu")


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    x = _float(x)
    alpha = x.dtype.type(alpha)  # a NumPy float64 alpha would upcast float32
    neg_part = alpha * xp.expm1(xp.minimum(x.data, 0))
    out = xp.where(x.data > 0, x.data, neg_part)
    return _make(out, (x,), lambda g: (g * xp.where(x.data > 0, 1, neg_part + alpha),), "elu")


def selu(x):
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (2017)."""
    return multiply(elu(x, 1.6732632423543772), 1.0507009873554805)


def celu(x, alpha=1.0):
    """max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))."""
    x = _float(x)
    alpha = x.dtype.type(alpha)
    neg_part = alpha * xp.expm1(xp.minimum(x.data, 0) / alpha)
    out = xp.where(x.data > 0, x.data, neg_part)
    return _make(out, (x,), lambda g: (g * xp.where(x.data > 0, 1, neg_part / alpha + 1),),
                 "celu")


def gelu(x, approximate=True):
    """x * Phi(x), Phi the standard normal CDF; with `approximate` (Keras's default for the
    op), the tanh form."""
    x = _float(x)
    d = x.data
    if approximate:
        c = d.dtype.type(math.sqrt(2 / math.pi))
        th = xp.tanh(c * (d + 0.044715 * d ** 3))
        out = 0.5 * d * (1 + th)

        def backward(g):
            dinner = c * (1 + 3 * 0.044715 * d * d)
            return (g * (0.5 * (1 + th) + 0.5 * d * (1 - th * th) * dinner),)
    else:
        erf, derf = _erf_and_derivative(d * d.dtype.type(1 / math.sqrt(2)))
        out = 0.5 * d * (1 + erf)

        def backward(g):
            return (g * (0.5 * (1 + erf) + 0.5 * d * derf * (1 / math.sqrt(2))),)
    return _make(out.astype(d.dtype, copy=False), (x,), backward, "gelu")


def glu(x, axis=-1):
    """The gated linear unit: a * sigmoid(b), a and b the two halves of x along `axis`."""
    x = _t(x)
    axis = axis % x.ndim
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: axis {axis} of shape {x.shape} must have an even size")
    head = (slice(None),) * axis
    return multiply(get_item(x, head + (slice(0, n // 2),)),
                    sigmoid(get_item(x, head + (slice(n // 2, None),))))


def hard_sigmoid(x):
    """clip(x / 6 + 1 / 2, 0, 1)."""
    x = _float(x)
    inside = (x.data > -3) & (x.data < 3)
    out = xp.clip(x.data / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)
    return _make(out, (x,), lambda g: (g * inside / 6,), "hard_sigmoid")


def hard_silu(x):
    """x * hard_sigmoid(x) (also called hard_swish)."""
    x = _float(x)
    return multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def hard_tanh(x):
    """clip(x, -1, 1)."""
    return clip(_float(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    x = _float(x)
    keep = xp.abs(x.data) > threshold
    return _make(xp.where(keep, x.data, 0).astype(x.dtype), (x,), lambda g: (g * keep,),
                 "hard_shrink")


def soft_shrink(x, threshold=0.5):
    """x - threshold above it, x + threshold below -threshold, 0 between."""
    x = _float(x)
    keep = xp.abs(x.data) > threshold
    out = xp.where(keep, x.data - xp.sign(x.data) * x.dtype.type(threshold), 0).astype(x.dtype)
    return _make(out, (x,), lambda g: (g * keep,), "soft_shrink")


def tanh_shrink(x):
    """x - tanh(x)."""
    x = _float(x)
    return subtract(x, tanh(x))


def threshold(x, threshold, default_value):
    """x where x > threshold, else `default_value`."""
    x = _t(x)
    return where(x.data > threshold, x, default_value)


def sparse_plus(x):
    """0 for x <= -1, (x + 1)**2 / 4 for |x| < 1, x for x >= 1."""
    x = _float(x)
    d = x.data
    out = xp.where(d <= -1, 0, xp.where(d < 1, 0.25 * (d + 1) ** 2, d)).astype(x.dtype)
    return _make(out, (x,), lambda g: (g * xp.where(d <= -1, 0, xp.where(d < 1, 0.5 * (d + 1),
                                                                         1)),), "sparse_plus")


def sparse_sigmoid(x):
    """0 for x <= -1, (x + 1) / 2 between, 1 for x >= 1."""
    x = _float(x)
    inside = (x.data > -1) & (x.data < 1)
    out = xp.clip(0.5 * (x.data + 1), 0, 1).astype(x.dtype)
    return _make(out, (x,), lambda g: (g * inside * 0.5,), "sparse_sigmoid")


def squareplus(x, b=4):
    """(x + sqrt(x**2 + b)) / 2, a smooth relu."""
    x = _float(x)
    return multiply(add(x, sqrt(add(square(x), b))), 0.5)


def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the probability simplex along `axis` (Martins &
    Astudillo 2016): like softmax, but exactly 0 for small logits."""
    x = _float(x)
    axis = axis % x.ndim
    d = xp.moveaxis(x.data, axis, -1)
    z = -xp.sort(-d, axis=-1)
    k = xp.arange(1, z.shape[-1] + 1, dtype=d.dtype)
    cum = xp.cumsum(z, -1)
    support = (1 + k * z) > cum
    count = support.sum(-1, keepdims=True)
    tau = (xp.take_along_axis(cum, count - 1, -1) - 1) / count.astype(d.dtype)
    out = xp.moveaxis(xp.maximum(d - tau, 0), -1, axis)

    def backward(g):
        # on the support, the Jacobian is I - 1 1^T / |support|
        on = out > 0
        mean_g = (g * on).sum(axis, keepdims=True) / on.sum(axis, keepdims=True)
        return (on * (g - mean_g),)
    return _make(out, (x,), backward, "sparsemax")


def polar(abs_, angle):
    """The complex tensor abs_ * exp(i angle) (no gradient)."""
    a, t = _float(abs_), _float(angle)
    return Tensor(a.data * xp.cos(t.data) + 1j * a.data * xp.sin(t.data))


# ============================================ dense layer ===========================================

def linear(x, kernel, bias=None, activation=None):
    """`x @ kernel + bias`, then relu when `activation == 'relu'`, as one op (the engine's
    Dense, as `conv2d` is the convolution's): the bias and relu are applied in place on the
    product's own output, and relu's mask is kept only when a backward will read it. The same
    float32 operations, in the same order, as matmul, add and relu one after the other, so
    the same results; two graph nodes and two passes over the output fewer.

    Args:
        x: (batch, features) floats. kernel: (features, units). bias: (units,) or None.
        activation: None or 'relu'.
    Returns:
        (batch, units).
    """
    if activation not in (None, "relu"):
        raise ValueError(f"linear: activation must be None or 'relu', got {activation!r}")
    x = as_tensor(x)
    kernel = as_tensor(kernel, like=x)
    bias = None if bias is None else as_tensor(bias, like=x)
    if x.ndim != 2 or kernel.ndim != 2 or x.shape[1] != kernel.shape[0]:
        raise ValueError(f"linear: needs x (batch, features) and kernel (features, units), got "
                         f"shapes {x.shape} and {kernel.shape}")
    if bias is not None and bias.shape != kernel.shape[1:]:
        raise ValueError(f"linear: bias must have shape ({kernel.shape[1]},) for kernel "
                         f"{kernel.shape}, got {bias.shape}")
    if x.dtype != kernel.dtype or (bias is not None and bias.dtype != x.dtype):
        raise TypeError(f"linear: x, kernel and bias must share one dtype, got {x.dtype}, "
                        f"{kernel.dtype}" + ("" if bias is None else f" and {bias.dtype}"))
    parents = (x, kernel) if bias is None else (x, kernel, bias)
    out = x.data @ kernel.data
    if bias is not None:
        out += bias.data
    positive = None
    if activation == "relu":
        taped = is_grad_enabled() and any(p.requires_grad for p in parents)
        positive = out > 0 if taped else None  # relu's mask: the input was > 0 where out is
        xp.maximum(out, out.dtype.type(0), out=out)

    def backward(g):
        if positive is not None:
            g = g * positive
        gx = g @ kernel.data.T if x.requires_grad else None
        gk = x.data.T @ g if kernel.requires_grad else None
        if bias is None:
            return gx, gk
        return gx, gk, (g.sum(axis=0) if bias.requires_grad else None)
    return _make(out, parents, backward, "linear")

# ============================================== softmax =============================================


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis` (all axes for None), shifted by the max so large
    logits cannot overflow."""
    x = _float(x)
    if axis is None:
        return reshape(softmax(reshape(x, (-1,))), x.shape)
    e = xp.exp(x.data - x.data.max(axis=axis, keepdims=True))
    s = e / e.sum(axis=axis, keepdims=True)
    out = Tensor._make(s, (x,), lambda g: (s * (g - (g * s).sum(axis=axis, keepdims=True)),),
                       "softmax")
    out._logits = x  # lets cross-entropy work from the logits, as Keras does
    return out


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along `axis` (all axes for None): finite for logits of any magnitude
    (own backward)."""
    x = _float(x)
    if axis is None:
        return reshape(log_softmax(reshape(x, (-1,))), x.shape)
    shifted = x.data - x.data.max(axis=axis, keepdims=True)
    out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    return Tensor._make(out, (x,),
                        lambda g: (g - xp.exp(out) * g.sum(axis=axis, keepdims=True),),
                        "log_softmax")


# =============================================== losses =============================================

def cross_entropy(logits, target):
    """Per-sample cross-entropy from logits over the last axis (fused, stable backward).

    Args:
        logits: float tensor (..., classes).
        target: integer class indices (...), or probabilities / one-hot (..., classes).

    Returns:
        Tensor (...) of per-sample losses; take `.mean()` for the usual batch loss.
    """
    logits = as_tensor(logits)
    target = as_tensor(target)
    x = logits.data
    shifted = x - x.max(axis=-1, keepdims=True)
    logp = shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
    if target.dtype.kind in "iub":
        labels = target.data
        classes = x.shape[-1]
        if labels.shape != x.shape[:-1]:
            raise ValueError(f"cross_entropy: integer labels must have shape {x.shape[:-1]} for "
                             f"logits {x.shape}, got {labels.shape}")
        # one test, one wait for a GPU; a GPU would wrap an out-of-range label around silently
        if labels.size and bool(((labels < 0) | (labels >= classes)).any()):
            raise ValueError(f"cross_entropy: labels must lie in [0, {classes}) for {classes} "
                             f"classes, got values from {labels.min()} to {labels.max()}")
        # each sample's row of log-probabilities and its label's column (plain fancy indexing:
        # take_along_axis cost 25 us a call on a (128, 10) batch, this 4 us)
        rows, cols = xp.arange(labels.size), labels.reshape(-1).astype(np.intp)
        out = -logp.reshape(-1, classes)[rows, cols].reshape(labels.shape)

        def backward(g):
            p = xp.exp(logp)
            p.reshape(-1, classes)[rows, cols] -= 1
            return g[..., None] * p, None
        return Tensor._make(out, (logits, target), backward, "cross_entropy")

    if target.shape != x.shape:
        hint = (" (integer class labels need an integer dtype)"
                if target.shape == x.shape[:-1] else "")
        raise ValueError(f"cross_entropy: probability targets must have the logits' shape "
                         f"{x.shape}, got {target.shape}{hint}")
    t = target.data.astype(x.dtype, copy=False)
    out = -(t * logp).sum(axis=-1)

    def backward(g):
        g = g[..., None]
        gx = g * (xp.exp(logp) * t.sum(axis=-1, keepdims=True) - t)
        return gx, -g * logp
    return Tensor._make(out, (logits, target), backward, "cross_entropy")


def binary_cross_entropy_with_logits(logits, target):
    """Elementwise -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], stable for any x."""
    logits, target = as_tensor(logits), as_tensor(target, like=as_tensor(logits))
    x, t = logits.data, target.data
    try:
        out = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
    except ValueError:
        raise ValueError(f"binary_cross_entropy_with_logits: cannot broadcast logits {x.shape} "
                         f"and targets {t.shape}") from None

    def backward(g):
        return g * (0.5 * (xp.tanh(0.5 * x) + 1) - t), -g * x
    return Tensor._make(out, (logits, target), backward, "binary_cross_entropy")


# ====================================== losses, as Keras has them ===================================

def _same_shape(op, target, output):
    if target.shape != output.shape:
        raise ValueError(f"{op}: target and output must have the same shape, got target "
                         f"{target.shape} and output {output.shape}")


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise -[t log p + (1 - t) log(1 - p)]; p clipped to [epsilon, 1 - epsilon], or
    computed stably from the logits with `from_logits`."""
    target, output = _t(target), _float(output)
    _same_shape("binary_crossentropy", target, output)
    target = _as(target, output.dtype)
    if from_logits:
        return binary_cross_entropy_with_logits(output, target)
    eps = config.epsilon()
    p = clip(output, eps, 1 - eps)
    return negative(add(multiply(target, log(p)),
                        multiply(subtract(1, target), log(subtract(1, p)))))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-knp.sum(t * log p) over `axis`, p the output normalized to sum to 1 and clipped to
    [epsilon, 1 - epsilon], or log_softmax of the logits with `from_logits`."""
    target, output = _t(target), _float(output)
    _same_shape("categorical_crossentropy", target, output)
    if target.ndim < 1:
        raise ValueError("categorical_crossentropy: target and output must be at least 1-D")
    if from_logits:
        log_p = log_softmax(output, axis)
    else:
        eps = config.epsilon()
        log_p = log(clip(divide(output, knp.sum(output, axis, keepdims=True)), eps, 1 - eps))
    return negative(knp.sum(multiply(target, log_p), axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """categorical_crossentropy with integer class targets (output's shape without `axis`;
    a trailing axis of size 1 is dropped)."""
    output = _float(output)
    if output.ndim < 1:
        raise ValueError("sparse_categorical_crossentropy: output must be at least 1-D")
    target = _t(target)
    axis = axis % output.ndim
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = reshape(target, target.shape[:axis] + target.shape[axis + 1:])
    expected = output.shape[:axis] + output.shape[axis + 1:]
    if target.shape != expected:
        raise ValueError(f"sparse_categorical_crossentropy: target must have shape {expected} "
                         f"for output {output.shape}, got {target.shape}")
    labels = target.data.astype(np.int64)
    moved = transpose(output, [i for i in range(output.ndim) if i != axis] + [axis])
    if from_logits:
        return cross_entropy(moved, labels)
    eps = config.epsilon()
    log_p = log(clip(divide(moved, knp.sum(moved, -1, keepdims=True)), eps, 1 - eps))
    return negative(reshape(take_along_axis(log_p, labels[..., None], -1), labels.shape))


def psnr(x1, x2, max_val):
    """The peak signal-to-noise ratio, 20 log10(max_val) - 10 log10(mean squared error)."""
    x1, x2 = _float(x1), _float(x2)
    if x1.shape != x2.shape:
        raise ValueError(f"psnr: x1 {x1.shape} and x2 {x2.shape} must have the same shape")
    mse = mean(square(subtract(x1, x2)))
    return subtract(20 * math.log10(float(max_val)), multiply(10 / math.log(10), log(mse)))


# ========================================= normalization ============================================

def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) of x over `axes`; float16 input is reduced in float32, as Keras."""
    if synchronized:
        raise ValueError("moments: synchronized=True needs several devices; mgp runs on one")
    x = _float(x)
    dtype = x.dtype
    if dtype == np.float16:
        x = cast(x, "float32")
    mu = mean(x, axes, keepdims=True)
    var = subtract(mean(square(x), axes, keepdims=True), square(mu))  # Keras's E[x^2] - E[x]^2
    if not keepdims:
        axes_ = _axes(axes, x.ndim)
        shape = [n for i, n in enumerate(x.shape) if i not in axes_]
        mu, var = reshape(mu, shape), reshape(var, shape)
    if dtype == np.float16:
        big = float(np.finfo(np.float16).max)
        mu, var = cast(clip(mu, -big, big), dtype), cast(clip(var, -big, big), dtype)
    return mu, var


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, the statistics (1-D, of
    x.shape[axis]) given."""
    x = _float(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    stat = [reshape(_t(v), shape) for v in (mean, variance)]
    inv = divide(1.0, sqrt(add(stat[1], epsilon)))
    if scale is not None:
        inv = multiply(inv, reshape(_t(scale), shape))
    out = multiply(subtract(x, stat[0]), inv)
    return out if offset is None else add(out, reshape(_t(offset), shape))


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """x normalized over `axis` (an int or a tuple) by its own mean and variance, then scaled
    by gamma and shifted by beta; computed in float32 at least (fused, own backward: one pass
    each way instead of the graph of mean, var, sqrt and divide).

    Args:
        x: float tensor. gamma, beta: optional tensors broadcast over the normalized axes (of
            their sizes, in order). axis: int or tuple of ints. epsilon: added to the variance
            (Keras's `backend.epsilon()` when None).
        rms_scaling: Keras's deprecated option: x divided by sqrt(variance + epsilon), scaled by
            gamma, no mean subtracted from the output and no beta.
    """
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization: unexpected arguments {sorted(kwargs)}")
    x = _float(x)
    dtype = x.dtype
    x = _as(x, result_type(dtype, "float32"))
    eps = config.epsilon() if epsilon is None else epsilon
    axes = _axes(axis, x.ndim)
    bshape = [n if i in axes else 1 for i, n in enumerate(x.shape)]
    gamma = None if gamma is None else _as(_t(gamma), x.dtype)
    beta = None if beta is None or rms_scaling else _as(_t(beta), x.dtype)
    n = math.prod(x.shape[i] for i in axes)
    centered = x.data - x.data.mean(axis=axes, keepdims=True)
    inv_std = 1 / xp.sqrt((centered * centered).mean(axis=axes, keepdims=True)
                          + x.dtype.type(eps))
    xhat = (x.data if rms_scaling else centered) * inv_std
    g_b = None if gamma is None else gamma.data.reshape(bshape)
    out = xhat * g_b if g_b is not None else xhat
    if beta is not None:
        out = out + beta.data.reshape(bshape)

    def backward(g):
        gx = None
        gh = g * g_b if g_b is not None else g
        if x.requires_grad:
            if rms_scaling:  # d(x * inv_std): inv_std depends on x through the variance
                gx = inv_std * gh - (inv_std ** 3 / n) * centered * (gh * x.data).sum(
                    axis=axes, keepdims=True)
            else:  # the mean and variance depend on x: subtract their share
                gx = inv_std * (gh - gh.mean(axis=axes, keepdims=True)
                                - xhat * (gh * xhat).mean(axis=axes, keepdims=True))
        grads = [gx]
        if gamma is not None:
            grads.append(_sum_to_axes(g * xhat, axes, gamma.shape)
                         if gamma.requires_grad else None)
        if beta is not None:
            grads.append(_sum_to_axes(g, axes, beta.shape) if beta.requires_grad else None)
        return tuple(grads)

    parents = (x,) + tuple(p for p in (gamma, beta) if p is not None)
    return cast(Tensor._make(out, parents, backward, "layer_normalization"), dtype)


def _sum_to_axes(g, axes, shape):
    """g summed over every axis but `axes`, reshaped to a weight's `shape`."""
    others = tuple(i for i in range(g.ndim) if i not in axes)
    return g.sum(axis=others).reshape(shape)


def _var(x, axes):
    centered = subtract(x, mean(x, axes, keepdims=True))
    return mean(square(centered), axes, keepdims=True)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """x / sqrt(mean(x**2 over axis) + epsilon) * scale."""
    x = _float(x)
    dtype = x.dtype
    x = _as(x, result_type(dtype, "float32"))
    eps = config.epsilon() if epsilon is None else epsilon
    axes = _axes(axis, x.ndim)
    out = divide(x, sqrt(add(mean(square(x), axes, keepdims=True), eps)))
    if scale is not None:
        bshape = [n if i in axes else 1 for i, n in enumerate(x.shape)]
        out = multiply(out, reshape(_as(scale, x.dtype), bshape))
    return cast(out, dtype)


def normalize(x, axis=-1, order=2, epsilon=None):
    """x divided by its `order`-norm over `axis` (at least epsilon)."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: order must be an int >= 1, got {order!r}")
    x = _float(x)
    if x.ndim == 0:
        x = reshape(x, (1,))
    eps = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        inv = minimum(divide(1.0, sqrt(knp.sum(square(x), axis, keepdims=True))), 1 / eps)
        return multiply(x, inv)
    norm = knp.sum(absolute(x) ** order, axis, keepdims=True) ** (1 / order)
    return divide(x, maximum(norm, eps))


# ============================================= encodings ============================================

def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer classes as one-hot vectors along a new `axis` (negative classes give zeros);
    dtype `floatx()` unless given."""
    if sparse:
        raise ValueError("one_hot: mgp has no sparse tensors")
    labels = _t(x).data.astype(np.int64)
    eye = xp.eye(num_classes, dtype=np.dtype(dtype or config.floatx()))
    out = xp.where((labels >= 0)[..., None], eye[xp.clip(labels, 0, num_classes - 1)], 0)
    out = out.astype(eye.dtype, copy=False) * (labels < num_classes)[..., None]
    if axis != -1 and axis != out.ndim - 1:
        out = xp.moveaxis(out, -1, axis)
    return Tensor(out, dtype=eye.dtype)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Several classes per sample as one vector with ones at each (the last axis of 2-D inputs
    holds a sample's classes)."""
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}")
    if num_classes is None:
        raise ValueError("multi_hot: num_classes is required")
    x = _t(inputs)
    hot = one_hot(x, num_classes, axis, dtype, sparse)
    return Tensor(hot.data.max(axis=1 if x.ndim > 1 else 0), dtype=hot.dtype)


def embedding(table, indices):
    """Rows of `table` (V, D) at integer `indices` (any shape): indices.shape + (D,) (engine op,
    own backward: the gradient rows are summed per distinct index, repeated indices
    accumulating, instead of a dense one-hot product).
    Indices are checked by the caller (the Embedding layer names itself in the error)."""
    idx = xp.asarray(indices).reshape(-1).astype(np.intp, copy=False)
    out = table.data[idx].reshape(tuple(np.shape(indices)) + table.shape[1:])

    def backward(g):
        g = g.reshape(idx.size, -1)
        grad = xp.zeros(table.shape, dtype=g.dtype)
        if idx.size:
            # after one stable sort, an index met once (most of a batch's tokens) is a plain
            # row copy, and only the repeated ones go through `add.reduceat`, whose cost is
            # per segment: 6,400 ids of 20,000 (a batch of 32 x 200), 8.0 -> 3.2 ms (one thread)
            order = xp.argsort(idx, kind="stable")
            sorted_idx = idx[order]
            starts = xp.flatnonzero(xp.concatenate(
                (xp.ones(1, dtype=bool), sorted_idx[1:] != sorted_idx[:-1])))
            counts = xp.diff(xp.append(starts, idx.size))
            once = counts == 1
            rows = grad.reshape(len(grad), -1)
            rows[sorted_idx[starts[once]]] = g[order[starts[once]]]
            if not once.all():
                repeated = order[xp.repeat(~once, counts)]  # their rows, still sorted by index
                seg = counts[~once]
                seg_starts = xp.cumsum(seg) - seg
                rows[sorted_idx[starts[~once]]] = xp.add.reduceat(g[repeated], seg_starts, axis=0)
        return (grad,)
    return Tensor._make(out, (table,), backward, "embedding")


# ============================================= attention ============================================

def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """softmax(q k^T * scale + bias) v per head, for (batch, length, heads, head_dim) inputs.

    Args:
        query: (B, T, N, H). key, value: (B, S, K, H), K dividing N (grouped-query attention:
            each key head serves N / K query heads).
        bias: added to the (B, N, T, S) logits. mask: boolean, broadcast to (B, N, T, S): True
            where a query may attend (give bias or mask, not both).
        scale: the logits' factor, 1 / sqrt(H) by default.
        is_causal: each query attends only to keys at or before its own position.
        flash_attention: accepted for Keras's signature; the result is the same either way.
        attn_logits_soft_cap: when given, logits become cap * tanh(logits / cap).
    Returns:
        (B, T, N, H).
    """
    q, k, v = _float(query), _float(key), _float(value)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(f"dot_product_attention: needs 4-D inputs, got query {q.shape}, key "
                         f"{k.shape}, value {v.shape}")
    if bias is not None and mask is not None:
        raise ValueError("dot_product_attention: give bias or mask, not both")
    dtype = result_type(q.dtype, k.dtype, v.dtype)
    q, k, v = _as(q, dtype), _as(k, dtype), _as(v, dtype)
    b, t, n, h = q.shape
    heads, s = k.shape[2], k.shape[1]
    if n % heads or k.shape != v.shape[:3] + (k.shape[3],) or k.shape[3] != h:
        raise ValueError(f"dot_product_attention: key {k.shape} and value {v.shape} do not fit "
                         f"query {q.shape} (key heads must divide the query heads)")
    groups = n // heads
    scale = 1 / math.sqrt(h) if scale is None else float(scale)
    allowed = None
    if mask is not None:
        allowed = xp.broadcast_to(_t(mask).data.astype(bool), (b, n, t, s))
    if is_causal:
        causal = xp.tril(xp.ones((t, s), dtype=bool))
        allowed = causal if allowed is None else allowed & causal
    bias = None if bias is None else _as(_t(bias), dtype)
    return _attention(q, k, v, bias, allowed, scale, attn_logits_soft_cap, groups)


def _attention(q, k, v, bias, allowed, scale, cap, groups):
    """The fused core of dot_product_attention (own backward: batched GEMMs on a (B, K, G*T, H)
    layout, where each key head meets the G query heads it serves in one product, and the
    softmax's backward in place of the graph of einsums, where and softmax). Both directions
    run piece by piece over the batch (backend.over_batch): a piece's scores stay in the cache
    from one product to the next, and each thread's products run on one BLAS thread, rather
    than every small per-head GEMM being split across threads."""
    b, t, n, h = q.shape
    s, heads = k.shape[1], k.shape[2]
    hv, gt = v.shape[3], groups * t
    dtype = q.dtype
    # (B, T, N, H) -> (B, K, G*T, H): query head i uses key head i // G, as Keras repeats them;
    # contiguous copies, as NumPy's batched matmul is several times slower on strided stacks
    qh = xp.ascontiguousarray(q.data.transpose(0, 2, 1, 3)).reshape(b, heads, gt, h)
    kh = xp.ascontiguousarray(k.data.transpose(0, 2, 1, 3))  # (B, K, S, H)
    vh = xp.ascontiguousarray(v.data.transpose(0, 2, 1, 3))
    bias_b = None if bias is None else xp.broadcast_to(bias.data, (b, n, t, s)).reshape(
        b, heads, gt, s)
    keep = None if allowed is None else xp.broadcast_to(allowed, (b, n, t, s)).reshape(
        b, heads, gt, s)
    # a large negative, not -inf, so a fully masked row stays finite (uniform, as torch's)
    low = dtype.type(-0.7 * (65500.0 if dtype == np.float16 else 3.38953e38))
    w = xp.empty((b, heads, gt, s), dtype=dtype)       # the attention weights, kept
    capped = None if cap is None else xp.empty_like(w)  # tanh(logits / cap), kept
    oh = xp.empty((b, heads, gt, hv), dtype=dtype)
    size = 4 * w.size + qh.size + kh.size + vh.size + oh.size

    def forward_rows(r):
        lg = w[r]
        xp.matmul(qh[r], kh[r].transpose(0, 1, 3, 2), out=lg)
        lg *= dtype.type(scale)
        if capped is not None:
            xp.tanh(lg / dtype.type(cap), out=capped[r])
            xp.multiply(capped[r], dtype.type(cap), out=lg)
        if bias_b is not None:
            lg += bias_b[r]
        if keep is not None:
            xp.copyto(lg, low, where=~keep[r])
        lg -= lg.max(axis=-1, keepdims=True)
        xp.exp(lg, out=lg)
        lg /= lg.sum(axis=-1, keepdims=True)
        xp.matmul(lg, vh[r], out=oh[r])
    backend.over_batch(forward_rows, b, size, calls_blas=True)

    def backward(g):
        gh = xp.ascontiguousarray(g.transpose(0, 2, 1, 3)).reshape(b, heads, gt, hv)
        gq = xp.empty_like(qh) if q.requires_grad else None
        gk = xp.empty_like(kh) if k.requires_grad else None
        gv = xp.empty_like(vh) if v.requires_grad else None
        gbias = xp.empty_like(w) if bias is not None and bias.requires_grad else None

        def backward_rows(r):
            wr = w[r]
            if gv is not None:
                xp.matmul(wr.transpose(0, 1, 3, 2), gh[r], out=gv[r])
            gl = gh[r] @ vh[r].transpose(0, 1, 3, 2)  # the weights' gradient, then the logits'
            gl -= (gl * wr).sum(axis=-1, keepdims=True)
            gl *= wr  # softmax's backward
            if keep is not None:  # a masked logit was replaced: no gradient (a fully masked
                gl *= keep[r]  # row's output is a constant, the mean of the values)
            if gbias is not None:
                gbias[r] = gl
            if capped is not None:
                gl *= 1 - capped[r] * capped[r]
            gl *= dtype.type(scale)
            if gq is not None:
                xp.matmul(gl, kh[r], out=gq[r])
            if gk is not None:
                xp.matmul(gl.transpose(0, 1, 3, 2), qh[r], out=gk[r])
        backend.over_batch(backward_rows, b, size, calls_blas=True)

        out = (None if gq is None else gq.reshape(b, n, t, h).transpose(0, 2, 1, 3),
               None if gk is None else gk.transpose(0, 2, 1, 3),
               None if gv is None else gv.transpose(0, 2, 1, 3))
        return out + ((None if gbias is None else gbias.reshape(b, n, t, s),)
                      if bias is not None else ())

    parents = (q, k, v) + ((bias,) if bias is not None else ())
    out = xp.ascontiguousarray(oh.reshape(b, n, t, hv).transpose(0, 2, 1, 3))
    return Tensor._make(out, parents, backward, "dot_product_attention")


# ============================================ rearranging ===========================================

def depth_to_space(x, block_size, data_format="channels_last"):
    """Channels moved into blocks of block_size x block_size pixels."""
    x = _t(x)
    r = block_size
    if data_format == "channels_last":
        n, hh, ww, c = x.shape
        y = transpose(reshape(x, (n, hh, ww, r, r, c // (r * r))), (0, 1, 3, 2, 4, 5))
        return reshape(y, (n, hh * r, ww * r, c // (r * r)))
    n, c, hh, ww = x.shape
    y = transpose(reshape(x, (n, c // (r * r), r, r, hh, ww)), (0, 1, 4, 2, 5, 3))
    return reshape(y, (n, c // (r * r), hh * r, ww * r))


def space_to_depth(x, block_size, data_format="channels_last"):
    """Blocks of block_size x block_size pixels moved into channels."""
    x = _t(x)
    r = block_size
    if data_format == "channels_last":
        n, hh, ww, c = x.shape
        y = transpose(reshape(x, (n, hh // r, r, ww // r, r, c)), (0, 1, 3, 2, 4, 5))
        return reshape(y, (n, hh // r, ww // r, c * r * r))
    n, c, hh, ww = x.shape
    y = transpose(reshape(x, (n, c, hh // r, r, ww // r, r)), (0, 1, 3, 5, 2, 4))
    return reshape(y, (n, c * r * r, hh // r, ww // r))


def _pairs(value, name):
    value = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value}")
    return tuple(int(v) for v in value)


def _patch_index(size, kernel, dilation, padding, stride):
    """For each (kernel offset, output position) along one axis, the padded input position."""
    out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(f"unfold: a kernel of {kernel} (dilation {dilation}) does not fit an "
                         f"axis of {size} with padding {padding}")
    return np.arange(kernel)[:, None] * dilation + np.arange(out)[None, :] * stride, out


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding patches of an (N, C, H, W) x as columns: (N, C * kh * kw, L), L the patches
    (PyTorch's unfold, im2col)."""
    x = _t(x)
    if x.ndim != 4:
        raise ValueError(f"unfold: x must be (N, C, H, W), got shape {x.shape}")
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (_pairs(v, name) for v, name in (
        (kernel_size, "kernel_size"), (dilation, "dilation"), (padding, "padding"),
        (stride, "stride")))
    rows, oh = _patch_index(x.shape[2], kh, dh, ph, sh)
    cols, ow = _patch_index(x.shape[3], kw, dw, pw, sw)
    padded = pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    patches = get_item(padded, (slice(None), slice(None), xp.asarray(rows[:, None, :, None]),
                                xp.asarray(cols[None, :, None, :])))  # (N, C, kh, kw, oh, ow)
    n, c = x.shape[:2]
    return reshape(patches, (n, c * kh * kw, oh * ow))


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of `unfold`: columns (N, C * kh * kw, L) summed back into an (N, C, H, W)
    image, overlapping patches adding up (PyTorch's fold, col2im)."""
    x = _t(x)
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (_pairs(v, name) for v, name in (
        (output_size, "output_size"), (kernel_size, "kernel_size"), (dilation, "dilation"),
        (padding, "padding"), (stride, "stride")))
    rows, oh = _patch_index(h, kh, dh, ph, sh)
    cols, ow = _patch_index(w, kw, dw, pw, sw)
    n, ckk, length = x.shape
    if ckk % (kh * kw) or length != oh * ow:
        raise ValueError(f"fold: x of shape {x.shape} does not hold (C * {kh * kw}) rows of "
                         f"{oh * ow} patches for output {(h, w)}")
    c = ckk // (kh * kw)
    key = (slice(None), slice(None), xp.asarray(rows[:, None, :, None]),
           xp.asarray(cols[None, :, None, :]))
    padded = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    xp.add.at(padded, key, x.data.reshape(n, c, kh, kw, oh, ow))
    out = padded[:, :, ph:ph + h, pw:pw + w]

    def backward(g):
        gp = xp.zeros(padded.shape, dtype=g.dtype)
        gp[:, :, ph:ph + h, pw:pw + w] = g
        return (gp[key].reshape(x.shape),)
    return _make(out, (x,), backward, "fold")


# ========================================= adaptive pooling =========================================

def _adaptive_bins(size, out):
    """PyTorch's adaptive bins along one axis: bin i covers [floor(i n / o), ceil((i + 1) n / o))."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(out) + 1) * size) // out)
    return starts, ends


def _adaptive_pool(name, inputs, output_size, data_format, reduce_max):
    x = _float(inputs)
    spatial = x.ndim - 2
    if spatial not in (1, 2, 3):
        raise ValueError(f"{name}: inputs must be 3-D, 4-D or 5-D, got shape {x.shape}")
    data_format = data_format or config.image_data_format()
    sizes = (output_size,) * spatial if isinstance(output_size, (int, np.integer)) \
        else tuple(output_size)
    if len(sizes) != spatial:
        raise ValueError(f"{name}: output_size {output_size} does not fit {spatial} spatial "
                         f"axes")
    first = 1 if data_format == "channels_last" else 2
    for i, out in enumerate(sizes):  # pooling is separable: one spatial axis at a time
        axis = first + i
        starts, ends = _adaptive_bins(x.shape[axis], int(out))
        if reduce_max:
            width = int((ends - starts).max())
            # each bin's positions, its last one repeated to the widest bin's width
            index = np.minimum(starts[:, None] + np.arange(width), ends[:, None] - 1)
            head = (slice(None),) * axis
            x = amax(get_item(x, head + (xp.asarray(index),)), axis + 1)
        else:
            weights = np.zeros((int(out), x.shape[axis]), dtype=x.dtype)
            for j, (a, b) in enumerate(zip(starts, ends)):
                weights[j, a:b] = 1 / (b - a)
            moved = transpose(x, [a for a in range(x.ndim) if a != axis] + [axis])
            pooled = einsum("...i,oi->...o", moved, Tensor(xp.asarray(weights)))
            order = list(range(x.ndim - 1))
            order.insert(axis, x.ndim - 1)
            x = transpose(pooled, order)
    return x


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed `output_size`, bins as PyTorch's adaptive pooling."""
    return _adaptive_pool("adaptive_average_pool", inputs, output_size, data_format, False)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed `output_size`, bins as PyTorch's adaptive pooling."""
    return _adaptive_pool("adaptive_max_pool", inputs, output_size, data_format, True)


# ============================================== dropout =============================================

def dropout(x, rate, training=True):
    """Zero each element with probability `rate`, scale the rest by 1 / (1 - rate) (inverted
    dropout, so inference needs no change). Identity when not training."""
    if not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
    if not training or rate == 0:
        return x
    keep = backend.device_rng().random(x.shape, dtype=np.float32) >= rate  # drawn on the device
    mask = (keep * np.float32(1 / (1 - rate))).astype(x.dtype, copy=False)
    return Tensor._make(x.data * mask, (x,), lambda g: (g * mask,), "dropout")


# ============================================ normalization ==========================================

def batch_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-3):
    """Normalize with the batch's own statistics, over every axis but `axis` (fused, own
    backward: two passes each way instead of the graph that mean, var and sqrt would build).

    Args:
        x: float tensor, e.g. (N, C), or (N, H, W, C) with axis=-1, (N, C, H, W) with axis=1.
        gamma, beta: optional scale and offset tensors of shape (x.shape[axis],).
        axis: the feature axis, whose entries are normalized separately.
        epsilon: added to the variance before the square root.
    Returns:
        (out, mean, var): `gamma * (x - mean) / sqrt(var + epsilon) + beta` (x's shape), and the
        batch mean and biased variance as arrays of shape (x.shape[axis],), outside the graph
        (for moving statistics).
    """
    gamma = None if gamma is None else as_tensor(gamma, like=x)
    beta = None if beta is None else as_tensor(beta, like=x)
    axis = axis % x.ndim
    reduced = tuple(i for i in range(x.ndim) if i != axis)
    bshape = tuple(n if i == axis else 1 for i, n in enumerate(x.shape))
    n = math.prod(x.shape[i] for i in reduced)
    if axis == x.ndim - 1 and n > 1:
        # channels last: each channel's sum as one GEMV over the (n, C) rows, not NumPy's
        # reduction over short rows (16,000 x 64: 1.0 -> 0.05 ms), and the per-channel
        # arithmetic on long tiled rows, not broadcast over rows of C floats (`_apply_row`)
        ones = xp.ones(n, dtype=x.dtype)

        def total(a):
            return (ones @ a.reshape(n, -1)).reshape(-1)

        def by_channel(ufunc, a, row, out=None):
            if out is None:
                out = xp.empty(a.shape, dtype=xp.result_type(a.dtype, row.dtype))
            return _apply_row(ufunc, a, row.reshape(-1), out=out)
    else:
        def total(a):
            return a.sum(axis=reduced, keepdims=True).reshape(-1)

        def by_channel(ufunc, a, row, out=None):
            return ufunc(a, row.reshape(bshape), out=out)
    mu = total(x.data) / x.dtype.type(n)
    centered = by_channel(xp.subtract, x.data, mu)
    var = total(centered * centered) / x.dtype.type(n)
    inv_std = 1 / xp.sqrt(var + x.dtype.type(epsilon))
    xhat = by_channel(xp.multiply, centered, inv_std, out=centered)  # our own: in place
    del centered
    out = by_channel(xp.multiply, xhat, gamma.data) if gamma is not None else xhat
    if beta is not None:
        out = by_channel(xp.add, out, beta.data, out=None if out is xhat else out)

    def backward(g):
        gxhat = by_channel(xp.multiply, g, gamma.data) if gamma is not None else g
        gx = None
        if x.requires_grad:  # the batch statistics depend on x: subtract their share
            # inv_std * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)), in that order
            gx = by_channel(xp.subtract, gxhat, total(gxhat) / n)
            gx -= by_channel(xp.multiply, xhat, total(gxhat * xhat) / n)
            gx = by_channel(xp.multiply, gx, inv_std, out=gx)
        grads = [gx]
        if gamma is not None:
            grads.append(total(g * xhat) if gamma.requires_grad else None)
        if beta is not None:
            grads.append(total(g) if beta.requires_grad else None)
        return tuple(grads)

    parents = (x,) + tuple(p for p in (gamma, beta) if p is not None)
    result = Tensor._make(out, parents, backward, "batch_norm")
    return result, mu, var


# ============================================== sequences ===========================================

def _ctc_lengths(name, lengths, batch, low, limit, what):
    lengths = xp.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if lengths.dtype.kind not in "iu" or lengths.shape != (batch,):
        raise ValueError(f"{name}: {what} must be {batch} integers, one per sequence, got "
                         f"dtype {lengths.dtype} and shape {lengths.shape}")
    if batch and bool(((lengths < low) | (lengths > limit)).any()):
        raise ValueError(f"{name}: {what} must lie in [{low}, {limit}], got values from "
                         f"{int(lengths.min())} to {int(lengths.max())}")
    return lengths.astype(np.int64)


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Connectionist temporal classification loss: -log of the total probability of every
    alignment of each target sequence to the frames (Graves et al., 2006). Own backward: the
    forward-backward occupancies, vectorized over the batch, looping only over time.

    Args:
        target: integer labels (batch, max_label_length); entries past `target_length` are
            padding.
        output: logits (batch, max_time, classes); softmax is applied along the classes.
        target_length, output_length: (batch,) integers, each sequence's label count and frame
            count.
        mask_index: the blank class.
    Returns:
        Tensor (batch,) of per-sequence losses; inf where the labels cannot fit in the frames.
    """
    name = "ctc_loss"
    x = as_tensor(output)
    labels = xp.asarray(target.data if isinstance(target, Tensor) else target)
    if x.ndim != 3 or x.dtype.kind != "f":
        raise ValueError(f"{name}: output must be float logits (batch, time, classes), got "
                         f"shape {x.shape} and dtype {x.dtype}")
    batch, frames, classes = x.shape
    if labels.ndim != 2 or labels.shape[0] != batch or labels.dtype.kind not in "iuf":
        raise ValueError(f"{name}: target must be integer labels (batch={batch}, "
                         f"max_label_length), got shape {labels.shape} and dtype {labels.dtype}")
    if not 0 <= mask_index < classes:
        raise ValueError(f"{name}: mask_index {mask_index} is not a class of outputs with "
                         f"{classes} classes")
    label_len = _ctc_lengths(name, target_length, batch, 0, labels.shape[1], "target_length")
    frame_len = _ctc_lengths(name, output_length, batch, 1, frames, "output_length")
    inside = xp.arange(labels.shape[1]) < label_len[:, None]  # the rest is padding
    used = labels[inside]
    if used.size and bool(((used < 0) | (used >= classes)).any()):
        raise ValueError(f"{name}: target labels must lie in [0, {classes}), got values from "
                         f"{int(used.min())} to {int(used.max())}")
    labels = xp.where(inside, labels, mask_index).astype(np.int64)

    # the extended sequence: a blank before, between and after the labels (2 S + 1 states)
    states = 2 * labels.shape[1] + 1
    ext = xp.full((batch, states), mask_index, dtype=np.int64)
    ext[:, 1::2] = labels
    shifted = x.data - x.data.max(axis=-1, keepdims=True)
    logp = shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
    emit = xp.take_along_axis(logp, xp.broadcast_to(ext[:, None, :], (batch, frames, states)),
                              axis=2).transpose(1, 0, 2)  # (time, batch, state)
    # a state may be entered from two back when it is a label that differs from the one before
    skip = xp.zeros((batch, states), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != mask_index) & (ext[:, 2:] != ext[:, :-2])
    none = x.dtype.type(-np.inf)
    rows = xp.arange(batch)
    last = 2 * label_len  # the final blank; the final label is last - 1

    def step_forward(a):
        one = xp.concatenate([xp.full((batch, 1), none), a[:, :-1]], axis=1)
        two = xp.where(skip, xp.concatenate([xp.full((batch, 2), none), a[:, :-2]], axis=1), none)
        return xp.logaddexp(xp.logaddexp(a, one), two)

    alpha = xp.full((frames, batch, states), none)
    alpha[0, :, 0] = emit[0, :, 0]
    if states > 1:
        alpha[0, :, 1] = xp.where(label_len > 0, emit[0, :, 1], none)
    for t in range(1, frames):  # frames past a sequence's end keep its last alphas
        alpha[t] = xp.where((t < frame_len)[:, None], step_forward(alpha[t - 1]) + emit[t],
                            alpha[t - 1])
    final = alpha[-1]
    end_label = xp.where(label_len > 0, final[rows, xp.maximum(last - 1, 0)], none)
    log_likelihood = xp.logaddexp(final[rows, last], end_label)
    out = -log_likelihood

    def backward(g):
        # beta[t, s]: log-probability of finishing from state s at frame t (its emission
        # excluded); occupancy of s at t = alpha * beta / likelihood
        end = xp.full((batch, states), none)
        end[rows, last] = 0
        has_labels = label_len > 0
        end[rows[has_labels], (last - 1)[has_labels]] = 0
        beta = xp.empty_like(alpha)
        beta[-1] = end
        for t in range(frames - 2, -1, -1):
            b = beta[t + 1] + emit[t + 1]
            one = xp.concatenate([b[:, 1:], xp.full((batch, 1), none)], axis=1)
            two = xp.concatenate([xp.where(skip[:, 2:], b[:, 2:], none),
                                  xp.full((batch, 2), none)], axis=1)
            back = xp.logaddexp(xp.logaddexp(b, one), two)
            beta[t] = xp.where((t < frame_len - 1)[:, None], back, end)
        feasible = xp.isfinite(log_likelihood)
        with np.errstate(invalid="ignore"):
            occupancy = xp.exp(alpha + beta - xp.where(feasible, log_likelihood, 0)[:, None])
        in_time = (xp.arange(frames)[:, None] < frame_len[None, :]) & feasible[None, :]
        occupancy = xp.where(in_time[:, :, None], occupancy, 0).transpose(1, 0, 2)  # (b, t, s)
        one_hot = (ext[:, :, None] == xp.arange(classes)).astype(x.dtype)  # (b, s, classes)
        g_logp = -(occupancy @ one_hot)  # each state's occupancy to its class
        g_x = g_logp - xp.exp(logp) * g_logp.sum(axis=-1, keepdims=True)  # through log-softmax
        return (g[:, None, None] * g_x,)
    return Tensor._make(out, (x,), backward, "ctc_loss")


def _ctc_greedy_decode(logits, lengths, merge_repeated, blank):
    frames = logits.shape[1]
    best = logits.argmax(axis=-1)
    scores = logits.max(axis=-1)
    past_end = np.arange(frames)[None, :] >= lengths[:, None]
    best = np.where(past_end, blank, best)
    scores = np.where(past_end, 0.0, scores)
    if merge_repeated:
        repeat = np.zeros_like(past_end)
        repeat[:, 1:] = best[:, 1:] == best[:, :-1]
        best = np.where(repeat, blank, best)
    dropped = best == blank
    # the kept labels first, in order, then -1 padding
    order = np.argsort(np.where(dropped, frames, np.arange(frames)), axis=1, kind="stable")
    decoded = np.take_along_axis(np.where(dropped, -1, best), order, axis=1)
    return decoded[None].astype(np.int32), -scores.sum(axis=1, keepdims=True)


def _unique_rows(paths):
    """Per batch, the distinct rows of `paths` (batch, n, length): the index of each row's
    distinct row (batch, n), and the distinct rows padded with -1 rows (batch, n, length)."""
    batch, n, length = paths.shape
    flat = paths.reshape(batch * n, length)
    owner = np.repeat(np.arange(batch), n)
    order = np.lexsort(tuple(flat[:, j] for j in range(length - 1, -1, -1)) + (owner,))
    ordered = flat[order]
    new = np.ones(batch * n, dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1) | (owner[order][1:] != owner[order][:-1])
    segment = np.cumsum(new) - 1  # global ids, contiguous within each batch
    first = segment[np.arange(batch) * n] if n else np.zeros(batch, np.int64)
    inverse = np.empty(batch * n, dtype=np.int64)
    inverse[order] = segment
    inverse = inverse.reshape(batch, n) - first[:, None]
    unique = np.full((batch, n, length), -1, dtype=paths.dtype)
    unique[owner[order][new], (segment - first[owner[order]])[new]] = ordered[new]
    return inverse, unique


def _merge_log_scores(inverse, scores, n):
    """log-sum-exp of `scores` (batch, m) over the entries that share an `inverse` id < n."""
    batch = scores.shape[0]
    top = scores.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    ids = (inverse + np.arange(batch)[:, None] * n).reshape(-1)
    total = np.bincount(ids, weights=np.exp(scores - top).reshape(-1), minlength=batch * n)
    with np.errstate(divide="ignore"):
        return np.log(total.reshape(batch, n)) + top


def _ctc_beam_search_decode(logits, lengths, beam_width, top_paths, blank):
    """CTC prefix beam search, as Keras's: each prefix keeps two log-scores, for alignments
    ending in a label and in a blank; each frame extends every prefix by every class, merges
    equal prefixes and keeps the best `beam_width`. Vectorized over the batch."""
    batch, frames, classes = logits.shape
    logp = logits - logits.max(axis=-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=-1, keepdims=True))
    width = 2 * beam_width  # each kept prefix twice: ending in a label, ending in a blank
    rows = np.arange(batch)[:, None]
    # frame 0: the best classes alone, ties to the lower class
    first = np.argsort(-logp[:, 0], axis=1, kind="stable")[:, :min(classes, beam_width)]
    paths = np.full((batch, width, frames), -1, dtype=np.int64)
    paths[:, :first.shape[1], 0] = np.where(first == blank, -1, first)
    scores = np.full((batch, width), -np.inf, dtype=logp.dtype)
    scores[:, :first.shape[1]] = np.take_along_axis(logp[:, 0], first, axis=1)
    ends_blank = paths[:, :, 0] == -1
    symbols = np.where(np.arange(classes) == blank, -1, np.arange(classes))
    for t in range(1, frames):
        # every prefix extended by every class: (batch, width * classes)
        grown = np.repeat(paths, classes, axis=1)
        tail = np.argmax(grown == -1, axis=2)
        last = np.where(tail == 0, -1, np.take_along_axis(grown, np.maximum(tail - 1, 0)[..., None],
                                                          axis=2)[..., 0])
        added = np.tile(symbols, width)[None, :]
        # a label repeated right after itself (no blank between) merges into the prefix
        repeat = ~np.repeat(ends_blank, classes, axis=1) & (last == added)
        np.put_along_axis(grown, tail[..., None], np.where(repeat, -1, added)[..., None], axis=2)
        grown_scores = np.repeat(scores, classes, axis=1) + np.tile(logp[:, t], width)
        grown_blank = np.broadcast_to(added == -1, grown_scores.shape)
        inverse, unique = _unique_rows(grown)
        n = grown.shape[1]
        label_scores = _merge_log_scores(inverse, np.where(grown_blank, -np.inf, grown_scores), n)
        blank_scores = _merge_log_scores(inverse, np.where(grown_blank, grown_scores, -np.inf), n)
        best = np.argsort(np.logaddexp(label_scores, blank_scores), axis=1,
                          kind="stable")[:, -beam_width:]
        kept = unique[rows, best]
        stepped = (np.concatenate([kept, kept], axis=1),
                   np.concatenate([label_scores[rows, best], blank_scores[rows, best]], axis=1))
        active = (t < lengths)[:, None]
        paths = np.where(active[..., None], stepped[0], paths)
        scores = np.where(active, stepped[1], scores)
        ends_blank = np.where(active, np.arange(width)[None, :] >= beam_width, ends_blank)
    inverse, unique = _unique_rows(paths)
    total = _merge_log_scores(inverse, scores, paths.shape[1])
    best = np.argsort(total, axis=1, kind="stable")[:, -top_paths:][:, ::-1]
    decoded = unique[rows, best].transpose(1, 0, 2)
    return decoded.astype(np.int32), total[rows, best]


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Decode CTC outputs into label sequences (no gradient; computed on the host).

    Args:
        inputs: (batch, max_time, classes) logits or probabilities.
        sequence_lengths: (batch,) frame counts.
        strategy: 'greedy' (the best class per frame, repeats merged, blanks dropped; score:
            minus the sum of the chosen inputs) or 'beam_search' (prefix beam search on the
            log-softmax; score: the log-probability of the decoded sequence).
        beam_width, top_paths: for 'beam_search'.
        merge_repeated: for 'greedy', merge repeated labels.
        mask_index: the blank class (None: the last class).
    Returns:
        (decoded, scores): int32 Tensor (top_paths, batch, max_time) of labels padded with -1
        (top_paths is 1 for greedy), and float Tensor (batch, top_paths).
    """
    name = "ctc_decode"
    logits = backend.to_numpy(inputs.data if isinstance(inputs, Tensor) else inputs)
    if logits.ndim != 3 or logits.dtype.kind not in "iuf":
        raise ValueError(f"{name}: inputs must be (batch, time, classes) numbers, got shape "
                         f"{logits.shape} and dtype {logits.dtype}")
    if logits.dtype.kind != "f":
        logits = logits.astype(np.float32)
    batch, frames, classes = logits.shape
    lengths = backend.to_numpy(_ctc_lengths(name, sequence_lengths, batch, 0, frames,
                                            "sequence_lengths"))
    blank = classes - 1 if mask_index is None else int(mask_index)
    if not 0 <= blank < classes:
        raise ValueError(f"{name}: mask_index {mask_index} is not a class of inputs with "
                         f"{classes} classes")
    if strategy == "greedy":
        decoded, scores = _ctc_greedy_decode(logits, lengths, merge_repeated, blank)
    elif strategy == "beam_search":
        if beam_width < 1 or not 1 <= top_paths <= beam_width:
            raise ValueError(f"{name}: need beam_width >= 1 and 1 <= top_paths <= beam_width, "
                             f"got beam_width={beam_width}, top_paths={top_paths}")
        decoded, scores = _ctc_beam_search_decode(logits, lengths, beam_width, top_paths, blank)
    else:
        raise ValueError(f"{name}: strategy must be 'greedy' or 'beam_search', got {strategy!r}")
    return Tensor(decoded, dtype=np.int32), Tensor(scores.astype(logits.dtype, copy=False))


__getattr__ = _absent("mgp.ops.nn", "")  # the Keras names mgp.ops.nn lacks: none now
