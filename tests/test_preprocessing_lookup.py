"""The preprocessing layers Keras runs through TensorFlow (lookups, hashing, crossing,
TextVectorization, and adapt() on batches) against Keras's own results, recorded by
tests/fixtures/make_keras_preprocessing_fixtures.py in preprocessing.json: outputs and dtypes,
vocabularies, bin boundaries, statistics and configs. Plus the hash functions against values
TensorFlow computes, and bad input to each layer."""
import json
import os

import numpy as np
import pytest

from mgp import layers
from mgp.layers.preprocessing.hashing import fingerprint64, siphash24

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "preprocessing.json"), encoding="utf-8") as f:
    FIXTURE = json.load(f)
CASES = FIXTURE["cases"]
BASE_KEYS = ("name",)


def build(case):
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs.get("ngrams"), list):
        kwargs["ngrams"] = tuple(kwargs["ngrams"])
    layer = getattr(layers, case["class_name"])(**kwargs)
    if case["adapt"] is not None:
        layer.adapt(np.array(case["adapt"]))
    if case["batches"] is not None:
        layer.adapt(iter([np.array(b) for b in case["batches"]]))
    return layer


def call(layer, case):
    if case["tuple_inputs"]:
        return layer(tuple(np.array(v) for v in case["inputs"]))
    return layer(np.array(case["inputs"]))


def layer_config(config):
    return {k: v for k, v in config.items() if k not in BASE_KEYS}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_layer_equals_keras(case):
    layer = build(case)
    out = call(layer, case)
    values = out.data
    if case["dtype"] == "str":  # Keras's torch backend returns a list of Python strings
        assert values.dtype.kind == "U"
        assert values.tolist() == case["outputs"]
    else:
        assert values.dtype == np.dtype(case["dtype"]), case["name"]
        np.testing.assert_allclose(values, np.array(case["outputs"]), rtol=1e-6, atol=1e-6)
    if "vocabulary" in case:
        assert layer.get_vocabulary() == case["vocabulary"]
    if "bin_boundaries" in case:
        np.testing.assert_allclose(layer.bin_boundaries, case["bin_boundaries"], rtol=1e-6)
    if "mean" in case:
        np.testing.assert_allclose(layer.adapt_mean.data, case["mean"], rtol=1e-6)
        np.testing.assert_allclose(layer.adapt_variance.data, case["variance"], rtol=1e-6)
    ours = json.loads(json.dumps(layer.get_config()))  # tuples as JSON makes them
    assert layer_config(ours) == layer_config(case["config"])


@pytest.mark.parametrize("case", [c for c in CASES if c["class_name"] not in
                                  ("Normalization",)], ids=lambda c: c["name"])
def test_config_round_trip(case):
    """A layer made from its config (Keras's, or mgp's) computes what the original does."""
    layer = build(case)
    expected = call(layer, case).data
    for config in (layer.get_config(), case["config"]):
        config = dict(config)
        config.pop("dtype", None)
        clone = type(layer).from_config(config)
        if case["class_name"] in ("StringLookup", "IntegerLookup", "TextVectorization") and \
                case["kwargs"].get("vocabulary") is None:
            # an adapted vocabulary is not in the config (Keras saves it as a file asset)
            clone.set_vocabulary(layer.get_vocabulary(),
                                 **({"idf_weights": _idf(layer)} if _idf(layer) is not None
                                    else {}))
        out = call(clone, case).data
        assert out.tolist() == expected.tolist()


def _idf(layer):
    lookup = getattr(layer, "_lookup_layer", layer)
    if lookup.output_mode != "tf_idf":
        return None
    return lookup.idf_weights[:lookup.vocabulary_size()]  # without padding to max_tokens


# ---- the hash functions --------------------------------------------------------------------------

def test_fingerprint_and_siphash_on_known_values():
    """The Hashing cases above reach every length class of FarmHash (0-16, 17-32, 33-64, the
    64-byte loop) through Keras's bins; here the two functions on values their definitions fix:
    FarmHash's empty string, and SipHash-2-4's published test vector."""
    assert fingerprint64(b"") == 0x9ae16a3b2f90404f  # FarmHash's k2: the empty string's hash
    assert siphash24((0, 0), b"") != siphash24((1, 0), b"")
    # SipHash-2-4's published test vector: key 00..0f, message 00..0e (15 bytes)
    key = (int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)),
                                                                      "little"))
    assert siphash24(key, bytes(range(15))) == 0xa129ca6149be45e5


# ---- bad input -----------------------------------------------------------------------------------

def test_lookup_refuses_wrong_kinds_naming_the_layer():
    lookup = layers.StringLookup(vocabulary=["a", "b"], name="words")
    with pytest.raises(TypeError, match="StringLookup 'words' expected strings.*int64"):
        lookup(np.array([[1, 2]]))
    ints = layers.IntegerLookup(vocabulary=[1, 2], name="ids")
    with pytest.raises(TypeError, match="IntegerLookup 'ids' expected integers.*<U1"):
        ints(np.array([["a"]]))
    with pytest.raises(TypeError, match="IntegerLookup 'ids' expected integers in its adapt"):
        layers.IntegerLookup(name="ids").adapt(np.array([1.5, 2.5]))


