"""Flip single bits of saved files and load each damaged copy: every outcome must be a clean error
or an identical load, never different values, a crash or a hang.

    python tools/bitflip_sweep.py --kind weights --flips 20000 --seed 0
    python tools/bitflip_sweep.py --kind keras-written --flips 5000   # a file Keras 3 wrote

Kinds: `weights` (model.save_weights), `h5` and `keras` (model.save), `backup`
(BackupAndRestore's file, restored by its callback), `keras-written` (a .weights.h5 written by
Keras 3 itself, which has no mgp seal). The flips (byte offset, bit) are drawn with `--seed`;
they run in child processes, `--batch` flips per child, each flip with a time limit
(`--timeout` seconds): a child that dies on a signal counts a crash for the flip it was on, one
that overruns counts a hang, and the sweep goes on in a new child from the next flip.

Outcomes per flip:
  error      an mgp error (a ValueError) naming the file; the model unchanged
  identical  loaded, with exactly the saved values (the bit was in unused bytes)
  different  loaded, with other values (silent corruption)
  other      another exception, or an error that does not name the file / changed the model
  crash      the process died (segfault, abort)
  hang       no result within the time limit
Prints the counts as JSON, and the first examples of each bad outcome.
"""
import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import time

import numpy as np

# this checkout's mgp, whatever else is installed (MGP_ROOT: another checkout's, to compare)
ROOT = os.environ.get("MGP_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
SUFFIX = {"weights": ".weights.h5", "h5": ".h5", "keras": ".keras", "backup": ".weights.h5",
          "keras-written": ".weights.h5"}
BAD = ("different", "other", "crash", "hang")

CHILD = r'''
import os, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import mgp
kind, original, scratch = sys.argv[2], sys.argv[3], sys.argv[4]
data = open(original, "rb").read()
sys.path.insert(0, sys.argv[5])
from bitflip_sweep import make_model, values
expected = values(mgp.models.load_model(original)) if kind in ("h5", "keras") else None
model = make_model()
if expected is None:
    if kind == "backup":
        cb = mgp.callbacks.BackupAndRestore(os.path.dirname(original))
        cb.set_model(model)
        cb._restore(original)
    else:
        model.load_weights(original)
    expected = values(model)
for line in sys.stdin:
    i, offset, bit = map(int, line.split())
    damaged = bytearray(data)
    damaged[offset] ^= 1 << bit
    with open(scratch, "wb") as f:
        f.write(damaged)
    print("start", i, flush=True)
    before = values(model)
    try:
        if kind in ("h5", "keras"):
            got = values(mgp.models.load_model(scratch))
        elif kind == "backup":
            cb = mgp.callbacks.BackupAndRestore(os.path.dirname(scratch))
            cb.set_model(model)
            cb._restore(scratch)
            got = values(model)
        else:
            model.load_weights(scratch)
            got = values(model)
        outcome = "identical" if got == expected else "different"
    except ValueError as e:
        clean = scratch in str(e) and values(model) == before
        outcome = "error" if clean else "other"
        if not clean:
            print("note", i, type(e).__name__, str(e)[:200].replace("\n", " "), flush=True)
    except Exception as e:
        outcome = "other"
        print("note", i, type(e).__name__, str(e)[:200].replace("\n", " "), flush=True)
    print("done", i, outcome, flush=True)
'''


def make_model():
    """The small compiled model every kind saves: 2 Dense layers, Adam, one step."""
    import mgp
    mgp.utils.set_random_seed(0)
    model = mgp.Sequential([mgp.Input((4,)), mgp.layers.Dense(8), mgp.layers.Dense(2)])
    model.compile("adam", "mse")
    return model


def values(model):
    """The model's weights and optimizer state as bytes."""
    out = [w.numpy().tobytes() for w in model.weights]
    if model.optimizer is not None and model.optimizer.built:
        out += [np.asarray(v.data).tobytes() for v in model.optimizer.variables]
    return out


def write_file(kind, folder):
    """Save the trained model in `kind`'s format; returns the path."""
    x = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
    y = np.random.default_rng(1).standard_normal((16, 2)).astype(np.float32)
    path = os.path.join(folder, "latest" + SUFFIX[kind])
    if kind == "keras-written":
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(2)])
        m.compile("adam", "mse")
        m.fit(x, y, epochs=1, batch_size=16, verbose=0)
        m.save_weights(path)
        return path
    model = make_model()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    if kind == "backup":
        import mgp
        cb = mgp.callbacks.BackupAndRestore(folder)
        cb.set_model(model)
        cb._save(1)
    elif kind == "weights":
        model.save_weights(path)
    else:
        model.save(path)
    return path


