"""Hostile and careless files: each is a clear error naming the file (and the dataset, layer or
value), raised before anything is assigned, so the model and its optimizer stay bit for bit
as they were; nothing is read from outside the file, and nothing costs more memory than the
model needs.

The crafted files are made here with h5py and zipfile. Most are sealed again after the edit
(`h5check.seal`), as an attacker would: so each check below the whole-file digest is tested
on its own.
"""
import json
import os
import stat
import subprocess
import sys
import warnings
import zipfile

import h5py
import numpy as np
import oracles
import pytest

import mgp
from mgp import layers, saving
from mgp.errors import FileFormatError, LayoutMismatchError, UnsafeFileError
from mgp.models import Sequential, load_model
from mgp.saving import h5check

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
X = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
Y = np.random.default_rng(1).standard_normal((8, 2)).astype(np.float32)
KERNEL = "layers/dense/vars/0"  # the first Dense layer's kernel, (4, 3) float32


def small(step=True):
    mgp.utils.set_random_seed(0)
    m = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)])
    m.compile("adam", "mse")
    if step:
        m.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    return m


def snapshot(model):
    """Every value a load could change, as bytes: weights, optimizer state, its being built."""
    opt = model.optimizer
    return ([w.numpy().tobytes() for w in model.weights],
            [np.asarray(v.data).tobytes() for v in opt.variables], opt.built)


@pytest.fixture
def saved(tmp_path):
    model = small()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    return path, small(), tmp_path  # a second model, to load into


def edit(path, change):
    """Change the file with h5py, then seal it again (as a forger would)."""
    with h5py.File(path, "a") as f:
        change(f)
    h5check.seal(path)


def refused(model, path, error, *words):
    before = snapshot(model)
    with pytest.raises(error) as info:
        model.load_weights(path)
    message = str(info.value)
    assert str(path) in message, message
    for word in words:
        assert word in message, message
    assert snapshot(model) == before
    return message


def replace(f, name, **kwargs):
    del f[name]
    f.create_dataset(name, **kwargs)


# ---- 1. nothing read from outside the file -------------------------------------------------------
def test_external_storage_is_refused(saved):
    path, model, tmp_path = saved
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(12, dtype=np.float32).tobytes())
    edit(path, lambda f: replace(f, KERNEL, shape=(4, 3), dtype="f4",
                                 external=[(str(secret), 0, 48)]))
    refused(model, path, UnsafeFileError, KERNEL, "external file", "secret.bin")


def test_virtual_dataset_is_refused(saved):
    path, model, tmp_path = saved
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as g:
        g["x"] = np.ones((4, 3), np.float32)

    def virtual(f):
        layout = h5py.VirtualLayout(shape=(4, 3), dtype="f4")
        layout[:] = h5py.VirtualSource(str(other), "x", shape=(4, 3))
        del f[KERNEL]
        f.create_virtual_dataset(KERNEL, layout)
    edit(path, virtual)
    refused(model, path, UnsafeFileError, KERNEL, "virtual dataset")


@pytest.mark.parametrize("link", ["soft", "external", "hard"])
def test_links_are_refused(saved, link):
    path, model, tmp_path = saved
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as g:
        g["x"] = np.ones((4, 3), np.float32)

    def relink(f):
        if link == "hard":  # a second path to a dataset already there
            f["layers/dense/vars/extra"] = f[KERNEL]
            return
        del f[KERNEL]
        f[KERNEL] = (h5py.SoftLink("/layers/dense_1/vars/0") if link == "soft"
                     else h5py.ExternalLink(str(other), "/x"))
    edit(path, relink)
    refused(model, path, UnsafeFileError, "link" if link != "hard" else "second path")


def test_filters_other_than_hdf5s_own_are_refused(saved):
    path, model, _ = saved
    edit(path, lambda f: replace(f, KERNEL, data=np.ones((4, 3), np.float32),
                                 compression="lzf"))  # h5py's own plugin
    refused(model, path, UnsafeFileError, KERNEL, "filter")


