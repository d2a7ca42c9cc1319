"""Whole models: architecture, compile settings, weights and optimizer state in one file.

- `.h5`: one HDF5 file. The weights and optimizer state in the `.weights.h5` layout, and the
  root attributes `model_config` (JSON: class name and `get_config()`), `compile_config` (JSON:
  optimizer, loss, metrics, loss_weights) and `build_config` (JSON: the input shapes a
  subclassed model was built for), beside the format attributes of every mgp file.
- `.keras`: Keras 3's zip layout: `config.json` (the same configs), `metadata.json` (versions,
  date) and `model.weights.h5` (the weights layout).
"""
import datetime
import io
import json
import os
import zipfile

import h5py
import numpy as np

from mgp.saving import h5format
from mgp.saving.atomic import atomic_path


# ---- configs ---------------------------------------------------------------------------------------
def model_config(model):
    """`{"class_name", "config"}` for `model`, as Keras serializes it (functional models are
    "Functional")."""
    from mgp.saving.layout import group_name
    class_name = "Functional" if group_name(model) == "functional" else type(model).__name__
    return {"module": "mgp", "class_name": class_name, "config": model.get_config()}


def build_config(model):
    shapes = getattr(model, "_build_shapes", None)
    if not shapes:
        return None
    return {"input_shape": [[None] + [int(d) for d in s[1:]] for s in shapes]}


def compile_config(model):
    """The arguments of `model.compile`, as JSON-ready values."""
    given = getattr(model, "_compile_config", None)
    if not getattr(model, "compiled", False) or given is None:
        return None
    return {"optimizer": _serialize(model.optimizer, "optimizer"),
            "loss": _serialize(given.get("loss"), "loss"),
            "metrics": _serialize(given.get("metrics"), "metric"),
            "loss_weights": given.get("loss_weights")}


def _serialize(value, what):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_serialize(v, what) for v in value]
    if isinstance(value, dict):
        return {k: _serialize(v, what) for k, v in value.items()}
    if hasattr(value, "get_config"):
        config = value.get_config()
        try:
            json.dumps(config)
        except TypeError:
            raise ValueError(f"cannot save the {what} {value!r}: its config {config!r} is not "
                             f"JSON-serializable (a learning-rate schedule given as a Python "
                             f"function, for example); save the weights with save_weights "
                             f"instead") from None
        return {"class_name": type(value).__name__, "config": config}
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__  # a function: found again by name (or in custom_objects)
    raise ValueError(f"cannot save the {what} {value!r}: expected a name, an object with "
                     f"get_config(), or a function")


def _deserialize(value, module, custom_objects):
    if isinstance(value, list):
        return [_deserialize(v, module, custom_objects) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _deserialize(v, module, custom_objects) for k, v in value.items()}
    if isinstance(value, dict):
        name = value["class_name"]
        cls = custom_objects.get(name) or getattr(module, name, None)
        if cls is None:
            raise ValueError(f"unknown class {name!r}; pass it in custom_objects")
        return cls.from_config(value.get("config", {}))
    if isinstance(value, str) and value in custom_objects:
        return custom_objects[value]
    return value


