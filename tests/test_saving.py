"""Saving and loading: round trips of weights and whole models for the three kinds of model,
the layout's details, and every kind of bad file (each a clear error, the model unchanged)."""
import ast
import os
import pathlib

import h5py
import numpy as np
import pytest

import mgp
from mgp import layers, saving, utils
from mgp.models import Model, Sequential, load_model, register_serializable
from mgp.saving import h5check

X = np.random.default_rng(0).standard_normal((48, 6)).astype(np.float32)
Y = np.random.default_rng(1).integers(0, 3, 48)


def sequential():
    return Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"),
                       layers.BatchNormalization(), layers.Dropout(0.3),
                       layers.Dense(3, activation="softmax")])


def functional():
    inputs = layers.Input((6,))
    h = layers.Dense(8, activation="relu")(inputs)
    x = layers.Add()([h, layers.Dense(8)(inputs)])
    x = layers.Dropout(0.3)(layers.BatchNormalization()(x))
    return Model(inputs, layers.Dense(3, activation="softmax")(x))


@register_serializable
class Residual(Model):
    """A subclassed model, made loadable by name through the registry."""

    def __init__(self, units=8, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(units, activation="relu")
        self.skip = layers.Dense(units)
        self.norm = layers.BatchNormalization()
        self.drop = layers.Dropout(0.3)
        self.head = layers.Dense(3, activation="softmax")

    def call(self, x, training=False):
        x = self.norm(self.hidden(x) + self.skip(x), training=training)
        return self.head(self.drop(x, training=training))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Unregistered(Residual):
    """Only loadable with custom_objects."""


def subclassed():
    model = Residual(units=8)
    model(X[:1])
    return model


KINDS = {"sequential": sequential, "functional": functional, "subclassed": subclassed}


def trained(make, seed=0, epochs=1):
    utils.set_random_seed(seed)
    model = make()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(X, Y, epochs=epochs, batch_size=16, verbose=0)
    return model


def same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb))


def snapshot(model):
    state = [w.copy() for w in model.get_weights()]
    if model.optimizer is not None and model.optimizer.built:
        state += [np.array(v.numpy()) for v in model.optimizer.variables]
    return state


def unchanged(model, before):
    return all(np.array_equal(a, b) for a, b in zip(snapshot(model), before)) and \
        len(snapshot(model)) == len(before)


# ---- round trips ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_weights_round_trip_under_other_layer_names(kind, tmp_path):
    model = trained(KINDS[kind])
    model.save_weights(tmp_path / "m.weights.h5")
    utils.set_random_seed(99)
    other = KINDS[kind]()  # fresh weights, other (auto-numbered) layer names
    assert [l.name for l in other.layers] != [l.name for l in model.layers]
    other.load_weights(tmp_path / "m.weights.h5")
    assert same_weights(model, other)
    np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_whole_model_predicts_and_trains_on_exactly(kind, suffix, tmp_path):
    model = trained(KINDS[kind])
    model.save(tmp_path / f"m{suffix}")
    loaded = load_model(tmp_path / f"m{suffix}")
    assert type(loaded) is type(model) and loaded.compiled
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations == 3
    assert loaded.metrics_names == model.metrics_names
    for m in (model, loaded):  # one more epoch each, same shuffling and dropout
        utils.set_random_seed(7)
        m.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    assert same_weights(model, loaded)
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_load_model_without_compile_and_without_optimizer(tmp_path):
    model = trained(sequential)
    model.save(tmp_path / "m.h5", include_optimizer=False)
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert "optimizer" not in f
    loaded = load_model(tmp_path / "m.h5")
    assert loaded.compiled and not loaded.optimizer.built  # compiled afresh
    bare = load_model(tmp_path / "m.h5", compile=False)
    assert not bare.compiled
    np.testing.assert_array_equal(bare.predict(X, verbose=0), model.predict(X, verbose=0))


