"""The `.weights.h5` layout: writing a model's variables, reading them back, and checking a file
against a model before anything is assigned.

Every group that holds variables has a `vars` subgroup with datasets `0`, `1`, ... (see
`layout.py` for which group each object gets). mgp adds root attributes Keras ignores:
`mgp_format_version`, `mgp_version`, `mgp_kind`, and `mgp_sha256`, a digest of the content that
makes any later change to the bytes (a flipped bit, a partial copy) a clear error.
"""
import hashlib
import warnings

import h5py
import numpy as np

from mgp.backend import to_numpy
from mgp.saving.layout import own_variables, saveables

FORMAT_VERSION = 1  # bump when a file this version writes cannot be read by older mgp


def _mgp_version():
    import mgp
    return mgp.__version__


# ---- writing ---------------------------------------------------------------------------------------
def write(f, model, include_optimizer=True, kind="weights", attrs=None):
    """Write `model`'s variables (and its optimizer's state) into the open h5py File `f`."""
    for path, obj in saveables(model, include_optimizer):
        group = f.create_group(f"{path}/vars" if path else "vars")
        if isinstance(getattr(obj, "name", None), str):
            group.attrs["name"] = obj.name
        for i, var in enumerate(own_variables(obj)):
            group.create_dataset(str(i), data=np.asarray(to_numpy(var.data)))
        for key, value in own_store(obj).items():
            group.create_dataset(key, data=np.asarray(value))
    f.attrs["mgp_format_version"] = FORMAT_VERSION
    f.attrs["mgp_version"] = _mgp_version()
    f.attrs["mgp_kind"] = kind
    for key, value in (attrs or {}).items():
        f.attrs[key] = value
    f.attrs["mgp_sha256"] = _digest(f)[0]


def _digest(f):
    """SHA-256 over every text attribute (path, key, value; but `mgp_sha256` itself) and every
    dataset (path, dtype, shape, bytes), root first, then in h5py's visit order (depth first,
    the members of a group by name). Also returns the datasets read, by path."""
    h = hashlib.sha256()
    arrays = {}

    def visit(name, obj):
        for key in sorted(obj.attrs):
            value = obj.attrs[key]
            if isinstance(value, str) and key != "mgp_sha256":
                h.update(f"{name}@{key}={value}|".encode())
        if isinstance(obj, h5py.Dataset):
            a = np.asarray(obj[()])
            h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
            h.update(a.tobytes())
            arrays[name] = a
    visit("", f)
    f.visititems(visit)
    return h.hexdigest(), arrays


def own_store(obj):
    """The named arrays a layer keeps beside its variables (Keras's `save_own_variables`: a
    lookup layer's idf weights under "idf_weights"); {} for most layers. (An optimizer's
    `save_own_variables` writes its numbered variables, which `write` has written already.)"""
    from mgp.layers.base import Layer
    save = getattr(obj, "save_own_variables", None)
    store = {}
    if isinstance(obj, Layer) and callable(save):
        save(store)
    return {key: value for key, value in store.items() if not str(key).isdigit()}


# ---- reading ---------------------------------------------------------------------------------------
class Contents:
    """What a weights file holds: its root attributes and, per group path ("" for the root),
    the `name` attribute of its `vars` group and its arrays in order; `stores` holds, per
    path, the arrays a group names instead of numbering (see `own_store`)."""

    def __init__(self, filename, attrs, groups, stores=None):
        self.filename, self.attrs, self.groups = filename, attrs, groups
        self.stores = stores or {}

    def arrays(self, path):
        return self.groups[path][1]

    def name(self, path):
        return self.groups[path][0]


