"""mgp.applications against keras.applications (torch backend): the same layers, names and
parameter counts, the same predictions with the same weights (copied layer by layer),
`preprocess_input` and `decode_predictions` as Keras's, Keras's errors for bad arguments, and
`weights="imagenet"` downloading a weights file in Keras 2's HDF5 layout from a local HTTP
server; Keras 2's layout read from files Keras wrote, and refused when tampered with.

The eight models the issue names, and one each of MobileNetV3 and EfficientNetV2, are built
by Keras itself in the test and compared numerically; the other constructors are compared by
structure with what Keras built in tests/fixtures/make_applications_fixtures.py
(applications.json.gz)."""
import gzip
import hashlib
import inspect
import json
import os
import sys
import warnings

import numpy as np
import oracles
import pytest
from dataset_files import server  # noqa: F401 (the fixture)

import mgp
from mgp import applications
from mgp.applications import imagenet_utils

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
from make_applications_fixtures import (  # noqa: E402
    SCALED, auto_name, keras_constructor, legacy_model, nested_model, structure,
)

sys.path.remove(FIXTURES)


def as_keras_lists(layer):
    """(class, name) of a layer as Keras's model lists it. The one difference: MobileNetV3's
    hard sigmoid gate, which Keras computes with a ReLU layer between arithmetic on symbolic
    tensors, is an Activation layer in mgp (see mgp/applications/mobilenet_v3.py)."""
    if type(layer).__name__ == "Activation" and \
            getattr(layer, "activation", None) is mgp.ops.hard_sigmoid:
        return "ReLU", "re_lu*"
    return type(layer).__name__, auto_name(layer.name, type(layer).__name__)


def layers_of(model):
    return [as_keras_lists(layer) for layer in model.layers]


def perturbed(keras_model, seed=0):
    """Give Keras's model weights that make every layer matter: random batch normalization
    statistics and parameters, conv and dense weights as initialized."""
    rng = np.random.default_rng(seed)
    for layer in keras_model.layers:
        for w in layer.weights:
            if any(k in w.path for k in ("gamma", "beta", "moving_mean", "bias")):
                w.assign(rng.normal(0, 0.1, w.shape).astype("float32") +
                         (1.0 if "gamma" in w.path else 0.0))
            elif "moving_variance" in w.path:
                w.assign(rng.uniform(0.5, 1.5, w.shape).astype("float32"))


# ---- the eight models, numerically -----------------------------------------------------
NUMERIC = [
    ("vgg16", "VGG16", dict(include_top=False, input_shape=(32, 32, 3), pooling="avg")),
    ("vgg19", "VGG19", dict(include_top=False, input_shape=(32, 32, 3))),
    ("resnet", "ResNet50", dict(include_top=False, input_shape=(32, 32, 3), pooling="max")),
    ("resnet_v2", "ResNet50V2", dict(include_top=False, input_shape=(32, 32, 3),
                                     pooling="avg")),
    ("mobilenet", "MobileNet", dict(input_shape=(32, 32, 3), classes=10)),
    ("mobilenet_v2", "MobileNetV2", dict(input_shape=(32, 32, 3), classes=10)),
    ("efficientnet", "EfficientNetB0", dict(input_shape=(32, 32, 3), classes=10)),
    ("densenet", "DenseNet121", dict(input_shape=(32, 32, 3), classes=10)),
    ("mobilenet_v3", "MobileNetV3Small", dict(input_shape=(32, 32, 3), classes=10)),
    ("efficientnet_v2", "EfficientNetV2B0", dict(input_shape=(32, 32, 3), include_top=False,
                                                 pooling="avg")),
]


