"""Concrete layers and activations: output shapes (both data formats), parameter counts,
gradcheck of each forward through the engine, BatchNormalization and Dropout behaviour, config
round trips, error messages, default initializers, activations by name."""
import json
import math
import re

import numpy as np
import pytest

import mgp
from mgp import activations, layers
from mgp.layers.base import SymbolicTensor
from mgp.ops.nn import batch_norm
from mgp.utils import set_random_seed

rng = np.random.default_rng(0)


def sample(*shape):
    """Values in [0.2, 2) with random signs: away from the kinks of relu and from pooling ties."""
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def gradcheck_layer(layer, *inputs, training=False, seed=None, fast=False):
    """Gradcheck `layer.call` as a function of its inputs and its trainable weights, in float64.

    The weights are swapped for float64 copies by attribute (each weight is held as an attribute
    named as the weight: `kernel`, `bias`, `gamma`, `beta`). `seed` reseeds before each call so a
    random layer (Dropout) draws the same mask every time.
    """
    arrays = [np.asarray(a) for a in inputs]
    layer(arrays if len(arrays) > 1 else arrays[0])  # build
    weights = layer.trainable_weights
    assert all(getattr(layer, w.name) is w for w in weights)

    def fn(*args):
        xs, ws = args[:len(arrays)], args[len(arrays):]
        saved = [getattr(layer, w.name) for w in weights]
        for w, value in zip(weights, ws):
            setattr(layer, w.name, value)
        if seed is not None:
            set_random_seed(seed)
        try:
            return layer.call(list(xs) if len(xs) > 1 else xs[0], training=training)
        finally:
            for w, value in zip(weights, saved):
                setattr(layer, w.name, value)

    tensors = [mgp.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    tensors += [mgp.tensor(w.data + sample(*w.shape) * 0.1, dtype=np.float64, requires_grad=True)
                for w in weights]
    assert mgp.gradcheck(fn, *tensors, fast=fast)


# ============================================ activations ============================================

def _erf(z):
    return np.vectorize(math.erf)(z)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    "log_softmax": lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
    "linear": lambda x: x,
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "relu6": lambda x: np.clip(x, 0, 6),
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "exponential": np.exp,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_by_name_matches_formula_and_gradcheck(name):
    x = sample(4, 5).astype(np.float32) * 2
    fn = activations.get(name)
    out = fn(x)
    assert isinstance(out, mgp.Tensor) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, ACTIVATIONS[name](x), rtol=1e-5, atol=1e-6)
    assert mgp.gradcheck(fn, mgp.tensor(x, dtype=np.float64, requires_grad=True))
    assert activations.serialize(fn) in (name, "silu")
    assert activations.get(activations.serialize(fn)) is fn


def test_activation_get_none_callable_and_unknown():
    assert activations.get(None) is activations.linear
    custom = lambda x: x * 2  # noqa: E731
    assert activations.get(custom) is custom
    with pytest.raises(ValueError, match=r"'relux'.*'elu'.*'gelu'.*'relu'.*'softmax'"):
        activations.get("relux")
    with pytest.raises(ValueError, match="could not interpret activation 3"):
        activations.get(3)


def test_activation_options_as_keras():
    x = np.array([-3.0, -1.0, 0.5, 2.0, 8.0])
    np.testing.assert_allclose(activations.leaky_relu(x, negative_slope=0.1).data,
                               [-0.3, -0.1, 0.5, 2.0, 8.0], rtol=1e-6)
    # Keras's relu: slope below the threshold, capped at max_value
    np.testing.assert_allclose(activations.relu(x, negative_slope=0.5, max_value=6.0,
                                                threshold=1.0).data,
                               [-2.0, -1.0, -0.25, 2.0, 6.0], rtol=1e-6)
    np.testing.assert_allclose(activations.elu(x, alpha=2.0).data[:2], 2 * np.expm1(x[:2]),
                               rtol=1e-6)
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(activations.gelu(x, approximate=True).data, tanh_form, rtol=1e-5,
                               atol=1e-6)
    probs = activations.softmax(sample(3, 4), axis=0).data
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, rtol=1e-6)
    big = activations.softmax(np.array([[1000.0, 0.0]])).data  # no overflow
    np.testing.assert_allclose(big, [[1.0, 0.0]])


def test_softmax_and_sigmoid_outputs_keep_their_logits():
    x = mgp.tensor(sample(2, 3))
    assert activations.softmax(x)._logits is x
    assert activations.sigmoid(x)._logits is x


