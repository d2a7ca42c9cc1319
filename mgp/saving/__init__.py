"""Saving and loading: Keras 3 compatible `.weights.h5` files and whole models (`.h5`, `.keras`).

Every file is written atomically (a temporary file in the same folder, fsynced, then renamed
over the target), so a crash leaves the old complete file or the new one. Loading checks the
whole file against the model before assigning anything, so a file that does not match (or is
damaged, or comes from a newer mgp) raises a clear error and leaves the model as it was. Only
HDF5, JSON and zip are involved: nothing a file holds is ever executed.

See docs/file_format.md for the layouts.
"""
import io
import os

import numpy as np

from mgp.errors import FileFormatError
from mgp.models.serialization import register_serializable
from mgp.saving.serialization_lib import (CustomObjectScope, custom_object_scope,
                                          deserialize_keras_object, get_custom_objects,
                                          get_registered_name, get_registered_object,
                                          register_keras_serializable, serialize_keras_object)
from mgp.saving import h5format, legacy_h5, model_file
from mgp.saving.atomic import atomic_open, atomic_path
from mgp.saving.h5format import FORMAT_VERSION
from mgp.saving.model_file import load_model, save_model

__all__ = ["save_weights", "load_weights", "save_model", "load_model", "register_serializable",
           "register_keras_serializable", "serialize_keras_object", "deserialize_keras_object",
           "get_registered_name", "get_registered_object", "CustomObjectScope",
           "custom_object_scope", "get_custom_objects", "atomic_path", "atomic_open",
           "FORMAT_VERSION"]


def save_weights(model, filepath, overwrite=True):
    """Write `model`'s weights, and its optimizer's state when compiled, to a `.weights.h5` file
    in Keras 3's layout (Keras 3 loads it with `model.load_weights`).

    Args:
        model: a built model (or layer).
        filepath: path ending in `.weights.h5`.
        overwrite: when False, an existing file is an error (Keras asks instead).
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"the filename must end in '.weights.h5', got '{filepath}'")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"'{filepath}' exists and overwrite=False")
    write_weights_file(model, filepath)


def write_weights_file(model, filepath, kind="weights", attrs=None):
    """Write the weights layout to any `filepath`, atomically (also used for backups)."""
    if not getattr(model, "built", False):
        raise ValueError(f"model '{model.name}' is not built yet, so it has no weights to save: "
                         f"call it on data (or build it) first")
    with atomic_path(filepath) as tmp:
        h5format.write_file(tmp, model, include_optimizer=True, kind=kind, attrs=attrs)


def load_weights(model, filepath, skip_mismatch=False, by_name=False):
    """Load weights written by mgp or Keras 3 (`.weights.h5`, a whole-model `.h5`, or the
    `model.weights.h5` inside a `.keras` file) into `model`, or Keras 2's legacy HDF5 weights
    (the `.h5` files `keras.applications` publishes; see `legacy_h5`).

    By default each layer's weights are found by the layer's place in the model (its class and
    position, as Keras does), so the same architecture under other layer names loads. The
    optimizer's state is restored too when the model is compiled and the file has it.

    Args:
        skip_mismatch: warn about layers whose weights do not match and leave them unchanged,
            rather than raise.
        by_name: find each layer's weights by the layer's name instead (layers the file does not
            name are left unchanged; the optimizer's state is not loaded).
    Raises:
        FileNotFoundError, or ValueError naming the file and every mismatch (layer, expected and
        found shapes); in both cases the model is unchanged.
    """
    if not os.fspath(filepath).endswith(".weights.h5") and os.path.exists(filepath) and \
            legacy_h5.is_legacy(filepath):
        contents = legacy_h5.read(filepath)
        _check_built(model)
        h5format.assign(model, legacy_h5.plan(model, contents, skip_mismatch=skip_mismatch,
                                              by_name=by_name))
        return
    _check_built(model)
    variables = list(model.weights)
    if getattr(model, "optimizer", None) is not None:
        variables += list(model.optimizer.variables)
    limit = 3 * sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables) \
        + (16 << 20)
    with read_weights_file(filepath, limit) as contents:
        pairs, opt_arrays = h5format.plan(model, contents, skip_mismatch=skip_mismatch,
                                          by_name=by_name)
        h5format.assign(model, pairs, opt_arrays)


def _check_built(model):
    if not getattr(model, "built", False):
        raise ValueError(f"model '{model.name}' is not built yet: call it on data (or build "
                         f"it) before loading weights into it")


def read_weights_file(filepath, limit=None):
    """Open and check a weights file (or a `.keras` file's weights) without reading its arrays
    (see `h5format.read`); use it in a `with` block, which closes it. `limit`: the most bytes
    a `.keras` file's weights may declare (they are decompressed into memory)."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"no weights file at '{filepath}'")
    if model_file.file_kind(filepath) == "zip":
        with model_file.open_zip(filepath) as z:
            if "model.weights.h5" not in z.namelist():
                raise FileFormatError(f"'{filepath}' is a zip archive without the "
                                      f"model.weights.h5 of a .keras file")
            size = z.getinfo("model.weights.h5").file_size
            data = model_file._entry(z, "model.weights.h5", filepath,
                                     size if limit is None else limit)
        return h5format.read(io.BytesIO(data), f"{filepath}/model.weights.h5")
    return h5format.read(filepath, filepath)
