"""Keras 3 interoperability of `.weights.h5` files, both ways.

The fixtures in tests/fixtures were written by Keras 3 itself (see make_keras_fixtures.py, which
also names the Keras version): mgp loads them into the equivalent mgp models and must predict
what Keras predicted. The last tests (skipped without Keras) load mgp's files into Keras.
"""
import os
import sys

import h5py
import numpy as np
import pytest

import oracles

from mgp import layers, optimizers
from mgp.models import Model, Sequential

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def mlp():
    return Sequential([layers.Input((8,)), layers.Dense(16, activation="relu"),
                       layers.Dropout(0.2), layers.Dense(4, activation="softmax")])


def cnn():
    return Sequential([layers.Input((10, 10, 2)), layers.Conv2D(4, 3, activation="relu"),
                       layers.MaxPooling2D(2), layers.Conv2D(6, 2, padding="same", strides=2),
                       layers.Flatten(), layers.Dropout(0.5),
                       layers.Dense(3, activation="softmax")])


def bn():
    return Sequential([layers.Input((6,)), layers.Dense(8), layers.BatchNormalization(),
                       layers.Activation("relu"), layers.Dense(2)])


def branches():
    inputs = layers.Input((4,))
    a = layers.Dense(4, activation="tanh")(inputs)
    a = layers.Dense(4, activation="tanh")(a)
    a = layers.Dense(4, activation="tanh")(a)
    b = layers.Dense(4, activation="tanh")(inputs)
    x = layers.Concatenate()([b, a])
    x = layers.Add()([x, layers.Dense(8)(inputs)])
    return Model(inputs, layers.Dense(2)(x))


class Subclassed(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.zeta = layers.Dense(5, activation="relu")
        self.blocks = [layers.Dense(5, activation="relu"), layers.Dense(5, activation="relu")]
        self.alpha = layers.Dense(3)

    def call(self, x):
        x = self.zeta(x)
        for block in self.blocks:
            x = block(x)
        return self.alpha(x)


def subclassed():
    model = Subclassed()
    model(np.zeros((1, 4), np.float32))
    return model


def nested():
    inner = Sequential([layers.Dense(6, activation="relu"), layers.Dense(6)])
    return Sequential([layers.Input((3,)), layers.Dense(6), inner, layers.Dense(2)])


def sequences():
    return Sequential([
        layers.Input((12, 3)), layers.Conv1D(4, 3, padding="causal", activation="relu"),
        layers.SeparableConv1D(6, 3, padding="same", depth_multiplier=2), layers.MaxPooling1D(2),
        layers.Conv1DTranspose(4, 3, strides=2, padding="same"),
        layers.DepthwiseConv1D(3, depth_multiplier=2), layers.AveragePooling1D(2),
        layers.UpSampling1D(2), layers.ZeroPadding1D((1, 2)), layers.Cropping1D((2, 1)),
        layers.Conv1D(6, 3, groups=2, dilation_rate=2), layers.GlobalAveragePooling1D(),
        layers.Dense(2)])


def images():
    return Sequential([
        layers.Input((8, 8, 2)), layers.Conv2D(4, 3, groups=2, padding="same", activation="relu"),
        layers.DepthwiseConv2D(3, depth_multiplier=2), layers.SeparableConv2D(4, 3, padding="same"),
        layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1),
        layers.AveragePooling2D(2), layers.UpSampling2D(2, interpolation="bilinear"),
        layers.ZeroPadding2D(((1, 0), (0, 1))), layers.Cropping2D(1),
        layers.SpatialDropout2D(0.2), layers.GaussianNoise(0.1), layers.GlobalMaxPooling2D(),
        layers.Dense(3, activation="softmax")])


def volumes():
    cf = dict(data_format="channels_first")
    return Sequential([
        layers.Input((1, 4, 6, 6)), layers.Conv3D(3, 2, activation="relu", **cf),
        layers.Conv3DTranspose(2, 2, strides=2, **cf), layers.MaxPooling3D(2, **cf),
        layers.ZeroPadding3D(1, **cf), layers.AveragePooling3D(2, **cf),
        layers.UpSampling3D((1, 2, 2), **cf), layers.Cropping3D(((0, 0), (1, 0), (0, 1)), **cf),
        layers.Flatten(**cf), layers.Dense(2)])