# ========================================== shapes, counts ===========================================

SHAPE_CASES = [
    # (factory, input shape, output shape)
    (lambda: layers.Dense(7), (4, 5), (4, 7)),
    (lambda: layers.Dense(7), (4, 3, 5), (4, 3, 7)),
    (lambda: layers.Conv2D(6, 3), (2, 9, 8, 3), (2, 7, 6, 6)),
    (lambda: layers.Conv2D(6, 3, data_format="channels_first"), (2, 3, 9, 8), (2, 6, 7, 6)),
    (lambda: layers.Conv2D(6, (3, 2), strides=2, padding="same"), (2, 9, 8, 3), (2, 5, 4, 6)),
    (lambda: layers.Conv2D(6, 3, strides=2, padding="same", data_format="channels_first"),
     (2, 3, 9, 8), (2, 6, 5, 4)),
    (lambda: layers.Conv2D(4, 3, dilation_rate=2), (2, 9, 9, 1), (2, 5, 5, 4)),
    (lambda: layers.MaxPooling2D(), (2, 9, 8, 3), (2, 4, 4, 3)),
    (lambda: layers.MaxPooling2D(data_format="channels_first"), (2, 3, 9, 8), (2, 3, 4, 4)),
    (lambda: layers.MaxPooling2D(3, strides=2, padding="same"), (2, 9, 8, 3), (2, 5, 4, 3)),
    (lambda: layers.MaxPooling2D(3, strides=2, padding="same", data_format="channels_first"),
     (2, 3, 9, 8), (2, 3, 5, 4)),
    (lambda: layers.AveragePooling2D(), (2, 9, 8, 3), (2, 4, 4, 3)),
    (lambda: layers.AveragePooling2D((2, 3), data_format="channels_first"), (2, 3, 9, 8),
     (2, 3, 4, 2)),
    (lambda: layers.AveragePooling2D(3, strides=1, padding="same"), (2, 9, 8, 3), (2, 9, 8, 3)),
    (lambda: layers.GlobalAveragePooling2D(), (2, 9, 8, 3), (2, 3)),
    (lambda: layers.GlobalAveragePooling2D(data_format="channels_first"), (2, 3, 9, 8), (2, 3)),
    (lambda: layers.GlobalAveragePooling2D(keepdims=True), (2, 9, 8, 3), (2, 1, 1, 3)),
    (lambda: layers.GlobalMaxPooling2D(data_format="channels_first", keepdims=True),
     (2, 3, 9, 8), (2, 3, 1, 1)),
    (lambda: layers.Flatten(), (2, 5, 5, 4), (2, 100)),
    (lambda: layers.Flatten(), (2,), (2, 1)),
    (lambda: layers.Reshape((4, -1)), (2, 5, 4), (2, 4, 5)),
    (lambda: layers.Reshape((28, 28, 1)), (2, 784), (2, 28, 28, 1)),
    (lambda: layers.Dropout(0.5), (2, 5), (2, 5)),
    (lambda: layers.BatchNormalization(), (6, 5), (6, 5)),
    (lambda: layers.BatchNormalization(axis=1), (2, 3, 4, 4), (2, 3, 4, 4)),
    (lambda: layers.Activation("softmax"), (2, 5), (2, 5)),
]


def _ids(cases):
    return [type(case[0]()).__name__ for case in cases]


@pytest.mark.parametrize("factory, in_shape, out_shape", SHAPE_CASES, ids=_ids(SHAPE_CASES))
def test_output_shape_eager_symbolic_and_computed(factory, in_shape, out_shape):
    layer = factory()
    y = layer(sample(*in_shape), training=True)
    assert isinstance(y, mgp.Tensor) and y.shape == out_shape and y.dtype == np.float32
    assert layer.compute_output_shape((None,) + in_shape[1:]) == (None,) + out_shape[1:]
    sym = factory()(SymbolicTensor((None,) + in_shape[1:]))
    assert sym.shape == (None,) + out_shape[1:]


