"""What an HDF5 file must be before mgp reads anything from it.

Two layers of checks, both before a single attribute or array is read:

1. **The whole file is intact.** mgp writes its HDF5 files with a 512-byte user block (bytes the
   HDF5 library skips; Keras and h5py read such files as any other) that holds a SHA-256 of
   every byte after it. `verify_digest` recomputes it in plain Python before the HDF5 library
   parses anything, so a flipped bit anywhere (metadata, attributes, data) is an error, never a
   crash or a hang inside the library's parsers. The files are also written in HDF5's 1.8
   format (`LIBVER`), whose metadata blocks carry checksums of their own, which covers files
   copied without their user block. Files without the block (Keras's, older mgp's) skip this
   step.
2. **Nothing points elsewhere, nothing is larger than it says.** `walk` goes through every
   link by hand: soft, external and user-defined links are refused, as is an object reachable
   by two paths (a hard-link cycle would make any walk endless); every dataset must keep its
   bytes in this file (contiguous, chunked or compact storage; no external storage, no virtual
   dataset), use only HDF5's built-in filters (no plugin is ever loaded), hold plain numbers
   (no strings, compounds, references, complex numbers) and store as many bytes as its shape
   declares (or, compressed, a plausible share of them), so that reading a dataset can neither
   reach another file nor allocate memory the file cannot justify.
"""
import hashlib
import io
import os

import h5py
import numpy as np
from h5py import h5d, h5z

from mgp.errors import FileFormatError, UnsafeFileError

LIBVER = ("v108", "v110")  # checksummed metadata; readable by HDF5 1.10 and later (any Keras 3)
USERBLOCK = 512
_MAGIC = b"mgp-sha256:"
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_FILTERS = {h5z.FILTER_DEFLATE: "gzip", h5z.FILTER_SHUFFLE: "shuffle",
            h5z.FILTER_FLETCHER32: "fletcher32"}
_MAX_RATIO = 1100  # deflate never compresses more than about 1032 to 1
_LAYOUTS = {h5d.CONTIGUOUS: "contiguous", h5d.CHUNKED: "chunked", h5d.COMPACT: "compact"}


# ---- the user block's digest -----------------------------------------------------------------------
def seal(target):
    """Write the SHA-256 of everything after the user block into the user block of `target`
    (a path, or a BytesIO holding the file), once the HDF5 file is closed."""
    if isinstance(target, io.BytesIO):
        data = target.getbuffer()
        digest = hashlib.sha256(data[USERBLOCK:]).hexdigest()
        data[:USERBLOCK] = _block(digest)
        del data
        return
    with open(target, "r+b") as f:
        h = hashlib.sha256()
        f.seek(USERBLOCK)
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
        f.seek(0)
        f.write(_block(h.hexdigest()))


def _block(digest):
    return (_MAGIC + digest.encode() + b"\n").ljust(USERBLOCK, b"\0")


def verify_digest(source, filename):
    """Check the user block's SHA-256 when the file has one; returns whether it had one.

    Raises FileFormatError naming `filename` when the bytes do not match it.
    """
    f = source if hasattr(source, "read") else open(source, "rb")  # noqa: SIM115
    try:
        f.seek(0)
        head = f.read(USERBLOCK)
        if not head.startswith(_MAGIC):
            return False  # Keras's files, older mgp's
        expected = head[len(_MAGIC):len(_MAGIC) + 64]
        if head != _block(expected.decode("ascii", "replace")):  # the rest is zeros
            raise FileFormatError(f"'{filename}' is corrupted: its user block (the first "
                                  f"{USERBLOCK} bytes, holding its SHA-256) is damaged")
        h = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
        if h.hexdigest().encode() != expected:
            raise FileFormatError(f"'{filename}' is corrupted: its content does not match "
                                  f"the SHA-256 it was saved with (a damaged or partial copy)")
        return True
    finally:
        f.seek(0)
        if f is not source:
            f.close()


def is_hdf5(source):
    """Whether `source` (a path or a file object) has an HDF5 superblock signature where the
    library looks for one (offset 0, 512, 1024, 2048, ...)."""
    return hdf5_offset(source) is not None


def hdf5_offset(source):
    """The offset of the first HDF5 superblock signature where the library looks for one, or
    None."""
    f = source if hasattr(source, "read") else open(source, "rb")  # noqa: SIM115
    try:
        size = f.seek(0, os.SEEK_END)
        offset = 0
        while offset + 8 <= size:
            f.seek(offset)
            if f.read(8) == _HDF5_SIGNATURE:
                return offset
            offset = 512 if offset == 0 else offset * 2
        return None
    finally:
        f.seek(0)
        if f is not source:
            f.close()


