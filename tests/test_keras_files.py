"""Keras 3's whole-model `.keras` files, both ways.

The fixtures (tests/fixtures/make_keras_fixtures.py) were written by Keras 3.15 itself: mgp's
`load_model` rebuilds each (every layer, optimizer, loss and metric mgp has) and predicts what
Keras predicted; the optimizers continue from Keras's state to Keras's next weights. Then mgp
builds the same models, saves them, and Keras loads mgp's files and predicts what mgp does.
Files naming code or classes mgp does not have are refused, naming what and where.
"""
import json
import os
import sys
import zipfile

import numpy as np
import pytest

import oracles

import mgp
from mgp.models import load_model

keras = oracles.keras()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")

sys.path.insert(0, FIXTURES)
try:
    import make_keras_fixtures as fx  # noqa: E402
finally:
    sys.path.remove(FIXTURES)

# the zoo's Lambda calls `double`, registered under the same name in both frameworks
mgp.saving.register_keras_serializable(package="fixtures")(fx.double)
keras.saving.register_keras_serializable(package="fixtures")(fx.double)


def path(name):
    return os.path.join(FIXTURES, name)


def data(name):
    return np.load(path(f"{name}.npz"), allow_pickle=False)


# ---- Keras's files in mgp ------------------------------------------------------------------------
def test_zoo_of_every_layer_loads_and_predicts_as_keras():
    model = load_model(path("zoo.keras"))
    d = data("zoo")
    probs, value = model.predict(d["x"], verbose=0)
    np.testing.assert_allclose(probs, d["probs"], atol=1e-5)
    np.testing.assert_allclose(value, d["value"], atol=1e-5)
    names = {type(layer).__name__ for layer in model.layers}
    assert names >= {"Conv2D", "BatchNormalization", "ReLU", "MaxPooling2D", "AveragePooling2D",
                     "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
                     "Concatenate", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten",
                     "Dropout", "Dense", "LeakyReLU", "PReLU", "ELU", "Reshape", "Activation",
                     "ActivityRegularization", "Lambda", "Softmax", "InputLayer"}
    dense = model.get_layer("dense")
    assert type(dense.kernel_constraint).__name__ == "MaxNorm"
    assert dense.bias_regularizer.get_config() == {"l1": 0.01, "l2": 0.02}
    assert type(model.optimizer).__name__ == "Adam" and model.optimizer.iterations == 2
    # compiled as Keras compiled it: dict losses with weights, metrics per output
    y = {"probs": d["y_probs"], "value": d["y_value"]}
    logs = model.evaluate(d["x"], y, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "probs_loss", "value_loss", "probs_accuracy", "probs_cat",
                         "value_mae", "value_mean_squared_error"}


def test_zoo_built_in_mgp_has_keras_weights_layout_and_predictions():
    """The same architecture built in both frameworks, with the same weights, agrees: the
    layers, their order, the weights and the outputs."""
    ours, theirs = fx.zoo(mgp), fx.zoo(keras)
    fx.fill(ours)
    fx.fill(theirs)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    x = data("zoo")["x"]
    for a, b in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(a, np.asarray(b), atol=1e-5)


def test_window_layers_of_every_rank_load_and_predict_as_keras(tmp_path):
    """Convolutions, pools, padding, cropping, upsampling of 1, 2 and 3 axes, the reshaping and
    noise layers, Dot and Identity: Keras's file in mgp, mgp's build as Keras's, mgp's file in
    Keras. (The last Dense and Dot sum hundreds of products: float32 rounding, relative.)"""
    model = load_model(path("zoo_windows.keras"))
    d = data("zoo_windows")
    x = [d["x0"], d["x1"], d["x2"]]
    np.testing.assert_allclose(model.predict(x, verbose=0), d["y"], rtol=1e-5, atol=1e-5)
    assert model.optimizer.iterations == 0  # compiled, never trained: no state to restore
    ours = fx.zoo_windows(mgp)
    fx.fill(ours)
    np.testing.assert_allclose(ours.predict(x, verbose=0), d["y"], rtol=1e-5, atol=1e-5)
    ours.save(tmp_path / "windows.keras")
    theirs = keras.models.load_model(str(tmp_path / "windows.keras"))
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), d["y"], rtol=1e-5,
                               atol=1e-5)


