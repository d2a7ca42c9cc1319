"""Keras's own dataset loaders as the oracle: on the same generated files, in the formats Keras
downloads (its `.npz` files pickled by NumPy 2, NumPy 1 and Python 2; CIFAR's tarball of
Python 2 pickles), mgp's `imdb`, `reuters`, `cifar10`, `cifar100`, `boston_housing` and
`california_housing` return exactly Keras's arrays: values, dtypes, shapes, the shuffled order
for a seed, and Keras's errors."""
import numpy as np
import oracles
import pytest
from dataset_files import isolated  # noqa: F401 (the fixture)
from dataset_files import (cifar10_batches, cifar100_batches, imdb_arrays, npz, reuters_arrays,
                           tarball, write_folder)

from mgp.datasets import boston_housing, california_housing, cifar10, cifar100, imdb, reuters

keras = oracles.keras()
from keras.src.datasets import boston_housing as k_boston  # noqa: E402
from keras.src.datasets import california_housing as k_california  # noqa: E402
from keras.src.datasets import cifar10 as k_cifar10  # noqa: E402
from keras.src.datasets import cifar100 as k_cifar100  # noqa: E402
from keras.src.datasets import imdb as k_imdb  # noqa: E402
from keras.src.datasets import reuters as k_reuters  # noqa: E402

# Keras reads NumPy 1's `numpy.core` names through NumPy 2's deprecated alias
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def keras_load(monkeypatch, module, path, **kwargs):
    """Keras's `module.load_data(**kwargs)`, its `get_file` answering with `path`."""
    monkeypatch.setattr(module, "get_file", lambda *args, **kw: str(path))
    return module.load_data(**kwargs)


def assert_same(got, expected):
    """Equal nested tuples of arrays: dtype, shape, values; in object arrays, the same Python
    types (lists of ints) as well."""
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e)
        return
    assert type(got) is np.ndarray and got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if got.dtype == object:
        assert got.tolist() == expected.tolist()
        assert [type(s) for s in got.flat] == [type(s) for s in expected.flat]
        assert {type(w) for s in got.flat if type(s) is list for w in s} <= {int}
    else:
        assert got.strides == expected.strides or not got.size  # Keras's layout (views too)
        if not np.array_equal(got, expected):  # (fast; the assertion below explains)
            np.testing.assert_array_equal(got, expected)
        assert got.flags.writeable


def same_outcome(mgp_call, keras_call):
    """Both return equal arrays, or both raise the same exception type."""
    try:
        expected = keras_call()
    except Exception as e:  # noqa: BLE001 (whatever Keras raises, mgp must raise the same)
        with pytest.raises(type(e)):
            mgp_call()
        return None
    got = mgp_call()
    assert_same(got, expected)
    return got


# ---- IMDB --------------------------------------------------------------------------------

IMDB_ARGUMENTS = [
    {},
    dict(num_words=1000, skip_top=10),
    dict(maxlen=40, seed=7),
    dict(num_words=500, start_char=None, oov_char=None, index_from=0),
    dict(num_words=20000, start_char=0, oov_char=None, index_from=2, skip_top=5, seed=0),
    dict(start_char=None, index_from=0, maxlen=1200, skip_top=3),
    dict(maxlen=2),  # no sequence is short enough: Keras's error
    dict(maxlen=1250, num_words=0),
]


@pytest.mark.parametrize("writer", ["numpy2", "numpy1", "py2"])
def test_imdb_equals_keras(isolated, monkeypatch, writer):
    path = isolated / "imdb.npz"
    path.write_bytes(npz(imdb_arrays(), writer))
    for kwargs in IMDB_ARGUMENTS:
        got = same_outcome(lambda kw=kwargs: imdb.load_data(path, **kw),
                           lambda kw=kwargs: keras_load(monkeypatch, k_imdb, path, **kw))
        if kwargs == {}:
            (x_train, y_train), (x_test, _) = got
            assert x_train.shape == (30,) and x_test.shape == (24,) and y_train.dtype == np.int64
            assert all(s[0] == 1 for s in x_train)  # start_char


