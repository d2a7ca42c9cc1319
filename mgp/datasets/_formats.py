"""Reading the two file formats the datasets come in, and checking what was read.

`.npz` archives are opened with `allow_pickle=False`; gzip-compressed IDX files (LeCun's format
for MNIST-like data) by a small parser that trusts nothing in the header it has not checked.
Every error names the file. No size a file declares is allocated before it is checked against
what the file's bytes can hold: deflate expands data at most about 1032 times, so a header
announcing more than that is a lie; an IDX file's data is read as it is decompressed, so a
truncated one costs no more memory than it holds; an `.npz` member's header must announce
exactly the bytes the member has.
"""
import gzip
import hashlib
import os
import struct
import zipfile
import zlib

import numpy as np

_MAX_RATIO = 1100  # deflate never expands data more than about 1032 times
MAX_ARRAY_BYTES = 1 << 30  # the largest array a dataset file may hold (MNIST's: 47 MB)

# IDX dtype codes (third byte of the magic number); multi-byte types are big-endian
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, sha256=None):
    """Read a gzip-compressed IDX file into an ndarray in native byte order.

    Checks the magic number (two zero bytes, a known dtype code, a rank of at least 1), that the
    data holds exactly as many bytes as the dimensions in the header announce, and, when `sha256`
    is given, the SHA-256 of the decompressed bytes (header included).

    Raises:
        ValueError: naming `path`, on a bad magic number, a truncated or over-long file, a
            corrupted gzip stream, or a hash mismatch.
    """
    try:
        with gzip.open(path, "rb") as f:
            arr, digest = _read_idx_stream(f, path, os.path.getsize(path))
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: not a valid gzip-compressed IDX file "
                         f"(truncated or corrupted: {e})") from e
    if sha256 is not None and digest != sha256:
        raise ValueError(f"{path}: decompressed data has sha256 {digest}, expected {sha256}; "
                         f"the file is corrupted or is not the original")
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def _read_idx_stream(f, path, compressed_size):
    h = hashlib.sha256()
    magic = f.read(4)
    if len(magic) < 4 or magic[:2] != b"\0\0" or magic[3] == 0:
        raise ValueError(f"{path}: bad IDX magic number 0x{magic.hex()} (expected 0x0000 then "
                         f"a dtype code and a rank, e.g. 0x00000803 for uint8 images)")
    if magic[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX dtype code 0x{magic[2]:02x} (known: "
                         f"{', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)})")
    ndim = magic[3]
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(f"{path}: IDX header is truncated (rank {ndim} needs {4 * ndim} bytes "
                         f"of dimensions, got {len(dims)})")
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = np.dtype(_IDX_DTYPES[magic[2]])
    nbytes = dtype.itemsize
    for d in shape:
        nbytes *= d  # (Python ints: no overflow)
    if nbytes > min(MAX_ARRAY_BYTES, _MAX_RATIO * compressed_size + 4096):
        raise ValueError(f"{path}: IDX header announces shape {shape} ({nbytes} bytes of "
                         f"data), more than its {compressed_size} compressed bytes can hold "
                         f"(or than the {MAX_ARRAY_BYTES} a dataset file may)")
    chunks, n = [], 0
    while n < nbytes:  # as decompressed: memory for the bytes there are, not those announced
        chunk = f.read(min(1 << 24, nbytes - n))
        if not chunk:
            break
        chunks.append(chunk)
        n += len(chunk)
    if n < nbytes:
        raise ValueError(f"{path}: IDX file is truncated: header announces shape {shape} "
                         f"({nbytes} bytes of data), found only {n} bytes")
    if f.read(1):
        raise ValueError(f"{path}: IDX file has data beyond the {nbytes} bytes its header "
                         f"(shape {shape}) announces")
    buf = bytearray().join(chunks)
    del chunks
    h.update(magic + dims)
    h.update(buf)
    return np.frombuffer(buf, dtype).reshape(shape), h.hexdigest()


def read_npz(path, keys):
    """Read the arrays `keys` from an `.npz` archive, never unpickling anything.

    Returns:
        A dict from key to ndarray.
    Raises:
        ValueError: naming `path`, when the file is not a readable `.npz` (truncated, corrupted,
            pickled objects) or lacks a key.
    """
    try:
        _check_npz_sizes(path, keys)
        f = np.load(path, allow_pickle=False)
        if not isinstance(f, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array, not an .npz archive")
        with f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise KeyError(f"missing arrays {missing} (has {sorted(f.files)})")
            return {k: f[k] for k in keys}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as e:
        msg = e.args[0] if isinstance(e, KeyError) else e
        raise ValueError(f"{path}: not a valid .npz dataset file ({msg})") from e


def _check_npz_sizes(path, keys):
    """Check each member's declared size and its .npy header's shape against the bytes the
    member has, before NumPy allocates anything (ValueError naming the member)."""
    if not zipfile.is_zipfile(path):
        return  # np.load reports what it is
    with zipfile.ZipFile(path) as z:
        for k in keys:
            try:
                info = z.getinfo(f"{k}.npy")
            except KeyError:
                continue  # the caller's missing-key error names it
            plausible = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
                _MAX_RATIO * info.compress_size + (1 << 16)
            if info.file_size > min(plausible, MAX_ARRAY_BYTES + (1 << 16)):
                raise ValueError(f"member {k}.npy declares {info.file_size} bytes, more than "
                                 f"its {info.compress_size} compressed bytes can hold (or than "
                                 f"the {MAX_ARRAY_BYTES} a dataset file may)")
            with z.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(member, max_header_size=1 << 16)
                header = member.tell()
            if dtype.hasobject:
                continue  # a pickle: np.load(allow_pickle=False) refuses it
            nbytes = dtype.itemsize
            for d in shape:
                nbytes *= d
            if nbytes != info.file_size - header:
                raise ValueError(f"member {k}.npy announces shape {shape} of {dtype} "
                                 f"({nbytes} bytes), but holds {info.file_size - header}")


def check_array_sha256(arrays, sha256, source):
    """Check the SHA-256 of each array's raw bytes (`a.tobytes()`, C order) against `sha256`,
    a dict from name to hex digest; unlike a file hash, this does not depend on the container."""
    for k, expected in sha256.items():
        digest = hashlib.sha256(np.ascontiguousarray(arrays[k])).hexdigest()
        if digest != expected:
            raise ValueError(f"{source}: array {k!r} has sha256 {digest}, expected {expected}; "
                             f"the file is corrupted or is not the original")


def check_images_and_labels(x, y, source, image_shape=(28, 28), num_classes=10):
    """Check one split: uint8 images `(N,) + image_shape`, uint8 labels `(N,)` in range."""
    if x.dtype != np.uint8 or x.shape[1:] != image_shape:
        raise ValueError(f"{source}: images should be uint8 of shape (N, "
                         f"{', '.join(map(str, image_shape))}), got {x.dtype} {x.shape}")
    if y.dtype != np.uint8 or y.shape != (len(x),):
        raise ValueError(f"{source}: labels should be uint8 of shape ({len(x)},) to match the "
                         f"images, got {y.dtype} {y.shape}")
    if y.size and y.max() >= num_classes:
        raise ValueError(f"{source}: labels should lie in [0, {num_classes}), got a maximum "
                         f"of {y.max()}")
