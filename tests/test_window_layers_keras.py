"""Keras 3 as the oracle for the convolution, pooling, reshaping and regularization families:
with the same weights and inputs, mgp's layer and Keras's (torch backend) give the same outputs,
the same input gradients and the same weight gradients (to 1e-5), the same weight names and
shapes, the same output shapes from `compute_output_shape` (unknown sizes as None), and the same
config keys; each case is one row of a table."""
import json

import numpy as np
import pytest

import oracles

keras = oracles.keras()
torch = oracles.torch()

import mgp  # noqa: E402
from mgp import layers  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
rng = np.random.default_rng(0)


def sample(*shape):
    return rng.standard_normal(shape).astype(np.float32)


SEQ = sample(2, 9, 4)             # (batch, steps, channels)
SEQ_CF = sample(2, 4, 9)
IMG = sample(2, 7, 6, 4)          # (batch, height, width, channels)
IMG_CF = sample(2, 4, 7, 6)
VOL = sample(2, 5, 6, 4, 2)       # (batch, depth, height, width, channels)
VOL_CF = sample(2, 2, 5, 6, 4)
CF = dict(data_format="channels_first")

CASES = [
    # ---- Conv1D: padding valid / same / causal, strides, dilation, groups, channels_first
    ("Conv1D", dict(filters=3, kernel_size=3), SEQ),
    ("Conv1D", dict(filters=3, kernel_size=2, padding="same"), SEQ),
    ("Conv1D", dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2), SEQ),
    ("Conv1D", dict(filters=2, kernel_size=3, padding="causal", strides=2), SEQ),
    ("Conv1D", dict(filters=4, kernel_size=3, strides=2, padding="same", activation="relu"), SEQ),
    ("Conv1D", dict(filters=6, kernel_size=3, groups=2, dilation_rate=2), SEQ),
    ("Conv1D", dict(filters=4, kernel_size=3, groups=4, padding="same", **CF), SEQ_CF),
    # ---- Conv2D with groups and channels_first, Conv3D
    ("Conv2D", dict(filters=4, kernel_size=3, groups=2, activation="relu"), IMG),
    ("Conv2D", dict(filters=6, kernel_size=(3, 2), strides=2, groups=2, padding="same", **CF),
     IMG_CF),
    ("Conv2D", dict(filters=2, kernel_size=2, dilation_rate=(2, 1), use_bias=False), IMG),
    ("Conv3D", dict(filters=3, kernel_size=2), VOL),
    ("Conv3D", dict(filters=3, kernel_size=(3, 2, 2), strides=(2, 1, 2), padding="same",
                    activation="tanh"), VOL),
    ("Conv3D", dict(filters=4, kernel_size=2, groups=2, dilation_rate=2, **CF), VOL_CF),
    # ---- transposed convolutions: padding, strides, output_padding, dilation, channels_first
    ("Conv1DTranspose", dict(filters=3, kernel_size=3), SEQ),
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"), SEQ),
    ("Conv1DTranspose", dict(filters=2, kernel_size=4, strides=3, output_padding=1), SEQ),
    ("Conv1DTranspose", dict(filters=2, kernel_size=2, strides=4), SEQ),  # stride > kernel
    ("Conv1DTranspose", dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"), SEQ),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same",
                             activation="relu"), IMG),
    ("Conv2DTranspose", dict(filters=3, kernel_size=(3, 2), strides=(2, 3), padding="same",
                             output_padding=(1, 0)), IMG),
    ("Conv2DTranspose", dict(filters=2, kernel_size=2, strides=2, **CF), IMG_CF),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, dilation_rate=2, use_bias=False), IMG),
    ("Conv3DTranspose", dict(filters=2, kernel_size=2, strides=2), VOL),
    ("Conv3DTranspose", dict(filters=2, kernel_size=3, strides=(1, 2, 2), padding="same",
                             output_padding=(0, 1, 0), **CF), VOL_CF),
    # ---- depthwise and separable
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2), SEQ),
    ("DepthwiseConv1D", dict(kernel_size=3, strides=2, padding="same", **CF), SEQ_CF),
    ("DepthwiseConv2D", dict(kernel_size=3, activation="relu"), IMG),
    ("DepthwiseConv2D", dict(kernel_size=(2, 3), depth_multiplier=3, dilation_rate=2,
                             padding="same"), IMG),
    ("DepthwiseConv2D", dict(kernel_size=3, strides=2, **CF), IMG_CF),
    ("SeparableConv1D", dict(filters=5, kernel_size=3, depth_multiplier=2), SEQ),
    ("SeparableConv1D", dict(filters=3, kernel_size=2, strides=2, padding="same", **CF), SEQ_CF),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, padding="same", activation="relu"), IMG),
    ("SeparableConv2D", dict(filters=3, kernel_size=2, dilation_rate=2, depth_multiplier=2,
                             **CF), IMG_CF),
    # ---- windowed pools ('same' average only with even padding: see test_layers_keras.py)
    ("MaxPooling1D", dict(), SEQ),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same", **CF), SEQ_CF),
    ("AveragePooling1D", dict(pool_size=3, strides=1), SEQ),
    ("AveragePooling1D", dict(pool_size=3, strides=2, padding="same"), SEQ),
    ("MaxPooling3D", dict(), VOL),
    ("MaxPooling3D", dict(pool_size=(2, 3, 2), strides=1, padding="same", **CF), VOL_CF),
    ("AveragePooling3D", dict(pool_size=2), VOL),
    ("AveragePooling3D", dict(pool_size=(3, 3, 1), strides=(2, 2, 1), padding="same"),
     sample(2, 5, 5, 3, 2)),
    ("MaxPooling2D", dict(pool_size=(3, 2), strides=(1, 2)), IMG),
    # ---- global pools
    ("GlobalAveragePooling1D", dict(), SEQ),
    ("GlobalAveragePooling1D", dict(keepdims=True, **CF), SEQ_CF),
    ("GlobalMaxPooling1D", dict(), SEQ),
    ("GlobalMaxPooling1D", dict(keepdims=True, **CF), SEQ_CF),
    ("GlobalAveragePooling3D", dict(), VOL),
    ("GlobalMaxPooling3D", dict(keepdims=True, **CF), VOL_CF),
    ("GlobalMaxPooling2D", dict(keepdims=True), IMG),
    # ---- up-sampling, padding, cropping
    ("UpSampling1D", dict(size=3), SEQ),
    ("UpSampling2D", dict(size=(2, 3)), IMG),
    ("UpSampling2D", dict(size=2, **CF), IMG_CF),
    ("UpSampling2D", dict(size=(2, 3), interpolation="bilinear"), IMG),
    ("UpSampling2D", dict(size=3, interpolation="bilinear", **CF), IMG_CF),
    ("UpSampling3D", dict(size=(1, 2, 3)), VOL),
    ("UpSampling3D", dict(size=2, **CF), VOL_CF),
    ("ZeroPadding1D", dict(padding=(1, 3)), SEQ),
    ("ZeroPadding1D", dict(padding=2, **CF), SEQ_CF),
    ("ZeroPadding2D", dict(padding=((1, 0), (2, 3))), IMG),
    ("ZeroPadding2D", dict(padding=(1, 2), **CF), IMG_CF),
    ("ZeroPadding3D", dict(padding=1), VOL),
    ("ZeroPadding3D", dict(padding=((0, 1), (2, 0), (1, 1)), **CF), VOL_CF),
    ("Cropping1D", dict(cropping=(2, 3)), SEQ),
    ("Cropping2D", dict(cropping=((1, 2), (0, 3))), IMG),
    ("Cropping2D", dict(cropping=1, **CF), IMG_CF),
    ("Cropping3D", dict(cropping=((1, 0), (2, 1), (0, 1))), VOL),
    ("Cropping3D", dict(cropping=1, **CF), VOL_CF),
    # ---- reshaping and the rest
    ("Permute", dict(dims=(2, 1)), SEQ),
    ("Permute", dict(dims=(3, 1, 2)), IMG),
    ("Flatten", dict(**CF), VOL_CF),
    ("RepeatVector", dict(n=3), sample(2, 5)),
    ("Identity", dict(), IMG),
    # ---- regularization layers at inference (their training noise: see test_window_layers)
    ("SpatialDropout1D", dict(rate=0.5), SEQ),
    ("SpatialDropout2D", dict(rate=0.5, **CF), IMG_CF),
    ("SpatialDropout3D", dict(rate=0.5), VOL),
    ("GaussianNoise", dict(stddev=0.3), IMG),
    ("GaussianDropout", dict(rate=0.3), IMG),
    ("AlphaDropout", dict(rate=0.3), IMG),
]


