"""Keras 2's HDF5 weights layout, read: the files `keras.applications` publishes, what Keras 2's
`model.save_weights("x.h5")` wrote, and the `model_weights` group of a Keras 2 `model.save`.

The layout: the root (or its `model_weights` group) names the model's layers in order in the
attribute `layer_names`; each layer has a group of that name whose attribute `weight_names`
names its weights in Keras 2's order (trainable first, then non-trainable), each the path of a
dataset below that group (`block1_conv1/kernel:0`). A long attribute is split into
`layer_names0`, `layer_names1`, ... Layers without weights are listed with an empty
`weight_names`.

Loading matches the layers that have weights with the file's layers that have weights, in
order (or by name with `by_name=True`), as Keras does. Only the datasets the attributes name are
read, and only through hard links inside the layer's group; every count and shape is checked
before anything is assigned, so a file that does not match leaves the model as it was.
"""
import warnings

import h5py
import numpy as np

from mgp.saving import h5check


def is_legacy(filepath):
    """True when `filepath` is an HDF5 file in Keras 2's layout (not Keras 3's `vars` one)."""
    try:
        with h5py.File(filepath, "r") as f:
            return "layer_names" in f.attrs or "layer_names0" in f.attrs or (
                "model_weights" in f and isinstance(f.get("model_weights", getlink=True),
                                                    h5py.HardLink))
    except Exception:  # not HDF5 at all: the ordinary reader says so
        return False


class LegacyContents:
    """What a legacy file holds: its layers as (name, [(weight name, array)]) in file order."""

    def __init__(self, filename, layers, top_level):
        self.filename, self.layers, self.top_level = filename, layers, top_level


def read(filepath):
    """Read the layer names, weight names and arrays of a legacy file into memory.

    Raises:
        ValueError naming the file (and the layer) when it is damaged, names a weight that is
        not a dataset of that layer's group, or is not in the legacy layout.
    """
    filepath = str(filepath)
    try:
        with h5py.File(filepath, "r") as f:
            root = f
            if "layer_names" not in f.attrs and "layer_names0" not in f.attrs:
                root = _child(f, "model_weights", filepath, "the file")
            layers = []
            for name in _names(root, "layer_names"):
                group = _child(root, name, filepath, "the file's root")
                weights = [(w, _dataset(group, w, filepath, name))
                           for w in _names(group, "weight_names")]
                layers.append((name, weights))
            top = []
            if "top_level_model_weights" in root:
                group = _child(root, "top_level_model_weights", filepath, "the file's root")
                top = [(w, _dataset(group, w, filepath, "top_level_model_weights"))
                       for w in _names(group, "weight_names")]
    except ValueError:
        raise
    except Exception as e:  # h5py reports damage as OSError, KeyError, RuntimeError, ...
        raise ValueError(f"cannot read '{filepath}': it is not an HDF5 file, or it is truncated "
                         f"or damaged ({type(e).__name__}: {e})") from e
    return LegacyContents(filepath, layers, top)


def _names(group, key):
    """The strings of attribute `key`, joined from `key0`, `key1`, ... when it was split."""
    if key in group.attrs:
        chunks = [group.attrs[key]]
    else:
        chunks, i = [], 0
        while f"{key}{i}" in group.attrs:
            chunks.append(group.attrs[f"{key}{i}"])
            i += 1
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n)
            for chunk in chunks for n in np.atleast_1d(chunk)]


def _child(group, name, filepath, where):
    """`group[name]` through hard links only: a soft or external link could lead out of the
    file, or to another file, and is refused."""
    node = group
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise ValueError(f"'{filepath}': {where} names '{name}', which is not a path below "
                             f"it")
        link = node.get(part, getlink=True)
        if link is None:
            raise ValueError(f"'{filepath}': {where} names '{name}', which the file does not "
                             f"have")
        if not isinstance(link, h5py.HardLink):
            raise ValueError(f"'{filepath}': '{name}' is a {type(link).__name__}; only "
                             f"datasets stored in the file itself are read")
        node = node[part]
    return node