def dot():
    a, b = layers.Input((4, 3)), layers.Input((5, 3))
    scores = layers.Dot(axes=(2, 2), normalize=True)([layers.Dense(3)(a), b])
    x = layers.Flatten()(layers.Permute((2, 1))(scores))
    x = layers.RepeatVector(2)(layers.Dense(4)(x))
    return Model([a, b], layers.Conv1D(2, 2)(x))


MODELS = {"mlp": mlp, "cnn": cnn, "bn": bn, "branches": branches, "subclassed": subclassed,
          "nested": nested, "sequences": sequences, "images": images, "volumes": volumes,
          "dot": dot}


def fixture(name):
    return np.load(os.path.join(FIXTURES, f"{name}.npz"), allow_pickle=False)


def inputs(data):
    """A fixture's input: `x`, or the list `x0`, `x1`, ... of a model with several inputs."""
    if "x" in data:
        return data["x"]
    return [data[f"x{i}"] for i in range(sum(k.startswith("x") for k in data.files))]


def listing(path):
    """Every group and dataset of an HDF5 file: path -> shape (None for groups)."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda k, o: out.__setitem__(
            k, o.shape if isinstance(o, h5py.Dataset) else None))
    return out


@pytest.mark.parametrize("name", sorted(MODELS))
def test_mgp_loads_keras_weights_and_predicts_as_keras(name):
    model = MODELS[name]()  # mgp's own layer names, unlike the file's: loaded by position
    model.load_weights(os.path.join(FIXTURES, f"{name}.weights.h5"))
    data = fixture(name)
    np.testing.assert_allclose(model.predict(inputs(data), verbose=0), data["y"], atol=1e-5)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_mgp_writes_keras_layout(name, tmp_path):
    """Same groups, datasets and shapes as the file Keras wrote for the same architecture."""
    model = MODELS[name]()
    keras_file = os.path.join(FIXTURES, f"{name}.weights.h5")
    model.load_weights(keras_file)
    model.save_weights(tmp_path / "m.weights.h5")
    assert listing(tmp_path / "m.weights.h5") == listing(keras_file)
    with h5py.File(tmp_path / "m.weights.h5", "r") as f:  # names as attributes, as Keras
        assert f["vars"].attrs["name"] == model.name
        for path, layer in [("layers/dense", None), ("alpha", model.__dict__.get("alpha"))]:
            if path in f and layer is not None:
                assert f[path]["vars"].attrs["name"] == layer.name


def test_functional_layers_filed_in_keras_depth_order(tmp_path):
    """Keras orders a functional model's layers by depth: the deep branch's third Dense comes
    after the shallow branch's Dense. All of these have the same shape, so only the right
    order gives Keras's predictions (checked above); here the group of each layer."""
    model = branches()
    model.load_weights(os.path.join(FIXTURES, "branches.weights.h5"))
    with h5py.File(os.path.join(FIXTURES, "branches.weights.h5"), "r") as f:
        names = {k: f[f"layers/{k}/vars"].attrs["name"] for k in f["layers"]}
    assert [names[f"dense_{i}"] if i else names["dense"] for i in range(4)] == \
        ["a1", "a2", "b1", "a3"]


def test_mgp_continues_training_from_keras_adam_state():
    """Adam's state after 3 Keras steps, loaded into mgp: mgp's 4th step equals Keras's."""
    model = Sequential([layers.Input((3,)), layers.Dense(5, activation="tanh"), layers.Dense(2)])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
    model.load_weights(os.path.join(FIXTURES, "adam_step.weights.h5"))
    assert model.optimizer.iterations == 3
    data = fixture("adam_step")
    model.fit(data["x"], data["y"], batch_size=len(data["x"]), epochs=1, shuffle=False,
              verbose=0)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, data[f"w{i}"], atol=1e-6)


