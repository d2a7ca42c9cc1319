"""Max and average pooling in 1, 2 or 3 spatial dimensions (Keras's `ops.max_pool`,
`ops.average_pool`), each with its own backward, for speed.

Inputs are channels-last inside; channels-first is a transpose around them. Strides default to
the pool size. Padding ('same') never wins a max and is left out of an average, as in Keras's
TensorFlow and JAX backends.
"""
import math

from mgp import backend
from mgp.backend import xp
from mgp.ops.numpy import as_tensor, mean
from mgp.ops.windows import (as_tuple, axes_words, data_format_of, geometry, kernel_offsets,
                             pad_spatial, to_channels_first, to_channels_last, unpad)
from mgp.tensor import Tensor


def _pool_args(op, x, pool_size, strides, data_format, rank=None):
    """The tensor, rank, pool and strides, checked; `rank` fixed by the caller or the input's."""
    x = as_tensor(x)
    data_format = data_format_of(data_format)
    if rank is None:
        rank = x.ndim - 2
        if rank not in (1, 2, 3):
            raise ValueError(f"{op} expects a 3-, 4- or 5-D input (batch, 1 to 3 spatial axes, "
                             f"channels), got shape {x.shape}")
    elif x.ndim != rank + 2:
        raise ValueError(f"{op} expects a {rank + 2}-D input {axes_words(rank, data_format)}, "
                         f"got shape {x.shape}")
    pool = as_tuple(pool_size, rank, "pool_size")
    stride = pool if strides is None else as_tuple(strides, rank, "strides")
    return x, rank, pool, stride, data_format


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max over each window, Keras's `ops.max_pool` (1, 2 or 3 spatial axes).

    Args:
        inputs: (batch, *spatial, channels) for channels_last, (batch, channels, *spatial)
            for channels_first.
        pool_size: an int or one per spatial axis.
        strides: an int, one per axis, or None for pool_size.
        padding: 'valid' or 'same' (output ceil(input / stride)); mgp also takes an int, one
            per axis, or (before, after) pairs.
        data_format: 'channels_last' (None) or 'channels_first'.
    Returns:
        The pooled tensor, in the input's layout. Ties: the first maximum in the window
        (row-major) takes the gradient, as PyTorch's.
    """
    x, _, pool, stride, data_format = _pool_args("max_pool", inputs, pool_size, strides,
                                                    data_format)
    return _max_pool(x, pool, stride, padding, data_format, "max_pool")


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Mean over each window, Keras's `ops.average_pool` (arguments as `max_pool`). With
    padding, each window averages only the inputs it covers."""
    x, _, pool, stride, data_format = _pool_args("average_pool", inputs, pool_size, strides,
                                                    data_format)
    return _average_pool(x, pool, stride, padding, data_format, "average_pool")


def max_pool2d(x, pool_size=2, strides=None, padding="valid", data_format="channels_last"):
    """2-D `max_pool` on 4-D inputs, pool_size (2, 2) by default."""
    x, _, pool, stride, data_format = _pool_args("max_pool2d", x, pool_size, strides,
                                                 data_format, rank=2)
    return _max_pool(x, pool, stride, padding, data_format, "max_pool2d")


def avg_pool2d(x, pool_size=2, strides=None, padding="valid", data_format="channels_last"):
    """2-D `average_pool` on 4-D inputs, pool_size (2, 2) by default."""
    x, _, pool, stride, data_format = _pool_args("avg_pool2d", x, pool_size, strides,
                                                 data_format, rank=2)
    return _average_pool(x, pool, stride, padding, data_format, "avg_pool2d")


def global_avg_pool2d(x, data_format="channels_last", keepdims=False):
    """Mean over the spatial axes: (N, H, W, C) -> (N, C)."""
    data_format = data_format_of(data_format)
    if x.ndim != 4:
        raise ValueError(f"global_avg_pool2d expects a 4-D input, got shape {x.shape}")
    axes = (1, 2) if data_format == "channels_last" else (2, 3)
    return mean(x, axes, keepdims)


# ================================================ max ===============================================

