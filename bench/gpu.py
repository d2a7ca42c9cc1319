"""GPU workloads: mgp on CuPy against PyTorch CUDA eager, on the same GPU, in the same run.

    pip install mgp[cuda] torch            # CuPy for CUDA 12, and PyTorch built for CUDA
    python bench/gpu.py                    # whole 54,000-image epochs, 3 measured reps each
    python bench/gpu.py --quick            # 50 training steps a rep, scaled to an epoch
    python bench/gpu.py --only train_b128,opchain --json gpu.json

Workloads (the Keras MNIST convnet of bench/README.md: Conv2D 32, MaxPool, Conv2D 64, MaxPool,
Flatten, Dropout 0.5, Dense 10 softmax; Adam; sparse categorical cross-entropy):
- train_b128, train_b1024: one training epoch (54,000 images) at batch 128 and 1024. PyTorch
  holds the data on the GPU and calls `loss.item()` every step, as a logging training loop does.
  mgp is timed twice: `fit` on NumPy data (each batch copied to the GPU, the user's path), and
  `train_step` on batches already on the GPU (the same work as PyTorch's loop).
- infer_b1000: the 10,000 test images in batches of 1000, softmax probabilities back on the host
  (mgp: `predict` on NumPy data; also with the images already on the GPU).
- conv2_fwd_bwd: the second conv layer (128, 13, 13, 32) -> 64 filters, forward and backward.
- opchain_fwd, opchain_fwd_bwd: 1,000 elementwise ops on (16,) tensors (and their backward):
  the per-op cost, which decides small batches on a GPU.

Both sides compute in full float32 by default (PyTorch's cuDNN would otherwise use TF32 for its
convolutions); `--tf32` lets both use TF32 (CuPy's matmul through CUPY_TF32=1). Each measured
rep is bracketed by device synchronizations; one warm-up rep first (CuPy compiles its kernels on
first use). Exits with status 2 and a message when CuPy or a GPU is missing.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

TRAIN_IMAGES, TEST_IMAGES, INFER_BATCH, QUICK_STEPS = 54_000, 10_000, 1000, 50
# Targets of the GPU issue: mgp's epoch time over PyTorch's, on the same GPU
TARGETS = {"train_b128": 1.5, "train_b1024": 1.2}
# PyTorch 2.11 CUDA eager on an H100 80GB, data on the GPU, loss.item() each step
REFERENCE = {"train_b128": "0.96 s/epoch", "train_b1024": "0.14 s/epoch",
             "infer_b1000": "about 2.1 M img/s"}


def fail(message):
    print(f"bench/gpu.py: {message}", file=sys.stderr)
    sys.exit(2)


def start_gpu(tf32):
    """mgp on the GPU (CuPy), or exit 2 with the reason."""
    if tf32:
        os.environ["CUPY_TF32"] = "1"  # read by CuPy when it is imported
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        import mgp  # MGP_DEVICE=cuda would already switch here
        mgp.set_device("cuda")
    except (ImportError, RuntimeError) as e:
        fail(f"cannot run on the GPU: {e}")
    import cupy
    return mgp, cupy


def start_torch(tf32):
    """PyTorch on the GPU, or None (the table then shows mgp alone) with the reason."""
    try:
        import torch
    except ImportError:
        return None, "PyTorch is not installed"
    if not torch.cuda.is_available():
        return None, f"PyTorch {torch.__version__} sees no CUDA GPU"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True  # PyTorch's usual setting for fixed shapes
    return torch, None


def load_mnist(path):
    """MNIST as the Keras example prepares it, or random images of its shape (timing only)."""
    candidates = [Path(path)] if path else []
    if os.environ.get("MGP_DATA_DIR"):
        candidates.append(Path(os.environ["MGP_DATA_DIR"]) / "mnist.npz")
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz")
    for candidate in candidates:
        if candidate.is_file():
            with np.load(candidate) as f:
                x, y, x_test = f["x_train"], f["y_train"], f["x_test"]
            source = str(candidate)
            break
    else:
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (60_000, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, 60_000).astype(np.uint8)
        x_test = rng.integers(0, 256, (TEST_IMAGES, 28, 28), dtype=np.uint8)
        source = "random images (no mnist.npz found; timings do not depend on the pixels)"
    prep = lambda a: (a.astype(np.float32) / 255)[..., None]  # noqa: E731
    return prep(x[:TRAIN_IMAGES]), y[:TRAIN_IMAGES].astype(np.int64), prep(x_test), source


def median(times):
    return statistics.median(times)


def timed(fn, sync, reps):
    """Seconds of each of `reps` calls of `fn`, after one warm-up call, synchronized."""
    fn()
    sync()
    times = []
    for _ in range(reps):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return times


# ================================================ mgp ===============================================

def mgp_model(mgp):
    from mgp import layers
    model = mgp.Sequential([
        mgp.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
        layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=mgp.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    return model


def mgp_train_fit(mgp, x, y, batch, n):
    model = mgp_model(mgp)
    return lambda: model.fit(x[:n], y[:n], batch_size=batch, epochs=1, verbose=0)


def mgp_train_resident(mgp, cupy, x, y, batch, n):
    model = mgp_model(mgp)
    xd, yd = cupy.asarray(x[:n]), cupy.asarray(y[:n])

    def rep():
        order = cupy.random.permutation(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            model.train_step((mgp.Tensor(xd[idx]), yd[idx]))  # logs call loss.item()
    return rep


def mgp_infer(mgp, x_test, images):
    model = mgp_model(mgp)
    return lambda: model.predict(x_test[:images], batch_size=INFER_BATCH, verbose=0)


def mgp_infer_resident(mgp, cupy, x_test, images):
    model = mgp_model(mgp)
    xd = cupy.asarray(x_test[:images])

    def rep():
        with mgp.no_grad():
            probs = [model(mgp.Tensor(xd[i:i + INFER_BATCH]), training=False).data
                     for i in range(0, images, INFER_BATCH)]
        return cupy.concatenate(probs).get()
    return rep


def _mgp_rand(mgp, shape, grad):
    data = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    return mgp.tensor(data, requires_grad=grad)


def mgp_conv2(mgp, calls):
    from mgp.ops import nn as F
    x, k, b = (_mgp_rand(mgp, s, True) for s in ((128, 13, 13, 32), (3, 3, 32, 64), (64,)))
    g = _mgp_rand(mgp, (128, 11, 11, 64), False).data

    def rep():
        for _ in range(calls):
            x.grad = k.grad = b.grad = None
            F.conv2d(x, k, b).backward(g)
    return rep


def mgp_chain(mgp, chains, backward):
    x = _mgp_rand(mgp, (16,), True)
    c = mgp.tensor(np.full(16, 0.5, np.float32))

    def rep():
        for _ in range(chains):
            y = x
            for _ in range(250):  # 4 ops a round: 1,000 ops
                y = (y * c + c).tanh() - c
            if backward:
                x.grad = None
                y.sum().backward()
    return rep


# ============================================== PyTorch =============================================

def torch_model(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(5 * 5 * 64, 10)).cuda()


def torch_train(torch, x, y, batch, n):
    F = torch.nn.functional
    xd = torch.from_numpy(np.ascontiguousarray(x[:n].transpose(0, 3, 1, 2))).cuda()
    yd = torch.from_numpy(y[:n]).cuda()
    model = torch_model(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)  # Keras's defaults

    def rep():
        model.train()
        perm = torch.randperm(n, device="cuda")
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xd[idx]), yd[idx])
            loss.backward()
            opt.step()
            loss.item()
    return rep


def torch_infer(torch, x_test, images):
    xd = torch.from_numpy(np.ascontiguousarray(x_test[:images].transpose(0, 3, 1, 2))).cuda()
    model = torch_model(torch).eval()

    def rep():
        with torch.no_grad():
            probs = [torch.softmax(model(xd[i:i + INFER_BATCH]), dim=1)
                     for i in range(0, images, INFER_BATCH)]
            return torch.cat(probs).cpu().numpy()
    return rep


def _torch_rand(torch, shape, grad):
    data = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    return torch.from_numpy(data).cuda().requires_grad_(grad)


def torch_conv2(torch, calls):
    x, k, b = (_torch_rand(torch, s, True) for s in ((128, 32, 13, 13), (64, 32, 3, 3), (64,)))
    g = _torch_rand(torch, (128, 64, 11, 11), False)

    def rep():
        for _ in range(calls):
            x.grad = k.grad = b.grad = None
            torch.nn.functional.conv2d(x, k, b).backward(g)
    return rep


def torch_chain(torch, chains, backward):
    x = _torch_rand(torch, (16,), True)
    c = torch.full((16,), 0.5, device="cuda")

    def rep():
        for _ in range(chains):
            y = x
            for _ in range(250):
                y = (y * c + c).tanh() - c
            if backward:
                x.grad = None
                y.sum().backward()
    return rep


# ============================================== the run =============================================

def workloads(args, mgp, cupy, torch, data):
    """(name, unit, per-rep scale, images per unit or None, [(side, make_rep)]) per row."""
    x, y, x_test, _ = data
    rows = []
    for batch in (128, 1024):
        n = min(TRAIN_IMAGES, args.steps * batch) if args.quick else TRAIN_IMAGES
        sides = [("mgp", lambda b=batch, n=n: mgp_train_fit(mgp, x, y, b, n)),
                 ("mgp resident", lambda b=batch, n=n: mgp_train_resident(mgp, cupy, x, y, b, n))]
        if torch:
            sides.append(("torch", lambda b=batch, n=n: torch_train(torch, x, y, b, n)))
        rows.append((f"train_b{batch}", "s/epoch", TRAIN_IMAGES / n, TRAIN_IMAGES, sides))
    images = 2000 if args.quick else TEST_IMAGES
    sides = [("mgp", lambda: mgp_infer(mgp, x_test, images)),
             ("mgp resident", lambda: mgp_infer_resident(mgp, cupy, x_test, images))]
    if torch:
        sides.append(("torch", lambda: torch_infer(torch, x_test, images)))
    rows.append(("infer_b1000", "s/10k img", TEST_IMAGES / images, TEST_IMAGES, sides))
    calls = 20
    rows.append(("conv2_fwd_bwd", "ms/call", 1000 / calls, None,
                 [("mgp", lambda: mgp_conv2(mgp, calls))]
                 + ([("torch", lambda: torch_conv2(torch, calls))] if torch else [])))
    for backward in (False, True):
        name = "opchain_fwd_bwd" if backward else "opchain_fwd"
        chains = 5
        rows.append((name, "ms/1k ops", 1000 / chains, None,
                     [("mgp", lambda b=backward: mgp_chain(mgp, chains, b))]
                     + ([("torch", lambda b=backward: torch_chain(torch, chains, b))]
                        if torch else [])))
    only = [s.strip() for s in args.only.split(",")] if args.only else None
    return [r for r in rows if only is None or any(o in r[0] for o in only)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 steps a rep, not an epoch")
    parser.add_argument("--steps", type=int, default=QUICK_STEPS, help="steps a rep with --quick")
    parser.add_argument("--reps", type=int, default=3, help="measured reps (after 1 warm-up)")
    parser.add_argument("--only", default="", help="comma-separated workload name parts")
    parser.add_argument("--tf32", action="store_true", help="let both sides use TF32")
    parser.add_argument("--data", default="", help="path of mnist.npz")
    parser.add_argument("--json", default="", help="also write every time to this file")
    args = parser.parse_args(argv)

    mgp, cupy = start_gpu(args.tf32)
    torch, why_not = start_torch(args.tf32)
    props = cupy.cuda.runtime.getDeviceProperties(0)
    gpu = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    print(f"GPU: {gpu}; mgp {mgp.__version__} on CuPy {cupy.__version__}; "
          + (f"PyTorch {torch.__version__} (CUDA {torch.version.cuda})" if torch
             else f"no PyTorch column: {why_not}")
          + f"; {'TF32' if args.tf32 else 'full float32'}; {'quick' if args.quick else 'full'}")
    data = load_mnist(args.data)
    print(f"data: {data[3]}\n")

    def sync_all():
        cupy.cuda.Device().synchronize()
        if torch:
            torch.cuda.synchronize()

    results = []
    header = (f"{'workload':<16} {'unit':<10} {'mgp':>10} {'mgp resident':>13} "
              f"{'torch':>10} {'mgp/torch':>10} {'res/torch':>10} {'target':>7}")
    print(header)
    print("-" * len(header))
    for name, unit, scale, images, sides in workloads(args, mgp, cupy, torch, data):
        row = {"workload": name, "unit": unit}
        for side, make in sides:
            mgp.utils.set_random_seed(0)
            if torch:
                torch.manual_seed(0)
            times = [t * scale for t in timed(make(), sync_all, args.reps)]
            row[side] = {"median": median(times), "times": times}
            if images:  # the images of one unit (an epoch, or the test set)
                row[side]["img_per_s"] = images / median(times)
        results.append(row)
        cell = lambda side: f"{row[side]['median']:.4g}" if side in row else "-"  # noqa: E731
        ratio = lambda side: (f"{row[side]['median'] / row['torch']['median']:.2f}x"  # noqa
                              if side in row and "torch" in row else "-")
        target = f"{TARGETS[name]}x" if name in TARGETS else ""
        print(f"{name:<16} {unit:<10} {cell('mgp'):>10} {cell('mgp resident'):>13} "
              f"{cell('torch'):>10} {ratio('mgp'):>10} {ratio('mgp resident'):>10} "
              f"{target:>7}", flush=True)
    print("\n'mgp' is the user's path for the models (fit/predict on NumPy data, each batch "
          "copied to the GPU); 'mgp resident' runs on data already on the GPU, as the torch "
          "column does. Images per second are in --json.")
    print("Reference (the issue, H100 80GB, PyTorch 2.11): "
          + ", ".join(f"{k} {v}" for k, v in REFERENCE.items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"gpu": gpu, "tf32": args.tf32, "quick": args.quick,
                                               "results": results}, indent=1))


if __name__ == "__main__":
    main()