@pytest.mark.parametrize("module,name,kwargs", NUMERIC, ids=[n for _, n, _ in NUMERIC])
def test_same_layers_and_predictions_as_keras(module, name, kwargs):
    keras = oracles.keras()
    theirs = getattr(keras.applications, name)(weights=None, **kwargs)
    ours = getattr(getattr(applications, module), name)(weights=None, **kwargs)
    assert ours.name == theirs.name
    assert layers_of(ours) == layers_of(theirs)
    assert ours.count_params() == theirs.count_params()
    assert ours.output_shape == tuple(theirs.output_shape)
    perturbed(theirs)
    for a, b in zip(ours.layers, theirs.layers):  # by name: the names are the same
        if b.weights:
            a.set_weights(b.get_weights())
    x = np.random.default_rng(1).uniform(0, 255, (2,) + kwargs["input_shape"]).astype("float32")
    x = getattr(keras.applications, module).preprocess_input(x)
    expected = np.asarray(theirs.predict(x, verbose=0))
    got = ours.predict(x, verbose=0)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * scale)


# ---- ConvNeXt: Tiny numerically through a weights file Keras wrote, the others by builder ----
def test_convnext_tiny_same_layers_and_predictions_as_keras(tmp_path):
    """ConvNeXtTiny (its stem and downsamplings Sequential models inside the model) as Keras
    builds it, reading Keras 2's HDF5 layout as Keras writes it for this model (the layout of
    the published ConvNeXt weights): the nested models' weights and the layer scales in
    Keras's order."""
    keras = oracles.keras()
    import h5py
    from keras.src.legacy.saving import legacy_h5_format
    kwargs = {"input_shape": (32, 32, 3), "classes": 10}
    theirs = keras.applications.ConvNeXtTiny(weights=None, **kwargs)
    ours = applications.convnext.ConvNeXtTiny(weights=None, **kwargs)
    assert ours.name == theirs.name
    assert layers_of(ours) == layers_of(theirs)
    assert [[list(w.shape) for w in a.weights] for a in ours.layers] == \
        [[list(w.shape) for w in b.weights] for b in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    perturbed(theirs)
    rng = np.random.default_rng(3)
    for layer in theirs.layers:  # layer scales that make each block's branch count
        if type(layer).__name__ == "LayerScale":
            layer.weights[0].assign(rng.uniform(0.5, 1.5, layer.weights[0].shape))
    path = str(tmp_path / "convnext_tiny.h5")
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, theirs)
    ours.load_weights(path)
    x = np.random.default_rng(1).uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    x = keras.applications.convnext.preprocess_input(x)
    np.testing.assert_array_equal(applications.convnext.preprocess_input(x), x)
    expected = np.asarray(theirs.predict(x, verbose=0))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-6)


def test_convnext_layers_as_keras():
    """LayerScale scales the last axis; StochasticDepth is the identity at inference and,
    training, keeps or drops each sample's whole branch (the kept scaled by 1 / keep)."""
    keras = oracles.keras()
    from keras.src.applications import convnext as theirs
    ours = applications.convnext
    x = np.random.default_rng(4).normal(size=(64, 3, 5)).astype("float32")
    scale = ours.LayerScale(0.5, 5)
    np.testing.assert_allclose(scale(x).data, keras.ops.convert_to_numpy(theirs.LayerScale(0.5, 5)(x)))
    assert scale.get_config() == {**theirs.LayerScale(0.5, 5).get_config(),
                                  "name": scale.name}
    drop = ours.StochasticDepth(0.25)
    np.testing.assert_array_equal(drop(x).data, x)
    y = drop(x, training=True).data
    kept = np.all(y == x / np.float32(0.75), axis=(1, 2))
    assert np.all(kept | np.all(y == 0, axis=(1, 2))) and 0 < kept.sum() < 64
    assert drop.get_config()["drop_path_rate"] == 0.25
    with pytest.raises(ValueError, match="drop_path_rate must be a number in"):
        ours.StochasticDepth(1.5)
    with pytest.raises(ValueError, match="projection_dim=4"):
        ours.LayerScale(0.1, 4)(x)


