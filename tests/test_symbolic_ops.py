"""`mgp.ops` on a functional model's symbolic tensors, as Keras 3's `keras.ops` on KerasTensors:
each call records an Operation with its output shape and dtype (None sizes included), the model
runs it on real tensors, and `.keras` files hold it as Keras writes it. Compared with Keras 3.15
(torch backend) building the same model with the same weights."""
import json

import numpy as np
import pytest

import oracles

import mgp
from mgp import ops

keras = oracles.keras()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# (id, one sample's shape (None: unknown), input dtype, the model's outputs from its input: fn(framework, x))
CASES = [
    ("expand_dims", (3,), "float32", lambda K, x: K.ops.expand_dims(x, -1)),
    ("operators", (3,), "float32",
     lambda K, x: [x * 2 + 1.5, 2 - x, x / 3, x ** 2, -x, abs(x), 1.0 / (x + 2), x // 0.3,
                   x % 0.7]),
    ("comparisons", (3,), "float32",
     lambda K, x: [x > 0.5, x <= 0.5, x != 0.5, (x > 0.2) & (x < 0.8), ~(x > 0.5)]),
    ("getitem", (4, 3), "float32",
     lambda K, x: [x[:, 0], x[..., 1:], x[:, None, :2, ::2], x[:, -1, 2]]),
    ("reductions", (None, 3), "float32",
     lambda K, x: [K.ops.mean(x, axis=1), K.ops.sum(x, axis=-1, keepdims=True),
                   K.ops.max(x, axis=(1, 2)), K.ops.std(x, axis=1), K.ops.argmax(x, axis=-1)]),
    ("concatenate_stack", (3,), "float32",
     lambda K, x: [K.ops.concatenate([x, -x], axis=-1), K.ops.stack([x, x], axis=1)]),
    ("reshape_transpose", (6,), "float32",
     lambda K, x: [K.ops.reshape(x, (-1, 2, 3)), K.ops.transpose(K.ops.reshape(x, (-1, 2, 3)),
                                                                  (0, 2, 1))]),
    ("matmul_unknown_axes", (None, 3), "float32",
     lambda K, x: K.ops.matmul(K.ops.transpose(x, (0, 2, 1)), x)),
    ("einsum", (3,), "float32", lambda K, x: K.ops.einsum("bi,bj->bij", x, x)),
    ("split_top_k", (4,), "float32",
     lambda K, x: [*K.ops.split(x, 2, axis=-1), *K.ops.top_k(x, 2)]),
    ("cast_where_clip", (3,), "float32",
     lambda K, x: [K.ops.cast(x * 4, "int32"), K.ops.where(x > 0.5, x, 0.0),
                   K.ops.clip(x, 0.2, 0.6)]),
    ("nn", (5,), "float32",
     lambda K, x: [K.ops.nn.softmax(x), K.ops.relu(x - 0.5), K.ops.sigmoid(x),
                   K.ops.nn.log_softmax(x, axis=-1), K.ops.one_hot(K.ops.argmax(x, -1), 5)]),
    ("image_resize", (6, 6, 2), "float32",
     lambda K, x: K.ops.image.resize(x, (3, 4), interpolation="bilinear")),
    ("pad_take_cumsum", (4,), "float32",
     lambda K, x: [K.ops.pad(x, ((0, 0), (1, 2))), K.ops.take(x, [0, 2], axis=1),
                   K.ops.cumsum(x, axis=1), K.ops.norm(x, axis=-1)]),
    ("integer_input", (3,), "int32",
     lambda K, x: [K.ops.one_hot(x, 4), x * 2, K.ops.mean(x, axis=-1)]),
]


def _inputs(shape, dtype, n=2, seed=0):
    rng = np.random.default_rng(seed)
    shape = tuple(4 if d is None else d for d in shape)
    if dtype == "int32":
        return rng.integers(0, 4, (n,) + shape).astype("int32")
    return rng.random((n,) + shape).astype("float32")


def _model(K, shape, dtype, fn):
    x = K.Input(shape, dtype=dtype)
    return K.Model(x, fn(K, x))


@pytest.mark.parametrize("shape, dtype, fn", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_shapes_dtypes_and_values_as_keras(shape, dtype, fn):
    ours, theirs = _model(mgp, shape, dtype, fn), _model(keras, shape, dtype, fn)
    assert [o.shape for o in ours.outputs] == [tuple(o.shape) for o in theirs.outputs]
    assert [o.dtype.name for o in ours.outputs] == [o.dtype for o in theirs.outputs]
    x = _inputs(shape, dtype)
    outputs = zip(ours.outputs, _flat(ours.predict(x, verbose=0)),
                  _flat(theirs.predict(x, verbose=0)))
    for sym, a, b in outputs:
        # Keras's torch backend gives top_k's indices as int64 though its symbolic output
        # (and mgp's) says int32: the values are compared, and mgp's dtype with the symbolic one
        assert a.shape == b.shape and a.dtype == sym.dtype
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _flat(out):
    return out if isinstance(out, list) else [out]


def _with_dense(K):
    """Ops around a Dense layer, so that the weights and their gradients go through them."""
    x = K.Input((3, 4))
    h = K.ops.mean(K.ops.expand_dims(x, -1) * 2.0, axis=1)     # (None, 4, 1)
    h = K.ops.reshape(K.ops.concatenate([h, -h], axis=-1), (-1, 8))
    d = K.layers.Dense(5, name="dense")(h)
    out = K.ops.nn.relu(d) ** 2 / (K.ops.sum(d, axis=-1, keepdims=True) ** 2 + 3.0)
    return K.Model(x, [out, d[:, :2]])


def _same_weights(ours, theirs):
    rng = np.random.default_rng(1)
    values = [rng.normal(size=tuple(w.shape)).astype("float32") for w in theirs.weights]
    theirs.set_weights(values)
    ours.set_weights(values)


def test_training_through_ops_as_keras():
    # one SGD step on all the data: the gradients reach the Dense through the ops
    ours, theirs = _with_dense(mgp), _with_dense(keras)
    _same_weights(ours, theirs)
    x = _inputs((3, 4), "float32", n=8)
    y = [np.ones((8, 5), "float32"), np.zeros((8, 2), "float32")]
    for model, K in ((ours, mgp), (theirs, keras)):
        model.compile(optimizer=K.optimizers.SGD(0.5), loss=["mse", "mse"])
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ours.get_weights()[0], theirs.get_weights()[0] * 0)