def test_gzip_compressed_weights_load(saved):
    """HDF5's built-in gzip (as h5repack writes it) is read as any other dataset."""
    path, model, _ = saved
    value = np.arange(12, dtype=np.float32).reshape(4, 3)
    edit(path, lambda f: replace(f, KERNEL, data=value, compression="gzip", shuffle=True,
                                 fletcher32=True))
    model.load_weights(path)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), value)


# ---- 2. every value checked before the first assignment -----------------------------------------
@pytest.mark.parametrize("kind", ["strings", "compound", "complex", "vlen", "reference"])
def test_non_numeric_datasets_of_the_right_shape(saved, kind):
    path, model, _ = saved

    def swap(f):
        name = "optimizer/vars/5"  # late in the file: everything before it would be assigned
        shape = f[name].shape
        del f[name]
        if kind == "strings":
            f.create_dataset(name, data=np.full(shape, b"abcd"))
        elif kind == "compound":
            f.create_dataset(name, shape=shape, dtype=[("a", "f4"), ("b", "i4")])
        elif kind == "complex":
            f.create_dataset(name, data=np.ones(shape, np.complex64))
        elif kind == "vlen":
            f.create_dataset(name, shape=shape, dtype=h5py.vlen_dtype("f4"))
        else:
            f.create_dataset(name, shape=shape, dtype=h5py.ref_dtype)
    edit(path, swap)
    refused(model, path, FileFormatError, "optimizer/vars/5", "not numbers")


def test_values_beyond_the_variables_dtype(saved):
    path, model, _ = saved
    edit(path, lambda f: replace(f, "layers/dense_1/vars/1",
                                 data=np.array([1e300, 0.0], np.float64)))
    refused(model, path, FileFormatError, "layers/dense_1/vars/1", "range of float32")


@pytest.mark.parametrize("name,value,words", [
    ("optimizer/vars/0", np.int64(-3), "step counter is negative"),
    ("optimizer/vars/1", np.float32(np.nan), "learning rate is nan"),
    ("optimizer/vars/1", np.float32(-1.0), "learning rate is -1.0"),
])
def test_optimizer_scalars(saved, name, value, words):
    path, model, _ = saved
    edit(path, lambda f: replace(f, name, data=value))
    refused(model, path, FileFormatError, name, words)


def test_an_unbuilt_optimizer_stays_unbuilt_when_the_load_fails(tmp_path):
    model = small()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    edit(path, lambda f: replace(f, "layers/dense_1/vars/1", data=np.array(["a", "b"], "S")))
    fresh = small(step=False)
    assert not fresh.optimizer.built
    refused(fresh, path, FileFormatError, "layers/dense_1/vars/1")
    assert not fresh.optimizer.built


# ---- 4. sizes -------------------------------------------------------------------------------------
def test_contiguous_dataset_without_its_bytes(saved):
    path, model, _ = saved
    edit(path, lambda f: replace(f, KERNEL, shape=(4, 3), dtype="f4"))  # never written
    refused(model, path, UnsafeFileError, KERNEL, "stores only 0 bytes")


def test_declared_shape_is_checked_before_reading(saved):
    """A huge dataset where the model has a small one: refused from its shape, unread."""
    path, model, _ = saved
    edit(path, lambda f: replace(f, KERNEL, data=np.zeros((4, 3), np.float32), chunks=(4, 3),
                                 maxshape=(None, 3)) or f[KERNEL].resize((1 << 28, 3)))
    refused(model, path, UnsafeFileError, KERNEL, "declares shape")


CHILD = r"""
import resource, sys, traceback
sys.path.insert(0, sys.argv[1])
import numpy as np, mgp
from mgp.models import Sequential, load_model
from mgp import layers
def vm():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize"):
            return int(line.split()[1]) * 1024
limit = vm() + (400 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    exec(sys.argv[2])
    print("RESULT ok")
except MemoryError:
    traceback.print_exc()
    print("RESULT MemoryError")
except Exception as e:
    print("RESULT", type(e).__name__, str(e).replace("\n", " "))
"""


