"""Data-parallel training over MPI on this machine: the convnet's epoch on 1, 2 and 3 processes
of one BLAS thread each, the gradient allreduce's time per step and its share of the step, the
allreduce of 34,826 and 10M float32 numbers on 2 and 3 local processes, and the ring-allreduce
model fitted to them and carried to 8..64 nodes at 10 and 100 Gb/s (docs/distributed.md).

    python bench/distributed.py            # quick: 60 global batches of 128 a run, scaled
    python bench/distributed.py --full     # whole 54,000-image epochs (422 steps)

Needs `pip install "mgp[mpi]"` (mpiexec beside the interpreter) and MNIST in $MGP_DATA_DIR.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BATCH = 128
CONVNET_PARAMS = 34_826
BIG_PARAMS = 10_000_000


# ------------------------------------------- workers ---------------------------------------------

def fit_worker(steps):
    """The convnet for `steps` global batches of 128 (after 5 warm-up steps); rank 0 prints."""
    sys.path.insert(0, str(HERE))
    import mgp
    from mgp_side import _model
    from workloads import load_mnist
    mgp.distribution.set_distribution(mgp.distribution.DataParallel())
    dist = mgp.distribution.distribution()
    x, y = load_mnist()[:2]
    mgp.utils.set_random_seed(0)
    model = _model("convnet")
    assert model.count_params() == CONVNET_PARAMS
    model.fit(x[:5 * BATCH], y[:5 * BATCH], batch_size=BATCH, epochs=1, verbose=0)
    reducer, comm = dist._reducer, None if dist.num_processes == 1 else dist._communicator()
    before = (reducer.seconds, reducer.wait_seconds, comm.waited) if reducer else (0, 0, 0)
    start = time.perf_counter()
    history = model.fit(x[:steps * BATCH], y[:steps * BATCH], batch_size=BATCH, epochs=1,
                        verbose=0)
    seconds = time.perf_counter() - start
    after = (reducer.seconds, reducer.wait_seconds, comm.waited) if reducer else (0, 0, 0)
    if dist.data_shard_id == 0:
        grad, grad_wait, waited = (a - b for a, b in zip(after, before))
        print(json.dumps({"processes": dist.num_processes, "steps": steps, "seconds": seconds,
                          "step_ms": 1e3 * seconds / steps, "grad_ms": 1e3 * grad / steps,
                          "grad_wait_ms": 1e3 * grad_wait / steps,
                          "all_waits_ms": 1e3 * waited / steps,
                          "loss": history.history["loss"][-1]}))


def allreduce_worker(sizes, reps):
    """Median seconds of one allreduce (Iallreduce + mgp's polling wait) of each size."""
    import numpy as np
    import mgp
    comm = mgp.distribution.DataParallel()._communicator()
    out = {}
    for size in sizes:
        buffer = np.ones(size + 1, np.float32)
        times = []
        for _ in range(reps + 2):
            comm.sum(np.zeros(1), "a barrier")
            start = time.perf_counter()
            comm.sum(buffer, "the benchmark's allreduce")
            times.append(time.perf_counter() - start)
        out[size] = float(np.median(times[2:]))
    if comm.rank == 0:
        print(json.dumps({"processes": comm.size, "seconds": out}))


def gemm_worker():
    """float32 GEMM FLOP/s on one thread, (128, 1024) @ (1024, 1024), the best of 20."""
    import numpy as np
    a, b = np.ones((BATCH, 1024), np.float32), np.ones((1024, 1024), np.float32)
    out, best = np.empty((BATCH, 1024), np.float32), float("inf")
    for _ in range(20):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"flops": 2 * BATCH * 1024 * 1024 / best}))


# ------------------------------------------- driver ----------------------------------------------

