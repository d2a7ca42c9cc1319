"""mgp's benchmark suite: mgp against PyTorch eager and JAX jit on the same machine, in one run.

    python bench/run.py            # quick: 50 training steps a rep (a few minutes)
    python bench/run.py --full     # whole 54,000-image epochs (about 15 minutes on 2 cores)
    python bench/run.py --only convnet,micro --reps 5 --json results.json

For each workload, mgp, PyTorch and JAX (each optional but mgp) each get a worker process (their
own peak memory, the same thread count fixed before import), warm up once, then run their
measured reps in turn, the order reversed every rep, so that a drift in the machine's load hits
all of them. See bench/README.md for what each column means.
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import workloads

HERE = Path(__file__).resolve().parent


class Worker:
    """A worker process; `ask` sends one command and returns its JSON answer."""

    def __init__(self, framework, workload, threads, full):
        cmd = [sys.executable, str(HERE / "worker.py"), framework, workload,
               "--threads", str(threads)] + (["--full"] if full else [])
        self.framework = framework
        self.stderr = tempfile.TemporaryFile("w+")  # a file, not a pipe: it cannot fill and block
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True, bufsize=1)
        self.ready = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self.stderr.seek(0)
            err = self.stderr.read().strip().splitlines()
            return {"error": f"worker died: {err[-1] if err else 'no output'}"}
        return json.loads(line)

    def ask(self, cmd, **fields):
        try:
            self.proc.stdin.write(json.dumps(dict(cmd=cmd, **fields)) + "\n")
        except OSError:  # the worker has exited (it answered with an error)
            return self._read()
        return self._read()

    def close(self):
        answer = self.ask("exit") if self.proc.poll() is None else {}
        self.proc.wait()
        self.stderr.close()
        return answer.get("peak_mib")


class GemmRates:
    """NumPy's fastest time for each GEMM shape, measured again around every workload.

    On a shared machine the fastest call seen over the whole run is the best estimate of what
    the BLAS can do, so each new measurement only ever lowers a shape's time.
    """

    def __init__(self, threads):
        self.worker = Worker("gemm", "-", threads, False)
        self.info = self.worker.ready.get("info", "")
        self.seconds = {}

    def measure(self, shapes):
        answer = self.worker.ask("gemm", shapes=[list(s) for s in shapes])
        for shape, t in answer["seconds"]:
            shape = tuple(shape)
            self.seconds[shape] = min(t, self.seconds.get(shape, t))

    def bound(self, w):
        """The workload's GEMMs alone, in its unit; None if it has none."""
        total = sum(self.seconds[tuple(s)] for s in w.gemms) * w.gemm_count * w.per_unit
        return total or None


def measure(w, frameworks, threads, full, reps):
    """Warm up each framework, then alternate their measured reps (ABBA order)."""
    workers = {f: Worker(f, w.name, threads, full) for f in frameworks}
    result = {f: {"seconds": [], "error": workers[f].ready.get("error"),
                  "info": workers[f].ready.get("info"),
                  "imported_mib": workers[f].ready.get("imported_mib"),
                  "built_mib": workers[f].ready.get("built_mib")} for f in frameworks}
    live = [f for f in frameworks if not result[f]["error"]]
    for f in live:
        answer = workers[f].ask("warmup")
        result[f]["error"] = answer.get("error")
        if "compile" in answer:  # jax: the warm-up compiled the step; reported apart
            result[f]["compile"] = answer["compile"]
    live = [f for f in live if not result[f]["error"]]
    for r in range(reps):
        for f in (live if r % 2 == 0 else live[::-1]):
            if result[f]["error"]:
                continue
            answer = workers[f].ask("rep")
            if "error" in answer:
                result[f]["error"] = answer["error"]
            else:
                result[f]["seconds"].append(answer["seconds"])
                if "loss" in answer:  # a training rep's mean loss: both sides should learn
                    result[f].setdefault("loss", []).append(answer["loss"])
    for f, worker in workers.items():
        result[f]["peak_mib"] = worker.close()
    return result


# --------------------------------------------- printing -------------------------------------------

PEERS = ("torch", "jax")


def columns(peers):
    """(name, width) of each column, for the peers measured in this run."""
    cols = [("workload", 16), ("unit", 9), ("mgp", 22)]
    cols += [(p, 22) for p in peers]
    cols += [(f"mgp/{p}", 9) for p in peers]
    cols += [("jax compile s", 13)] if "jax" in peers else []
    cols += [(f"{f} img/s", 10) for f in ("mgp",) + peers]
    cols += [(f"{f} MiB", 11) for f in ("mgp",) + peers]
    return cols + [("GEMM bound", 10), ("mgp/bound", 9)]


def fmt(v):
    if v is None:
        return "-"
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def summary(w, seconds):
    """(median, min, max) in the workload's unit, or None."""
    if not seconds:
        return None
    return tuple(s * w.per_unit for s in (statistics.median(seconds), min(seconds),
                                          max(seconds)))


