"""Core ops, Keras's `keras.ops` core family: conversions, shapes and dtypes, slices and
scatters, gradients' edges, and control flow.

mgp runs eagerly, so the control flow is Python's own: `cond` calls one branch, `while_loop`
and `scan` loop, and gradients flow through whatever ops the branches and bodies use.
"""
import builtins
import inspect

import numpy as np

from mgp.backend import to_numpy, xp
from mgp.dtypes import standardize_dtype
from mgp.ops.numpy import (
    _axis, _make, _no_grad, _t, clip, concatenate, flip, get_item, stack,
)
from mgp.tensor import Tensor, cast, convert_to_tensor, no_grad  # noqa: F401 (Keras's core ops)

# ====================================== conversions and shapes ======================================


def convert_to_numpy(x):
    """x as a NumPy array (on the host, outside any graph)."""
    if isinstance(x, Tensor):
        return np.array(to_numpy(x.data))
    return np.asarray(x)


def is_tensor(x):
    """Whether x is an mgp Tensor."""
    return isinstance(x, Tensor)


def shape(x):
    """x's shape, a tuple of ints."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def dtype(x):
    """x's dtype, as a string ('float32')."""
    return standardize_dtype(_t(x).dtype)


def saturate_cast(x, dtype):
    """x cast to `dtype`, values first clipped to its range (no wraparound)."""
    x = _t(x)
    target = np.dtype(standardize_dtype(dtype))
    if target.kind in "iu":
        info = np.iinfo(target)
        lo, hi = info.min, info.max
        if x.dtype.kind == "f":  # the extremes as x's floats, moved inward if they round out
            lo_f, hi_f = x.dtype.type(lo), x.dtype.type(hi)
            if float(lo_f) < lo:
                lo_f = np.nextafter(lo_f, x.dtype.type(0))
            if float(hi_f) > hi:
                hi_f = np.nextafter(hi_f, x.dtype.type(0))
            lo, hi = float(lo_f), float(hi_f)
        x = clip(x, lo, hi)
    elif target.kind == "f" and x.dtype.kind == "f" and target.itemsize < x.dtype.itemsize:
        info = np.finfo(target)
        x = clip(x, float(info.min), float(info.max))
    return cast(x, target)


def stop_gradient(variable):
    """The value of `variable`, cut from the graph: no gradient flows back through it."""
    x = _t(variable)
    return Tensor(x.data, dtype=x.dtype)


def unstack(x, num=None, axis=0):
    """The slices of x along `axis`, as a list."""
    x = _t(x)
    axis = _axis(axis, x.ndim)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} but axis {axis} of shape {x.shape} has "
                         f"{x.shape[axis]} slices")
    head = (builtins.slice(None),) * axis
    return [get_item(x, head + (i,)) for i in range(x.shape[axis])]


# ========================================= slices, scatters =========================================

def slice(inputs, start_indices, shape):
    """The block of `inputs` of `shape` starting at `start_indices`."""
    x = _t(inputs)
    start = [int(i) for i in to_numpy(_t(start_indices).data).reshape(-1)]
    size = [int(n) for n in to_numpy(_t(shape).data).reshape(-1)]
    if len(start) != x.ndim or len(size) != x.ndim:
        raise ValueError(f"slice: start_indices {start} and shape {size} need one entry per "
                         f"axis of {x.shape}")
    return get_item(x, tuple(builtins.slice(s, s + n) for s, n in zip(start, size)))


def slice_update(inputs, start_indices, updates):
    """`inputs` with the block at `start_indices` replaced by `updates`; the gradient of the
    replaced block goes to `updates`."""
    x, u = _t(inputs), _t(updates)
    start = [int(i) for i in to_numpy(_t(start_indices).data).reshape(-1)]
    if len(start) != x.ndim or u.ndim != x.ndim:
        raise ValueError(f"slice_update: start_indices {start} and updates {u.shape} need "
                         f"one entry per axis of {x.shape}")
    key = tuple(builtins.slice(s, s + n) for s, n in zip(start, u.shape))
    if any(s < 0 or s + n > m for s, n, m in zip(start, u.shape, x.shape)):
        raise ValueError(f"slice_update: updates {u.shape} at {start} do not fit inside "
                         f"{x.shape}")
    out = x.data.copy()
    out[key] = u.data.astype(x.dtype, copy=False)

    def backward(g):
        gx = g.copy()
        gx[key] = 0
        return gx, g[key]
    return _make(out, (x, u), backward, "slice_update")


