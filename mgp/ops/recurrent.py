"""Fused sequence ops for the built-in recurrent layers: SimpleRNN, LSTM and GRU over a whole
sequence, each one op with its backward through time beside it.

Why fused: a recurrence built from per-step graph ops pays a Python-level node, several
temporaries and a small GEMM per gate per step, forward and backward. Here
- the input projection of every time step is one GEMM before the loop (and its gradients
  one GEMM each after it),
- only the recurrent product `h @ recurrent_kernel` stays inside the loop, written into
  preallocated buffers, with the gate math done in place,
- the backward walks the steps in reverse with the saved gates and collects the gate
  gradients of every step, so that the weight gradients are again single GEMMs.

Layout: the ops work time-major internally, (T, B, ...), so that each step reads and writes a
contiguous block. Steps are taken in processing order (reversed inputs for `go_backwards`).

Masks, as Keras's `rnn` loop applies them: at a masked step the states are carried over
unchanged. Each op returns the sequence of hidden states `hs` (B, T, units) after that rule;
the layer derives Keras's outputs from it (an output at a masked step repeats the previous
output, 0 before the first kept step).

Activations: the fused ops take Keras's defaults (tanh, and sigmoid for the gates; SimpleRNN
also relu or linear); other activations go through the per-step path of `mgp.layers.RNN`.
"""
import numpy as np

from mgp.backend import xp
from mgp.ops.linalg import _shared_outputs
from mgp.ops.numpy import _float, _make

# ============================================== helpers ============================================


def _sigmoid_(a):
    """sigmoid in place. exp overflows to inf for very negative inputs, giving exactly 0: the
    loops that call it run under `np.errstate(over="ignore")` (entered once, not per step)."""
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)
    return a


def _time_major(x, go_backwards):
    """(B, T, F) -> a contiguous (T, B, F) copy in processing order."""
    t = xp.swapaxes(x, 0, 1)
    return xp.ascontiguousarray(t[::-1] if go_backwards else t)


def _batch_major(s, go_backwards):
    """Undo `_time_major` on a gradient: (T, B, F) in processing order -> (B, T, F)."""
    return xp.ascontiguousarray(xp.swapaxes(s[::-1] if go_backwards else s, 0, 1))


def _step_masks(mask, go_backwards, dtype):
    """(T, B, 1) float 0/1 masks in processing order, or None."""
    if mask is None:
        return None
    return _time_major(xp.asarray(mask, dtype=dtype)[..., None], go_backwards)


def _project(xt, kernel, bias):
    """The input projection of every step at once: (T, B, F) @ (F, G) + bias -> (T, B, G)."""
    T, B, F = xt.shape
    z = (xt.reshape(T * B, F) @ kernel).reshape(T, B, -1)
    if bias is not None:
        z += bias
    return z


def _input_grads(xt, dz, kernel, go_backwards, need_dx=True):
    """Gradients of `_project` from the stacked gate gradients dz (T, B, G): dx (None unless
    needed: the inputs of a first layer need none), dkernel, dbias."""
    T, B, F = xt.shape
    dz2 = dz.reshape(T * B, -1)
    dx = _batch_major((dz2 @ kernel.T).reshape(T, B, F), go_backwards) if need_dx else None
    return dx, xt.reshape(T * B, F).T @ dz2, dz2.sum(axis=0)


def _inputs(x, kernel, recurrent_kernel, bias, states):
    x, kernel, recurrent_kernel = _float(x), _float(kernel), _float(recurrent_kernel)
    bias = None if bias is None else _float(bias)
    states = [_float(s) for s in states]
    return x, kernel, recurrent_kernel, bias, states


def _carry(m, new, old):
    """Keras's masked step: the new value where the step is kept, the old one elsewhere."""
    return new if m is None else xp.where(m > 0, new, old)


# ============================================= SimpleRNN ===========================================

_DERIVATIVES = {  # d activation / d pre-activation, written with the activation's output y
    "tanh": lambda y: 1 - y * y,
    "relu": lambda y: (y > 0).astype(y.dtype),
    "linear": lambda y: xp.ones_like(y),
}


