"""keras.utils' data side against Keras 3 (torch backend; its grain path, which needs no
TensorFlow, for the *_dataset_from_directory functions) on files and arrays made here:
the same arrays, labels, class names, file order for a seed, splits; the image helpers;
get_file from a local server, and archives that try to write outside their folder."""
import hashlib
import io
import logging
import os
import tarfile
import wave
import zipfile

import numpy as np
import pytest

import oracles

import mgp
from dataset_files import server  # noqa: F401 (the fixture)

keras = oracles.keras()
oracles.module("grain")  # Keras's *_dataset_from_directory(format="grain") needs it
Image = oracles.module("PIL.Image")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def write_images(root, classes=("b_cls", "a_cls"), per_class=4):
    rng = np.random.default_rng(0)
    for c in classes:
        os.makedirs(root / c / "sub", exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (7 + i, 9 - i % 2, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / c / f"{i}.png")
        Image.fromarray(rng.integers(0, 255, (5, 6), dtype=np.uint8)).save(root / c / "sub/x.jpg")
        (root / c / "notes.txt").write_text("not an image")
    return root


def same_batches(ours, theirs, atol=0.0):
    theirs = list(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        a, b = (a, b) if isinstance(a, tuple) else ((a,), (b,))
        for x, y in zip(a, b):
            y = np.asarray(y)
            assert x.shape == y.shape and x.dtype == y.dtype, (x.shape, y.shape, x.dtype)
            if x.dtype.kind == "U":
                assert x.tolist() == list(y)
            else:
                np.testing.assert_allclose(x, y, atol=atol, rtol=0)


IMAGE_CASES = [
    dict(),
    dict(label_mode="categorical", color_mode="grayscale", crop_to_aspect_ratio=True),
    dict(label_mode="binary", color_mode="rgba", pad_to_aspect_ratio=True,
         interpolation="nearest"),
    dict(label_mode=None, interpolation="bicubic", data_format="channels_first"),
    dict(class_names=["b_cls", "a_cls"], batch_size=None),
    dict(labels=[1, 0, 2, 2, 1, 0, 1, 0, 2, 2], image_size=6),
]


@pytest.mark.parametrize("kwargs", IMAGE_CASES)
def test_image_dataset_from_directory_as_keras(tmp_path, kwargs):
    root = write_images(tmp_path)
    args = dict(image_size=(4, 5), batch_size=3, shuffle=False, verbose=False) | kwargs
    ours = mgp.utils.image_dataset_from_directory(root, **args)
    theirs = keras.utils.image_dataset_from_directory(root, format="grain", **args)
    assert ours.class_names == theirs.class_names
    assert ours.file_paths == theirs.file_paths
    same_batches(ours, theirs, atol=2e-4)  # pixels 0..255 resized in float32


def test_shuffled_directory_files_labels_and_splits_are_keras_s(tmp_path):
    root = write_images(tmp_path, classes=("c", "a", "b"), per_class=5)
    args = dict(image_size=(3, 3), shuffle=True, seed=7, validation_split=0.4, verbose=False)
    train, val = mgp.utils.image_dataset_from_directory(root, subset="both", **args)
    k_train, k_val = keras.utils.image_dataset_from_directory(root, subset="both",
                                                              format="grain", **args)
    assert train.file_paths == k_train.file_paths and val.file_paths == k_val.file_paths
    assert not set(train.file_paths) & set(val.file_paths)
    # each file's label is its class folder, wherever the shuffle put it
    for dataset in (train, val):
        names = [dataset.class_names[int(i)] for i in dataset.targets]
        assert names == [os.path.relpath(p, root).split(os.sep)[0] for p in dataset.file_paths]
    alone = mgp.utils.image_dataset_from_directory(root, subset="validation", **args)
    assert alone.file_paths == val.file_paths


def test_a_shuffled_batch_dataset_reshuffles_each_pass_from_its_seed(tmp_path):
    root = write_images(tmp_path)
    a, b = (mgp.utils.image_dataset_from_directory(root, image_size=(2, 2), batch_size=4,
                                                   seed=5, verbose=False) for _ in range(2))
    passes = []
    for _ in range(3):
        batches_a, batches_b = list(a), list(b)
        for (xa, ya), (xb, yb) in zip(batches_a, batches_b):
            np.testing.assert_array_equal(xa, xb)
        passes.append(np.concatenate([x.reshape(len(x), -1) for x, _ in batches_a]))
    for p in passes:  # every pass is all the samples, once
        assert sorted(map(bytes, p)) == sorted(map(bytes, passes[0]))
    assert not np.array_equal(passes[0], passes[1])


def test_fit_on_an_image_dataset_learns_and_validates(tmp_path):
    root = write_images(tmp_path)
    train, val = mgp.utils.image_dataset_from_directory(
        root, image_size=(8, 8), batch_size=4, seed=1, validation_split=0.2, subset="both",
        verbose=False)
    model = mgp.Sequential([mgp.Input((8, 8, 3)), mgp.layers.Flatten(), mgp.layers.Dense(2)])
    model.compile(optimizer="adam", loss=mgp.losses.SparseCategoricalCrossentropy(
        from_logits=True), metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert model.predict(val, verbose=0).shape == (2, 2)


def test_directory_errors(tmp_path):
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="no files found in directory .*empty"):
        mgp.utils.image_dataset_from_directory(tmp_path / "empty", verbose=False)
    root = write_images(tmp_path / "images")
    with pytest.raises(ValueError, match="needs a seed"):
        mgp.utils.image_dataset_from_directory(root, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match=r"class_names \['nope'\] do not match"):
        mgp.utils.image_dataset_from_directory(root, class_names=["nope"], verbose=False)
    with pytest.raises(ValueError, match="labels has 3 entries but .* holds 10 files"):
        mgp.utils.image_dataset_from_directory(root, labels=[0, 1, 0], verbose=False)
    with pytest.raises(ValueError, match="exactly 2 classes"):
        (root / "third").mkdir()
        (root / "third" / "x.png").write_bytes((root / "a_cls" / "0.png").read_bytes())
        mgp.utils.image_dataset_from_directory(root, label_mode="binary", verbose=False)
    (root / "a_cls" / "broken.png").write_bytes(b"\x89PNG not really")
    data = mgp.utils.image_dataset_from_directory(root, shuffle=False, batch_size=50,
                                                  verbose=False)
    with pytest.raises(ValueError, match=r"broken\.png is not an image Pillow can read"):
        data[0]


def test_text_dataset_from_directory_as_keras(tmp_path):
    for c, texts in (("pos", ["good film", "great ✓", "fine"]), ("neg", ["bad", "awful plot"])):
        (tmp_path / c).mkdir()
        for i, text in enumerate(texts):
            (tmp_path / c / f"{i}.txt").write_text(text, encoding="utf-8")
    for kwargs in (dict(), dict(max_length=4, label_mode="binary"), dict(label_mode=None)):
        args = dict(batch_size=2, shuffle=False, verbose=False, **kwargs)
        ours = mgp.utils.text_dataset_from_directory(tmp_path, **args)
        theirs = keras.utils.text_dataset_from_directory(tmp_path, format="grain", **args)
        assert ours.class_names == theirs.class_names
        same_batches(ours, theirs)


def write_wav(path, samples, rate=8000, width=2):
    samples = np.asarray(samples)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(samples.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        if width == 1:
            f.writeframes((samples + 128).astype(np.uint8).tobytes())
        elif width == 3:
            v = samples.astype("<i4").reshape(-1, 1).view(np.uint8)[:, :3]
            f.writeframes(v.tobytes())
        else:
            f.writeframes(samples.astype(f"<i{width}").tobytes())


def test_audio_dataset_from_directory_reads_wav_as_tensorflow_scales_it(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "yes").mkdir()
    (tmp_path / "no").mkdir()
    sounds = {"yes/a.wav": (rng.integers(-2 ** 15, 2 ** 15, (5, 2)), 2, 2 ** 15),
              "yes/b.wav": (rng.integers(-128, 128, (3, 2)), 1, 128),
              "no/c.wav": (rng.integers(-2 ** 23, 2 ** 23, (4, 2)), 3, 2 ** 23)}
    for name, (samples, width, _) in sounds.items():
        write_wav(tmp_path / name, samples, width=width)
    ours = mgp.utils.audio_dataset_from_directory(tmp_path, batch_size=3, shuffle=False,
                                                  verbose=False)
    paths, labels, names = keras.src.utils.dataset_utils.index_directory(
        str(tmp_path), "inferred", (".wav",), shuffle=False, verbose=False)
    assert ours.class_names == names and ours.file_paths == paths
    x, y = ours[0]
    np.testing.assert_array_equal(y, labels)
    assert x.shape == (3, 5, 2) and x.dtype == np.float32
    for i, path in enumerate(paths):
        samples, _, scale = sounds[os.path.relpath(path, tmp_path)]
        np.testing.assert_array_equal(x[i, :len(samples)], samples / scale)
        assert not x[i, len(samples):].any()  # padded with zeros to the longest
    cut = mgp.utils.audio_dataset_from_directory(tmp_path, output_sequence_length=4,
                                                 shuffle=False, verbose=False)
    assert cut[0][0].shape == (3, 4, 2)
    ragged = mgp.utils.audio_dataset_from_directory(tmp_path, ragged=True, shuffle=False,
                                                    verbose=False)
    assert [len(s) for s in ragged[0][0]] == [len(sounds[os.path.relpath(p, tmp_path)][0])
                                             for p in paths]
    with pytest.raises(ValueError, match="sampled at 8000 Hz, not the sampling_rate=16000"):
        mgp.utils.audio_dataset_from_directory(tmp_path, sampling_rate=16000,
                                               verbose=False)[0]
    (tmp_path / "no" / "bad.wav").write_bytes(b"RIFF....WAVEnope")
    with pytest.raises(ValueError, match=r"bad\.wav is not a PCM \.wav file"):
        mgp.utils.audio_dataset_from_directory(tmp_path, shuffle=False, verbose=False)[0]


@pytest.mark.parametrize("kwargs", [
    dict(sequence_length=4),
    dict(sequence_length=3, sequence_stride=2, sampling_rate=3, batch_size=4),
    dict(sequence_length=5, start_index=3, end_index=20, batch_size=None),
    dict(sequence_length=4, targets=None),
])
def test_timeseries_dataset_from_array_as_keras(kwargs):
    data = np.arange(60, dtype=np.float32).reshape(30, 2)
    args = dict(targets=np.arange(30) * 10, batch_size=3) | kwargs
    same_batches(mgp.utils.timeseries_dataset_from_array(data, **args),
                 keras.utils.timeseries_dataset_from_array(data, format="grain", **args))


def test_shuffled_timeseries_are_the_same_windows():
    data = np.arange(40, dtype=np.float32)
    windows = mgp.utils.timeseries_dataset_from_array(data, data, sequence_length=3,
                                                      shuffle=True, seed=2, batch_size=5)
    x = np.concatenate([b[0] for b in windows])
    assert sorted(x[:, 0].tolist()) == list(range(38))
    np.testing.assert_array_equal(x[:, 1] - x[:, 0], 1)
    with pytest.raises(ValueError, match="sequence_stride must be above 0"):
        mgp.utils.timeseries_dataset_from_array(data, None, 3, sequence_stride=0)


def test_split_dataset_sizes_as_keras():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    for left, right in ((0.8, None), (None, 3), (4, 0.6), (0.25, 0.75)):
        ours = mgp.utils.split_dataset((x, y), left_size=left, right_size=right)
        theirs = keras.utils.split_dataset((x, y), left_size=left, right_size=right)
        assert [len(part[0]) for part in ours] == [len(part) for part in theirs]
    # sizes that leave samples out (Keras's tf path takes them; its torch path cannot)
    assert [len(p[0]) for p in mgp.utils.split_dataset((x, y), 0.3, 0.3)] == [3, 3]
    left, right = mgp.utils.split_dataset((x, y), left_size=0.7)
    np.testing.assert_array_equal(left[0], x[:7])  # in order without shuffle
    np.testing.assert_array_equal(right[1], y[7:])
    a, b = mgp.utils.split_dataset(x, right_size=2, shuffle=True, seed=1)
    assert sorted(np.concatenate([a, b])[:, 0]) == sorted(x[:, 0])
    for bad, error in (((0, None), ValueError), (("half", None), TypeError),
                       ((0.7, 0.7), ValueError), ((None, None), ValueError)):
        with pytest.raises(error):
            mgp.utils.split_dataset(x, left_size=bad[0], right_size=bad[1])


# ---- images as arrays and files ------------------------------------------------------------
def test_image_helpers_as_keras(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 5, (6, 7, 3)).astype(np.float32)
    for data_format, arr in (("channels_last", x), ("channels_first", x.transpose(2, 0, 1))):
        for scale in (True, False):
            ours = mgp.utils.array_to_img(np.clip(arr, 0, 255), data_format, scale=scale)
            theirs = keras.utils.array_to_img(np.clip(arr, 0, 255), data_format, scale=scale)
            assert ours.mode == theirs.mode
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
            np.testing.assert_array_equal(mgp.utils.img_to_array(ours, data_format),
                                          keras.utils.img_to_array(theirs, data_format))
    gray = mgp.utils.array_to_img(x[:, :, :1] * 1000)  # values past 255: 32-bit grayscale
    assert gray.mode == keras.utils.array_to_img(x[:, :, :1] * 1000).mode
    for name, kwargs in (("a.png", {}), ("b.jpg", {"quality": 95}), ("c.bmp", {})):
        mgp.utils.save_img(tmp_path / ("m" + name), x, **kwargs)
        keras.utils.save_img(tmp_path / ("k" + name), x, **kwargs)
        assert (tmp_path / ("m" + name)).read_bytes() == (tmp_path / ("k" + name)).read_bytes()
    for kwargs in (dict(), dict(color_mode="grayscale", target_size=(3, 4)),
                   dict(color_mode="rgba", target_size=(5, 3), interpolation="bicubic",
                        keep_aspect_ratio=True)):
        ours = mgp.utils.load_img(tmp_path / "ma.png", **kwargs)
        theirs = keras.utils.load_img(tmp_path / "ma.png", **kwargs)
        assert ours.mode == theirs.mode and ours.size == theirs.size
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    buffer = io.BytesIO((tmp_path / "ma.png").read_bytes())
    assert mgp.utils.load_img(buffer).size == (7, 6)
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        mgp.utils.save_img(tmp_path / "rgba.jpg", np.concatenate([x, x[:, :, :1]], -1))


def test_image_helper_errors(tmp_path, monkeypatch):
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"bad\.png is not an image Pillow can read"):
        mgp.utils.load_img(tmp_path / "bad.png")
    with pytest.raises(ValueError, match="rank 3"):
        mgp.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="1, 3 or 4 channels, got 2"):
        mgp.utils.array_to_img(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="interpolation must be one of"):
        mgp.utils.save_img(tmp_path / "ok.png", np.ones((4, 4, 3)))
        mgp.utils.load_img(tmp_path / "ok.png", target_size=(2, 2), interpolation="cubic")
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)  # as if Pillow were absent
    with pytest.raises(ImportError, match=r'pip install "mgp\[images\]"'):
        mgp.utils.load_img(tmp_path / "ok.png")
    with pytest.raises(ImportError, match=r"mgp\[images\]"):
        mgp.utils.image_dataset_from_directory(tmp_path)