def test_merge_layer_shapes():
    a, b = sample(2, 3, 4), sample(2, 3, 4)
    assert layers.Add()([a, b]).shape == (2, 3, 4)
    assert layers.Add()([a, sample(2, 1, 4)]).shape == (2, 3, 4)  # broadcasts like NumPy
    assert layers.Concatenate()([a, sample(2, 3, 5)]).shape == (2, 3, 9)
    assert layers.Concatenate(axis=1)([a, sample(2, 1, 4)]).shape == (2, 4, 4)
    assert layers.Concatenate(axis=1).compute_output_shape([(None, 3, 4), (None, 1, 4)]) == \
        (None, 4, 4)
    assert layers.Add().compute_output_shape([(None, 3, 1), (None, 1, 4)]) == (None, 3, 4)
    s = layers.Input((3, 4))
    assert layers.concatenate([s, layers.Input((3, 2))]).shape == (None, 3, 6)
    assert layers.add([s, s, s]).shape == (None, 3, 4)


def test_keras_mnist_convnet_parameter_counts():
    counts = []
    x = np.zeros((2, 28, 28, 1), np.float32)
    for layer in [layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
                  layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
                  layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")]:
        x = layer(x)
        counts.append(layer.count_params())
    assert x.shape == (2, 10)
    assert counts == [320, 0, 18496, 0, 0, 0, 16010]
    assert sum(counts) == 34826


def test_batchnorm_parameter_count_and_weight_order():
    bn = layers.BatchNormalization()
    bn(sample(4, 8))
    assert bn.count_params() == 32
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    bare = layers.BatchNormalization(center=False, scale=False)
    bare(sample(4, 8))
    assert [w.name for w in bare.weights] == ["moving_mean", "moving_variance"]


def test_weight_names_and_shapes_as_keras():
    dense, conv = layers.Dense(3), layers.Conv2D(4, (3, 2))
    dense(sample(2, 5))
    conv(sample(1, 6, 6, 2))
    assert [(w.name, w.shape) for w in dense.weights] == [("kernel", (5, 3)), ("bias", (3,))]
    assert [(w.name, w.shape) for w in conv.weights] == [("kernel", (3, 2, 2, 4)), ("bias", (4,))]
    no_bias = layers.Dense(3, use_bias=False)
    no_bias(sample(2, 5))
    assert [w.name for w in no_bias.weights] == ["kernel"] and no_bias.count_params() == 15


def test_names_are_keras_snake_case_with_numbers():
    mgp.backend.clear_session()
    assert [layers.Dense(1).name, layers.Dense(1).name, layers.Dense(1).name] == \
        ["dense", "dense_1", "dense_2"]
    assert layers.Conv2D(1, 1).name == "conv2d"
    assert layers.MaxPooling2D().name == "max_pooling2d"
    assert layers.MaxPool2D().name == "max_pooling2d_1"  # an alias is the same class
    assert layers.GlobalAveragePooling2D().name == "global_average_pooling2d"
    assert layers.BatchNormalization().name == "batch_normalization"
    assert layers.Input((3,)).layer.name == "input_layer"
    assert layers.Dense(1, name="head").name == "head"


# ============================================= gradcheck =============================================

GRAD_CASES = [
    (lambda: layers.Dense(3, activation="tanh"), [(4, 5)]),
    (lambda: layers.Dense(3), [(2, 3, 5)]),
    (lambda: layers.Conv2D(3, 3, activation="sigmoid"), [(2, 5, 5, 2)]),
    (lambda: layers.Conv2D(2, (3, 2), strides=2, padding="same"), [(2, 5, 6, 2)]),
    (lambda: layers.Conv2D(2, 2, dilation_rate=2, data_format="channels_first"), [(1, 2, 5, 5)]),
    (lambda: layers.MaxPooling2D(), [(2, 4, 4, 2)]),
    (lambda: layers.MaxPooling2D(3, strides=2, padding="same", data_format="channels_first"),
     [(2, 2, 5, 5)]),
    (lambda: layers.AveragePooling2D(3, strides=2, padding="same"), [(2, 5, 5, 2)]),
    (lambda: layers.GlobalAveragePooling2D(), [(2, 3, 3, 2)]),
    (lambda: layers.GlobalMaxPooling2D(data_format="channels_first"), [(2, 2, 3, 3)]),
    (lambda: layers.Flatten(data_format="channels_first"), [(2, 3, 2, 2)]),
    (lambda: layers.Reshape((3, -1)), [(2, 6)]),
    (lambda: layers.Activation("gelu"), [(3, 4)]),
    (lambda: layers.BatchNormalization(), [(6, 4)]),
    (lambda: layers.BatchNormalization(axis=1), [(3, 2, 3, 3)]),
    (lambda: layers.Add(), [(2, 3), (2, 3), (1, 3)]),
    (lambda: layers.Subtract(), [(2, 3), (2, 3)]),
    (lambda: layers.Multiply(), [(2, 3), (2, 3)]),
    (lambda: layers.Average(), [(2, 3), (2, 3)]),
    (lambda: layers.Maximum(), [(2, 3), (2, 3)]),
    (lambda: layers.Minimum(), [(2, 3), (2, 3)]),
    (lambda: layers.Concatenate(axis=1), [(2, 3), (2, 2)]),
]


@pytest.mark.parametrize("factory, shapes", GRAD_CASES, ids=_ids(GRAD_CASES))
@pytest.mark.parametrize("training", [False, True])
def test_layer_gradcheck(factory, shapes, training):
    gradcheck_layer(factory(), *[sample(*s) for s in shapes], training=training)


def test_dropout_gradcheck_with_a_fixed_mask():
    gradcheck_layer(layers.Dropout(0.4), sample(4, 5), training=True, seed=3)
    gradcheck_layer(layers.Dropout(0.4, noise_shape=(None, 1)), sample(4, 5), training=True,
                    seed=3)


def test_batch_norm_op_gradcheck_without_gamma_beta_and_channels_first():
    x = mgp.tensor(sample(3, 2, 4, 4), dtype=np.float64, requires_grad=True)
    assert mgp.gradcheck(lambda t: batch_norm(t, axis=1)[0], x)
    g = mgp.tensor(sample(4), dtype=np.float64, requires_grad=True)
    assert mgp.gradcheck(lambda t, s: batch_norm(t, s, None, axis=-1)[0] ** 2,
                         mgp.tensor(sample(5, 4), dtype=np.float64, requires_grad=True), g)


def test_gradients_reach_the_weights_through_the_public_call():
    dense = layers.Dense(2)
    dense(sample(3, 4)).sum().backward()
    np.testing.assert_allclose(dense.bias.grad, [3.0, 3.0])
    assert dense.kernel.grad.shape == (4, 2)


# ========================================= BatchNormalization =========================================

def test_batchnorm_training_normalizes_with_batch_statistics_and_updates_moving_ones():
    x = rng.normal(3.0, 2.0, (64, 3)).astype(np.float32)
    bn = layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    y = bn(x, training=True).data
    mean, var = x.mean(axis=0), x.var(axis=0)  # biased variance, as Keras
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.data, 0.9 * 0 + 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.data, 0.9 * 1 + 0.1 * var, rtol=1e-5)
    bn(x, training=True)  # a second step compounds
    np.testing.assert_allclose(bn.moving_mean.data, 0.9 * (0.1 * mean) + 0.1 * mean, rtol=1e-5)
    assert bn.moving_mean.dtype == np.float32


