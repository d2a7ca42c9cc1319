"""Convolution in 1, 2 or 3 spatial dimensions as im2col plus one GEMM, and its adjoint.

One engine, `convolve`, serves every rank (a 1-D convolution is the same code on one spatial
axis), grouped and depthwise convolution (the GEMM batched over the groups), and Keras's faces
of it: `conv`, `depthwise_conv`, `separable_conv`. The transposed convolution,
`conv_transpose`, is the convolution's adjoint run forwards: its GEMM then col2im, which is the
convolution's input gradient, and its backward is the convolution's forward (im2col then GEMM).
Inputs are channels-last inside (Keras's default); channels-first is a transpose around them.
Kernels are laid out as Keras lays them out: (*kernel_size, in_channels / groups, filters), and
(*kernel_size, filters, in_channels) for the transposed convolution.
"""
import operator
from functools import reduce

from mgp import backend
from mgp.backend import xp
from mgp.ops.numpy import as_tensor
from mgp.ops.windows import (as_tuple, axes_words, data_format_of, geometry, kernel_offsets,
                             pad_spatial, to_channels_first, to_channels_last, transpose_crops,
                             unpad, window_view)
from mgp.tensor import Tensor, is_grad_enabled

# ============================================ the engine ============================================


def _rank_and_channels(op, x, kernel, data_format):
    """The number of spatial axes (from the kernel) and the input's channels, with clear errors
    for a kernel or input of the wrong rank."""
    rank = kernel.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{op}: the kernel must have 3, 4 or 5 axes (1, 2 or 3 spatial axes, "
                         f"then channels), got shape {kernel.shape}")
    if x.ndim != rank + 2:
        raise ValueError(f"{op} expects a {rank + 2}-D input {axes_words(rank, data_format)} "
                         f"for a kernel of shape {kernel.shape}, got shape {x.shape}")
    channels = x.shape[-1 if data_format == "channels_last" else 1]
    return rank, channels


