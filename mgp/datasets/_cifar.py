"""What CIFAR-10 and CIFAR-100 share: their tarball of pickled batches, read without pickle.

Each batch is a pickled dict (written by Python 2's cPickle) holding `data`, a uint8 array of
shape (N, 3072) (the red, green then blue planes of each 32x32 image), and the labels as a
list of ints. The batches are read straight out of the `.tar.gz` (nothing is extracted to
disk), or from a folder where the tarball was extracted (as Keras's cache holds it), and
decoded by `_pickle.loads`.
"""
import os
import tarfile
import zlib

import numpy as np

from mgp.datasets import _files
from mgp.datasets._pickle import loads

_IMAGE_BYTES = 3 * 32 * 32
_SLACK_BYTES = 16 << 20  # a batch's labels, file names and framing, beyond its pixels


def load_batches(archive, folder, batches, path, cache_dir, origin, sha256):
    """The decoded dict of each batch in `batches` (e.g. `{"data_batch_1": 10000}`: name and
    number of images), from the tarball `archive` (`folder/name` inside it) or an extracted
    copy; and the tarball's or the folder's path, for messages.

    `path` may name the tarball, a folder holding it, or a folder holding the extracted
    `folder/`; otherwise the tarball comes from `MGP_DATA_DIR`, the cache or `origin`.
    """
    extracted = local = None
    if path is not None:
        path = os.fspath(path)
        if os.path.isdir(os.path.join(path, folder)):
            extracted = os.path.join(path, folder)
        else:
            local = os.path.join(path, archive) if os.path.isdir(path) else path
    data_dir = os.environ.get("MGP_DATA_DIR")
    if extracted is None and not (local and os.path.isfile(local)) and data_dir \
            and os.path.isdir(os.path.join(data_dir, folder)):
        extracted = os.path.join(data_dir, folder)
    if extracted is not None:
        raw = {name: _read_file(os.path.join(extracted, name), _max_bytes(n))
               for name, n in batches.items()}
        source = extracted
    else:
        source = _files.fetch(archive, origin, sha256, local, cache_dir)
        raw = _read_members(source, folder, batches)
    return {name: _decoded(raw[name], os.path.join(source, name), batches[name])
            for name in batches}, source


def data_and_labels(batch, label_key, num_classes, source):
    """One batch's `data`, uint8 (N, 3072), and labels, int64 (N,), both checked."""
    data, labels = batch.get("data"), batch.get(label_key)
    if not (type(data) is np.ndarray and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == _IMAGE_BYTES):
        raise ValueError(f"{source}: 'data' should be a uint8 array of shape (N, "
                         f"{_IMAGE_BYTES}), got {_shape_of(data)}")
    if not (type(labels) is np.ndarray and labels.dtype == np.int64
            and labels.shape == (len(data),)):
        raise ValueError(f"{source}: {label_key!r} should be a list of {len(data)} ints, one "
                         f"per image, got {_shape_of(labels)}")
    if labels.size and not 0 <= labels.min() <= labels.max() < num_classes:
        raise ValueError(f"{source}: {label_key!r} should lie in [0, {num_classes}), got "
                         f"[{labels.min()}, {labels.max()}]")
    return data, labels


def images(data):
    """Rows of `data` (red, green, blue planes) as images (N, 32, 32, 3): channels last, a
    transposed view as Keras's loader returns it."""
    return data.reshape(len(data), 3, 32, 32).transpose(0, 2, 3, 1)


def _max_bytes(num_images):
    return num_images * _IMAGE_BYTES + _SLACK_BYTES


def _read_file(path, max_bytes):
    size = os.path.getsize(path)
    if size > max_bytes:
        raise ValueError(f"{path}: {size} bytes, more than the {max_bytes} such a batch needs")
    with open(path, "rb") as f:
        return f.read()


def _read_members(tarball, folder, batches):
    """The bytes of `folder/name` for each batch name, read in one pass over the tarball."""
    wanted = {f"{folder}/{name}": name for name in batches}
    raw = {}
    try:
        with tarfile.open(tarball, "r|gz") as tar:  # a stream: one pass, no seeking back
            for member in tar:
                name = wanted.get(member.name.removeprefix("./"))
                if name is None:
                    continue
                if name in raw or not member.isreg():
                    raise ValueError(f"{member.name} appears twice or is not a regular file")
                if member.size > _max_bytes(batches[name]):
                    raise ValueError(f"{member.name} declares {member.size} bytes, more than "
                                     f"the {_max_bytes(batches[name])} such a batch needs")
                raw[name] = tar.extractfile(member).read()
    except (OSError, EOFError, tarfile.TarError, zlib.error, ValueError) as e:
        raise ValueError(f"{tarball}: not a valid CIFAR archive ({e})") from e
    missing = [f"{folder}/{name}" for name in batches if name not in raw]
    if missing:
        raise ValueError(f"{tarball}: not a valid CIFAR archive (it lacks {missing})")
    return raw


def _decoded(raw, source, num_images):
    batch = loads(raw, source)
    if type(batch) is not dict:
        raise ValueError(f"{source}: should hold a pickled dict, holds a "
                         f"{type(batch).__name__}")
    # Python 2 wrote the keys as byte strings; a Python 3 copy may have text keys
    batch = {k.decode("latin-1") if type(k) is bytes else k: v for k, v in batch.items()}
    data = batch.get("data")
    if type(data) is np.ndarray and len(data) != num_images:
        raise ValueError(f"{source}: holds {len(data)} images, CIFAR's batch holds {num_images}")
    return batch


def _shape_of(x):
    if type(x) is np.ndarray:
        return f"{x.dtype} array of shape {x.shape}"
    return "nothing" if x is None else type(x).__name__