def test_subclassed_needs_registration_or_custom_objects(tmp_path):
    model = Unregistered(units=4)
    model(X[:1])
    model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"m\.h5.*unknown layer class 'Unregistered'.*"
                                         r"custom_objects"):
        load_model(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5", custom_objects={"Unregistered": Unregistered})
    assert loaded.units == 4
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_custom_loss_function_by_custom_objects(tmp_path):
    def my_mse(y_true, y_pred):
        return mgp.mean((y_pred - mgp.tensor(y_true)) ** 2)
    model = Sequential([layers.Input((6,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss=my_mse)
    model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="my_mse.*custom_objects"):
        load_model(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5", custom_objects={"my_mse": my_mse})
    assert loaded.loss is my_mse


# ---- the layout -----------------------------------------------------------------------------------
def test_layout_of_a_compiled_sequential(tmp_path):
    model = trained(sequential)
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "r") as f:
        assert sorted(f["layers"]) == ["batch_normalization", "dense", "dense_1", "dropout"]
        dense, bn = f["layers/dense/vars"], f["layers/batch_normalization/vars"]
        assert dense.attrs["name"] == model.layers[0].name
        assert [dense[k].shape for k in dense] == [(6, 8), (8,)]
        # gamma, beta (trainable) then moving mean and variance
        moving_variance = model.layers[1].non_trainable_weights[1].numpy()
        np.testing.assert_array_equal(bn["3"][()], moving_variance)
        assert len(f["layers/dropout/vars"]) == 0  # weightless: an empty group
        assert f["vars"].attrs["name"] == model.name and len(f["vars"]) == 0
        opt = f["optimizer/vars"]
        assert opt.attrs["name"] == model.optimizer.name and len(opt) == 2 + 2 * 6
        assert opt["0"][()] == 3 and opt["1"][()] == np.float32(0.001)
        assert f.attrs["mgp_format_version"] == saving.FORMAT_VERSION
        assert f.attrs["mgp_version"] == mgp.__version__ and f.attrs["mgp_kind"] == "weights"


def test_whole_model_h5_is_self_describing(tmp_path):
    import json
    model = trained(functional)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        config = json.loads(f.attrs["model_config"])
        compile_config = json.loads(f.attrs["compile_config"])
        assert f.attrs["mgp_kind"] == "model" and "layers/dense/vars" in f
    assert config["class_name"] == "Functional"
    assert compile_config["loss"] == "sparse_categorical_crossentropy"
    assert compile_config["optimizer"]["class_name"] == "Adam"
    assert compile_config["metrics"] == ["accuracy"]
    other = functional()  # a whole-model file is also a weights file
    other.load_weights(tmp_path / "m.h5")
    assert same_weights(model, other)


def test_keras_zip_layout(tmp_path):
    import json
    import zipfile
    model = trained(sequential)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(z.read("config.json"))
        metadata = json.loads(z.read("metadata.json"))
    assert config["class_name"] == "Sequential" and "compile_config" in config
    assert metadata["mgp_format_version"] == saving.FORMAT_VERSION


def test_by_name_and_skip_mismatch(tmp_path):
    a = Sequential([layers.Input((4,)), layers.Dense(3, name="shared"),
                    layers.Dense(2, name="only_a")])
    a.save_weights(tmp_path / "a.weights.h5")
    b = Sequential([layers.Input((4,)), layers.Dense(3, name="shared"),
                    layers.Dense(5, name="only_b"), layers.Dense(2, name="tail")])
    before = b.get_weights()
    b.load_weights(tmp_path / "a.weights.h5", by_name=True)
    np.testing.assert_array_equal(b.get_layer("shared").get_weights()[0],
                                  a.get_layer("shared").get_weights()[0])
    for w, old in zip(b.get_weights()[2:], before[2:]):  # layers not in the file: unchanged
        np.testing.assert_array_equal(w, old)
    c = Sequential([layers.Input((4,)), layers.Dense(3, name="shared"),
                    layers.Dense(7, name="only_a")])
    with pytest.raises(ValueError, match=r"'only_a'.*expects shape \(3, 7\), the file has "
                                         r"shape \(3, 2\)"):
        c.load_weights(tmp_path / "a.weights.h5", by_name=True)
    with pytest.warns(UserWarning, match="only_a"):
        c.load_weights(tmp_path / "a.weights.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(c.get_layer("shared").get_weights()[0],
                                  a.get_layer("shared").get_weights()[0])
    d = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(7)])  # by position
    with pytest.warns(UserWarning, match=r"\(3, 7\)"):
        d.load_weights(tmp_path / "a.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(d.layers[0].get_weights()[0], a.layers[0].get_weights()[0])


# ---- bad input: a clear error naming the file, and the model unchanged -----------------------------
@pytest.fixture
def saved(tmp_path):
    model = trained(sequential)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    fresh = trained(sequential, seed=5)
    return path, fresh, snapshot(fresh)


def test_not_hdf5(saved):
    path, model, before = saved
    path.write_text("these are not the weights you are looking for\n" * 100)
    with pytest.raises(ValueError, match=rf"cannot read '{path}': it is not an HDF5 file"):
        model.load_weights(path)
    assert unchanged(model, before)


def test_truncated(saved):
    path, model, before = saved
    data = path.read_bytes()
    for size in (0, 100, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:size])
        with pytest.raises(ValueError, match=rf"'{path}'"):
            model.load_weights(path)
        assert unchanged(model, before)


def test_corrupted_data_is_caught_by_the_checksum(saved):
    path, model, before = saved
    with h5py.File(path, "r") as f:
        offset = f["layers/dense/vars/0"].id.get_offset()
    with open(path, "r+b") as f:  # flip a few bits in the middle of a kernel
        f.seek(offset + 40)
        byte = f.read(1)
        f.seek(offset + 40)
        f.write(bytes([byte[0] ^ 0x10]))
    with pytest.raises(ValueError, match=rf"'{path}' is corrupted: its content does not match"):
        model.load_weights(path)
    assert unchanged(model, before)


def test_damage_anywhere_is_an_error_or_harmless(saved, tmp_path):
    """Bytes overwritten anywhere (superblock, object headers, B-trees, heaps, data, padding):
    loading either raises an error naming the file and leaves the model unchanged, or (when
    the damage hit unused bytes) loads exactly the saved weights."""
    path, model, before = saved
    data = bytearray(path.read_bytes())
    with saving.read_weights_file(path) as good:
        good = {key: [a.read() for a in arrays] for key, (_, arrays) in good.groups.items()}
    rng = np.random.default_rng(0)
    errors = 0
    for start in range(0, len(data), len(data) // 40):
        damaged = bytearray(data)
        damaged[start:start + 16] = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
        path.write_bytes(bytes(damaged))
        try:
            model.load_weights(path)
        except ValueError as e:
            assert str(path) in str(e)
            assert unchanged(model, before)
            errors += 1
            continue
        with saving.read_weights_file(path) as loaded:  # loaded: it must hold the saved values
            for key, arrays in good.items():
                assert all(np.array_equal(a, b.read())
                           for a, b in zip(arrays, loaded.groups[key][1]))
        before = snapshot(model)
    assert errors >= 10  # (the rest hit padding and unused space)


def test_shape_mismatch_names_layer_and_shapes(tmp_path):
    a = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)])
    a.save_weights(tmp_path / "a.weights.h5")
    b = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(5, name="wide")])
    before = b.get_weights()
    with pytest.raises(ValueError) as info:
        b.load_weights(tmp_path / "a.weights.h5")
    message = str(info.value)
    assert "a.weights.h5" in message and "layer 'wide'" in message
    assert "expects shape (3, 5), the file has shape (3, 2)" in message
    assert "layers/dense_1/vars/0" in message
    # the first layer matched, but nothing was assigned
    assert all(np.array_equal(w, o) for w, o in zip(b.get_weights(), before))