def in_child(code, tmp_path):
    """Run `code` in a child process limited to 400 MB more address space than it starts with."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = subprocess.run([sys.executable, str(script), ROOT, code], capture_output=True,
                         text=True, timeout=300, check=False, env={**os.environ, "OMP_NUM_THREADS": "1",
                                                      "OPENBLAS_NUM_THREADS": "1"})
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT")]
    assert lines, out.stdout + out.stderr
    return lines[-1][len("RESULT "):]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc: Linux")
def test_memory_limited_loads(tmp_path):
    model = small()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    # 1. 4 GB of declared (unallocated, chunked) data outside the layout: never read
    edit(path, lambda f: f.create_dataset("junk", shape=(1 << 30,), dtype="f4", chunks=(1024,)))
    assert os.path.getsize(path) < 100_000
    build = ("m = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)]); "
             "m.compile('adam', 'mse'); ")
    assert in_child(build + f"m.load_weights({str(path)!r})", tmp_path) == \
        f"UnsafeFileError '{path}': dataset 'junk' declares shape (1073741824,) (4294967296 " \
        f"bytes of float32) but the file stores only 0 bytes of it"
    # 2. a .keras file whose weights entry holds 640 MiB (a zip bomb: zeros deflate 1000 to 1)
    bomb = tmp_path / "bomb.keras"
    model.save(tmp_path / "good.keras")
    with zipfile.ZipFile(tmp_path / "good.keras") as z, \
            zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for name in ("metadata.json", "config.json"):
            out.writestr(name, z.read(name))
        with out.open("model.weights.h5", "w", force_zip64=True) as w:
            block = bytes(1 << 24)
            for _ in range(40):  # 640 MiB of zeros, under 1 MB compressed
                w.write(block)
    assert os.path.getsize(bomb) < 3 << 20
    result = in_child(f"load_model({str(bomb)!r})", tmp_path)
    assert result.startswith(f"UnsafeFileError '{bomb}': 'model.weights.h5' declares "
                             f"{40 << 24} bytes"), result
    # 3. a model config asking for far more memory than there is
    config = json.loads(zipfile.ZipFile(tmp_path / "good.keras").read("config.json"))
    config["config"]["layers"][1]["config"]["units"] = 1 << 28
    huge = tmp_path / "huge.keras"
    with zipfile.ZipFile(tmp_path / "good.keras") as z, zipfile.ZipFile(huge, "w") as out:
        for name in z.namelist():
            out.writestr(name, json.dumps(config) if name == "config.json" else z.read(name))
    result = in_child(f"load_model({str(huge)!r})", tmp_path)
    assert result.startswith(f"UnsafeFileError '{huge}': layer 'dense") and \
        "the config describes a larger model than the file" in result, result


# ---- 7. files and paths ---------------------------------------------------------------------------
def test_a_file_both_hdf5_and_zip_is_refused(tmp_path):
    model = small()
    model.save(tmp_path / "m.h5")
    model.save(tmp_path / "m.keras")
    both = tmp_path / "both.h5"
    both.write_bytes((tmp_path / "m.h5").read_bytes() + (tmp_path / "m.keras").read_bytes())
    assert zipfile.is_zipfile(both) and h5py.is_hdf5(both)
    with pytest.raises(UnsafeFileError, match="both a zip archive and an HDF5 file"):
        load_model(both)
    with pytest.raises(UnsafeFileError, match="both a zip archive and an HDF5 file"):
        model.load_weights(both)


def test_overwrite_keeps_permission_bits(tmp_path):
    model = small()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    os.chmod(path, 0o640)
    model.save_weights(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    model.save(tmp_path / "m.keras")
    os.chmod(tmp_path / "m.keras", 0o600)
    model.save(tmp_path / "m.keras")
    assert stat.S_IMODE(os.stat(tmp_path / "m.keras").st_mode) == 0o600


def test_a_symlinked_checkpoint_updates_the_links_target(tmp_path):
    model = small()
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "real.weights.h5"
    link = tmp_path / "best.weights.h5"
    link.symlink_to(target)
    checkpoint = mgp.callbacks.ModelCheckpoint(str(link), save_weights_only=True)
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0, callbacks=[checkpoint])
    assert link.is_symlink() and target.is_file()
    fresh = small(step=False)
    fresh.load_weights(link)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(model.weights,
                                                                     fresh.weights))


def test_names_up_to_the_file_systems_limit(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    model = small()
    path = tmp_path / ("w" * (limit - len(".weights.h5")) + ".weights.h5")
    model.save_weights(path)
    model.load_weights(path)
    keras_path = tmp_path / ("k" * (limit - len(".keras")) + ".keras")
    model.save(keras_path)
    load_model(keras_path)


def test_a_killed_saves_temporaries_are_removed_by_the_next_save(tmp_path):
    model = small()
    path = tmp_path / "m.weights.h5"
    code = ("import os, sys; sys.path.insert(0, sys.argv[1]); import mgp\n"
            "from mgp.saving import atomic\n"
            "with atomic.atomic_path(sys.argv[2]) as tmp:\n"
            "    open(tmp, 'wb').write(b'half')\n"
            "    os._exit(9)\n")  # killed in the middle of the save
    subprocess.run([sys.executable, "-c", code, ROOT, str(path)], timeout=120, check=False)
    left = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert len(left) == 1
    model.save_weights(path)
    assert sorted(os.listdir(tmp_path)) == ["m.weights.h5"]


def test_a_registered_name_does_not_shadow_a_builtin_or_custom_objects(tmp_path):
    model = small()
    model.save(tmp_path / "m.keras")

    class Impostor(layers.Dense):
        pass
    saved = dict(saving.get_custom_objects())
    try:
        saving.get_custom_objects()["Dense"] = Impostor
        saving.register_keras_serializable(package="keras.layers", name="Dense")(Impostor)
        loaded = load_model(tmp_path / "m.keras")
        assert [type(x) for x in loaded.layers] == [layers.Dense, layers.Dense]

        Mine = type("Dense", (layers.Dense,), {})  # the caller's own Dense (same group name)
        loaded = load_model(tmp_path / "m.keras", custom_objects={"Dense": Mine})
        assert [type(x) for x in loaded.layers] == [Mine, Mine]
    finally:
        saving.get_custom_objects().clear()
        saving.get_custom_objects().update(saved)


# ---- 6. saved right after compile ---------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_saved_right_after_compile_loads_back(tmp_path, suffix):
    model = small(step=False)
    path = tmp_path / f"m{suffix}"
    if suffix == ".weights.h5":
        model.save_weights(path)
        fresh = small(step=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (no "state not loaded" warning)
            fresh.load_weights(path)
        assert not fresh.optimizer.built
    else:
        model.save(path)
        fresh = load_model(path)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(model.weights,
                                                                     fresh.weights))
    fresh.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)  # and trains on
    model.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(model.weights,
                                                                     fresh.weights))


# ---- the layout's own errors stay LayoutMismatchError ---------------------------------------------
def test_a_mismatch_is_a_layout_error(saved):
    path, _, _ = saved
    other = Sequential([layers.Input((4,)), layers.Dense(5), layers.Dense(2)])
    refused_model = other
    refused_model.compile("adam", "mse")
    refused(refused_model, path, LayoutMismatchError, "expects shape (4, 5)")


# ---- 3. a flipped bit is an error or harmless, never a crash, a hang or other values -----------
@pytest.mark.parametrize("kind,flips", [("weights", 300), ("backup", 100), ("keras", 100)])
def test_bitflip_sweep(kind, flips, tmp_path):
    """A small run of tools/bitflip_sweep.py (its docstring has the full sweep's command)."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import bitflip_sweep
    finally:
        sys.path.remove(os.path.join(ROOT, "tools"))
    counts, notes, _ = bitflip_sweep.sweep(kind, flips, seed=1, batch=flips, timeout=30,
                                           folder=str(tmp_path))
    assert sum(counts.values()) == flips
    assert all(counts[k] == 0 for k in bitflip_sweep.BAD), (counts, notes)
    assert counts["error"] > flips // 2, counts  # (the user block's padding is unused)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc: Linux")
def test_dataset_files_sizes_checked_before_allocating(tmp_path):
    import gzip
    import struct
    # an IDX header announcing 2 GB of images, followed by 1 MB of compressed zeros
    idx = tmp_path / "bomb-idx3-ubyte.gz"
    with gzip.open(idx, "wb") as f:
        f.write(b"\0\0\x08\x03" + struct.pack(">3I", 2_000_000, 32, 32))
        for _ in range(64):
            f.write(bytes(1 << 20))
    result = in_child("from mgp.datasets._formats import read_idx; "
                      f"read_idx({str(idx)!r})", tmp_path)
    assert result.startswith(f"ValueError {idx}: IDX header announces shape (2000000, 32, 32) "
                             f"(2048000000 bytes of data), more than its"), result
    # an .npz member whose header announces 2 GB, holding 8 bytes
    npz = tmp_path / "bomb.npz"
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1))
    header["shape"] = (1 << 28,)
    with zipfile.ZipFile(npz, "w") as z, z.open("x.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
        member.write(bytes(8))
    result = in_child("from mgp.datasets._formats import read_npz; "
                      f"read_npz({str(npz)!r}, ['x'])", tmp_path)
    assert result.startswith(f"ValueError {npz}: not a valid .npz dataset file (member x.npy "
                             f"announces shape (268435456,)"), result


# ---- 8. every error a config can cause names the file and what is wrong -------------------------
def _config_paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _config_paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _config_paths(v, (*path, i))


FUZZ_VALUES = [None, 0, -1, 2 ** 40, -2 ** 63, 1.5, float("nan"), float("inf"), "", "a",
               "relu", [], [1], [[]], {}, {"a": 1}, True, [None, None], {"class_name": "Dense"},
               {"class_name": "__numpy__", "config": {"value": [1], "dtype": "object"}},
               "deep"]


def test_fuzzed_configs_fail_cleanly(tmp_path):
    """Random entries of real configs replaced by values of every kind: each load either works
    or raises a ValueError (ConfigError, FileFormatError) naming the file; never an
    AttributeError, TypeError, KeyError, RecursionError or ZeroDivisionError."""
    i = layers.Input((6,))
    h = layers.Concatenate()([layers.Dense(4)(i), layers.Dense(4, activation="relu")(i)])
    functional = mgp.Model(i, layers.Dense(2, activation="softmax")(h))
    conv = Sequential([layers.Input((6, 6, 1)), layers.Conv2D(2, 3), layers.BatchNormalization(),
                       layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.1),
                       layers.Dense(2)])
    rng = np.random.default_rng(0)
    outcomes = {"loaded": 0, "error": 0}
    for n, model in enumerate([functional, conv]):
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        good = tmp_path / f"good{n}.keras"
        model.save(good)
        with zipfile.ZipFile(good) as z:
            files = {name: z.read(name) for name in z.namelist()}
        config = json.loads(files["config.json"])
        paths = [p for p in _config_paths(config) if p]
        for _ in range(120):
            changed = json.loads(files["config.json"])
            path = paths[rng.integers(len(paths))]
            value = FUZZ_VALUES[rng.integers(len(FUZZ_VALUES))]
            node = changed
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = "@deep@" if value == "deep" else value
            text = json.dumps(changed).replace('"@deep@"', "[" * 5000 + "]" * 5000)
            bad = tmp_path / "fuzzed.keras"
            with zipfile.ZipFile(bad, "w") as out:
                for name, data in files.items():
                    out.writestr(name, text if name == "config.json" else data)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    load_model(bad)
                outcomes["loaded"] += 1
            except ValueError as e:
                assert str(bad) in str(e), (path, value, str(e))
                outcomes["error"] += 1
    assert outcomes["error"] > 100 and outcomes["loaded"] > 20, outcomes


