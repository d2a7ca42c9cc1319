"""FeatureSpace: Keras's configs (Keras builds from mgp's and mgp from Keras's), and outputs that
are the composition of mgp's preprocessing layers (each tested against Keras in its own file),
in Keras's order: the features' sorted names, then the crosses'. Keras's own FeatureSpace needs
TensorFlow to adapt or run, so its outputs cannot be the oracle here."""
import json

import numpy as np
import oracles
import pytest

import mgp
from mgp import layers
from mgp.utils import FeatureSpace

rng = np.random.default_rng(0)
N = 40
DATA = {"age": rng.normal(40, 10, N).astype(np.float32),
        "income": rng.uniform(0, 5, N).astype(np.float32),
        "city": rng.choice(np.array(["paris", "lyon", "nice", "lille"]), N),
        "code": rng.integers(0, 6, N),
        "score": rng.normal(size=N).astype(np.float32)}
FEATURES = {"age": "float_normalized", "income": "float_rescaled", "city": "string_categorical",
            "code": "integer_categorical", "score": "float_discretized"}


def test_configs_as_keras_both_ways():
    keras = oracles.keras()
    # the features Keras can build without TensorFlow
    features = {"a": "float", "b": FeatureSpace.float_rescaled(scale=2.0, offset=1.0, name="b"),
                "c": "float_normalized",
                "d": FeatureSpace.float_discretized(num_bins=None, bin_boundaries=[0.0, 1.0],
                                                    name="d")}
    keras_features = {**features,
                      "b": keras.utils.FeatureSpace.float_rescaled(scale=2.0, offset=1.0,
                                                                   name="b"),
                      "d": keras.utils.FeatureSpace.float_discretized(
                          num_bins=None, bin_boundaries=[0.0, 1.0], name="d")}
    ours = FeatureSpace(features, output_mode="dict", hashing_dim=8)
    theirs = keras.utils.FeatureSpace(keras_features, output_mode="dict", hashing_dim=8)
    mine = json.loads(json.dumps(ours.get_config()))
    assert mine == json.loads(json.dumps(theirs.get_config()))
    back = keras.utils.FeatureSpace.from_config(json.loads(json.dumps(mine)))
    assert json.loads(json.dumps(back.get_config())) == mine
    again = FeatureSpace.from_config(json.loads(json.dumps(theirs.get_config())))
    assert json.loads(json.dumps(again.get_config())) == mine


def _adapted(**kwargs):
    space = FeatureSpace(FEATURES, **kwargs)
    space.adapt(DATA)
    return space


def _expected_columns(space, data):
    """Each feature's encoding, from fresh layers adapted on the same data."""
    age = layers.Normalization(axis=-1)
    age.adapt(DATA["age"][:, None])
    city = layers.StringLookup()
    city.adapt(DATA["city"][:, None])
    code = layers.IntegerLookup()
    code.adapt(DATA["code"][:, None])
    score = layers.Discretization(num_bins=32)
    score.adapt(DATA["score"][:, None])
    one_hot = lambda index, n: np.eye(n, dtype=np.float32)[np.asarray(index).reshape(-1)]
    return {"age": age(data["age"][:, None]).numpy(),
            "city": one_hot(city(data["city"][:, None]).numpy(), city.vocabulary_size()),
            "code": one_hot(code(data["code"][:, None]).numpy(), code.vocabulary_size()),
            "income": data["income"][:, None],
            "score": one_hot(score(data["score"][:, None]).numpy(), 32)}


def test_concat_is_the_features_in_sorted_order():
    space = _adapted()
    batch = {k: v[:7] for k, v in DATA.items()}
    out = space(batch)
    expected = _expected_columns(space, batch)
    want = np.concatenate([expected[k] for k in sorted(expected)], axis=-1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6, atol=1e-6)


def test_dict_mode_crosses_and_one_sample():
    space = _adapted(output_mode="dict", crosses=[("city", "code")], crossing_dim=16)
    batch = {k: v[:5] for k, v in DATA.items()}
    out = space(batch)
    assert list(out) == ["age", "city", "code", "income", "score", "city_X_code"]
    city = layers.StringLookup()
    city.adapt(DATA["city"][:, None])
    code = layers.IntegerLookup()
    code.adapt(DATA["code"][:, None])
    crossed = layers.HashedCrossing(16)([city(batch["city"][:, None]),
                                         code(batch["code"][:, None])]).numpy()
    np.testing.assert_array_equal(out["city_X_code"].numpy(),
                                  np.eye(16, dtype=np.float32)[crossed.reshape(-1)])
    single = space({k: v[0] for k, v in DATA.items()})
    for key in out:
        np.testing.assert_array_equal(single[key].numpy(), out[key].numpy()[0])


def test_a_model_on_the_encoded_features_trains():
    space = _adapted()
    inputs, encoded = space.get_inputs(), space.get_encoded_features()
    model = mgp.Model(inputs, layers.Dense(1)(encoded))
    model.compile(optimizer="adam", loss="mse")
    x = {k: v[:, None] for k, v in DATA.items()}
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               model.layers[-1](space(DATA)).numpy(), rtol=1e-5, atol=1e-6)
    history = model.fit(x, DATA["score"][:, None], epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_adapt_takes_batches_and_hashed_features_need_no_adapt():
    batches = [{k: v[:20] for k, v in DATA.items()}, {k: v[20:] for k, v in DATA.items()}]
    space = FeatureSpace(FEATURES)
    space.adapt(iter(batches))
    np.testing.assert_allclose(space(DATA).numpy(), _adapted()(DATA).numpy(), rtol=1e-5,
                               atol=1e-6)
    hashed = FeatureSpace({"city": "string_hashed", "code": "integer_hashed"}, hashing_dim=8)
    out = hashed({"city": DATA["city"][:3], "code": DATA["code"][:3]})
    assert out.shape == (3, 16) and np.all(out.numpy().sum(-1) == 2)


@pytest.mark.parametrize("make, match", [
    (lambda: FeatureSpace({}), "non-empty dict"),
    (lambda: FeatureSpace({"a": "floaty"}), "feature 'a' has an unknown type 'floaty'"),
    (lambda: FeatureSpace({"a": "float"}, output_mode="list"), "output_mode must be"),
    (lambda: FeatureSpace({"a": "float"}, crosses=[("a", "b")]), r"names features \['b'\]"),
    (lambda: FeatureSpace(FEATURES)({k: v[:2] for k, v in DATA.items()}), "call adapt"),
    (lambda: _adapted()({"age": DATA["age"]}), "lacks features"),
    (lambda: _adapted()(DATA["age"]), "only be called with a dict"),
    (lambda: FeatureSpace({"c": FeatureSpace.string_categorical(output_mode="int")}).adapt(
        {"c": DATA["city"]}), "cannot concatenate feature 'c'"),
])
def test_bad_use_says_what_is_wrong(make, match):
    with pytest.raises(ValueError, match=match):
        make()
