"""Keras 3 as the oracle for the adaptive pools, GroupNormalization, RMSNormalization and
SpectralNormalization (a Wrapper): with the same weights and inputs, the same outputs, input
and weight gradients, configs (both ways) and weights files (both ways); InputSpec checks and
`layers.serialize` / `deserialize` as Keras's."""
import json
import re

import numpy as np
import oracles
import pytest

keras = oracles.keras()
torch = oracles.torch()

import mgp
from mgp import layers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
rng = np.random.default_rng(0)


def sample(*shape):
    return rng.normal(size=shape).astype(np.float32)


SEQ, IMG, VOL = sample(2, 11, 3), sample(2, 7, 9, 3), sample(2, 5, 6, 7, 2)
IMG_CF = np.ascontiguousarray(IMG.transpose(0, 3, 1, 2))

CASES = [
    ("AdaptiveAveragePooling1D", {"output_size": 4}, SEQ),
    ("AdaptiveAveragePooling1D", {"output_size": 11}, SEQ),
    ("AdaptiveMaxPooling1D", {"output_size": 3}, SEQ),
    ("AdaptiveAveragePooling2D", {"output_size": (3, 4)}, IMG),
    ("AdaptiveAveragePooling2D", {"output_size": 2, "data_format": "channels_first"}, IMG_CF),
    ("AdaptiveMaxPooling2D", {"output_size": (4, 5)}, IMG),
    ("AdaptiveAveragePooling2D", {"output_size": (9, 11)}, IMG),  # more outputs than inputs
    ("AdaptiveMaxPooling1D", {"output_size": 15}, SEQ),
    ("AdaptiveMaxPooling2D", {"output_size": (2, 3), "data_format": "channels_first"}, IMG_CF),
    ("AdaptiveAveragePooling3D", {"output_size": (2, 3, 4)}, VOL),
    ("AdaptiveMaxPooling3D", {"output_size": 3}, VOL),
    ("GroupNormalization", {"groups": 3}, sample(4, 5, 6)),
    ("GroupNormalization", {"groups": 1, "epsilon": 0.1}, IMG),
    ("GroupNormalization", {"groups": -1}, IMG),
    ("GroupNormalization", {"groups": 2, "axis": 1, "center": False}, sample(3, 4, 5, 2)),
    ("GroupNormalization", {"groups": 2, "scale": False, "gamma_initializer": "zeros"},
     sample(3, 6)),
    ("RMSNormalization", {}, sample(3, 4, 6)),
    ("RMSNormalization", {"axis": [1, 2], "epsilon": 1e-3}, sample(3, 4, 6)),
]


def keras_forward_backward(layer, x, g, training=False):
    xt = torch.tensor(x, requires_grad=True)
    y = layer(xt, training=training) if training else layer(xt)
    y.backward(torch.tensor(g))
    return (y.detach().numpy(), xt.grad.numpy(),
            [w.value.grad.numpy() for w in layer.trainable_weights])


def mgp_forward_backward(layer, x, g, training=False):
    xt = mgp.tensor(x, requires_grad=True)
    y = layer(xt, training=training) if training else layer(xt)
    y.backward(g)
    return y.numpy(), xt.grad, [w.grad for w in layer.trainable_weights]


def randomize(layer):
    """Non-default weights, so that gamma, beta and scale matter."""
    layer.set_weights([w + rng.uniform(0.2, 1.0, w.shape).astype(np.float32)
                       for w in layer.get_weights()])


@pytest.mark.parametrize("name, kwargs, x", CASES, ids=[c[0] for c in CASES])
def test_same_outputs_and_gradients_as_keras(name, kwargs, x):
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    ours(x)
    theirs(x)
    assert [(w.name, w.shape) for w in ours.weights] == \
        [(w.name, tuple(w.shape)) for w in theirs.weights]
    randomize(ours)
    theirs.set_weights(ours.get_weights())
    g = sample(*ours(x).shape)
    assert ours.compute_output_shape(x.shape) == tuple(theirs.compute_output_shape(x.shape))
    y, gx, gw = mgp_forward_backward(ours, x, g)
    ky, kgx, kgw = keras_forward_backward(theirs, x, g)
    np.testing.assert_allclose(y, ky, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gx, kgx, rtol=1e-5, atol=1e-5)
    for mine, keras_grad in zip(gw, kgw, strict=True):
        np.testing.assert_allclose(mine, keras_grad, rtol=1e-5, atol=1e-5)