def simple_rnn_sequence(x, h0, kernel, recurrent_kernel, bias=None, mask=None,
                        go_backwards=False, activation="tanh"):
    """h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias), for every step.

    Args:
        x: (B, T, F) inputs. h0: (B, U) initial state. kernel: (F, U). recurrent_kernel:
            (U, U). bias: (U,) or None. mask: (B, T) booleans or None. activation: 'tanh',
            'relu' or 'linear'.
    Returns:
        hs: (B, T, U), the state after each step, in processing order.
    """
    x, kernel, rk, bias, (h0,) = _inputs(x, kernel, recurrent_kernel, bias, [h0])
    act = {"tanh": xp.tanh, "relu": lambda a, out: xp.maximum(a, 0, out=out),
           "linear": lambda a, out: a}[activation]
    xt = _time_major(x.data, go_backwards)
    m = _step_masks(mask, go_backwards, xt.dtype)
    T = xt.shape[0]
    a = _project(xt, kernel.data, None if bias is None else bias.data)  # becomes the outputs
    h = xp.empty((T + 1,) + h0.shape, dtype=a.dtype)  # h[0] = h0, h[t + 1] after step t
    h[0] = h0.data
    R = rk.data
    for t in range(T):
        a[t] += h[t] @ R
        act(a[t], out=a[t])
        h[t + 1] = _carry(None if m is None else m[t], a[t], h[t])

    def backward(g):
        gt = _time_major(g, False)  # already in processing order
        dz = xp.empty_like(a)
        dh = xp.zeros_like(h[0])
        deriv = _DERIVATIVES[activation]
        for t in range(T - 1, -1, -1):
            dh += gt[t]
            if m is None:
                dz[t] = dh * deriv(a[t])
                dh = dz[t] @ R.T
            else:
                dz[t] = dh * m[t] * deriv(a[t])
                dh = dh * (1 - m[t]) + dz[t] @ R.T
        dx, dk, db = _input_grads(xt, dz, kernel.data, go_backwards, x.requires_grad)
        U = h.shape[-1]
        drk = h[:-1].reshape(-1, U).T @ dz.reshape(-1, U)
        return dx, dh, dk, drk, None if bias is None else db

    parents = (x, h0, kernel, rk) + (() if bias is None else (bias,))
    return _make(_batch_major(h[1:], False), parents,
                 lambda g: backward(g)[:len(parents)], "simple_rnn_sequence")


# =============================================== LSTM ==============================================