@pytest.mark.parametrize("value", [7, 1.5, np.array([1, 2])])
def test_a_name_attribute_of_the_wrong_kind(saved, value):
    """Read only where it is used (by_name=True): there it is an error naming it."""
    path, model, _ = saved
    edit(path, lambda f: f["layers/dense/vars"].attrs.__setitem__("name", value))
    before = snapshot(model)
    with pytest.raises(FileFormatError, match=r"attribute 'name' of 'layers/dense/vars' should "
                                              r"be text"):
        model.load_weights(path, by_name=True)
    assert snapshot(model) == before
    model.load_weights(path)  # by position: the names are not read


def test_a_format_version_of_the_wrong_kind(saved):
    path, model, _ = saved
    edit(path, lambda f: f.attrs.__setitem__("mgp_format_version", "x"))
    refused(model, path, FileFormatError, "newer mgp")


# ---- 2. BackupAndRestore's own attributes -------------------------------------------------------
@pytest.mark.parametrize("key,value,words", [
    ("backup_epoch", -1, "backup_epoch is -1"),
    ("backup_epoch", "3", "backup_epoch' of '/' should be an integer"),
    ("backup_rng_state", "{not json", "backup_rng_state is not valid JSON"),
    ("backup_rng_state", json.dumps({"bit_generator": "MT19937", "state": {}}),
     "not the state of a PCG64 generator"),
    ("backup_rng_state", json.dumps({"bit_generator": "PCG64", "state": {"state": "x"}}),
     "not a valid PCG64 state"),
    ("backup_layer_rng_states", "[1, 2]", "backup_layer_rng_states holds list"),
])
def test_a_bad_backup_attribute_changes_nothing(tmp_path, key, value, words):
    folder = tmp_path / "backup"
    model = small()
    backup = mgp.callbacks.BackupAndRestore(str(folder), delete_checkpoint=False)
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0, callbacks=[backup])
    path = folder / "latest.weights.h5"
    edit(path, lambda f: f.attrs.__setitem__(key, value))
    fresh = small()
    before = snapshot(fresh)
    rng_before = json.dumps(mgp.backend.rng().bit_generator.state)
    with pytest.raises(FileFormatError, match=words) as info:
        fresh.fit(X, Y, epochs=2, batch_size=8, verbose=0,
                  callbacks=[mgp.callbacks.BackupAndRestore(str(folder))])
    assert str(path) in str(info.value)
    assert snapshot(fresh) == before
    assert json.dumps(mgp.backend.rng().bit_generator.state) == rng_before


