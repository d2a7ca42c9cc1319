"""ConvLSTM1D / 2D / 3D against Keras 3 (torch backend) with the same weights: outputs, states,
and the gradients of the inputs, initial states and weights, for both paddings, strides,
dilation, channels_first, masks, go_backwards and the return_* options; configs both ways;
weights files both ways; a float64 gradient check; errors for inputs of the wrong rank."""
import numpy as np
import oracles
import pytest

import mgp
from mgp import layers

keras = oracles.keras()
torch = oracles.torch()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

rng = np.random.default_rng(11)
B, T, C, FILTERS = 2, 4, 2, 3
SPATIAL = {1: (7,), 2: (5, 4), 3: (4, 3, 3)}
MASK = np.ones((B, T), bool)
MASK[0, 2:] = False  # padded at the end
MASK[1, 1] = False   # a hole in the middle


def sequences(rank, data_format="channels_last"):
    shape = (B, T) + (SPATIAL[rank] + (C,) if data_format == "channels_last"
                      else (C,) + SPATIAL[rank])
    return rng.normal(size=shape).astype(np.float32)


def flat(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def run_both(ours, theirs, x, mask=None, initial_state=None, training=False):
    """Call both with the same weights; compare the flat outputs and the gradients of
    sum(out_i * g_i) with respect to x, the initial states and every trainable weight."""
    ours(x)
    theirs(x)
    theirs.set_weights(ours.get_weights())
    x_o, x_t = mgp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    s_o = s_t = None
    if initial_state is not None:
        s_o = [mgp.tensor(s, requires_grad=True) for s in initial_state]
        s_t = [torch.tensor(s, requires_grad=True) for s in initial_state]
    kw_o = {} if mask is None else {"mask": mgp.Tensor(mask)}
    kw_t = {} if mask is None else {"mask": torch.tensor(mask)}
    out_o = flat(ours(x_o, initial_state=s_o, training=training, **kw_o))
    out_t = flat(theirs(x_t, initial_state=s_t, training=training, **kw_t))
    assert len(out_o) == len(out_t)
    g = np.random.default_rng(0)
    gs = [g.normal(size=o.shape).astype(np.float32) for o in out_o]
    ours.zero_grad()
    sum((o * gi).sum() for o, gi in zip(out_o, gs)).backward()
    sum((o * torch.tensor(gi)).sum() for o, gi in zip(out_t, gs)).backward()
    for a, b in zip(out_o, out_t):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x_o.grad, x_t.grad.numpy(), rtol=1e-5, atol=1e-5)
    for a, b in zip(s_o or [], s_t or []):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert [w.name for w in ours.trainable_weights] == \
        [w.name for w in theirs.trainable_weights] == ["kernel", "recurrent_kernel", "bias"][
            :len(ours.trainable_weights)]
    for a, b in zip(ours.trainable_weights, theirs.trainable_weights):
        np.testing.assert_allclose(a.grad, b.value.grad.numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=a.path)
    return out_o


CASES = [  # (rank, options)
    (1, {"padding": "same"}),
    (1, {"kernel_size": 2, "strides": 2, "use_bias": False}),
    (2, {"padding": "same", "bias_initializer": "random_normal", "unit_forget_bias": False}),
    (2, {"dilation_rate": 2, "kernel_size": (2, 2)}),
    (2, {"padding": "same", "data_format": "channels_first", "activation": "relu"}),
    (3, {"padding": "same", "kernel_size": 2}),
    (3, {"kernel_size": (2, 1, 2)}),
]
IDS = [f"{r}D-" + "-".join(f"{k}={v}" for k, v in kw.items()) for r, kw in CASES]
CLASSES = {1: "ConvLSTM1D", 2: "ConvLSTM2D", 3: "ConvLSTM3D"}


@pytest.mark.parametrize("go_backwards, masked", [(False, False), (True, True)],
                         ids=["fwd", "bwd-mask"])
@pytest.mark.parametrize("rank, kwargs", CASES, ids=IDS)
def test_layer_as_keras(rank, kwargs, go_backwards, masked):
    opts = {"kernel_size": 3, **kwargs, "filters": FILTERS, "return_sequences": True,
            "return_state": True, "go_backwards": go_backwards}
    x = sequences(rank, kwargs.get("data_format", "channels_last"))
    run_both(getattr(layers, CLASSES[rank])(**opts), getattr(keras.layers, CLASSES[rank])(**opts),
             x, mask=MASK if masked else None)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_step_path_as_keras(go_backwards):
    """Dropout in training takes the step-by-step path; at a rate of 1e-9 both keep every
    unit, so the step path is compared with Keras's (masks, go_backwards, gradients)."""
    opts = {"filters": FILTERS, "kernel_size": 2, "padding": "same", "dropout": 1e-9,
            "recurrent_dropout": 1e-9, "return_sequences": True, "return_state": True,
            "go_backwards": go_backwards, "bias_initializer": "random_normal"}
    run_both(layers.ConvLSTM2D(**opts), keras.layers.ConvLSTM2D(**opts), sequences(2),
             mask=MASK, training=True)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