# ---- get_file ------------------------------------------------------------------------------
def tar_bytes(members, mode="w:gz"):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.type, info.linkname = kind, data
                tar.addfile(info)
    return buffer.getvalue()


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members:
            z.writestr(name, data)
    return buffer.getvalue()


def test_get_file_downloads_checks_caches_and_extracts_as_keras(server, tmp_path):  # noqa: F811
    body = b"hello, data\n" * 100
    server.files["data.bin"] = body
    server.files["flowers.tgz"] = tar_bytes([("flowers/a.txt", b"rose", "file"),
                                             ("flowers/b/c.txt", b"tulip", "file")])
    server.files["words.zip"] = zip_bytes([("words/x.txt", b"a b c")])
    sha, md5 = hashlib.sha256(body).hexdigest(), hashlib.md5(body).hexdigest()
    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    theirs_dir.mkdir()  # (Keras falls back to /tmp/.keras for a cache_dir not there yet)
    cases = (dict(fname="data.bin", file_hash=sha), dict(origin_name="data.bin", md5_hash=md5),
             dict(fname="flowers.tgz", extract=True),
             dict(origin_name="flowers.tgz", untar=True),
             dict(fname="words", origin_name="words.zip", extract=True, archive_format="zip"))
    for case, kwargs in enumerate(cases):
        kwargs = dict(kwargs, cache_subdir="datasets" if case == 0 else f"case{case}")
        origin = server.url + kwargs.pop("origin_name", kwargs.get("fname"))
        ours = mgp.utils.get_file(origin=origin, cache_dir=ours_dir, **kwargs)
        theirs = keras.utils.get_file(origin=origin, cache_dir=theirs_dir, **kwargs)
        assert os.path.relpath(ours, ours_dir) == os.path.relpath(theirs, theirs_dir)
        if os.path.isdir(theirs):
            walk = [sorted((os.path.relpath(r, t), sorted(f)) for r, _, f in os.walk(t))
                    for t in (ours, theirs)]
            assert walk[0] == walk[1]
        else:
            assert open(ours, "rb").read() == body
    requests = len(server.requests)
    mgp.utils.get_file("data.bin", server.url + "data.bin", file_hash=sha, cache_dir=ours_dir)
    assert len(server.requests) == requests  # cached, hash matches: no download
    mgp.utils.get_file("data.bin", server.url + "data.bin", cache_dir=ours_dir,
                       force_download=True)
    assert len(server.requests) == requests + 1
    with pytest.raises(ValueError, match="sha256 .* expected 0{64}"):
        mgp.utils.get_file("other.bin", server.url + "data.bin", file_hash="0" * 64,
                           cache_dir=ours_dir)
    assert not (ours_dir / "datasets" / "other.bin").exists()
    with pytest.raises(ValueError, match="fname is a file name, not a path"):
        mgp.utils.get_file("../x.bin", server.url + "data.bin", cache_dir=ours_dir)


