"""Math ops, Keras's `keras.ops` math family: special functions, segment reductions, top-k,
Fourier transforms and frames.

Complex results come as Keras gives them, a (real, imag) pair of float tensors, and complex
inputs are taken as such pairs, so every transform here is differentiable: the Fourier
transforms are linear, and each backward is the adjoint transform.
"""
import math

import numpy as np

from mgp.backend import xp, to_numpy
from mgp.ops.numpy import (
    _axes, _float, _keep, _make, _no_grad, _reduced_shape, _t, cast,
    divide, expand_dims, get_item, multiply, pad, slogdet, sqrt, square, subtract, sum,
    take_along_axis, where,
)
from mgp.tensor import Tensor

# ========================================= special functions ========================================

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
    erf_ = s * (1 - poly * e)
    # d/dz of 1 - poly(t(z)) e^{-z^2}, with dt/dz = -p t^2; even in z, so the sign drops out
    derf = (dpoly_dt * _ERF_P * t * t + 2 * az * poly) * e
    return erf_.astype(z.dtype, copy=False), derf.astype(z.dtype, copy=False)


def erf(x):
    """The error function, to 1.5e-7 (Abramowitz & Stegun 7.1.26)."""
    x = _float(x)
    out, d = _erf_and_derivative(x.data)
    return _make(out, (x,), lambda g: (g * d,), "erf")


def erfc(x):
    """1 - erf(x)."""
    return subtract(1.0, erf(x))


def erfinv(x):
    """The inverse error function on (-1, 1), by Giles's single-precision approximation (2010);
    its gradient is sqrt(pi) / 2 * exp(erfinv(x)**2)."""
    x = _float(x)
    d = x.data
    w = -xp.log((1 - d) * (1 + d))
    central, tail = w - 2.5, xp.sqrt(xp.maximum(w, 5)) - 3
    p = xp.full_like(d, 2.81022636e-08)
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p = c + p * central
    q = xp.full_like(d, -0.000200214257)
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        q = c + q * tail
    out = (xp.where(w < 5, p, q) * d).astype(d.dtype, copy=False)
    return _make(out, (x,), lambda g: (g * (math.sqrt(math.pi) / 2) * xp.exp(out * out),),
                 "erfinv")


def rsqrt(x):
    """1 / sqrt(x)."""
    x = _float(x)
    out = 1 / xp.sqrt(x.data)
    return _make(out, (x,), lambda g: (-0.5 * g * out * out * out,), "rsqrt")


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over `axis`, stable for large |x| (own backward: softmax weights)."""
    x = _float(x)
    axes = _axes(axis, x.ndim)
    m = x.data.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    s = xp.exp(x.data - m).sum(axis=axes, keepdims=True)
    out = xp.log(s) + m

    def backward(g):
        # softmax weights from the shifted logits: exp(x - out) would lose the digits that
        # rounding `out` to float32 cost (1e-4 relative at |x| ~ 1e4)
        return (_keep(g, x.shape, axes, keepdims) * (xp.exp(x.data - m) / s),)
    return _make(out if keepdims else out.reshape(_reduced_shape(x.shape, axes)), (x,), backward,
                 "logsumexp")


def logdet(x):
    """log(det(x)) of square matrices: NaN where the determinant is negative."""
    sign, logabs = slogdet(x)
    return where(sign.data < 0, float("nan"), where(sign.data == 0, -math.inf, logabs))


def cdist(x, y):
    """Euclidean distances between the rows of x (..., P, M) and y (..., R, M): (..., P, R)."""
    x, y = _t(x), _t(y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(f"cdist: needs inputs of rank 2 or more, got {x.shape} and {y.shape}")
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(f"cdist: the last dimensions differ: {x.shape} and {y.shape}")
    d = subtract(expand_dims(x, -2), expand_dims(y, -3))
    return sqrt(sum(square(d), -1))


# ========================================= segments and top-k =======================================

def _segments(name, data, segment_ids, num_segments):
    data, ids = _t(data), _t(segment_ids)
    if ids.ndim != 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"{name}: segment_ids must be 1-D with one id per row of data "
                         f"{data.shape}, got shape {ids.shape}")
    ids = ids.data.astype(np.intp)
    n = int(num_segments) if num_segments is not None else \
        (int(ids.max()) + 1 if ids.size else 0)
    keep = (ids >= 0) & (ids < n)  # ids outside [0, num_segments) are dropped, as Keras
    return data, ids, keep, n


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of data's rows by segment: out[s] = sum of data[i] with segment_ids[i] == s."""
    data, ids, keep, n = _segments("segment_sum", data, segment_ids, num_segments)
    out = xp.zeros((n,) + data.shape[1:], dtype=data.dtype)
    xp.add.at(out, ids[keep], data.data[keep])

    def backward(g):
        gx = xp.zeros(data.shape, dtype=g.dtype)
        gx[keep] = g[ids[keep]]
        return (gx,)
    return _make(out, (data,), backward, "segment_sum")