# ---- Keras reads what mgp writes now (sealed, 1.8 format), also right after compile -------------
def test_keras_reads_sealed_files_saved_right_after_compile(tmp_path):
    keras = oracles.keras()
    model = small(step=False)
    model.save_weights(tmp_path / "m.weights.h5")
    model.save(tmp_path / "m.keras")
    assert h5py.File(tmp_path / "m.weights.h5").userblock_size == h5check.USERBLOCK
    k = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    k.compile("adam", "mse")
    k.load_weights(tmp_path / "m.weights.h5")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    for a, b, c in zip(model.weights, k.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), keras.ops.convert_to_numpy(b))
        np.testing.assert_array_equal(a.numpy(), keras.ops.convert_to_numpy(c))
    k.save_weights(tmp_path / "k.weights.h5")  # and Keras's, saved right after compile
    k.save(tmp_path / "k.keras")
    fresh = small(step=False)
    fresh.load_weights(tmp_path / "k.weights.h5")
    again = load_model(tmp_path / "k.keras")
    for a, b, c in zip(model.weights, fresh.weights, again.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(a.numpy(), c.numpy())


def test_only_the_datasets_the_layout_names_are_read(saved):
    """A dataset outside the layout whose compressed bytes are garbage: reading it would fail,
    and the load does not read it."""
    path, model, _ = saved
    edit(path, lambda f: f.create_dataset("notes/junk", data=np.arange(4096, dtype="f4"),
                                          chunks=(4096,), compression="gzip"))
    with h5py.File(path, "r") as f:
        info = f["notes/junk"].id.get_chunk_info(0)
    with open(path, "r+b") as f:
        f.seek(info.byte_offset + 8)
        f.write(bytes(range(64)))
    h5check.seal(path)
    with h5py.File(path, "r") as f, pytest.raises(OSError):
        f["notes/junk"][()]
    model.load_weights(path)
