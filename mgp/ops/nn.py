"""Neural-network ops: softmax, losses from logits, dropout, convolution and pooling.

Each has its own backward, for speed or numerical stability (said at each). Convolution lives in
`mgp.ops.convolution` and pooling in `mgp.ops.pooling` (over the sliding-window geometry of
`mgp.ops.windows`); they are Keras's `ops.nn` functions, so they are reached here too.
"""
import math

import numpy as np

from mgp import backend
from mgp.backend import xp
from mgp.ops.convolution import (  # noqa: F401
    conv, conv_transpose, depthwise_conv, separable_conv, conv2d, convolve)
from mgp.ops.numpy import as_tensor
from mgp.ops.pooling import (  # noqa: F401
    average_pool, max_pool, max_pool2d, avg_pool2d, global_avg_pool2d)
from mgp.tensor import Tensor

# ============================================== softmax =============================================


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`, shifted by the max so large logits cannot overflow."""
    e = xp.exp(x.data - x.data.max(axis=axis, keepdims=True))
    s = e / e.sum(axis=axis, keepdims=True)
    out = Tensor._make(s, (x,), lambda g: (s * (g - (g * s).sum(axis=axis, keepdims=True)),),
                       "softmax")
    out._logits = x  # lets cross-entropy work from the logits, as Keras does
    return out


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along `axis`: finite for logits of any magnitude (own backward)."""
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
    mu = x.data.mean(axis=reduced, keepdims=True)
    centered = x.data - mu
    var = (centered * centered).mean(axis=reduced, keepdims=True)
    inv_std = 1 / xp.sqrt(var + x.dtype.type(epsilon))
    xhat = centered * inv_std
    del centered
    out = xhat * gamma.data.reshape(bshape) if gamma is not None else xhat
    if beta is not None:
        out = out + beta.data.reshape(bshape)

    def backward(g):
        gxhat = g * gamma.data.reshape(bshape) if gamma is not None else g
        gx = None
        if x.requires_grad:  # the batch statistics depend on x: subtract their share
            gx = inv_std * (gxhat - gxhat.sum(axis=reduced, keepdims=True) / n
                            - xhat * ((gxhat * xhat).sum(axis=reduced, keepdims=True) / n))
        grads = [gx]
        if gamma is not None:
            grads.append((g * xhat).sum(axis=reduced) if gamma.requires_grad else None)
        if beta is not None:
            grads.append(g.sum(axis=reduced) if beta.requires_grad else None)
        return tuple(grads)

    parents = (x,) + tuple(p for p in (gamma, beta) if p is not None)
    result = Tensor._make(out, parents, backward, "batch_norm")
    return result, mu.reshape(x.shape[axis]), var.reshape(x.shape[axis])