def _segment_extremum(name, data, segment_ids, num_segments, ufunc, empty):
    data, ids, keep, n = _segments(name, data, segment_ids, num_segments)
    fill = empty if data.dtype.kind == "f" else (np.iinfo(data.dtype).min if empty < 0
                                                 else np.iinfo(data.dtype).max)
    out = xp.full((n,) + data.shape[1:], fill, dtype=data.dtype)
    ufunc.at(out, ids[keep], data.data[keep])

    def backward(g):
        # ties within a segment share its gradient evenly
        hit = xp.zeros(data.shape, dtype=bool)
        hit[keep] = data.data[keep] == out[ids[keep]]
        count = xp.zeros(out.shape, dtype=g.dtype)
        xp.add.at(count, ids[keep], hit[keep].astype(g.dtype))
        gx = xp.zeros(data.shape, dtype=g.dtype)
        gx[keep] = xp.where(hit[keep], g[ids[keep]] / xp.maximum(count[ids[keep]], 1), 0)
        return (gx,)
    return _make(out, (data,), backward, name)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maxima of data's rows by segment (-inf, or the dtype's minimum, for an empty one)."""
    return _segment_extremum("segment_max", data, segment_ids, num_segments, xp.maximum,
                             -math.inf)


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Minima of data's rows by segment (inf, or the dtype's maximum, for an empty one)."""
    return _segment_extremum("segment_min", data, segment_ids, num_segments, xp.minimum,
                             math.inf)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Products of data's rows by segment (1 for an empty one); exact gradient with zeros."""
    data, ids, keep, n = _segments("segment_prod", data, segment_ids, num_segments)
    out = xp.ones((n,) + data.shape[1:], dtype=data.dtype)
    xp.multiply.at(out, ids[keep], data.data[keep])

    def backward(g):
        d = data.data[keep]
        zero = d == 0
        zeros = xp.zeros(out.shape, dtype=np.int64)
        xp.add.at(zeros, ids[keep], zero.astype(np.int64))
        nonzero_prod = xp.ones(out.shape, dtype=data.dtype)
        xp.multiply.at(nonzero_prod, ids[keep], xp.where(zero, 1, d))
        z, p, o = zeros[ids[keep]], nonzero_prod[ids[keep]], out[ids[keep]]
        share = xp.where(z == 0, o / xp.where(zero, 1, d), xp.where((z == 1) & zero, p, 0))
        gx = xp.zeros(data.shape, dtype=g.dtype)
        gx[keep] = g[ids[keep]] * share
        return (gx,)
    return _make(out, (data,), backward, "segment_prod")


def top_k(x, k, sorted=True):
    """The k largest values along the last axis and their indices (int32), largest first; the
    gradient flows to the values' positions."""
    x = _t(x)
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} is out of range for a last axis of {x.shape[-1]}")
    data = x.data.astype(np.uint8) if x.dtype == np.bool_ else x.data
    # stable sort of the negated values: among ties, the first index first
    order = xp.argsort(-data.astype(np.float64) if data.dtype.kind == "u" else -data, axis=-1,
                       kind="stable")[..., :k]
    indices = _no_grad(order.astype(np.int32))
    return take_along_axis(x, indices, -1), indices


def in_top_k(targets, predictions, k):
    """Whether each target class is among the k largest predictions of its row (ties with
    the k-th largest count as in)."""
    predictions = _t(predictions)
    t = _t(targets).data.astype(np.intp)
    if not 0 < k:
        raise ValueError(f"in_top_k: k must be positive, got {k}")
    kth = -xp.sort(-predictions.data, axis=-1)[..., min(k, predictions.shape[-1]) - 1]
    target_values = xp.take_along_axis(predictions.data, t[:, None], -1)[:, 0]
    return _no_grad(target_values >= kth)


# ======================================= Fourier transforms =========================================