def test_imdb_shuffle_follows_the_seed(isolated, monkeypatch):
    path = isolated / "imdb.npz"
    path.write_bytes(npz(imdb_arrays()))
    a = imdb.load_data(path, seed=1)[0][0]
    b = imdb.load_data(path, seed=2)[0][0]
    assert a.tolist() != b.tolist() and sorted(map(tuple, a)) == sorted(map(tuple, b))
    assert_same(imdb.load_data(path, seed=2), keras_load(monkeypatch, k_imdb, path, seed=2))


def test_imdb_word_index_equals_keras(isolated, monkeypatch):
    path = isolated / "imdb_word_index.json"
    path.write_text('{"the": 1, "and": 2, "caf\\u00e9": 3}', encoding="utf-8")
    monkeypatch.setattr(k_imdb, "get_file", lambda *args, **kw: str(path))
    assert imdb.get_word_index(path) == k_imdb.get_word_index() == {"the": 1, "and": 2,
                                                                    "café": 3}


# ---- Reuters -----------------------------------------------------------------------------

REUTERS_ARGUMENTS = [
    {},
    dict(num_words=2000, skip_top=20, test_split=0.3),
    dict(maxlen=50, seed=3),
    dict(test_split=0), dict(test_split=1), dict(test_split=0.5, num_words=0),
    dict(maxlen=50, test_split=0),  # an empty test split after maxlen: Keras's float64 labels
    dict(start_char=None, oov_char=None, index_from=0, num_words=1500),
    dict(maxlen=1),  # nothing left: no largest index to take num_words from
]


@pytest.mark.parametrize("writer", ["numpy2", "numpy1", "py2"])
def test_reuters_equals_keras(isolated, monkeypatch, writer):
    path = isolated / "reuters.npz"
    path.write_bytes(npz(reuters_arrays(), writer))
    for kwargs in REUTERS_ARGUMENTS:
        same_outcome(lambda kw=kwargs: reuters.load_data(path, **kw),
                     lambda kw=kwargs: keras_load(monkeypatch, k_reuters, path, **kw))
    (x_train, _), (x_test, y_test) = reuters.load_data(path)
    assert len(x_train) == 40 and len(x_test) == 10 and y_test.dtype == np.int64


def test_reuters_sequences_of_one_length_make_a_2d_array_as_in_keras(isolated, monkeypatch):
    path = isolated / "reuters.npz"
    path.write_bytes(npz(reuters_arrays(n=10, equal_length=5)))
    got = same_outcome(lambda: reuters.load_data(path, num_words=100),
                       lambda: keras_load(monkeypatch, k_reuters, path, num_words=100))
    assert got[0][0].shape == (8, 6)  # Keras's np.array of equal-length lists


def test_reuters_label_names_and_word_index_equal_keras(isolated, monkeypatch):
    assert reuters.get_label_names() == k_reuters.get_label_names()
    assert len(reuters.get_label_names()) == 46
    path = isolated / "reuters_word_index.json"
    path.write_text('{"mln": 1, "dlrs": 2}')
    monkeypatch.setattr(k_reuters, "get_file", lambda *args, **kw: str(path))
    assert reuters.get_word_index(path) == k_reuters.get_word_index() == {"mln": 1, "dlrs": 2}


# ---- CIFAR -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def full_cifar10(tmp_path_factory):
    """CIFAR-10 at its real size (Keras's loader fixes 10,000 images per batch), as an
    extracted folder for Keras and the tarball for mgp."""
    root = tmp_path_factory.mktemp("cifar10")
    batches = cifar10_batches(n=10000)
    write_folder(root / "keras" / cifar10.FOLDER, batches)
    (root / cifar10.ARCHIVE).write_bytes(tarball(cifar10.FOLDER, batches))
    return root


