"""clone_model, the Lambda layer, pad_sequences and normalize, against Keras 3 (torch backend)
where Keras has the same thing."""
import numpy as np
import pytest

import oracles

import mgp
from mgp import layers

keras = oracles.keras()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
rng = np.random.default_rng(5)
X = rng.standard_normal((6, 4)).astype(np.float32)


# ---- clone_model ---------------------------------------------------------------------------------
def shared_functional():
    inputs = mgp.Input((4,), name="x")
    shared = layers.Dense(4, activation="tanh", name="shared")
    h = layers.Add()([shared(inputs), shared(shared(inputs))])
    return mgp.Model(inputs, layers.Dense(2, name="out")(layers.BatchNormalization()(h)))


@pytest.mark.parametrize("build", [
    lambda: mgp.Sequential([mgp.Input((4,)), layers.Dense(3, activation="relu"),
                            layers.Dropout(0.2), layers.Dense(2)]),
    shared_functional])
def test_clone_model_copies_the_architecture_with_new_weights(build):
    model = build()
    model.compile("adam", "mse", metrics=["mae"])
    clone = mgp.models.clone_model(model)
    assert type(clone) is type(model) and clone.name == model.name
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    assert len(clone.weights) == len(model.weights)
    assert not all(np.array_equal(a, b) for a, b in zip(clone.get_weights(),
                                                        model.get_weights()))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(X, verbose=0), model.predict(X, verbose=0))
    assert clone.compiled and clone.optimizer is not model.optimizer
    assert type(clone.optimizer).__name__ == "Adam"
    clone.fit(X, np.zeros((6, 2), np.float32), verbose=0)  # trains on its own weights
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])


def test_clone_model_keeps_shared_layers_shared_and_takes_a_clone_function():
    model = shared_functional()
    clone = mgp.models.clone_model(model)
    assert len(clone.weights) == len(model.weights)  # the shared Dense cloned once
    seen = []

    def keep_dense(layer):
        seen.append(layer.name)
        return layer if isinstance(layer, layers.Dense) else \
            type(layer).from_config(layer.get_config())
    partial = mgp.models.clone_model(model, clone_function=keep_dense)
    assert partial.get_layer("shared") is model.get_layer("shared")
    assert seen.count("shared") == 1
    new_input = mgp.Input((4,), name="other")
    on_new = mgp.models.clone_model(model, input_tensors=new_input)
    assert on_new.inputs[0] is new_input


def test_clone_model_recursive_and_call_function_and_subclassed():
    inner = mgp.Sequential([mgp.Input((4,)), layers.Dense(3)], name="inner")
    inputs = mgp.Input((4,))
    model = mgp.Model(inputs, layers.Dense(1)(inner(inputs)))
    flat = mgp.models.clone_model(model, recursive=True)
    assert flat.layers[1] is not inner and isinstance(flat.layers[1], mgp.Sequential)
    calls = []

    def call_function(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)
    mgp.models.clone_model(model, call_function=call_function)
    assert len(calls) == 2

    @mgp.saving.register_keras_serializable(package="tests")
    class Tiny(mgp.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)
    tiny = Tiny()
    tiny(X)
    clone = mgp.models.clone_model(tiny)
    assert isinstance(clone, Tiny) and clone.built and clone.dense is not tiny.dense
    with pytest.raises(ValueError, match="Sequential and functional models"):
        mgp.models.clone_model(tiny, clone_function=lambda layer: layer)


def test_clone_model_as_keras_for_the_same_model():
    def build(k):
        inputs = k.Input((4,))
        return k.Model(inputs, k.layers.Dense(2)(k.layers.Dense(3, activation="relu")(inputs)))
    ours, theirs = build(mgp), build(keras)
    ours_clone, theirs_clone = mgp.models.clone_model(ours), keras.models.clone_model(theirs)
    assert [w.shape for w in ours_clone.weights] == \
        [tuple(w.shape) for w in theirs_clone.weights]
    assert [type(l).__name__ for l in ours_clone.layers] == \
        [type(l).__name__ for l in theirs_clone.layers]


# ---- Lambda --------------------------------------------------------------------------------------
def scale_by(x, factor=1.0):
    return x * factor


def test_lambda_outputs_and_shapes_as_keras():
    cases = [dict(function=scale_by, arguments={"factor": 3.0}),
             dict(function=scale_by, output_shape=(4,)),
             dict(function=lambda x: x[:, :2], output_shape=lambda s: (s[0], 2)),
             dict(function=lambda x: x[:, 1:])]
    for kwargs in cases:
        ours = layers.Lambda(**kwargs)
        theirs = keras.layers.Lambda(**kwargs)
        np.testing.assert_allclose(ours(X).numpy(), keras.ops.convert_to_numpy(theirs(X)))
        assert ours(mgp.Input((None, 4))).shape == tuple(theirs(keras.Input((None, 4))).shape)


