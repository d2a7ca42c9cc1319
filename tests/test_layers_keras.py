"""Keras 3 as the oracle: with the same weights, mgp's layers give Keras's outputs, parameter
counts, moving statistics and config keys (skipped where Keras or its torch backend is missing)."""

import numpy as np
import pytest

import oracles

keras = oracles.keras()

import mgp  # noqa: E402
from mgp import activations, layers  # noqa: E402

# Keras's own NumPy 2 deprecation notices (torch tensors converted without `copy=`)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
rng = np.random.default_rng(0)


def to_numpy(t):
    return keras.ops.convert_to_numpy(t)


def compare(mgp_layer, keras_layer, x, training=False, rtol=1e-5, atol=1e-5):
    """Build both on `x`, copy mgp's weights into Keras, compare outputs and weights after."""
    ours = mgp_layer(x, training=training)
    keras_layer(x)
    keras_layer.set_weights(mgp_layer.get_weights())
    for a, b in zip(mgp_layer.get_weights(), keras_layer.get_weights()):
        assert a.shape == b.shape
    ours = mgp_layer(x, training=training).data
    theirs = to_numpy(keras_layer(x, training=training))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    return ours


IMAGES = rng.normal(size=(2, 9, 8, 3)).astype(np.float32)
IMAGES_CF = np.ascontiguousarray(IMAGES.transpose(0, 3, 1, 2))

CASES = [
    ("Dense", dict(units=4, activation="relu"), rng.normal(size=(5, 6)).astype(np.float32)),
    ("Dense", dict(units=4), rng.normal(size=(2, 3, 6)).astype(np.float32)),
    ("Conv2D", dict(filters=4, kernel_size=3), IMAGES),
    ("Conv2D", dict(filters=4, kernel_size=(3, 2), strides=2, padding="same"), IMAGES),
    ("Conv2D", dict(filters=4, kernel_size=3, dilation_rate=2, padding="same"), IMAGES),
    ("Conv2D", dict(filters=4, kernel_size=3, strides=2, data_format="channels_first"),
     IMAGES_CF),
    ("MaxPooling2D", dict(), IMAGES),
    ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), IMAGES),
    ("MaxPooling2D", dict(pool_size=2, data_format="channels_first"), IMAGES_CF),
    # 'same' with symmetric padding (9 -> 5): where the padding is uneven, Keras's torch backend
    # pads by replication and so departs from its TensorFlow and JAX backends, which average
    # only the real inputs (as mgp does; tested in test_layers.py)
    ("AveragePooling2D", dict(pool_size=3, strides=2, padding="same"),
     rng.normal(size=(2, 9, 9, 3)).astype(np.float32)),
    ("AveragePooling2D", dict(pool_size=(2, 3), data_format="channels_first"), IMAGES_CF),
    ("GlobalAveragePooling2D", dict(), IMAGES),
    ("GlobalAveragePooling2D", dict(data_format="channels_first", keepdims=True), IMAGES_CF),
    ("GlobalMaxPooling2D", dict(), IMAGES),
    ("Flatten", dict(), IMAGES),
    ("Flatten", dict(data_format="channels_first"), IMAGES_CF),
    ("Reshape", dict(target_shape=(-1, 4)), IMAGES[:, :, :, :2]),
    ("Activation", dict(activation="gelu"), rng.normal(size=(3, 5)).astype(np.float32)),
    ("BatchNormalization", dict(), rng.normal(2, 3, size=(16, 5)).astype(np.float32)),
    ("BatchNormalization", dict(axis=1, momentum=0.9, center=False), IMAGES_CF),
]


# activation layers, and layers with the regularization and constraint arguments (which must
# leave the forward and backward pass alone)
CASES += [
    ("ReLU", dict(), rng.normal(size=(3, 7)).astype(np.float32)),
    ("ReLU", dict(max_value=0.8, negative_slope=0.1, threshold=0.2),
     rng.normal(size=(3, 7)).astype(np.float32)),
    ("LeakyReLU", dict(), rng.normal(size=(3, 7)).astype(np.float32)),
    ("LeakyReLU", dict(negative_slope=0.05), rng.normal(size=(2, 3, 4)).astype(np.float32)),
    ("PReLU", dict(alpha_initializer="random_uniform"), IMAGES),
    ("PReLU", dict(alpha_initializer="random_uniform", shared_axes=[1, 2]), IMAGES),
    ("ELU", dict(), rng.normal(size=(3, 7)).astype(np.float32)),
    ("ELU", dict(alpha=0.4), rng.normal(size=(3, 7)).astype(np.float32)),
    ("Softmax", dict(), rng.normal(size=(3, 7)).astype(np.float32)),
    ("Softmax", dict(axis=1), rng.normal(size=(2, 5, 3)).astype(np.float32)),
    ("Softmax", dict(axis=[1, 2]), rng.normal(size=(2, 5, 3)).astype(np.float32)),
    ("ActivityRegularization", dict(l1=0.1, l2=0.2), rng.normal(size=(3, 7)).astype(np.float32)),
    ("Dense", dict(units=3, kernel_regularizer="l2", bias_regularizer="l1",
                   activity_regularizer="l2", kernel_constraint="max_norm"),
     rng.normal(size=(4, 5)).astype(np.float32)),
    ("Conv2D", dict(filters=2, kernel_size=2, kernel_regularizer="l1",
                    bias_constraint="non_neg"), IMAGES),
    ("BatchNormalization", dict(gamma_regularizer="l2", beta_constraint="non_neg"),
     rng.normal(size=(8, 3)).astype(np.float32)),
]