def test_weights_inside_a_keras_zip_file():
    model = mlp()
    model.load_weights(os.path.join(FIXTURES, "mlp.keras"))
    data = fixture("mlp")
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-5)


def test_load_model_rebuilds_a_keras_zip_and_predicts_as_keras():
    from mgp.models import load_model
    model = load_model(os.path.join(FIXTURES, "mlp.keras"))
    assert [layer.name for layer in model.layers] == ["hidden", "drop", "head"]
    data = fixture("mlp")
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-5)


# ---- mgp's files in Keras (skipped when Keras is not installed) -----------------------------------
@pytest.fixture(scope="module")
def keras_builders():
    oracles.keras()
    sys.path.insert(0, FIXTURES)
    try:
        import make_keras_fixtures
    finally:
        sys.path.remove(FIXTURES)
    return make_keras_fixtures


@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_loads_mgp_weights(name, keras_builders, tmp_path):
    rng = np.random.default_rng(0)
    model = MODELS[name]()
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.3 + (
        1.0 if "variance" in w.name else 0.0) for w in model.weights])
    for w in model.weights:
        if "variance" in w.name:
            w.assign(np.abs(w.numpy()) + 0.5)
    model.save_weights(tmp_path / "m.weights.h5")
    keras_model = getattr(keras_builders, name)()
    keras_model.load_weights(str(tmp_path / "m.weights.h5"))
    x = inputs(fixture(name))
    np.testing.assert_allclose(np.asarray(keras_model.predict(x, verbose=0)),
                               model.predict(x, verbose=0), atol=1e-5)


def test_keras_loads_mgp_optimizer_state(keras_builders, tmp_path):
    import keras
    model = Sequential([layers.Input((3,)), layers.Dense(5, activation="tanh"), layers.Dense(2)])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
    data = fixture("adam_step")
    model.fit(data["x"], data["y"], batch_size=5, epochs=2, shuffle=False, verbose=0)
    model.save_weights(tmp_path / "m.weights.h5")
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, activation="tanh"),
                          keras.layers.Dense(2)])
    k.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    k.optimizer.build(k.trainable_variables)
    k.load_weights(str(tmp_path / "m.weights.h5"))
    assert int(k.optimizer.iterations.numpy()) == 2
    for mine, theirs in zip(model.optimizer.variables, k.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(mine.numpy()), np.asarray(theirs.numpy()))


def test_a_registered_activation_function_saves_by_name_both_ways(tmp_path):
    # Keras's serialization guide: `Dense(1, activation=custom_fn)` with custom_fn registered
    import mgp
    keras = oracles.keras()

    def build(K):
        @K.saving.register_keras_serializable(package="my_package", name="custom_fn")
        def custom_fn(x):
            return x ** 2
        inputs = K.Input((4,))
        model = K.Model(inputs, K.layers.Dense(1, activation=custom_fn)(inputs))
        model.set_weights([np.arange(4, dtype="float32")[:, None] / 4, np.ones(1, "float32")])
        return model
    ours, theirs = build(mgp), build(keras)
    assert ours.get_config()["layers"][1]["config"]["activation"] == \
        theirs.get_config()["layers"][1]["config"]["activation"]
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    x = np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4)
    expected = theirs.predict(x, verbose=0)
    for model in (keras.models.load_model(tmp_path / "ours.keras"),
                  mgp.models.load_model(tmp_path / "theirs.keras"), ours):
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)


def test_an_unregistered_activation_function_loads_with_custom_objects(tmp_path):
    import mgp

    def squared(x):
        return x ** 2
    inputs = mgp.Input((4,))
    model = mgp.Model(inputs, mgp.layers.Dense(1, activation=squared)(inputs))
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="squared"):
        mgp.models.load_model(tmp_path / "m.keras")
    again = mgp.models.load_model(tmp_path / "m.keras", custom_objects={"squared": squared})
    assert again.layers[1].activation is squared
