"""How long a pretrained ImageNet model takes to classify images in mgp, on the CPU, beside
Keras 3 on its torch backend (the same architecture and the same weights) when installed.

    python bench/applications.py                      # MobileNetV2, 224x224, 1 and 32 images
    python bench/applications.py --model ResNet50 --batches 1 8 --reps 5

The weights are random but have the ImageNet model's layout and shapes (`weights=None` with
the 1000-class top, batch normalization statistics filled in), so the arithmetic is what
`weights="imagenet"` runs; nothing is downloaded. Keras gets mgp's weights layer by layer, and
the two models' outputs are compared before anything is timed. Each time is the median of
`--reps` calls after one warm-up call (the fastest call in parentheses): `model.predict(x)`
for both, and for Keras also the model called directly under `torch.no_grad()` (`model(x)`),
which skips `predict`'s per-call setup.
"""
import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np


def timed(fn, reps):
    """(median, fastest, median CPU) seconds of `reps` calls after a warm-up call. On a
    shared machine the fastest is the one least disturbed by other processes, and the CPU
    time (this process's, all its threads) is what the call costs whoever else runs."""
    fn()  # warm-up: allocations, BLAS threads, caches
    times, cpu = [], []
    for _ in range(reps):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), min(times), statistics.median(cpu)


def ms(t):
    return f"{t[0] * 1e3:.0f} ({t[1] * 1e3:.0f})"


def fill_statistics(model, rng):
    """Batch normalization statistics as a trained model has them (not 0 and 1)."""
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape)
                                     .astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape)
                                         .astype("float32"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="MobileNetV2")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--no-keras", action="store_true", help="time mgp alone")
    args = parser.parse_args(argv)
    # this checkout's mgp, not an installed one
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    import mgp
    rng = np.random.default_rng(0)
    shape = (args.size, args.size, 3)
    ours = getattr(mgp.applications, args.model)(weights=None, input_shape=shape)
    fill_statistics(ours, rng)
    theirs = None
    if not args.no_keras:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        try:
            import keras
        except ImportError:
            print("(keras is not installed: mgp alone)")
        else:
            theirs = getattr(keras.applications, args.model)(weights=None, input_shape=shape)
            for a, b in zip(ours.layers, theirs.layers):
                if a.weights:
                    b.set_weights(a.get_weights())
    print(f"{args.model} {args.size}x{args.size}, {ours.count_params():,} parameters; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; numpy {np.__version__}"
          + (f", keras {keras.__version__} on torch {__import__('torch').__version__} "
             f"({__import__('torch').get_num_threads()} threads)" if theirs is not None else ""))
    print("| batch | mgp predict (ms) | mgp per image, median (ms) | mgp CPU time (ms) | keras-on-torch predict (ms) | "
          "keras-on-torch model(x) (ms) | max abs difference |")
    print("|---|---|---|---|---|---|---|")
    for batch in args.batches:
        x = rng.uniform(-1, 1, (batch,) + shape).astype("float32")
        got = ours.predict(x, batch_size=batch, verbose=0)
        t_ours = timed(lambda x=x, n=batch: ours.predict(x, batch_size=n, verbose=0), args.reps)
        row = f"| {batch} | {ms(t_ours)} | {t_ours[0] * 1e3 / batch:.0f} | " \
              f"{t_ours[2] * 1e3:.0f} |"
        if theirs is not None:
            expected = np.asarray(theirs.predict(x, batch_size=batch, verbose=0))
            t_theirs = timed(lambda x=x, n=batch: theirs.predict(x, batch_size=n, verbose=0),
                             args.reps)
            import torch
            with torch.no_grad():
                t_call = timed(lambda x=x: theirs(x, training=False), args.reps)
            row += f" {ms(t_theirs)} | {ms(t_call)} | {np.abs(got - expected).max():.1e} |"
        else:
            row += " - | - | - |"
        print(row, flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
