"""mgp.datasets: the real MNIST / Fashion-MNIST through MGP_DATA_DIR and path=, downloads from
a local HTTP server (hash checks, atomic writes, dropped connections), parser errors, offline
errors."""
import gzip
import hashlib
import io
import os
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mgp.datasets import _files, fashion_mnist, mnist
from mgp.datasets._formats import read_idx, read_npz
from mgp.saving.atomic import atomic_open

REPO_ROOT = Path(__file__).resolve().parents[1]
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there: connection refused at once


@pytest.fixture(scope="module")
def data_dir():
    """The real data: $MGP_DATA_DIR, else the repository's ../shared/data, else downloaded for
    real into mgp's cache (a fresh clone on a machine with internet). Absent is a failure."""
    d = Path(os.environ.get("MGP_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")
    if not (d / "mnist.npz").is_file():
        d = Path(_files.resolve_cache_dir())
        mnist.load_data(cache_dir=d)  # the real, verified download (the loaders' own path)
        fashion_mnist.load_data(cache_dir=d)
    assert (d / "mnist.npz").is_file() and (d / "fashion-mnist").is_dir(), (
        f"real datasets not found in {d}: set MGP_DATA_DIR to the folder holding mnist.npz "
        f"and fashion-mnist/")
    return d


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test reads ~/.mgp, the working directory's files, or the internet."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MGP_DATA_DIR", raising=False)
    monkeypatch.setenv("MGP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("no_proxy", "*")
    url = closed_port_url()
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", url)
    monkeypatch.setattr(fashion_mnist, "ORIGIN_FOLDER", url)
    return tmp_path


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving `files[name] = bytes`; names in `drop` get their
    full Content-Length announced, then half the body, then the connection is closed."""
    srv = SimpleNamespace(files={}, drop=set(), requests=[])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            name = self.path.lstrip("/")
            srv.requests.append(name)
            if name not in srv.files:
                self.send_error(404)
                return
            body = srv.files[name]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if name in srv.drop:
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


# ---- small generated data --------------------------------------------------------------------

def tiny_mnist(seed=0, n_train=6, n_test=4):
    rng = np.random.default_rng(seed)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return arrays, buf.getvalue()


def idx_bytes(a, code=0x08):
    return bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def tiny_fashion(seed=0):
    arrays, _ = tiny_mnist(seed)
    x_tr, y_tr, x_te, y_te = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    raw = {"train-images-idx3-ubyte.gz": idx_bytes(x_tr),
           "train-labels-idx1-ubyte.gz": idx_bytes(y_tr),
           "t10k-images-idx3-ubyte.gz": idx_bytes(x_te),
           "t10k-labels-idx1-ubyte.gz": idx_bytes(y_te)}
    return arrays, raw, {name: gzip.compress(b) for name, b in raw.items()}


def serve_mnist(server, monkeypatch, body, arrays):
    server.files["mnist.npz"] = body
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", server.url)
    monkeypatch.setattr(mnist, "FILE_SHA256", sha256(body))
    monkeypatch.setattr(mnist, "ARRAY_SHA256", {k: sha256(a.tobytes()) for k, a in arrays.items()})


def accept_mnist(monkeypatch, arrays):
    monkeypatch.setattr(mnist, "ARRAY_SHA256", {k: sha256(a.tobytes()) for k, a in arrays.items()})


def assert_equal_splits(got, arrays):
    (x_train, y_train), (x_test, y_test) = got
    names = ("x_train", "y_train", "x_test", "y_test")
    for name, a in zip(names, (x_train, y_train, x_test, y_test)):
        np.testing.assert_array_equal(a, arrays[name])
        assert a.dtype == np.uint8


def files_in(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())


# ---- the real data ---------------------------------------------------------------------------

def test_mnist_real_data_from_mgp_data_dir(data_dir, monkeypatch):
    monkeypatch.setenv("MGP_DATA_DIR", str(data_dir))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == MNIST_TEST_COUNTS
    assert x_train.min() == 0 and x_train.max() == 255
    assert x_train.flags.writeable
    # the local copy's container is not the download's, yet its arrays are verified canonical
    assert _files.sha256_file(data_dir / "mnist.npz") != mnist.FILE_SHA256


def test_fashion_mnist_real_data_from_mgp_data_dir(data_dir, monkeypatch):
    monkeypatch.setenv("MGP_DATA_DIR", str(data_dir))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_real_data_through_path_argument(data_dir, isolated):
    (x_train, y_train), (x_test, _) = mnist.load_data(path=data_dir / "mnist.npz")
    assert x_train.shape == (60000, 28, 28) and np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS
    (fx_train, _), (fx_test, _) = fashion_mnist.load_data(path=data_dir / "fashion-mnist")
    assert fx_train.shape == (60000, 28, 28) and fx_test.shape == (10000, 28, 28)
    assert not (isolated / "cache").exists()  # nothing downloaded, nothing cached


def test_mnist_path_may_name_a_folder(isolated, monkeypatch):
    arrays, body = tiny_mnist()
    (isolated / "d").mkdir()
    (isolated / "d" / "mnist.npz").write_bytes(body)
    accept_mnist(monkeypatch, arrays)
    assert_equal_splits(mnist.load_data(path=isolated / "d"), arrays)


def test_path_argument_wins_over_mgp_data_dir(isolated, monkeypatch):
    arrays, body = tiny_mnist(seed=1)
    other, other_body = tiny_mnist(seed=2)
    (isolated / "mine.npz").write_bytes(body)
    (isolated / "env").mkdir()
    (isolated / "env" / "mnist.npz").write_bytes(other_body)
    monkeypatch.setenv("MGP_DATA_DIR", str(isolated / "env"))
    accept_mnist(monkeypatch, arrays)
    assert_equal_splits(mnist.load_data(path="mine.npz"), arrays)
    accept_mnist(monkeypatch, other)
    assert_equal_splits(mnist.load_data(), other)


def test_local_copy_with_other_arrays_is_rejected(isolated):
    _, body = tiny_mnist()
    (isolated / "mnist.npz").write_bytes(body)
    with pytest.raises(ValueError, match=r"mnist\.npz: array 'x_train' has sha256 .* 741c98"):
        mnist.load_data(path=isolated / "mnist.npz")


def test_fashion_local_copy_with_other_data_is_rejected(isolated):
    _, _, gz = tiny_fashion()
    for name, b in gz.items():
        (isolated / name).write_bytes(b)
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: decompressed data has"):
        fashion_mnist.load_data(path=isolated)


# ---- downloads from a local server -----------------------------------------------------------

def test_mnist_download_verified_cached_and_reused(server, monkeypatch, isolated, capsys):
    arrays, body = tiny_mnist()
    serve_mnist(server, monkeypatch, body, arrays)
    cache = isolated / "explicit-cache"
    assert_equal_splits(mnist.load_data(cache_dir=cache), arrays)
    assert files_in(cache) == ["mnist.npz"]  # and no temporary file left beside it
    assert (cache / "mnist.npz").read_bytes() == body
    err = capsys.readouterr().err
    assert "mnist.npz" in err and "100%" in err  # the progress bar ran to the end
    assert_equal_splits(mnist.load_data(cache_dir=cache), arrays)
    assert server.requests == ["mnist.npz"]  # the second load used the cache


def test_download_goes_to_mgp_cache_dir_then_home(server, monkeypatch, isolated):
    arrays, body = tiny_mnist()
    serve_mnist(server, monkeypatch, body, arrays)
    mnist.load_data()
    assert files_in(isolated / "cache") == ["mnist.npz"]  # $MGP_CACHE_DIR
    monkeypatch.delenv("MGP_CACHE_DIR")
    monkeypatch.setenv("HOME", str(isolated / "home"))
    assert _files.resolve_cache_dir() == str(isolated / "home" / ".mgp" / "datasets")
    assert _files.resolve_cache_dir("~/elsewhere") == str(isolated / "home" / "elsewhere")
    mnist.load_data()
    assert files_in(isolated / "home") == [".mgp/datasets/mnist.npz"]


def test_fashion_mnist_download(server, monkeypatch, isolated):
    arrays, raw, gz = tiny_fashion()
    server.files.update(gz)
    monkeypatch.setattr(fashion_mnist, "ORIGIN_FOLDER", server.url)
    monkeypatch.setattr(fashion_mnist, "FILE_SHA256", {n: sha256(b) for n, b in gz.items()})
    monkeypatch.setattr(fashion_mnist, "IDX_SHA256", {n: sha256(b) for n, b in raw.items()})
    assert_equal_splits(fashion_mnist.load_data(), arrays)
    assert files_in(isolated / "cache") == sorted(f"fashion-mnist/{n}" for n in gz)


def test_download_with_wrong_hash_raises_and_leaves_nothing(server, monkeypatch, isolated):
    arrays, body = tiny_mnist()
    serve_mnist(server, monkeypatch, body, arrays)
    monkeypatch.setattr(mnist, "FILE_SHA256", "0" * 64)
    with pytest.raises(ValueError, match=f"sha256 {sha256(body)}, expected 0000"):
        mnist.load_data()
    assert files_in(isolated / "cache") == []


def test_dropped_connection_leaves_no_complete_looking_file(server, monkeypatch, isolated):
    arrays, body = tiny_mnist()
    serve_mnist(server, monkeypatch, body, arrays)
    server.drop.add("mnist.npz")
    with pytest.raises(FileNotFoundError, match=r"stopped after \d+ of \d+ bytes"):
        mnist.load_data()
    assert files_in(isolated / "cache") == []
    # without a hash to catch it, the length check alone rejects the short body
    with pytest.raises(ConnectionError):
        _files.download(server.url + "mnist.npz", isolated / "partial.npz", sha256=None)
    assert not (isolated / "partial.npz").exists() and files_in(isolated) == []


def test_corrupted_cache_entry_is_downloaded_again(server, monkeypatch, isolated):
    arrays, body = tiny_mnist()
    serve_mnist(server, monkeypatch, body, arrays)
    (isolated / "cache").mkdir()
    (isolated / "cache" / "mnist.npz").write_bytes(body[:100])
    with pytest.warns(UserWarning, match="does not match its sha256"):
        assert_equal_splits(mnist.load_data(), arrays)
    assert (isolated / "cache" / "mnist.npz").read_bytes() == body


# ---- offline ---------------------------------------------------------------------------------

def test_offline_error_names_file_places_and_url(isolated, monkeypatch):
    (isolated / "data").mkdir()
    monkeypatch.setenv("MGP_DATA_DIR", str(isolated / "data"))
    with pytest.raises(FileNotFoundError) as e:
        mnist.load_data()
    msg = str(e.value)
    assert msg.startswith("mnist.npz not found locally")
    assert str(isolated / "data" / "mnist.npz") in msg
    assert str(isolated / "cache" / "mnist.npz") in msg
    assert mnist.ORIGIN_FOLDER + "mnist.npz" in msg


def test_offline_error_fashion_mnist_without_mgp_data_dir(isolated):
    with pytest.raises(FileNotFoundError) as e:
        fashion_mnist.load_data()
    msg = str(e.value)
    assert msg.startswith("train-images-idx3-ubyte.gz not found locally")
    assert str(isolated / "cache" / "fashion-mnist" / "train-images-idx3-ubyte.gz") in msg
    assert fashion_mnist.ORIGIN_FOLDER + "train-images-idx3-ubyte.gz" in msg
    assert "MGP_DATA_DIR is not set" in msg


def test_http_error_is_reported_as_missing_file(server, monkeypatch):
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", server.url)  # serves nothing: 404
    with pytest.raises(FileNotFoundError, match="HTTP Error 404"):
        mnist.load_data()


# ---- parsers ---------------------------------------------------------------------------------

LABELS = np.arange(10, dtype=np.uint8)
GOOD = idx_bytes(LABELS)


@pytest.mark.parametrize("data, compress, message", [
    (b"\x01\x00\x08\x01" + GOOD[4:], True, "bad IDX magic number 0x01000801"),
    (b"\x00\x00\x08\x00" + GOOD[4:], True, "bad IDX magic number"),
    (b"\x00\x00\x07\x01" + GOOD[4:], True, "unknown IDX dtype code 0x07"),
    (GOOD[:6], True, "IDX header is truncated"),
    (GOOD[:-3], True, r"announces shape \(10,\) \(10 bytes of data\), found only 7"),
    (GOOD + b"\x00", True, "data beyond the 10 bytes"),
    (gzip.compress(GOOD)[:-6], False, "not a valid gzip-compressed IDX file"),
    (GOOD, False, "not a valid gzip-compressed IDX file"),
])
def test_read_idx_errors_name_the_file(tmp_path, data, compress, message):
    path = tmp_path / "bad-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ValueError, match=message) as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_read_idx_checks_hash_and_converts_big_endian(tmp_path):
    path = tmp_path / "ints.gz"
    a = np.array([[1, -2, 3], [70000, 5, -6]], dtype=">i4")
    path.write_bytes(gzip.compress(idx_bytes(a, code=0x0C)))
    out = read_idx(path, sha256(idx_bytes(a, code=0x0C)))
    assert out.dtype == np.dtype("int32") and out.dtype.isnative
    np.testing.assert_array_equal(out, a)
    with pytest.raises(ValueError, match="decompressed data has sha256"):
        read_idx(path, "0" * 64)


def test_read_npz_errors_name_the_file(tmp_path):
    arrays, body = tiny_mnist()
    bad = {"truncated.npz": body[: len(body) // 2], "text.npz": b"hello"}
    np.savez(tmp_path / "nokey.npz", x_train=arrays["x_train"])
    np.savez(tmp_path / "objects.npz", x_train=np.array([{"a": 1}], dtype=object), y_train=LABELS)
    np.save(tmp_path / "single.npy", arrays["x_train"])
    for name, b in bad.items():
        (tmp_path / name).write_bytes(b)
    cases = {"truncated.npz": "not a valid .npz", "text.npz": "not a valid .npz",
             "nokey.npz": r"missing arrays \['y_train'\]", "objects.npz": "allow_pickle",
             "single.npy": "single .npy array"}
    for name, message in cases.items():
        with pytest.raises(ValueError, match=message) as e:
            read_npz(tmp_path / name, ["x_train", "y_train"])
        assert str(tmp_path / name) in str(e.value)


@pytest.mark.parametrize("key, value, message", [
    ("x_train", np.zeros((6, 784), np.uint8),
     r"images should be uint8 of shape \(N, 28, 28\), got uint8 \(6, 784\)"),
    ("x_test", np.zeros((4, 28, 28), np.float32), "images should be uint8"),
    ("y_train", np.zeros(5, np.uint8), r"labels should be uint8 of shape \(6,\)"),
    ("y_test", np.full(4, 10, np.uint8), r"labels should lie in \[0, 10\), got a maximum of 10"),
])
def test_mnist_structure_is_checked(isolated, monkeypatch, key, value, message):
    arrays, _ = tiny_mnist()
    arrays[key] = value
    np.savez(isolated / "mnist.npz", **arrays)
    accept_mnist(monkeypatch, arrays)
    with pytest.raises(ValueError, match=message):
        mnist.load_data(path="mnist.npz")


# ---- atomic writes ---------------------------------------------------------------------------

def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_open(target, "wb") as f:
        f.write(b"first")
    assert target.read_bytes() == b"first"
    with pytest.raises(RuntimeError):
        with atomic_open(target, "wb") as f:
            f.write(b"half of the sec")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"first" and files_in(tmp_path) == ["out.bin"]
    with atomic_open(target, "w") as f:
        f.write("text")
    assert target.read_text() == "text" and files_in(tmp_path) == ["out.bin"]