def test_lookup_arguments_are_checked():
    with pytest.raises(ValueError, match="max_tokens must be an int > 1"):
        layers.StringLookup(max_tokens=1)
    with pytest.raises(ValueError, match="num_oov_indices must be an int >= 0"):
        layers.StringLookup(num_oov_indices=-1)
    with pytest.raises(ValueError, match="invert=True needs output_mode='int'"):
        layers.StringLookup(invert=True, output_mode="multi_hot")
    with pytest.raises(ValueError, match="repeats \\['a'\\]"):
        layers.StringLookup(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match="pad_to_max_tokens=True needs max_tokens"):
        layers.StringLookup(pad_to_max_tokens=True)
    with pytest.raises(ValueError, match="output_mode must be one of"):
        layers.TextVectorization(output_mode="bag")
    with pytest.raises(ValueError, match="num_bins must be a positive int"):
        layers.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="num_bins must be a positive int"):
        layers.HashedCrossing(num_bins=-3)


def test_failed_set_vocabulary_and_adapt_change_nothing():
    lookup = layers.StringLookup(vocabulary=["a", "b"], max_tokens=4)
    with pytest.raises(ValueError, match="exceeds max_tokens=4"):
        lookup.set_vocabulary(["x", "y", "z", "w"])
    assert lookup.get_vocabulary() == ["[UNK]", "a", "b"]
    with pytest.raises(ValueError, match="cannot learn one"):
        lookup.adapt(np.array(["q"]))
    assert lookup.get_vocabulary() == ["[UNK]", "a", "b"]
    counts = layers.StringLookup(output_mode="count", name="counts")
    counts.adapt(np.array(["a", "b"]))
    with pytest.raises(RuntimeError, match="vocabulary size cannot change"):
        counts.adapt(np.array(["a", "b", "c", "d"]))
    assert counts.get_vocabulary() == ["[UNK]", "b", "a"]


def test_encodings_before_a_vocabulary_and_out_of_vocabulary_without_oov_indices():
    with pytest.raises(RuntimeError, match="vocabulary must be set"):
        layers.StringLookup(output_mode="multi_hot", name="bag")(np.array([["a"]]))
    strict = layers.StringLookup(vocabulary=["a"], num_oov_indices=0, name="strict")
    assert strict(np.array(["a"])).data.tolist() == [0]
    with pytest.raises(ValueError, match="'strict'.*in the vocabulary, got \\['zz'\\]"):
        strict(np.array(["a", "zz"]))


def test_text_vectorization_bad_input():
    tv = layers.TextVectorization(name="text")
    tv.adapt(["a b", "b c"])
    with pytest.raises(TypeError, match="TextVectorization 'text' expected strings.*float"):
        tv(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="last axis of 1, got shape \\(2, 2\\)"):
        tv(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="output_sequence_length is used only with"):
        layers.TextVectorization(output_mode="multi_hot", output_sequence_length=3)
    with pytest.raises(ValueError, match="ngrams must be None, a positive int"):
        layers.TextVectorization(ngrams=0)


def test_hashed_crossing_bad_input():
    cross = layers.HashedCrossing(num_bins=5, name="cross")
    with pytest.raises(ValueError, match="'cross' must be called on a tuple or list of at "
                                         "least two"):
        cross(np.array(["a"]))
    with pytest.raises(ValueError, match="every feature must have one shape"):
        cross((np.array(["a", "b"]), np.array([1])))
    with pytest.raises(TypeError, match="integers or strings, got dtype float"):
        cross((np.array([1.5]), np.array([1])))


def test_vocabulary_assets_round_trip(tmp_path):
    """save_assets writes Keras's vocabulary.txt (special tokens first, no final newline);
    load_assets reads it back into a layer made from the config."""
    tv = layers.TextVectorization(max_tokens=10, output_mode="tf_idf")
    tv.adapt(["the cat", "the dog", "a cat"])
    tv.save_assets(str(tmp_path))
    text = (tmp_path / "vocabulary.txt").read_text(encoding="utf-8")
    assert text == "\n".join(tv.get_vocabulary())
    store = {}
    tv.save_own_variables(store)
    clone = layers.TextVectorization.from_config(tv.get_config())
    clone.load_own_variables(store)
    clone.load_assets(str(tmp_path))
    x = np.array(["the cat and the dog", "zebra"])
    np.testing.assert_array_equal(clone(x).data, tv(x).data)


# ---- .keras files --------------------------------------------------------------------------------
import zipfile  # noqa: E402

import mgp  # noqa: E402

with open(os.path.join(HERE, "fixtures", "text_model.json"), encoding="utf-8") as f:
    TEXT_MODEL = json.load(f)
TEXT_MODEL_FILE = os.path.join(HERE, "fixtures", "text_model.keras")


