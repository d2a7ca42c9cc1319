"""Functional models with unknown sizes (`Input(shape=(None,))`, `(None, None, 3)`): every
layer infers its output shape from `compute_output_shape`, without running; a layer without one
is run on probes of two sizes. The shapes are Keras's (torch backend)."""
import numpy as np
import pytest

import oracles

import mgp
from mgp import layers

keras = oracles.keras()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CASES = [
    ("Dense", dict(units=3), (None, 5)),
    ("Dense", dict(units=3), (None, None, 5)),
    ("Conv2D", dict(filters=2, kernel_size=3), (None, None, 3)),
    ("Conv2D", dict(filters=2, kernel_size=3, strides=2, padding="same"), (None, 9, 3)),
    ("Conv2D", dict(filters=2, kernel_size=3, dilation_rate=2), (11, None, 3)),
    ("Conv2D", dict(filters=2, kernel_size=2, data_format="channels_first"), (3, None, None)),
    ("MaxPooling2D", dict(), (None, None, 3)),
    ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), (None, 7, 3)),
    ("AveragePooling2D", dict(pool_size=2), (9, None, 3)),
    ("GlobalAveragePooling2D", dict(), (None, None, 3)),
    ("GlobalMaxPooling2D", dict(keepdims=True), (None, None, 3)),
    ("Flatten", dict(), (None, 3)),
    ("Flatten", dict(), (4, 3)),
    ("Reshape", dict(target_shape=(-1, 2)), (None, 4)),
    ("Reshape", dict(target_shape=(3, 4)), (12,)),
    ("Dropout", dict(rate=0.5), (None, None, 2)),
    ("BatchNormalization", dict(), (None, 4)),
    ("Activation", dict(activation="relu"), (None, None)),
    ("ReLU", dict(), (None, 3)),
    ("LeakyReLU", dict(), (None, 3)),
    ("PReLU", dict(shared_axes=[1]), (None, 3)),
    ("ELU", dict(), (None, 3)),
    ("Softmax", dict(), (None, 3)),
    ("ActivityRegularization", dict(l1=0.1), (None, 3)),
]


@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=[c[0] for c in CASES])
def test_symbolic_output_shape_as_keras_without_running_the_layer(name, kwargs, shape):
    layer = getattr(layers, name)(**kwargs)
    calls = []
    layer.call = _counting(layer.call, calls)
    ours = layer(mgp.Input(shape)).shape
    theirs = tuple(getattr(keras.layers, name)(**kwargs)(keras.Input(shape)).shape)
    assert ours == theirs
    assert calls == []  # inferred from compute_output_shape, not by a trace


def _counting(call, calls):
    def counted(*args, **kwargs):
        calls.append(1)
        return call(*args, **kwargs)
    return counted


@pytest.mark.parametrize("name, shapes, kwargs", [
    ("Add", [(None, 4), (None, 4)], {}), ("Multiply", [(None, None, 2), (None, 1, 2)], {}),
    ("Concatenate", [(None, 3), (None, 5)], {}),
    ("Concatenate", [(None, 3), (4, 3)], dict(axis=1)),
    ("Average", [(None, None), (None, None)], {}),
])
def test_merge_shapes_as_keras(name, shapes, kwargs):
    ours = getattr(layers, name)(**kwargs)([mgp.Input(s) for s in shapes]).shape
    theirs = getattr(keras.layers, name)(**kwargs)([keras.Input(s) for s in shapes]).shape
    assert ours == tuple(theirs)


def test_a_model_with_unknown_sizes_runs_on_any_size():
    images = mgp.Input(shape=(None, None, 3))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(images)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(8, 3)(x)
    outputs = layers.Dense(2)(layers.GlobalAveragePooling2D()(x))
    model = mgp.Model(images, outputs)
    assert model.output_shape == (None, 2)
    for h, w in [(8, 8), (11, 6), (20, 9)]:
        assert model.predict(np.ones((2, h, w, 3), np.float32), verbose=0).shape == (2, 2)
    tokens = mgp.Input(shape=(None,))
    seq = mgp.Model(tokens, layers.Dense(3)(layers.Reshape((-1, 1))(tokens)))
    assert seq.output_shape == (None, None, 3)
    assert seq.predict(np.ones((2, 7)), verbose=0).shape == (2, 7, 3)
    with pytest.raises(ValueError, match=r"expected input shape \(None, None, None, 3\), got "
                                         r"\(2, 8, 8\)"):
        model.predict(np.ones((2, 8, 8)), verbose=0)


