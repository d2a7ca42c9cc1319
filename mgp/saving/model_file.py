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
import contextlib
import datetime
import io
import json
import os
import struct
import tempfile
import zipfile
import zlib

import numpy as np

from mgp.errors import FileFormatError, UnsafeFileError
from mgp.saving import h5check, h5format
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
        h5format.write_file(tmp, model, include_optimizer, kind="model", attrs=attrs)


def _save_keras_zip(model, filepath, configs, include_optimizer):
    config = dict(configs["model_config"])
    for key in ("compile_config", "build_config"):
        if configs[key] is not None:
            config[key] = configs[key]
    metadata = {"keras_version": KERAS_VERSION, "mgp_version": h5format._mgp_version(),
                "mgp_format_version": h5format.FORMAT_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = io.BytesIO()
    h5format.write_file(weights, model, include_optimizer, kind="model")
    assets = _saved_assets(model)
    with atomic_path(filepath) as tmp:
        with zipfile.ZipFile(tmp, "w") as z:
            z.writestr("metadata.json", json.dumps(metadata))
            z.writestr("config.json", json.dumps(config))
            # deflated (Keras stores it as it is): the weights' HDF5 signature then never
            # shows through, and the file is smaller
            z.writestr("model.weights.h5", weights.getvalue(), zipfile.ZIP_DEFLATED)
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
            load({key: stored.read() for key, stored in contents.stores[path].items()})


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
_MAX_JSON = 64 << 20  # bytes: config.json and metadata.json
_MAX_RATIO = 1100     # deflate never expands data more than about 1032 times


def file_kind(filepath):
    """"zip" or "hdf5": what `filepath` is by its bytes. A file that is both (a zip archive
    whose bytes also hold an HDF5 superblock where the library looks, other than inside one of
    its stored members: Keras stores `model.weights.h5` as it is) is refused, rather than read
    one way here and another way elsewhere."""
    is_zip, offset = zipfile.is_zipfile(filepath), h5check.hdf5_offset(filepath)
    is_hdf5 = offset is not None
    if is_zip and is_hdf5 and _inside_a_member(filepath, offset):
        is_hdf5 = False
    if is_zip and is_hdf5:
        raise UnsafeFileError(f"'{filepath}' is both a zip archive and an HDF5 file; mgp "
                              f"refuses to guess which one it is meant to be")
    if is_zip:
        return "zip"
    if is_hdf5:
        return "hdf5"
    raise FileFormatError(f"cannot read '{filepath}': it is not an HDF5 file, nor a .keras zip "
                          f"archive (or it is truncated or damaged)")


def _inside_a_member(filepath, offset):
    """Whether byte `offset` of the zip archive lies in the data of a member stored as it is."""
    with open_zip(filepath) as z, open(filepath, "rb") as f:
        for info in z.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                continue
            f.seek(info.header_offset + 26)
            name_length, extra_length = struct.unpack("<HH", f.read(4))
            start = info.header_offset + 30 + name_length + extra_length
            if start <= offset < start + info.compress_size:
                return True
    return False


def open_zip(filepath):
    """`zipfile.ZipFile(filepath)`, a damaged directory reported as FileFormatError."""
    try:
        return zipfile.ZipFile(filepath)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise FileFormatError(f"cannot read '{filepath}': the zip archive is damaged "
                              f"({type(e).__name__}: {e})") from None


def load_model(filepath, custom_objects=None, compile=True):
    """Rebuild a model saved with `save_model`: architecture, weights, and (when `compile`) the
    compile settings and optimizer state."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"no model file at '{filepath}'")
    custom_objects = dict(custom_objects or {})
    if file_kind(filepath) == "zip":
        with open_zip(filepath) as z:
            return _load_keras_zip(z, filepath, custom_objects, compile)
    with h5format.read(filepath, filepath) as contents:
        configs = {}
        for key in ("model_config", "compile_config", "build_config"):
            text = contents.attrs.get(key)
            try:
                configs[key] = json.loads(text) if text is not None else None
            except (TypeError, ValueError, RecursionError) as e:
                raise FileFormatError(f"'{filepath}': attribute {key} is not valid JSON: "
                                      f"{_why(e)}") from None
        if configs["model_config"] is None:
            kind = "a weights file" if contents.groups else "not a model file"
            raise FileFormatError(f"'{filepath}' is {kind}: it has no model configuration "
                                  f"(the root attribute 'model_config' that model.save() "
                                  f"writes). Build the model in code and call "
                                  f"model.load_weights('{filepath}')")
        for key in ("model_config", "compile_config", "build_config"):
            if configs[key] is not None and not isinstance(configs[key], dict):
                raise FileFormatError(f"'{filepath}': attribute {key} holds "
                                      f"{type(configs[key]).__name__}, not a config")
        model = _rebuild(configs, custom_objects, filepath,
                         budget=h5format.declared_bytes(contents))
        return _finish(model, configs, contents, {}, filepath, custom_objects, compile)


def _finish(model, configs, contents, assets, filepath, custom_objects, compile):
    """Compile the rebuilt `model`, then check and load its weights and assets."""
    compiled = compile and configs.get("compile_config") is not None
    if compiled:
        _compile(model, configs["compile_config"], custom_objects, filepath)
    pairs, opt_arrays = h5format.plan(
        model, contents, optimizer="require" if compiled and "optimizer" in contents.groups
        else "skip")
    h5format.assign(model, pairs, opt_arrays)
    _load_stores(model, contents)
    _load_assets(model, assets, filepath)
    return model


def _why(e):
    if isinstance(e, RecursionError):
        return "it is nested too deeply"
    return str(e)


def _entry(z, name, filepath, limit):
    """The bytes of zip entry `name`, its declared size checked against `limit` and against what
    its compressed bytes can hold before anything is decompressed."""
    info = z.getinfo(name)
    if info.file_size > limit:
        raise UnsafeFileError(f"'{filepath}': '{name}' declares {info.file_size} bytes, more "
                              f"than the {limit} mgp reads for it")
    plausible = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
        _MAX_RATIO * info.compress_size + (1 << 16)
    if info.file_size > plausible:
        raise UnsafeFileError(f"'{filepath}': '{name}' declares {info.file_size} bytes, far "
                              f"more than its {info.compress_size} compressed bytes can hold")
    try:
        return z.read(name)
    except MemoryError:
        raise UnsafeFileError(f"'{filepath}': '{name}' ({info.file_size} bytes) does not fit "
                              f"in memory") from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
            RuntimeError) as e:
        raise FileFormatError(f"cannot read '{filepath}': the zip archive is damaged "
                              f"({type(e).__name__}: {e})") from None


def _json_entry(z, name, filepath):
    try:
        return json.loads(_entry(z, name, filepath, _MAX_JSON))
    except (ValueError, RecursionError) as e:  # (JSONDecodeError and UnicodeDecodeError)
        raise FileFormatError(f"cannot read '{filepath}': {name} is not valid JSON "
                              f"({_why(e)})") from None


def _load_keras_zip(z, filepath, custom_objects, compile):
    names = set(z.namelist())
    missing = {"config.json", "model.weights.h5"} - names
    if missing:
        raise FileFormatError(f"'{filepath}' is a zip file but not a saved model: it lacks "
                              f"{sorted(missing)}")
    metadata = _json_entry(z, "metadata.json", filepath) if "metadata.json" in names else {}
    if not isinstance(metadata, dict):
        raise FileFormatError(f"'{filepath}': metadata.json holds "
                              f"{type(metadata).__name__}, not a dict")
    h5format.check_version(metadata, filepath)
    config = _json_entry(z, "config.json", filepath)
    if not isinstance(config, dict):
        raise FileFormatError(f"'{filepath}': config.json holds {type(config).__name__}, not "
                              f"a model config")
    compile_config = config.get("compile_config") or None  # Keras writes {} when not compiled
    configs = {"model_config": {k: v for k, v in config.items()
                                if k not in ("compile_config", "build_config")},
               "compile_config": compile_config, "build_config": config.get("build_config")}
    for key in ("compile_config", "build_config"):
        if configs[key] is not None and not isinstance(configs[key], dict):
            raise FileFormatError(f"'{filepath}': config.json's {key} holds "
                                  f"{type(configs[key]).__name__}, not a config")
    declared = z.getinfo("model.weights.h5").file_size
    model = _rebuild(configs, custom_objects, filepath, budget=declared)
    # the weights file holds every variable of the model (and the optimizer's, some more): it
    # may not be much larger, whatever it declares
    expected = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in model.weights)
    limit = 3 * expected + (16 << 20) + 8192 * len(model.weights)
    weights = _entry(z, "model.weights.h5", filepath, limit)
    assets = {}
    for n in sorted(names):
        if n.startswith("assets/") and not n.endswith("/"):
            assets[n] = _entry(z, n, filepath, 1 << 31)
    with h5format.read(io.BytesIO(weights), f"{filepath}/model.weights.h5") as contents:
        return _finish(model, configs, contents, assets, filepath, custom_objects, compile)


def _rebuild(configs, custom_objects, filepath, budget=None):
    """The model from its config; any class the config names that mgp (or custom_objects)
    does not have is an error naming the class and the file. `budget`: the bytes of weights
    the file holds; a config asking for much more is refused before it is allocated."""
    from mgp.models.serialization import deserialize_layer
    config = dict(configs["model_config"])
    if configs.get("build_config"):
        config["build_config"] = configs["build_config"]
    from mgp.layers.base import weight_budget
    try:
        with weight_budget(2 * (budget or 0) + (16 << 20), filepath) if budget is not None \
                else contextlib.nullcontext():
            model = deserialize_layer(config, custom_objects)
    except UnsafeFileError:
        raise
    except MemoryError:
        raise UnsafeFileError(f"'{filepath}': the model its config describes does not fit in "
                              f"memory") from None
    except RecursionError:
        raise FileFormatError(f"'{filepath}': the model config is nested too deeply") from None
    except Exception as e:
        raise FileFormatError(f"'{filepath}': could not rebuild the model from its config: "
                              f"{_message(e)}") from e
    if not getattr(model, "built", False):
        raise FileFormatError(f"'{filepath}': the rebuilt model '{model.name}' is not built (its "
                         f"config has no input shape)")
    return model


def _compile(model, config, custom_objects, filepath):
    try:
        model.compile_from_config(config, custom_objects)
    except RecursionError:
        raise FileFormatError(f"'{filepath}': the compile config is nested too deeply") \
            from None
    except Exception as e:
        raise FileFormatError(f"'{filepath}': could not restore the compile settings "
                              f"({_message(e)}); pass custom losses or metrics in "
                              f"custom_objects=, or load with compile=False") from e


def _message(e):
    """An exception as text: its message, with its type where the type says something (a
    KeyError's message is only the key)."""
    if isinstance(e, ValueError):
        return str(e)
    return f"{type(e).__name__}: {e}"
