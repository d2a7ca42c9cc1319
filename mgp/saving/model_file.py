"""Whole models: architecture, compile settings, weights and optimizer state in one file.

The configs are Keras 3's (see `mgp.saving.serialization_lib`): `model_config` is the model
serialized as Keras serializes it, `compile_config` the arguments of `compile` (optimizer,
loss, loss_weights, metrics, weighted_metrics, ...), `build_config` the input shape a
subclassed model was built for. So Keras 3 loads mgp's `.keras` files and mgp loads Keras's,
for every class both have; only classes mgp knows (or `custom_objects` names) are built.

- `.h5`: one HDF5 file. The weights and optimizer state in the `.weights.h5` layout, and the
  three configs as JSON root attributes, beside the format attributes of every mgp file.
- `.keras`: Keras 3's zip layout: `config.json` (the model config with `build_config` and
  `compile_config` inside, as Keras writes it), `metadata.json` (versions, date),
  `model.weights.h5` (the weights layout) and `assets/<path>/...`, the files of the objects
  that keep some (a lookup layer's `vocabulary.txt`, by Keras's `save_assets`), each under the
  path its weights have.
"""
import datetime
import io
import json
import os
import tempfile
import zipfile

import h5py

from mgp.saving import h5format
from mgp.saving.atomic import atomic_path

KERAS_VERSION = "3.15.1"  # the Keras whose file layout and configs these files follow


# ---- configs -------------------------------------------------------------------------------------
def model_config(model):
    """The model as Keras serializes it (`module`, `class_name`, `config`, `registered_name`;
    a functional model is "Functional"), without its build and compile configs."""
    from mgp.saving.serialization_lib import serialize_keras_object
    config = serialize_keras_object(model)
    config.pop("build_config", None)
    config.pop("compile_config", None)
    return config


def build_config(model):
    return model.get_build_config()


def compile_config(model):
    """The arguments of `model.compile`, as Keras's `compile_config` (None if not compiled)."""
    if not getattr(model, "compiled", False):
        return None
    return model.get_compile_config()


def _kind_objects(module):
    """The classes and functions of one of mgp's modules (losses, metrics, optimizers), by
    name: what a compile config may name."""
    return {name: obj for name, obj in vars(module).items()
            if not name.startswith("_") and (isinstance(obj, type) or callable(obj))}


def deserialize_compile_config(config, custom_objects=None):
    """`compile`'s arguments from a compile config: the optimizer, losses and metrics it
    names, resolved among mgp's own (and `custom_objects`) only."""
    from mgp import losses, metrics, optimizers
    from mgp.saving.serialization_lib import deserialize_keras_object
    custom_objects = custom_objects or {}

    def read(value, module, kind):
        if value is None or isinstance(value, (int, float, bool)):
            return value
        if isinstance(value, str):  # a name: compile() resolves it (or custom_objects has it)
            return custom_objects.get(value, value)
        if isinstance(value, list):
            return [read(v, module, kind) for v in value]
        if isinstance(value, dict) and "class_name" not in value:
            return {k: read(v, module, kind) for k, v in value.items()}
        return deserialize_keras_object(value, module_objects=_kind_objects(module),
                                        custom_objects=custom_objects, kind=kind)
    known = {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
             "steps_per_execution", "jit_compile", "auto_scale_loss"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"the compile config has entries {unknown} that compile() does not "
                         f"take")
    out = dict(config)
    out["optimizer"] = read(config.get("optimizer", "rmsprop"), optimizers, "optimizer")
    out["loss"] = read(config.get("loss"), losses, "loss")
    for key in ("metrics", "weighted_metrics"):
        out[key] = read(config.get(key), metrics, "metric")
    return out


# ---- saving --------------------------------------------------------------------------------------
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
    metadata = {"keras_version": KERAS_VERSION, "mgp_version": h5format._mgp_version(),
                "mgp_format_version": h5format.FORMAT_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        h5format.write(f, model, include_optimizer, kind="model")
    assets = _saved_assets(model)
    with atomic_path(filepath) as tmp:
        with zipfile.ZipFile(tmp, "w") as z:
            z.writestr("metadata.json", json.dumps(metadata))
            z.writestr("config.json", json.dumps(config))
            z.writestr("model.weights.h5", weights.getvalue())
            for name, data in assets:
                z.writestr(name, data)


def _asset_owners(model):
    """(path, object) of the model's objects that keep assets (`save_assets`/`load_assets`)."""
    from mgp.saving.layout import saveables
    return [(path, obj) for path, obj in saveables(model, include_optimizer=False)
            if callable(getattr(obj, "save_assets", None))]


def _saved_assets(model):
    """(zip entry name, bytes) of every asset file, as Keras lays them out."""
    out = []
    for path, obj in _asset_owners(model):
        with tempfile.TemporaryDirectory() as folder:
            obj.save_assets(folder)
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), "rb") as f:
                    out.append((f"assets/{path}/{name}" if path else f"assets/{name}", f.read()))
    return out