def test_convnext_constructors_call_their_builder_as_keras(monkeypatch):
    """ConvNeXtSmall, Base, Large and XLarge (and Tiny without its top) give the builder
    what Keras's give it; the builder is compared through ConvNeXtTiny above."""
    keras = oracles.keras()
    builder = applications.convnext.ConvNeXt
    calls = []

    def record(*args, **kwargs):
        arguments = inspect.signature(builder).bind(*args, **kwargs)
        arguments.apply_defaults()
        calls.append(dict(arguments.arguments))
    monkeypatch.setattr(keras.src.applications.convnext, "ConvNeXt", record)
    monkeypatch.setattr(applications.convnext, "ConvNeXt", record)
    for name in CONVNEXT:
        for kwargs in ({}, {"weights": None, "include_top": False, "pooling": "max",
                            "include_preprocessing": False, "name": "x"}):
            calls.clear()
            getattr(keras.applications, name)(**kwargs)
            getattr(applications, name)(**kwargs)
            assert len(calls) == 2 and calls[0] == calls[1], name


def test_convnext_without_top_and_bad_arguments_as_keras():
    keras = oracles.keras()
    kwargs = {"weights": None, "input_shape": (32, 32, 3), "include_top": False,
              "pooling": "avg", "include_preprocessing": False}
    theirs = keras.applications.ConvNeXtTiny(**kwargs)
    ours = applications.ConvNeXtTiny(**kwargs)
    assert layers_of(ours) == layers_of(theirs)
    assert ours.output_shape == tuple(theirs.output_shape) == (None, 768)
    with pytest.raises(ValueError, match="does not match weights variant"):
        applications.ConvNeXtTiny(name="mine", input_shape=(32, 32, 3), include_top=False)
    with pytest.raises(ValueError, match="Architecture configuration does not match"):
        applications.convnext.ConvNeXt([1, 1, 1, 1], [8, 8, 8, 8], weights="imagenet",
                                       weights_name="convnext_tiny", include_top=False,
                                       input_shape=(32, 32, 3), name="convnext_tiny")


CONVNEXT = ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge"]


# ---- the other constructors, by structure ------------------------------------------------------
with gzip.open(os.path.join(FIXTURES, "applications.json.gz"), "rt", encoding="utf-8") as _f:
    STRUCTURES = json.load(_f)


@pytest.mark.parametrize("name,kwargs,expected", STRUCTURES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(STRUCTURES)])
def test_same_structure_as_keras(name, kwargs, expected):
    for key in ("input_shape",):
        if key in kwargs:
            kwargs[key] = tuple(kwargs[key])
    model = getattr(applications, name)(weights=None, **kwargs)
    got = structure(model)
    for entry, layer in zip(got["layers"], model.layers):
        entry[:2] = as_keras_lists(layer)
    assert got["name"] == expected["name"]
    assert [layer[:2] for layer in got["layers"]] == [layer[:2] for layer in expected["layers"]]
    assert got["layers"] == expected["layers"]  # the weight shapes too
    assert got["params"] == expected["params"]


BUILDERS = {"efficientnet": "EfficientNet", "efficientnet_v2": "EfficientNetV2",
            "densenet": "DenseNet", "nasnet": "NASNet"}


@pytest.mark.parametrize("name", SCALED)
def test_scaled_constructors_call_their_builder_as_keras(name, monkeypatch):
    """The constructors that differ from a compared one only in their numbers (EfficientNetB7
    is B1's builder with other widths, depths and sizes) pass the builder what Keras's pass."""
    keras = oracles.keras()
    module = getattr(applications, name).__module__.rsplit(".", 1)[1]
    ours_builder = getattr(getattr(applications, module), BUILDERS[module])
    calls = []

    def record(*args, **kwargs):
        arguments = inspect.signature(ours_builder).bind(*args, **kwargs)
        arguments.apply_defaults()
        calls.append(dict(arguments.arguments))
    monkeypatch.setattr(getattr(keras.src.applications, module), BUILDERS[module], record)
    monkeypatch.setattr(getattr(applications, module), BUILDERS[module], record)
    kwargs = dict(weights=None, include_top=False, classes=3, pooling="avg")
    keras_constructor(keras, name)(**kwargs)
    getattr(applications, name)(**kwargs)
    assert calls[0] == calls[1] and len(calls) == 2