def test_batchnorm_inference_uses_moving_statistics_and_changes_nothing():
    bn = layers.BatchNormalization(axis=1)  # channels_first images
    x = sample(4, 3, 5, 5).astype(np.float32)
    bn(x)
    gamma, beta, mm, mv = [rng.uniform(0.5, 2.0, 3).astype(np.float32) for _ in range(4)]
    bn.set_weights([gamma, beta, mm, mv])
    y = bn(x).data
    b = (1, 3, 1, 1)
    expected = (x - mm.reshape(b)) / np.sqrt(mv.reshape(b) + 1e-3) * gamma.reshape(b) + \
        beta.reshape(b)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(bn.moving_mean.data, mm)
    np.testing.assert_array_equal(bn.moving_variance.data, mv)


def test_batchnorm_frozen_runs_in_inference_mode():
    bn = layers.BatchNormalization()
    x = sample(8, 3) + 5
    bn(x)
    bn.trainable = False
    y = bn(x, training=True).data
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_array_equal(bn.moving_mean.data, 0)
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_batchnorm_symbolic_trace_leaves_moving_statistics_alone():
    bn = layers.BatchNormalization()
    out = bn(layers.Input((3,)), training=True)
    assert out.shape == (None, 3)
    np.testing.assert_array_equal(bn.moving_mean.data, 0)
    np.testing.assert_array_equal(bn.moving_variance.data, 1)


def test_batchnorm_gamma_beta_gradients_match_hand_computed():
    x = sample(5, 2)
    bn = layers.BatchNormalization()
    bn(x, training=True).sum().backward()
    np.testing.assert_allclose(bn.beta.grad, [5.0, 5.0], rtol=1e-6)
    np.testing.assert_allclose(bn.gamma.grad, [0.0, 0.0], atol=1e-5)  # sum of xhat is 0