def sweep(kind, flips, seed=0, batch=500, timeout=10.0, folder=None):
    """Run the sweep; returns (counts, notes)."""
    folder = folder or tempfile.mkdtemp(prefix="bitflip-")
    original = write_file(kind, folder)
    size = os.path.getsize(original)
    rng = np.random.default_rng(seed)
    todo = [(i, int(o), int(b)) for i, (o, b) in
            enumerate(zip(rng.integers(0, size, flips), rng.integers(0, 8, flips)))]
    scratch = os.path.join(folder, "scratch" + SUFFIX[kind])
    counts = dict.fromkeys(("error", "identical") + BAD, 0)
    notes = []
    child_file = os.path.join(folder, "child.py")
    with open(child_file, "w") as f:
        f.write(CHILD)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    while todo:
        chunk, todo = todo[:batch], todo[batch:]
        proc = subprocess.Popen([sys.executable, child_file, ROOT, kind, original, scratch,
                                 os.path.dirname(os.path.abspath(__file__))],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=env, bufsize=1)
        proc.stdin.write("".join(f"{i} {o} {b}\n" for i, o, b in chunk))
        proc.stdin.close()
        current, finished = None, set()
        deadline = time.monotonic() + 120  # the child's start (imports, the original's load)
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:  # hung
                proc.kill()
                proc.wait()
                if current is not None:
                    counts["hang"] += 1
                    notes.append((current, "hang", chunk_flip(chunk, current)))
                    finished.add(current)
                break
            line = proc.stdout.readline()
            if not line:  # exited
                status = proc.wait()
                if current is not None and current not in finished:
                    counts["crash"] += 1
                    notes.append((current, f"crash (exit {status})", chunk_flip(chunk, current)))
                    finished.add(current)
                break
            word, *rest = line.split(maxsplit=2)
            if word == "start":
                current = int(rest[0])
                deadline = time.monotonic() + timeout
            elif word == "done":
                counts[rest[1].strip()] += 1
                finished.add(int(rest[0]))
                current = None
            elif word == "note" and len(notes) < 50:
                notes.append((int(rest[0]), rest[1].strip(), chunk_flip(chunk, int(rest[0]))))
        # the flips this child never reached go to the next one
        todo = [item for item in chunk if item[0] not in finished] + todo
        if current is None and not finished:
            raise RuntimeError(f"the child could not start: exit {proc.returncode}")
    return counts, notes, size


def chunk_flip(chunk, i):
    for j, o, b in chunk:
        if j == i:
            return {"offset": o, "bit": b}
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=sorted(SUFFIX), default="weights")
    parser.add_argument("--flips", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    start = time.time()
    counts, notes, size = sweep(args.kind, args.flips, args.seed, args.batch, args.timeout)
    print(json.dumps({"kind": args.kind, "file_bytes": size, "flips": args.flips,
                      "seed": args.seed, "counts": counts,
                      "seconds": round(time.time() - start, 1)}))
    for note in notes[:20]:
        print("  ", note)
    sys.exit(1 if any(counts[k] for k in BAD) else 0)


if __name__ == "__main__":
    main()
