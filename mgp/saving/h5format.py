"""The `.weights.h5` layout: writing a model's variables, reading them back, and checking a file
against a model before anything is assigned.

Every group that holds variables has a `vars` subgroup with datasets `0`, `1`, ... (see
`layout.py` for which group each object gets). mgp adds root attributes Keras ignores:
`mgp_format_version`, `mgp_version`, `mgp_kind`, and `mgp_sha256`, a digest of the data and
text attributes (what older mgp checks). The files are written behind a user block sealed with
a SHA-256 of every byte, checked before the HDF5 library parses anything (`h5check`).

Reading is in two steps: `read` checks the file and its structure and lists the datasets
(`Stored`) without reading them; `plan` matches them with a model's variables by shape and
dtype, then reads and checks only those, so `assign` cannot fail half way.
"""
import copy
import hashlib
import warnings

import h5py
import numpy as np

from mgp.backend import to_numpy, xp
from mgp.errors import FileFormatError, LayoutMismatchError
from mgp.saving import h5check
from mgp.saving.layout import own_variables, saveables

FORMAT_VERSION = 1  # bump when a file this version writes cannot be read by older mgp


def _mgp_version():
    import mgp
    return mgp.__version__


# ---- writing ---------------------------------------------------------------------------------------
def write_file(target, model, include_optimizer=True, kind="weights", attrs=None):
    """Write a whole HDF5 file to `target` (a path or a BytesIO): the layout (`write`), in
    HDF5's checksummed 1.8 format, behind a user block sealed with the SHA-256 of the rest
    (see `h5check`)."""
    with h5py.File(target, "w", userblock_size=h5check.USERBLOCK, libver=h5check.LIBVER) as f:
        write(f, model, include_optimizer, kind, attrs)
    h5check.seal(target)


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
    f.attrs["mgp_sha256"] = _digest(f)


def _digest(f, filename=None):
    """SHA-256 over every text attribute (path, key, value; but `mgp_sha256` itself) and every
    dataset (path, dtype, shape, bytes), root first, then in h5py's visit order (depth first,
    the members of a group by name). Each dataset is hashed and dropped, one at a time."""
    h = hashlib.sha256()

    def visit(name, obj):
        for key in sorted(obj.attrs):
            value = obj.attrs[key]
            if isinstance(value, str) and key != "mgp_sha256":
                h.update(f"{name}@{key}={value}|".encode())
        if isinstance(obj, h5py.Dataset):
            a = np.asarray(obj[()])
            h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
            h.update(a.tobytes())
    try:
        visit("", f)
        f.visititems(visit)
    except Exception as e:
        if filename is None:
            raise
        raise FileFormatError(f"'{filename}' is damaged: reading it for its SHA-256 failed "
                              f"({type(e).__name__}: {e})") from None
    return h.hexdigest()


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
# the root attributes mgp reads (no other attribute of a file is ever read), and their kinds
ROOT_ATTRS = {"mgp_format_version": "text|int", "mgp_version": "text", "mgp_kind": "text",
              "mgp_sha256": "text", "model_config": "text", "compile_config": "text",
              "build_config": "text", "backup_epoch": "int", "backup_rng_state": "text",
              "backup_layer_rng_states": "text"}


class Stored:
    """One checked dataset: its shape and dtype are known, its values read only when asked
    (`read()`), so nothing is read that the model has no place for."""

    def __init__(self, dataset, path, filename):
        self.dataset, self.path, self.filename = dataset, path, filename
        self.shape, self.dtype = tuple(dataset.shape), dataset.dtype

    def read(self):
        return h5check.read_array(self.dataset, self.path, self.filename)

    def __array__(self, dtype=None, copy=None):
        a = self.read()
        return a if dtype is None else a.astype(dtype)


class _Unread:
    """A `vars` group's name attribute, not read yet."""

    def __init__(self, group, path):
        self.group, self.path = group, path