# ---- the structure -----------------------------------------------------------------------------------
def walk(f, filename):
    """Every group and dataset of the open file `f` by path ("" for the root), checked as the
    module docstring says; returns `(groups, datasets)`, two dicts path -> h5py object."""
    groups, datasets, seen = {"": f}, {}, {_key(f)}
    stack = [("", f)]
    while stack:
        path, group = stack.pop()
        for name in group:
            full = f"{path}/{name}" if path else name
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.SoftLink):
                raise UnsafeFileError(f"'{filename}': '{full}' is a soft link (to "
                                      f"'{link.path}'); mgp reads only objects stored in place")
            if isinstance(link, h5py.ExternalLink):
                raise UnsafeFileError(f"'{filename}': '{full}' is an external link to "
                                      f"'{link.filename}:{link.path}'; mgp never reads another "
                                      f"file")
            if not isinstance(link, h5py.HardLink):
                raise UnsafeFileError(f"'{filename}': '{full}' is a user-defined link; mgp "
                                      f"reads only objects stored in place")
            obj = group[name]
            key = _key(obj)
            if key in seen:
                raise UnsafeFileError(f"'{filename}': '{full}' is a second path to an object "
                                      f"already in the file (a hard link); Keras's layout "
                                      f"stores each object once")
            seen.add(key)
            if isinstance(obj, h5py.Group):
                groups[full] = obj
                stack.append((full, obj))
            elif isinstance(obj, h5py.Dataset):
                check_dataset(obj, full, filename)
                datasets[full] = obj
            else:
                raise FileFormatError(f"'{filename}': '{full}' is a {type(obj).__name__}, not "
                                      f"a group or dataset")
    return groups, datasets


def _key(obj):
    info = h5py.h5o.get_info(obj.id)
    return (info.fileno, getattr(info, "token", None) or getattr(info, "addr", None))


def check_dataset(ds, path, filename):
    """Refuse a dataset whose bytes live elsewhere, need a plugin, are not plain numbers, or are
    fewer than its shape declares."""
    where = f"'{filename}': dataset '{path}'"
    dcpl = ds.id.get_create_plist()
    layout = dcpl.get_layout()
    if layout == h5d.VIRTUAL:
        raise UnsafeFileError(f"{where} is a virtual dataset (its values come from other "
                              f"datasets or files); mgp reads only data stored in the file")
    if layout not in _LAYOUTS:
        raise UnsafeFileError(f"{where} has a storage layout ({layout}) mgp does not read")
    if dcpl.get_external_count():
        name = dcpl.get_external(0)[0].decode("utf-8", "replace")
        raise UnsafeFileError(f"{where} keeps its bytes in an external file ('{name}'); mgp "
                              f"reads only data stored in the file itself")
    filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
    unknown = [code for code in filters if code not in _FILTERS]
    if unknown:
        raise UnsafeFileError(f"{where} needs HDF5 filter(s) {unknown}; mgp reads only data "
                              f"compressed with {sorted(_FILTERS.values())} (and loads no "
                              f"filter plugin)")
    dtype = ds.dtype
    if dtype.kind not in "biuf" or dtype.names is not None or dtype.subdtype is not None \
            or dtype.itemsize > 8:
        raise FileFormatError(f"{where} holds {_describe(dtype)}, not numbers (bool, integer "
                              f"or float)")
    if ds.shape is None:
        raise FileFormatError(f"{where} has no dataspace (an empty dataset)")
    nbytes = int(np.prod(ds.shape, dtype=np.float64)) * dtype.itemsize
    stored = ds.id.get_storage_size()
    compressed = h5z.FILTER_DEFLATE in filters
    if layout == h5d.COMPACT or nbytes == 0:
        return
    if (not compressed and stored < nbytes) or \
            (compressed and nbytes > _MAX_RATIO * stored + (1 << 20)):
        raise UnsafeFileError(f"{where} declares shape {ds.shape} ({nbytes} bytes of "
                              f"{dtype}) but the file stores only {stored} bytes of it")


def _describe(dtype):
    if dtype.names is not None:
        return f"a compound type ({', '.join(dtype.names)})"
    if dtype.kind in "SUa":
        return "strings"
    if dtype.kind == "O":
        return "objects (variable-length data or references)"
    if dtype.kind == "c":
        return f"complex numbers ({dtype})"
    return f"values of dtype {dtype}"


def read_array(ds, path, filename):
    """A checked dataset's values, any library error turned into FileFormatError."""
    try:
        return np.asarray(ds[()])
    except MemoryError:
        raise UnsafeFileError(f"'{filename}': dataset '{path}' ({ds.shape} {ds.dtype}) does not "
                              f"fit in memory") from None
    except Exception as e:  # noqa: BLE001  h5py reports damage as OSError, KeyError, ...
        raise FileFormatError(f"'{filename}': dataset '{path}' cannot be read: the file is "
                              f"damaged ({type(e).__name__}: {e})") from None


def read_attr(obj, key, kinds, path, filename):
    """Attribute `key` of `obj` (None when absent) as a Python str or int; `kinds` is "text",
    "int" or "text|int"."""
    try:
        if key not in obj.attrs:
            return None
        value = obj.attrs[key]
    except Exception as e:  # noqa: BLE001  (as above)
        raise FileFormatError(f"'{filename}': attribute '{key}' of '{path or '/'}' cannot be "
                              f"read: the file is damaged ({type(e).__name__}: {e})") from None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, str) and "text" in kinds:
        return value
    if isinstance(value, int) and "int" in kinds:
        return value
    want = {"text": "text", "int": "an integer"}.get(kinds, "text or an integer")
    raise FileFormatError(f"'{filename}': attribute '{key}' of '{path or '/'}' should be "
                          f"{want}, got {type(value).__name__} {_short(value)}")


def _short(value):
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."
