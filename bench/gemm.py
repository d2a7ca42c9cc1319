"""NumPy's float32 GEMM speed on the exact shapes a workload multiplies: the lower bound.

A workload cannot run faster than its matrix products alone, done by the same BLAS. Each shape
is timed with its operands laid out as mgp's ops lay them ('tn': the left operand is a transposed
view, as in `cols.T @ g`) and written into a preallocated output, fastest of many calls, so the
bound is the BLAS's own speed, with no allocation, copy or Python around it.
"""
import os
import time

import numpy as np


def operands(m, k, n, layout, rng):
    a = rng.random((k, m) if layout[0] == "t" else (m, k), dtype=np.float32)
    b = rng.random((n, k) if layout[1] == "t" else (k, n), dtype=np.float32)
    return (a.T if layout[0] == "t" else a), (b.T if layout[1] == "t" else b)


def gemm_seconds(m, k, n, layout, budget=0.3, calls=(10, 300)):
    """Fastest of many single float32 (m, k) @ (k, n) products, in seconds.

    The minimum of single calls: on a shared machine some calls run undisturbed, and those
    show what the BLAS can do.
    """
    rng = np.random.default_rng(0)
    a, b = operands(m, k, n, layout, rng)
    out = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=out)  # warm-up: BLAS threads, caches, page faults of `out`
    best, spent, count = float("inf"), 0.0, 0
    while count < calls[0] or (spent < budget and count < calls[1]):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        t = time.perf_counter() - start
        best, spent, count = min(best, t), spent + t, count + 1
    return best


def measure(shapes):
    """{(m, k, n, layout): best seconds} for every distinct shape."""
    return {shape: gemm_seconds(*shape) for shape in dict.fromkeys(tuple(s) for s in shapes)}


def blas_info():
    """NumPy's version, its BLAS, kernel architecture and threads, and any OPENBLAS_* overrides."""
    text = "numpy " + np.__version__
    try:
        from threadpoolctl import threadpool_info
        for lib in threadpool_info():
            if lib["user_api"] == "blas":
                text += (f", {lib['internal_api']} {lib['version']} ({lib.get('architecture')} "
                         f"kernels, {lib['threading_layer']}, {lib['num_threads']} threads)")
    except ImportError:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        text += f", {cfg['name']} {cfg['version']} (pip install threadpoolctl for its threads)"
    overrides = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_CORETYPE")
                 or k.startswith("OPENBLAS_L2_SIZE") or k == "OPENBLAS_THREAD_TIMEOUT"}
    return text + (f", env {overrides}" if overrides else "")