def _predict(model):
    return model.predict([np.array(TEXT_MODEL["texts"]),
                          np.array(TEXT_MODEL["numbers"], np.float32)], verbose=0)


def test_keras_text_model_loads_with_its_vocabulary_and_predicts_as_keras():
    """A Keras-saved model with an adapted TextVectorization (its vocabulary a file asset) and
    an adapted Normalization (its statistics weights): mgp rebuilds both and predicts Keras's
    values, from strings."""
    model = mgp.saving.load_model(TEXT_MODEL_FILE)
    words = model.get_layer("words")
    assert words.get_vocabulary() == TEXT_MODEL["vocabulary"]
    np.testing.assert_array_equal(words(np.array(TEXT_MODEL["texts"])).data,
                                  TEXT_MODEL["encoded"])
    np.testing.assert_allclose(_predict(model), TEXT_MODEL["predictions"], rtol=1e-6)


def _zip(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _layer_configs(config_json):
    layers_ = json.loads(config_json)["config"]["layers"]
    out = {}
    for entry in layers_:
        config = dict(entry["config"])
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = {k: v for k, v in config["dtype"].items()
                               if k != "shared_object_id"}
        out[entry["name"]] = (entry["class_name"], config, entry.get("build_config"))
    return out


def test_mgp_writes_the_text_model_as_keras_does(tmp_path):
    """mgp's file of the same model holds Keras's layer configs and the same vocabulary asset
    files, byte for byte, at Keras's paths (Keras itself loads such a file: checked with
    tests/fixtures/make_keras_preprocessing_fixtures.py's environment); mgp reloads it."""
    model = mgp.saving.load_model(TEXT_MODEL_FILE)
    path = tmp_path / "again.keras"
    model.save(path)
    ours, theirs = _zip(path), _zip(TEXT_MODEL_FILE)
    assets = sorted(n for n in theirs if n.startswith("assets/"))
    assert assets == ["assets/layers/text_vectorization/_lookup_layer/vocabulary.txt",
                      "assets/layers/text_vectorization/vocabulary.txt"]
    assert sorted(n for n in ours if n.startswith("assets/")) == assets
    for name in assets:
        assert ours[name] == theirs[name]
    ours_configs, theirs_configs = (_layer_configs(ours["config.json"]),
                                    _layer_configs(theirs["config.json"]))
    assert sorted(ours_configs) == sorted(theirs_configs)
    for name in ("text", "numbers", "words", "norm"):  # the inputs and preprocessing layers
        assert ours_configs[name] == theirs_configs[name]
    again = mgp.saving.load_model(path)
    np.testing.assert_allclose(_predict(again), TEXT_MODEL["predictions"], rtol=1e-6)


def test_lookup_layers_with_idf_weights_round_trip_through_keras_files(tmp_path):
    """tf_idf weights are kept as Keras keeps them (an `idf_weights` array in the layer's
    `vars` group), the vocabularies as assets; a StringLookup and an IntegerLookup too."""
    texts = np.array(["the cat sat", "the dog", "a cat and a dog", "cat"])
    tv = layers.TextVectorization(max_tokens=9, output_mode="tf_idf", pad_to_max_tokens=True,
                                  name="tfidf")
    tv.adapt(texts)
    words = layers.StringLookup(output_mode="count", name="lookup")
    words.adapt(np.array([["x", "y", "y"], ["z", "z", "z"]]))
    ids = layers.IntegerLookup(name="ids")
    ids.adapt(np.array([3, 3, 9, 12]))
    text_in = mgp.Input(shape=(), dtype="string")
    token_in = mgp.Input(shape=(3,), dtype="string")
    id_in = mgp.Input(shape=(2,), dtype="int64")
    model = mgp.Model([text_in, token_in, id_in], [tv(text_in), words(token_in), ids(id_in)])
    x = [texts, np.array([["y", "q", "z"]] * 4), np.array([[3, 4]] * 4)]
    before = model.predict(x, verbose=0)
    path = tmp_path / "lookups.keras"
    model.save(path)
    import h5py
    with zipfile.ZipFile(path) as z, h5py.File(z.open("model.weights.h5"), "r") as f:
        idf = f["layers/text_vectorization/vars/idf_weights"][()]
    np.testing.assert_allclose(idf, tv._lookup_layer.idf_weights)
    again = mgp.saving.load_model(path)
    for a, b in zip(again.predict(x, verbose=0), before):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert again.get_layer("ids").get_vocabulary() == ids.get_vocabulary()


def test_a_keras_file_without_its_vocabulary_asset_is_refused_naming_the_layer(tmp_path):
    entries = _zip(TEXT_MODEL_FILE)
    path = tmp_path / "no_assets.keras"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            if not name.startswith("assets/"):
                z.writestr(name, data)
    with pytest.raises(ValueError, match="layer 'words' could not load its assets from "
                                         "'assets/layers/text_vectorization/'"):
        mgp.saving.load_model(path)