# ============================================== Dropout ==============================================

def test_dropout_training_drops_and_scales_inference_is_identity():
    x = np.ones((200, 50), np.float32)
    drop = layers.Dropout(0.3)
    y = drop(x, training=True).data
    assert y.dtype == np.float32
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.02
    np.testing.assert_array_equal(drop(x).data, x)
    np.testing.assert_array_equal(drop(x, training=False).data, x)
    np.testing.assert_array_equal(layers.Dropout(1.0)(x, training=True).data, 0)


def test_dropout_reproducible_by_seed_and_by_global_seed():
    x = np.ones((10, 10))
    a = layers.Dropout(0.5, seed=7)(x, training=True).data
    b = layers.Dropout(0.5, seed=7)(x, training=True).data
    np.testing.assert_array_equal(a, b)
    set_random_seed(1)
    c = layers.Dropout(0.5)(x, training=True).data
    set_random_seed(1)
    d = layers.Dropout(0.5)(x, training=True).data
    np.testing.assert_array_equal(c, d)
    assert not np.array_equal(a, layers.Dropout(0.5, seed=8)(x, training=True).data)


def test_dropout_noise_shape_drops_whole_features():
    y = layers.Dropout(0.5, noise_shape=(None, 1, 1, None))(np.ones((4, 3, 3, 6)),
                                                             training=True).data
    assert np.all(y == y[:, :1, :1, :])  # one decision per (sample, channel)


# =========================================== configs, JSON ===========================================

CONFIG_CASES = [
    lambda: layers.Dense(5, activation="relu", use_bias=False,
                         kernel_initializer="he_normal", bias_initializer="ones"),
    lambda: layers.Conv2D(4, (3, 2), strides=2, padding="same", data_format="channels_first",
                          dilation_rate=1, activation="elu"),
    lambda: layers.MaxPooling2D((3, 3), strides=2, padding="same"),
    lambda: layers.AveragePooling2D(data_format="channels_first"),
    lambda: layers.GlobalAveragePooling2D(keepdims=True),
    lambda: layers.GlobalMaxPooling2D(),
    lambda: layers.Flatten(data_format="channels_first"),
    lambda: layers.Reshape((2, -1)),
    lambda: layers.Dropout(0.25, noise_shape=(None, 1), seed=3),
    lambda: layers.BatchNormalization(axis=1, momentum=0.9, epsilon=1e-5, center=False),
    lambda: layers.Activation("leaky_relu"),
    lambda: layers.Add(),
    lambda: layers.Concatenate(axis=1),
    lambda: layers.InputLayer(shape=(3, 4), batch_size=2, name="pixels"),
]


@pytest.mark.parametrize("factory", CONFIG_CASES, ids=_ids([(f,) for f in CONFIG_CASES]))
def test_config_round_trip_through_json(factory):
    layer = factory()
    config = layer.get_config()
    text = json.dumps(config)
    clone = type(layer).from_config(json.loads(text))
    assert json.dumps(clone.get_config()) == text
    assert type(clone) is type(layer) and clone.name == layer.name


def test_config_has_every_constructor_argument():
    import inspect
    for factory in CONFIG_CASES:
        layer = factory()
        # activity_regularizer is written when set, as Keras writes it
        params = set(inspect.signature(type(layer).__init__).parameters) - {
            "self", "kwargs", "activity_regularizer"}
        if isinstance(layer, layers.InputLayer):
            params -= {"shape", "batch_size", "input_tensor"}  # in batch_shape, as Keras
        assert params <= set(layer.get_config()), type(layer).__name__


def test_built_layer_from_config_gives_the_same_outputs_with_the_same_weights():
    x = sample(3, 4, 4, 2)
    conv = layers.Conv2D(3, 2, activation="relu")
    y = conv(x).data
    clone = layers.Conv2D.from_config(json.loads(json.dumps(conv.get_config())))
    clone(x)
    clone.set_weights(conv.get_weights())
    np.testing.assert_array_equal(clone(x).data, y)
    assert conv.get_build_config() == {"input_shape": [3, 4, 4, 2]}


