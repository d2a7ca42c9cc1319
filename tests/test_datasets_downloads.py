"""mgp.datasets' IMDB, Reuters, CIFAR and housing loaders: downloads from a local HTTP server
(hash checks, the cache, truncated and interrupted transfers leaving nothing behind), local
copies through `path=` and MGP_DATA_DIR, offline errors, tampered or malformed files and bad
arguments: each a clear error naming the file or the argument, and no code run."""
import gzip
import hashlib
import json
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from dataset_files import isolated, server  # noqa: F401 (the fixtures)
from dataset_files import (cifar10_batches, cifar100_batches, imdb_arrays, npy_header, npz,
                           object_array, py2_pickle, reuters_arrays, tarball, write_folder)

from mgp.datasets import (_files, boston_housing, california_housing, cifar10, cifar100, imdb,
                          reuters)


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def md5(b):
    return hashlib.md5(b).hexdigest()


def files_in(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())


def serve(server, monkeypatch, module, name, body, hash_attr="FILE_SHA256", digest=sha256):
    server.files[name] = body
    monkeypatch.setattr(module, "ORIGIN_FOLDER", server.url)
    monkeypatch.setattr(module, hash_attr, digest(body))


def small_cifar10(monkeypatch):
    monkeypatch.setattr(cifar10, "BATCHES", dict.fromkeys(cifar10.BATCHES, 4))
    return cifar10_batches(n=4)


