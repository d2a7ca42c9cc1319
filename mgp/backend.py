"""The one seam between mgp and its array library, and the device it computes on.

Every array call in the engine goes through `xp`, a namespace that forwards to NumPy by default.
Selecting the device swaps the namespace (NumPy on the CPU, CuPy on an NVIDIA GPU), which moves
every op to the other device without touching any op definition. The device is chosen once, by
the environment variable `MGP_DEVICE` (`cpu`, the default, or `cuda` / `gpu`) when mgp is
imported, or by `set_device` before the model is built. Tensors made afterwards live on that
device; tensors that exist already stay where they are (see docs/gpu.md).
"""
import os
from concurrent import futures

# OpenBLAS's idle threads spin for 2**28 cycles (about 0.1 s) after each matrix product, taking
# a core from the elementwise passes between products; told to sleep at once, they made the
# convnet's training step at 2 threads 68.7 -> 55.0 ms. Read when NumPy loads its BLAS, so it
# takes effect only when mgp is imported before NumPy; a value already set is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import numpy  # noqa: E402


def _keep_freed_arrays_in_the_heap():
    """Ask glibc to keep freed multi-megabyte arrays for reuse instead of returning them to the
    OS: otherwise every training step page-faults its activations back in. Measured with `fit`
    in a plain script: the classroom CNN's step 23-25 -> 10-11 ms (3,400 -> 0 page faults a
    step), the convnet's 72-74 -> 65-70 ms, for 21 MiB more peak memory. Skipped where glibc's
    own MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ are set, and off glibc."""
    if any(v in os.environ for v in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 << 20)  # M_MMAP_THRESHOLD: arrays below 256 MiB come from the heap
        libc.mallopt(-1, 512 << 20)  # M_TRIM_THRESHOLD: keep up to 512 MiB of free heap
    except (OSError, AttributeError):
        pass


_keep_freed_arrays_in_the_heap()

_namespace = numpy
_device = "cpu"
_DEVICES = {"cpu": "cpu", "cuda": "cuda", "gpu": "cuda"}
_MIN_CUPY = 13  # ufunc.at (add.at), used by the ops


class _ArrayNamespace:
    """Forwards attribute lookups to the active array module (numpy, or a drop-in like cupy)."""

    def __getattr__(self, name):
        return getattr(_namespace, name)

    def __repr__(self):
        return f"<mgp array namespace: {_namespace.__name__}>"


xp = _ArrayNamespace()


# ============================================== devices =============================================

def device_name(device):
    """The canonical name of `device`: 'cpu' or 'cuda' (also accepts 'gpu')."""
    name = str(device).lower()
    if name not in _DEVICES:
        raise ValueError(f"unknown device {device!r}; known: 'cpu', 'cuda' (or 'gpu')")
    return _DEVICES[name]


def _load_cupy():
    """Import CuPy (only now, when the GPU is asked for) and check that it can reach a GPU."""
    try:
        import cupy
    except ImportError as e:
        raise ImportError("mgp needs CuPy to run on the GPU, and CuPy is not installed: "
                          "pip install mgp[cuda] (CuPy for CUDA 12), or use the CPU "
                          "(MGP_DEVICE=cpu)") from e
    major = int(str(getattr(cupy, "__version__", "0")).split(".")[0] or 0)
    if major < _MIN_CUPY:
        raise ImportError(f"mgp needs CuPy {_MIN_CUPY} or newer, found {cupy.__version__}: "
                          f"pip install -U mgp[cuda]")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError: no driver, or no device
        raise RuntimeError(f"CuPy is installed but cannot reach a GPU ({e}); check the NVIDIA "
                           f"driver and CUDA_VISIBLE_DEVICES, or use the CPU "
                           f"(MGP_DEVICE=cpu)") from e
    if count == 0:
        raise RuntimeError("CuPy is installed but no GPU is visible (CUDA_VISIBLE_DEVICES may "
                           "hide them); use the CPU (MGP_DEVICE=cpu)")
    return cupy


def namespace_for(device):
    """The array module of `device`: numpy for 'cpu', cupy for 'cuda' (imported on demand)."""
    return numpy if device_name(device) == "cpu" else _load_cupy()


def set_device(device):
    """Run everything created from now on on `device`.

    Args:
        device: 'cpu' (NumPy) or 'cuda' / 'gpu' (CuPy on the current NVIDIA GPU).
    Raises:
        ImportError when CuPy is missing (`pip install mgp[cuda]`), RuntimeError when no GPU is
        visible.

    Call it before building the model: tensors and weights that exist already stay on the
    device they were made on (move a built model with `model.set_weights(model.get_weights())`
    after the switch).

    Example:
        >>> mgp.set_device("cuda")
        >>> model = mgp.Sequential([...])   # weights on the GPU; fit/predict take NumPy data
    """
    set_namespace(namespace_for(device))


def get_device():
    """The active device: 'cpu' or 'cuda'."""
    return _device