def config_as_keras(ours, theirs):
    mine, keras_config = ours.get_config(), theirs.get_config()
    assert set(mine) == set(keras_config) - {"quantization_config"}, \
        set(mine) ^ set(keras_config)
    for key in set(mine) - {"dtype", "layer"}:
        assert json.loads(json.dumps(mine[key])) == json.loads(json.dumps(keras_config[key])), key
    text = json.dumps(mine)
    assert json.dumps(type(ours).from_config(json.loads(text)).get_config()) == text
    # Keras reads mgp's config, and mgp Keras's
    back = type(theirs).from_config(json.loads(text))
    assert json.loads(json.dumps(back.get_config()))["name"] == mine["name"]
    again = type(ours).from_config(json.loads(json.dumps(keras_config)))
    assert again.get_config() == mine


@pytest.mark.parametrize("name, kwargs, x", CASES, ids=[c[0] for c in CASES])
def test_config_as_keras_before_and_after_building(name, kwargs, x):
    kwargs = {**kwargs, "name": "layer_under_test"}
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    config_as_keras(ours, theirs)
    ours(x), theirs(x)  # GroupNormalization(-1) and RMSNormalization change their config here
    config_as_keras(ours, theirs)


@pytest.mark.parametrize("name", sorted({c[0] for c in CASES}))
def test_constructor_arguments_as_keras(name):
    import inspect

    def names(cls):
        return [p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
    assert names(getattr(layers, name)) == names(getattr(keras.layers, name))


def _models(make_ours, make_theirs, shape):
    ours = mgp.Sequential([mgp.Input(shape), make_ours()])
    theirs = keras.Sequential([keras.Input(shape), make_theirs()])
    return ours, theirs


@pytest.mark.parametrize("name, kwargs, x", [c for c in CASES if "Normalization" in c[0]],
                         ids=[c[0] for c in CASES if "Normalization" in c[0]])
def test_weights_files_cross_both_ways(name, kwargs, x, tmp_path):
    ours, theirs = _models(lambda: getattr(layers, name)(**kwargs),
                           lambda: getattr(keras.layers, name)(**kwargs), x.shape[1:])
    randomize(ours)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(theirs(x)), ours(x).numpy(),
                               rtol=1e-5, atol=1e-5)
    randomize(ours)  # now Keras's file into mgp
    theirs.set_weights(ours.get_weights())
    expected = ours(x).numpy()
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    fresh = mgp.Sequential([mgp.Input(x.shape[1:]), getattr(layers, name)(**kwargs)])
    fresh.load_weights(tmp_path / "theirs.weights.h5")
    np.testing.assert_allclose(fresh(x).numpy(), expected, rtol=1e-6, atol=1e-6)


# ============================================ spectral normalization ============================

SN_CASES = [(lambda L: L.Dense(4), sample(3, 5)), (lambda L: L.Dense(3), sample(2, 4, 5)),
            (lambda L: L.Conv2D(3, 3), sample(2, 6, 6, 2))]


@pytest.mark.parametrize("power_iterations", [1, 3])
@pytest.mark.parametrize("case", range(len(SN_CASES)))
def test_spectral_normalization_as_keras(case, power_iterations):
    make, x = SN_CASES[case]
    ours = layers.SpectralNormalization(make(layers), power_iterations=power_iterations)
    theirs = keras.layers.SpectralNormalization(make(keras.layers),
                                                power_iterations=power_iterations)
    ours(x), theirs(x)
    assert [(w.name, w.shape) for w in ours.weights] == \
        [(w.name, tuple(w.shape)) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    g = sample(*ours(x).shape)
    for training in (True, True, False):  # two steps of the power method, then inference
        y, gx, gw = mgp_forward_backward(ours, x, g, training)
        ky, kgx, kgw = keras_forward_backward(theirs, x, g, training)
        np.testing.assert_allclose(y, ky, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(gx, kgx, rtol=1e-5, atol=1e-5)
        for mine, keras_grad in zip(gw, kgw, strict=True):
            np.testing.assert_allclose(mine, keras_grad, rtol=1e-5, atol=1e-5)
        for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # kernel and u updated alike
    for _ in range(30):  # the power method converges: the kernel's spectral norm goes to 1
        ours(x, training=True)
    w = ours.kernel.numpy().reshape(-1, ours.kernel.shape[-1])
    np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False)[0], 1.0, rtol=1e-3)
    ours.layer.kernel.assign(np.zeros(ours.kernel.shape, np.float32))
    ours(x, training=True)  # an all-zero kernel is left alone (no division by sigma = 0)
    assert not np.any(ours.kernel.numpy())