def launch(processes, *args):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=str(ROOT))
    command = [sys.executable, __file__, "--worker", *args]
    if processes > 1:
        command = [str(Path(sys.executable).parent / "mpiexec"), "-n", str(processes)] + command
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ring(p, size_bytes, alpha, beta):
    """Ring allreduce: 2(p-1) steps, each a latency and 1/p of the message."""
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * size_bytes / beta


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--worker", nargs="*")
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "fit":
            fit_worker(int(rest[0]))
        elif kind == "allreduce":
            allreduce_worker([int(s) for s in rest[0].split(",")], int(rest[1]))
        else:
            gemm_worker()
        return

    steps = 54_000 // BATCH if args.full else 60
    print(f"mgp data-parallel benchmark, {'full' if args.full else 'quick'} mode, "
          f"{time.strftime('%Y-%m-%d %H:%M')}; load average {os.getloadavg()[0]:.2f}")
    fits = [launch(p, "fit", str(steps)) for p in (1, 2, 3)]
    epoch = 54_000 // BATCH
    print("\n| processes | step (ms) | epoch (s) | speed-up | gradient allreduce (ms/step) "
          "| its share | waited in apply (ms/step) | all MPI waits (ms/step) | loss |")
    print("|---|---|---|---|---|---|---|---|---|")
    for f in fits:
        print(f"| {f['processes']} | {f['step_ms']:.1f} | {f['step_ms'] * epoch / 1e3:.1f} | "
              f"{fits[0]['step_ms'] / f['step_ms']:.2f} | {f['grad_ms']:.2f} | "
              f"{f['grad_ms'] / f['step_ms']:.1%} | {f['grad_wait_ms']:.2f} | "
              f"{f['all_waits_ms']:.2f} | {f['loss']:.3f} |")

    sizes = [CONVNET_PARAMS, BIG_PARAMS]
    local = {p: launch(p, "allreduce", ",".join(map(str, sizes)), "30")["seconds"]
             for p in (2, 3)}
    # alpha and beta of this machine's shared memory, from the two sizes on 2 processes
    t_small, t_big = local[2][str(sizes[0])], local[2][str(sizes[1])]
    s_small, s_big = 4 * (sizes[0] + 1), 4 * (sizes[1] + 1)
    beta = (s_big - s_small) / (t_big - t_small)
    alpha = max((t_small - s_small / beta) / 2, 0.0)
    print(f"\nlocal allreduce (median of 30), fitted ring model: alpha {alpha * 1e6:.1f} us, "
          f"beta {beta / 1e9:.2f} GB/s")
    print("\n| processes | numbers | measured (ms) | ring model (ms) |")
    print("|---|---|---|---|")
    for p in (2, 3):
        for size in sizes:
            predicted = ring(p, 4 * (size + 1), alpha, beta)
            print(f"| {p} | {size:,} | {local[p][str(size)] * 1e3:.3f} | "
                  f"{predicted * 1e3:.3f} |")

    flops = launch(1, "gemm")["flops"]
    per_sample = fits[0]["step_ms"] / 1e3 / BATCH  # the convnet's compute, one core
    print(f"\nscaling model: one core computes the convnet at {per_sample * 1e3:.3f} ms a "
          f"sample (measured above) and runs float32 GEMMs at {flops / 1e9:.1f} GFLOP/s "
          f"(measured); the 10M-parameter model costs 6 x 10M FLOPs a sample (forward and "
          f"backward) at that rate; links: 10 Gb/s with alpha 25 us (TCP), 100 Gb/s with "
          f"alpha 2 us (RDMA); no overlap counted")
    print("\n| model | nodes | link | allreduce (ms) | compute, 128 a node (ms) | efficiency "
          "| compute, global batch 1024 (ms) | efficiency |")
    print("|---|---|---|---|---|---|---|---|")
    for name, params, sample in (("convnet", CONVNET_PARAMS, per_sample),
                                 ("10M", BIG_PARAMS, 6 * BIG_PARAMS / flops)):
        for link, (alpha_l, beta_l) in (("10 Gb/s", (25e-6, 10e9 / 8)),
                                        ("100 Gb/s", (2e-6, 100e9 / 8))):
            for p in (8, 16, 32, 64):
                t = ring(p, 4 * params, alpha_l, beta_l)
                weak, strong = sample * BATCH, sample * 1024 / p
                print(f"| {name} | {p} | {link} | {t * 1e3:.3f} | {weak * 1e3:.1f} | "
                      f"{weak / (weak + t):.1%} | {strong * 1e3:.1f} | "
                      f"{strong / (strong + t):.1%} |")


if __name__ == "__main__":
    main()
