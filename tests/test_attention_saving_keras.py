"""Keras 3 `.weights.h5` files of a Transformer-style model with the embedding, normalization
and attention layers, both ways: mgp loads the file Keras wrote (make_keras_attention_fixtures.py)
and predicts what Keras predicted, writes the same groups and datasets, and Keras loads mgp's
file and predicts what mgp predicts."""
import os
import sys

import numpy as np
import pytest

import oracles

import mgp

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
sys.path.insert(0, FIXTURES)
try:
    from make_keras_attention_fixtures import tokens, transformer  # the builder takes mgp too
finally:
    sys.path.remove(FIXTURES)
from test_saving_keras import listing  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_mgp_loads_keras_transformer_weights_and_predicts_as_keras(tmp_path):
    model = transformer(mgp)
    keras_file = os.path.join(FIXTURES, "transformer.weights.h5")
    model.load_weights(keras_file)
    data = np.load(os.path.join(FIXTURES, "transformer.npz"))
    np.testing.assert_array_equal(data["x"], tokens())
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-5)
    model.save_weights(tmp_path / "m.weights.h5")  # the same groups and datasets as Keras's
    assert listing(tmp_path / "m.weights.h5") == listing(keras_file)


def test_keras_loads_mgp_transformer_weights(tmp_path):
    keras = oracles.keras()
    rng = np.random.default_rng(3)
    model = transformer(mgp)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.3
                       for w in model.weights])
    model.save_weights(tmp_path / "m.weights.h5")
    theirs = transformer(keras)
    theirs.load_weights(str(tmp_path / "m.weights.h5"))
    x = tokens()
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)),
                               model.predict(x, verbose=0), atol=1e-5)


def test_mgp_loads_the_whole_keras_transformer_file():
    """Keras's `.keras` zip: the configs of every layer here, rebuilt by mgp, then the weights."""
    model = mgp.saving.load_model(os.path.join(FIXTURES, "transformer.keras"))
    data = np.load(os.path.join(FIXTURES, "transformer.npz"))
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], atol=1e-5)
    names = [type(layer).__name__ for layer in model.layers]
    for name in ("Embedding", "MultiHeadAttention", "LayerNormalization", "EinsumDense",
                 "GroupedQueryAttention", "UnitNormalization", "Attention",
                 "AdditiveAttention"):
        assert name in names