def convolve(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
             data_format=None, activation=None, op="conv"):
    """N-D convolution (cross-correlation, as Keras and PyTorch) as im2col plus one GEMM, with
    the bias and relu fused in (mgp's engine under `conv`, `conv2d` and the layers).

    Args:
        x: (batch, *spatial, channels) for channels_last, (batch, channels, *spatial) for
            channels_first; 1, 2 or 3 spatial axes.
        kernel: (*kernel_size, channels // groups, filters): the groups are the input's
            channels over the kernel's (as Keras's `ops.conv` infers them); group g reads
            input channels [g * c_g, (g + 1) * c_g) and writes filters [g * f_g, (g + 1) * f_g).
        bias: optional (filters,).
        strides, dilation_rate: an int or one per spatial axis.
        padding: 'valid', 'same' (output ceil(input / stride), the odd cell after, as Keras),
            an int, one int per axis, or one (before, after) pair per axis.
        data_format: 'channels_last' (None) or 'channels_first'.
        activation: None, or 'relu' applied in place in the same sweep as the bias.
        op: the name errors give.
    Returns:
        (batch, *out, filters), or (batch, filters, *out) for channels_first.
    """
    data_format = data_format_of(data_format)
    if activation not in (None, "relu"):
        raise ValueError(f"{op}: activation must be None or 'relu', got {activation!r}")
    x = as_tensor(x)
    kernel = as_tensor(kernel, like=x)
    bias = None if bias is None else as_tensor(bias, like=x)
    rank, c = _rank_and_channels(op, x, kernel, data_format)
    c_g, f = kernel.shape[-2:]
    groups = c // c_g if c_g and c % c_g == 0 else 0
    if not groups or f % groups:
        also = f" (or, grouped, a multiple of it dividing the {f} filters)" if c_g < c else ""
        raise ValueError(f"{op}: input has {c} channels (shape {x.shape}, {data_format}) but the "
                         f"kernel {kernel.shape} expects {c_g}{also}")
    if bias is not None and bias.shape != (f,):
        raise ValueError(f"{op}: bias must have shape ({f},) for kernel {kernel.shape}, got "
                         f"{bias.shape}")
    if data_format == "channels_first":
        y = convolve(to_channels_last(x), kernel, bias, strides, padding, dilation_rate,
                     "channels_last", activation, op)
        return to_channels_first(y)
    stride = as_tuple(strides, rank, "strides")
    dilation = as_tuple(dilation_rate, rank, "dilation_rate")
    ksize = kernel.shape[:rank]
    pads, out_size = geometry(op, x.shape, ksize, stride, padding, dilation)
    n, k_len, f_g = x.shape[0], kernel.size // f, f // groups  # k_len: one group's column
    xpad = pad_spatial(x.data, pads)
    offsets = kernel_offsets(ksize, stride, dilation, out_size)
    columns = _im2col(xpad, ksize, stride, dilation, out_size, groups, offsets)
    if groups == 1:
        w = kernel.data.reshape(k_len, f)
    else:  # (groups, k_len, f_g): one matrix per group, for one batched GEMM
        w = kernel.data.reshape(-1, c_g, groups, f_g).transpose(2, 0, 1, 3).reshape(
            groups, k_len, f_g)
    out = xp.empty((n,) + out_size + (f,), dtype=xp.result_type(x.dtype, kernel.dtype))
    # relu's mask only for a backward (inference, under no_grad, pays nothing for it)
    taped = is_grad_enabled() and (x.requires_grad or kernel.requires_grad
                                   or (bias is not None and bias.requires_grad))
    mask = xp.empty(out.shape, dtype=bool) if activation == "relu" and taped else None
    cells = out.size // f  # output positions, for the pieces' sizes

    # The whole layer runs piece by piece over the batch (backend.over_batch), so that a piece's
    # columns are still in the cache for its GEMM, and its output for the bias and relu.
    def forward_rows(b):
        o = out[b].reshape(-1, f)
        if groups == 1:
            xp.matmul(columns(b), w, out=o)
        else:  # the groups' products straight into their filters' columns of the output
            xp.matmul(columns(b), w, out=o.reshape(-1, groups, f_g).transpose(1, 0, 2))
        if bias is not None:
            _apply_row(xp.add, o, bias.data)
        if activation == "relu":  # in place on our own output
            if mask is not None:
                xp.greater(o, 0, out=mask[b].reshape(-1, f))
            _apply_row(xp.maximum, o, xp.zeros(f, dtype=o.dtype))
    backend.over_batch(forward_rows, n, 2 * cells * (k_len * groups + f), calls_blas=True)

    def backward(g):
        gk_parts, gb_parts = {}, {}  # each piece's share of the weights' gradients
        gxpad = xp.empty(xpad.shape, dtype=g.dtype) if x.requires_grad else None

        def backward_rows(b):
            g2 = g[b].reshape(-1, f)
            if mask is not None:
                g2 = g2 * mask[b].reshape(-1, f)
            gg = g2 if groups == 1 else g2.reshape(-1, groups, f_g).transpose(1, 0, 2)
            piece = b.start or 0
            if kernel.requires_grad:
                cols = columns(b)
                gk_parts[piece] = cols.T @ g2 if groups == 1 else cols.transpose(0, 2, 1) @ gg
            if bias is not None and bias.requires_grad:
                # a GEMV, not g2.sum(axis=0) (a reduction over short rows): 2.04 -> 0.62 ms
                gb_parts[piece] = xp.ones(len(g2), dtype=g2.dtype) @ g2
            if gxpad is not None:
                if groups == 1:
                    gcols = g2 @ w.T
                else:  # (groups, rows, k_len) -> (rows, kernel positions, groups, c_g)
                    gcols = (gg @ w.transpose(0, 2, 1)).reshape(groups, len(g2), -1, c_g)
                    gcols = gcols.transpose(1, 2, 0, 3)
                rows = gxpad[b]
                _col2im(rows, gcols.reshape(rows.shape[:1] + out_size + ksize + (c,)), offsets)
        backend.over_batch(backward_rows, n, 3 * cells * (k_len * groups + f), calls_blas=True)
        gk = _sum_pieces(gk_parts)
        if gk is not None and groups > 1:  # back from one matrix per group to Keras's layout
            gk = gk.reshape(groups, -1, c_g, f_g).transpose(1, 2, 0, 3)
        gk = None if gk is None else gk.reshape(kernel.shape)
        gx = None if gxpad is None else unpad(gxpad, pads, x.shape[1:-1])
        return (gx, gk) if bias is None else (gx, gk, _sum_pieces(gb_parts))

    parents = (x, kernel) if bias is None else (x, kernel, bias)
    return Tensor._make(out, parents, backward, f"conv{rank}d")