def test_every_keras_constructor_is_there_and_compared():
    """Each of Keras's constructors is in mgp.applications, and each is checked against
    Keras: numerically, by structure, or by the arguments it gives its family's builder."""
    keras = oracles.keras()
    theirs = {n for n in dir(keras.applications) if n[0].isupper()}
    ours = {n for n in dir(applications) if n[0].isupper()}
    assert ours == theirs
    compared = {n for _, n, _ in NUMERIC} | {n for n, _, _ in STRUCTURES} | set(SCALED) | \
        set(CONVNEXT)
    assert ours == compared, sorted(ours ^ compared)


def test_every_keras_module_has_its_names():
    """Each family's module (`mgp.applications.mobilenet_v2`, ...) has what Keras's has:
    its constructors, `preprocess_input` and `decode_predictions`."""
    keras = oracles.keras()
    for module in MODULES + ["inception_v3", "inception_resnet_v2", "xception", "nasnet",
                             "mobilenet_v3", "efficientnet_v2", "convnext", "imagenet_utils"]:
        theirs = {n for n in dir(getattr(keras.applications, module)) if not n.startswith("_")}
        ours = getattr(applications, module)
        assert all(hasattr(ours, n) for n in theirs), (module, theirs)


def test_built_on_a_given_input_tensor():
    inputs = mgp.Input((40, 40, 3))
    features = applications.MobileNetV2(weights=None, input_tensor=inputs, include_top=False,
                                        alpha=0.35, pooling="avg")
    assert features.inputs[0] is inputs and features.output_shape == (None, 1280)
    with pytest.raises(ValueError, match="input_tensor must be a symbolic tensor"):
        applications.ResNet50(weights=None, input_tensor=np.zeros((1, 32, 32, 3)))


# ---- preprocess_input -------------------------------------------------------------------------
MODULES = ["vgg16", "vgg19", "resnet", "resnet50", "resnet_v2", "mobilenet", "mobilenet_v2",
           "efficientnet", "densenet"]