def test_spectral_normalization_config_and_weights_files_as_keras(tmp_path):
    x = sample(3, 5)
    ours = mgp.Sequential([mgp.Input((5,)),
                           layers.SpectralNormalization(layers.Dense(4), power_iterations=2)])
    theirs = keras.Sequential([keras.Input((5,)), keras.layers.SpectralNormalization(
        keras.layers.Dense(4), power_iterations=2)])
    mine, keras_config = ours.layers[0].get_config(), theirs.layers[0].get_config()
    assert mine["power_iterations"] == keras_config["power_iterations"] == 2
    assert mine["layer"]["class_name"] == keras_config["layer"]["class_name"] == "Dense"
    assert mine["layer"]["build_config"] == {"input_shape": [None, 5]}
    # each framework rebuilds the other's wrapper, wrapped layer included
    rebuilt = keras.layers.SpectralNormalization.from_config(json.loads(json.dumps(mine)))
    assert rebuilt.layer.units == 4 and rebuilt.power_iterations == 2
    ours_again = layers.SpectralNormalization.from_config(
        json.loads(json.dumps(keras_config)))
    assert ours_again.layer.units == 4 and ours_again.layer.built
    ours(x, training=True)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    theirs(x, training=True)
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours.load_weights(tmp_path / "theirs.weights.h5")
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    path = tmp_path / "model.keras"
    ours.save(path)
    loaded = mgp.saving.load_model(path)
    np.testing.assert_array_equal(loaded(x).numpy(), ours(x).numpy())
    keras_loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_loaded(x)), ours(x).numpy(),
                               rtol=1e-6)


# ================================================ InputSpec, serialize ==========================

SPECS = [({"ndim": 3}, (2, 4), (2, 4, 5), "expected ndim=3, found ndim=2"),
         ({"min_ndim": 3}, (2, 4), (2, 4, 5), "expected min_ndim=3, found ndim=2"),
         ({"max_ndim": 2}, (2, 3, 4), (2, 3), "expected max_ndim=2, found ndim=3"),
         ({"axes": {-1: 5}}, (2, 4), (2, 5), "expected axis -1 of input shape to have value 5"),
         ({"shape": (None, 4)}, (2, 5), (3, 4), "expected shape=(None, 4), found shape=(2, 5)")]


@pytest.mark.parametrize("spec_args, bad, fits, words", SPECS, ids=[str(s[0]) for s in SPECS])
def test_input_spec_checks_as_keras(spec_args, bad, fits, words):
    def checked(base, spec):
        class Checked(base):
            def __init__(self):
                super().__init__(name="checked")
                self.input_spec = spec(**spec_args)

            def call(self, x):
                return x
        return Checked()
    with pytest.raises(ValueError, match=re.escape(words)):
        checked(keras.layers.Layer, keras.layers.InputSpec)(np.zeros(bad, np.float32))
    with pytest.raises(ValueError, match="layer 'checked'.*" + re.escape(words)):
        checked(layers.Layer, layers.InputSpec)(np.zeros(bad, np.float32))
    assert checked(layers.Layer, layers.InputSpec)(np.zeros(fits, np.float32)).shape == fits
    with pytest.raises(ValueError, match=re.escape(words)):  # and on symbolic inputs
        checked(layers.Layer, layers.InputSpec)(mgp.Input(bad[1:], batch_size=bad[0]))


