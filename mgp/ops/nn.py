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
