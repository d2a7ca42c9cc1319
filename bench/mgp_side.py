"""The workloads in mgp. Each function takes `load` (returns the MNIST arrays) and returns
`rep(**size)`, which runs one repetition (a training rep returns its mean loss, so that the table
can show both frameworks learn); `torch_side.py` has the same functions in PyTorch.
"""
import numpy as np

import mgp
from mgp.ops import nn as F
from mgp.ops import matmul
from mgp.variables import Variable
from workloads import (BATCH, CONV1D, EMBED, INFER_BATCH, OPTIM_SHAPES, RNN_UNITS, SEQ_BATCH,
                       SEQ_LEN, SEQ_TRAIN, TINY_BATCH, TRANSFORMER, VOCAB, has_embedding,
                       sequence_data, token_sequences)


def _model(kind):
    from mgp import layers
    body = {
        "convnet": [layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                    layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                    layers.Flatten(), layers.Dropout(0.5)],
        "classroom": [layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(2),
                      layers.Flatten()],
        "mlp": [layers.Flatten(), layers.Dense(128, activation="relu")],
        "tiny": [layers.Flatten(), layers.Dense(16, activation="relu")],
    }[kind]
    model = mgp.Sequential([mgp.Input((28, 28, 1))] + body
                           + [layers.Dense(10, activation="softmax")])
    model.compile(optimizer=mgp.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    return model


def _train(kind, load, batch=BATCH):
    x, y = load()[:2]
    model = _model(kind)

    def rep(steps=None):
        n = len(x) if steps is None else steps * batch
        history = model.fit(x[:n], y[:n], batch_size=batch, epochs=1, verbose=0)
        return {"loss": history.history["loss"][-1]}
    return rep


def convnet_train(load): return _train("convnet", load)
def classroom_train(load): return _train("classroom", load)
def mlp_train(load): return _train("mlp", load)
def tiny_train(load): return _train("tiny", load, TINY_BATCH)


def convnet_infer(load):
    x = load()[2]
    model = _model("convnet")

    def rep(images):
        model.predict(x[:images], batch_size=INFER_BATCH, verbose=0)
    return rep


# ------------------------------------------- recurrent --------------------------------------------

def _sentiment(kind):
    tokens, labels, table = token_sequences(SEQ_TRAIN)
    from mgp import layers
    rnn = {"lstm": layers.LSTM, "gru": layers.GRU}[kind]
    embedded = has_embedding()
    head = [mgp.Input((SEQ_LEN,)), layers.Embedding(VOCAB, EMBED)] if embedded else \
        [mgp.Input((SEQ_LEN, EMBED))]
    model = mgp.Sequential(head + [layers.Bidirectional(rnn(RNN_UNITS)),
                                   layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=mgp.optimizers.Adam(), loss="binary_crossentropy")
    chunk = 10 * SEQ_BATCH  # embedded outside the model: 10 batches at a time

    def rep(steps=None):
        n = SEQ_TRAIN if steps is None else steps * SEQ_BATCH
        perm = np.random.default_rng().permutation(n)
        losses = []
        for start in range(0, n, chunk):
            idx = perm[start:start + chunk]
            x = tokens[idx] if embedded else table[tokens[idx]]
            history = model.fit(x, labels[idx], batch_size=SEQ_BATCH, epochs=1, verbose=0,
                                shuffle=False)
            losses.append(history.history["loss"][-1])
        return {"loss": float(np.mean(losses))}
    return rep


def imdb_lstm_train(load): return _sentiment("lstm")
def imdb_gru_train(load): return _sentiment("gru")


# ---------------------------------------- micro-benchmarks ----------------------------------------

def _rand(*shape, grad=False):
    data = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    return mgp.tensor(data, requires_grad=grad)


def _reset(*tensors):
    for t in tensors:
        t.grad = None


def _fwd(fn, *inputs):
    def rep(calls):
        with mgp.no_grad():
            for _ in range(calls):
                fn(*inputs)
    return rep


def _fwd_bwd(fn, *inputs):
    """fn's forward with its graph, then backward from a fixed upstream gradient."""
    g = _rand(*fn(*inputs).shape).data

    def rep(calls):
        for _ in range(calls):
            _reset(*inputs)
            fn(*inputs).backward(g)
    return rep


def _conv_inputs(h, c, f, input_grad=True):
    return _rand(BATCH, h, h, c, grad=input_grad), _rand(3, 3, c, f, grad=True), _rand(f, grad=True)


def conv1_fwd(load): return _fwd(F.conv2d, *_conv_inputs(28, 1, 32))
def conv1_fwd_bwd(load): return _fwd_bwd(F.conv2d, *_conv_inputs(28, 1, 32, input_grad=False))
def conv2_fwd(load): return _fwd(F.conv2d, *_conv_inputs(13, 32, 64))
def conv2_fwd_bwd(load): return _fwd_bwd(F.conv2d, *_conv_inputs(13, 32, 64))
def pool1_fwd_bwd(load): return _fwd_bwd(F.max_pool2d, _rand(BATCH, 26, 26, 32, grad=True))
def pool2_fwd_bwd(load): return _fwd_bwd(F.max_pool2d, _rand(BATCH, 11, 11, 64, grad=True))
def matmul_fwd_bwd(load): return _fwd_bwd(matmul, _rand(BATCH * 121, 288, grad=True),
                                          _rand(288, 64, grad=True))
def dense_fwd_bwd(load): return _fwd_bwd(matmul, _rand(BATCH, 1600, grad=True),
                                         _rand(1600, 10, grad=True))


def xent_fwd_bwd(load):
    logits = _rand(BATCH, 10, grad=True)
    labels = mgp.tensor(np.arange(BATCH) % 10)

    def rep(calls):
        for _ in range(calls):
            _reset(logits)
            F.cross_entropy(logits, labels).mean().backward()
    return rep


# ------------------------------------------ optimizer steps ---------------------------------------

def _optimizer_step(optimizer):
    rng = np.random.default_rng(0)
    weights = [Variable(rng.standard_normal(s).astype(np.float32)) for s in OPTIM_SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) for s in OPTIM_SHAPES]

    def rep(calls):
        for _ in range(calls):
            optimizer.apply(grads, weights)
    return rep


def sgd_step(load): return _optimizer_step(mgp.optimizers.SGD(0.01, momentum=0.9))
def adam_step(load): return _optimizer_step(mgp.optimizers.Adam(1e-3))
def rmsprop_step(load): return _optimizer_step(mgp.optimizers.RMSprop(1e-3))


# ------------------------------------------ per-op overhead ---------------------------------------

def _chain(backward):
    x, c = _rand(16, grad=True), mgp.tensor(np.full(16, 0.5, dtype=np.float32))

    def rep(chains):
        for _ in range(chains):
            y = x
            for _ in range(250):  # 4 ops a round: 1,000 ops
                y = (y * c + c).tanh() - c
            if backward:
                _reset(x)
                y.sum().backward()
    return rep


def opchain_fwd(load): return _chain(backward=False)
def opchain_fwd_bwd(load): return _chain(backward=True)


def info():
    """What this side runs on, for the report's header."""
    from gemm import blas_info
    return f"mgp {mgp.__version__}, {blas_info()}"


# ---------------------------------------- sequence models -----------------------------------------

def _sequence_model(kind):
    from mgp import layers
    if kind == "transformer":
        t = TRANSFORMER
        inputs = mgp.Input((t["steps"],), dtype="int64")
        x = layers.Embedding(t["vocab"], t["dim"])(inputs)
        a = layers.MultiHeadAttention(t["heads"], t["key_dim"])(x, x)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, a]))
        f = layers.Dense(t["ff"], activation="relu")(x)
        f = layers.Dense(t["dim"])(f)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, f]))
        x = layers.GlobalAveragePooling1D()(x)
    else:
        inputs = x = mgp.Input((CONV1D["steps"], CONV1D["channels"]))
        for _ in range(3):
            x = layers.Conv1D(CONV1D["filters"], 3, padding="same")(x)
            x = layers.ReLU()(layers.BatchNormalization()(x))
        x = layers.GlobalAveragePooling1D()(x)
    model = mgp.Model(inputs, layers.Dense(2, activation="softmax")(x))
    model.compile(optimizer=mgp.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    return model


def _train_sequences(kind):
    x, y = sequence_data(kind)
    model = _sequence_model(kind)

    def rep(steps=None):
        n = len(x) if steps is None else steps * SEQ_BATCH
        history = model.fit(x[:n], y[:n], batch_size=SEQ_BATCH, epochs=1, verbose=0)
        return {"loss": history.history["loss"][-1]}
    return rep


def transformer_train(load): return _train_sequences("transformer")
def conv1d_train(load): return _train_sequences("conv1d")