def _complex_pair(name, x):
    """A (real, imag) pair of float tensors of one shape."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{name}: x must be a (real, imag) pair of tensors, got {type(x)}")
    real, imag = _t(x[0]), _t(x[1])
    if real.shape != imag.shape:
        raise ValueError(f"{name}: the real part {real.shape} and the imaginary part "
                         f"{imag.shape} must have the same shape")
    if real.dtype.kind != "f" or imag.dtype.kind != "f":
        raise ValueError(f"{name}: the real and imaginary parts must be float tensors, got "
                         f"{real.dtype} and {imag.dtype}")
    if real.dtype != imag.dtype:
        dtype = np.result_type(real.dtype, imag.dtype)
        real, imag = cast(real, dtype), cast(imag, dtype)
    return real, imag


def _split_complex(name, out, parents, backward, dtype):
    """One graph node holding the complex result, and its (real, imag) parts as two more."""
    z = _make(out.astype(np.result_type(dtype, np.complex64), copy=False), parents, backward,
              name)
    real = _make(xp.real(z.data).astype(dtype), (z,), lambda g: (g.astype(z.dtype),), "real")
    imag = _make(xp.imag(z.data).astype(dtype), (z,), lambda g: (1j * g.astype(z.dtype),),
                 "imag")
    return real, imag


def _complex_transform(name, x, forward, adjoint):
    real, imag = _complex_pair(name, x)
    out = forward(real.data + 1j * imag.data)

    def backward(g):  # g: the complex gradient gr + i gi; the adjoint maps it back
        a = adjoint(g)
        return xp.real(a), xp.imag(a)
    return _split_complex(name, out, (real, imag), backward, real.dtype)


def fft(x):
    """The discrete Fourier transform over the last axis of a (real, imag) pair."""
    return _complex_transform("fft", x, lambda z: xp.fft.fft(z, axis=-1),
                              lambda g: xp.fft.ifft(g, axis=-1) * g.shape[-1])


def fft2(x):
    """The 2-D discrete Fourier transform over the last two axes of a (real, imag) pair."""
    return _complex_transform("fft2", x, lambda z: xp.fft.fft2(z, axes=(-2, -1)),
                              lambda g: xp.fft.ifft2(g, axes=(-2, -1))
                              * (g.shape[-1] * g.shape[-2]))


def ifft2(x):
    """The inverse of `fft2`."""
    return _complex_transform("ifft2", x, lambda z: xp.fft.ifft2(z, axes=(-2, -1)),
                              lambda g: xp.fft.fft2(g, axes=(-2, -1))
                              / (g.shape[-1] * g.shape[-2]))


def rfft(x, fft_length=None):
    """The Fourier transform of a real signal over its last axis (cut or zero-padded to
    `fft_length`): the fft_length // 2 + 1 non-negative frequencies, as (real, imag)."""
    x = _float(x)
    n_in = x.shape[-1]
    n = n_in if fft_length is None else int(fft_length)
    out = xp.fft.rfft(x.data, n=n, axis=-1)

    def backward(g):
        # the adjoint of keeping half the spectrum of a zero-padded signal
        full = xp.zeros(g.shape[:-1] + (n,), dtype=g.dtype)
        full[..., :g.shape[-1]] = g
        gx = xp.real(xp.fft.ifft(full, axis=-1)) * n
        if n >= n_in:
            return (gx[..., :n_in],)
        return (xp.concatenate([gx, xp.zeros(gx.shape[:-1] + (n_in - n,), gx.dtype)], -1),)
    return _split_complex("rfft", out, (x,), backward, x.dtype)


