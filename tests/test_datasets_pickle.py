"""mgp.datasets._pickle: the restricted pickle reader against `pickle` itself on what Keras's
files hold (NumPy 1 and 2 on Python 3, Python 2's cPickle), and against hostile streams: other
names, other opcodes, declared lengths beyond the data, aliasing, truncation, random damage.
A test may write pickles; mgp never loads one through `pickle`."""
import io
import os
import pickle
import subprocess
import tracemalloc
import zipfile

import numpy as np
import pytest
from dataset_files import npy_bytes, npy_header, npz, object_array, py2_pickle
from hypothesis import given, settings
from hypothesis import strategies as st

from mgp.datasets._pickle import MAX_NPY_BYTES, loads, read_npz

INT64 = st.integers(-(2 ** 63), 2 ** 63 - 1)
# lengths around the pickler's batch of 1000, and values for every int opcode
SEQUENCE = st.one_of(st.lists(st.integers(0, 70000), max_size=40),
                     st.lists(st.sampled_from([0, 255, 256, 65535, 65536, -1, 2 ** 31 - 1,
                                               -(2 ** 31), 2 ** 31, 2 ** 62]), max_size=10),
                     st.integers(995, 2005).map(lambda n: list(range(n))))
WRITERS = {
    "numpy2 protocol 2": lambda a: pickle.dumps(a, protocol=2),  # (refused: see below)
    "numpy2 protocol 3": lambda a: pickle.dumps(a, protocol=3),
    "numpy2 protocol 4": lambda a: pickle.dumps(a, protocol=4),
    "numpy2 protocol 5": lambda a: pickle.dumps(a, protocol=5),
    "numpy1 protocol 3": lambda a: pickle.dumps(a, protocol=3).replace(
        b"numpy._core.multiarray", b"numpy.core.multiarray"),
    "python2": py2_pickle,
}


def assert_same_sequences(got, expected):
    assert type(got) is np.ndarray and got.dtype == object and got.shape == expected.shape
    for g, e in zip(got, expected):
        assert type(g) is np.ndarray and g.dtype == np.int64
        assert g.tolist() == e


@settings(max_examples=40, deadline=None)
@given(st.lists(SEQUENCE, max_size=12), st.sampled_from(sorted(set(WRITERS) - {
    "numpy2 protocol 2"})))
def test_object_arrays_of_int_lists_read_as_pickle_reads_them(seqs, writer):
    a = object_array(seqs)
    data = WRITERS[writer](a)
    assert_same_sequences(loads(data, "x.npy"), pickle.loads(data, encoding="bytes"))


def test_python2_cifar_batch_reads_as_pickle_reads_it():
    rng = np.random.default_rng(0)
    batch = {b"batch_label": b"training batch 1 of 5",
             b"data": rng.integers(0, 256, (7, 3072), dtype=np.uint8),
             b"labels": rng.integers(0, 10, 7).tolist(),
             b"filenames": [b"a.png", b"b" * 300]}  # a name past 255 bytes: BINSTRING
    data = py2_pickle(batch)
    expected = pickle.loads(data, encoding="bytes")
    got = loads(data, "data_batch_1")
    assert got.keys() == expected.keys()
    np.testing.assert_array_equal(got[b"data"], expected[b"data"])
    assert got[b"data"].dtype == np.uint8 and got[b"data"].shape == (7, 3072)
    assert got[b"labels"].dtype == np.int64 and got[b"labels"].tolist() == expected[b"labels"]
    assert got[b"filenames"] == expected[b"filenames"]
    assert got[b"batch_label"] == expected[b"batch_label"]


def test_plain_values_and_mixed_lists():
    value = {"ints": [1, 2, 3], "empty": [], "mixed": [1, b"x", None, True, "t"],
             "nested": [[1], [2, 3]], "tuple": (1, "a", None), "bool": False, 7: "seven"}
    for protocol in (3, 4, 5):
        got = loads(pickle.dumps(value, protocol=protocol), "v")
        assert got["ints"].tolist() == [1, 2, 3] and got["ints"].dtype == np.int64
        assert got["empty"].dtype == np.int64 and got["empty"].shape == (0,)
        assert got["mixed"] == [1, b"x", None, True, "t"]
        assert type(got["nested"]) is list and [x.tolist() for x in got["nested"]] == [[1], [2, 3]]
        assert got["tuple"] == (1, "a", None) and got["bool"] is False and got[7] == "seven"


# ---- hostile streams -------------------------------------------------------------------------