@pytest.mark.parametrize("module", MODULES)
def test_preprocess_input_as_keras(module):
    keras = oracles.keras()
    rng = np.random.default_rng(2)
    images = rng.uniform(0, 255, (2, 4, 5, 3)).astype("float32")
    ours_fn = getattr(applications, module).preprocess_input
    theirs_fn = getattr(keras.applications, module).preprocess_input
    for x in (images, images[0], images.astype("uint8")):
        a, b = x.copy(), x.copy()
        got, expected = ours_fn(a), theirs_fn(b)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(a, b)  # written over the input exactly where Keras does
    first = images.transpose(0, 3, 1, 2).copy()
    np.testing.assert_allclose(ours_fn(first.copy(), data_format="channels_first"),
                               theirs_fn(first.copy(), data_format="channels_first"),
                               rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_preprocess_input_tensors_and_symbolic_as_keras(mode, data_format):
    keras = oracles.keras()
    x = np.random.default_rng(3).uniform(0, 255, (2, 3, 4, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(keras.applications.imagenet_utils.preprocess_input(
        keras.ops.convert_to_tensor(x), data_format=data_format, mode=mode))
    got = imagenet_utils.preprocess_input(mgp.tensor(x), data_format=data_format, mode=mode)
    assert isinstance(got, mgp.Tensor)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-5)
    inputs = mgp.Input(x.shape[1:])
    model = mgp.Model(inputs, imagenet_utils.preprocess_input(inputs, data_format, mode))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(imagenet_utils.preprocess_input(x.copy(), data_format, mode),
                               expected, rtol=1e-6, atol=1e-5)


def test_preprocess_input_bad_arguments_as_keras():
    keras = oracles.keras()
    x = np.zeros((1, 2, 2, 3), "float32")
    for kwargs in (dict(mode="pytorch"), dict(data_format="channels_middle")):
        with pytest.raises(ValueError) as theirs:
            keras.applications.imagenet_utils.preprocess_input(x, **kwargs)
        with pytest.raises(ValueError) as ours:
            imagenet_utils.preprocess_input(x, **kwargs)
        assert str(ours.value) == str(theirs.value)


# ---- decode_predictions -----------------------------------------------------------------------
@pytest.fixture
def home(tmp_path, monkeypatch):
    """The download cache (~/.mgp) in a fresh folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("no_proxy", "*")
    return tmp_path


def test_decode_predictions_from_a_served_class_index(server, home, monkeypatch):  # noqa: F811
    keras = oracles.keras()
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    body = json.dumps(index).encode()
    server.files["imagenet_class_index.json"] = body
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH",
                        server.url + "imagenet_class_index.json")
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_MD5", hashlib.md5(body).hexdigest())
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(keras.src.applications.imagenet_utils, "CLASS_INDEX", index)
    preds = np.random.default_rng(4).random((3, 1000)).astype("float32")
    got = applications.mobilenet_v2.decode_predictions(preds, top=4)
    expected = keras.applications.mobilenet_v2.decode_predictions(preds, top=4)
    assert got == expected and got[0][0][1].startswith("class_")
    assert os.path.exists(home / ".mgp" / "models" / "imagenet_class_index.json")
    assert len(expected[0]) == 4
    assert applications.vgg16.decode_predictions(preds[:1], top=1) == [expected[0][:1]]
    assert server.requests == ["imagenet_class_index.json"]  # read once, then kept
    for bad in (preds[0], preds[:, :10]):
        with pytest.raises(ValueError) as theirs:
            keras.applications.imagenet_utils.decode_predictions(bad)
        with pytest.raises(ValueError) as ours:
            imagenet_utils.decode_predictions(bad)
        assert str(ours.value) == str(theirs.value)


def test_a_tampered_class_index_is_refused(server, home, monkeypatch):  # noqa: F811
    server.files["imagenet_class_index.json"] = b'{"0": ["n0", "x"]}'
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH",
                        server.url + "imagenet_class_index.json")
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    with pytest.raises(ValueError, match="md5"):
        imagenet_utils.decode_predictions(np.zeros((1, 1000)))
    assert imagenet_utils.CLASS_INDEX is None
    assert not os.listdir(home / ".mgp" / "models")


# ---- Keras's errors ---------------------------------------------------------------------------
ERRORS = [
    ("VGG16", dict(weights="nowhere.h5")),
    ("VGG16", dict(weights="imagenet", classes=10)),
    ("VGG16", dict(weights="imagenet", input_shape=(100, 100, 3))),
    ("VGG16", dict(weights=None, input_shape=(16, 16, 3), include_top=False)),
    ("VGG16", dict(weights=None, input_shape=(32, 32), include_top=False)),
    ("VGG16", dict(weights=None, input_shape=(None, None, 3))),
    ("ResNet50", dict(weights="imagenet", include_top=False, input_shape=(64, 64, 1))),
    ("ResNet50V2", dict(weights="imagenet", classes=3)),
    ("MobileNet", dict(weights="imagenet", alpha=0.3)),
    ("MobileNet", dict(weights="imagenet", depth_multiplier=2)),
    ("MobileNet", dict(weights="missing")),
    ("MobileNetV2", dict(weights="imagenet", alpha=0.2)),
    ("MobileNetV2", dict(weights="imagenet", classes=2)),
    ("MobileNetV2", dict(weights="missing")),
    ("EfficientNetB0", dict(weights="missing")),
    ("EfficientNetB0", dict(weights="imagenet", classes=5)),
    ("DenseNet121", dict(weights="missing")),
    ("DenseNet121", dict(weights="imagenet", classes=5)),
]


@pytest.mark.parametrize("name,kwargs", ERRORS)
def test_bad_arguments_raise_keras_errors(name, kwargs):
    keras = oracles.keras()
    with pytest.raises(ValueError) as theirs:
        getattr(keras.applications, name)(**kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(applications, name)(**kwargs)
    assert str(ours.value) == str(theirs.value)


def test_only_softmax_or_none_on_pretrained_weights(tmp_path):
    model = applications.MobileNet(weights=None, input_shape=(32, 32, 3), classes=4)
    model.save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations are allowed"):
        applications.MobileNet(weights=str(tmp_path / "m.weights.h5"),
                               input_shape=(32, 32, 3), classes=4,
                               classifier_activation="relu")
    again = applications.MobileNet(weights=str(tmp_path / "m.weights.h5"),
                                   input_shape=(32, 32, 3), classes=4,
                                   classifier_activation=None)
    assert all(np.array_equal(a, b) for a, b in zip(again.get_weights(), model.get_weights()))


# ---- Keras 2's HDF5 layout --------------------------------------------------------------------
LEGACY_FILES = ["legacy_weights.h5", "legacy_model.h5", "legacy_chunked.h5"]


@pytest.mark.parametrize("filename", LEGACY_FILES)
def test_reads_keras_legacy_h5_files(filename):
    data = np.load(os.path.join(FIXTURES, "legacy.npz"))
    model = legacy_model(mgp)
    model.load_weights(os.path.join(FIXTURES, filename))
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], rtol=1e-5,
                               atol=1e-6)


def test_reads_a_keras_legacy_model_holding_a_model():
    """A classifier on a frozen-in-part base model, saved by Keras as a legacy `.h5`: the base's
    weights come in Keras 2's order (trainable first across its layers, then the frozen)."""
    data = np.load(os.path.join(FIXTURES, "legacy.npz"))
    model = nested_model(mgp)
    model.load_weights(os.path.join(FIXTURES, "legacy_nested.h5"))
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y_nested"],
                               rtol=1e-5, atol=1e-6)


def test_legacy_by_name_skips_unknown_layers():
    data = np.load(os.path.join(FIXTURES, "legacy.npz"))
    model = legacy_model(mgp)
    model.load_weights(os.path.join(FIXTURES, "legacy_weights.h5"), by_name=True)
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], rtol=1e-5,
                               atol=1e-6)


