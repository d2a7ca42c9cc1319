"""Linear algebra, Keras's `keras.ops.linalg`: factorizations, solves, inverses and norms over
the last two axes (batches broadcast in front).

Each differentiable factorization carries its backward (the matrix-calculus adjoints of
Murray 2016 for Cholesky, Walter & Lehmann 2018 for QR, Townsend 2016 for the SVD); inverses,
pseudo-inverses and least squares are composed from them.
"""
import builtins
import math

import numpy as np

from mgp.backend import to_numpy, xp
from mgp.ops.numpy import (
    _axes, _float, _make, _no_grad, _t, absolute, amax, amin, divide, expand_dims, matmul, power,
    reshape, sum, swapaxes, transpose, tril, triu, where,
)
from mgp.tensor import Tensor, enable_grad


def _square(op, x):
    x = _float(x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{op}: needs square matrices in the last two axes, got shape "
                         f"{x.shape}")
    return x


def _t_(a):
    return xp.swapaxes(a, -1, -2)


def _sym(a):
    return 0.5 * (a + _t_(a))


# ============================================== inverses ============================================

def inv(x):
    """The inverse of square matrices; its gradient is -inv^T g inv^T."""
    x = _square("inv", x)
    out = xp.linalg.inv(x.data)
    return _make(out, (x,), lambda g: (-_t_(out) @ g @ _t_(out),), "inv")


def det(x):
    """The determinant of square matrices; its gradient is det * inv(x)^T."""
    x = _square("det", x)
    out = xp.linalg.det(x.data)
    return _make(out, (x,), lambda g: ((g * out)[..., None, None] * _t_(xp.linalg.inv(x.data)),),
                 "det")


def solve(a, b):
    """x with a @ x = b, for square a (..., n, n) and b (..., n, k), or (..., n) vectors."""
    a = _square("solve", a)
    b = _float(b)
    vector = b.ndim == a.ndim - 1
    B = b.data[..., None] if vector else b.data
    try:
        X = xp.linalg.solve(a.data, B)
    except ValueError:
        raise ValueError(f"solve: a {a.shape} and b {b.shape} do not fit") from None

    def backward(g):
        G = g[..., None] if vector else g
        gb = xp.linalg.solve(_t_(a.data), G)
        ga = -gb @ _t_(X)
        return ga, (gb[..., 0] if vector else gb)
    return _make(X[..., 0] if vector else X, (a, b), backward, "solve")


def solve_triangular(a, b, lower=False):
    """x with a @ x = b, a lower (or upper) triangular: only that triangle of a is read."""
    a = _square("solve_triangular", a)
    tri = tril(a) if lower else triu(a)
    return solve(tri, b)


def cholesky(x, upper=False):
    """The Cholesky factor L (lower, L @ L^T = x) of symmetric positive definite matrices, or
    its transpose with `upper`. Only the lower triangle of x is read."""
    x = _square("cholesky", x)
    try:
        L = xp.linalg.cholesky(x.data)
    except np.linalg.LinAlgError:
        raise ValueError("cholesky: the matrix is not positive definite") from None

    def backward(g):
        gL = _t_(g) if upper else g
        # Murray's adjoint: phi(L^T gL), phi = the lower triangle with a halved diagonal
        P = xp.tril(_t_(L) @ gL)
        P = P - 0.5 * xp.tril(xp.triu(P))
        Linv = xp.linalg.inv(L)
        gx = _t_(Linv) @ P @ Linv
        return (xp.tril(gx + _t_(gx)) - xp.tril(xp.triu(gx)),)  # on the triangle that is read
    return _make(_t_(L).copy() if upper else L, (x,), backward, "cholesky")


def cholesky_inverse(x, upper=False):
    """The inverse of L @ L^T (of U^T @ U with `upper`) from its Cholesky factor."""
    x = _square("cholesky_inverse", x)
    factor_inv = inv(x)
    if upper:
        return matmul(factor_inv, swapaxes(factor_inv, -1, -2))
    return matmul(swapaxes(factor_inv, -1, -2), factor_inv)


# ========================================== decompositions ==========================================

def _off_diagonal_inverse(values):
    """F_ij = 1 / (values_j - values_i) off the diagonal, 0 on it."""
    d = values[..., None, :] - values[..., :, None]
    eye = xp.eye(values.shape[-1], dtype=bool)
    return xp.where(eye, 0, 1 / xp.where(eye, 1, d))