def test_return_options_and_initial_state(return_sequences, return_state):
    opts = {"filters": FILTERS, "kernel_size": 3, "padding": "valid",
            "return_sequences": return_sequences, "return_state": return_state}
    ours = layers.ConvLSTM2D(**opts)
    init = [rng.normal(size=(B, 3, 2, FILTERS)).astype(np.float32) for _ in range(2)]
    outs = run_both(ours, keras.layers.ConvLSTM2D(**opts), sequences(2), mask=MASK,
                    initial_state=init)
    assert len(outs) == (3 if return_state else 1)
    x_shape = (B, T) + SPATIAL[2] + (C,)
    shapes = ours.compute_output_shape(x_shape)
    assert [tuple(s) for s in (shapes if return_state else [shapes])] == \
        [tuple(o.shape) for o in outs]


def test_stateful_over_two_batches_as_keras():
    opts = {"filters": FILTERS, "kernel_size": 3, "padding": "same", "stateful": True}
    ours, theirs = layers.ConvLSTM1D(**opts), keras.layers.ConvLSTM1D(**opts)
    a, b = sequences(1), sequences(1)
    ours(a)
    theirs(a)
    theirs.set_weights(ours.get_weights())
    ours.reset_states()
    theirs.reset_state()
    for x in (a, b):
        np.testing.assert_allclose(ours(x).numpy(), keras.ops.convert_to_numpy(theirs(x)),
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rank, kwargs", [
    (1, {"strides": 2, "go_backwards": True, "unit_forget_bias": False}),
    (2, {"data_format": "channels_first", "dilation_rate": (1, 2), "dropout": 0.1,
         "kernel_regularizer": "l2", "return_sequences": True}),
    (3, {"padding": "same", "recurrent_dropout": 0.2, "stateful": True, "seed": 3}),
])
def test_config_as_keras(rank, kwargs):
    ours = getattr(layers, CLASSES[rank])(FILTERS, 2, **kwargs)
    theirs = getattr(keras.layers, CLASSES[rank])(FILTERS, 2, **kwargs)
    a, b = ours.get_config(), theirs.get_config()
    a.pop("name"), b.pop("name")
    assert a == b
    for attr in ("filters", "kernel_size", "strides", "padding", "data_format",
                 "dilation_rate", "dropout", "recurrent_dropout", "unit_forget_bias"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    again = getattr(layers, CLASSES[rank]).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    from_keras = getattr(layers, CLASSES[rank]).from_config(theirs.get_config())
    assert from_keras.get_config() == ours.get_config()


def test_training_with_dropout_runs_the_step_path():
    """Dropout draws Keras's per-gate masks (random, so not compared): training differs from
    inference, and inference is the fused result."""
    layer = layers.ConvLSTM1D(FILTERS, 3, dropout=0.5, recurrent_dropout=0.5, seed=1)
    x = sequences(1)
    inference = layer(x).numpy()
    plain = layers.ConvLSTM1D(FILTERS, 3)
    plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(inference, plain(x).numpy(), rtol=1e-6)
    trained = layer(x, training=True).numpy()
    assert trained.shape == inference.shape and not np.allclose(trained, inference)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_gradcheck_float64(go_backwards):
    layer = layers.ConvLSTM1D(2, 2, padding="same", return_sequences=True, dtype="float64",
                              bias_initializer="random_normal", go_backwards=go_backwards)
    g = np.random.default_rng(2)
    x = mgp.tensor(g.normal(size=(2, 3, 4, 2)), requires_grad=True)
    h0 = mgp.tensor(g.normal(size=(2, 4, 2)), requires_grad=True)
    c0 = mgp.tensor(g.normal(size=(2, 4, 2)), requires_grad=True)
    mask = mgp.Tensor(np.array([[True, False, True], [True, True, False]]))
    layer(x)
    cell = layer.cell
    assert cell.kernel.dtype == np.float64
    weights = [mgp.tensor(w.numpy(), requires_grad=True)
               for w in (cell.kernel, cell.recurrent_kernel, cell.bias)]

    def fn(a, h, c, *ws):  # the layer with the checked copies in place of its weights
        saved = cell.kernel, cell.recurrent_kernel, cell.bias
        cell.kernel, cell.recurrent_kernel, cell.bias = ws
        try:
            return layer(a, initial_state=[h, c], mask=mask)
        finally:
            cell.kernel, cell.recurrent_kernel, cell.bias = saved

    assert mgp.gradcheck(fn, x, h0, c0, *weights)


def model(k):
    return k.Sequential([
        k.Input((T,) + SPATIAL[2] + (C,)),
        k.layers.ConvLSTM2D(FILTERS, 3, padding="same", return_sequences=True),
        k.layers.ConvLSTM2D(2, 2, go_backwards=True, data_format="channels_last"),
        k.layers.Flatten(),
        k.layers.Dense(2),
    ], name="conv_lstm")


def test_weights_files_cross_both_ways(tmp_path):
    x = sequences(2)
    theirs = model(keras)
    g = np.random.default_rng(4)
    theirs.set_weights([g.normal(size=w.shape).astype(np.float32) * 0.4
                        for w in theirs.weights])
    theirs.save_weights(str(tmp_path / "keras.weights.h5"))
    ours = model(mgp)
    ours.load_weights(tmp_path / "keras.weights.h5")
    expected = np.asarray(theirs.predict(x, verbose=0))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-5)
    ours.set_weights([w * 0.5 for w in ours.get_weights()])
    ours.save_weights(tmp_path / "mgp.weights.h5")
    again = model(keras)
    again.load_weights(str(tmp_path / "mgp.weights.h5"))
    np.testing.assert_allclose(np.asarray(again.predict(x, verbose=0)),
                               ours.predict(x, verbose=0), atol=1e-5)


