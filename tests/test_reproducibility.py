"""One seed, one run: the same seeded `fit` of a convnet in separate processes ends with the
same weights bit for bit, at one thread and at several (the convolutions then split the batch
over threads, each running its pieces' matrix products on one BLAS thread)."""
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from mgp import backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A convnet big enough that its convolutions run in pieces on threads (over 2**20 elements of
# work a call) and followed by Dense layers, whose products run on BLAS's own threads.
SCRIPT = textwrap.dedent("""
    import hashlib
    import sys
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    import mgp as keras

    keras.utils.set_random_seed(0)
    data = np.random.default_rng(1)
    x = data.random((96, 28, 28, 1)).astype(np.float32)
    y = data.integers(0, 10, 96)
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(), keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(), keras.layers.Flatten(), keras.layers.Dropout(0.3),
        keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    digest = hashlib.sha256()
    for w in model.get_weights() + [v.numpy() for v in model.optimizer.variables]:
        digest.update(np.ascontiguousarray(w).tobytes())
    print(digest.hexdigest())
""")


def _digests(tmp_path, threads, runs):
    """The digests of `runs` processes running SCRIPT at once (they compete for the cores, as
    the threads of one process do, which varies the order the pieces finish in)."""
    script = tmp_path / "seeded_fit.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    procs = [subprocess.Popen([sys.executable, str(script), ROOT], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(runs)]
    digests = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        digests.append(out.strip().splitlines()[-1])
    return digests


@pytest.mark.parametrize("threads", [1, 2])
def test_seeded_convnet_fit_is_the_same_in_every_process(tmp_path, threads):
    digests = _digests(tmp_path, threads, 5)
    assert len(set(digests)) == 1, f"{threads} threads: {len(set(digests))} different " \
                                   f"sets of weights in 5 runs: {digests}"


def _blas_threads(setter):
    """The calling thread's BLAS thread setting (read by setting it and putting it back)."""
    value = setter(1)
    setter(value)
    return value


def test_parallel_pieces_leave_the_blas_thread_count_as_it_was(monkeypatch):
    """Where the BLAS keeps the "thread-local" count in one process-wide variable (OpenBLAS's
    pthreads build, NumPy's wheels), threads that each set and restored it could leave it at 1
    for the products that follow, which then sum in another order: the cause of different
    weights run to run. Pieces that finish in random order must leave it as it was."""
    setter = backend._blas_threads_setter()
    if setter is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS >= 0.3.27: over_batch sets no BLAS threads")
    monkeypatch.setattr(backend, "_threads", 2)
    before = _blas_threads(setter)
    rng = np.random.default_rng(0)
    a = rng.random((64, 64), dtype=np.float32)
    seen = set()

    def piece(rows):
        seen.add(threading.get_ident())
        a @ a  # a product on this thread's BLAS setting
        time.sleep(float(rng.random()) * 1e-3)  # finish in a random order
    for _ in range(100):
        backend.over_batch(piece, 8, 4 << 20, calls_blas=True)
        assert _blas_threads(setter) == before
    assert len(seen) == 2  # the pieces did run on two threads