def eigh(x):
    """(eigenvalues ascending, eigenvectors as columns) of symmetric matrices (the lower
    triangle is read). The gradient assumes distinct eigenvalues."""
    x = _square("eigh", x)
    w, V = xp.linalg.eigh(x.data)
    node = _make(xp.zeros(()), (x,), None, "eigh")  # the pair's shared parent, set below
    gw_gV = {}

    def backward(_):
        gw, gV = gw_gV.pop("w", None), gw_gV.pop("V", None)
        inner = xp.zeros(V.shape, dtype=V.dtype)
        if gw is not None:
            inner = inner + gw[..., None] * xp.eye(w.shape[-1], dtype=V.dtype)
        if gV is not None:
            inner = inner + _off_diagonal_inverse(w) * (_t_(V) @ gV)
        gx = V @ inner @ _t_(V)
        # eigh reads the lower triangle: fold the upper part's share onto it
        return (xp.tril(gx + _t_(gx)) - xp.tril(xp.triu(gx)),)
    return _shared_outputs(node, backward, gw_gV, [("w", w), ("V", V)])


def _shared_outputs(node, backward, store, outputs):
    """Several outputs of one factorization: each passes its gradient into `store`, and the
    node they share runs `backward` once all have arrived (the graph walk reaches it after
    every output that was used)."""
    if node.requires_grad:
        node._backward = backward
    outs = []
    for key, value in outputs:
        def put(g, key=key):
            store[key] = g
            return (xp.zeros(()),)
        outs.append(_make(value, (node,), put, key))
    return tuple(outs)


def eig(x):
    """(eigenvalues, eigenvectors as columns) of square matrices, always complex (complex64 for
    float32 input); no gradient."""
    x = _square("eig", x)
    w, V = np.linalg.eig(to_numpy(x.data))  # on the host: CuPy has no general eig
    dtype = np.result_type(x.dtype, np.complex64)
    return _no_grad(xp.asarray(w.astype(dtype))), _no_grad(xp.asarray(V.astype(dtype)))


def qr(x, mode="reduced"):
    """The QR decomposition x = Q @ R: Q with orthonormal columns, R upper triangular ('reduced':
    Q (m, k), R (k, n), k = min(m, n); 'complete': Q (m, m), R (m, n))."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
    x = _float(x)
    Q, R = xp.linalg.qr(x.data, mode=mode)
    m, n = x.shape[-2:]
    node = _make(xp.zeros(()), (x,), None, "qr")
    store = {}

    def backward(_):
        if mode == "complete" and m > n or m < n:
            raise ValueError(f"qr: the gradient is defined for mode='reduced' with at least as "
                             f"many rows as columns (PyTorch's condition), got {x.shape} "
                             f"with mode={mode!r}")
        gQ = store.pop("Q", None)
        gR = store.pop("R", None)
        gQ = xp.zeros(Q.shape, Q.dtype) if gQ is None else gQ
        gR = xp.zeros(R.shape, R.dtype) if gR is None else gR
        M = R @ _t_(gR) - _t_(gQ) @ Q
        # copyltu: the lower triangle mirrored to the upper
        M = xp.tril(M) + _t_(xp.tril(M, -1))
        # (gQ + Q M) R^-T, by a solve against R
        rhs = gQ + Q @ M
        return (_t_(xp.linalg.solve(R, _t_(rhs))),)
    return _shared_outputs(node, backward, store, [("Q", Q), ("R", R)])


def svd(x, full_matrices=True, compute_uv=True):
    """The singular value decomposition x = U @ diag(S) @ Vh: (U, S, Vh), or S alone without
    `compute_uv`. The gradient through U and Vh assumes distinct singular values and
    full_matrices=False (or square matrices), as PyTorch's."""
    x = _float(x)
    if not compute_uv:
        U, S, Vh = xp.linalg.svd(x.data, full_matrices=False)
        return _make(S, (x,), lambda g: (U @ (g[..., None] * Vh),), "svd")
    U, S, Vh = xp.linalg.svd(x.data, full_matrices=full_matrices)
    m, n = x.shape[-2:]
    k = min(m, n)
    store = {}
    node = _make(xp.zeros(()), (x,), None, "svd")

    def backward(_):
        if full_matrices and m != n:
            raise ValueError(f"svd: the gradient through U and Vh needs full_matrices=False for "
                             f"a non-square matrix {x.shape} (as in PyTorch)")
        gU, gS, gVh = store.pop("U", None), store.pop("S", None), store.pop("Vh", None)
        u, v = U[..., :, :k], _t_(Vh)[..., :, :k]
        gu = xp.zeros(u.shape, u.dtype) if gU is None else gU[..., :, :k]
        gv = xp.zeros(v.shape, v.dtype) if gVh is None else _t_(gVh)[..., :, :k]
        gs = xp.zeros(S.shape, S.dtype) if gS is None else gS
        F = _off_diagonal_inverse(S * S)
        s = S[..., None, :]
        J = F * (_t_(u) @ gu - _t_(gu) @ u)
        K = F * (_t_(v) @ gv - _t_(gv) @ v)
        inner = J * s + gs[..., None] * xp.eye(k, dtype=S.dtype) + _t_(s) * K
        gx = u @ inner @ _t_(v)
        if m > k:  # the part of gU outside U's span
            gx = gx + (gu - u @ (_t_(u) @ gu)) / s @ _t_(v)
        if n > k:
            gx = gx + u @ _t_((gv - v @ (_t_(v) @ gv)) / s)
        return (gx,)
    return _shared_outputs(node, backward, store, [("U", U), ("S", S), ("Vh", Vh)])