def row(w, result, bound, peers):
    cells, medians = [w.name, w.unit], {}
    frameworks = ("mgp",) + peers
    for f in frameworks:
        r = result.get(f)
        s = summary(w, r["seconds"]) if r else None
        if s:
            medians[f] = s[0]
            cells.append(f"{fmt(s[0])} [{fmt(s[1])}-{fmt(s[2])}]")
        else:
            cells.append("-" if not r else "failed")
    for p in peers:
        both = "mgp" in medians and p in medians
        cells.append(f"{medians['mgp'] / medians[p]:.2f}x" if both else "-")
    if "jax" in peers:  # the warm-up rep's compilation, apart from the steady state above
        compile_s = (result.get("jax") or {}).get("compile")
        cells.append(fmt(compile_s) if compile_s is not None else "-")
    for f in frameworks:
        r = result.get(f)
        ok = r and r["seconds"] and w.images
        cells.append(fmt(w.images / statistics.median(r["seconds"])) if ok else "-")
    for f in frameworks:  # peak, and how much of it came after importing the framework
        r = result.get(f)
        if r and r.get("peak_mib") and r.get("imported_mib"):
            cells.append(f"{r['peak_mib']:.0f} (+{r['peak_mib'] - r['imported_mib']:.0f})")
        else:
            cells.append("-")
    cells.append(fmt(bound) if bound else "-")
    cells.append(f"{medians['mgp'] / bound:.2f}x" if bound and "mgp" in medians else "-")
    return "  ".join(c.ljust(width) for c, (_, width) in zip(cells, columns(peers)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="50 steps a rep (the default)")
    mode.add_argument("--full", action="store_true", help="whole epochs")
    parser.add_argument("--only", default="", help="comma-separated workload names or groups "
                        "(convnet, classroom, mlp, overhead, micro, optim, opchain, recurrent, "
                        "sequence); "
                        "substrings match")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="threads for both frameworks (default: the machine's cores)")
    parser.add_argument("--reps", type=int, help="measured reps per workload (after 1 warm-up)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-jax", action="store_true", help="leave JAX out")
    parser.add_argument("--json", help="also write every raw time to this file")
    args = parser.parse_args()

    chosen = workloads.all_workloads(args.full)
    if args.only:
        keys = [k.strip() for k in args.only.split(",") if k.strip()]
        chosen = [w for w in chosen if any(k == w.group or k in w.name for k in keys)]
    frameworks, notes = ["mgp"], []
    for peer, pip in (("torch", "torch"), ("jax", '"jax[cpu]" optax')):
        if getattr(args, f"no_{peer}"):
            notes.append(f"{peer}: not measured (--no-{peer})")
        elif any(importlib.util.find_spec(m) is None for m in pip.replace('"', "").replace(
                "[cpu]", "").split()):
            notes.append(f"{peer}: not installed (pip install {pip}): its columns left out")
        else:
            frameworks.append(peer)
    peers = tuple(f for f in PEERS if f in frameworks)

    gemm = GemmRates(args.threads)
    gemm.measure([shape for w in chosen for shape in w.gemms])
    header = [
        f"mgp benchmark suite, {'full' if args.full else 'quick'} mode, "
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}",
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f} at start; Python {platform.python_version()}",
        f"threads: {args.threads} for each (OMP/OPENBLAS/MKL_NUM_THREADS, torch.set_num_threads, "
        f"XLA_FLAGS intra_op_parallelism_threads)",
        f"numpy BLAS: {gemm.info}"] + notes
    load = os.getloadavg()[0]
    if load > 0.5:
        header.append(f"note: load average {load:.1f} before starting: other processes share the "
                      f"cores, and a multithreaded GEMM waits for its slowest thread, so times "
                      f"vary widely; --threads 1 compares the two more steadily under load")
    print("\n".join(header), flush=True)

    results, infos, errors = [], {}, []
    for w in chosen:
        gemm.measure(w.gemms)
        sides = [f for f in frameworks if f != "jax" or w.name in workloads.JAX_WORKLOADS]
        result = measure(w, sides, args.threads, args.full, args.reps or w.reps)
        results.append((w, result))
        progress = [f"{w.name}:"]
        for f, r in result.items():
            if r["error"]:
                errors.append(f"{w.name}, {f}: {r['error']}")
            if r.get("info"):
                infos[f] = r["info"]
            s = summary(w, r["seconds"])
            progress.append(f"{f} {fmt(s[0])} {w.unit}" if s else f"{f} failed")
            if r.get("compile") is not None:
                progress.append(f"(compiled in {r['compile']:.2f} s)")
            if r.get("loss"):
                progress.append(f"(loss {r['loss'][0]:.3f} -> {r['loss'][-1]:.3f})")
        print("  ".join(progress), file=sys.stderr, flush=True)
    gemm.measure([shape for w in chosen for shape in w.gemms])
    gemm.worker.close()

    print()
    print("times: median [min-max] of the measured reps after 1 warm-up; GEMM bound: the "
          "workload's matrix products alone at numpy's fastest measured speed"
          + ("; jax compile s: the warm-up's compilation, not in jax's times" if "jax" in peers
             else ""))
    print("  ".join(name.ljust(width) for name, width in columns(peers)))
    for w, result in results:
        print(row(w, result, gemm.bound(w), peers))
    print()
    for line in errors:
        print(f"failed: {line}")
    for f, text in infos.items():
        print(f"{f}: {text}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (above 0 means others shared the "
          f"cores: compare ratios, not absolute times)")
    print("GEMM rates (numpy float32, fastest single call over the run):")
    for (m, k, n, layout), t in sorted(gemm.seconds.items()):
        print(f"    ({m}, {k}) @ ({k}, {n}) {layout}: {t * 1e3:.3f} ms, "
              f"{2 * m * k * n / t / 1e9:.1f} GFLOP/s")
    if args.json:
        records = [{"workload": w.name, "unit": w.unit, "per_unit": w.per_unit,
                    "images_per_rep": w.images, "gemm_bound": gemm.bound(w), "note": w.note,
                    **result} for w, result in results]
        Path(args.json).write_text(json.dumps({
            "header": header, "threads": args.threads, "infos": infos,
            "gemm_seconds": [[list(s), t] for s, t in gemm.seconds.items()],
            "workloads": records}, indent=1))


if __name__ == "__main__":
    main()