def keras_forward_backward(layer, x, g):
    """Keras's output, input gradient and trainable weights' gradients (torch autograd)."""
    xt = torch.tensor(x, requires_grad=True)
    y = layer(xt)
    y.backward(torch.tensor(g))
    grads = [w.value.grad.numpy() for w in layer.trainable_weights]
    return y.detach().numpy(), xt.grad.numpy(), grads


def mgp_forward_backward(layer, x, g):
    xt = mgp.tensor(x, requires_grad=True)
    y = layer(xt)
    y.backward(g)
    return y.numpy(), xt.grad, [w.grad for w in layer.trainable_weights]


@pytest.mark.parametrize("name, kwargs, x", CASES, ids=[c[0] for c in CASES])
def test_same_outputs_and_gradients_as_keras(name, kwargs, x):
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    ours(x)
    theirs(x)
    assert [(w.name, w.shape) for w in ours.weights] == \
        [(w.name, tuple(w.shape)) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    g = sample(*ours(x).shape)
    y, gx, gw = mgp_forward_backward(ours, x, g)
    ky, kgx, kgw = keras_forward_backward(theirs, x, g)
    np.testing.assert_allclose(y, ky, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gx, kgx, rtol=1e-5, atol=1e-5)
    for mine, keras_grad in zip(gw, kgw, strict=True):
        np.testing.assert_allclose(mine, keras_grad, rtol=1e-5, atol=1e-5)
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("name, kwargs, x", CASES, ids=[c[0] for c in CASES])
def test_output_shapes_as_keras_with_unknown_sizes(name, kwargs, x):
    known = (None,) + x.shape[1:]
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    shapes = [known]
    channels_first = kwargs.get("data_format") == "channels_first"
    if len(x.shape) > 2 and name not in ("Permute", "RepeatVector"):
        # the spatial sizes unknown too (the channels stay known: the kernels need them)
        spatial = range(2, len(x.shape)) if channels_first else range(1, len(x.shape) - 1)
        shapes.append(tuple(None if i in spatial else n for i, n in enumerate(known)))
    for shape in shapes:
        if name.startswith("Cropping") and None in shape[1:]:
            continue  # Keras's torch backend cannot slice an unknown size
        expected = tuple(theirs.compute_output_shape(shape))
        assert tuple(ours.compute_output_shape(shape)) == expected, shape


def test_same_outputs_and_gradients_as_keras_for_dot():
    a, b = sample(3, 4, 5), sample(3, 6, 5)
    for axes, normalize, inputs in [(2, False, (a, b)), ((2, 2), True, (a, b)),
                                    (1, False, (sample(3, 4), sample(3, 4))),
                                    ((1, 2), True, (sample(3, 5), b)),
                                    ((1, 1), False, (a, sample(3, 4, 2)))]:
        ours = layers.Dot(axes=axes, normalize=normalize)
        theirs = keras.layers.Dot(axes=axes, normalize=normalize)
        xs = [mgp.tensor(v, requires_grad=True) for v in inputs]
        ts = [torch.tensor(v, requires_grad=True) for v in inputs]
        y, ky = ours(xs), theirs(ts)
        np.testing.assert_allclose(y.numpy(), ky.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert ours.compute_output_shape([(None,) + v.shape[1:] for v in inputs]) == \
            tuple(theirs.compute_output_shape([(None,) + v.shape[1:] for v in inputs]))
        g = sample(*y.shape)
        y.backward(g)
        ky.backward(torch.tensor(g))
        for mine, keras_tensor in zip(xs, ts):
            np.testing.assert_allclose(mine.grad, keras_tensor.grad.numpy(), rtol=1e-5,
                                       atol=1e-6)


def test_global_average_pooling_1d_with_a_mask_as_keras():
    mask = np.array([[True] * 6 + [False] * 3, [True, False] * 4 + [True]])
    for kwargs, x in [(dict(), SEQ), (dict(data_format="channels_first", keepdims=True),
                                      SEQ_CF)]:
        ours, theirs = layers.GlobalAveragePooling1D(**kwargs), \
            keras.layers.GlobalAveragePooling1D(**kwargs)
        xt, kt = mgp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ky = ours(xt, mask=mask), theirs(kt, mask=torch.tensor(mask))
        np.testing.assert_allclose(y.numpy(), ky.detach().numpy(), rtol=1e-6, atol=1e-6)
        y.sum().backward()
        ky.sum().backward()
        np.testing.assert_allclose(xt.grad, kt.grad.numpy(), rtol=1e-6, atol=1e-7)


# Keras config entries mgp leaves out: Keras-only features (quantization, LoRA).
KERAS_ONLY = {"lora_rank", "lora_alpha", "quantization_config"}


@pytest.mark.parametrize("name, kwargs, x", CASES, ids=[c[0] for c in CASES])
def test_config_as_keras_and_round_trip(name, kwargs, x):
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    mine, keras_config = ours.get_config(), theirs.get_config()
    assert set(keras_config) - KERAS_ONLY <= set(mine), set(keras_config) - set(mine)
    for key in set(keras_config) & set(mine) - {"name", "dtype", "trainable"}:
        value = keras_config[key]
        if isinstance(value, dict):  # an initializer, as Keras serializes it: its class
            assert mine[key]["class_name"] == value["class_name"], key
        else:
            assert json.loads(json.dumps(mine[key])) == json.loads(json.dumps(value)), key
    text = json.dumps(mine)
    clone = type(ours).from_config(json.loads(text))
    assert json.dumps(clone.get_config()) == text


ALIASES = ["Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose",
           "Convolution2DTranspose", "Convolution3DTranspose", "SeparableConvolution1D",
           "SeparableConvolution2D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D",
           "AvgPool2D", "AvgPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D"]


@pytest.mark.parametrize("alias", ALIASES)
def test_keras_aliases(alias):
    assert getattr(layers, alias).__name__ == getattr(keras.layers, alias).__name__


@pytest.mark.parametrize("name", sorted({c[0] for c in CASES} | {"Dot"}))
def test_constructor_arguments_as_keras(name):
    """The same argument names in the same order, so positional calls mean the same."""
    import inspect

    def names(cls):
        return [p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
    assert names(getattr(layers, name)) == names(getattr(keras.layers, name))