def _index_tuple(indices, ndim, op):
    idx = _t(indices).data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    if idx.ndim == 0 or idx.shape[-1] > ndim:
        raise ValueError(f"{op}: indices of shape {idx.shape} need a last axis of at most "
                         f"{ndim} coordinates")
    flat = idx.reshape(-1, idx.shape[-1]).astype(np.intp)
    return tuple(flat[:, k] for k in range(flat.shape[1])), idx.shape[:-1]


def scatter(indices, values, shape):
    """Zeros of `shape` with `values` added at `indices` (N, k) (a repeated index sums its
    values); the gradient of each value is read back at its index."""
    values = _t(values)
    shape = tuple(int(n) for n in shape)
    key, lead = _index_tuple(indices, len(shape), "scatter")
    rows = values.data.reshape((-1,) + shape[len(key):])
    out = xp.zeros(shape, dtype=values.dtype)
    xp.add.at(out, key, rows)
    return _make(out, (values,), lambda g: (g[key].reshape(values.shape),), "scatter")


def scatter_update(inputs, indices, updates, reduction=None):
    """`inputs` with `updates` written at `indices` (N, k): replacing them, or combined by
    `reduction` ('add', 'max', 'min', 'mul'). Differentiable for None and 'add'."""
    x = _t(inputs)
    u = _t(updates)
    if u.dtype != x.dtype:
        u = cast(u, x.dtype)
    key, _ = _index_tuple(indices, x.ndim, "scatter_update")
    rows = u.data.reshape((-1,) + x.shape[len(key):])
    out = x.data.copy()
    if reduction is None:
        out[key] = rows

        def backward(g):
            gx = g.copy()
            gx[key] = 0
            return gx, g[key].reshape(u.shape)
    elif reduction == "add":
        xp.add.at(out, key, rows)

        def backward(g):
            return g, g[key].reshape(u.shape)
    elif reduction in ("max", "min", "mul"):
        ufunc = {"max": xp.maximum, "min": xp.minimum, "mul": xp.multiply}[reduction]
        ufunc.at(out, key, rows)
        return _no_grad(out)
    else:
        raise ValueError(f"scatter_update: reduction must be None, 'add', 'max', 'min' or "
                         f"'mul', got {reduction!r}")
    return _make(out, (x, u), backward, "scatter_update")


# ========================================== control flow ============================================

def cond(pred, true_fn, false_fn):
    """true_fn() if pred holds, else false_fn()."""
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches, *operands):
    """branches[index](*operands), index clipped to the branches."""
    i = int(to_numpy(_t(index).data))
    return branches[builtins.min(builtins.max(i, 0), len(branches) - 1)](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeat `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` holds (at most
    `maximum_iterations` times); a tuple or list of loop variables comes back as a tuple, a
    single one as itself."""
    is_tuple = isinstance(loop_vars, (tuple, list))
    loop_vars = tuple(loop_vars) if is_tuple else (loop_vars,)
    loop_vars = tuple(_map_structure(_t, v) for v in loop_vars)
    step = 0
    while (maximum_iterations is None or step < maximum_iterations) and bool(cond(*loop_vars)):
        loop_vars = body(*loop_vars)
        loop_vars = tuple(loop_vars) if isinstance(loop_vars, (tuple, list)) else (loop_vars,)
        step += 1
    return loop_vars if is_tuple else loop_vars[0]


def fori_loop(lower, upper, body_fun, init_val):
    """val = body_fun(i, val) for i from lower to upper - 1; the final val."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def _flatten(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _flatten(item)]
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _flatten(tree[key])]
    return [tree]


def _pack(structure, leaves):
    """`leaves` (an iterator) in the nesting of `structure`."""
    if isinstance(structure, (list, tuple)):
        packed = [_pack(item, leaves) for item in structure]
        return type(structure)(packed) if not hasattr(structure, "_fields") \
            else type(structure)(*packed)
    if isinstance(structure, dict):
        return {key: _pack(structure[key], leaves) for key in sorted(structure)}
    return next(leaves)