@pytest.mark.parametrize("archive, message", [
    (tar_bytes([("ok.txt", b"fine", "file"), ("../evil.txt", b"x", "file")]),
     r"member '\.\./evil\.txt', which would be written outside"),
    (tar_bytes([("/tmp/evil.txt", b"x", "file")]), "member '/tmp/evil.txt'"),
    (tar_bytes([("link", "../../outside", tarfile.SYMTYPE)]), r"link 'link' -> '\.\./\.\./"),
    (tar_bytes([("dev", "", tarfile.CHRTYPE)]), "neither a file, a folder nor a link"),
    (zip_bytes([("ok.txt", b"fine"), ("../../evil.txt", b"x")]),
     r"member '\.\./\.\./evil\.txt'"),
])
def test_get_file_refuses_archives_that_write_outside(server, tmp_path, archive,  # noqa: F811
                                                      message):
    server.files["evil.tar"] = archive
    with pytest.raises(ValueError, match=message):
        mgp.utils.get_file("evil.tar", server.url + "evil.tar", extract=True,
                           cache_dir=tmp_path / "cache")
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "cache" / "evil.txt").exists()
    assert not (tmp_path / "cache" / "datasets" / "evil_extracted").exists()
    assert sorted(os.listdir(tmp_path / "cache" / "datasets")) == ["evil.tar"]