def _dataset(group, name, filepath, layer):
    node = _child(group, name, filepath, f"layer '{layer}'")
    if not isinstance(node, h5py.Dataset):
        raise ValueError(f"'{filepath}': layer '{layer}' names the weight '{name}', which is a "
                         f"group, not a dataset")
    # the same checks as Keras 3's layout: no storage outside the file, numbers only, no more
    # declared than stored
    h5check.check_dataset(node, f"{layer}/{name}", filepath)
    return h5check.read_array(node, f"{layer}/{name}", filepath)


def legacy_weights(layer):
    """A layer's weights in Keras 2's order: trainable first, then non-trainable."""
    return layer.trainable_weights + layer.non_trainable_weights


def legacy_weights_own(model):
    """The model's own weights (not its layers'), trainable first."""
    own = model._own_weights
    return [w for w in own if w.trainable] + [w for w in own if not w.trainable]


def plan(model, contents, skip_mismatch=False, by_name=False):
    """Match the model's weights with the file's arrays, checking counts and shapes, without
    changing anything; returns the (variable, array) pairs to assign.

    Raises:
        ValueError naming the file and every layer that does not match (nothing is assigned).
    """
    filename = contents.filename
    ours = [layer for layer in model.layers if legacy_weights(layer)]
    theirs = [(name, weights) for name, weights in contents.layers if weights]
    if by_name:
        found = {}
        for name, weights in theirs:
            found.setdefault(name, weights)
        matched = [(layer, layer.name, found[layer.name]) for layer in ours
                   if layer.name in found]
    else:
        if len(ours) != len(theirs):
            raise ValueError(
                f"'{filename}' does not match model '{model.name}': the model has "
                f"{len(ours)} layers with weights, the file has {len(theirs)} "
                f"({', '.join(n for n, _ in theirs[:5])}{', ...' if len(theirs) > 5 else ''})"
                f"; nothing was loaded")
        matched = [(layer, name, weights) for layer, (name, weights) in zip(ours, theirs)]
    pairs, problems = [], []
    for k, (layer, name, weights) in enumerate(matched):
        variables = legacy_weights(layer)
        where = f"layer #{k} (named '{layer.name}' in the model, '{name}' in the file)"
        if len(weights) != len(variables):
            problems.append(f"{where} expects {len(variables)} weights "
                            f"{[tuple(v.shape) for v in variables]}, the file has "
                            f"{len(weights)} {[tuple(a.shape) for _, a in weights]}")
            continue
        bad = [f"{where}: weight '{v.name}' expects shape {tuple(v.shape)}, the file's "
               f"'{w}' has shape {tuple(a.shape)}"
               for v, (w, a) in zip(variables, weights) if tuple(a.shape) != tuple(v.shape)]
        if bad:
            problems.extend(bad)
            continue
        pairs.extend((v, a) for v, (_, a) in zip(variables, weights))
    own, top = legacy_weights_own(model), contents.top_level
    if top and (len(top) != len(own) or
                any(tuple(a.shape) != tuple(v.shape) for v, (_, a) in zip(own, top))):
        problems.append(f"the file has top-level weights {[tuple(a.shape) for _, a in top]}, "
                        f"model '{model.name}' has {[tuple(v.shape) for v in own]}")
    elif top:
        pairs.extend((v, a) for v, (_, a) in zip(own, top))
    if problems:
        message = f"'{filename}' does not match model '{model.name}':\n  " + \
            "\n  ".join(problems)
        if not skip_mismatch:
            raise ValueError(message + "\n(nothing was loaded; load_weights(..., "
                                       "skip_mismatch=True) loads the layers that match)")
        warnings.warn(message + "\n(these were skipped; the rest was loaded)", stacklevel=4)
    return pairs
