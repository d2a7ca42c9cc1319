"""Where mgp's time goes in one training step of the Keras MNIST convnet (batch 128).

    python bench/profile_step.py [--model convnet|classroom|mlp|tiny] [--steps 30] [--threads 2]
                                 [--top 25] [--clock cpu]

`--model tiny` (the suite's `tiny_train`: Flatten, Dense 16 relu, Dense 10 softmax, batch 8)
shows the per-step cost around the arithmetic: the layers' calls, the loss, the engine.

Prints: the step split into forward, loss, backward and optimizer; each op's forward and
backward time (the op's own function and its backward closure, timed around every call);
any op whose output or gradient is float64; then cProfile's top functions by own time.
The step is written out (layers called in order, cross-entropy from the logits, `loss.backward()`,
`optimizer.apply`) so that its phases can be timed; `model.train_step` is timed beside it.

On a loaded machine, `--threads 1 --clock cpu` times the CPU this process's one thread used
(`time.thread_time`), not the wall clock: the work itself, without the waits for a core.
"""
import argparse
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("convnet", "classroom", "mlp", "tiny"),
                        default="convnet")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: this thread's CPU time (use with --threads 1)")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.thread_time
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # as mgp sets it (mgp/backend.py)
    sys.path[:0] = [HERE, os.path.dirname(HERE)]

    import numpy as np
    import mgp
    from mgp.ops import nn as F
    from mgp.tensor import Tensor
    import workloads
    from gemm import blas_info

    print(f"{blas_info()}; batch {workloads.TINY_BATCH if args.model == 'tiny' else workloads.BATCH}, {args.steps} steps after 3 warm-up steps; "
          f"{args.clock} clock")
    x, y = workloads.load_mnist()[:2]
    model, optimizer = build(mgp, args.model)
    model_layers = [l for l in getattr(model, "layers", model)]
    weights = []  # filled after the first call builds the layers
    b = workloads.TINY_BATCH if args.model == "tiny" else workloads.BATCH
    batches = [(x[i:i + b], y[i:i + b]) for i in range(0, args.steps * b, b)]

    phases = defaultdict(float)

    def step(xb, yb):
        t0 = clock()
        h = mgp.tensor(xb)
        for layer in model_layers:
            h = layer(h, training=True)
        t1 = clock()
        if not weights:
            weights.extend(w for layer in model_layers for w in layer.trainable_weights)
        loss = F.cross_entropy(h._logits, mgp.tensor(yb)).mean()
        t2 = clock()
        for w in weights:
            w.grad = None
        loss.backward()
        t3 = clock()
        optimizer.apply([w.grad for w in weights], weights)
        t4 = clock()
        for name, a, b in (("forward (layers)", t0, t1), ("loss", t1, t2),
                           ("backward", t2, t3), ("optimizer", t3, t4)):
            phases[name] += b - a

    for xb, yb in batches[:3]:
        step(xb, yb)
    phases.clear()
    start = clock()
    for xb, yb in batches:
        step(xb, yb)
    total = clock() - start
    epoch = workloads.TRAIN_IMAGES / b
    print(f"\nwritten-out step: {total / args.steps * 1e3:.1f} ms "
          f"(= {total / args.steps * epoch:.1f} s per 54,000-image epoch)")
    for name, t in phases.items():
        print(f"    {name:18s} {t / args.steps * 1e3:7.1f} ms  {100 * t / total:5.1f}%")
    if hasattr(model, "train_step"):
        start = clock()
        for xb, yb in batches:
            model.train_step((mgp.tensor(xb), yb))
        t = (clock() - start) / args.steps
        print(f"model.train_step:  {t * 1e3:.1f} ms (= {t * epoch:.1f} s per epoch)")

    # Each op's time: wrap its function (forward) and the backward closure it hands the engine.
    fwd, bwd, calls, f64 = defaultdict(float), defaultdict(float), defaultdict(int), set()
    make = Tensor._make

    def timed_make(data, parents, backward, op):
        if getattr(data, "dtype", None) == np.float64:
            f64.add(f"{op} output")

        def timed_backward(g):
            t = clock()
            grads = backward(g)
            bwd[op] += clock() - t
            for p, pg in zip(parents, grads):
                if pg is not None and getattr(pg, "dtype", None) == np.float64:
                    f64.add(f"{op} gradient")
            return grads
        return make(data, parents, timed_backward if backward else backward, op)

    Tensor._make = staticmethod(timed_make)
    import mgp.ops as ops_package
    import mgp.ops.nn as nn_module
    import mgp.ops.numpy as numpy_module
    patched = []
    for module in (numpy_module, nn_module):
        for name in list(vars(module)):
            fn = getattr(module, name)
            if callable(fn) and getattr(fn, "__module__", None) == module.__name__ \
                    and not name.startswith("_") and not isinstance(fn, type):
                patched.append((module, name, fn))
    # layers call `ops.relu(...)`, so patching the modules reaches them; pooling layers hold
    # their op as a staticmethod, patched in their class
    import mgp.layers.pooling as pooling
    holders = [(cls, key, value.__func__) for cls in vars(pooling).values()
               if isinstance(cls, type) for key, value in vars(cls).items()
               if isinstance(value, staticmethod)]
    wrappers = {}
    for module, name, fn in patched:
        def wrapper(*a, _fn=fn, _name=name, **k):
            t = clock()
            try:
                return _fn(*a, **k)
            finally:
                fwd[_name] += clock() - t
                calls[_name] += 1
        setattr(module, name, wrapper)
        if getattr(ops_package, name, None) is fn:  # the package re-exports it: `ops.relu`
            setattr(ops_package, name, wrapper)
        wrappers[fn] = wrapper
    for cls, key, fn in holders:
        if fn in wrappers:
            setattr(cls, key, staticmethod(wrappers[fn]))
    phases.clear()
    start = clock()
    for xb, yb in batches:
        step(xb, yb)
    total = clock() - start
    for module, name, fn in patched:
        setattr(module, name, fn)
    for cls, key, fn in holders:
        setattr(cls, key, staticmethod(fn))
    Tensor._make = staticmethod(make)
    # nested calls (e.g. mean inside another op) are counted in both; the op names in the
    # backward column are the names ops give `_make`
    print(f"\nper op, ms per step (instrumented step: {total / args.steps * 1e3:.1f} ms):")
    print(f"    {'op':24s} {'calls':>6s} {'forward':>8s} {'backward':>9s}")
    names = sorted(set(fwd) | set(bwd), key=lambda n: -(fwd.get(n, 0) + bwd.get(n, 0)))
    per_step = lambda table, name: table.get(name, 0) / args.steps  # noqa: E731
    for name in names:
        print(f"    {name:24s} {per_step(calls, name):6.1f} {per_step(fwd, name) * 1e3:8.2f} "
              f"{per_step(bwd, name) * 1e3:9.2f}")
    print(f"float64 anywhere: {sorted(f64) if f64 else 'none'}")

    profiler = cProfile.Profile()
    profiler.enable()
    for xb, yb in batches:
        step(xb, yb)
    profiler.disable()
    print(f"\ncProfile, top {args.top} by own time ({args.steps} steps):")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.strip_dirs().sort_stats("tottime").print_stats(args.top)


def build(mgp, kind="convnet"):
    """The model and its Adam: the Keras model when `mgp.Sequential` exists, else its layers."""
    from mgp import layers
    body = {"convnet": [layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                        layers.Flatten(), layers.Dropout(0.5)],
            "classroom": [layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(2),
                          layers.Flatten()],
            "mlp": [layers.Flatten(), layers.Dense(128, activation="relu")],
            "tiny": [layers.Flatten(), layers.Dense(16, activation="relu")]}[kind] + [layers.Dense(10, activation="softmax")]
    if hasattr(mgp, "Sequential"):
        model = mgp.Sequential([mgp.Input((28, 28, 1))] + body)
        model.compile(optimizer=mgp.optimizers.Adam(), loss="sparse_categorical_crossentropy")
        return model, model.optimizer
    from mgp import optimizers
    return body, optimizers.Adam()


if __name__ == "__main__":
    main()
