"""The recurrent layers without an oracle: float64 gradient checks of the fused sequence ops
and of each cell step, the fused path against the per-step path, dropout, bad input, and a
small training run that needs the mask to be carried."""
import numpy as np
import pytest

import mgp
from mgp import layers
from mgp.ops import recurrent

rng = np.random.default_rng(11)
B, T, F, U = 2, 4, 3, 3
MASK = np.array([[True, True, False, True], [False, True, True, False]])


def param(*shape):
    return mgp.Tensor(rng.normal(size=shape) * 0.5, dtype=np.float64, requires_grad=True)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("mask", [None, MASK], ids=["nomask", "mask"])
def test_sequence_ops_gradcheck(mask, go_backwards):
    kw = {"mask": mask, "go_backwards": go_backwards}
    x, h0, c0 = param(B, T, F), param(B, U), param(B, U)
    for act in ("tanh", "relu", "linear"):
        mgp.gradcheck(lambda *a: recurrent.simple_rnn_sequence(*a, **kw, activation=act),  # noqa: B023
                      x, h0, param(F, U), param(U, U), param(U))

    def lstm(*a):  # both outputs, so that both gradients flow into the shared backward
        hs, c = recurrent.lstm_sequence(*a, **kw)
        return hs.sum(axis=1) * 2 + c * 3
    mgp.gradcheck(lstm, x, h0, c0, param(F, 4 * U), param(U, 4 * U), param(4 * U))
    mgp.gradcheck(lambda *a: recurrent.lstm_sequence(*a, **kw)[1], x, h0, c0,
                  param(F, 4 * U), param(U, 4 * U))   # only c used, no bias
    mgp.gradcheck(lambda *a: recurrent.gru_sequence(*a, **kw), x, h0, param(F, 3 * U),
                  param(U, 3 * U), param(2, 3 * U))
    mgp.gradcheck(lambda *a: recurrent.gru_sequence(*a, **kw, reset_after=False), x, h0,
                  param(F, 3 * U), param(U, 3 * U), param(3 * U))


@pytest.mark.parametrize("cell", [
    layers.SimpleRNNCell(U, dtype="float64"), layers.LSTMCell(U, dtype="float64"),
    layers.GRUCell(U, dtype="float64"), layers.GRUCell(U, reset_after=False, dtype="float64"),
], ids=["simple", "lstm", "gru", "gru_reset_before"])
def test_cell_step_gradcheck(cell):
    cell.build((B, F))
    cell.built = True
    weights = [param(*w.shape) for w in cell.weights]
    states = [param(B, U) for _ in np.atleast_1d(cell.state_size)]

    def step(x, *args):
        cell.kernel, cell.recurrent_kernel, cell.bias = args[:3]
        out, new = cell(x, list(args[3:]))
        return out + sum(s * (i + 2) for i, s in enumerate(new))
    mgp.gradcheck(step, param(B, F), *weights, *states)