def test_lambda_masks_training_and_saving_by_registered_name(tmp_path):
    def masked_sum(x, mask=None, training=None):
        return x if mask is None else x * mask.numpy()[..., None]
    layer = layers.Lambda(masked_sum, mask=lambda inputs, mask: mask)
    assert layer.supports_masking
    x = mgp.tensor(np.ones((2, 3, 4), np.float32))
    x._keras_mask = mgp.tensor(np.array([[1, 1, 0], [1, 0, 0]], bool))
    out = layer(x)
    np.testing.assert_array_equal(out.numpy().sum(axis=(1, 2)), [8, 4])
    np.testing.assert_array_equal(out._keras_mask.numpy(), x._keras_mask.numpy())

    registered = mgp.saving.register_keras_serializable(package="tests")(scale_by)
    keras.saving.register_keras_serializable(package="tests")(scale_by)
    inputs = mgp.Input((4,))
    model = mgp.Model(inputs, layers.Lambda(registered, arguments={"factor": 2.0})(inputs))
    model.save(tmp_path / "m.keras")
    for loaded in (mgp.models.load_model(tmp_path / "m.keras"),
                   keras.models.load_model(str(tmp_path / "m.keras"))):
        np.testing.assert_allclose(np.asarray(loaded.predict(X, verbose=0)), X * 2)
    anonymous = mgp.Model(inputs, layers.Lambda(lambda t: t + 1, name="plus_one")(inputs))
    with pytest.raises(ValueError, match="Lambda 'plus_one'.*Python lambda"):
        anonymous.save(tmp_path / "a.keras")
    assert not (tmp_path / "a.keras").exists()
    clone = mgp.models.clone_model(anonymous)  # clones hold the function itself
    np.testing.assert_allclose(clone.predict(X, verbose=0), X + 1)


def test_lambda_functions_resolve_among_mgp_s_activations():
    inputs = mgp.Input((4,))
    model = mgp.Model(inputs, layers.Lambda(mgp.activations.relu)(inputs))
    config = model.get_config()
    from mgp.saving.serialization_lib import serialize_keras_object
    entry = serialize_keras_object(model)["config"]["layers"][1]["config"]["function"]
    assert entry["module"] == "keras.activations" and entry["config"] == "relu"
    clone = mgp.Model.from_config(serialize_keras_object(model)["config"])
    np.testing.assert_allclose(clone.predict(X, verbose=0), np.maximum(X, 0))
    assert config["layers"][1]["config"]["function"] == entry  # serialized by name
    assert model.layers[1].get_config()["function"] is mgp.activations.relu


# ---- pad_sequences and normalize -----------------------------------------------------------------
SEQUENCES = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9], [10, 11]]


@pytest.mark.parametrize("kwargs", [
    {}, {"maxlen": 3}, {"maxlen": 3, "padding": "post"}, {"maxlen": 2, "truncating": "post"},
    {"maxlen": 4, "padding": "post", "truncating": "post", "value": -1},
    {"dtype": "float32", "value": 0.5}])
def test_pad_sequences_as_keras(kwargs):
    ours = mgp.utils.pad_sequences(SEQUENCES, **kwargs)
    theirs = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_of_vectors_and_strings_and_errors():
    vectors = [np.ones((2, 3)), np.zeros((4, 3))]
    np.testing.assert_array_equal(mgp.utils.pad_sequences(vectors, dtype="float32"),
                                  keras.utils.pad_sequences(vectors, dtype="float32"))
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(mgp.utils.pad_sequences(words, dtype=object, value=""),
                                  keras.utils.pad_sequences(words, dtype=object, value=""))
    with pytest.raises(ValueError, match="position 1 is not a sequence: 3"):
        mgp.utils.pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="position 1 have shape \\(2,\\)"):
        mgp.utils.pad_sequences([np.ones((2, 3)), np.ones((2, 2))])
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        mgp.utils.pad_sequences(SEQUENCES, padding="middle")
    with pytest.raises(ValueError, match="string padding value"):
        mgp.utils.pad_sequences(SEQUENCES, value="x")


@pytest.mark.parametrize("axis, order", [(-1, 2), (0, 2), (1, 1), (-1, 3)])
def test_normalize_as_keras(axis, order):
    x = rng.standard_normal((3, 5)).astype(np.float32)
    x[1] = 0  # a zero row stays zero
    if axis != 0:  # Keras 3.15's NumPy path takes axis=0 for -1 (`axis or -1`) and fails
        np.testing.assert_allclose(mgp.utils.normalize(x, axis, order),
                                   keras.utils.normalize(x, axis, order), rtol=1e-6)
    expected = x / np.maximum(np.linalg.norm(x, order, axis, keepdims=True), 1e-30)
    np.testing.assert_allclose(mgp.utils.normalize(x, axis, order), expected, rtol=1e-6)
    ours = mgp.utils.normalize(mgp.tensor(x), axis, order).numpy()
    theirs = keras.ops.convert_to_numpy(keras.utils.normalize(keras.ops.convert_to_tensor(x),
                                                              axis, order))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def test_normalize_tensor_gradcheck():
    x = mgp.tensor(rng.standard_normal((3, 4)) + 0.1, dtype=np.float64, requires_grad=True)
    assert mgp.gradcheck(lambda t: mgp.utils.normalize(t, -1, 2), x)
    assert mgp.gradcheck(lambda t: mgp.utils.normalize(t, 0, 3), x)


@pytest.mark.parametrize("labels", [[[1], [2]], [[1, 2]], [1], 1, [[[0], [2]]]])
def test_to_categorical_shapes_as_keras(labels):
    ours = mgp.utils.to_categorical(np.array(labels), 3)
    theirs = keras.utils.to_categorical(np.array(labels), 3)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