def _im2col(xpad, ksize, stride, dilation, out_size, groups, offsets):
    """A function from a slice of the batch to its columns: (rows, k_len), or
    (groups, rows, k_len) when grouped, rows running over the piece's output positions.

    The columns are made one piece of the batch at a time, and again in the backward rather
    than kept: a piece's columns then stay in the cache for its GEMM, and the layer's whole
    column matrix (18 MB at the convnet's second conv) is never written out to memory.
    """
    c = xpad.shape[-1]
    k_len = len(offsets) * c // groups
    if c == 1:
        # One input channel (a first layer): the columns' transpose, one contiguous copy per
        # kernel position, instead of rows of k_len scattered floats: im2col 2.65 -> 0.52 ms
        # at the convnet's first layer (1 thread; the GEMMs take the transpose as fast).
        def columns(b):  # the rows' (positions, k_len) matrix, a transposed view
            rows = xpad[b]
            cols_t = xp.empty((k_len, len(rows)) + out_size, dtype=xpad.dtype)
            for p, (_, region) in enumerate(offsets):
                xp.copyto(cols_t[p], rows[(slice(None),) + region + (0,)])
            return cols_t.reshape(k_len, -1).T
        return columns
    windows = window_view(xpad, ksize, stride, dilation, out_size)
    if groups == 1:
        return lambda b: windows[b].reshape(-1, k_len)  # reshape copies: the windows overlap

    def grouped_columns(b):  # channels split into (groups, c_g), groups moved to the front
        w = windows[b]
        w = w.reshape(w.shape[:-1] + (groups, c // groups))
        return xp.moveaxis(w, -2, 0).reshape(groups, -1, k_len)
    return grouped_columns


def _col2im(rows, gcols, offsets):
    """rows (the padded input's gradient for a piece of the batch) = the sum, over the kernel
    positions, of each position's column gradients added back where that position read: one
    strided add per kernel position. `gcols`: (batch rows, *out, *kernel, channels)."""
    rows.fill(0)
    lead = (slice(None),) * (rows.ndim - 1)
    for index, region in offsets:
        rows[(slice(None),) + region] += gcols[lead + index]


def _sum_pieces(parts):
    """The pieces' shares summed in batch order: the same result whichever thread ran which."""
    return reduce(operator.add, map(parts.get, sorted(parts))) if parts else None


def _apply_row(ufunc, a, row, out=None, long_row=8192):
    """`ufunc(a, row, out=out)` (out: `a` itself by default, or a C-contiguous array of a's
    shape) for `a` of shape (..., len(row)), on rows about `long_row` long: NumPy loops over
    the innermost axis one call at a time, and a row of 32 or 64 filters makes that call
    dominate. Measured on a piece of the convnet's first conv (10,752 x 32, one thread): the
    bias add 0.15 -> 0.05 ms, relu's maximum with 0 (NumPy's scalar loop) 0.28 -> 0.05 ms."""
    out = a if out is None else out
    reps = max(long_row // len(row), 1)
    flat, flat_out = a.reshape(-1), out.reshape(-1)
    whole = flat.size // (reps * len(row)) * reps * len(row)
    if whole:
        head = flat_out[:whole].reshape(-1, reps * len(row))
        ufunc(flat[:whole].reshape(-1, reps * len(row)), xp.tile(row, reps), out=head)
    tail = flat_out[whole:].reshape(-1, len(row))
    ufunc(flat[whole:].reshape(-1, len(row)), row, out=tail)
    return out


# ========================================= transposed convolution ===================================

def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Transposed convolution (Keras's `ops.conv_transpose`): the adjoint of `conv` with the
    same kernel, run as a GEMM then col2im.

    Args:
        inputs: (batch, *spatial, in_channels) for channels_last, (batch, in_channels,
            *spatial) for channels_first; 1, 2 or 3 spatial axes.
        kernel: (*kernel_size, filters, in_channels).
        strides, dilation_rate: an int or one per spatial axis.
        padding: 'valid' (output (n - 1) * stride + max(window, stride)) or 'same' (output
            n * stride).
        output_padding: None, an int or one per axis, each less than its stride: the output is
            then (n - 1) * stride + window + output_padding ('valid') or (n - 1) * stride +
            window % 2 + output_padding ('same'); window = (kernel - 1) * dilation + 1.
        data_format: 'channels_last' (None) or 'channels_first'.
    Returns:
        (batch, *out, filters), or (batch, filters, *out) for channels_first.
    """
    op = "conv_transpose"
    data_format = data_format_of(data_format)
    x = as_tensor(inputs)
    kernel = as_tensor(kernel, like=x)
    rank, c = _rank_and_channels(op, x, kernel, data_format)
    f = kernel.shape[-2]
    if kernel.shape[-1] != c:
        raise ValueError(f"{op}: input has {c} channels (shape {x.shape}, {data_format}) but the "
                         f"kernel {kernel.shape} expects {kernel.shape[-1]} (its last axis)")
    mode = str(padding).lower()
    if mode not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got {padding!r}")
    stride = as_tuple(strides, rank, "strides")
    dilation = as_tuple(dilation_rate, rank, "dilation_rate")
    extra = (None,) * rank if output_padding is None else \
        as_tuple(output_padding, rank, "output_padding", minimum=0)
    if any(e is not None and e >= s for e, s in zip(extra, stride)):
        raise ValueError(f"{op}: output_padding must be less than strides along every axis, got "
                         f"output_padding={extra} with strides={stride}")
    if data_format == "channels_first":
        y = conv_transpose(to_channels_last(x), kernel, stride, mode, output_padding,
                           "channels_last", dilation)
        return to_channels_first(y)
    ksize, size = kernel.shape[:rank], x.shape[1:-1]
    crops = [transpose_crops(n, k, s, mode, e, d)
             for n, k, s, e, d in zip(size, ksize, stride, extra, dilation)]
    full = tuple((n - 1) * s + (k - 1) * d + 1 for n, k, s, d in zip(size, ksize, stride,
                                                                        dilation))
    out_size = tuple(p - lo - hi for p, (lo, hi) in zip(full, crops))
    if min(out_size) < 1:
        raise ValueError(f"{op}: output size {out_size} is not positive for input {x.shape}, "
                         f"kernel {kernel.shape}, strides {stride}, padding {mode!r}")
    # the full adjoint output, with room for the zeros that negative crops add after it
    room = tuple(p + max(0, -hi) for p, (_, hi) in zip(full, crops))
    keep = (slice(None),) + tuple(slice(lo, lo + o) for (lo, _), o in zip(crops, out_size))
    n, k_len = x.shape[0], kernel.size // c
    w = kernel.data.reshape(k_len, c)  # (positions * filters, in_channels)
    offsets = kernel_offsets(ksize, stride, dilation, size)
    rows_in = x.data.reshape(n, -1, c)
    buf = xp.zeros((n,) + room + (f,), dtype=xp.result_type(x.dtype, kernel.dtype))
    inner = (slice(None),) + tuple(slice(0, p) for p in full)  # where col2im writes

    def forward_rows(b):  # GEMM, then col2im into the full output
        gcols = rows_in[b] @ w.T
        _col2im(buf[b][inner], gcols.reshape((-1,) + size + ksize + (f,)), offsets)
    work = 2 * x.size // c * (k_len + c)
    backend.over_batch(forward_rows, n, work, calls_blas=True)

    def backward(g):  # the convolution's forward: im2col of the output's gradient, then GEMMs
        gbuf = xp.zeros(buf.shape, dtype=g.dtype)
        gbuf[keep] = g
        windows = window_view(gbuf[inner], ksize, stride, dilation, size)
        gx = xp.empty(x.shape, dtype=g.dtype) if x.requires_grad else None
        gk_parts = {}

        def backward_rows(b):
            cols = windows[b].reshape(-1, k_len)
            if gx is not None:
                xp.matmul(cols, w, out=gx[b].reshape(-1, c))
            if kernel.requires_grad:
                gk_parts[b.start or 0] = cols.T @ rows_in[b].reshape(-1, c)
        backend.over_batch(backward_rows, n, 3 * work, calls_blas=True)
        gk = _sum_pieces(gk_parts)
        return gx, None if gk is None else gk.reshape(kernel.shape)
    return Tensor._make(buf[keep], (x, kernel), backward, f"conv{rank}d_transpose")


# ============================================ Keras's faces =========================================

def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution, Keras's `ops.conv` (1, 2 or 3 spatial axes).

    Args:
        inputs: (batch, *spatial, channels) for channels_last, (batch, channels, *spatial)
            for channels_first.
        kernel: (*kernel_size, channels // groups, filters): grouped when the input has a
            multiple of the kernel's channels.
        strides, dilation_rate: an int or one per spatial axis.
        padding: 'valid' or 'same' (output ceil(input / stride)).
        data_format: 'channels_last' (None, Keras's default) or 'channels_first'.
    Returns:
        (batch, *out, filters) (channels_last) or (batch, filters, *out).

    Example:
        >>> ops.conv(np.ones((2, 10, 3)), np.ones((3, 3, 8))).shape
        (2, 8, 8)
    """
    _keras_padding("conv", padding)
    return convolve(inputs, kernel, None, strides, padding, dilation_rate, data_format)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Depthwise convolution, Keras's `ops.depthwise_conv`: each input channel convolved with
    its own `depth_multiplier` filters.

    Args:
        inputs: as `conv`, with C channels.
        kernel: (*kernel_size, C, depth_multiplier). Output channel c * depth_multiplier + m is
            channel c convolved with kernel[..., c, m].
        strides, padding, data_format, dilation_rate: as `conv`.
    Returns:
        (batch, *out, C * depth_multiplier) (channels_last) or channels first.
    """
    _keras_padding("depthwise_conv", padding)
    kernel = as_tensor(kernel)
    if kernel.ndim not in (3, 4, 5):
        raise ValueError(f"depthwise_conv: the kernel must have 3, 4 or 5 axes (*kernel_size, "
                         f"channels, depth_multiplier), got shape {kernel.shape}")
    x = as_tensor(inputs)
    c = x.shape[-1 if data_format_of(data_format) == "channels_last" else 1] \
        if x.ndim == kernel.ndim else None
    if c is not None and kernel.shape[-2] != c:
        raise ValueError(f"depthwise_conv: input has {c} channels (shape {x.shape}) but the "
                         f"kernel {kernel.shape} expects {kernel.shape[-2]}")
    # a convolution with one group per channel, its filters in channel-major order
    grouped = kernel.reshape(kernel.shape[:-2] + (1, kernel.shape[-2] * kernel.shape[-1]))
    return convolve(x, grouped, None, strides, padding, dilation_rate, data_format,
                    op="depthwise_conv")


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """Depthwise then pointwise (1 x 1) convolution, Keras's `ops.separable_conv`.

    Args:
        inputs: as `conv`, with C channels.
        depthwise_kernel: (*kernel_size, C, depth_multiplier).
        pointwise_kernel: (1, ..., 1, C * depth_multiplier, filters).
        strides, padding, data_format, dilation_rate: those of the depthwise step.
    Returns:
        (batch, *out, filters) (channels_last) or channels first.
    """
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return convolve(y, pointwise_kernel, None, 1, "valid", 1, data_format, op="separable_conv")


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
           data_format="channels_last", activation=None):
    """2-D convolution with the bias and relu fused in: `convolve` on 4-D inputs.

    Args:
        x: (N, H, W, C) for channels_last, (N, C, H, W) for channels_first.
        kernel: (kh, kw, C // groups, filters).
        bias: optional (filters,).
        strides, dilation_rate: int or pair. padding: 'valid', 'same', int, (ph, pw) or
            ((top, bottom), (left, right)).
        activation: None, or 'relu' to apply relu to the output (fused: in place, in the
            same sweep as the bias).
    Returns:
        (N, H_out, W_out, filters), or (N, filters, H_out, W_out) for channels_first.
    """
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"conv2d expects a 4-D input {axes_words(2, data_format_of(data_format))}"
                         f", got shape {x.shape}")
    kernel = as_tensor(kernel, like=x)
    if kernel.ndim != 4:
        raise ValueError(f"conv2d kernel must be 4-D (kh, kw, in_channels, filters), got shape "
                         f"{kernel.shape}")
    return convolve(x, kernel, bias, strides, padding, dilation_rate, data_format, activation,
                    op="conv2d")


def _keras_padding(op, padding):
    if str(padding).lower() not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got {padding!r}")
