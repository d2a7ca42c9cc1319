"""What the suite measures: each workload's size, repetitions, data, and GEMMs.

Framework-free (NumPy only): the driver imports it for FLOPs and the GEMM lower bound, and each
worker imports it for the data and the sizes. The models themselves are in `mgp_side.py` and
`torch_side.py`, one function per workload with the same name in both.
"""
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BATCH = 128             # training batch, as the Keras MNIST convnet example
TINY_BATCH = 8          # the tiny model's batch: its step is all per-step overhead
TINY_STEPS = 200
INFER_BATCH = 1000      # inference batch
TRAIN_IMAGES = 54_000   # the Keras example trains on 90% of the 60,000 (validation_split=0.1)
TEST_IMAGES = 10_000
# the optimizer steps update the weights of a 1024-1024-512 MLP: 1.57M float32 numbers
OPTIM_SHAPES = [(1024, 1024), (1024,), (1024, 512), (512,)]
OPTIM_PARAMS = sum(int(np.prod(s)) for s in OPTIM_SHAPES)
# what `jax_side.py` runs (whole programs under jax.jit); the micro-benchmarks and optimizer
# steps compare eager ops, which jit has no counterpart for
JAX_WORKLOADS = ("convnet_train", "classroom_train", "mlp_train", "tiny_train",
                 "convnet_infer", "opchain_fwd", "opchain_fwd_bwd", "imdb_lstm_train",
                 "imdb_gru_train", "transformer_train", "conv1d_train")


@dataclass
class Workload:
    """One row of the table.

    `images` is what one measured rep processes (None when images make no sense); `per_unit`
    converts seconds per rep into the reported unit (for example a quick run's 50 steps into
    seconds per 54,000-image epoch); `gemms` lists one step's matrix products as (m, k, n, layout),
    A (m, k) @ B (k, n), layout 'nn' / 'tn' / 'nt' saying which operand is a transposed view, and a
    rep makes `gemm_count` such steps.
    """
    name: str
    group: str
    unit: str
    reps: int
    warmup: dict = field(default_factory=dict)   # kwargs for the warm-up rep
    size: dict = field(default_factory=dict)     # kwargs for each measured rep
    images: int | None = None
    per_unit: float = 1.0
    gemms: list = field(default_factory=list)   # of one step or call
    gemm_count: float = 0.0                      # steps or calls per rep
    note: str = ""


# ---------------------------------------------- GEMMs ---------------------------------------------

def conv_gemms(n, h, w, c, f, k=3, input_grad=True, train=True):
    """The im2col GEMMs of a valid k x k conv over NHWC (n, h, w, c) with f filters.

    Forward cols (n*ho*wo, k*k*c) @ kernel (k*k*c, f); backward cols.T @ g for the kernel and,
    unless the input is the network's input, g @ kernel.T for the input.
    """
    m, kk = n * (h - k + 1) * (w - k + 1), k * k * c
    gemms = [(m, kk, f, "nn")]
    if train:
        gemms.append((kk, m, f, "tn"))
        if input_grad:
            gemms.append((m, f, kk, "nt"))
    return gemms


def dense_gemms(n, d_in, d_out, input_grad=True, train=True):
    gemms = [(n, d_in, d_out, "nn")]
    if train:
        gemms.append((d_in, n, d_out, "tn"))
        if input_grad:
            gemms.append((n, d_out, d_in, "nt"))
    return gemms


def model_gemms(model, n, train):
    """GEMMs of one step of `model` ('convnet', 'classroom' or 'mlp') at batch n."""
    if model == "convnet":
        return (conv_gemms(n, 28, 28, 1, 32, input_grad=False, train=train)
                + conv_gemms(n, 13, 13, 32, 64, train=train)
                + dense_gemms(n, 5 * 5 * 64, 10, train=train))
    if model == "classroom":
        return (conv_gemms(n, 28, 28, 1, 8, input_grad=False, train=train)
                + dense_gemms(n, 13 * 13 * 8, 10, train=train))
    if model == "mlp":
        return (dense_gemms(n, 784, 128, input_grad=False, train=train)
                + dense_gemms(n, 128, 10, train=train))
    raise ValueError(f"unknown model {model!r}")


def rnn_gemms(n, steps, d_in, units, gates, input_grad=True):
    """One training step of a bidirectional recurrent layer (`gates` = 4 for an LSTM, 3 for a
    GRU): per direction, the input projection of all steps as one GEMM (and its two gradient
    GEMMs), and per step the recurrent product (forward; backward, its input gradient), with the
    recurrent kernel's gradient collected as one GEMM."""
    g = gates * units
    one = [(n * steps, d_in, g, "nn"), (d_in, n * steps, g, "tn"), (units, n * steps, g, "tn")]
    if input_grad:
        one.append((n * steps, g, d_in, "nt"))
    one += [(n, units, g, "nn")] * steps + [(n, g, units, "nt")] * steps
    return one * 2 + dense_gemms(n, 2 * units, 1)