class Contents:
    """What a weights file holds: its root attributes and, per group path ("" for the root),
    the `name` attribute of its `vars` group and its datasets (`Stored`) in order; `stores`
    holds, per path, the datasets a group names instead of numbering (see `own_store`).
    The file stays open until `close()` (or the end of a `with` block)."""

    def __init__(self, filename, attrs, groups, stores=None, file=None, handle=None):
        self.filename, self.attrs, self.groups = filename, attrs, groups
        self.stores = stores or {}
        self._file, self._handle = file, handle

    def arrays(self, path):
        return self.groups[path][1]

    def name(self, path):
        """The `name` attribute of the group's `vars`, read when first asked for (a file
        without mgp's seal may be damaged anywhere: what is never read cannot hurt)."""
        name, arrays = self.groups[path]
        if isinstance(name, _Unread):
            name = h5check.read_attr(name.group, "name", "text", name.path, self.filename)
            self.groups[path] = (name, arrays)
        return name

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read(source, filename):
    """Open and check a weights file (a path or a file object) without reading its arrays.

    In order: the user block's SHA-256 of the whole file (when it has one), the structure
    (`h5check.walk`: no links, no data outside the file, plain numbers, declared sizes stored),
    the root attributes mgp reads, the format version, the layout (`vars` groups holding
    datasets 0, 1, ...) and, for an older mgp file without the user block, the SHA-256 stored
    inside it. Raises FileFormatError (UnsafeFileError for what points elsewhere) naming
    `filename`.
    """
    # a path is opened once: the bytes checked are the bytes the HDF5 library parses, even if
    # the file is replaced meanwhile
    handle = open(source, "rb") if not hasattr(source, "read") else None  # noqa: SIM115
    stream = source if handle is None else handle
    f = None
    try:
        sealed = h5check.verify_digest(stream, filename)
        if not h5check.is_hdf5(stream):
            raise FileFormatError(f"cannot read '{filename}': it is not an HDF5 file (no HDF5 "
                                  f"signature), or it is truncated")
        try:
            f = h5py.File(stream, "r")
        except Exception as e:  # noqa: BLE001  h5py reports damage as OSError, KeyError, ...
            raise FileFormatError(f"cannot read '{filename}': it is not an HDF5 file, or it "
                                  f"is truncated or damaged ({type(e).__name__}: {e})") from None
        return _contents(f, filename, sealed, handle)
    except BaseException:
        if f is not None:
            f.close()
        if handle is not None:
            handle.close()
        raise


def _contents(f, filename, sealed, handle=None):
    try:
        groups, datasets = h5check.walk(f, filename)
    except FileFormatError:
        raise
    except Exception as e:  # noqa: BLE001  (as above)
        raise FileFormatError(f"cannot read '{filename}': its structure is damaged "
                              f"({type(e).__name__}: {e})") from None
    attrs = {}
    for key, kinds in ROOT_ATTRS.items():
        value = h5check.read_attr(f, key, kinds, "", filename)
        if value is not None:
            attrs[key] = value
    if _too_new(attrs):  # a newer format may not follow the rules below
        check_version(attrs, filename)
    if not sealed and "mgp_sha256" in attrs and attrs["mgp_sha256"] != _digest(f, filename):
        raise FileFormatError(f"'{filename}' is corrupted: its content does not match the "
                              f"SHA-256 it was saved with")
    layout, stores, by_group = {}, {}, {}
    for p, ds in datasets.items():
        parent, _, key = p.rpartition("/")
        by_group.setdefault(parent, {})[key] = ds
    for vars_path in sorted(p for p in groups if p.split("/")[-1] == "vars"):
        path = vars_path[:-len("vars")].rstrip("/")
        members = by_group.get(vars_path, {})
        keys = sorted(members, key=_index_key)
        numbered = [k for k in keys if k.isdigit()]
        if numbered != [str(i) for i in range(len(numbered))]:
            raise FileFormatError(f"'{filename}' is not a weights file in the Keras layout: "
                                  f"group '{vars_path}' holds datasets {keys}, expected 0, 1, "
                                  f"2, ...")
        layout[path] = (_Unread(groups[vars_path], vars_path),
                        [Stored(members[k], f"{vars_path}/{k}", filename) for k in numbered])
        named = {k: Stored(members[k], f"{vars_path}/{k}", filename)
                 for k in keys if not k.isdigit()}
        if named:
            stores[path] = named
    return Contents(filename, attrs, layout, stores, file=f, handle=handle)


def declared_bytes(contents):
    """The bytes the datasets of the layout declare (checked against what the file stores)."""
    total = 0
    for _, arrays in contents.groups.values():
        for a in arrays:
            n = a.dtype.itemsize
            for d in a.shape:
                n *= d
            total += n
    return total


def _index_key(key):
    return (0, int(key)) if key.isdigit() else (1, key)


def _too_new(attrs):
    version = attrs.get("mgp_format_version", FORMAT_VERSION)
    return not isinstance(version, int) or version > FORMAT_VERSION