def test_layer_count_mismatch(tmp_path):
    a = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(3), layers.Dense(2)])
    a.save_weights(tmp_path / "a.weights.h5")
    b = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(3)])
    before = b.get_weights()
    with pytest.raises(ValueError, match=r"group 'layers/dense_2'.*has no place for"):
        b.load_weights(tmp_path / "a.weights.h5")
    c = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(3), layers.Dense(2),
                    layers.Dense(2)])
    with pytest.raises(ValueError, match=r"the file has no group 'layers/dense_3'"):
        c.load_weights(tmp_path / "a.weights.h5")
    assert all(np.array_equal(w, o) for w, o in zip(b.get_weights(), before))


def test_optimizer_state_mismatch_in_load_model(tmp_path):
    model = trained(sequential)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as f:  # an optimizer state with a slot missing
        del f["optimizer/vars/13"]
        del f.attrs["mgp_sha256"]
    h5check.seal(tmp_path / "m.h5")  # a valid file of its own, then
    with pytest.raises(ValueError, match=r"optimizer 'adam\w*' has 14 state variables.*file has 13"):
        load_model(tmp_path / "m.h5")


def test_newer_format_version(saved):
    path, model, before = saved
    with h5py.File(path, "a") as f:
        f.attrs["mgp_format_version"] = saving.FORMAT_VERSION + 1
    h5check.seal(path)  # as a newer mgp would write it
    with pytest.raises(ValueError, match=rf"'{path}' was written by a newer mgp \(file format "
                                         rf"version {saving.FORMAT_VERSION + 1}"):
        model.load_weights(path)
    assert unchanged(model, before)