def _max_pool(x, pool, stride, padding, data_format, op):
    if data_format == "channels_first":
        return to_channels_first(_max_pool(to_channels_last(x), pool, stride, padding,
                                           "channels_last", op))
    rank = len(pool)
    pads, out_size = geometry(op, x.shape, pool, stride, padding, (1,) * rank)
    xpad = pad_spatial(x.data, pads, value=-xp.inf)
    out = xp.empty((x.shape[0],) + out_size + (x.shape[-1],), dtype=x.dtype)
    # what the windows cover of each axis: cells past the last window are never read
    covered = tuple((o - 1) * s + p for o, s, p in zip(out_size, stride, pool))

    def max_rows(b):
        # The window's maximum one axis at a time (sum(pool) elementwise passes instead of
        # prod(pool)), first over whole rows (long inner loops): forward at the convnet's first
        # pool 1.9 -> 1.7 ms, at the classroom CNN's 0.86 -> 0.65 ms (2 threads). Each pass is
        # a plain elementwise maximum of strided slices: 3.3 ms against 58 ms for a reshape and
        # max at the convnet's first layer (batch 128).
        part = xpad[b][(slice(None),) + tuple(slice(0, c) for c in covered)]
        for axis in range(rank):
            slices = [_along(part, axis + 1, a, stride[axis], out_size[axis])
                      for a in range(pool[axis])]
            if axis == rank - 1:
                _max_into(out[b], slices)
            elif len(slices) == 1:
                part = slices[0]  # a view: a window one cell wide along this axis
            else:
                part = xp.empty(slices[0].shape, dtype=x.dtype)
                _max_into(part, slices)
    # Threads share the batch (backend.over_batch): pool1 forward 5.1 -> 3.0 ms, forward and
    # backward 23.9 -> 12.9 ms at 2 threads.
    backend.over_batch(max_rows, len(out), xpad.size)

    offsets = kernel_offsets(pool, stride, (1,) * rank, out_size)
    # Windows that tile the input (stride == pool) write every cell they cover: only the cells
    # past the last window need zeros (pool1 backward 8.5 -> 7.3 ms). Windows that cannot
    # overlap (stride >= pool, the usual case) write their gradient straight into place instead
    # of adding a temporary: pool1 backward 16.2 -> 11.4 ms (convnet, 1 thread).
    tiled = stride == pool
    disjoint = all(s >= p for s, p in zip(stride, pool))

    def backward(g):
        gxpad = (xp.empty if tiled else xp.zeros)(xpad.shape, dtype=g.dtype)

        def grad_rows(b):
            rows = gxpad[b]
            if tiled:
                for axis, c in enumerate(covered):
                    rows[(slice(None),) * (axis + 1) + (slice(c, None),)] = 0
            free = None  # windows whose maximum has not taken the gradient yet: the first wins
            for _, region in offsets:
                region = (slice(None),) + region
                hit = xpad[b][region] == out[b]
                if free is None:
                    free = ~hit
                else:
                    hit &= free
                    free ^= hit  # hit lies within free: this clears it
                if disjoint:
                    xp.multiply(g[b], hit, out=rows[region])
                else:
                    rows[region] += g[b] * hit
        backend.over_batch(grad_rows, len(g), 3 * xpad.size)  # reads xpad, g; writes gxpad
        return (unpad(gxpad, pads, x.shape[1:-1]),)
    return Tensor._make(out, (x,), backward, f"max_pool{rank}d")


def _along(a, axis, start, step, count):
    """a[..., start::step (count cells), ...] along `axis`: a view."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, start + step * (count - 1) + 1, step)
    return a[tuple(index)]


def _max_into(out, arrays):
    """out = the elementwise maximum of `arrays`, without a copy of the first."""
    if len(arrays) == 1:
        xp.copyto(out, arrays[0])
        return
    xp.maximum(arrays[0], arrays[1], out=out)
    for a in arrays[2:]:
        xp.maximum(out, a, out=out)


# ============================================== average =============================================

def _average_pool(x, pool, stride, padding, data_format, op):
    if data_format == "channels_first":
        return to_channels_first(_average_pool(to_channels_last(x), pool, stride, padding,
                                               "channels_last", op))
    rank = len(pool)
    pads, out_size = geometry(op, x.shape, pool, stride, padding, (1,) * rank)
    xpad = pad_spatial(x.data, pads)
    offsets = [(slice(None),) + region
               for _, region in kernel_offsets(pool, stride, (1,) * rank, out_size)]
    total = sum(xpad[region] for region in offsets)
    if not any(lo or hi for lo, hi in pads):
        count = x.dtype.type(math.prod(pool))
    else:  # how many real inputs each window covers
        ones = pad_spatial(xp.ones((1,) + x.shape[1:-1] + (1,), dtype=x.dtype), pads)
        count = sum(ones[region] for region in offsets)
    out = total / count

    def backward(g):
        gxpad = xp.zeros(xpad.shape, dtype=g.dtype)
        share = g / count
        for region in offsets:
            gxpad[region] += share
        return (unpad(gxpad, pads, x.shape[1:-1]),)
    return Tensor._make(out, (x,), backward, f"average_pool{rank}d")