def _copy(tmp_path, edit, name="legacy_weights.h5"):
    import shutil

    import h5py
    path = tmp_path / name
    shutil.copy(os.path.join(FIXTURES, name), path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return str(path)


def _unchanged(model, before):
    return all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


def _other_file(tmp_path):
    import h5py
    with h5py.File(tmp_path / "other.h5", "w") as g:
        g["secret"] = np.ones((3, 3, 3, 4), "float32")


def _external(f):
    import h5py
    del f["conv/conv/kernel"]
    f["conv/conv/kernel"] = h5py.ExternalLink("other.h5", "/secret")


def _soft(f):
    import h5py
    del f["conv/conv/kernel"]
    f["conv/conv/kernel"] = h5py.SoftLink("/predictions/predictions/kernel")


def _names(f, group, names):
    f[group].attrs["weight_names"] = np.array(names, dtype=object)


TAMPERED = [
    ("a weight of another shape", lambda f: (f["dw"].__delitem__("dw/kernel"),
                                            f["dw"].create_dataset("dw/kernel",
                                                                   data=np.ones((3, 3, 4, 2)))),
     r"layer #2 \(named 'dw' in the model, 'dw' in the file\): weight 'kernel' expects shape "
     r"\(3, 3, 4, 1\), the file's 'dw/kernel' has shape \(3, 3, 4, 2\)"),
    ("a weight missing", lambda f: _names(f, "bn", ["bn/gamma", "bn/beta", "bn/moving_mean"]),
     r"named 'bn' in the model, 'bn' in the file\) expects 4 weights"),
    ("a layer missing", lambda f: f.attrs.__setitem__("layer_names",
                                                      f.attrs["layer_names"][:-1]),
     "the model has 4 layers with weights, the file has 3"),
    ("an absolute weight name", lambda f: _names(f, "conv", ["/bn/bn/gamma", "conv/bias"]),
     "layer 'conv' names '/bn/bn/gamma', which is not a path below it"),
    ("a weight name going up", lambda f: _names(f, "conv", ["../bn/bn/gamma", "conv/bias"]),
     "which is not a path below it"),
    ("a weight that is a group", lambda f: _names(f, "conv", ["conv", "conv/bias"]),
     "names the weight 'conv', which is a group, not a dataset"),
    ("a weight the file lacks", lambda f: _names(f, "conv", ["conv/kernel", "conv/bogus"]),
     "layer 'conv' names 'conv/bogus', which the file does not have"),
    ("a soft link", _soft, "'conv/kernel' is a SoftLink"),
    ("an external link", _external, "is a ExternalLink; only datasets stored in the file"),
]


@pytest.mark.parametrize("what,edit,message", TAMPERED, ids=[t[0] for t in TAMPERED])
def test_a_legacy_file_that_does_not_match_changes_nothing(tmp_path, what, edit, message):
    _other_file(tmp_path)
    path = _copy(tmp_path, edit)
    model = legacy_model(mgp)
    before = model.get_weights()
    with pytest.raises(ValueError, match=message) as e:
        model.load_weights(path)
    assert path in str(e.value)
    assert _unchanged(model, before)


def test_legacy_skip_mismatch_loads_the_rest(tmp_path):
    path = _copy(tmp_path, lambda f: (f["dw"].__delitem__("dw/kernel"),
                                      f["dw"].create_dataset("dw/kernel",
                                                             data=np.ones((3, 3, 4, 2)))))
    model = legacy_model(mgp)
    before = model.get_layer("dw").get_weights()
    with pytest.warns(UserWarning, match="weight 'kernel' expects shape"):
        model.load_weights(path, skip_mismatch=True)
    assert _unchanged(model.get_layer("dw"), before)
    reference = legacy_model(mgp)
    reference.load_weights(os.path.join(FIXTURES, "legacy_weights.h5"))
    assert _unchanged(model.get_layer("conv"), reference.get_layer("conv").get_weights())


def test_a_damaged_legacy_file_is_a_clear_error(tmp_path):
    data = open(os.path.join(FIXTURES, "legacy_weights.h5"), "rb").read()
    path = tmp_path / "cut.h5"
    path.write_bytes(data[: len(data) // 2])
    model = legacy_model(mgp)
    with pytest.raises(ValueError, match="cut.h5"):
        model.load_weights(str(path))


# ---- weights="imagenet": the download -----------------------------------------------------------
def _keras_legacy_bytes(keras_model, tmp_path):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format
    path = tmp_path / "served.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, keras_model)
    return path.read_bytes()


def test_imagenet_weights_downloaded_cached_and_loaded(server, home, monkeypatch,  # noqa: F811
                                                       capsys):
    """MobileNetV2's published file name for alpha 0.35 at 96x96 without the top, served
    locally: the weights Keras wrote in Keras 2's layout come out of mgp's model."""
    keras = oracles.keras()
    kwargs = dict(alpha=0.35, input_shape=(96, 96, 3), include_top=False, pooling="avg")
    theirs = keras.applications.MobileNetV2(weights=None, **kwargs)
    perturbed(theirs)
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    server.files[name] = _keras_legacy_bytes(theirs, home)
    monkeypatch.setattr(applications.mobilenet_v2, "BASE_WEIGHT_PATH", server.url)
    ours = applications.MobileNetV2(weights="imagenet", **kwargs)
    assert "100%" in capsys.readouterr().err  # the progress bar ran to the end
    assert sorted(os.listdir(home / ".mgp" / "models")) == [name]  # nothing half-written
    x = np.random.default_rng(5).uniform(-1, 1, (2, 96, 96, 3)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)
    applications.MobileNetV2(weights="imagenet", **kwargs)
    assert server.requests == [name]  # the second model used the cache


class Fetched(Exception):
    """Raised by a recording get_file, to stop a constructor at its download."""


DOWNLOADS = [
    ("MobileNet", dict(input_shape=(128, 128, 3), alpha=0.25)),
    ("MobileNet", dict(input_shape=(160, 160, 3), alpha=0.5, include_top=False)),
    ("MobileNetV2", dict(input_shape=(96, 96, 3), alpha=0.35)),
    ("MobileNetV3Small", dict(input_shape=(32, 32, 3), include_top=False, alpha=0.75)),
    ("VGG19", dict(input_shape=(32, 32, 3), include_top=False)),
    ("ResNet50", dict(input_shape=(32, 32, 3), include_top=False)),
    ("EfficientNetB0", dict(input_shape=(32, 32, 3), include_top=False)),
    ("DenseNet121", dict(input_shape=(32, 32, 3), include_top=False)),
    ("ConvNeXtTiny", {"input_shape": (32, 32, 3), "include_top": False}),
]


@pytest.mark.parametrize("name,kwargs", DOWNLOADS, ids=[n for n, _ in DOWNLOADS])
def test_imagenet_weights_come_from_keras_addresses(name, kwargs, monkeypatch):
    """The file name, address and hash of the ImageNet weights are Keras's own."""
    keras = oracles.keras()
    calls = []

    def record(fname=None, origin=None, file_hash=None, cache_subdir="datasets", **_):
        calls.append((fname, origin, file_hash, cache_subdir))
        raise Fetched
    monkeypatch.setattr(keras.src.utils.file_utils, "get_file", record)
    monkeypatch.setattr(applications._common, "get_file", record)
    for constructor in (getattr(keras.applications, name), getattr(applications, name)):
        with warnings.catch_warnings(), pytest.raises(Fetched):
            warnings.simplefilter("ignore")  # (a non-default size warns in both)
            constructor(weights="imagenet", **kwargs)
    assert calls[0] == calls[1] and calls[0][1].startswith("https://storage.googleapis.com/")


def test_imagenet_weights_checked_against_keras_hash(server, home, monkeypatch):  # noqa: F811
    name = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    server.files[name] = open(os.path.join(FIXTURES, "legacy_weights.h5"), "rb").read()
    monkeypatch.setattr(applications.resnet, "BASE_WEIGHTS_PATH", server.url)
    with pytest.raises(ValueError, match="md5 .*expected 4d473c1dd8becc155b73f8504c6f6626"):
        applications.ResNet50(weights="imagenet", include_top=False)
    assert os.listdir(home / ".mgp" / "models") == []  # nothing kept


def test_the_applications_own_layers_load_back_from_a_keras_file(tmp_path):
    # ConvNeXt's LayerScale and StochasticDepth and InceptionResNetV2's CustomScaleLayer are
    # not in mgp.layers; a saved model made of them must still load
    from mgp.applications.convnext import LayerScale, StochasticDepth
    from mgp.applications.inception_resnet_v2 import CustomScaleLayer
    inputs = mgp.Input((4, 4, 3))
    branch = StochasticDepth(0.25)(LayerScale(0.5, 3)(mgp.layers.Conv2D(3, 1)(inputs)))
    outputs = CustomScaleLayer(0.2)([inputs, branch])
    model = mgp.Model(inputs, outputs)
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 3)).astype(np.float32)
    path = tmp_path / "blocks.keras"
    model.save(path)
    again = mgp.models.load_model(path)
    assert [type(layer).__name__ for layer in again.layers] == \
        [type(layer).__name__ for layer in model.layers]
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
