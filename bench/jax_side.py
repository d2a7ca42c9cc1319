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
from workloads import (
    BATCH,
    CONV1D,
    EMBED,
    INFER_BATCH,
    RNN_UNITS,
    SEQ_BATCH,
    SEQ_TRAIN,
    TEST_IMAGES,
    TINY_BATCH,
    TRANSFORMER,
    VOCAB,
    has_embedding,
    sequence_data,
    token_sequences,
)

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


def _fit(loss_fn, params, x_host, y_host, batch, aux=None):
    """A training loop over (x, y) held on the device: `loss_fn(params, aux, xb, yb, key)`
    gives (loss, aux), `aux` being state the step updates but Adam does not train (batch
    normalization's moving statistics); one compiled step per batch size an epoch meets."""
    x, y = jax.device_put(x_host), jax.device_put(y_host)
    optimizer = optax.adam(1e-3, eps=1e-7)  # Keras's defaults
    state = {"params": params, "opt": optimizer.init(params), "aux": {} if aux is None else aux,
             "key": jax.random.PRNGKey(1)}
    rng = np.random.default_rng(0)

    @partial(jax.jit, donate_argnums=(0, 1, 2))  # weights, moments and statistics in place
    def step(p, opt_state, aux, key, x, y, idx):  # the data as arguments: no constant in it
        key, drop = jax.random.split(key)
        (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            p, aux, x[idx], y[idx], drop)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, aux, key, loss

    compiled = {}

    def rep(steps=None):
        extra = {}
        if not compiled:  # the warm-up rep: compile every batch size an epoch meets
            seconds = 0.0
            for n in sorted({batch, len(x_host) % batch} - {0}):
                idx = jnp.zeros(n, jnp.int32)
                compiled[n], s = _timed_compile(step, state["params"], state["opt"],
                                                state["aux"], state["key"], x, y, idx)
                seconds += s
            extra["compile"] = seconds
        n = len(x_host) if steps is None else steps * batch
        perm = rng.permutation(n).astype(np.int32)  # shuffled each epoch, as fit does
        p, opt_state, aux, key = state["params"], state["opt"], state["aux"], state["key"]
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            p, opt_state, aux, key, loss = compiled[len(idx)](p, opt_state, aux, key, x, y, idx)
            total += float(loss) * len(idx)  # fetched each step, as a logging loop does
        state.update(params=p, opt=opt_state, aux=aux, key=key)
        return {"loss": total / n, **extra}
    return rep


def _train(kind, load, batch=BATCH):
    x, y = load()[:2]

    def loss_fn(p, aux, xb, yb, key):
        logits = _logits(kind, p, xb, key)
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean(), aux
    return _fit(loss_fn, _params(kind, jax.random.PRNGKey(0)), x, y.astype(np.int32), batch)


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


# ------------------------------------------- recurrent --------------------------------------------

def _embedding(key, vocab, dim):
    return jax.random.uniform(key, (vocab, dim), jnp.float32, -0.05, 0.05)  # Keras's default


def _rnn_params(kind, key, d_in, units):
    """Keras's LSTM (gates i, f, c, o; the forget gate's bias 1) or GRU (reset_after: gates z,
    r, h; an input bias and a recurrent bias): Glorot kernels, orthogonal recurrent kernels."""
    gates = 4 if kind == "lstm" else 3
    k1, k2 = jax.random.split(key)
    w = _glorot(k1, (d_in, gates * units), d_in, gates * units)
    u = jax.nn.initializers.orthogonal()(k2, (units, gates * units), jnp.float32)
    if kind == "lstm":
        b = jnp.zeros(4 * units).at[units:2 * units].set(1.0)  # unit_forget_bias
    else:
        b = jnp.zeros((2, 3 * units))
    return w, u, b