def test_config_entries_as_keras_writes_them():
    mgp.backend.clear_session()
    keras.backend.clear_session()
    ours = json.loads(json.dumps(_with_dense(mgp).get_config()))["layers"]
    theirs = json.loads(json.dumps(_with_dense(keras).get_config()))["layers"]
    assert [e["class_name"] for e in ours] == [e["class_name"] for e in theirs]
    for a, b in zip(ours[1:], theirs[1:]):
        if b["module"].startswith("keras.src.ops."):  # the layers' own entries are tested elsewhere
            assert a == b


def test_models_with_ops_load_both_ways(tmp_path):
    ours, theirs = _with_dense(mgp), _with_dense(keras)
    _same_weights(ours, theirs)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    from_ours = keras.models.load_model(tmp_path / "ours.keras")
    from_theirs = mgp.models.load_model(tmp_path / "theirs.keras")
    x = _inputs((3, 4), "float32")
    expected = theirs.predict(x, verbose=0)
    for model in (from_ours, from_theirs, ours):
        for a, b in zip(model.predict(x, verbose=0), expected):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert [o.shape for o in from_theirs.outputs] == [(None, 5), (None, 2)]


def test_a_saved_index_keeps_its_meaning():
    # JSON has no tuples: a key of slices comes back a list, which still means x[:, 0, 1:]
    x = mgp.Input((3, 4))
    model = mgp.Model(x, [x[:, 0, 1:], ops.take(x, [0, 2], axis=1)])
    again = mgp.Model.from_config(json.loads(json.dumps(model.get_config())))
    data = _inputs((3, 4), "float32")
    for a, b in zip(model.predict(data, verbose=0), again.predict(data, verbose=0)):
        np.testing.assert_array_equal(a, b)


def test_operations_are_not_layers():
    mgp.backend.clear_session()
    x = mgp.Input((3,))
    hidden = mgp.layers.Dense(2)(ops.square(x))
    model = mgp.Model(x, ops.sum(hidden, axis=-1))
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]
    assert [op.name for op in model.operations][1:] == ["square", "dense", "sum"]
    assert model.count_params() == 8
    lines = []
    model.summary(print_fn=lines.append)
    assert "square (Square)" in lines[0] and "sum (Sum)" in lines[0]


def test_an_op_keras_does_not_record_as_one_saves_for_mgp():
    # batch_normalization is several ops in Keras; mgp records one, under its own module
    x = mgp.Input((4,))
    out = ops.batch_normalization(x, ops.zeros((4,)) + 0.5, ops.ones((4,)), axis=-1)
    model = mgp.Model(x, out)
    entry = model.get_config()["layers"][1]
    assert entry["module"] == "mgp.ops.batch_normalization"
    again = mgp.Model.from_config(json.loads(json.dumps(model.get_config())))
    data = _inputs((4,), "float32")
    np.testing.assert_allclose(again.predict(data, verbose=0), model.predict(data, verbose=0))


def test_table_of_keras_classes_is_keras_own():
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parent / "fixtures" / "make_keras_op_table.py"
    spec = importlib.util.spec_from_file_location("make_keras_op_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from mgp.ops.keras_classes import KERAS_OPS
    assert module.keras_table()[1] == KERAS_OPS


def test_bad_calls_say_what_and_where():
    with pytest.raises(ValueError, match=r"ops.add on symbolic tensors of shapes \(None, 3\), "
                                         r"\(None, 4\).*broadcast"):
        ops.add(mgp.Input((3,)), mgp.Input((4,)))
    with pytest.raises(TypeError, match="expand_dims: argument 'axis' must be known"):
        ops.expand_dims(mgp.Input((3,)), axis=mgp.Input((1,), dtype="int32"))
    with pytest.raises(TypeError, match="no truth value"):
        bool(mgp.Input((3,)))
    with pytest.raises(ValueError, match="'Frobnicate'.*mgp does not have"):
        mgp.layers.Operation.from_keras("keras.src.ops.numpy", "Frobnicate", {})
    assert ops.shape(mgp.Input((None, 3))) == (None, None, 3)
    assert ops.dtype(mgp.Input((3,), dtype="int32")) == "int32"


@pytest.mark.parametrize("sample, data", [((28, 28, 1), (2, 28, 28)), ((3,), (2, 3, 1))])
def test_a_trailing_axis_of_size_one_is_added_or_dropped_as_keras(sample, data):
    x = np.random.default_rng(0).random(data).astype("float32")
    for K in (mgp, keras):
        inputs = K.Input(sample)
        functional = K.Model(inputs, K.layers.Flatten()(inputs))
        sequential = K.Sequential([K.Input(sample), K.layers.Flatten()])
        for model in (functional, sequential):
            np.testing.assert_array_equal(model.predict(x, verbose=0), x.reshape(2, -1))
    with pytest.raises(ValueError, match=r"expected input shape \(None, 3\), got \(2, 4\)"):
        mgp.Model(inputs := mgp.Input((3,)), inputs * 2).predict(np.ones((2, 4)), verbose=0)