# ---- the rest ------------------------------------------------------------------------------
def test_get_source_inputs_as_keras():
    results = []
    for k in (mgp, keras):
        a, b = k.Input((3,), name="a"), k.Input((3,), name="b")
        hidden = k.layers.Dense(3, name="d")(a)
        out = k.layers.Add(name="add")([hidden, b, k.layers.Dense(3, name="e")(a)])
        results.append([t.name if k is keras else t.layer.name
                        for t in k.utils.get_source_inputs(out)])
        assert k.utils.get_source_inputs(a)[0] is a
    assert results[0] == results[1] == ["a", "b"]


def test_config_as_keras():
    for k in (mgp, keras):
        config = k.utils.Config(learning_rate=0.1)
        config.momentum = 0.9
        config["seed"] = 1
        assert (config.learning_rate, config["momentum"], len(config), list(config)) == \
            (0.1, 0.9, 3, ["learning_rate", "momentum", "seed"])
        assert config.as_dict() == {"learning_rate": 0.1, "momentum": 0.9, "seed": 1}
        assert config.to_json() == '{"learning_rate": 0.1, "momentum": 0.9, "seed": 1}'
        with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
            config.momentun
        config.freeze()
        assert config.frozen
        with pytest.raises(ValueError, match="frozen"):
            config.seed = 2
        with pytest.raises(ValueError, match="frozen"):
            del config["seed"]
        config.unfreeze()
        config.pop("seed")
        assert "seed" not in config


def test_interactive_logging_sends_the_progress_bar_to_the_logger(caplog, capsys):
    model = mgp.Sequential([mgp.Input((2,)), mgp.layers.Dense(1)])
    model.compile("sgd", "mse")
    assert mgp.utils.is_interactive_logging_enabled()
    mgp.utils.disable_interactive_logging()
    try:
        assert not mgp.utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="mgp"):
            model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=1)
    finally:
        mgp.utils.enable_interactive_logging()
    assert "loss" in caplog.text and "loss" not in capsys.readouterr().out
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=1)
    assert "loss" in capsys.readouterr().out


def test_standardize_dtype_and_clear_session_as_keras():
    torch = oracles.torch()
    for dtype in ("int", "float32", np.float64, np.dtype("int8"), torch.float16, bool, int,
                  float, None, "uint8", "string", str):
        assert mgp.utils.standardize_dtype(dtype) == keras.utils.standardize_dtype(dtype)
    mgp.layers.Dense(1)
    mgp.utils.clear_session()
    assert mgp.layers.Dense(1).name == "dense"