def test_group_normalization_checks_its_channels_through_its_input_spec():
    layer = layers.GroupNormalization(groups=2)
    layer(sample(2, 4))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(sample(2, 6))
    with pytest.raises(ValueError, match="expected ndim=2"):
        layer(sample(2, 3, 4))
    with pytest.raises(ValueError, match="3 groups must divide the 4 channels"):
        layers.GroupNormalization(groups=3)(sample(2, 4))
    with pytest.raises(ValueError, match="groups must be a positive int or -1"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="axis 5 is out of range"):
        layers.RMSNormalization(axis=5)(sample(2, 4))
    with pytest.raises(ValueError, match="power_iterations must be a positive int"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="no 'kernel' nor 'embeddings'"):
        layers.SpectralNormalization(layers.ReLU())(sample(2, 3))
    with pytest.raises(ValueError, match="layer must be an mgp layer"):
        layers.SpectralNormalization(keras.layers.Dense(2))
    with pytest.raises(ValueError, match="AdaptiveMaxPooling2D 'p' expected 4-D"):
        layers.AdaptiveMaxPooling2D(2, name="p")(sample(2, 3, 4))
    with pytest.raises(ValueError, match="output_size"):
        layers.AdaptiveAveragePooling1D((2, 3))


def test_layers_serialize_and_deserialize_as_keras():
    ours = layers.serialize(layers.GroupNormalization(groups=4, name="gn"))
    theirs = keras.layers.serialize(keras.layers.GroupNormalization(groups=4, name="gn"))
    assert {k: v for k, v in ours.items() if k != "config"} == \
        {k: v for k, v in theirs.items() if k != "config"}
    assert isinstance(layers.deserialize(theirs), layers.GroupNormalization)
    assert isinstance(keras.layers.deserialize(ours), keras.layers.GroupNormalization)
    assert layers.deserialize(ours).groups == 4


def test_a_model_file_keras_writes_loads_in_mgp_and_trains(tmp_path):
    """Keras saves a model with each new layer; mgp loads it with the same outputs, and fits."""
    def build(L, Model, Input):
        inputs = Input((12, 10, 4))
        x = L.AdaptiveAveragePooling2D((6, 5))(inputs)
        x = L.GroupNormalization(groups=2)(x)
        x = L.AdaptiveMaxPooling2D(3)(x)
        x = L.RMSNormalization(axis=[-2, -1])(x)
        x = L.Reshape((3, 12))(x)
        x = L.SpectralNormalization(L.Dense(5), power_iterations=2)(x)
        return Model(inputs, x)
    x = sample(4, 12, 10, 4)
    theirs = build(keras.layers, keras.Model, keras.Input)
    theirs(x, training=True)  # one power-method step, so u and the kernel are not initial
    path = tmp_path / "keras_model.keras"
    theirs.save(path)
    ours = mgp.saving.load_model(path)
    np.testing.assert_allclose(ours(x).numpy(), keras.ops.convert_to_numpy(theirs(x)),
                               rtol=1e-5, atol=1e-5)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    ours.compile(optimizer="sgd", loss="mse")
    before = ours.evaluate(x, np.zeros((4, 3, 5)), verbose=0)
    ours.fit(x, np.zeros((4, 3, 5)), epochs=3, verbose=0)
    assert ours.evaluate(x, np.zeros((4, 3, 5)), verbose=0) < before


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.GroupNormalization(groups=2, dtype="float64"), (2, 3, 4)),
    (lambda: layers.RMSNormalization(axis=[1, 2], dtype="float64"), (2, 3, 4)),
    (lambda: layers.AdaptiveAveragePooling2D((2, 3), dtype="float64"), (2, 5, 4, 2)),
    (lambda: layers.AdaptiveMaxPooling1D(3, dtype="float64"), (2, 7, 2)),
    (lambda: layers.STFTSpectrogram("log", frame_length=6, frame_step=3, dtype="float64"),
     (1, 15, 2)),
    (lambda: layers.STFTSpectrogram("psd", frame_length=6, padding="same", dtype="float64"),
     (1, 13, 1)),
])
def test_float64_gradients_by_central_differences(make, shape):
    layer = make()
    x = mgp.tensor(rng.normal(size=shape), requires_grad=True, dtype="float64")
    layer(x)
    layer.set_weights([w + rng.uniform(0.2, 1.0, w.shape) for w in layer.get_weights()])
    assert mgp.gradcheck(layer, x)


def test_input_spec_config_and_repr_as_keras():
    kwargs = {"dtype": "float32", "ndim": 3, "axes": {-1: 4}}
    ours, theirs = layers.InputSpec(**kwargs), keras.layers.InputSpec(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert layers.InputSpec.from_config(theirs.get_config()).get_config() == ours.get_config()
    assert layers.InputSpec(shape=(None, 3)).ndim == keras.layers.InputSpec(shape=(None, 3)).ndim
    assert "ndim=3" in repr(ours)