def test_config_values_as_keras_writes_them():
    c = layers.Conv2D(8, 3).get_config()
    assert (c["kernel_size"], c["strides"], c["dilation_rate"], c["padding"],
            c["data_format"], c["activation"]) == ((3, 3), (1, 1), (1, 1), "valid",
                                                   "channels_last", "linear")
    assert c["kernel_initializer"] == {
        "module": "keras.initializers", "class_name": "GlorotUniform",
        "config": {"seed": None, "input_axes": None, "output_axes": None},
        "registered_name": None}
    assert layers.MaxPooling2D().get_config()["strides"] == (2, 2)  # None means pool_size
    assert layers.Dense(2, activation=activations.softmax).get_config()["activation"] == \
        "softmax"


def test_custom_functions_serialize_by_name():
    def my_init(shape, dtype="float32"):
        return np.full(shape, 0.5, dtype)

    def my_act(x):
        return x * 2

    dense = layers.Dense(2, activation=my_act, kernel_initializer=my_init)
    np.testing.assert_array_equal(dense(np.ones((1, 3))).data, [[3.0, 3.0]])
    config = dense.get_config()
    assert config["kernel_initializer"] == "my_init"
    assert config["activation"] == {"module": "builtins", "class_name": "function",  # Keras's
                                    "config": "my_act", "registered_name": "function"}
    with pytest.raises(ValueError, match="unknown activation 'my_act'"):
        layers.Dense.from_config(config)


# ============================================== errors ==============================================

def test_dense_error_echoes_expected_and_received_shape():
    dense = layers.Dense(10, name="dense_err")
    dense(np.zeros((32, 784)))
    with pytest.raises(ValueError, match=re.escape(
            "Dense 'dense_err' expected inputs with last dimension 784, got (32, 28, 28)")):
        dense(np.zeros((32, 28, 28)))
    with pytest.raises(ValueError, match=r"Dense 'dense_\w+' needs inputs of shape .* got \(5,\)"):
        layers.Dense(2)(np.zeros(5))
    with pytest.raises(ValueError, match="units must be a positive integer, got 0"):
        layers.Dense(0)


def test_conv_and_pool_errors_echo_shapes():
    conv = layers.Conv2D(4, 3, name="conv_err")
    conv(np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match=re.escape(
            "Conv2D 'conv_err' expected inputs with 3 channels on axis -1 (channels_last), got "
            "(2, 8, 8, 1)")):
        conv(np.zeros((2, 8, 8, 1)))
    with pytest.raises(ValueError, match=re.escape(
            "expected 4-D inputs (batch, height, width, channels), got shape (None, 28, 28)")):
        layers.Conv2D(4, 3)(layers.Input((28, 28)))
    with pytest.raises(ValueError, match=r"expected 4-D inputs .* got shape \(2, 8, 8\)"):
        layers.MaxPooling2D()(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same', got 'full'"):
        layers.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="data_format must be .* got 'nhwc'"):
        layers.MaxPooling2D(data_format="nhwc")
    with pytest.raises(ValueError, match=r"kernel_size must be .* got \(3, 3, 3\)"):
        layers.Conv2D(4, (3, 3, 3))