def test_sequential_loads_and_predicts_as_keras():
    model = load_model(path("stack.keras"))
    d = data("stack")
    np.testing.assert_allclose(model.predict(d["x"], verbose=0), d["y"], atol=1e-5)
    assert model.optimizer.get_config()["nesterov"] is True
    assert model.metrics_names == ["loss", "compile_metrics"]


@pytest.mark.parametrize("name", sorted(fx.OPTIMIZERS))
def test_optimizer_state_loads_and_training_continues_as_keras(name):
    model = load_model(path(f"opt_{name}.keras"))
    d = data(f"opt_{name}")
    np.testing.assert_allclose(model.predict(d["x"], verbose=0), d["predictions"], atol=1e-6)
    state = [d[f"s{i}"] for i in range(len(model.optimizer.variables))]
    for ours, theirs in zip(model.optimizer.variables, state):
        np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-6)
    # a third step from Keras's state, as Keras takes it from the same file (Keras's own
    # model before saving would differ for AdamW here: Keras leaves Huber's delta out of the
    # loss config it saves, so the file's Huber is Huber(delta=1.0) in both frameworks)
    theirs = keras.models.load_model(path(f"opt_{name}.keras"))
    model.train_on_batch(d["x"], d["y"])
    theirs.train_on_batch(d["x"], d["y"])
    for a, b in zip(model.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def test_bytecode_and_unknown_classes_are_refused_naming_them_and_the_file():
    with pytest.raises(ValueError, match=r"lambda_bytecode\.keras.*Lambda layer 'doubling'.*"
                                         r"Python bytecode"):
        load_model(path("lambda_bytecode.keras"))
    with pytest.raises(ValueError, match=r"custom_class\.keras.*unknown layer class 'Scale'"):
        load_model(path("custom_class.keras"))

    class Scale(mgp.layers.Layer):
        def call(self, x):
            return x * 3.0
    model = load_model(path("custom_class.keras"), custom_objects={"Scale": Scale})
    assert isinstance(model.get_layer("scale"), Scale)


def _rewrite_config(source, target, edit):
    with zipfile.ZipFile(source) as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(target, "w") as z:
        for name, content in files.items():
            z.writestr(name, content)


@pytest.mark.parametrize("module, class_name", [("os", "system"), ("builtins", "eval"),
                                                 ("keras.src.saving", "load_model")])
def test_a_config_never_imports_or_calls_what_mgp_does_not_know(module, class_name, tmp_path,
                                                                 monkeypatch):
    import importlib
    imported = []
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda name, *a: imported.append(name) or real(name, *a))

    def as_layer(config):
        layer = config["config"]["layers"][1]
        layer["module"], layer["class_name"] = module, class_name

    def as_function(config):
        layer = config["config"]["layers"][1]
        layer["config"]["activation"] = {"module": module, "class_name": "function",
                                         "config": class_name, "registered_name": class_name}
    for edit, what in ((as_layer, "layer class"), (as_function, "activation")):
        target = tmp_path / f"{what.split()[0]}.keras"
        _rewrite_config(path("stack.keras"), target, edit)
        with pytest.raises(ValueError, match=f"{target.name}.*{class_name!r}"):
            load_model(target)
    assert imported == []