def gemm_flops(gemms):
    return sum(2 * m * k * n for m, k, n, _ in gemms)


# ----------------------------------------------- data ---------------------------------------------

# the recurrent workloads: the Keras IMDB example's shapes, on synthetic token sequences (batch
# SEQ_BATCH, below with the other sequence workloads)
SEQ_LEN, SEQ_TRAIN, VOCAB, EMBED, RNN_UNITS = 200, 25_000, 20_000, 128, 64


def has_embedding():
    """Whether mgp has an Embedding layer yet (read from its source, so that the PyTorch
    worker need not import mgp). Without one both sides train on the embedded sequences,
    looked up in a fixed table outside the model."""
    init = Path(__file__).resolve().parents[1] / "mgp" / "layers" / "__init__.py"
    return "Embedding" in init.read_text()


def token_sequences(n, seed=0):
    """(tokens (n, SEQ_LEN) int64, labels (n,) float32 0/1, table (VOCAB, EMBED) float32)."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, VOCAB, size=(n, SEQ_LEN))
    labels = (rng.random(n) < 0.5).astype(np.float32)
    table = (rng.standard_normal((VOCAB, EMBED)) * 0.05).astype(np.float32)
    return tokens, labels, table


def data_dir():
    """MGP_DATA_DIR, else the shared/data folder beside the repository."""
    env = os.environ.get("MGP_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def load_mnist():
    """(x_train (54000, 28, 28, 1), y_train, x_test (10000, 28, 28, 1), y_test): float32 in [0, 1]
    and int64 labels, read from mnist.npz (the Keras layout)."""
    path = data_dir() / "mnist.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; set MGP_DATA_DIR to the folder holding "
                                f"mnist.npz")
    with np.load(path) as f:
        x_train, y_train, x_test, y_test = (f[k] for k in ("x_train", "y_train", "x_test",
                                                           "y_test"))
    x_train, x_test = x_train[:TRAIN_IMAGES].astype(np.float32), x_test.astype(np.float32)
    x_train /= 255  # in place: the peak memory holds one float copy of the data
    x_test /= 255
    return (x_train[..., None], y_train[:TRAIN_IMAGES].astype(np.int64), x_test[..., None],
            y_test.astype(np.int64))


# --------------------------------------------- the list -------------------------------------------

def all_workloads(full):
    """The suite: whole epochs when `full`, else a few hundred training steps in all."""
    steps = None if full else 50                    # steps per measured rep (None: an epoch)
    train_reps, fast_reps = (5, 10) if full else (3, 5)
    images = TRAIN_IMAGES if full else steps * BATCH
    workloads = []
    for model, title in (("convnet", "Keras MNIST convnet"), ("classroom", "classroom CNN"),
                         ("mlp", "MLP 784-128-10")):
        workloads.append(Workload(
            f"{model}_train", model, "s/epoch", train_reps,
            warmup={"steps": 10}, size={"steps": steps}, images=images,
            per_unit=TRAIN_IMAGES / images,
            gemms=model_gemms(model, BATCH, train=True), gemm_count=images / BATCH,
            note=f"{title}, Adam, batch {BATCH}" + ("" if full else
                                                    f", {steps} steps scaled to an epoch")))
    # a model so small (12,730 weights, batch 8) that its arithmetic takes a few microseconds:
    # the step's time is what the framework spends around it (fit's callbacks, metrics and
    # logs, the layers' calls, the engine's per-op cost, the optimizer's calls)
    workloads.append(Workload(
        "tiny_train", "overhead", "us/step", train_reps, warmup={"steps": 20},
        size={"steps": TINY_STEPS}, images=TINY_STEPS * TINY_BATCH, per_unit=1e6 / TINY_STEPS,
        note=f"Flatten, Dense 16 relu, Dense 10 softmax, Adam, batch {TINY_BATCH}: the Python "
             f"cost of a step"))
    workloads.append(Workload(
        "convnet_infer", "convnet", "s/10k img", fast_reps,
        warmup={"images": INFER_BATCH}, size={"images": TEST_IMAGES}, images=TEST_IMAGES,
        gemms=model_gemms("convnet", INFER_BATCH, train=False),
        gemm_count=TEST_IMAGES / INFER_BATCH,
        note=f"predict, batch {INFER_BATCH}"))

    calls = 10  # calls per micro rep; reported per call
    n = BATCH
    micro = [
        ("conv1_fwd", conv_gemms(n, 28, 28, 1, 32, train=False), "(128,28,28,1) * 3x3x1x32"),
        ("conv1_fwd_bwd", conv_gemms(n, 28, 28, 1, 32, input_grad=False), "no input grad"),
        ("conv2_fwd", conv_gemms(n, 13, 13, 32, 64, train=False), "(128,13,13,32) * 3x3x32x64"),
        ("conv2_fwd_bwd", conv_gemms(n, 13, 13, 32, 64), ""),
        ("pool1_fwd_bwd", [], "max 2x2 over (128,26,26,32)"),
        ("pool2_fwd_bwd", [], "max 2x2 over (128,11,11,64)"),
        ("matmul_fwd_bwd", [(n * 121, 288, 64, "nn"), (288, n * 121, 64, "tn"),
                            (n * 121, 64, 288, "nt")], "(15488,288) @ (288,64), conv2's GEMM"),
        ("dense_fwd_bwd", dense_gemms(n, 1600, 10), "(128,1600) @ (1600,10)"),
        ("xent_fwd_bwd", [], "softmax cross-entropy, (128,10) logits"),
    ]
    for name, gemms, note in micro:
        workloads.append(Workload(
            name, "micro", "ms/call", fast_reps * 2, warmup={"calls": 2}, size={"calls": calls},
            per_unit=1000 / calls, gemms=gemms, gemm_count=calls, note=note))

    for name, note in (("sgd_step", "SGD(momentum=0.9)"), ("adam_step", "Adam"),
                       ("rmsprop_step", "RMSprop")):
        workloads.append(Workload(
            name, "optim", "ms/call", fast_reps * 2, warmup={"calls": 2}, size={"calls": calls},
            per_unit=1000 / calls, note=f"{note}: one update of {OPTIM_PARAMS:,} float32 weights"))

    seq_steps = None if full else 10
    seqs = SEQ_TRAIN if full else seq_steps * SEQ_BATCH
    embed = "Embedding(20000, 128)" if has_embedding() else \
        "inputs embedded outside the model (no Embedding layer in mgp yet)"
    for kind, gates in (("lstm", 4), ("gru", 3)):
        workloads.append(Workload(
            f"imdb_{kind}_train", "recurrent", "s/epoch", train_reps,
            warmup={"steps": 2}, size={"steps": seq_steps}, images=seqs,
            per_unit=SEQ_TRAIN / seqs,
            gemms=rnn_gemms(SEQ_BATCH, SEQ_LEN, EMBED, RNN_UNITS, gates,
                            input_grad=has_embedding()),
            gemm_count=seqs / SEQ_BATCH,
            note=f"{embed}, Bidirectional({kind.upper()}(64)), Dense(1), sequences of "
                 f"{SEQ_LEN}, Adam, batch {SEQ_BATCH}" + (
                     "" if full else f", {seq_steps} steps scaled to a 25,000-sequence epoch")))

    chains = 10
    for name, note in (("opchain_fwd", "1,000 ops on (16,) tensors, graph built"),
                       ("opchain_fwd_bwd", "the same, then backward")):
        workloads.append(Workload(
            name, "opchain", "ms/chain", fast_reps * 2, warmup={"chains": 2},
            size={"chains": chains}, per_unit=1000 / chains, note=note))
    return workloads + sequence_workloads(full)


# sequence models (the Keras examples' shapes): synthetic data, so no download is needed
SEQ_BATCH = 32
TRANSFORMER = dict(vocab=20_000, steps=128, dim=64, heads=2, key_dim=64, ff=128,
                   sequences=3_200)   # an epoch of 100 batches of 32
CONV1D = dict(steps=500, channels=1, filters=64, sequences=3_600)  # FordA's shape


def sequence_data(kind):
    """(x, y) of a sequence workload: token ids (N, 128) or series (N, 500, 1), and labels
    that depend on them (so the loss can fall), from a fixed seed."""
    rng = np.random.default_rng(7)
    if kind == "transformer":
        x = rng.integers(1, TRANSFORMER["vocab"], size=(TRANSFORMER["sequences"],
                                                        TRANSFORMER["steps"]))
        return x.astype(np.int64), (x[:, :16].mean(1) > TRANSFORMER["vocab"] / 2).astype(
            np.int64)
    x = rng.standard_normal((CONV1D["sequences"], CONV1D["steps"], 1)).astype(np.float32)
    return x, (x[:, :250].mean((1, 2)) > x[:, 250:].mean((1, 2))).astype(np.int64)


def sequence_workloads(full):
    steps = None if full else 20
    reps = 3
    out = []
    for name, spec, note in (
            ("transformer_train", TRANSFORMER,
             "Embedding(20000, 64), encoder block (MultiHeadAttention 2 heads key_dim 64, "
             "LayerNormalization, Dense 128 relu, Dense 64, LayerNormalization), "
             "GlobalAveragePooling1D, Dense 2; 128 steps"),
            ("conv1d_train", CONV1D,
             "3 x (Conv1D 64 k3 same, BatchNormalization, ReLU), GlobalAveragePooling1D, "
             "Dense 2; 500 steps, 1 channel")):
        images = spec["sequences"] if full else steps * SEQ_BATCH
        out.append(Workload(
            name, "sequence", "s/epoch", reps, warmup={"steps": 3}, size={"steps": steps},
            images=images, per_unit=spec["sequences"] / images, gemm_count=images / SEQ_BATCH,
            note=f"{note}, Adam, batch {SEQ_BATCH}, epoch of {spec['sequences']:,}" +
                 ("" if full else f", {steps} steps scaled to an epoch")))
    return out