def lu_factor(x):
    """The LU factorization with partial pivoting, as LAPACK packs it: (LU, pivots), L's unit
    diagonal implied, pivots[i] the row swapped with row i (0-based, int32). No gradient."""
    x = _square("lu_factor", x)
    a = np.array(to_numpy(x.data), dtype=np.float64 if x.dtype == np.float64 else np.float32)
    n = a.shape[-1]
    lead = a.shape[:-2]
    a = a.reshape((-1, n, n))
    pivots = np.zeros((a.shape[0], n), dtype=np.int32)
    rows = np.arange(a.shape[0])
    for j in range(n):  # one column at a time, every matrix of the batch at once
        p = j + np.argmax(np.abs(a[:, j:, j]), axis=1)
        pivots[:, j] = p
        a[rows, j], a[rows, p] = a[rows, p].copy(), a[rows, j].copy()
        pivot = a[:, j, j]
        safe = np.where(pivot == 0, 1, pivot)
        a[:, j + 1:, j] /= safe[:, None]
        a[:, j + 1:, j + 1:] -= a[:, j + 1:, j, None] * a[:, j, None, j + 1:]
    return (_no_grad(xp.asarray(a.reshape(lead + (n, n)).astype(x.dtype))),
            _no_grad(xp.asarray(pivots.reshape(lead + (n,)))))