def set_namespace(module):
    """Make `module` (numpy or a NumPy-compatible module such as cupy) the array namespace of
    every op. `set_device` is the public switch; this is the seam it (and the tests) use."""
    global _namespace, _device, _device_rng
    _namespace = module
    _device = "cpu" if module is numpy else "cuda"
    _device_rng = None  # made again, from the last seed, for the new namespace


def get_namespace():
    """Return the active array module."""
    return _namespace


def device_of(a):
    """'cuda' for an array in GPU memory (CuPy's, which has `__cuda_array_interface__`), else
    'cpu'."""
    return "cuda" if hasattr(a, "__cuda_array_interface__") else "cpu"


def to_numpy(a):
    """Return `a` as a NumPy array on the host (a no-op for NumPy arrays)."""
    if isinstance(a, numpy.ndarray):
        return a
    get = getattr(a, "get", None)  # cupy.ndarray.get() copies to the host
    return get() if get is not None else numpy.asarray(a)


def to_device(a, device):
    """`a` as an array on `device` ('cpu' or 'cuda'): the same array when it is there already,
    else a copy."""
    if device_name(device) == "cpu":
        return to_numpy(a)
    return _load_cupy().asarray(a)


def asarray(a, dtype=None):
    """`xp.asarray(a, dtype)`, also for a device array while the CPU is active (copied to the
    host; NumPy refuses to convert a CuPy array implicitly)."""
    if _namespace is numpy and device_of(a) != "cpu":
        a = to_numpy(a)
    return _namespace.asarray(a, dtype=dtype)


# ============================================== threads =============================================

# NumPy runs an elementwise pass on one core while BLAS (and PyTorch) use them all. NumPy releases
# the GIL inside its loops, so the few big passes that are not matrix products (max-pool, col2im,
# relu over a first conv layer's output) split the batch across threads with `over_batch`.
_MIN_PIECE = 1 << 19  # elements: smaller pieces cost more in thread hand-offs than they save
_threads = None
_executor = None


def num_threads():
    """Threads for `over_batch`: `OMP_NUM_THREADS` when set (as for BLAS and PyTorch), else the
    cores this process may use."""
    global _threads
    if _threads is None:
        value = os.environ.get("OMP_NUM_THREADS", "").strip()
        _threads = max(int(value), 1) if value.isdigit() else len(os.sched_getaffinity(0))
    return _threads