# ---- mgp's files in Keras ---------------------------------------------------------------------
def test_keras_loads_mgp_zoo_and_predicts_and_evaluates_as_mgp(tmp_path):
    model = fx.zoo(mgp)
    fx.fill(model)
    fx.compile_zoo(mgp, model)
    x, y = fx.zoo_data()
    model.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    model.save(tmp_path / "zoo.keras")
    theirs = keras.models.load_model(str(tmp_path / "zoo.keras"))
    for a, b in zip(model.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(a, np.asarray(b), atol=1e-5)
    assert int(theirs.optimizer.iterations.numpy()) == 2
    for a, b in zip(model.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_allclose(a.numpy(), np.asarray(b.numpy()), rtol=1e-6)
    ours_logs = model.evaluate(x, y, verbose=0, return_dict=True)
    theirs_logs = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert set(ours_logs) == set(theirs_logs)
    for key in ours_logs:
        np.testing.assert_allclose(ours_logs[key], theirs_logs[key], rtol=1e-5, err_msg=key)
    again = load_model(tmp_path / "zoo.keras")  # and back into mgp
    for a, b in zip(model.predict(x, verbose=0), again.predict(x, verbose=0)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["stack"] + sorted(fx.OPTIMIZERS))
def test_keras_loads_mgp_files_and_continues_training_as_mgp(name, tmp_path):
    if name == "stack":
        model = fx.stack(mgp)
        fx.compile_stack(mgp, model)
        x, y = fx.stack_data()
    else:
        model = fx.optimizer_model(mgp, name)
        x, y = fx.optimizer_data(name)
    fx.fill(model)
    for _ in range(2):
        model.train_on_batch(x, y)
    model.save(tmp_path / "m.keras")
    theirs = keras.models.load_model(str(tmp_path / "m.keras"))
    assert type(theirs.optimizer).__name__ == type(model.optimizer).__name__
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)),
                               model.predict(x, verbose=0), atol=1e-6)
    if name == "stack":
        return  # its Dropout draws other masks in each framework
    model.train_on_batch(x, y)
    theirs.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def test_mgp_config_json_is_keras_s(tmp_path):
    model = fx.stack(mgp)
    fx.compile_stack(mgp, model)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        ours = json.loads(z.read("config.json"))
    with zipfile.ZipFile(path("stack.keras")) as z:
        theirs = json.loads(z.read("config.json"))

    assert ours["module"] == theirs["module"] == "keras"
    assert ours["class_name"] == theirs["class_name"] == "Sequential"
    assert set(ours) == set(theirs)
    ours_layers = [(entry["class_name"], entry["module"], set(entry["config"]))
                   for entry in ours["config"]["layers"]]
    # every layer entry as Keras writes it (Keras adds entries for features mgp lacks)
    for (name, module, keys), entry in zip(ours_layers, theirs["config"]["layers"]):
        assert (name, module) == (entry["class_name"], entry["module"])
        assert keys <= set(entry["config"]), name
        assert set(entry["config"]) - keys <= {"quantization_config", "renorm",
                                               "renorm_clipping", "renorm_momentum"}, name
    assert set(ours["compile_config"]) == set(theirs["compile_config"])
    for key in ("optimizer", "loss"):
        assert ours["compile_config"][key]["class_name"] == \
            theirs["compile_config"][key]["class_name"]


# ---- every loss, metric and optimizer class in a compile config, both ways -----------------------
REQUIRED = {"IoU": dict(num_classes=3, target_class_ids=[0]), "MeanIoU": dict(num_classes=3),
            "OneHotIoU": dict(num_classes=3, target_class_ids=[1]),
            "OneHotMeanIoU": dict(num_classes=3), "PrecisionAtRecall": dict(recall=0.5),
            "RecallAtPrecision": dict(precision=0.5),
            "SensitivityAtSpecificity": dict(specificity=0.5),
            "SpecificityAtSensitivity": dict(sensitivity=0.5)}
SKIP = {"MeanMetricWrapper", "LossFunctionWrapper", "LossScaleOptimizer", "MultiOptimizer"}


def _classes(module, base):
    import inspect
    return sorted(n for n, o in vars(module).items() if inspect.isclass(o) and
                  issubclass(o, base) and o is not base and n not in SKIP)


@pytest.mark.parametrize("kind", ["losses", "metrics", "optimizers"])
def test_every_compile_object_s_config_crosses_both_ways(kind):
    from mgp.saving.model_file import deserialize_compile_config
    from mgp.saving.serialization_lib import serialize_keras_object
    base = {"losses": keras.losses.Loss, "metrics": keras.metrics.Metric,
            "optimizers": keras.optimizers.Optimizer}[kind]
    key = {"losses": "loss", "metrics": "metrics", "optimizers": "optimizer"}[kind]
    names = _classes(getattr(keras, kind), base)
    assert names  # every one of them mgp has too (the coverage page counts them)
    for name in names:
        theirs = getattr(getattr(keras, kind), name)(**REQUIRED.get(name, {}))
        config = json.loads(json.dumps(keras.saving.serialize_keras_object(theirs)))
        restored = deserialize_compile_config({key: [config] if kind == "metrics" else config})
        ours = restored[key][0] if kind == "metrics" else restored[key]
        assert type(ours).__name__ == name
        back = json.loads(json.dumps(serialize_keras_object(ours)))
        again = keras.saving.deserialize_keras_object(back)
        assert type(again).__name__ == name
        assert again.get_config() == theirs.get_config(), name