class Runs:
    """Pickles as a call of `func(*args)`: what a tampered file would contain."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize("func, name", [
    (os.system, "posix.system"), (eval, "(__builtin__|builtins).eval"),
    (getattr, "(__builtin__|builtins).getattr"), (np.load, "numpy.load"),
    (subprocess.check_call, "(commands|subprocess).check_call"),
])
@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_other_names_are_refused_and_nothing_runs(tmp_path, func, name, protocol):
    marker = tmp_path / "ran"
    arg = f"touch {marker}" if func is os.system else "1"
    data = pickle.dumps(object_array([[1, 2]]).tolist() + [Runs(func, arg)], protocol=protocol)
    with pytest.raises(ValueError, match=f"evil.npy: .*its pickle names {name}") as e:
        loads(data, "evil.npy")
    assert "refusing to read it" in str(e.value)
    assert not marker.exists()


def test_numpy_names_cannot_be_called_in_other_ways():
    reconstruct, ndarray = b"cnumpy.core.multiarray\n_reconstruct\n", b"cnumpy\nndarray\n"
    cases = {
        # _reconstruct called on something else than ndarray, (0,), b"b"
        b"\x80\x02" + reconstruct + ndarray + b"K\x05\x85U\x01b\x87R.": "_reconstruct with",
        b"\x80\x02" + reconstruct + reconstruct + b"K\x00\x85U\x01b\x87R.": "_reconstruct with",
        # ndarray called directly; dtype with a code other than O8 / u1
        b"\x80\x02" + ndarray + b"K\x03\x85R.": "calls numpy.ndarray",
        b"\x80\x02cnumpy\ndtype\nU\x02f8K\x00K\x01\x87R.": "numpy dtype .*'f8'",
        # a call on a non-name, BUILD on a non-array
        b"\x80\x02K\x01)R.": "calls 1",
        b"\x80\x02]K\x01b.": "sets the state of a list",
    }
    for data, message in cases.items():
        with pytest.raises(ValueError, match=message):
            loads(data, "crafted")


@pytest.mark.parametrize("obj, message", [
    ([1.5, 2.0], r"opcode 0x47 \(BINFLOAT\)"), ({1, 2}, r"opcode 0x8f \(EMPTY_SET\)"),
    (frozenset([1]), r"opcode 0x91 \(FROZENSET\)"), (bytearray(b"x"), r"0x96 \(BYTEARRAY8\)"),
    (2 ** 70, "holds an integer of 9 bytes"), (1e300, "BINFLOAT"),
])
def test_other_opcodes_are_refused(obj, message):
    data = pickle.dumps([[1], obj], protocol=5)
    with pytest.raises(ValueError, match=f"^x.npy: it .*{message}"):
        loads(data, "x.npy")


def test_protocol_0_text_opcodes_and_out_of_band_buffers_are_refused():
    with pytest.raises(ValueError, match=r"opcode 0x28 \(MARK\)|opcode 0x6c \(LIST\)|text int"):
        loads(pickle.dumps([1, 2], protocol=0), "p0")
    buffers = []
    data = pickle.dumps(pickle.PickleBuffer(b"abc"), protocol=5, buffer_callback=buffers.append)
    with pytest.raises(ValueError, match="NEXT_BUFFER"):
        loads(data, "p5")


@pytest.mark.parametrize("data, message", [
    (b"\x80\x04X\xff\xff\xff\xff", "declares 4294967295 bytes at offset 7, but only 0 remain"),
    (b"\x80\x02T\xff\xff\xff\x7fabc", "declares 2147483647 bytes"),
    (b"\x80\x02B\x00\x00\x00\x80", "declares 2147483648 bytes"),
    (b"\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f", "declares 9223372036854775807 bytes"),
    (b"\x80\x02\x8a\xffabc", "integer of 255 bytes"),
    (b"\x80\x02U\x10ab", "declares 16 bytes"),
])
def test_declared_lengths_beyond_the_data_are_refused_before_allocating(data, message):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            loads(data, "big")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak


def test_declared_shape_must_match_the_data():
    big = pickle.dumps(object_array([[1], [2]]), protocol=3)
    shape_2 = b"K\x02\x85"  # the (2,) shape tuple
    assert big.count(shape_2) == 1
    huge = big.replace(shape_2, b"J\x00\x00\x00\x40\x85")  # (2**30,)
    with pytest.raises(ValueError, match=r"object array of shape \(1073741824,\) but gives it "
                                         r"2 items"):
        loads(huge, "x.npy")
    numeric = pickle.dumps(np.arange(6, dtype=np.uint8), protocol=3)
    with pytest.raises(ValueError, match=r"uint8 array of shape \(1073741824,\)"):
        loads(numeric.replace(b"K\x06\x85", b"J\x00\x00\x00\x40\x85"), "x.npy")


def test_a_list_repeated_through_the_memo_is_refused():
    row, a = [1, 2, 3], np.empty(2, dtype=object)
    a[0] = a[1] = row
    with pytest.raises(ValueError, match="refers a second time to the same list"):
        loads(pickle.dumps(a, protocol=3), "x.npy")
    s = "shared"  # an immutable value may repeat
    assert loads(pickle.dumps([s, s], protocol=4), "y") == ["shared", "shared"]


def test_malformed_streams_name_the_problem():
    cases = {
        b"\x80\x02K\x01K\x02.": "unbalanced stack",
        b"\x80\x02K\x01.\x00": "stops at offset 5 of 6 bytes",
        b"\x80\x02e.": "closes a MARK it never opened",
        b"\x80\x02K\x01a.": "adds items to something that is not a list",
        b"\x80\x02h\x05.": "memo entry 5, which it never stored",
        b"\x80\x02}(]K\x01u.": "uses a list of 0 items as a dict key",
        b"\x80\x02K\x01\x80\x02.": "PROTO opcode at offset 4 is misplaced",
        b"\x80\x02X\x02\x00\x00\x00\xff\xfe.": "text that is not UTF-8",
        b"\x80\x02c" + b"a" * 300: "has no name of at most 256 bytes",
        b"\x80\x02K\x01\x85": "truncated",
        b"\x80\x02K\x01": "truncated",
        b"\x80\x02\x87.": "tuple from too few items",
        b"\x80\x02K\x01.": "holds 1, not an array, list or dict",
    }
    for data, message in cases.items():
        with pytest.raises(ValueError, match=message):
            loads(data, "bad")


def test_every_truncation_is_a_value_error_naming_the_source():
    data = py2_pickle({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 2]})
    loads(data, "full")
    for n in list(range(len(data) - 6200)) + list(range(len(data) - 40, len(data))):
        with pytest.raises(ValueError, match="^cut: "):
            loads(data[:n], "cut")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_damage_gives_a_value_error_or_plain_data(data):
    base = pickle.dumps(object_array([[1, 300, 70000], list(range(1200)), [5]]), protocol=4)
    damaged = bytearray(base)
    for _ in range(data.draw(st.integers(1, 4))):
        damaged[data.draw(st.integers(0, len(base) - 1))] = data.draw(st.integers(0, 255))
    try:
        out = loads(bytes(damaged), "damaged")
    except ValueError as e:
        assert str(e).startswith("damaged: ")
    else:
        assert isinstance(out, (np.ndarray, list, dict))


# ---- .npz archives -----------------------------------------------------------------------

@pytest.mark.parametrize("writer", ["numpy2", "numpy1", "py2"])
def test_read_npz_reads_object_and_numeric_members(tmp_path, writer):
    arrays = {"x": object_array([[1, 2], [3]]), "y": np.array([0, 1]),
              "f": np.arange(6.0).reshape(2, 3, order="F")}
    (tmp_path / "d.npz").write_bytes(npz(arrays, writer))
    got = read_npz(tmp_path / "d.npz", ["x", "y", "f"])
    assert_same_sequences(got["x"], arrays["x"])
    for k in ("y", "f"):
        np.testing.assert_array_equal(got[k], arrays[k])
        assert got[k].dtype == arrays[k].dtype and got[k].flags.writeable


def test_read_npz_errors_name_the_file_and_member(tmp_path):
    good = npy_bytes(object_array([[1]]))
    cases = {
        "missing.npz": ({"y.npy": good}, r"missing arrays \['x'\] \(has \['y'\]\)"),
        "header.npz": ({"x.npy": b"\x93NUMPY\x01\x00\x05\x00{bad}"}, r"\(x\.npy\): not a valid"),
        "magic.npz": ({"x.npy": b"PK not npy"}, r"\(x\.npy\): not a valid \.npy"),
        "mismatch.npz": ({"x.npy": npy_header((3,)) + pickle.dumps(object_array([[1]]), 3)},
                         r"announces an object array of shape \(3,\), its pickle holds"),
        "short.npz": ({"x.npy": npy_header((4,), "<i8") + b"\x00" * 8},
                      r"announces shape \(4,\) of int64 \(32 bytes\), its data has 8"),
        "strings.npz": ({"x.npy": npy_bytes(np.array(["a"]))}, "holds dtype <U1"),
        "evil.npz": ({"x.npy": npy_header((1,)) + pickle.dumps(Runs(os.system, "true"), 3)},
                     r"\(x\.npy\): its pickle names posix.system"),
    }
    for name, (members, message) in cases.items():
        (tmp_path / name).write_bytes(npz({}, raw=members))
        with pytest.raises(ValueError, match=message) as e:
            read_npz(tmp_path / name, ["x"])
        assert str(tmp_path / name) in str(e.value)
    (tmp_path / "trunc.npz").write_bytes(npz({"x": object_array([[1]])})[:50])
    with pytest.raises(ValueError, match="trunc.npz: not a valid .npz dataset file"):
        read_npz(tmp_path / "trunc.npz", ["x"])


def test_read_npz_refuses_a_member_larger_than_its_limit_before_reading(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", npy_header((1,)) + b"\x00" * (4 << 20))  # 4 MB, compresses to KB
    (tmp_path / "bomb.npz").write_bytes(buf.getvalue())
    assert len(buf.getvalue()) < 64 << 10
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"bomb.npz: .*array 'x' declares 4194432 bytes, "
                                             r"more than the 1048576"):
            read_npz(tmp_path / "bomb.npz", ["x"], max_bytes=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak
    assert MAX_NPY_BYTES >= 64 << 20  # room for the real IMDB (6 million indices a split)