def test_whole_model_files_cross_both_ways(tmp_path):
    """A `.keras` file (architecture from the configs, and weights) loads both ways."""
    x = sequences(2)
    ours = model(mgp)
    ours.save(tmp_path / "mgp.keras")
    theirs = keras.saving.load_model(str(tmp_path / "mgp.keras"))
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)),
                               ours.predict(x, verbose=0), atol=1e-5)
    theirs.save(str(tmp_path / "keras.keras"))
    again = mgp.saving.load_model(tmp_path / "keras.keras")
    assert [type(layer).__name__ for layer in again.layers] == \
        ["ConvLSTM2D", "ConvLSTM2D", "Flatten", "Dense"]
    np.testing.assert_allclose(again.predict(x, verbose=0), ours.predict(x, verbose=0),
                               atol=1e-5)


def test_fit_lowers_the_loss():
    m = model(mgp)
    m.compile(optimizer=mgp.optimizers.Adam(0.02), loss="mse")
    x, y = sequences(2), rng.normal(size=(B, 2)).astype(np.float32)
    history = m.fit(x, y, epochs=5, verbose=0).history["loss"]
    assert history[-1] < history[0]


@pytest.mark.parametrize("rank, shape", [(1, (2, 4, 7)), (2, (2, 4, 5, 3)),
                                         (3, (2, 4, 5, 3, 3, 1, 1))])
def test_wrong_rank_names_the_layer(rank, shape):
    layer = getattr(layers, CLASSES[rank])(FILTERS, 2, name="clstm")
    with pytest.raises(ValueError, match=rf"{CLASSES[rank]} 'clstm' expected {rank + 3}-D"):
        layer(np.zeros(shape, np.float32))
    assert not layer.built


def test_wrong_channels_and_initial_state_after_build():
    layer = layers.ConvLSTM1D(FILTERS, 3, name="clstm")
    layer(sequences(1))
    with pytest.raises(ValueError, match="clstm.*2 channels"):
        layer(np.zeros((B, T, 7, 5), np.float32))
    with pytest.raises(ValueError, match="clstm.*initial_state"):
        layer(sequences(1), initial_state=[np.zeros((B, 7, FILTERS), np.float32)] * 2)
    with pytest.raises(ValueError, match="ConvLSTM1D .*does not fit"):
        layers.ConvLSTM1D(FILTERS, 9)(sequences(1))


@pytest.mark.parametrize("kwargs, words", [
    ({"strides": 2, "dilation_rate": 2}, "strides > 1 and dilation_rate > 1"),
    ({"padding": "causal"}, "padding must be 'valid' or 'same'"),
    ({"kernel_size": (2, 2, 2)}, "kernel_size"),
    ({"filters": 0}, "filters must be a positive integer"),
])
def test_bad_arguments_name_the_layer(kwargs, words):
    with pytest.raises(ValueError, match=r"^ConvLSTM2D: .*" + words):
        layers.ConvLSTM2D(**{"filters": FILTERS, "kernel_size": 2, **kwargs})