@pytest.mark.parametrize("name, kwargs", [
    ("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}),
])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_fused_path_equals_the_per_step_path(name, kwargs, go_backwards):
    """The same layer with its cell's fused op hidden: every output and gradient agrees."""
    x = rng.normal(size=(B, T, F)).astype(np.float32)
    opts = dict(kwargs, units=U, return_sequences=True, return_state=True,
                go_backwards=go_backwards)
    fused, stepwise = getattr(layers, name)(**opts), getattr(layers, name)(**opts)
    fused(x)
    stepwise(x)
    stepwise.set_weights(fused.get_weights())
    stepwise.cell.fused_sequence = lambda *a: None
    results = []
    for layer in (fused, stepwise):
        xt = mgp.tensor(x, requires_grad=True)
        outs = layer(xt, mask=mgp.Tensor(MASK))
        sum((o * (i + 1)).sum() for i, o in enumerate(outs)).backward()
        results.append([o.numpy() for o in outs] + [xt.grad] + [w.grad for w in layer.weights])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_dropout_masks_are_per_sequence_and_only_in_training():
    x = np.ones((4, 6, 5), np.float32)
    layer = layers.SimpleRNN(3, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    a, b = layer(x).numpy(), layer(x).numpy()
    np.testing.assert_array_equal(a, b)                  # inference: no dropout
    t1, t2 = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    assert not np.allclose(t1, t2)                        # a fresh mask per call
    assert layer.cell._dropout_mask is None               # dropped after the call
    lstm = layers.LSTM(3, dropout=0.5)                    # input dropout keeps the fused op
    assert not np.allclose(lstm(x, training=True).numpy(), lstm(x).numpy())


def test_stateful_carries_states_and_resets():
    x = rng.normal(size=(2, 3, F)).astype(np.float32)
    layer = layers.GRU(U, stateful=True)
    first = layer(x).numpy()
    second = layer(x).numpy()
    assert not np.allclose(first, second)
    layer.reset_states()
    np.testing.assert_allclose(layer(x).numpy(), first, rtol=1e-6)
    with pytest.raises(ValueError, match="stateful with batch size 2"):
        layer(np.zeros((3, 3, F), np.float32))


def test_bad_inputs_name_the_layer_and_shapes_and_change_nothing():
    layer = layers.LSTM(U, stateful=True, name="enc")
    x = rng.normal(size=(B, T, F)).astype(np.float32)
    layer(x)
    before = [w.numpy().copy() for w in layer.weights] + [s.numpy().copy() for s in layer.states]
    cases = [
        (x[:, 0], (r"LSTM 'enc' expected inputs of shape \(batch, timesteps, features\), got "
                  r"\(2, 3\)")),
        (np.zeros((B, T, F + 1), np.float32), (r"LSTM 'enc' expected 3 features per step, got inputs of shape "
                                              r"\(2, 4, 4\)")),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            layer(bad)
    with pytest.raises(ValueError, match=r"'enc': the mask must have shape .* \(2, 4\) .* "
                                         r"of shape \(2, 3\)"):
        layer(x, mask=mgp.Tensor(MASK[:, :3]))
    with pytest.raises(ValueError, match=r"'enc' expected initial_state as 2 tensor\(s\) of "
                                         r"shapes \[\(2, 3\), \(2, 3\)\], got 1"):
        layer(x, initial_state=[np.zeros((B, U), np.float32)])
    with pytest.raises(ValueError, match=r"got 2 of shapes \[\(2, 3\), \(2, 5\)\]"):
        layer(x, initial_state=[np.zeros((B, U), np.float32), np.zeros((B, 5), np.float32)])
    after = [w.numpy() for w in layer.weights] + [s.numpy() for s in layer.states]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="Bidirectional: merge_mode must be one of"):
        layers.Bidirectional(layers.GRU(2), merge_mode="max")
    with pytest.raises(ValueError, match="TimeDistributed 'td' expected inputs of at least 3"):
        layers.TimeDistributed(layers.Dense(2), name="td")(np.zeros((2, 3), np.float32))


def test_learns_the_sign_of_the_last_unpadded_step():
    """Sequences padded with zeros after a random length; the label is the sign of the last
    real step, which only a model that carries its state over the masked steps can read."""
    mgp.utils.set_random_seed(0)
    g = np.random.default_rng(0)
    n, steps = 1200, 10
    x = g.normal(size=(n, steps, 1)).astype("float32")
    lengths = g.integers(3, steps + 1, size=n)
    x[np.arange(steps)[None, :] >= lengths[:, None]] = 0.0
    y = (x[np.arange(n), lengths - 1, 0] > 0).astype("float32")
    model = mgp.Sequential([layers.Input((steps, 1)), layers.Masking(), layers.LSTM(8),
                            layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=mgp.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:1000], y[:1000], epochs=8, batch_size=50, verbose=0)
    _, accuracy = model.evaluate(x[1000:], y[1000:], verbose=0)
    assert accuracy >= 0.95


def test_on_the_device_stand_in_equals_the_cpu(monkeypatch):
    """Every array of the fused ops and the per-step path goes through `mgp.backend.xp`:
    on `fake_cupy` (as strict as CuPy about host arrays) the results equal the CPU's."""
    import sys

    import fake_cupy

    from mgp import backend
    x = rng.normal(size=(B, T, F)).astype(np.float32)

    def run():
        mgp.utils.set_random_seed(0)
        out = []
        for make in (lambda: layers.LSTM(U, return_sequences=True, return_state=True),
                     lambda: layers.GRU(U, return_sequences=True, go_backwards=True),
                     lambda: layers.Bidirectional(layers.SimpleRNN(2, return_sequences=True)),
                     lambda: layers.RNN(layers.GRUCell(2, reset_after=False))):
            xt = mgp.tensor(x, requires_grad=True)
            outs = make()(xt, mask=mgp.tensor(MASK))
            outs = outs if isinstance(outs, list) else [outs]
            sum(o.sum() for o in outs).backward()
            out += [backend.to_numpy(o.data) for o in outs] + [backend.to_numpy(xt.grad)]
        return out
    cpu = run()
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setattr(fake_cupy, "visible_gpus", 1)
    mgp.set_device("cuda")
    try:
        device = run()
    finally:
        mgp.set_device("cpu")
    for a, b in zip(cpu, device):
        np.testing.assert_array_equal(a, b)


def test_functional_model_with_unknown_length_states_and_masks():
    inputs = mgp.Input((None, F))
    seq, h, c = layers.LSTM(U, return_sequences=True, return_state=True)(layers.Masking()(inputs))
    assert seq.shape == (None, None, U) and h.shape == c.shape == (None, U)
    assert getattr(seq, "_keras_mask", None) is not None     # passed on with the sequence
    both = layers.Bidirectional(layers.GRU(2, return_sequences=True), merge_mode=None)(seq)
    last = layers.GRU(2)(seq, initial_state=[layers.Dense(2)(h)])
    model = mgp.Model(inputs, [both[0], both[1], last, c])
    outs = model.predict(rng.normal(size=(3, 7, F)).astype(np.float32), verbose=0)
    assert [o.shape for o in outs] == [(3, 7, 2), (3, 7, 2), (3, 2), (3, U)]