def test_cifar10_equals_keras(full_cifar10, monkeypatch):
    got = cifar10.load_data(path=full_cifar10 / cifar10.ARCHIVE)
    assert_same(got, keras_load(monkeypatch, k_cifar10, full_cifar10 / "keras"))
    (x_train, y_train), (x_test, y_test) = got
    assert x_train.shape == (50000, 32, 32, 3) and y_train.shape == (50000, 1)
    assert x_test.shape == (10000, 32, 32, 3) and y_test.dtype == np.uint8
    # the images are in batch order: each carries its index in its first red pixels
    index = x_train[:, 0, 0, 0].astype(int) + 256 * x_train[:, 0, 1, 0].astype(int)
    assert (index == np.arange(50000) % 65536).all() and (x_train[:, 0, 0, 1] == 200).all()


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_equals_keras(isolated, monkeypatch, label_mode):
    monkeypatch.setattr(cifar100, "BATCHES", {"train": 12, "test": 5})
    batches = cifar100_batches()
    write_folder(isolated / "keras" / cifar100.FOLDER, batches)
    (isolated / cifar100.ARCHIVE).write_bytes(tarball(cifar100.FOLDER, batches))
    expected = keras_load(monkeypatch, k_cifar100, isolated / "keras", label_mode=label_mode)
    for path in (isolated / cifar100.ARCHIVE, isolated, isolated / "keras"):
        got = cifar100.load_data(label_mode, path=path)
        assert_same(got, expected)
    assert got[0][1].dtype == np.int64 and got[0][1].shape == (12, 1)  # as Keras: not uint8
    with pytest.raises(ValueError, match="label_mode"):
        k_cifar100.load_data(label_mode="middle")
    with pytest.raises(ValueError, match=r"`label_mode` must be one of .*'middle'"):
        cifar100.load_data(label_mode="middle")


# ---- housing -----------------------------------------------------------------------------

def housing_npz(n, features, dtype):
    rng = np.random.default_rng(n)
    return npz({"x": rng.normal(size=(n, features)).astype(dtype),
                "y": rng.uniform(5, 50, n).astype(dtype)})


@pytest.mark.parametrize("kwargs", [{}, dict(test_split=0.35, seed=1), dict(test_split=0)])
def test_boston_housing_equals_keras(isolated, monkeypatch, kwargs):
    path = isolated / "boston_housing.npz"
    path.write_bytes(housing_npz(50, 13, np.float64))
    got = same_outcome(lambda: boston_housing.load_data(path, **kwargs),
                       lambda: keras_load(monkeypatch, k_boston, path, **kwargs))
    assert got[0][0].shape[1] == 13


@pytest.mark.parametrize("kwargs", [{}, dict(version="small"), dict(version="small", seed=5),
                                    dict(test_split=0.5, version="large", seed=0)])
def test_california_housing_equals_keras(isolated, monkeypatch, kwargs):
    path = isolated / "california_housing.npz"
    path.write_bytes(housing_npz(700, 8, np.float32))
    got = same_outcome(lambda: california_housing.load_data(path=path, **kwargs),
                       lambda: keras_load(monkeypatch, k_california, path, **kwargs))
    assert len(got[0][0]) + len(got[1][0]) == (600 if kwargs.get("version") == "small" else 700)


def test_housing_argument_errors_match_keras(isolated, monkeypatch):
    path = isolated / "boston_housing.npz"
    path.write_bytes(housing_npz(20, 13, np.float64))
    for bad in (1, -0.1, 1.5):
        for ours, theirs in ((boston_housing, k_boston), (california_housing, k_california)):
            with pytest.raises(ValueError, match="test_split"):
                keras_load(monkeypatch, theirs, path, test_split=bad)
            with pytest.raises(ValueError, match=f"Invalid `test_split` argument: {bad}"):
                ours.load_data(path=path, test_split=bad)
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data(version="medium", path=path)