def test_merge_errors_echo_shapes():
    with pytest.raises(ValueError, match=re.escape(
            "Add 'add_err' got inputs with incompatible shapes [(2, 3), (2, 4)]")):
        layers.Add(name="add_err")([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match=re.escape("[(None, 3), (None, 4)]")):
        layers.Add()([layers.Input((3,)), layers.Input((4,))])
    with pytest.raises(ValueError, match=re.escape(
            "requires inputs with matching shapes except for the concatenation axis -1, got "
            "[(2, 3, 2), (2, 4, 3)]")):
        layers.Concatenate()([np.zeros((2, 3, 2)), np.zeros((2, 4, 3))])
    with pytest.raises(ValueError, match=r"expects a list of inputs, got a single input"):
        layers.Add()(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="exactly 2 inputs, got 3"):
        layers.Subtract()([np.zeros(2)] * 3)


def test_other_errors():
    with pytest.raises(ValueError, match=re.escape(
            "cannot reshape samples of shape (10,) (10 values) into target shape (3, 4)")):
        layers.Reshape((3, 4))(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match="rate must be a number in .* got 1.5"):
        layers.Dropout(1.5)
    with pytest.raises(ValueError, match=r"unknown activation 'rellu'; known activations: \["):
        layers.Dense(3, activation="rellu")
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        layers.Dense(3, kernel_initializer="glorot")
    with pytest.raises(ValueError, match="unknown regularizer 'l3'; known: "):
        layers.Dense(3, kernel_regularizer="l3")
    with pytest.raises(ValueError, match="axis must be an int, got"):
        layers.BatchNormalization(axis=[1, 2])
    bn = layers.BatchNormalization(name="bn_err")
    bn(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=re.escape(
            "BatchNormalization 'bn_err' expected inputs with 3 features on axis -1, got (4, 5)")):
        bn(np.zeros((4, 5)))
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        layers.Dense(3, unit=4)


# ===================================== inputs, dtypes, initializers ==================================

def test_input_placeholder_and_its_layer():
    x = layers.Input(shape=(28, 28, 1), name="image")
    assert isinstance(x, SymbolicTensor) and x.shape == (None, 28, 28, 1)
    assert x.dtype == np.float32 and x.inputs == ()
    assert isinstance(x.layer, layers.InputLayer) and x.layer.output is x
    assert x.layer.name == "image" and x.layer.count_params() == 0
    assert layers.Input((3,), batch_size=4).shape == (4, 3)
    assert layers.Input(batch_shape=(None, 5), dtype="int32").dtype == np.int32
    assert layers.InputLayer(shape=(3,)).get_config()["batch_shape"] == (None, 3)
    with pytest.raises(ValueError, match=re.escape(
            "expected inputs of shape (None, 3), got (2, 4)")):
        x3 = layers.Input((3,))
        x3.layer(np.zeros((2, 4)))


def test_layers_compute_in_float32_from_float64_and_integer_inputs():
    for layer, x in [(layers.Dense(2), np.arange(6.0).reshape(2, 3)),
                     (layers.Conv2D(2, 2), np.arange(32, dtype=np.uint8).reshape(2, 4, 4, 1)),
                     (layers.MaxPooling2D(), np.arange(32, dtype=np.uint8).reshape(2, 4, 4, 1)),
                     (layers.BatchNormalization(), np.arange(6).reshape(3, 2))]:
        assert layer(x).dtype == np.float32
        assert all(w.dtype == np.float32 for w in layer.weights)


def test_default_initializers_glorot_uniform_kernels_and_zero_biases():
    set_random_seed(0)
    dense = layers.Dense(300)
    dense(np.zeros((1, 200)))
    limit = math.sqrt(6 / (200 + 300))
    k = dense.kernel.data
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.99 * limit
    assert abs(k.std() - limit / math.sqrt(3)) < 0.01 * limit  # uniform: std = limit / sqrt(3)
    np.testing.assert_array_equal(dense.bias.data, 0)
    conv = layers.Conv2D(16, 3)
    conv(np.zeros((1, 5, 5, 8)))
    conv_limit = math.sqrt(6 / (9 * 8 + 9 * 16))  # fans count the receptive field
    assert conv_limit * 0.95 < np.abs(conv.kernel.data).max() <= conv_limit
    np.testing.assert_array_equal(conv.bias.data, 0)
    bn = layers.BatchNormalization()
    bn(np.zeros((2, 3)))
    assert [w.data.tolist() for w in bn.weights] == [[1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]]


def test_dense_on_nd_input_applies_to_the_last_axis():
    dense = layers.Dense(3, activation="relu")
    x = sample(2, 4, 5)
    y = dense(x).data
    expected = np.maximum(np.einsum("abi,io->abo", x, dense.kernel.data) + dense.bias.data, 0)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_flatten_channels_first_orders_features_as_channels_last():
    x = sample(2, 3, 4, 5)  # (batch, channels, h, w)
    first = layers.Flatten(data_format="channels_first")(x).data
    last = layers.Flatten()(np.transpose(x, (0, 2, 3, 1))).data
    np.testing.assert_array_equal(first, last)


def test_pooling_values():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(layers.MaxPooling2D()(x).data[0, :, :, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(layers.AveragePooling2D()(x).data[0, :, :, 0],
                                  [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(layers.GlobalAveragePooling2D()(x).data, [[7.5]])
    np.testing.assert_array_equal(layers.GlobalMaxPooling2D()(x).data, [[15]])


def test_average_pooling_same_padding_averages_only_real_inputs():
    # 6 -> 3 with window 3, stride 2: one padded row and column, after the data (as TensorFlow)
    x = np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1)
    y = layers.AveragePooling2D(3, strides=2, padding="same")(x).data[0, :, :, 0]
    np.testing.assert_allclose(y, [[7, 9, 10.5], [19, 21, 22.5], [28, 30, 31.5]])
