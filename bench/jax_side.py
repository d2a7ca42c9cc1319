"""The training and inference workloads in JAX, the whole step compiled with `jax.jit` (XLA on
the CPU): the second peer, beside PyTorch eager. Same functions as `mgp_side.py` for the
workloads in `workloads.JAX_WORKLOADS`; same model, data, batch size, optimizer and FLOPs.

Written as a JAX user writes a training loop: NHWC (as mgp and Keras), the data held as device
arrays, a fresh permutation each epoch, the batch gathered inside the compiled step, optax's
Adam with Keras's defaults, and the loss fetched to the host every step as a logging loop does.
The models end in their logits and train on `optax.softmax_cross_entropy_with_integer_labels`
(the fused form of softmax + sparse categorical cross-entropy); inference applies the softmax.

Compilation happens on the warm-up rep, for every batch size the measured reps will meet (the
epoch's last, smaller batch too), and is timed there: its seconds come back as `compile`, which
the table reports apart from the steady state.
"""
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from workloads import BATCH, INFER_BATCH, TEST_IMAGES, TINY_BATCH, TRAIN_IMAGES

jax.config.update("jax_platforms", "cpu")

DN = ("NHWC", "HWIO", "NHWC")  # conv dimension numbers: mgp's and Keras's layout


def _glorot(key, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, jnp.float32, -limit, limit)


def _params(kind, key):
    """Glorot-uniform kernels and zero biases, as Keras initializes them."""
    keys = iter(jax.random.split(key, 8))
    p = {}
    if kind in ("convnet", "classroom"):
        convs = [(1, 32), (32, 64)] if kind == "convnet" else [(1, 8)]
        for i, (c, f) in enumerate(convs):
            p[f"conv{i}"] = (_glorot(next(keys), (3, 3, c, f), 9 * c, 9 * f), jnp.zeros(f))
        flat = 5 * 5 * 64 if kind == "convnet" else 13 * 13 * 8
        p["out"] = (_glorot(next(keys), (flat, 10), flat, 10), jnp.zeros(10))
    else:
        units = 16 if kind == "tiny" else 128
        p["hidden"] = (_glorot(next(keys), (784, units), 784, units), jnp.zeros(units))
        p["out"] = (_glorot(next(keys), (units, 10), units, 10), jnp.zeros(10))
    return p


def _pool(h):
    return jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def _logits(kind, p, x, key=None):
    """The model's forward pass; `key` given: training (dropout on)."""
    if kind in ("mlp", "tiny"):
        h = jax.nn.relu(x.reshape(len(x), -1) @ p["hidden"][0] + p["hidden"][1])
    else:
        h = x
        for name in ("conv0", "conv1") if kind == "convnet" else ("conv0",):
            w, b = p[name]
            h = jax.lax.conv_general_dilated(h, w, (1, 1), "VALID", dimension_numbers=DN)
            h = _pool(jax.nn.relu(h + b))
        h = h.reshape(len(h), -1)
        if kind == "convnet" and key is not None:  # Dropout(0.5), inverted as Keras does
            keep = jax.random.bernoulli(key, 0.5, h.shape)
            h = jnp.where(keep, h * 2.0, 0.0)
    return h @ p["out"][0] + p["out"][1]


def _timed_compile(jitted, *args):
    start = time.perf_counter()
    compiled = jitted.lower(*args).compile()
    return compiled, time.perf_counter() - start


def _train(kind, load, batch=BATCH):
    x_host, y_host = load()[:2]
    x, y = jax.device_put(x_host), jax.device_put(y_host.astype(np.int32))
    optimizer = optax.adam(1e-3, eps=1e-7)  # Keras's defaults
    params = _params(kind, jax.random.PRNGKey(0))
    state = {"params": params, "opt": optimizer.init(params), "key": jax.random.PRNGKey(1)}
    rng = np.random.default_rng(0)

    def loss_fn(p, xb, yb, key):
        logits = _logits(kind, p, xb, key)
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @partial(jax.jit, donate_argnums=(0, 1))  # weights and moments updated in place
    def step(p, opt_state, key, x, y, idx):  # the data as arguments: no constant in the program
        key, drop = jax.random.split(key)
        loss, grads = jax.value_and_grad(loss_fn)(p, x[idx], y[idx], drop)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, key, loss

    compiled = {}

    def rep(steps=None):
        extra = {}
        if not compiled:  # the warm-up rep: compile every batch size an epoch meets
            seconds = 0.0
            for n in sorted({batch, TRAIN_IMAGES % batch} - {0}):
                idx = jnp.zeros(n, jnp.int32)
                compiled[n], s = _timed_compile(step, state["params"], state["opt"],
                                                state["key"], x, y, idx)
                seconds += s
            extra["compile"] = seconds
        n = len(x_host) if steps is None else steps * batch
        perm = rng.permutation(n).astype(np.int32)  # shuffled each epoch, as fit does
        p, opt_state, key = state["params"], state["opt"], state["key"]
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            p, opt_state, key, loss = compiled[len(idx)](p, opt_state, key, x, y, idx)
            total += float(loss) * len(idx)  # fetched each step, as a logging loop does
        state.update(params=p, opt=opt_state, key=key)
        return {"loss": total / n, **extra}
    return rep


def convnet_train(load): return _train("convnet", load)
def classroom_train(load): return _train("classroom", load)
def mlp_train(load): return _train("mlp", load)
def tiny_train(load): return _train("tiny", load, TINY_BATCH)


def convnet_infer(load):
    x = jax.device_put(load()[2])
    params = _params("convnet", jax.random.PRNGKey(0))

    @jax.jit
    def predict(p, x, start):
        xb = jax.lax.dynamic_slice_in_dim(x, start, INFER_BATCH)
        return jax.nn.softmax(_logits("convnet", p, xb), axis=-1)

    compiled = {}

    def rep(images):
        extra = {}
        if not compiled:
            compiled["f"], extra["compile"] = _timed_compile(predict, params, x, 0)
        probs = [np.asarray(compiled["f"](params, x, i)) for i in range(0, images, INFER_BATCH)]
        np.concatenate(probs)
        return extra
    assert TEST_IMAGES % INFER_BATCH == 0
    return rep


# ------------------------------------------ per-op overhead ---------------------------------------

def _chain(backward):
    """The 1,000-op chain compiled into one XLA program: what jit makes of per-op overhead."""
    x = jnp.asarray(np.random.default_rng(0).standard_normal(16, dtype=np.float32))
    c = jnp.full((16,), 0.5, jnp.float32)

    def chain(x):
        y = x
        for _ in range(250):  # 4 ops a round: 1,000 ops
            y = jnp.tanh(y * c + c) - c
        return y

    fn = jax.jit(jax.grad(lambda x: chain(x).sum()) if backward else chain)
    compiled = {}

    def rep(chains):
        extra = {}
        if not compiled:
            compiled["f"], extra["compile"] = _timed_compile(fn, x)
        for _ in range(chains):
            compiled["f"](x).block_until_ready()
        return extra
    return rep


def opchain_fwd(load): return _chain(backward=False)
def opchain_fwd_bwd(load): return _chain(backward=True)


def info():
    """What this side runs on, for the report's header."""
    import os
    return (f"jax {jax.__version__}, optax {optax.__version__}, XLA on {jax.devices()[0].platform}, "
            f"XLA_FLAGS {os.environ.get('XLA_FLAGS', '')!r}")
