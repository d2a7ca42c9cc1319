"""Dataset files in the exact formats Keras downloads, made small, for the dataset tests; and
the local HTTP server and isolation fixtures those tests share.

Keras's `imdb.npz`, `reuters.npz` and CIFAR batches hold pickles written by Python 2's cPickle
or by NumPy 1 or 2 on Python 3: `py2_pickle` writes the Python 2 form opcode by opcode (Python
3's pickler cannot: it has no `str` of bytes), `npz` packs object arrays in any of the three.
Making pickles here is fine; mgp itself never loads one through `pickle`.
"""
import io
import os
import pickle
import socket
import struct
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import numpy as np
import pytest

from mgp.datasets import (boston_housing, california_housing, cifar10, cifar100, imdb,
                          reuters)

LOADERS = (imdb, reuters, cifar10, cifar100, boston_housing, california_housing)


# ---- pickles -----------------------------------------------------------------------------

def py2_pickle(obj):
    """`obj` pickled as Python 2's cPickle (protocol 2) pickles it: bytes as Python 2 `str`
    (SHORT_BINSTRING / BINSTRING), NumPy 1's `numpy.core` names, ints as BININT*, memo puts."""
    out = bytearray(b"\x80\x02")
    memo = [0]

    def put():
        out.extend(b"q" + bytes([memo[0]]) if memo[0] < 256 else b"r" + struct.pack("<I", memo[0]))
        memo[0] += 1

    def batched(items, emit_item, one, many):
        for i in range(0, len(items), 1000):  # cPickle's batch size
            batch = items[i:i + 1000]
            if len(batch) == 1:
                emit_item(batch[0])
                out.extend(one)
            else:
                out.extend(b"(")
                for item in batch:
                    emit_item(item)
                out.extend(many)

    def emit(x):
        if isinstance(x, bool):
            out.extend(b"\x88" if x else b"\x89")
        elif isinstance(x, int):
            if 0 <= x < 256:
                out.extend(b"K" + bytes([x]))
            elif 0 <= x < 65536:
                out.extend(b"M" + struct.pack("<H", x))
            elif -2 ** 31 <= x < 2 ** 31:
                out.extend(b"J" + struct.pack("<i", x))
            else:
                n = (x.bit_length() + 8) // 8
                out.extend(b"\x8a" + bytes([n]) + x.to_bytes(n, "little", signed=True))
        elif x is None:
            out.extend(b"N")
        elif isinstance(x, bytes):
            out.extend(b"U" + bytes([len(x)]) if len(x) < 256 else b"T" + struct.pack("<i", len(x)))
            out.extend(x)
            put()
        elif isinstance(x, tuple):
            if not x:
                out.extend(b")")
                return
            if len(x) > 3:
                out.extend(b"(")
            for v in x:
                emit(v)
            out.extend(bytes([0x84 + len(x)]) if len(x) <= 3 else b"t")
            put()
        elif isinstance(x, list):
            out.extend(b"]")
            put()
            batched(x, emit, b"a", b"e")
        elif isinstance(x, dict):
            out.extend(b"}")
            put()
            batched(list(x.items()), lambda kv: (emit(kv[0]), emit(kv[1])), b"s", b"u")
        elif isinstance(x, np.ndarray):
            out.extend(b"cnumpy.core.multiarray\n_reconstruct\n")
            put()
            out.extend(b"cnumpy\nndarray\n")
            put()
            emit((0,))
            emit(b"b")
            out.extend(b"\x87R")
            put()
            out.extend(b"(K\x01")
            emit(tuple(x.shape))
            out.extend(b"cnumpy\ndtype\n")
            put()
            emit(b"O8" if x.dtype == object else x.dtype.str[1:].encode())
            out.extend(b"K\x00K\x01\x87R")
            put()
            out.extend(b"(K\x03")
            emit(b"|")
            out.extend(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xff")
            emit(x.dtype.flags)
            out.extend(b"tb\x89")
            emit(list(x.reshape(-1)) if x.dtype == object else x.tobytes())
            out.extend(b"t")
            put()
            out.extend(b"b")
        else:
            raise TypeError(f"py2_pickle does not write {type(x).__name__}")

    emit(obj)
    return bytes(out + b".")


def object_array(seqs):
    """A 1-D object array of Python lists, as Keras's files hold the sequences."""
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


def npy_bytes(array, writer="numpy2"):
    """One `.npy` member: numeric arrays as NumPy writes them; object arrays pickled the way
    `writer` does ("py2": Python 2, "numpy1": NumPy 1 on Python 3, "numpy2": NumPy 2)."""
    buf = io.BytesIO()
    if array.dtype != object or writer == "numpy2":
        np.lib.format.write_array(buf, array, allow_pickle=True)
        return buf.getvalue()
    np.lib.format.write_array_header_1_0(buf, np.lib.format.header_data_from_array_1_0(array))
    if writer == "py2":
        body = py2_pickle(array)
    else:  # NumPy 1 on Python 3: protocol 3, and NumPy 1's module name
        body = pickle.dumps(array, protocol=3).replace(b"numpy._core.multiarray",
                                                       b"numpy.core.multiarray")
    return buf.getvalue() + body


def npz(arrays, writer="numpy2", raw=None):
    """An `.npz` holding `arrays` (object arrays pickled by `writer`); `raw` adds members given
    as bytes, e.g. a crafted pickle under `x_train.npy`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, a in arrays.items():
            z.writestr(f"{name}.npy", npy_bytes(a, writer))
        for name, b in (raw or {}).items():
            z.writestr(name, b)
    return buf.getvalue()


def npy_header(shape, descr="|O"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


# ---- small datasets in Keras's layouts ---------------------------------------------------

def sequences(rng, n, vocabulary=90000, long_every=7):
    """`n` word-index lists: lengths 1 to 60 and now and then over 1000 (so that the pickler
    writes several APPENDS and a lone APPEND), indices 1 to `vocabulary` (all int opcodes)."""
    lengths = rng.integers(1, 60, n)
    lengths[::long_every] = rng.integers(1000, 1300, len(lengths[::long_every]))
    lengths[1] = 1
    return [rng.integers(1, vocabulary, k).tolist() for k in lengths]


def imdb_arrays(seed=0, n_train=30, n_test=24):
    rng = np.random.default_rng(seed)
    return {"x_train": object_array(sequences(rng, n_train)),
            "y_train": rng.integers(0, 2, n_train),
            "x_test": object_array(sequences(rng, n_test)),
            "y_test": rng.integers(0, 2, n_test)}


def reuters_arrays(seed=0, n=50, equal_length=None):
    rng = np.random.default_rng(seed)
    seqs = sequences(rng, n, vocabulary=30000) if equal_length is None else \
        [rng.integers(1, 3000, equal_length).tolist() for _ in range(n)]
    return {"x": object_array(seqs), "y": rng.integers(0, 46, n)}


def cifar_batch(rng, n, label_keys, num_classes, index_base=0):
    """A CIFAR batch dict as Python 2 pickled it; each image carries its index in its first
    pixels, so that order is visible."""
    data = np.zeros((n, 3072), np.uint8)
    index = np.arange(index_base, index_base + n)
    data[:, 0], data[:, 1], data[:, 1024] = index % 256, index // 256 % 256, 200
    data[:, 5:40] = rng.integers(0, 256, (n, 35), dtype=np.uint8)
    batch = {b"batch_label": b"training batch", b"data": data,
             b"filenames": [b"img_%05d.png" % i for i in index]}
    for key, classes in zip(label_keys, num_classes):
        batch[key.encode()] = rng.integers(0, classes, n).tolist()
    return batch


def cifar10_batches(seed=0, n=4):
    rng = np.random.default_rng(seed)
    return {name: py2_pickle(cifar_batch(rng, n, ["labels"], [10], i * n))
            for i, name in enumerate(list(cifar10.BATCHES))}


def cifar100_batches(seed=0, n_train=12, n_test=5):
    rng = np.random.default_rng(seed)
    return {name: py2_pickle(cifar_batch(rng, n, ["fine_labels", "coarse_labels"], [100, 20],
                                         base))
            for name, n, base in (("train", n_train, 0), ("test", n_test, n_train))}


def tarball(folder, members, extra=()):
    """A `.tar.gz` holding `folder/name` for each member (bytes); `extra` adds TarInfo/bytes
    pairs as they are."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def write_folder(folder, members):
    os.makedirs(folder, exist_ok=True)
    for name, data in members.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    return folder


# ---- fixtures ------------------------------------------------------------------------------

def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there: connection refused at once


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test reads ~/.mgp, the working directory's files, or the internet."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MGP_DATA_DIR", raising=False)
    monkeypatch.setenv("MGP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("no_proxy", "*")
    url = closed_port_url()
    for module in LOADERS:
        if hasattr(module, "ORIGIN_FOLDER"):
            monkeypatch.setattr(module, "ORIGIN_FOLDER", url)
        else:
            monkeypatch.setattr(module, "ORIGIN", url + module.ARCHIVE)
    return tmp_path


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving `files[name] = bytes`. Names in `drop` get their
    full Content-Length announced, then half the body, then the connection is closed; names in
    `cut` get no Content-Length, half the body, then the close (which looks like the end)."""
    srv = SimpleNamespace(files={}, drop=set(), cut=set(), requests=[])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            name = self.path.lstrip("/")
            srv.requests.append(name)
            if name not in srv.files:
                self.send_error(404)
                return
            body = srv.files[name]
            self.send_response(200)
            if name not in srv.cut:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if name in srv.drop or name in srv.cut:
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
            else:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{httpd.server_port}/"
    yield srv
    httpd.shutdown()
    httpd.server_close()