def _map_structure(fn, *trees):
    flat = [_flatten(t) for t in trees]
    return _pack(trees[0], iter([fn(*leaves) for leaves in zip(*flat)]))


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop `carry, y = f(carry, x)` over the leading axis of xs (a tensor or a nested
    structure of them; None with `length` steps), from the end with `reverse`.

    Returns:
        (the final carry, the ys stacked along a new leading axis).
    """
    if not callable(f):
        raise TypeError(f"scan: f must be callable, got {f!r}")
    if xs is None and length is None:
        raise ValueError("scan: give xs to scan over, or length")
    leaves = [] if xs is None else [_t(v) for v in _flatten(xs)]
    n = int(length) if length is not None else leaves[0].shape[0]
    if any(v.shape[0] != n for v in leaves):
        raise ValueError(f"scan: every xs needs {n} steps along axis 0, got shapes "
                         f"{[v.shape for v in leaves]}")
    carry = _map_structure(_t, init)
    ys = []
    steps = range(n - 1, -1, -1) if reverse else range(n)
    for i in steps:
        x = None if xs is None else _pack(xs, iter([get_item(v, i) for v in leaves]))
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    return carry, _map_structure(lambda *step: stack(step), *ys)


def map(f, xs):
    """f applied to each slice of xs along its leading axis, the results stacked."""
    _, ys = scan(lambda carry, x: (carry, f(x)), (), xs)
    return ys


def vectorized_map(function, elements):
    """`function` applied to each slice of `elements` along its leading axis (a loop in mgp),
    the results stacked."""
    return map(function, elements)


def associative_scan(f, elems, reverse=False, axis=0):
    """All prefix combinations of elems along `axis` by an associative `f` (f(a, b) with a the
    earlier part): out[i] = f(...f(f(e[0], e[1]), e[2])..., e[i]). Hillis and Steele's scan:
    log2(n) passes, each one call of f on whole shifted slices."""
    leaves = [_t(v) for v in _flatten(elems)]
    n = leaves[0].shape[_axis(axis, leaves[0].ndim)]
    if any(v.shape[_axis(axis, v.ndim)] != n for v in leaves):
        raise ValueError(f"associative_scan: every element needs {n} entries along axis "
                         f"{axis}, got shapes {[v.shape for v in leaves]}")
    if reverse:
        leaves = [flip(v, axis) for v in leaves]

    def part(v, lo, hi):
        a = _axis(axis, v.ndim)
        return get_item(v, (builtins.slice(None),) * a + (builtins.slice(lo, hi),))

    offset = 1
    while offset < n:
        earlier = _pack(elems, iter([part(v, 0, n - offset) for v in leaves]))
        later = _pack(elems, iter([part(v, offset, n) for v in leaves]))
        combined = _flatten(f(earlier, later))
        leaves = [concatenate([part(v, 0, offset), c], _axis(axis, v.ndim))
                  for v, c in zip(leaves, (_t(c) for c in combined))]
        offset *= 2
    if reverse:
        leaves = [flip(v, axis) for v in leaves]
    return _pack(elems, iter(leaves))


# ============================================= gradients ============================================

def custom_gradient(f):
    """Decorate `f(*args)` returning `(output, grad_fn)` so that the output's gradient is
    `grad_fn`'s instead of the one its ops would give.

    `grad_fn` receives the upstream gradient as Keras's torch backend passes it,
    `grad_fn(*args, upstream=g)` (when it takes an `upstream` argument), or else as
    `grad_fn(g)`, and returns one gradient per tensor argument of f.

    Example:
        >>> @ops.custom_gradient
        ... def clip_gradient(x):
        ...     def grad(*args, upstream=None):
        ...         return ops.clip(upstream, -1.0, 1.0)
        ...     return x * 1.0, grad
    """
    def wrapped(*args, **kwargs):
        tensors = [a for a in args if isinstance(a, Tensor)]
        with no_grad():
            output, grad_fn = f(*args, **kwargs)
        output = _t(output)
        # Keras's torch convention is grad_fn(*args, upstream=g); a grad_fn(upstream) alone
        # (TensorFlow's and JAX's) takes the gradient positionally
        params = inspect.signature(grad_fn).parameters.values()
        keyword = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params) or (
            any(p.name == "upstream" for p in params) and len(params) > 1)

        def backward(g):
            upstream = Tensor(g, dtype=g.dtype)
            with no_grad():
                grads = grad_fn(*args, upstream=upstream) if keyword else grad_fn(upstream)
            grads = grads if isinstance(grads, (tuple, list)) else (grads,)
            if len(grads) != len(tensors):
                raise ValueError(f"custom_gradient: grad_fn returned {len(grads)} gradients "
                                 f"for {len(tensors)} tensor arguments")
            return tuple(None if v is None else _t(v).data for v in grads)
        return _make(output.data, tuple(tensors), backward, "custom_gradient")
    return wrapped