def gradients_as_keras(ours_layer, keras_layer, x, training):
    """d(sum(out * g))/d(inputs) and /d(each trainable weight), in both frameworks."""
    import torch
    g = rng.normal(size=ours_layer(x, training=training).shape).astype(np.float32)
    x_ours = mgp.tensor(x, requires_grad=True)
    ours_layer.zero_grad()
    (ours_layer(x_ours, training=training) * g).sum().backward()
    x_theirs = torch.tensor(x, requires_grad=True)
    keras_layer.zero_grad()
    (keras_layer(x_theirs, training=training) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-5, atol=1e-5)
    for a, b in zip(ours_layer.trainable_weights, keras_layer.trainable_weights):
        np.testing.assert_allclose(a.grad, b.value.grad.numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=a.name)


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("name, kwargs, x", CASES, ids=[c[0] for c in CASES])
def test_same_outputs_as_keras(name, kwargs, x, training):
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    if name == "BatchNormalization":  # non-default statistics, so inference is a real test
        ours(x)
        n = ours.moving_mean.shape[0]
        ours.set_weights([w + rng.uniform(0.1, 1.0, n).astype(np.float32)
                          for w in ours.get_weights()])
    compare(ours, theirs, x, training=training)
    if name == "BatchNormalization":  # the moving statistics were updated alike
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    gradients_as_keras(ours, theirs, x, training)
    assert len(ours.losses) == len(theirs.losses)
    for a, b in zip(ours.losses, theirs.losses):  # regularizers of the weights and outputs
        np.testing.assert_allclose(a.item(), float(keras.ops.convert_to_numpy(b)), rtol=1e-5)


def test_merge_layers_as_keras():
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    for name in ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]:
        np.testing.assert_allclose(getattr(layers, name)()([a, b]).data,
                                   to_numpy(getattr(keras.layers, name)()([a, b])), rtol=1e-6)
    np.testing.assert_allclose(layers.Concatenate(axis=1)([a, b]).data,
                               to_numpy(keras.layers.Concatenate(axis=1)([a, b])))


def test_activations_as_keras():
    x = np.linspace(-4, 4, 17).astype(np.float32).reshape(1, -1)
    names = ["relu", "sigmoid", "tanh", "softmax", "linear", "leaky_relu", "elu", "selu", "gelu",
             "softplus", "softsign", "silu", "swish", "relu6", "hard_sigmoid", "mish",
             "exponential", "log_softmax"]
    for name in names:
        np.testing.assert_allclose(activations.get(name)(x).data,
                                   to_numpy(keras.activations.get(name)(x)), rtol=1e-5,
                                   atol=1e-6, err_msg=name)


def test_mnist_convnet_parameter_counts_as_keras():
    def stack(L):
        return [L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                L.Flatten(), L.Dropout(0.5), L.Dense(10, activation="softmax"),
                L.BatchNormalization()]
    x = np.zeros((1, 28, 28, 1), np.float32)
    ours, theirs = x, x
    for mine, keras_layer in zip(stack(layers), stack(keras.layers)):
        ours, theirs = mine(ours), keras_layer(theirs)
        assert ours.shape == tuple(theirs.shape)
        assert mine.count_params() == keras_layer.count_params()
        assert [w.name for w in mine.weights] == [w.name for w in keras_layer.weights]


# Keras config entries mgp leaves out: Keras-only features (quantization, renorm, ragged, ...).
KERAS_ONLY = {"quantization_config", "renorm", "renorm_clipping", "renorm_momentum", "ragged",
              "optional"}


@pytest.mark.parametrize("name, args", [
    ("Dense", (3,)), ("Conv2D", (3, 3)), ("MaxPooling2D", ()), ("AveragePooling2D", (2,)),
    ("GlobalAveragePooling2D", ()), ("Flatten", ()), ("Reshape", ((2, 2),)), ("Dropout", (0.5,)),
    ("BatchNormalization", ()), ("Activation", ("relu",)), ("Add", ()), ("Concatenate", ()),
    ("InputLayer", ((3,),)), ("ReLU", ()), ("LeakyReLU", ()), ("PReLU", ()), ("ELU", ()),
    ("Softmax", ()), ("ActivityRegularization", ()), ("Lambda", (abs,))])
def test_config_keys_as_keras(name, args):
    ours = set(getattr(layers, name)(*args).get_config())
    theirs = set(getattr(keras.layers, name)(*args).get_config()) - KERAS_ONLY
    assert theirs <= ours, theirs - ours