def _load_assets(model, assets, filepath):
    """Give each object that keeps assets the files of its folder (plain names only), from a
    temporary folder of its own."""
    for path, obj in _asset_owners(model):
        prefix = f"assets/{path}/" if path else "assets/"
        mine = {name[len(prefix):]: data for name, data in assets.items()
                if name.startswith(prefix) and "/" not in name[len(prefix):]}
        with tempfile.TemporaryDirectory() as folder:
            for name, data in mine.items():
                if name in ("", ".", "..") or "\\" in name:
                    raise ValueError(f"'{filepath}': bad asset name {prefix + name!r}")
                with open(os.path.join(folder, name), "wb") as f:
                    f.write(data)
            try:
                obj.load_assets(folder)
            except (ValueError, OSError) as e:
                raise ValueError(f"'{filepath}': layer '{obj.name}' could not load its assets "
                                 f"from '{prefix}': {e}") from e


def _load_stores(model, contents):
    """Hand each object's named arrays (`own_store`) back to its `load_own_variables`."""
    from mgp.layers.base import Layer
    from mgp.saving.layout import saveables
    for path, obj in saveables(model, include_optimizer=False):
        load = getattr(obj, "load_own_variables", None)
        if isinstance(obj, Layer) and callable(load) and path in contents.stores:
            load(dict(contents.stores[path]))


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


# ---- loading -------------------------------------------------------------------------------------
def load_model(filepath, custom_objects=None, compile=True):
    """Rebuild a model saved with `save_model`: architecture, weights, and (when `compile`) the
    compile settings and optimizer state."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"no model file at '{filepath}'")
    assets = {}
    if filepath.lower().endswith(".keras") or zipfile.is_zipfile(filepath):
        configs, contents, assets = _read_keras_zip(filepath)
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
    if has_state and not model.optimizer.built and \
            len(contents.arrays("optimizer")) == len(model.optimizer.variables):
        has_state = False  # it never stepped: only its counter (0) and rate, as the config has
    pairs, opt_arrays = h5format.plan(model, contents,
                                      optimizer="require" if has_state else "skip")
    h5format.assign(model, pairs, opt_arrays)
    _load_stores(model, contents)
    _load_assets(model, assets, filepath)
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
            assets = {n: z.read(n) for n in names if n.startswith("assets/") and
                      not n.endswith("/")}
    except (zipfile.BadZipFile, json.JSONDecodeError, OSError, EOFError) as e:
        raise ValueError(f"cannot read '{filepath}': the zip archive is damaged "
                         f"({type(e).__name__}: {e})") from e
    h5format.check_version(metadata, filepath)
    if not isinstance(config, dict):
        raise ValueError(f"'{filepath}': config.json holds {type(config).__name__}, not a model "
                         f"config")
    contents = h5format.read(io.BytesIO(weights), f"{filepath}/model.weights.h5")
    compile_config = config.get("compile_config") or None  # Keras writes {} when not compiled
    configs = {"model_config": {k: v for k, v in config.items()
                                if k not in ("compile_config", "build_config")},
               "compile_config": compile_config, "build_config": config.get("build_config")}
    return configs, contents, assets


def _rebuild(configs, custom_objects, filepath):
    """The model from its config; any class the config names that mgp (or custom_objects)
    does not have is an error naming the class and the file."""
    from mgp.models.serialization import deserialize_layer
    config = dict(configs["model_config"])
    if configs.get("build_config"):
        config["build_config"] = configs["build_config"]
    from mgp.saving.serialization_lib import custom_object_scope
    try:  # in scope: names inside configs (a Dense's activation) resolve through them too
        with custom_object_scope(custom_objects or {}):
            model = deserialize_layer(config, custom_objects)
    except (ValueError, TypeError, KeyError, NotImplementedError) as e:
        raise ValueError(f"'{filepath}': could not rebuild the model from its config: {e}") \
            from e
    if not getattr(model, "built", False):
        raise ValueError(f"'{filepath}': the rebuilt model '{model.name}' is not built (its "
                         f"config has no input shape)")
    return model


def _compile(model, config, custom_objects, filepath):
    try:
        model.compile_from_config(config, custom_objects)
    except (ValueError, TypeError, KeyError, NotImplementedError) as e:
        raise ValueError(f"'{filepath}': could not restore the compile settings ({e}); pass "
                         f"custom losses or metrics in custom_objects=, or load with "
                         f"compile=False") from e
