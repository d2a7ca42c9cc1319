"""One framework's side of one workload, in its own process, driven by `run.py`.

    python bench/worker.py {mgp,torch,jax,gemm} WORKLOAD --threads N

A process of its own gives each framework its own peak resident memory, and lets the thread
counts be fixed before NumPy or PyTorch is imported. The driver sends one JSON command a line on
stdin ("warmup", "rep", "gemm", "exit"); the worker answers one JSON line each on its original
stdout. Anything else printed goes to stderr, so no library output can break the protocol.
"""
import argparse
import json
import os
import resource
import sys
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def rss_mib():
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("framework", choices=("mgp", "torch", "jax", "gemm"))
    parser.add_argument("workload")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    for var in THREAD_VARS:  # before NumPy or PyTorch is imported
        os.environ[var] = str(args.threads)
    # what mgp sets when imported before NumPy (see mgp/backend.py); NumPy's OpenBLAS only
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    if args.framework == "jax":  # XLA's CPU client: its intra-op thread pool, before jax loads
        flags = [f"--xla_cpu_multi_thread_eigen={'true' if args.threads > 1 else 'false'}",
                 f"intra_op_parallelism_threads={args.threads}"]
        os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", "")] + flags).strip()

    answer_to = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints go to stderr

    def answer(**fields):
        answer_to.write(json.dumps(fields) + "\n")

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [here, os.path.dirname(here)]  # bench's modules, and the repository's mgp
    try:
        rep, warmup, size, info, imported_mib = build(args)
    except Exception as e:  # reported in the table, e.g. a model API that does not exist yet
        answer(error=f"{type(e).__name__}: {e}")
        return
    answer(ready=True, info=info, imported_mib=imported_mib, built_mib=rss_mib())

    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] in ("warmup", "rep"):
            kwargs = warmup if cmd["cmd"] == "warmup" else size
            start = time.perf_counter()
            try:
                extra = rep(**kwargs)
            except Exception as e:
                answer(error=f"{type(e).__name__}: {e}")
                return
            seconds = time.perf_counter() - start
            answer(seconds=seconds, **(extra if isinstance(extra, dict) else {}))
        elif cmd["cmd"] == "gemm":
            import gemm
            times = gemm.measure(cmd["shapes"])
            answer(seconds=[[list(shape), t] for shape, t in times.items()])
        elif cmd["cmd"] == "exit":
            answer(peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            return


def build(args):
    """(rep function, warm-up kwargs, measured kwargs, info string, resident MiB once the
    framework is imported) for this process."""
    if args.framework == "gemm":
        import gemm
        return None, {}, {}, gemm.blas_info(), rss_mib()
    import workloads
    if args.framework == "mgp":
        import mgp_side as side
    elif args.framework == "jax":
        import jax_side as side
    else:
        import torch
        torch.set_num_threads(args.threads)
        import torch_side as side
    imported = rss_mib()
    spec = {w.name: w for w in workloads.all_workloads(args.full)}[args.workload]
    make = getattr(side, args.workload)
    return make(workloads.load_mnist), spec.warmup, spec.size, side.info(), imported


if __name__ == "__main__":
    main()