def test_weights_file_given_to_load_model(saved):
    path, _, _ = saved
    with pytest.raises(ValueError, match=rf"'{path}' is a weights file.*load_weights"):
        load_model(path)


def test_missing_file_and_bad_names(tmp_path):
    model = sequential()
    with pytest.raises(FileNotFoundError, match="nope.weights.h5"):
        model.load_weights(tmp_path / "nope.weights.h5")
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        load_model(tmp_path / "nope.h5")
    with pytest.raises(ValueError, match=r"must end in '\.weights\.h5'"):
        model.save_weights(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"'\*\.keras'.*'\*\.h5'"):
        model.save(tmp_path / "m.pt")
    with pytest.raises(ValueError, match="save_weights"):
        model.save(tmp_path / "m.weights.h5")
    model.save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(FileExistsError):
        model.save_weights(tmp_path / "m.weights.h5", overwrite=False)


def test_damaged_keras_zip(tmp_path):
    model = trained(sequential)
    model.save(tmp_path / "m.keras")
    data = (tmp_path / "m.keras").read_bytes()
    (tmp_path / "m.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"m\.keras.*damaged"):
        load_model(tmp_path / "m.keras")


def test_unbuilt_model(tmp_path):
    model = Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="not built"):
        model.save_weights(tmp_path / "m.weights.h5")


# ---- atomic writes --------------------------------------------------------------------------------
def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    model = trained(sequential)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    old = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(saving.h5format, "_digest", broken)  # fails after data was written
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.weights.h5"]


def test_no_pickle_in_mgp():
    """No module of mgp uses pickle (or a relative of it), and every np.load forbids it."""
    banned = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve",
              "marshal"}
    root = pathlib.Path(mgp.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 20
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & banned, path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in banned, path
            elif isinstance(node, ast.Name):
                assert node.id not in banned, f"{path}:{node.lineno}"
            elif isinstance(node, ast.Call):
                keywords = {k.arg: k.value for k in node.keywords}
                if "allow_pickle" in keywords:
                    value = keywords["allow_pickle"]
                    assert isinstance(value, ast.Constant) and value.value is False, \
                        f"{path}:{node.lineno}"
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "load" and \
                        isinstance(func.value, ast.Name) and \
                        func.value.id in ("np", "numpy", "xp", "torch"):
                    assert func.value.id != "torch" and "allow_pickle" in keywords, \
                        f"{path}:{node.lineno}: np.load without allow_pickle=False"