def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias=None, mask=None,
                  go_backwards=False):
    """Keras's LSTM over a whole sequence (gates in the order i, f, c, o; tanh and sigmoid).

    Args:
        x: (B, T, F). h0, c0: (B, U). kernel: (F, 4U). recurrent_kernel: (U, 4U). bias: (4U,)
            or None. mask: (B, T) booleans or None.
    Returns:
        (hs, c_last): the hidden state after each step (B, T, U) in processing order, and the
        last carry state (B, U).
    """
    x, kernel, rk, bias, (h0, c0) = _inputs(x, kernel, recurrent_kernel, bias, [h0, c0])
    xt = _time_major(x.data, go_backwards)
    m = _step_masks(mask, go_backwards, xt.dtype)
    (T, B), U = xt.shape[:2], h0.shape[-1]
    gates = _project(xt, kernel.data, None if bias is None else bias.data)  # (T, B, 4U)
    # one sigmoid over all four gates: the candidate's tanh(a) is 2 sigmoid(2a) - 1, so its
    # pre-activation columns are doubled, for every step at once and in the recurrent kernel
    gates[..., 2 * U:3 * U] *= 2
    R = rk.data.copy()
    R[:, 2 * U:3 * U] *= 2
    h = xp.empty((T + 1, B, U), dtype=gates.dtype)
    c = xp.empty_like(h)
    tc = xp.empty((T, B, U), dtype=gates.dtype)  # tanh of the new carry, per step
    h[0], c[0] = h0.data, c0.data
    rec, ig = xp.empty((B, 4 * U), dtype=gates.dtype), xp.empty((B, U), dtype=gates.dtype)
    with np.errstate(over="ignore"):  # the sigmoids' exp may overflow (see _sigmoid_)
        for t in range(T):
            z = gates[t]
            xp.matmul(h[t], R, out=rec)
            z += rec
            _sigmoid_(z)
            i, f, g, o = z[:, :U], z[:, U:2 * U], z[:, 2 * U:3 * U], z[:, 3 * U:]
            g *= 2
            g -= 1
            xp.multiply(f, c[t], out=c[t + 1])
            xp.multiply(i, g, out=ig)
            c[t + 1] += ig
            xp.tanh(c[t + 1], out=tc[t])
            xp.multiply(o, tc[t], out=h[t + 1])
            if m is not None:
                c[t + 1] = _carry(m[t], c[t + 1], c[t])
                h[t + 1] = _carry(m[t], h[t + 1], h[t])
    node = _make(xp.zeros((), dtype=gates.dtype),
                 (x, h0, c0, kernel, rk) + (() if bias is None else (bias,)), None, "lstm")
    grads = {}

    def backward(_):
        g_hs, g_c = grads.pop("hs", None), grads.pop("c", None)
        gt = xp.zeros_like(h[1:]) if g_hs is None else _time_major(g_hs, False)
        dh = xp.zeros_like(h[0])
        dc = xp.zeros_like(c[0]) if g_c is None else xp.array(g_c, dtype=c.dtype)
        # every step's local derivatives at once, vectorized over time, so that the loop does
        # a handful of operations a step: with dcn the gradient of the new carry,
        # dz = [dcn * g i (1 - i), dcn * c_prev f (1 - f), dcn * i (1 - g^2), dh * tc o (1 - o)]
        i, f, g, o = (gates[..., k * U:(k + 1) * U] for k in range(4))
        factor = xp.empty_like(gates)
        factor[..., :U] = g * i * (1 - i)
        factor[..., U:2 * U] = c[:-1] * f * (1 - f)
        factor[..., 2 * U:3 * U] = i * (1 - g * g)
        factor[..., 3 * U:] = tc * o * (1 - o)
        dcn_dh = o * (1 - tc * tc)
        factor4 = factor.reshape(T, B, 4, U)
        dz = xp.empty_like(gates)
        dz4 = dz.reshape(T, B, 4, U)
        RT = xp.ascontiguousarray(rk.data.T)
        for t in range(T - 1, -1, -1):
            dh += gt[t]
            if m is not None:  # a masked step passes the gradients straight to the previous
                dh_old, dc_old = dh * (1 - m[t]), dc * (1 - m[t])
                dh *= m[t]
                dc *= m[t]
            dc += dh * dcn_dh[t]                                   # now the new carry's
            xp.multiply(dc[:, None, :], factor4[t, :, :3], out=dz4[t, :, :3])   # i, f, cand.
            xp.multiply(dh, factor4[t, :, 3], out=dz4[t, :, 3])                  # o
            dc *= f[t]
            xp.matmul(dz[t], RT, out=dh)
            if m is not None:
                dh += dh_old
                dc += dc_old
        dx, dk, db = _input_grads(xt, dz, kernel.data, go_backwards, x.requires_grad)
        drk = h[:-1].reshape(-1, U).T @ dz.reshape(-1, 4 * U)
        return (dx, dh, dc, dk, drk) + (() if bias is None else (db,))
    hs, c_last = _shared_outputs(node, backward, grads, [("hs", _batch_major(h[1:], False)),
                                                         ("c", c[-1].copy())])
    return hs, c_last


# =============================================== GRU ===============================================

