"""Keras 3 as the oracle for STFTSpectrogram: every mode, both paddings and data formats,
expand_dims, windows and scalings give Keras's outputs, input and kernel gradients, output
shapes and configs; its weights files cross both ways; a model holding it saves and loads."""
import json

import numpy as np
import oracles
import pytest

keras = oracles.keras()
torch = oracles.torch()

import mgp
from mgp import layers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
rng = np.random.default_rng(0)
SIGNAL = rng.normal(size=(2, 40, 2)).astype(np.float32)
SIGNAL_CF = np.ascontiguousarray(SIGNAL.transpose(0, 2, 1))

CASES = [({"mode": mode, "frame_length": 8, "frame_step": 4}, SIGNAL)
         for mode in ["log", "magnitude", "psd", "real", "imag", "angle", "stft"]] + [
    ({"mode": "magnitude", "frame_length": 10, "frame_step": 3, "fft_length": 16,
      "padding": "same"}, SIGNAL),
    ({"mode": "stft", "frame_length": 8, "expand_dims": True}, SIGNAL),
    ({"mode": "psd", "frame_length": 8, "frame_step": 5, "data_format": "channels_first"},
     SIGNAL_CF),
    ({"mode": "real", "frame_length": 8, "expand_dims": True, "data_format": "channels_first",
      "padding": "same"}, SIGNAL_CF),
    ({"mode": "log", "frame_length": 12, "window": "hamming", "periodic": True,
      "scaling": "spectrum"}, SIGNAL),
    ({"mode": "magnitude", "frame_length": 8, "window": None, "scaling": None}, SIGNAL),
]
IDS = [f"{c[0]['mode']}-{i}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("kwargs, x", CASES, ids=IDS)
def test_outputs_and_gradients_as_keras(kwargs, x):
    ours, theirs = layers.STFTSpectrogram(**kwargs), keras.layers.STFTSpectrogram(**kwargs)
    ours(x), theirs(x)
    assert [(w.name, w.shape) for w in ours.weights] == \
        [(w.name, tuple(w.shape)) for w in theirs.weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):  # the same kernels
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)
    theirs.set_weights(ours.get_weights())
    xt, kt = mgp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ky = ours(xt), theirs(kt)
    assert y.shape == tuple(ky.shape) == ours.compute_output_shape(x.shape) == \
        tuple(theirs.compute_output_shape(x.shape))
    np.testing.assert_allclose(y.numpy(), ky.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.normal(size=y.shape).astype(np.float32)
    if kwargs["mode"] == "angle":  # atan2's gradient is ill-conditioned near zero magnitude
        g = g * (np.abs(ky.detach().numpy()) < 3)
    y.backward(g)
    ky.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad, kt.grad.numpy(), rtol=1e-5, atol=1e-5)
    for w, kw in zip(ours.trainable_weights, theirs.trainable_weights, strict=True):
        np.testing.assert_allclose(w.grad, kw.value.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs, x", CASES, ids=IDS)
def test_config_as_keras_both_ways(kwargs, x):
    kwargs = {**kwargs, "name": "spectrogram"}
    ours, theirs = layers.STFTSpectrogram(**kwargs), keras.layers.STFTSpectrogram(**kwargs)
    mine, keras_config = ours.get_config(), theirs.get_config()
    assert set(mine) == set(keras_config)
    for key in set(mine) - {"dtype"}:
        assert json.loads(json.dumps(mine[key])) == json.loads(json.dumps(keras_config[key]))
    text = json.dumps(mine)
    assert json.dumps(layers.STFTSpectrogram.from_config(json.loads(text)).get_config()) == text
    assert keras.layers.STFTSpectrogram.from_config(json.loads(text)).get_config()["mode"] == \
        kwargs["mode"]
    assert layers.STFTSpectrogram.from_config(keras_config).get_config() == mine


def test_symbolic_shapes_as_keras():
    for kwargs, x in CASES:
        known = (None,) + x.shape[1:]
        ours = layers.STFTSpectrogram(**kwargs).compute_output_shape(known)
        theirs = keras.layers.STFTSpectrogram(**kwargs).compute_output_shape(known)
        assert ours == tuple(theirs), kwargs


def test_weights_files_and_model_files_cross_both_ways(tmp_path):
    kwargs = {"mode": "log", "frame_length": 8, "frame_step": 4}
    ours = mgp.Sequential([mgp.Input((40, 2)), layers.STFTSpectrogram(**kwargs)])
    theirs = keras.Sequential([keras.Input((40, 2)), keras.layers.STFTSpectrogram(**kwargs)])
    ours.set_weights([w * 1.5 for w in ours.get_weights()])  # not the initial kernels
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(theirs(SIGNAL)), ours(SIGNAL).numpy(),
                               rtol=1e-5, atol=1e-5)
    theirs.set_weights([w * 0.5 for w in theirs.get_weights()])
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours.load_weights(tmp_path / "theirs.weights.h5")
    np.testing.assert_allclose(ours(SIGNAL).numpy(), keras.ops.convert_to_numpy(theirs(SIGNAL)),
                               rtol=1e-5, atol=1e-5)
    ours.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(SIGNAL)), ours(SIGNAL).numpy(),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(mgp.saving.load_model(tmp_path / "model.keras")(SIGNAL).numpy(),
                                  ours(SIGNAL).numpy())
    theirs.save(tmp_path / "keras_model.keras")  # and Keras's own file into mgp
    np.testing.assert_allclose(mgp.saving.load_model(tmp_path / "keras_model.keras")(SIGNAL)
                               .numpy(), keras.ops.convert_to_numpy(theirs(SIGNAL)), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "power"}, "mode must be one of"),
    ({"frame_length": 8, "frame_step": 9}, "frame_step must not exceed frame_length 8"),
    ({"frame_length": 8, "fft_length": 4}, "fft_length must be at least frame_length 8"),
    ({"padding": "causal"}, "padding must be 'valid' or 'same'"),
    ({"scaling": "l1"}, "STFTSpectrogram: STFT initializer: scaling"),
    ({"window": "welch"}, "STFTSpectrogram: unknown window 'welch'"),
    ({"frame_length": 0}, "frame_length must be a positive int"),
])
def test_bad_arguments_say_what_they_got(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.STFTSpectrogram(**kwargs)


def test_bad_inputs_name_the_layer():
    layer = layers.STFTSpectrogram(frame_length=8, name="spec")
    with pytest.raises(ValueError, match="layer 'spec'.*expected ndim=3"):
        layer(np.zeros((2, 40), np.float32))
    with pytest.raises(ValueError, match="STFTSpectrogram 'spec': 5 samples are fewer"):
        layer(np.zeros((1, 5, 1), np.float32))
    with pytest.raises(TypeError, match="STFTSpectrogram 'spec'.*int32"):
        layer(np.zeros((1, 20, 1), np.int32))
    with pytest.warns(UserWarning, match="power of two"):
        layers.STFTSpectrogram(frame_length=8, fft_length=12)
