"""The same workloads in PyTorch (eager, NCHW, no torch.compile): the reference mgp is measured
against. Same functions as `mgp_side.py`; same model, data, batch size, optimizer and FLOPs.

The models end in a Linear layer and train with `F.cross_entropy` on its logits, PyTorch's usual
way of writing Keras's softmax + sparse categorical cross-entropy; inference applies the softmax.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workloads import (BATCH, CONV1D, EMBED, INFER_BATCH, OPTIM_SHAPES, RNN_UNITS, SEQ_BATCH,
                       SEQ_TRAIN, TINY_BATCH, TRANSFORMER, VOCAB, has_embedding, sequence_data,
                       token_sequences)


def _model(kind):
    body = {
        "convnet": [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Dropout(0.5), nn.Linear(5 * 5 * 64, 10)],
        "classroom": [nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(13 * 13 * 8, 10)],
        "mlp": [nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)],
        "tiny": [nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10)],
    }[kind]
    return nn.Sequential(*body)


def _nchw(x):
    """NHWC to NCHW; with one channel both are the same bytes, so no copy is made."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def _train(kind, load, batch=BATCH):
    x, y = load()[:2]
    x, y = _nchw(x), torch.from_numpy(y)
    model = _model(kind)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)  # Keras's defaults

    def rep(steps=None):
        n = len(x) if steps is None else steps * batch
        model.train()
        perm = torch.randperm(n)  # shuffled each epoch, as Keras's fit does
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        return {"loss": total / n}
    return rep


def convnet_train(load): return _train("convnet", load)
def classroom_train(load): return _train("classroom", load)
def mlp_train(load): return _train("mlp", load)
def tiny_train(load): return _train("tiny", load, TINY_BATCH)


def convnet_infer(load):
    x = _nchw(load()[2])
    model = _model("convnet").eval()

    def rep(images):
        with torch.no_grad():
            probs = [torch.softmax(model(x[i:i + INFER_BATCH]), dim=1)
                     for i in range(0, images, INFER_BATCH)]
            return torch.cat(probs).numpy()
    return rep


# ------------------------------------------- recurrent --------------------------------------------

class _Sentiment(nn.Module):
    """[Embedding] -> bidirectional LSTM or GRU (its last states, both directions) -> Linear."""

    def __init__(self, kind, embedded):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBED) if embedded else None
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[kind]
        self.rnn = rnn(EMBED, RNN_UNITS, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * RNN_UNITS, 1)

    def forward(self, x):
        if self.embed is not None:
            x = self.embed(x)
        _, h = self.rnn(x)
        h = h[0] if isinstance(h, tuple) else h  # an LSTM's (h, c)
        return self.head(torch.cat([h[0], h[1]], dim=1)).squeeze(1)