def irfft(x, fft_length=None):
    """The real signal (of `fft_length`, by default 2 * (m - 1)) whose `rfft` is the (real,
    imag) pair x of m frequencies."""
    real, imag = _complex_pair("irfft", x)
    m = real.shape[-1]
    n = 2 * (m - 1) if fft_length is None else int(fft_length)
    out = xp.fft.irfft(real.data + 1j * imag.data, n=n, axis=-1).astype(real.dtype)

    def backward(g):
        # irfft counts each frequency but 0 (and n/2) twice, through its conjugate
        spec = xp.fft.rfft(g, axis=-1)
        k = spec.shape[-1]
        weight = xp.full(k, 2.0)
        weight[0] = 1
        if n % 2 == 0:
            weight[-1] = 1
        spec = spec * weight / n
        if k >= m:
            spec = spec[..., :m]
        else:
            spec = xp.concatenate([spec, xp.zeros(spec.shape[:-1] + (m - k,), spec.dtype)], -1)
        return xp.real(spec), xp.imag(spec)
    return _make(out, (real, imag), backward, "irfft")


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of x's last axis: (..., num_frames, sequence_length), every `sequence_stride`
    samples."""
    x = _t(x)
    n = x.shape[-1]
    if sequence_length > n:
        raise ValueError(f"extract_sequences: sequence_length {sequence_length} is longer than "
                         f"the last axis of {x.shape}")
    count = (n - sequence_length) // sequence_stride + 1
    index = np.arange(count)[:, None] * sequence_stride + np.arange(sequence_length)
    return get_item(x, (Ellipsis, xp.asarray(index)))


def _stft_window(name, window, sequence_length, fft_length, dtype):
    """The window, of sequence_length, centred in fft_length."""
    if window is None:
        w = np.ones(sequence_length)
    elif isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"{name}: window must be 'hann', 'hamming', a tensor or None, got "
                             f"{window!r}")
        k = np.arange(sequence_length)  # periodic windows, as Keras uses
        a = 0.5 if window == "hann" else 0.54
        w = a - (1 - a) * np.cos(2 * math.pi * k / sequence_length)
    else:
        w = to_numpy(_t(window).data).astype(np.float64)
        if w.shape != (sequence_length,):
            raise ValueError(f"{name}: the window must have shape ({sequence_length},), got "
                             f"{w.shape}")
    left = (fft_length - sequence_length) // 2
    return np.pad(w, (left, fft_length - sequence_length - left)).astype(dtype)


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """The short-time Fourier transform of x's last axis: frames of `fft_length` every
    `sequence_stride` samples, windowed, transformed; (real, imag) of shape
    (..., num_frames, fft_length // 2 + 1). `center` reflect-pads fft_length // 2 on each side,
    so frame t is centred on sample t * sequence_stride."""
    x = _t(x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"stft: x must be float32 or float64, got {x.dtype}")
    if fft_length < sequence_length:
        raise ValueError(f"stft: fft_length {fft_length} must be at least sequence_length "
                         f"{sequence_length}")
    w = _stft_window("stft", window, sequence_length, fft_length, x.dtype)
    if center:
        half = fft_length // 2
        x = pad(x, [(0, 0)] * (x.ndim - 1) + [(half, half)], mode="reflect")
    frames = multiply(extract_sequences(x, fft_length, sequence_stride), Tensor(xp.asarray(w)))
    return rfft(frames, fft_length)


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """The inverse of `stft`: each frame's inverse transform, windowed again and overlap-added,
    divided by the summed squared windows; `length` cuts or pads the result."""
    real, imag = _complex_pair("istft", x)
    w = _stft_window("istft", window, sequence_length, fft_length, real.dtype)
    frames = irfft((real, imag), fft_length)  # (..., num_frames, fft_length)
    count = frames.shape[-2]
    total = fft_length + sequence_stride * (count - 1)
    starts = np.arange(count) * sequence_stride
    if sequence_length == fft_length and center and window is not None:
        # the exact envelope: sum over frames of the squared window at each sample
        envelope = np.zeros(total)
        for s in starts:
            envelope[s:s + fft_length] += w.astype(np.float64) ** 2
    else:  # the steady-state envelope, periodic in the stride, as Keras's general case
        envelope = None
    if envelope is None and window is not None:
        denom_len = -(-fft_length // sequence_stride) * sequence_stride
        sq = np.pad(w.astype(np.float64) ** 2, (0, denom_len - fft_length))
        per = sq.reshape(-1, sequence_stride).sum(0)
        w_eff = w / np.tile(per, denom_len // sequence_stride)[:fft_length]
        frames = multiply(frames, Tensor(xp.asarray(w_eff.astype(real.dtype))))
    elif envelope is not None:
        frames = multiply(frames, Tensor(xp.asarray(w)))
    out = _overlap_add(frames, starts, total)
    if envelope is not None:
        out = divide(out, Tensor(xp.asarray(np.where(envelope > 1e-11, envelope, 1)
                                            .astype(real.dtype))))
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = total - fft_length // 2
    else:
        end = total
    out = get_item(out, (Ellipsis, slice(start, end)))
    if length is not None and out.shape[-1] < length:
        out = pad(out, [(0, 0)] * (out.ndim - 1) + [(0, length - out.shape[-1])])
    return out


def _overlap_add(frames, starts, total):
    """Frames (..., count, length) summed into a signal (..., total), frame i from sample
    starts[i]; the gradient of a frame is the signal's gradient under it."""
    length = frames.shape[-1]
    out = xp.zeros(frames.shape[:-2] + (total,), dtype=frames.dtype)
    for i, s in enumerate(starts):  # a strided add per frame (a handful of them overlap)
        out[..., s:s + length] += frames.data[..., i, :]
    index = xp.asarray(np.asarray(starts)[:, None] + np.arange(length))
    return _make(out, (frames,), lambda g: (g[..., index],), "overlap_add")


def view_as_complex(x):
    """A real tensor (..., 2) as complex (...,) (no gradient)."""
    x = _float(x)
    if x.shape[-1] != 2:
        raise ValueError(f"view_as_complex: the last axis must have size 2, got {x.shape}")
    return _no_grad(x.data[..., 0] + 1j * x.data[..., 1])


def view_as_real(x):
    """A complex tensor (...,) as real (..., 2) (no gradient)."""
    x = _t(x)
    return _no_grad(xp.stack([xp.real(x.data), xp.imag(x.data)], -1))