# ---- saving ----------------------------------------------------------------------------------------
def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Save `model` whole: `.h5` as one HDF5 file, `.keras` as Keras 3's zip layout."""
    filepath = os.fspath(filepath)
    suffix = _suffix(filepath)
    if not getattr(model, "built", False):
        raise ValueError(f"model '{model.name}' is not built yet, so it has no weights to save: "
                         f"call it on data (or build it) first")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"'{filepath}' exists and overwrite=False")
    configs = {"model_config": model_config(model), "compile_config": compile_config(model),
               "build_config": build_config(model)}
    include_optimizer = include_optimizer and configs["compile_config"] is not None
    if suffix == ".keras":
        _save_keras_zip(model, filepath, configs, include_optimizer)
        return
    attrs = {key: json.dumps(value) for key, value in configs.items() if value is not None}
    with atomic_path(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            h5format.write(f, model, include_optimizer, kind="model", attrs=attrs)


def _save_keras_zip(model, filepath, configs, include_optimizer):
    config = dict(configs["model_config"])
    for key in ("compile_config", "build_config"):
        if configs[key] is not None:
            config[key] = configs[key]
    metadata = {"mgp_version": h5format._mgp_version(),
                "mgp_format_version": h5format.FORMAT_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        h5format.write(f, model, include_optimizer, kind="model")
    with atomic_path(filepath) as tmp:
        with zipfile.ZipFile(tmp, "w") as z:
            z.writestr("metadata.json", json.dumps(metadata))
            z.writestr("config.json", json.dumps(config))
            z.writestr("model.weights.h5", weights.getvalue())


def _suffix(filepath):
    name = os.path.basename(filepath).lower()
    if name.endswith(".weights.h5"):
        raise ValueError(f"'{filepath}' names a weights file: use model.save_weights() for "
                         f"'.weights.h5', or save the whole model as '.keras' or '.h5'")
    for suffix in (".keras", ".h5", ".hdf5"):
        if name.endswith(suffix):
            return suffix
    raise ValueError(f"cannot tell the format from '{filepath}': name the file '*.keras' "
                     f"(Keras 3's zip layout) or '*.h5' (one HDF5 file)")


# ---- loading ---------------------------------------------------------------------------------------
def load_model(filepath, custom_objects=None, compile=True):
    """Rebuild a model saved with `save_model`: architecture, weights, and (when `compile`) the
    compile settings and optimizer state."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"no model file at '{filepath}'")
    if filepath.lower().endswith(".keras") or zipfile.is_zipfile(filepath):
        configs, contents = _read_keras_zip(filepath)
    else:
        contents = h5format.read(filepath, filepath)
        configs = {}
        for key in ("model_config", "compile_config", "build_config"):
            text = contents.attrs.get(key)
            try:
                configs[key] = json.loads(text) if text is not None else None
            except (TypeError, json.JSONDecodeError) as e:
                raise ValueError(f"'{filepath}': attribute {key} is not valid JSON: {e}") \
                    from None
        if configs["model_config"] is None:
            kind = "a weights file" if contents.groups else "not a model file"
            raise ValueError(f"'{filepath}' is {kind}: it has no model configuration (the "
                             f"root attribute 'model_config' that model.save() writes). Build "
                             f"the model in code and call model.load_weights('{filepath}')")
    custom_objects = dict(custom_objects or {})
    model = _rebuild(configs, custom_objects, filepath)
    compiled = compile and configs.get("compile_config") is not None
    if compiled:
        _compile(model, configs["compile_config"], custom_objects, filepath)
    has_state = compiled and "optimizer" in contents.groups
    pairs, opt_arrays = h5format.plan(model, contents,
                                      optimizer="require" if has_state else "skip")
    h5format.assign(model, pairs, opt_arrays)
    return model


def _read_keras_zip(filepath):
    try:
        with zipfile.ZipFile(filepath) as z:
            names = set(z.namelist())
            missing = {"config.json", "model.weights.h5"} - names
            if missing:
                raise ValueError(f"'{filepath}' is a zip file but not a saved model: it lacks "
                                 f"{sorted(missing)}")
            metadata = json.loads(z.read("metadata.json")) if "metadata.json" in names else {}
            config = json.loads(z.read("config.json"))
            weights = z.read("model.weights.h5")
    except (zipfile.BadZipFile, json.JSONDecodeError, OSError, EOFError) as e:
        raise ValueError(f"cannot read '{filepath}': the zip archive is damaged "
                         f"({type(e).__name__}: {e})") from e
    h5format.check_version(metadata, filepath)
    if "mgp_version" not in metadata:
        raise ValueError(f"'{filepath}' was written by Keras {metadata.get('keras_version', '')}"
                         f", whose layer configs mgp does not read; build the model in mgp and "
                         f"call model.load_weights('{filepath}') to load its weights")
    contents = h5format.read(io.BytesIO(weights), f"{filepath}/model.weights.h5")
    configs = {"model_config": {k: config[k] for k in ("class_name", "config") if k in config},
               "compile_config": config.get("compile_config"),
               "build_config": config.get("build_config")}
    return configs, contents


def _rebuild(configs, custom_objects, filepath):
    from mgp.models.serialization import deserialize_layer
    try:
        model = deserialize_layer(configs["model_config"], custom_objects)
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"'{filepath}': could not rebuild the model from its config: {e}") \
            from e
    build = configs.get("build_config")
    if not model.built and build:  # a subclassed model: build it by calling it once
        from mgp.tensor import no_grad
        shapes = build["input_shape"]
        inputs = [np.zeros([1] + [d or 1 for d in s[1:]], np.float32) for s in shapes]
        with no_grad():
            model(inputs[0] if len(inputs) == 1 else inputs, training=False)
    if not model.built:
        raise ValueError(f"'{filepath}': the rebuilt model '{model.name}' is not built (its "
                         f"config has no input shape)")
    return model


def _compile(model, config, custom_objects, filepath):
    from mgp import losses, metrics, optimizers
    try:
        model.compile(optimizer=_deserialize(config["optimizer"], optimizers, custom_objects),
                      loss=_deserialize(config.get("loss"), losses, custom_objects),
                      metrics=_deserialize(config.get("metrics"), metrics, custom_objects),
                      loss_weights=config.get("loss_weights"))
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"'{filepath}': could not restore the compile settings ({e}); pass "
                         f"custom losses or metrics in custom_objects=, or load with "
                         f"compile=False") from e