def read(source, filename):
    """Read and verify a whole weights file (a path or a file object) into memory.

    Raises ValueError naming `filename` when it is not HDF5, is truncated or damaged, does not
    match its checksum, or was written by a newer mgp.
    """
    try:
        with h5py.File(source, "r") as f:
            attrs = {key: _plain(value) for key, value in f.attrs.items()}
            newer = _too_new(attrs)
            if not newer:  # a newer format may not follow the rules below
                digest, arrays = _digest(f)
                names = {}
                f.visititems(lambda name, obj: names.__setitem__(name, obj.attrs.get("name"))
                             if isinstance(obj, h5py.Group) and name.split("/")[-1] == "vars"
                             else None)
    except Exception as e:  # h5py reports damage as OSError, KeyError, RuntimeError, ...
        raise ValueError(f"cannot read '{filename}': it is not an HDF5 file, or it is truncated "
                         f"or damaged ({type(e).__name__}: {e})") from e
    if newer:
        check_version(attrs, filename)
    expected = attrs.get("mgp_sha256")
    if expected is not None and expected != digest:
        raise ValueError(f"'{filename}' is corrupted: its content does not match the SHA-256 "
                         f"it was saved with")
    groups, stores = {}, {}
    for vars_path, name in names.items():
        path = vars_path[:-len("vars")].rstrip("/")
        keys = sorted((k.rsplit("/", 1)[1] for k in arrays
                       if k.rsplit("/", 1)[0] == vars_path), key=_index_key)
        numbered = [k for k in keys if k.isdigit()]
        if numbered != [str(i) for i in range(len(numbered))]:
            raise ValueError(f"'{filename}' is not a weights file in the Keras layout: group "
                             f"'{vars_path}' holds datasets {keys}, expected 0, 1, 2, ...")
        groups[path] = (_plain(name), [arrays[f"{vars_path}/{k}"] for k in numbered])
        named = {k: arrays[f"{vars_path}/{k}"] for k in keys if not k.isdigit()}
        if named:
            stores[path] = named
    return Contents(filename, attrs, groups, stores)


def _index_key(key):
    return (0, int(key)) if key.isdigit() else (1, key)


def _plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def _too_new(attrs):
    version = attrs.get("mgp_format_version", FORMAT_VERSION)
    return not isinstance(version, int) or version > FORMAT_VERSION


def check_version(attrs, filename):
    """Raise when a file (its root attributes or metadata) comes from a newer mgp format."""
    version = attrs.get("mgp_format_version", FORMAT_VERSION)
    if _too_new(attrs):
        raise ValueError(f"'{filename}' was written by a newer mgp (file format version "
                         f"{version}, mgp {attrs.get('mgp_version', '?')}); this mgp "
                         f"({_mgp_version()}) reads format versions up to {FORMAT_VERSION}: "
                         f"upgrade mgp to load it")