def check_version(attrs, filename):
    """Raise when a file (its root attributes or metadata) comes from a newer mgp format."""
    version = attrs.get("mgp_format_version", FORMAT_VERSION)
    if _too_new(attrs):
        raise FileFormatError(f"'{filename}' was written by a newer mgp (file format version "
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
        state arrays or None, every array read and checked (`_value`).
    Raises:
        LayoutMismatchError listing every mismatch (file, layer name, group, expected and found
        shapes and dtypes); FileFormatError for a value that cannot be assigned.
    """
    filename = contents.filename
    items = saveables(model, include_optimizer=False)
    by_file_name = {}
    if by_name:
        for path in contents.groups:
            if not path.startswith("optimizer"):
                by_file_name.setdefault(contents.name(path), path)
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
        bad += [f"layer '{obj.name}' ({_label(path)}): weight '{v.name}' is {v.dtype}, the "
                f"file's '{found}/{i}' holds {a.dtype}, which cannot be assigned to it"
                for i, (v, a) in enumerate(zip(variables, arrays))
                if not _kinds_fit(v.dtype, a.dtype)]
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
            raise LayoutMismatchError(message + "\n(nothing was loaded; load_weights(..., "
                                                "skip_mismatch=True) loads the layers that "
                                                "match)")
        warnings.warn(message + "\n(these were skipped; the rest was loaded)", stacklevel=4)
    optimizer_plan = _plan_optimizer(model, contents, optimizer, by_name)
    # every value is read and checked before the first assignment
    values = [(var, _value(var, stored)) for var, stored in pairs]
    if optimizer_plan is not None:
        variables, arrays = optimizer_plan
        optimizer_plan = [_value(var, stored, optimizer=True)
                          for var, stored in zip(variables, arrays)]
    return values, optimizer_plan


def _plan_optimizer(model, contents, mode, by_name):
    opt = getattr(model, "optimizer", None)
    if mode == "skip" or by_name or opt is None or "optimizer" not in contents.groups:
        if mode == "require" and opt is not None and "optimizer" not in contents.groups:
            raise LayoutMismatchError(f"'{contents.filename}' has no optimizer state")
        return None
    arrays = contents.arrays("optimizer")
    expected = opt.variables
    if not opt.built and len(arrays) != len(expected):
        # the state of an optimizer that has stepped, for one that has not: compare it with
        # a copy built for the model (the optimizer itself is built only once all is checked)
        shadow = copy.deepcopy(opt)
        shadow.build(model.trainable_weights)
        expected = shadow.variables
    problem = None
    if len(arrays) != len(expected):
        problem = (f"optimizer '{opt.name}' has {len(expected)} state variables "
                   f"{_shapes(expected)}, the file has {len(arrays)} {_shapes(arrays)}")
    else:
        bad = [f"'{v.name}' expects shape {tuple(v.shape)}, the file has {tuple(a.shape)}"
               for v, a in zip(expected, arrays) if tuple(a.shape) != v.shape]
        bad += [f"'{v.name}' is {v.dtype}, the file holds {a.dtype}"
                for v, a in zip(expected, arrays) if not _kinds_fit(v.dtype, a.dtype)]
        if bad:
            problem = f"optimizer '{opt.name}': " + "; ".join(bad)
    if problem is None:
        return expected, arrays
    if mode == "require":
        raise LayoutMismatchError(f"'{contents.filename}' does not match model '{model.name}': "
                         f"{problem}")
    warnings.warn(f"'{contents.filename}': the optimizer's state was not loaded: {problem}",
                  stacklevel=5)
    return None


def _kinds_fit(var_dtype, file_dtype):
    """Whether values of `file_dtype` may go into a variable of `var_dtype` (a float variable
    takes floats and integers; an integer or bool variable takes integers and bools)."""
    want, have = np.dtype(var_dtype).kind, file_dtype.kind
    return have in ("fiu" if want == "f" else "iub")


def _value(var, stored, optimizer=False):
    """The array read for `var`, checked to keep its meaning in the variable's dtype: floats
    that stay finite, integers in range, bools 0 or 1; an optimizer's step counter a count and
    its learning rate a finite number >= 0."""
    a = stored.read()
    dtype = np.dtype(var.dtype)
    where = f"'{stored.filename}': dataset '{stored.path}' (for '{var.name}')"
    if dtype.kind == "f" and a.dtype.kind == "f" and a.dtype.itemsize > dtype.itemsize:
        with np.errstate(over="ignore"):
            if np.any(np.isfinite(a) & ~np.isfinite(a.astype(dtype))):
                raise FileFormatError(f"{where} holds values beyond the range of {dtype}")
    elif dtype.kind in "iu" and a.size and a.dtype.kind in "iu":
        info = np.iinfo(dtype)
        if a.min() < info.min or a.max() > info.max:
            raise FileFormatError(f"{where} holds integers outside the range of {dtype} "
                                  f"[{info.min}, {info.max}]")
    elif dtype.kind == "b" and a.dtype.kind != "b" and not np.isin(a, (0, 1)).all():
        raise FileFormatError(f"{where} holds values other than 0 and 1 for a bool variable")
    role = var.name.rsplit("/", 1)[-1] if optimizer else None
    if role == "iteration" and a.size and a.min() < 0:
        raise FileFormatError(f"{where}: the step counter is negative ({a.min()})")
    if role == "learning_rate" and a.dtype.kind == "f" and \
            not np.all(np.isfinite(a) & (a >= 0)):
        raise FileFormatError(f"{where}: the learning rate is {a}, not a finite number >= 0")
    return a


def assign(model, pairs, optimizer_arrays=None):
    """Assign what `plan` checked and read (nothing here can fail any more)."""
    for var, value in pairs:
        var.assign(value)
    if optimizer_arrays is not None:
        opt = model.optimizer
        if not opt.built and len(optimizer_arrays) != len(opt.variables):
            opt.build(model.trainable_weights)
        for var, value in zip(opt.variables, optimizer_arrays):
            module = np if isinstance(var.data, np.ndarray) else xp  # each stays where it is
            var.data = module.array(value, dtype=var.dtype)


def _label(path):
    return path or "the model's own variables"


def _shapes(arrays):
    return "[" + ", ".join(str(tuple(a.shape)) for a in arrays) + "]"