def _sentiment(kind):
    tokens, labels, table = token_sequences(SEQ_TRAIN)
    embedded = has_embedding()
    tokens, labels, table = (torch.from_numpy(a) for a in (tokens, labels, table))
    model = _Sentiment(kind, embedded)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    def rep(steps=None):
        n = SEQ_TRAIN if steps is None else steps * SEQ_BATCH
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, SEQ_BATCH):
            idx = perm[i:i + SEQ_BATCH]
            x = tokens[idx] if embedded else table[tokens[idx]]
            opt.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(model(x), labels[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        return {"loss": total / n}
    return rep


def imdb_lstm_train(load): return _sentiment("lstm")
def imdb_gru_train(load): return _sentiment("gru")


# ---------------------------------------- micro-benchmarks ----------------------------------------

def _rand(*shape, grad=False):
    data = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    return torch.from_numpy(data).requires_grad_(grad)


def _reset(*tensors):
    for t in tensors:
        t.grad = None


def _fwd(fn, *inputs):
    def rep(calls):
        with torch.no_grad():
            for _ in range(calls):
                fn(*inputs)
    return rep


def _fwd_bwd(fn, *inputs):
    g = _rand(*fn(*inputs).shape)

    def rep(calls):
        for _ in range(calls):
            _reset(*inputs)
            fn(*inputs).backward(g)
    return rep


def _conv_inputs(h, c, f, input_grad=True):
    return (_rand(BATCH, c, h, h, grad=input_grad), _rand(f, c, 3, 3, grad=True),
            _rand(f, grad=True))


def _pool(x): return F.max_pool2d(x, 2)


def conv1_fwd(load): return _fwd(F.conv2d, *_conv_inputs(28, 1, 32))
def conv1_fwd_bwd(load): return _fwd_bwd(F.conv2d, *_conv_inputs(28, 1, 32, input_grad=False))
def conv2_fwd(load): return _fwd(F.conv2d, *_conv_inputs(13, 32, 64))
def conv2_fwd_bwd(load): return _fwd_bwd(F.conv2d, *_conv_inputs(13, 32, 64))
def pool1_fwd_bwd(load): return _fwd_bwd(_pool, _rand(BATCH, 32, 26, 26, grad=True))
def pool2_fwd_bwd(load): return _fwd_bwd(_pool, _rand(BATCH, 64, 11, 11, grad=True))
def matmul_fwd_bwd(load): return _fwd_bwd(torch.matmul, _rand(BATCH * 121, 288, grad=True),
                                          _rand(288, 64, grad=True))
def dense_fwd_bwd(load): return _fwd_bwd(torch.matmul, _rand(BATCH, 1600, grad=True),
                                         _rand(1600, 10, grad=True))


def xent_fwd_bwd(load):
    logits = _rand(BATCH, 10, grad=True)
    labels = torch.arange(BATCH) % 10

    def rep(calls):
        for _ in range(calls):
            _reset(logits)
            F.cross_entropy(logits, labels).backward()
    return rep


# ------------------------------------------ optimizer steps ---------------------------------------

def _optimizer_step(make):
    rng = np.random.default_rng(0)
    weights = [nn.Parameter(torch.from_numpy(rng.standard_normal(s).astype(np.float32)))
               for s in OPTIM_SHAPES]
    for w in weights:
        w.grad = torch.from_numpy(rng.standard_normal(w.shape).astype(np.float32))
    optimizer = make(weights)

    def rep(calls):
        for _ in range(calls):
            optimizer.step()
    return rep


# Keras's defaults where they differ from torch's (epsilon 1e-7, RMSprop's rho 0.9)
def sgd_step(load): return _optimizer_step(lambda p: torch.optim.SGD(p, 0.01, momentum=0.9))
def adam_step(load): return _optimizer_step(lambda p: torch.optim.Adam(p, 1e-3, eps=1e-7))
def rmsprop_step(load): return _optimizer_step(
    lambda p: torch.optim.RMSprop(p, 1e-3, alpha=0.9, eps=1e-7))


# ------------------------------------------ per-op overhead ---------------------------------------

def _chain(backward):
    x, c = _rand(16, grad=True), torch.full((16,), 0.5)

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
    cfg = torch.__config__.show()
    blas = "MKL" if "USE_MKL=ON" in cfg else "BLAS " + torch.backends.cpu.get_cpu_capability()
    dnn = ", oneDNN" if torch.backends.mkldnn.is_available() else ""
    return (f"torch {torch.__version__} ({blas}{dnn}, {torch.backends.cpu.get_cpu_capability()}, "
            f"{torch.get_num_threads()} threads)")


# ---------------------------------------- sequence models -----------------------------------------

class _Encoder(nn.Module):
    """Keras's MultiHeadAttention (separate q/k/v projections of heads x key_dim, an output
    projection) in an encoder block, with the same sizes and FLOPs as mgp's model."""

    def __init__(self, t):
        super().__init__()
        self.heads, self.key_dim = t["heads"], t["key_dim"]
        inner = t["heads"] * t["key_dim"]
        self.embed = nn.Embedding(t["vocab"], t["dim"])
        self.q, self.k, self.v = (nn.Linear(t["dim"], inner) for _ in range(3))
        self.o = nn.Linear(inner, t["dim"])
        self.norm1 = nn.LayerNorm(t["dim"], eps=1e-6)
        self.ff = nn.Sequential(nn.Linear(t["dim"], t["ff"]), nn.ReLU(),
                                nn.Linear(t["ff"], t["dim"]))
        self.norm2 = nn.LayerNorm(t["dim"], eps=1e-6)
        self.head = nn.Linear(t["dim"], 2)

    def forward(self, ids):
        x = self.embed(ids)
        b, s, _ = x.shape

        def heads(t):
            return t.view(b, s, self.heads, self.key_dim).transpose(1, 2)
        a = F.scaled_dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)))
        x = self.norm1(x + self.o(a.transpose(1, 2).reshape(b, s, -1)))
        x = self.norm2(x + self.ff(x))
        return self.head(x.mean(1))


def _sequence_model(kind):
    if kind == "transformer":
        return _Encoder(TRANSFORMER)
    c = CONV1D
    body = []
    for i in range(3):  # Conv1d over (N, C, L): the series transposed once, outside the loop
        body += [nn.Conv1d(c["channels"] if i == 0 else c["filters"], c["filters"], 3,
                           padding=1), nn.BatchNorm1d(c["filters"], eps=1e-3, momentum=0.01),
                 nn.ReLU()]
    return nn.Sequential(*body, nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(c["filters"], 2))


def _train_sequences(kind):
    x, y = sequence_data(kind)
    x = torch.from_numpy(x if kind == "transformer" else np.ascontiguousarray(
        x.transpose(0, 2, 1)))
    y = torch.from_numpy(y)
    model = _sequence_model(kind)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)  # Keras's defaults

    def rep(steps=None):
        n = len(x) if steps is None else steps * SEQ_BATCH
        model.train()
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, SEQ_BATCH):
            idx = perm[i:i + SEQ_BATCH]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        return {"loss": total / n}
    return rep


def transformer_train(load): return _train_sequences("transformer")
def conv1d_train(load): return _train_sequences("conv1d")