# ---- matching a file against a model ---------------------------------------------------------------
def plan(model, contents, skip_mismatch=False, by_name=False, optimizer="auto"):
    """Match every variable of `model` with an array of `contents`, checking counts and shapes,
    without changing anything.

    Args:
        by_name: match layers by their names (the `name` attribute of each `vars` group) rather
            than by their place in the model; layers the file does not name are left as they are.
        skip_mismatch: warn about layers that do not match and leave them as they are, rather
            than raise.
        optimizer: "auto" restores the optimizer's state when the model has an optimizer and the
            file has its state (a mismatch only warns, as Keras does); "require" makes a
            mismatch an error; "skip" leaves the optimizer alone.
    Returns:
        `(pairs, optimizer_arrays)`: the (variable, array) pairs to assign, and the optimizer's
        state arrays or None.
    Raises:
        ValueError listing every mismatch (file, layer name, group, expected and found shapes).
    """
    filename = contents.filename
    items = saveables(model, include_optimizer=False)
    by_file_name = {}
    if by_name:
        for path, (name, _) in contents.groups.items():
            if not path.startswith("optimizer"):
                by_file_name.setdefault(name, path)
    pairs, problems, used = [], [], set()
    for path, obj in items:
        variables = own_variables(obj)
        where = by_file_name.get(obj.name) if by_name else path
        if where is None or where not in contents.groups:
            if variables and not by_name:
                problems.append(f"layer '{obj.name}' ({_label(path)}) has {len(variables)} "
                                f"weights {_shapes(variables)}, but the file has no group "
                                f"'{_label(path)}'")
            continue
        used.add(where)
        arrays = contents.arrays(where)
        found = f"{where}/vars" if where else "vars"
        if len(arrays) != len(variables):
            problems.append(f"layer '{obj.name}' ({_label(path)}) expects {len(variables)} "
                            f"weights {_shapes(variables)}, the file's group '{found}' has "
                            f"{len(arrays)} {_shapes(arrays)}")
            continue
        bad = [f"layer '{obj.name}' ({_label(path)}): weight '{v.name}' expects shape "
               f"{tuple(v.shape)}, the file has shape {tuple(a.shape)} ('{found}/{i}')"
               for i, (v, a) in enumerate(zip(variables, arrays)) if tuple(a.shape) != v.shape]
        if bad:
            problems.extend(bad)
            continue
        pairs.extend(zip(variables, arrays))
    if not by_name:
        extra = [p for p, (_, arrays) in contents.groups.items()
                 if arrays and p not in used and p.split("/")[0] != "optimizer"]
        problems.extend(f"the file has {len(contents.arrays(p))} weights in group '{p}' (layer "
                        f"'{contents.name(p)}') that model '{model.name}' has no place for"
                        for p in extra)
    elif not used and items:
        problems.append(f"no layer of model '{model.name}' has a name found in the file; "
                        f"the file names {sorted(n for n in by_file_name if n)}")
    if problems:
        message = (f"'{filename}' does not match model '{model.name}':\n  "
                   + "\n  ".join(problems))
        if not skip_mismatch:
            raise ValueError(message + "\n(nothing was loaded; load_weights(..., "
                                       "skip_mismatch=True) loads the layers that match)")
        warnings.warn(message + "\n(these were skipped; the rest was loaded)", stacklevel=4)
    return pairs, _plan_optimizer(model, contents, optimizer, by_name)


def _plan_optimizer(model, contents, mode, by_name):
    opt = getattr(model, "optimizer", None)
    if mode == "skip" or by_name or opt is None or "optimizer" not in contents.groups:
        if mode == "require" and opt is not None and "optimizer" not in contents.groups:
            raise ValueError(f"'{contents.filename}' has no optimizer state")
        return None
    arrays = contents.arrays("optimizer")
    if not opt.built:  # the state of an optimizer that has not stepped yet: build it now
        opt.build(model.trainable_weights)
    expected = opt.variables
    problem = None
    if len(arrays) != len(expected):
        problem = (f"optimizer '{opt.name}' has {len(expected)} state variables "
                   f"{_shapes(expected)}, the file has {len(arrays)} {_shapes(arrays)}")
    else:
        bad = [f"'{v.name}' expects shape {tuple(v.shape)}, the file has {tuple(a.shape)}"
               for v, a in zip(expected, arrays) if tuple(a.shape) != v.shape]
        if bad:
            problem = f"optimizer '{opt.name}': " + "; ".join(bad)
    if problem is None:
        return arrays
    if mode == "require":
        raise ValueError(f"'{contents.filename}' does not match model '{model.name}': "
                         f"{problem}")
    warnings.warn(f"'{contents.filename}': the optimizer's state was not loaded: {problem}",
                  stacklevel=5)
    return None


def assign(model, pairs, optimizer_arrays=None):
    """Assign what `plan` checked (nothing here can fail on shapes any more)."""
    for var, value in pairs:
        var.assign(value)
    if optimizer_arrays is not None:
        model.optimizer.set_weights(optimizer_arrays)


def _label(path):
    return path or "the model's own variables"


def _shapes(arrays):
    return "[" + ", ".join(str(tuple(a.shape)) for a in arrays) + "]"