def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse, by the SVD; singular values below rcond times the
    largest (by default max(m, n) * the dtype's epsilon) count as zero."""
    x = _float(x)
    m, n = x.shape[-2:]
    U, S, Vh = svd(x, full_matrices=False)
    tol = (max(m, n) * np.finfo(x.dtype).eps) if rcond is None else rcond
    cutoff = tol * S.data.max(axis=-1, keepdims=True)
    keep = S.data > cutoff
    inv_s = where(keep, divide(1.0, where(keep, S, 1.0)), 0.0)
    return matmul(swapaxes(Vh, -1, -2) * inv_s[..., None, :], swapaxes(U, -1, -2))


def lstsq(a, b, rcond=None):
    """The least-squares solution x minimizing |a @ x - b|, by the pseudo-inverse."""
    return matmul(pinv(_float(a), rcond), _float(b))


def matrix_rank(x, tol=None):
    """The number of singular values above tol (by default the largest times max(m, n) times
    the dtype's epsilon), int32."""
    x = _float(x)
    S = xp.linalg.svd(x.data, compute_uv=False)
    if tol is None:
        tol = S.max(axis=-1, keepdims=True) * max(x.shape[-2:]) * np.finfo(x.dtype).eps
    return _no_grad(xp.asarray((S > tol).sum(-1), dtype=np.int32))


# =============================================== norms ==============================================

def _vector_2norm(x, axes, keepdims):
    """sqrt(sum(x**2)) with its own backward: x / norm, and 0 at x = 0 (a subgradient) instead
    of the NaN that sqrt's derivative would give there."""
    out = xp.sqrt((x.data * x.data).sum(axis=axes, keepdims=True))

    def backward(g):
        if not keepdims:
            g = g.reshape(out.shape)
        return (g * x.data / xp.where(out == 0, 1, out),)
    return _make(out if keepdims else out.reshape([n for i, n in enumerate(x.shape)
                                                   if i not in axes]), (x,), backward, "norm")


def norm(x, ord=None, axis=None, keepdims=False):
    """A vector norm over one axis (all of them for axis=None, unless x is 2-D), or a matrix
    norm over two ('fro', 'nuc', 1, -1, 2, -2, inf, -inf), as NumPy's linalg.norm."""
    x = _float(x)
    if axis is None:
        if ord is None:
            return _vector_2norm(x, tuple(range(x.ndim)), keepdims)
        axis = tuple(range(x.ndim))
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D tensor, got "
                             f"{x.shape}")
    axes = _axes(axis, x.ndim)
    if len(axes) == 1:
        if ord is None or ord == 2:
            return _vector_2norm(x, axes, keepdims)
        if ord == math.inf:
            return amax(absolute(x), axes, keepdims)
        if ord == -math.inf:
            return amin(absolute(x), axes, keepdims)
        if ord == 0:
            return _no_grad(xp.asarray((x.data != 0).sum(axis=axes, keepdims=keepdims),
                                       dtype=x.dtype))
        if isinstance(ord, str):
            raise ValueError(f"norm: ord={ord!r} is a matrix norm; give two axes")
        return power(sum(power(absolute(x), ord), axes, keepdims), 1.0 / ord)
    if len(axes) != 2:
        raise ValueError(f"norm: axis must name one or two axes, got {axis}")
    r, c = axes
    if ord is None or ord == "fro":
        return _vector_2norm(x, axes, keepdims)
    if ord in (1, -1):
        col = sum(absolute(x), r, keepdims=True)
        out = (amax if ord == 1 else amin)(col, c, keepdims=True)
    elif ord in (math.inf, -math.inf):
        row = sum(absolute(x), c, keepdims=True)
        out = (amax if ord == math.inf else amin)(row, r, keepdims=True)
    elif ord in (2, -2, "nuc"):
        rest = [i for i in range(x.ndim) if i not in axes]
        moved = transpose(x, rest + [r, c])
        S = svd(moved, compute_uv=False)
        out = sum(S, -1) if ord == "nuc" else (amax if ord == 2 else amin)(S, -1)
        for a in sorted(axes):
            out = expand_dims(out, a)
    else:
        raise ValueError(f"norm: unknown matrix norm ord={ord!r}")
    if keepdims:
        return out
    return reshape(out, [n for i, n in enumerate(x.shape) if i not in axes])


# =========================================== forward mode ===========================================

def jvp(fun, primals, tangents, has_aux=False):
    """The Jacobian-vector product of `fun` at `primals` along `tangents`.

    mgp's autograd is reverse-mode, so the product is computed exactly by one backward pass per
    element of the output (J's rows), then J @ tangents: meant for small outputs.

    Returns:
        (primals_out, tangents_out), or (primals_out, tangents_out, aux) with `has_aux`.
    """
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    inputs = [Tensor(_float(p).data.copy(), dtype=_float(p).dtype, requires_grad=True)
              for p in primals]
    with enable_grad():
        result = fun(*inputs)
    out, aux = (result if has_aux else (result, None))
    out = _t(out)
    ts = [to_numpy(_float(t).data) for t in tangents]
    flat = np.zeros(out.size, dtype=np.float64)
    if out.requires_grad:
        for i in range(out.size):
            for v in inputs:
                v.grad = None
            seed = np.zeros(out.size, dtype=out.dtype)
            seed[i] = 1
            out.backward(xp.asarray(seed.reshape(out.shape)), retain_graph=True)
            flat[i] = builtins.sum(float((to_numpy(v.grad) * t).sum())
                                   for v, t in zip(inputs, ts) if v.grad is not None)
    tangent_out = Tensor(xp.asarray(flat.reshape(out.shape).astype(out.dtype)), dtype=out.dtype)
    primal_out = Tensor(out.data, dtype=out.dtype)
    return (primal_out, tangent_out, aux) if has_aux else (primal_out, tangent_out)