class Runs:
    """Pickles as a call of `func(*args)`: what a tampered file would hold."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


# ---- downloads -------------------------------------------------------------------------------

def test_imdb_download_verified_cached_and_reused(server, monkeypatch, isolated, capsys):
    body = npz(imdb_arrays())
    serve(server, monkeypatch, imdb, "imdb.npz", body)
    (isolated / "local.npz").write_bytes(body)
    got = imdb.load_data(num_words=100)
    assert files_in(isolated / "cache") == ["imdb.npz"]  # no temporary file beside it
    err = capsys.readouterr().err
    assert "imdb.npz" in err and "100%" in err  # the progress bar ran to the end
    expected = imdb.load_data(isolated / "local.npz", num_words=100)
    assert all(a.tolist() == b.tolist() for a, b in zip(got[0] + got[1], expected[0] + expected[1]))
    imdb.load_data()
    assert server.requests == ["imdb.npz"]  # the second load used the cache


def test_word_index_download_checked_by_md5(server, monkeypatch, isolated):
    body = json.dumps({"good": 1, "movie": 2}).encode()
    serve(server, monkeypatch, imdb, "imdb_word_index.json", body, "WORD_INDEX_MD5", md5)
    assert imdb.get_word_index() == {"good": 1, "movie": 2}
    assert files_in(isolated / "cache") == ["imdb_word_index.json"]
    monkeypatch.setattr(imdb, "WORD_INDEX_MD5", "0" * 32)  # the cached copy no longer matches
    with pytest.warns(UserWarning, match="does not match its md5 0000"), \
            pytest.raises(ValueError, match=f"md5 {md5(body)}, expected 0000"):
        imdb.get_word_index()
    assert files_in(isolated / "cache") == ["imdb_word_index.json"]  # the old file, untouched
    assert server.requests == ["imdb_word_index.json"] * 2


def test_reuters_word_index_and_data_download(server, monkeypatch, isolated):
    serve(server, monkeypatch, reuters, "reuters.npz", npz(reuters_arrays()))
    index = json.dumps({"said": 1}).encode()
    server.files["reuters_word_index.json"] = index
    monkeypatch.setattr(reuters, "WORD_INDEX_MD5", md5(index))
    (x_train, _), (x_test, _) = reuters.load_data(cache_dir=isolated / "elsewhere")
    assert len(x_train) + len(x_test) == 50
    assert reuters.get_word_index(cache_dir=isolated / "elsewhere") == {"said": 1}
    assert files_in(isolated / "elsewhere") == ["reuters.npz", "reuters_word_index.json"]


@pytest.mark.parametrize("module, name, load", [
    (cifar10, "cifar-10-python.tar.gz", lambda: cifar10.load_data()),
    (cifar100, "cifar-100-python.tar.gz", lambda: cifar100.load_data("coarse")),
])
def test_cifar_download_verified_and_cached(server, monkeypatch, isolated, module, name, load):
    if module is cifar10:
        body = tarball(cifar10.FOLDER, small_cifar10(monkeypatch))
    else:
        monkeypatch.setattr(cifar100, "BATCHES", {"train": 12, "test": 5})
        body = tarball(cifar100.FOLDER, cifar100_batches())
    server.files[name] = body
    monkeypatch.setattr(module, "ORIGIN", server.url + name)
    monkeypatch.setattr(module, "FILE_SHA256", sha256(body))
    (x_train, y_train), (x_test, _) = load()
    assert x_train.shape[1:] == (32, 32, 3) and y_train.shape == (len(x_train), 1)
    assert x_test.shape == ((4 if module is cifar10 else 5), 32, 32, 3)
    assert files_in(isolated / "cache") == [name]
    load()
    assert server.requests == [name]


@pytest.mark.parametrize("module, name", [(boston_housing, "boston_housing.npz"),
                                          (california_housing, "california_housing.npz")])
def test_housing_download(server, monkeypatch, isolated, module, name):
    features = 13 if module is boston_housing else 8
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, features)), rng.normal(size=30)
    serve(server, monkeypatch, module, name, npz({"x": x, "y": y}))
    (x_train, _), (x_test, _) = module.load_data()
    assert x_train.shape == (24, features) and x_test.shape == (6, features)
    assert sorted(map(tuple, np.concatenate([x_train, x_test]))) == sorted(map(tuple, x))
    assert files_in(isolated / "cache") == [name]


def test_wrong_hash_and_truncated_downloads_leave_nothing(server, monkeypatch, isolated):
    body = npz(reuters_arrays())
    serve(server, monkeypatch, reuters, "reuters.npz", body)
    monkeypatch.setattr(reuters, "FILE_SHA256", "0" * 64)
    with pytest.raises(ValueError, match=f"sha256 {sha256(body)}, expected 0000"):
        reuters.load_data()
    assert files_in(isolated) == []
    monkeypatch.setattr(reuters, "FILE_SHA256", sha256(body))
    server.drop.add("reuters.npz")  # full length announced, half sent, closed
    with pytest.raises(FileNotFoundError, match=r"stopped after \d+ of \d+ bytes"):
        reuters.load_data()
    assert files_in(isolated) == []
    server.drop.clear()
    server.cut.add("reuters.npz")  # no length announced, half sent: only the hash can tell
    with pytest.raises(ValueError, match="is corrupted or not the expected file: sha256"):
        reuters.load_data()
    assert files_in(isolated) == []
    server.cut.clear()
    reuters.load_data()
    assert files_in(isolated) == ["cache/reuters.npz"]


def test_interrupted_download_leaves_nothing(server, monkeypatch, isolated):
    serve(server, monkeypatch, imdb, "imdb.npz", npz(imdb_arrays()))
    monkeypatch.setattr(_files, "_CHUNK", 1024)

    class Interrupted(_files._tqdm()):
        def update(self, n=1):
            if self.n > 2048:
                raise KeyboardInterrupt
            return super().update(n)

    monkeypatch.setattr(_files, "_tqdm", lambda: Interrupted)
    with pytest.raises(KeyboardInterrupt):
        imdb.load_data()
    assert files_in(isolated) == []


@pytest.mark.parametrize("load, fname, url", [
    (lambda: imdb.load_data(), "imdb.npz", "imdb.npz"),
    (lambda: imdb.get_word_index(), "imdb_word_index.json", "imdb_word_index.json"),
    (lambda: reuters.load_data(), "reuters.npz", "reuters.npz"),
    (lambda: reuters.get_word_index(), "reuters_word_index.json", "reuters_word_index.json"),
    (lambda: cifar10.load_data(), "cifar-10-python.tar.gz", "cifar-10-python.tar.gz"),
    (lambda: cifar100.load_data(), "cifar-100-python.tar.gz", "cifar-100-python.tar.gz"),
    (lambda: boston_housing.load_data(), "boston_housing.npz", "boston_housing.npz"),
    (lambda: california_housing.load_data(), "california_housing.npz", "california_housing.npz"),
])
def test_offline_errors_name_the_file_places_and_url(isolated, load, fname, url):
    with pytest.raises(FileNotFoundError) as e:
        load()
    msg = str(e.value)
    assert msg.startswith(f"{fname} not found locally")
    assert str(isolated / "cache" / fname) in msg and url in msg and "MGP_DATA_DIR" in msg


# ---- local copies ----------------------------------------------------------------------------

def test_local_copies_through_path_and_mgp_data_dir(isolated, monkeypatch):
    data = isolated / "data"
    data.mkdir()
    (data / "imdb.npz").write_bytes(npz(imdb_arrays(seed=1)))
    (data / "reuters.npz").write_bytes(npz(reuters_arrays(seed=1)))
    (data / "imdb_word_index.json").write_text('{"a": 1}')
    batches = small_cifar10(monkeypatch)
    (data / cifar10.ARCHIVE).write_bytes(tarball(cifar10.FOLDER, batches))
    write_folder(isolated / "keras-cache" / cifar10.FOLDER, batches)
    by_path = imdb.load_data(path=data)  # a folder holding imdb.npz
    assert imdb.get_word_index(path=data) == {"a": 1}
    assert len(reuters.load_data(path=data / "reuters.npz")[0][0]) == 40
    tar = cifar10.load_data(path=data)
    extracted = cifar10.load_data(path=isolated / "keras-cache")  # Keras's cache layout
    monkeypatch.setenv("MGP_DATA_DIR", str(data))
    by_env = imdb.load_data()
    assert [a.tolist() for a in by_env[0]] == [a.tolist() for a in by_path[0]]
    assert imdb.get_word_index() == {"a": 1} and len(reuters.load_data()[1][0]) == 10
    for a, b in zip(tar[0] + tar[1], cifar10.load_data()[0] + cifar10.load_data()[1]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(tar[0] + tar[1], extracted[0] + extracted[1]):
        np.testing.assert_array_equal(a, b)
    assert not (isolated / "cache").exists()  # nothing downloaded, nothing cached


def test_cifar10_from_the_tarball_equals_the_pickled_batches(isolated, monkeypatch):
    batches = small_cifar10(monkeypatch)
    (isolated / cifar10.ARCHIVE).write_bytes(tarball(cifar10.FOLDER, batches))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(path=isolated)
    raw = [pickle.loads(batches[name], encoding="bytes") for name in cifar10.BATCHES]
    data = np.concatenate([b[b"data"] for b in raw[:5]])
    np.testing.assert_array_equal(x_train, data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert y_train.ravel().tolist() == [label for b in raw[:5] for label in b[b"labels"]]
    assert y_test.ravel().tolist() == raw[5][b"labels"] and x_test.shape == (4, 32, 32, 3)
    assert x_train.dtype == y_train.dtype == np.uint8 and x_train.flags.writeable


# ---- tampered and malformed files --------------------------------------------------------------

def test_a_tampered_imdb_file_runs_nothing_and_names_the_file(isolated):
    marker = isolated / "ran"
    evil = npy_header((1,)) + pickle.dumps(Runs(os.system, f"touch {marker}"), protocol=2)
    arrays = imdb_arrays()
    del arrays["x_train"]
    (isolated / "imdb.npz").write_bytes(npz(arrays, raw={"x_train.npy": evil}))
    with pytest.raises(ValueError, match=r"imdb\.npz \(x_train\.npy\): its pickle names "
                                         r"posix\.system") as e:
        imdb.load_data(path=isolated / "imdb.npz")
    assert str(isolated / "imdb.npz") in str(e.value)
    assert not marker.exists()


@pytest.mark.parametrize("x, message", [
    (object_array([[1, 2], ["a", 3]]), "items other than lists of ints"),
    (object_array([[1, 2], [[1], [2]]]), "items other than lists of ints"),
    (object_array([[1, None]]), "items other than lists of ints"),
    (object_array([[1, True]]), "items other than lists of ints"),
    (object_array([[1, 2 ** 40]]), "word index of magnitude 2\\*\\*31 or more"),
    (np.array([[1, 2], [3, 4]], dtype=object),
     r"1-D array of sequences of ints, got shape \(2, 2\)"),
])
def test_sequences_other_than_lists_of_ints_are_refused(isolated, x, message):
    (isolated / "reuters.npz").write_bytes(npz({"x": x, "y": np.zeros(len(x), np.int64)}))
    with pytest.raises(ValueError, match=message) as e:
        reuters.load_data(path=isolated / "reuters.npz")
    assert str(isolated / "reuters.npz") in str(e.value)


def test_floats_and_wrong_labels_are_refused(isolated):
    x = object_array([[1, 2.5]])
    (isolated / "f.npz").write_bytes(npz({"x": x, "y": np.zeros(1, np.int64)}))
    with pytest.raises(ValueError, match=r"f\.npz \(x\.npy\): it uses pickle opcode 0x47"):
        reuters.load_data(path=isolated / "f.npz")
    (isolated / "y.npz").write_bytes(npz({"x": object_array([[1], [2]]), "y": np.zeros(3)}))
    with pytest.raises(ValueError, match=r"labels should be integers of shape \(2,\) to match "
                                         r"the sequences, got float64 \(3,\)"):
        reuters.load_data(path=isolated / "y.npz")
    (isolated / "m.npz").write_bytes(npz({"x": object_array([[1]])}))
    with pytest.raises(ValueError, match=r"m\.npz: not a valid \.npz dataset file \(missing "
                                         r"arrays \['y'\]"):
        reuters.load_data(path=isolated / "m.npz")


def test_malformed_word_index_files(isolated):
    cases = {"list.json": ("[1, 2]", "a JSON object from words to integers, got list"),
             "values.json": ('{"a": "1"}', "a JSON object from words to integers"),
             "broken.json": ('{"a": 1', "not a valid JSON word index")}
    for name, (text, message) in cases.items():
        (isolated / name).write_text(text)
        with pytest.raises(ValueError, match=message) as e:
            imdb.get_word_index(path=isolated / name)
        assert str(isolated / name) in str(e.value)


def big_member_tarball(folder, name, size):
    """A tarball whose member declares `size` bytes but holds almost none."""
    info = tarfile.TarInfo(f"{folder}/{name}")
    info.size = size
    return gzip.compress(info.tobuf(tarfile.GNU_FORMAT) + b"\0" * 4096)


def test_tampered_and_malformed_cifar_archives(isolated, monkeypatch):
    batches = small_cifar10(monkeypatch)
    marker = isolated / "ran"
    evil = dict(batches, data_batch_3=pickle.dumps(Runs(os.system, f"touch {marker}"), 2))
    labels_out_of_range = dict(batches, test_batch=py2_pickle(
        {b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 10, 2]}))
    wrong_count = dict(batches, test_batch=py2_pickle(
        {b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1, 2]}))
    wrong_shape = dict(batches, test_batch=py2_pickle(
        {b"data": np.zeros((4, 1024), np.uint8), b"labels": [0, 1, 2, 3]}))
    missing = {k: v for k, v in batches.items() if k != "data_batch_5"}
    link = tarfile.TarInfo(f"{cifar10.FOLDER}/data_batch_5")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    cases = {
        "evil": (tarball(cifar10.FOLDER, evil), r"data_batch_3: its pickle names posix\.system"),
        "labels": (tarball(cifar10.FOLDER, labels_out_of_range),
                   r"test_batch\): 'labels' should lie in \[0, 10\), got \[0, 10\]"),
        "count": (tarball(cifar10.FOLDER, wrong_count), "holds 3 images, CIFAR's batch holds 4"),
        "shape": (tarball(cifar10.FOLDER, wrong_shape),
                  r"'data' should be a uint8 array of shape \(N, 3072\), got uint8 .* \(4, 1024\)"),
        "missing": (tarball(cifar10.FOLDER, missing), r"lacks \['cifar-10-batches-py/data_batch_5"),
        "link": (tarball(cifar10.FOLDER, missing, [(link, None)]),
                 "data_batch_5 appears twice or is not a regular file"),
        "twice": (tarball(cifar10.FOLDER, batches, [(tarfile.TarInfo(
            f"{cifar10.FOLDER}/test_batch"), b"")]), "test_batch appears twice"),
        "big": (big_member_tarball(cifar10.FOLDER, "data_batch_1", 1 << 40),
                r"data_batch_1 declares 1099511627776 bytes, more than the 16789504"),
        "truncated": (tarball(cifar10.FOLDER, batches)[:-100], "not a valid CIFAR archive"),
        "text": (b"not a tarball", "not a valid CIFAR archive"),
    }
    for name, (body, message) in cases.items():
        path = isolated / f"{name}.tar.gz"
        path.write_bytes(body)
        with pytest.raises(ValueError, match=message) as e:
            cifar10.load_data(path=path)
        assert str(path) in str(e.value), name
    assert not marker.exists()


def test_housing_files_with_other_arrays_are_refused(isolated):
    cases = {"cols.npz": ({"x": np.zeros((5, 12)), "y": np.zeros(5)},
                          r"'x' should be numbers of shape \(N, 13\), got float64 \(5, 12\)"),
             "len.npz": ({"x": np.zeros((5, 13)), "y": np.zeros(4)},
                         r"'y' should be numbers of shape \(5,\) to match 'x'"),
             "obj.npz": ({"x": object_array([[1]]), "y": np.zeros(1)}, "allow_pickle")}
    for name, (arrays, message) in cases.items():
        (isolated / name).write_bytes(npz(arrays))
        with pytest.raises(ValueError, match=message) as e:
            boston_housing.load_data(path=isolated / name)
        assert str(isolated / name) in str(e.value)


# ---- arguments -------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    (dict(num_words="10"), TypeError, "num_words should be an integer or None, got '10'"),
    (dict(skip_top=None), TypeError, "skip_top should be an integer, got None"),
    (dict(start_char=1.5), TypeError, "start_char should be an integer or None, got 1.5"),
    (dict(oov_char=True), TypeError, "oov_char should be an integer or None, got True"),
    (dict(maxlen=-1), ValueError, r"maxlen should be an integer in \[0, 2\*\*31\), got -1"),
    (dict(index_from=2 ** 40), ValueError, r"index_from should be an integer in \[-2147483648"),
    (dict(num_words=np.int64(5)), None, None),
])
def test_sequence_arguments_are_checked_before_any_file_is_read(isolated, kwargs, error, message):
    for load in (imdb.load_data, reuters.load_data):
        if error is None:  # a NumPy integer is an integer: the loader goes on to the file
            with pytest.raises(FileNotFoundError):
                load(**kwargs)
            continue
        with pytest.raises(error, match=message):
            load(**kwargs)


def test_split_and_mode_arguments(isolated):
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=rf"Invalid `test_split` argument: {bad}. It must "
                                             rf"be between 0 and 1 \(inclusive of 1\)"):
            reuters.load_data(test_split=bad)
    with pytest.raises(ValueError, match=r"exclusive of 1"):
        boston_housing.load_data(test_split=1)
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data(version="medium")
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="middle")