def gru_sequence(x, h0, kernel, recurrent_kernel, bias=None, mask=None, go_backwards=False,
                 reset_after=True):
    """Keras's GRU over a whole sequence (gates in the order z, r, h; tanh and sigmoid).

    Args:
        x: (B, T, F). h0: (B, U). kernel: (F, 3U). recurrent_kernel: (U, 3U). bias: None, or
            (2, 3U) (input and recurrent biases) with `reset_after`, else (3U,). mask: (B, T)
            booleans or None. reset_after: apply the reset gate after the recurrent product
            (Keras 3's default) or before it.
    Returns:
        hs: (B, T, U), the state after each step, in processing order.
    """
    x, kernel, rk, bias, (h0,) = _inputs(x, kernel, recurrent_kernel, bias, [h0])
    xt = _time_major(x.data, go_backwards)
    m = _step_masks(mask, go_backwards, xt.dtype)
    T, U = xt.shape[0], h0.shape[-1]
    b_in = b_rec = None
    if bias is not None:
        b_in, b_rec = (bias.data[0], bias.data[1]) if reset_after else (bias.data, None)
    gates = _project(xt, kernel.data, b_in)  # (T, B, 3U): z, r, candidate
    h = xp.empty((T + 1,) + h0.shape, dtype=gates.dtype)
    h[0] = h0.data
    R = rk.data
    # reset_after: the recurrent candidate term h @ R_h (+ its bias); else r * h, per step
    saved = xp.empty((T,) + h0.shape, dtype=gates.dtype)
    with np.errstate(over="ignore"):  # the sigmoids' exp may overflow (see _sigmoid_)
        for t in range(T):
            z = gates[t]
            if reset_after:
                inner = h[t] @ R
                if b_rec is not None:
                    inner += b_rec
                z[:, :2 * U] += inner[:, :2 * U]
                _sigmoid_(z[:, :2 * U])
                saved[t] = inner[:, 2 * U:]
                z[:, 2 * U:] += z[:, U:2 * U] * saved[t]
            else:
                z[:, :2 * U] += h[t] @ R[:, :2 * U]
                _sigmoid_(z[:, :2 * U])
                xp.multiply(z[:, U:2 * U], h[t], out=saved[t])
                z[:, 2 * U:] += saved[t] @ R[:, 2 * U:]
            xp.tanh(z[:, 2 * U:], out=z[:, 2 * U:])
            zz, hh = z[:, :U], z[:, 2 * U:]
            hn = hh + zz * (h[t] - hh)   # z * h + (1 - z) * hh
            h[t + 1] = _carry(None if m is None else m[t], hn, h[t])

    def backward(g):
        gt = _time_major(g, False)  # already in processing order
        B = h.shape[1]
        dh = xp.zeros_like(h[0])
        zz, r, hh = (gates[..., k * U:(k + 1) * U] for k in range(3))
        # every step's local derivatives at once, vectorized over time: the candidate's and
        # z's pre-activation gradients are dh times them (and r's too, after the recurrent
        # product with reset_after), so the loop does a handful of operations a step
        factor = xp.empty_like(gates)
        factor[..., 2 * U:] = (1 - zz) * (1 - hh * hh)                 # candidate
        factor[..., :U] = (h[:-1] - hh) * zz * (1 - zz)                # z
        if reset_after:
            factor[..., U:2 * U] = factor[..., 2 * U:] * saved * r * (1 - r)   # r
        else:
            factor[..., U:2 * U] = h[:-1] * r * (1 - r)    # times d(r * h), found in the loop
        factor3 = factor.reshape(T, B, 3, U)
        dz = xp.empty_like(gates)   # gradients of the input-side pre-activations
        dz3 = dz.reshape(T, B, 3, U)
        drec = xp.empty_like(gates) if reset_after else None  # of h @ R (+ b_rec)
        RT = xp.ascontiguousarray(R.T)
        back = xp.empty((B, U), dtype=gates.dtype)
        for t in range(T - 1, -1, -1):
            dh += gt[t]
            if m is not None:
                dh_old = dh * (1 - m[t])
                dh *= m[t]
            if reset_after:
                xp.multiply(dh[:, None, :], factor3[t], out=dz3[t])
                drec[t, :, :2 * U] = dz[t, :, :2 * U]
                xp.multiply(dz[t, :, 2 * U:], r[t], out=drec[t, :, 2 * U:])
                xp.matmul(drec[t], RT, out=back)
            else:
                xp.multiply(dh, factor3[t, :, 0], out=dz3[t, :, 0])
                xp.multiply(dh, factor3[t, :, 2], out=dz3[t, :, 2])
                drh = dz[t, :, 2 * U:] @ RT[2 * U:]                     # d(r * h_prev)
                xp.multiply(drh, factor3[t, :, 1], out=dz3[t, :, 1])
                xp.matmul(dz[t, :, :2 * U], RT[:2 * U], out=back)
                back += drh * r[t]
            dh *= zz[t]
            dh += back
            if m is not None:
                dh += dh_old
        dx, dk, db = _input_grads(xt, dz, kernel.data, go_backwards, x.requires_grad)
        hp = h[:-1].reshape(-1, U)
        if reset_after:
            drk = hp.T @ drec.reshape(-1, 3 * U)
            db = xp.stack([db, drec.reshape(-1, 3 * U).sum(axis=0)])
        else:
            d2 = dz.reshape(-1, 3 * U)
            drk = xp.concatenate([hp.T @ d2[:, :2 * U],
                                  saved.reshape(-1, U).T @ d2[:, 2 * U:]], axis=1)
        return (dx, dh, dk, drk) + (() if bias is None else (db,))

    parents = (x, h0, kernel, rk) + (() if bias is None else (bias,))
    return _make(_batch_major(h[1:], False), parents, backward, "gru_sequence")