def over_batch(fn, n, size, calls_blas=False):
    """Call `fn(rows)` for slices `rows` that cover range(n), the batch axis, in parallel.

    `fn` writes its rows of preallocated outputs. `size`, about how many elements it reads and
    writes in all, decides how many pieces pay; on the GPU, with one thread, or for small work
    it is `fn(slice(None))`.

    calls_blas: `fn` runs matrix products on its rows. Each thread's products then run on one
    BLAS thread, so that the threads do not fight BLAS's own over the cores, and the pieces are
    small enough that one piece's intermediates stay in the cache from one product to the next
    pass. Where the BLAS's thread count cannot be set per thread (not OpenBLAS >= 0.3.27), the
    pieces run in turn on this thread and BLAS keeps its threads.
    """
    if _namespace is not numpy:
        fn(slice(None))
        return
    threads = num_threads()
    if calls_blas:
        # sized by the work alone, not the thread count, so that sums over the pieces (a weight's
        # gradient) come out the same bit for bit whatever the number of threads
        parts = min(n, max(2, size // _CACHE_PIECE))
        if size < 2 * _MIN_PIECE:  # too little work to pay for the pieces
            parts = 1
        if _blas_threads_setter() is None or threads == 1 or parts == 1:
            for k in range(parts):
                fn(slice(n * k // parts, n * (k + 1) // parts))
            return
    else:
        # a few pieces per thread, taken in turn by whichever thread is free, so that a thread
        # that waits for its core (on a shared machine) holds up only a small piece
        parts = min(n, 4 * threads, size // _MIN_PIECE)
        if threads == 1 or parts < 2:
            fn(slice(None))
            return
    global _executor
    if _executor is None:
        _executor = futures.ThreadPoolExecutor(threads - 1, thread_name_prefix="mgp")
    pieces = iter([slice(n * k // parts, n * (k + 1) // parts) for k in range(parts)])
    # OpenBLAS's pthreads build (NumPy's wheels) keeps the "thread-local" count in one
    # process-wide variable: threads that each set it and put back what they found could leave
    # it at 1, by the order they finished in, for the products after this call, and OpenBLAS
    # sums a product on 1 thread in another order than on 2 (different weights run to run).
    # So the calling thread alone reads and restores it, once every thread is done; the pool's
    # threads only set it (their own count in a build that has one per thread).
    setter = _blas_threads_setter() if calls_blas else None
    before = setter(1) if setter else None

    def work():
        if setter:  # (the calling thread's is set already; setting it again changes nothing)
            setter(1)
        for rows in pieces:  # next() on one iterator from several threads: each piece once
            fn(rows)
    try:
        pending = [_executor.submit(work) for _ in range(threads - 1)]
        try:
            work()  # this thread takes pieces too
        finally:
            futures.wait(pending)  # no thread may still write once this returns, even on error
    finally:
        if setter:
            setter(before)
    for job in pending:
        job.result()


# Pieces for work that runs matrix products: about a million elements each, so that a piece's
# columns and gradients stay in the cache between its passes. Measured on the convnet's second
# conv (batch 128, 2 threads): its input gradient (GEMM + col2im) 15.6 ms as one GEMM on BLAS's
# threads and one col2im pass, 9.5 ms in 16 pieces on one BLAS thread each; fwd+bwd of the
# classroom CNN's conv (8 filters) 6.0 ms in 16 pieces, 3.6 ms in 2, as sized here.
_CACHE_PIECE = 1 << 20
_blas_setter = None


def _blas_threads_setter():
    """OpenBLAS's `openblas_set_num_threads_local(n)` (OpenBLAS >= 0.3.27: the BLAS threads of
    the calling thread's products; returns the previous setting, 0 for "the global one") from
    the copy NumPy loaded, or None where NumPy's BLAS is another library or older."""
    global _blas_setter
    if _blas_setter is None:
        _blas_setter = False
        try:
            blas = numpy.__config__.CONFIG["Build Dependencies"]["blas"]["name"]
        except (AttributeError, KeyError, TypeError):
            blas = "unknown"
        if "openblas" not in blas.lower():  # MKL, Accelerate, ...: another library's setting
            return None
        try:
            import ctypes
            with open("/proc/self/maps") as maps:  # the shared libraries this process loaded
                paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
            for path in sorted(paths, key=lambda p: ("numpy" not in p, p)):  # NumPy's first
                setter = getattr(ctypes.CDLL(path), "openblas_set_num_threads_local", None)
                if setter is not None:
                    setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
                    _blas_setter = setter
                    break
        except OSError:
            pass
    return _blas_setter or None


def _forget_executor():  # a forked child has none of its parent's threads
    global _executor
    _executor = None


os.register_at_fork(after_in_child=_forget_executor)


# =========================================== random numbers =========================================

# One host generator for everything random that is drawn on the host (initializers, shuffling,
# layers given their own seed), so that one seed reproduces a whole run, and the same weights and
# batch order on every device.
_rng = numpy.random.default_rng()
_seed = None
_device_rng = None
_process_rng = None


def rng():
    """Return mgp's global (host, NumPy) random generator."""
    return _rng


def device_rng():
    """The generator for random arrays drawn on the active device (dropout masks).

    On the CPU it is `rng()` itself; on the GPU a CuPy generator seeded from the last
    `seed(...)`, so GPU runs are reproducible run to run, though their masks differ from the
    CPU's (another generator). In data-parallel training each process has its own
    (`set_process_stream`), while `rng()` stays the same on all of them.
    """
    global _device_rng
    if _process_rng is not None:
        return _process_rng
    if _namespace is numpy:
        return _rng
    if _device_rng is None:
        _device_rng = _namespace.random.default_rng(_seed)
    return _device_rng


def set_process_stream(seed_sequence):
    """Make `device_rng()` this process's own generator, seeded by a NumPy `SeedSequence`
    (None: back to the shared one). Data-parallel training gives each process its own dropout
    masks this way."""
    global _process_rng
    if seed_sequence is None:
        _process_rng = None
    elif _namespace is numpy:
        _process_rng = numpy.random.default_rng(seed_sequence)
    else:
        _process_rng = _namespace.random.default_rng(int(seed_sequence.generate_state(1)[0]))


def seed(value):
    """Reseed mgp's global random generators (the host one, and the device one when active)."""
    global _rng, _seed, _device_rng
    _rng = numpy.random.default_rng(value)
    _seed, _device_rng = value, None
    if _namespace is not numpy:
        _namespace.random.seed(value)  # CuPy's own global generator, for code that uses it


def _device_from_environment():
    value = os.environ.get("MGP_DEVICE", "").strip() or "cpu"
    try:
        set_device(value)
    except ValueError:
        raise ValueError(f"MGP_DEVICE={value!r} is not a device; use 'cpu' or 'cuda'") from None


_device_from_environment()


# ====================================== Keras's keras.backend names ================================

# The settings live in mgp.config (Keras's keras.config), the dtype rules in mgp.dtypes;
# `mgp.backend` answers them under Keras's names too, as `keras.backend` does.
from mgp.config import (  # noqa: E402, F401
    backend, clear_session, epsilon, floatx, get_uid, image_data_format, set_epsilon, set_floatx,
    set_image_data_format,
)
from mgp.dtypes import (  # noqa: E402, F401
    is_float_dtype, is_int_dtype, result_type, standardize_dtype,
)


def is_keras_tensor(x):
    """True for a symbolic tensor of a functional model (what `mgp.Input` returns)."""
    from mgp.layers.base import SymbolicTensor  # symbolic tensors belong to the layers
    return isinstance(x, SymbolicTensor)