def _rnn_last(kind, params, x, reverse):
    """The last state of an LSTM or GRU over x (N, T, D): the input products for all steps at
    once, then jax.lax.scan over time for the recurrence."""
    w, u, b = params
    units = u.shape[0]
    xs = jnp.swapaxes(x @ w + (b if kind == "lstm" else b[0]), 0, 1)  # (T, N, gates * units)
    h0 = jnp.zeros((x.shape[0], units), x.dtype)
    if kind == "lstm":
        def cell(carry, xt):
            h, c = carry
            i, f, g, o = jnp.split(xt + h @ u, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            return (jax.nn.sigmoid(o) * jnp.tanh(c), c), None
        (h, _), _ = jax.lax.scan(cell, (h0, h0), xs, reverse=reverse)
    else:
        def cell(h, xt):
            xz, xr, xh = jnp.split(xt, 3, axis=-1)
            rz, rr, rh = jnp.split(h @ u + b[1], 3, axis=-1)
            z, r = jax.nn.sigmoid(xz + rz), jax.nn.sigmoid(xr + rr)
            return z * h + (1 - z) * jnp.tanh(xh + r * rh), None
        h, _ = jax.lax.scan(cell, h0, xs, reverse=reverse)
    return h


def _sentiment(kind):
    """Embedding(20000, 128), Bidirectional(LSTM or GRU (64)) (both directions' last states),
    Dense(1) on the logit with binary cross-entropy (the fused sigmoid)."""
    tokens, labels, table = token_sequences(SEQ_TRAIN)
    embedded = has_embedding()
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    params = {"forward": _rnn_params(kind, keys[0], EMBED, RNN_UNITS),
              "backward": _rnn_params(kind, keys[1], EMBED, RNN_UNITS),
              "out": (_glorot(keys[2], (2 * RNN_UNITS, 1), 2 * RNN_UNITS, 1), jnp.zeros(1))}
    if embedded:
        params["embed"] = _embedding(keys[3], VOCAB, EMBED)
    else:  # as the other sides: a fixed table looked up outside the model, in the step here
        params_table = jnp.asarray(table)

    def loss_fn(p, aux, xb, yb, key):
        e = p["embed"][xb] if embedded else params_table[xb]
        h = jnp.concatenate([_rnn_last(kind, p["forward"], e, reverse=False),
                             _rnn_last(kind, p["backward"], e, reverse=True)], axis=-1)
        logit = (h @ p["out"][0] + p["out"][1])[:, 0]
        return optax.sigmoid_binary_cross_entropy(logit, yb).mean(), aux
    return _fit(loss_fn, params, tokens.astype(np.int32), labels, SEQ_BATCH)


def imdb_lstm_train(load): return _sentiment("lstm")
def imdb_gru_train(load): return _sentiment("gru")


# ---------------------------------------- sequence models -----------------------------------------

def _dense(key, d_in, d_out):
    return _glorot(key, (d_in, d_out), d_in, d_out), jnp.zeros(d_out)


def _layer_norm(x, gamma_beta, eps=1e-6):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / jnp.sqrt(var + eps) * gamma_beta[0] + gamma_beta[1]


def _transformer_params(key):
    """Keras's MultiHeadAttention: q/k/v kernels (dim, heads, key_dim) with biases, an output
    kernel (heads, key_dim, dim); Glorot over the flattened fans as Keras's EinsumDense."""
    t = TRANSFORMER
    keys = iter(jax.random.split(key, 8))
    dim, heads, kd = t["dim"], t["heads"], t["key_dim"]
    p = {"embed": _embedding(next(keys), t["vocab"], dim)}
    for name in ("q", "k", "v"):
        p[name] = (_glorot(next(keys), (dim, heads, kd), dim, heads * kd), jnp.zeros((heads, kd)))
    p["o"] = (_glorot(next(keys), (heads, kd, dim), heads * kd, dim), jnp.zeros(dim))
    p["norm1"], p["norm2"] = ((jnp.ones(dim), jnp.zeros(dim)) for _ in range(2))
    p["ff1"], p["ff2"] = _dense(next(keys), dim, t["ff"]), _dense(next(keys), t["ff"], dim)
    p["out"] = _dense(next(keys), dim, 2)
    return p


def _transformer_logits(p, ids):
    x = p["embed"][ids]
    q, k, v = (jnp.einsum("bsd,dhk->bshk", x, p[n][0]) + p[n][1] for n in ("q", "k", "v"))
    scores = jnp.einsum("bqhk,bshk->bhqs", q, k) / np.sqrt(TRANSFORMER["key_dim"])
    a = jnp.einsum("bhqs,bshk->bqhk", jax.nn.softmax(scores, axis=-1), v)
    x = _layer_norm(x + jnp.einsum("bqhk,hkd->bqd", a, p["o"][0]) + p["o"][1], p["norm1"])
    f = jax.nn.relu(x @ p["ff1"][0] + p["ff1"][1]) @ p["ff2"][0] + p["ff2"][1]
    x = _layer_norm(x + f, p["norm2"])
    return x.mean(1) @ p["out"][0] + p["out"][1]


def _conv1d_params(key):
    c = CONV1D
    keys = iter(jax.random.split(key, 4))
    p, stats = {}, {}
    for i in range(3):
        cin, f = c["channels"] if i == 0 else c["filters"], c["filters"]
        p[f"conv{i}"] = (_glorot(next(keys), (3, cin, f), 3 * cin, 3 * f), jnp.zeros(f))
        p[f"bn{i}"] = (jnp.ones(f), jnp.zeros(f))
        stats[f"bn{i}"] = (jnp.zeros(f), jnp.ones(f))  # moving mean and variance
    p["out"] = _dense(next(keys), c["filters"], 2)
    return p, stats


def _conv1d_logits(p, stats, x):
    """Training mode: batch normalization on the batch's statistics, the moving ones updated
    with Keras's momentum 0.99."""
    h, new = x, {}
    for i in range(3):
        w, b = p[f"conv{i}"]
        h = jax.lax.conv_general_dilated(h, w, (1,), "SAME",
                                         dimension_numbers=("NWC", "WIO", "NWC")) + b
        mean, var = h.mean((0, 1)), h.var((0, 1))
        gamma, beta = p[f"bn{i}"]
        h = jax.nn.relu((h - mean) / jnp.sqrt(var + 1e-3) * gamma + beta)
        mm, mv = stats[f"bn{i}"]
        new[f"bn{i}"] = (0.99 * mm + 0.01 * jax.lax.stop_gradient(mean),
                         0.99 * mv + 0.01 * jax.lax.stop_gradient(var))
    return h.mean(1) @ p["out"][0] + p["out"][1], new


def _train_sequences(kind):
    """The encoder block or the Conv1D classifier, Dense(2) on logits with the fused softmax
    cross-entropy."""
    x, y = sequence_data(kind)
    if kind == "transformer":
        params, stats = _transformer_params(jax.random.PRNGKey(0)), {}

        def loss_fn(p, aux, xb, yb, key):
            logits = _transformer_logits(p, xb)
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean(), aux
        x = x.astype(np.int32)
    else:
        params, stats = _conv1d_params(jax.random.PRNGKey(0))

        def loss_fn(p, aux, xb, yb, key):
            logits, aux = _conv1d_logits(p, aux, xb)
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean(), aux
    return _fit(loss_fn, params, x, y.astype(np.int32), SEQ_BATCH, stats)


def transformer_train(load): return _train_sequences("transformer")
def conv1d_train(load): return _train_sequences("conv1d")


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