def test_nested_models_infer_shapes_symbolically():
    inner_in = mgp.Input((None, 4))
    inner = mgp.Model(inner_in, layers.Dense(2)(inner_in))
    seq = mgp.Sequential([layers.Dense(5)])
    outer_in = mgp.Input((None, 4))
    out = seq(inner(outer_in))
    assert out.shape == (None, None, 5)
    assert inner.compute_output_shape((None, 7, 4)) == (None, 7, 2)
    model = mgp.Model(outer_in, out)
    assert model.predict(np.ones((3, 6, 4)), verbose=0).shape == (3, 6, 5)


# ---- layers without compute_output_shape: probes of two sizes ------------------------------------
def user_layers(k):
    ops = k.ops

    class DropEnds(k.layers.Layer):
        def call(self, x):
            return x[:, 1:-1]

    class SumSteps(k.layers.Layer):
        def call(self, x):
            return ops.sum(x, axis=1)

    class Twice(k.layers.Layer):  # doubles the length
        def call(self, x):
            return ops.concatenate([x, x], axis=1)

    class Scaled(k.layers.Layer):  # with a weight, built from the shape
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.scale
    return [DropEnds, SumSteps, Twice, Scaled]


@pytest.mark.parametrize("index", range(4))
@pytest.mark.parametrize("shape", [(None, 3), (6, 3), (None, None)])
def test_layers_without_compute_output_shape_are_probed_as_keras_infers_them(index, shape):
    if index == 3 and shape[-1] is None:
        return  # a weight needs a known size (in Keras too)
    ours = user_layers(mgp)[index]()(mgp.Input(shape))
    theirs = user_layers(keras)[index]()(keras.Input(shape))
    assert ours.shape == tuple(theirs.shape)


def test_probes_leave_weights_and_losses_as_they_were():
    class Stateful(layers.Layer):
        def build(self, input_shape):
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, x):
            self.count.assign(self.count.numpy() + 1)
            self.add_loss(mgp.ops.sum(x))
            return x[:, :2]
    layer = Stateful()
    out = layer(mgp.Input((None, 4)))
    assert out.shape == (None, 2, 4)
    assert layer.count.numpy() == 0 and layer.losses == []
    assert layer.compute_output_shape((None, 5, 4)) == (None, 2, 4)


def test_input_shapes_and_errors():
    assert mgp.Input((None,)).shape == (None, None)
    assert mgp.Input(batch_shape=(4, None, 3)).shape == (4, None, 3)
    with pytest.raises(ValueError, match="needs a fully known shape, got \\(None, 2\\)"):
        layers.Layer().add_weight(shape=(None, 2), name="w")
    with pytest.raises(ValueError, match="name must be passed by keyword"):
        layers.Layer().add_weight("kernel", (2, 2))
    with pytest.raises(ValueError, match="needs inputs of shape .* with a known last "
                                         "dimension, got \\(None, None\\)"):
        layers.Dense(2)(mgp.Input((None,)))


def test_embedding_of_positions_made_from_an_unknown_length():
    # Keras's TokenAndPositionEmbedding: positions = arange(shape(x)[-1]) fed to an Embedding
    # of maxlen rows; the probes' stand-in length must not trip the index range check
    class Positions(mgp.layers.Layer):
        def __init__(self):
            super().__init__()
            self.pos_emb = mgp.layers.Embedding(input_dim=5, output_dim=3)

        def call(self, x):
            return self.pos_emb(mgp.ops.arange(0, mgp.ops.shape(x)[-1], 1))

    inputs = mgp.Input(shape=(None,))
    layer = Positions()
    out = layer(inputs)
    assert out.shape == (None, 3)  # (length, 3): the length is unknown
    model = mgp.Model(inputs, out)
    table = layer.pos_emb.embeddings.numpy()
    np.testing.assert_array_equal(model(np.zeros((2, 4))).numpy(), table[:4])
    with pytest.raises(ValueError, match="out of range for input_dim=5"):
        model(np.zeros((2, 6)))  # real data is still checked


def test_layer_called_with_its_first_argument_by_name():
    # Keras: mha(query=q, value=v, key=k) names the first argument too
    mha = mgp.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    q = mgp.ops.convert_to_tensor(np.random.default_rng(0).random((2, 3, 4)).astype("float32"))
    by_name = mha(query=q, value=q, key=q).numpy()
    np.testing.assert_allclose(by_name, mha(q, q, q).numpy(), rtol=1e-6)
    sym = mgp.Input((3, 4))
    assert mha(query=sym, value=sym).shape == (None, 3, 4)
    with pytest.raises(TypeError, match="called without inputs"):
        mgp.layers.Dense(2)()
