"""The convolution, pooling, reshaping and regularization families on their own: bad input
gets an error naming the layer and what it got, before any weight exists or changes; the
noise layers draw only in training, with the statistics they promise, reproducibly; float64
gradients. (Their numbers against Keras: test_window_layers_keras.py.)"""
import json

import numpy as np
import pytest

import mgp
from mgp import layers

rng = np.random.default_rng(0)


def sample(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ============================================ bad arguments =========================================

BAD_ARGUMENTS = [
    # (factory, the message it must raise)
    (lambda: layers.Conv1D(0, 3), r"Conv1D: filters must be a positive integer, got 0"),
    (lambda: layers.Conv2D(4, (3, 0)), r"Conv2D: kernel_size must be .* positive ints, got \(3, 0\)"),
    (lambda: layers.Conv3D(4, 3, strides=-1), r"Conv3D: strides must be .* positive"),
    (lambda: layers.Conv2D(4, 3, dilation_rate=(1, 0)), r"Conv2D: dilation_rate must be"),
    (lambda: layers.Conv2D(4, 2.5), r"Conv2D: kernel_size must be an int or a tuple of 2 ints"),
    (lambda: layers.Conv2D(6, 3, groups=4), r"Conv2D: filters \(6\) must be divisible by groups"),
    (lambda: layers.Conv1D(4, 3, groups=0), r"Conv1D: groups must be a positive integer"),
    (lambda: layers.Conv2D(4, 3, padding="causal"),
     r"Conv2D: padding must be 'valid' or 'same', got 'causal'"),
    (lambda: layers.Conv1D(4, 3, padding="full"),
     r"Conv1D: padding must be 'valid', 'same' or 'causal', got 'full'"),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2),
     r"Conv2DTranspose: output_padding must be less than strides"),
    (lambda: layers.Conv1DTranspose(4, 3, output_padding=-1),
     r"Conv1DTranspose: output_padding must be None, an int or a tuple of 1 non-negative"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0),
     r"DepthwiseConv2D: depth_multiplier must be a positive integer, got 0"),
    (lambda: layers.SeparableConv1D(-2, 3), r"SeparableConv1D: filters must be a positive"),
    (lambda: layers.MaxPooling3D(0), r"MaxPooling3D: pool_size must be .* positive"),
    (lambda: layers.AveragePooling1D(2, strides=0), r"AveragePooling1D: strides must be"),
    (lambda: layers.MaxPooling2D(data_format="NHWC"), r"MaxPooling2D: data_format must be"),
    (lambda: layers.UpSampling2D((2, 0)), r"UpSampling2D: size must be .* positive"),
    (lambda: layers.UpSampling2D(interpolation="bicubic"),
     r"UpSampling2D: interpolation must be 'nearest' or 'bilinear'"),
    (lambda: layers.UpSampling1D(1.5), r"UpSampling1D: size must be a positive integer"),
    (lambda: layers.ZeroPadding2D(-1), r"ZeroPadding2D: padding must be .* non-negative"),
    (lambda: layers.ZeroPadding3D((1, 2)), r"ZeroPadding3D: padding must be an int, a tuple"),
    (lambda: layers.Cropping2D(((1, -1), (0, 0))), r"Cropping2D: cropping \(axis 1\) must be"),
    (lambda: layers.Permute((1, 3)), r"Permute: dims must be a permutation of 1 .. 2"),
    (lambda: layers.RepeatVector(0), r"RepeatVector: n must be a positive integer, got 0"),
    (lambda: layers.SpatialDropout2D(1.5), r"Dropout: rate must be a number in \[0, 1\]"),
    (lambda: layers.GaussianNoise(-0.1), r"GaussianNoise: stddev must be a number in \[0, 1\]"),
    (lambda: layers.GaussianDropout("a"), r"GaussianDropout: rate must be a number"),
    (lambda: layers.AlphaDropout(2), r"AlphaDropout: rate must be a number in \[0, 1\]"),
    (lambda: layers.Dot(axes=(1, 2, 3)), r"Dot: axes must be an int or a pair of ints"),
]


@pytest.mark.parametrize("factory, message", BAD_ARGUMENTS, ids=[m for _, m in BAD_ARGUMENTS])
def test_bad_arguments_name_the_layer_and_the_value(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


# ============================================= bad inputs ===========================================

BAD_INPUTS = [
    # (layer, an input it cannot take, the message)
    (lambda: layers.Conv1D(2, 3, name="c1"), (2, 8), r"Conv1D 'c1' expected 3-D inputs "
     r"\(batch, steps, channels\), got shape \((2|None), 8\)"),
    (lambda: layers.Conv3D(2, 3, name="c3"), (2, 8, 8, 3), r"Conv3D 'c3' expected 5-D inputs "
     r"\(batch, depth, height, width, channels\), got shape \((2|None), 8, 8, 3\)"),
    (lambda: layers.Conv2D(2, 5, name="big"), (1, 4, 6, 2), r"Conv2D 'big': kernel_size \(5, 5\) "
     r"with dilation_rate \(1, 1\) does not fit inputs of spatial size \(4, 6\)"),
    (lambda: layers.Conv1D(2, 3, dilation_rate=3, name="dil"), (1, 6, 2),
     r"Conv1D 'dil': kernel_size \(3,\) with dilation_rate \(3,\) does not fit"),
    (lambda: layers.Conv2D(4, 3, groups=2, name="grp"), (1, 5, 5, 3),
     r"Conv2D 'grp': the input's 3 channels must be divisible by groups \(2\)"),
    (lambda: layers.Conv2D(4, 3, data_format="channels_first", name="cf"), (1, 5, 5, None),
     None),  # unknown size: allowed in the spatial axes (checked below)
    (lambda: layers.DepthwiseConv1D(4, name="dw"), (1, 3, 2),
     r"DepthwiseConv1D 'dw': kernel_size \(4,\) .* does not fit"),
    (lambda: layers.SeparableConv2D(2, 3, name="sep"), (1, 5, 5),
     r"SeparableConv2D 'sep' expected 4-D inputs"),
    (lambda: layers.Conv2DTranspose(2, 3, name="tr"), (1, 5, 5), r"Conv2DTranspose 'tr' expected "
     r"4-D inputs"),
    (lambda: layers.MaxPooling1D(4, name="mp"), (1, 3, 2), r"MaxPooling1D 'mp': pool_size \(4,\) "
     r"does not fit inputs of spatial size \(3,\)"),
    (lambda: layers.AveragePooling3D(name="ap"), (1, 4, 4, 2), r"AveragePooling3D 'ap' expected "
     r"5-D inputs"),
    (lambda: layers.GlobalMaxPooling3D(name="gm"), (1, 4, 4, 2), r"GlobalMaxPooling3D 'gm' "
     r"expected 5-D inputs"),
    (lambda: layers.Cropping2D(((2, 2), (0, 0)), name="cr"), (1, 4, 5, 1),
     r"Cropping2D 'cr': cropping \(\(2, 2\), \(0, 0\)\) must leave at least one cell .* "
     r"\((1|None), 4, 5, 1\)"),
    (lambda: layers.Cropping1D(3, name="cr1"), (1, 6, 1), r"Cropping1D 'cr1'"),
    (lambda: layers.ZeroPadding1D(name="zp"), (1, 4, 4, 1), r"ZeroPadding1D 'zp' expected 3-D"),
    (lambda: layers.UpSampling3D(name="up"), (1, 4, 4, 1), r"UpSampling3D 'up' expected 5-D"),
    (lambda: layers.Permute((2, 1), name="pm"), (1, 4, 4, 1), r"Permute 'pm' expected 3-D"),
    (lambda: layers.RepeatVector(2, name="rv"), (1, 4, 4), r"RepeatVector 'rv' expected 2-D"),
    (lambda: layers.SpatialDropout1D(0.5, name="sd"), (1, 4, 4, 1), r"SpatialDropout1D 'sd' "
     r"expected 3-D"),
]


@pytest.mark.parametrize("factory, shape, message", [c for c in BAD_INPUTS if c[2]],
                         ids=[c[2][:40] for c in BAD_INPUTS if c[2]])
def test_bad_inputs_name_the_layer_and_shape_before_any_weight_exists(factory, shape, message):
    layer = factory()
    with pytest.raises(ValueError, match=message):
        layer(np.zeros(shape, np.float32), training=True)
    assert layer.weights == []
    if hasattr(layer, "kernel_size"):  # a layer with weights is not left half-built
        assert not layer.built
    with pytest.raises(ValueError, match=message):  # and from the shape alone, as Keras
        layer.compute_output_shape((None,) + shape[1:])


@pytest.mark.parametrize("layer, good, bad, message", [
    (layers.Conv1D(3, 3, name="c"), (2, 8, 4), (2, 8, 5),
     r"Conv1D 'c' expected inputs with 4 channels on axis -1 \(channels_last\), got \(2, 8, 5\)"),
    (layers.Conv2D(4, 3, groups=2, data_format="channels_first", name="g"), (1, 4, 6, 6),
     (1, 6, 6, 6), r"Conv2D 'g' expected inputs with 4 channels on axis 1"),
    (layers.Conv3D(2, 2, name="v"), (1, 3, 3, 3, 1), (1, 1, 3, 3, 1),
     r"Conv3D 'v': kernel_size \(2, 2, 2\) .* does not fit inputs of spatial size \(1, 3, 3\)"),
    (layers.Conv1DTranspose(2, 3, name="t"), (1, 5, 2), (1, 5, 3),
     r"Conv1DTranspose 't' expected inputs with 2 channels"),
    (layers.DepthwiseConv2D(2, name="d"), (1, 4, 4, 3), (1, 4, 4, 2),
     r"DepthwiseConv2D 'd' expected inputs with 3 channels"),
    (layers.SeparableConv1D(2, 2, name="s"), (1, 4, 3), (1, 4, 2, 1),
     r"SeparableConv1D 's' expected 3-D inputs"),
])
def test_a_built_layer_refuses_other_inputs_and_keeps_its_weights(layer, good, bad, message):
    layer(sample(*good))
    before = [w.copy() for w in layer.get_weights()]
    with pytest.raises(ValueError, match=message):
        layer(sample(*bad))
    for a, b in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_unknown_spatial_sizes_are_fine_and_unknown_channels_are_not():
    conv = layers.Conv2D(4, 3, data_format="channels_first")
    assert conv.compute_output_shape((None, 2, None, 7)) == (None, 4, None, 5)
    with pytest.raises(ValueError, match=r"Conv2D '\w+' needs a known number of input channels"):
        conv.compute_output_shape((None, None, 5, 5)) and conv.build((None, None, 5, 5))
    assert layers.Conv1DTranspose(2, 3, strides=2).compute_output_shape((None, None, 3)) == \
        (None, None, 2)
    assert layers.Cropping2D(1).compute_output_shape((None, None, 5, 2)) == (None, None, 3, 2)


def test_dot_refuses_mismatched_axes_and_the_batch_axis():
    with pytest.raises(ValueError, match=r"Dot '\w+': axis 1 of \(2, 3\) \(3\) and axis 1 of "
                                         r"\(2, 4\) \(4\) differ"):
        layers.Dot(axes=1)([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="cannot take the dot product over the batch axis"):
        layers.Dot(axes=0)([np.zeros((2, 3)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match="exactly 2 inputs, got 3"):
        layers.Dot(axes=1)([np.zeros((2, 3))] * 3)


def test_masked_global_average_pooling_refuses_a_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"expected a mask of shape \(2, 5\) .* got \(2, 4\)"):
        layers.GlobalAveragePooling1D()(sample(2, 5, 3), mask=np.ones((2, 4), bool))


# ============================================ noise layers ==========================================

@pytest.mark.parametrize("layer, shape", [
    (layers.SpatialDropout1D(0.5), (2, 5, 3)),
    (layers.SpatialDropout2D(0.5, data_format="channels_first"), (2, 3, 5, 5)),
    (layers.SpatialDropout3D(0.5), (2, 4, 4, 4, 3)), (layers.GaussianNoise(0.5), (2, 5)),
    (layers.GaussianDropout(0.5), (2, 5, 3)), (layers.AlphaDropout(0.5), (2, 5))],
    ids=lambda v: type(v).__name__)
def test_noise_layers_are_the_identity_at_inference(layer, shape):
    x = sample(*shape)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert not np.array_equal(layer(x, training=True).numpy(), x)


@pytest.mark.parametrize("cls, shape, data_format, map_axes", [
    (layers.SpatialDropout1D, (40, 6, 50), None, (1,)),
    (layers.SpatialDropout2D, (40, 50, 3, 4), "channels_first", (2, 3)),
    (layers.SpatialDropout3D, (40, 3, 2, 4, 50), "channels_last", (1, 2, 3)),
])
def test_spatial_dropout_drops_whole_feature_maps(cls, shape, data_format, map_axes):
    kwargs = {} if data_format is None else dict(data_format=data_format)
    x = np.ones(shape, np.float32)
    y = cls(0.25, **kwargs)(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    # one draw per sample and channel: constant over each map
    np.testing.assert_array_equal(y.min(axis=map_axes), y.max(axis=map_axes))
    assert 0.2 < (y == 0).mean() < 0.3


def test_gaussian_noise_and_dropout_statistics():
    x = np.full((200, 500), 2.0, np.float32)
    noisy = layers.GaussianNoise(0.3)(x, training=True).numpy() - 2.0
    assert abs(noisy.mean()) < 0.01 and abs(noisy.std() - 0.3) < 0.01
    scaled = layers.GaussianDropout(0.2)(x, training=True).numpy() / 2.0
    assert abs(scaled.mean() - 1) < 0.01 and abs(scaled.std() - 0.5) < 0.01  # sqrt(.2 / .8)
    with pytest.raises(ValueError, match="rate 1 makes the noise's standard deviation infinite"):
        layers.GaussianDropout(1.0)(x, training=True)


def test_alpha_dropout_keeps_the_mean_and_variance_of_standard_inputs():
    x = rng.standard_normal((400, 500)).astype(np.float32)
    y = layers.AlphaDropout(0.3)(x, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03
    saturated = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.3) * (1 + 0.3 * saturated ** 2)) ** -0.5
    dropped_value = a * saturated * (1 - 0.3)
    dropped = np.isclose(y, dropped_value, rtol=0, atol=1e-6)
    assert 0.28 < dropped.mean() < 0.32
    keep = ~dropped
    np.testing.assert_allclose(y[keep], a * x[keep] - a * saturated * 0.3, rtol=1e-5,
                               atol=1e-6)
    z = layers.AlphaDropout(0.3, noise_shape=(None, 1))(x, training=True).numpy()
    rows_dropped = np.isclose(z, dropped_value, rtol=0, atol=1e-6)
    assert (rows_dropped.all(axis=1) | ~rows_dropped.any(axis=1)).all()  # whole rows


@pytest.mark.parametrize("factory", [
    lambda seed: layers.SpatialDropout2D(0.4, seed=seed),
    lambda seed: layers.GaussianNoise(0.4, seed=seed),
    lambda seed: layers.GaussianDropout(0.4, seed=seed),
    lambda seed: layers.AlphaDropout(0.4, seed=seed),
])
def test_noise_is_reproducible_from_a_seed_and_from_set_random_seed(factory):
    x = sample(3, 4, 4, 2)
    np.testing.assert_array_equal(factory(7)(x, training=True).numpy(),
                                  factory(7)(x, training=True).numpy())
    draws = []
    for _ in range(2):
        mgp.utils.set_random_seed(11)
        layer = factory(None)
        draws.append([layer(x, training=True).numpy() for _ in range(2)])
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0][0], draws[0][1])  # each call draws anew


def test_noise_gradients_are_the_noise():
    x = mgp.tensor(sample(3, 6), requires_grad=True)
    mgp.utils.set_random_seed(3)
    y = layers.GaussianDropout(0.3)(x, training=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad * x.numpy(), y.numpy(), rtol=1e-6)
    x.grad = None
    layers.GaussianNoise(0.3)(x, training=True).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((3, 6)))


# ========================================= float64 gradients ========================================

@pytest.mark.parametrize("factory, shape", [
    (lambda: layers.Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64"), (2, 7, 2)),
    (lambda: layers.Conv2D(4, 2, groups=2, strides=2, activation="relu", dtype="float64"),
     (2, 5, 4, 4)),
    (lambda: layers.Conv3DTranspose(2, 2, strides=2, padding="same", dtype="float64"),
     (1, 2, 3, 2, 2)),
    (lambda: layers.DepthwiseConv1D(3, depth_multiplier=2, dtype="float64"), (2, 6, 2)),
    (lambda: layers.SeparableConv2D(3, 2, activation="relu", dtype="float64"), (1, 4, 4, 2)),
    (lambda: layers.UpSampling2D((2, 3), interpolation="bilinear", dtype="float64"),
     (1, 3, 2, 2)),
    (lambda: layers.UpSampling3D(2, dtype="float64"), (1, 2, 2, 2, 1)),
    (lambda: layers.ZeroPadding2D(((1, 0), (0, 2)), dtype="float64"), (1, 2, 3, 2)),
    (lambda: layers.Cropping3D(1, dtype="float64"), (1, 3, 4, 3, 1)),
    (lambda: layers.RepeatVector(3, dtype="float64"), (2, 3)),
], ids=str)
def test_layers_gradcheck_in_float64(factory, shape):
    layer = factory()
    x = mgp.tensor(rng.standard_normal(shape), requires_grad=True)
    layer(x)
    weights = layer.trainable_weights
    assert mgp.gradcheck(lambda x, *ws: layer(x), x, *weights)


def test_global_average_pooling_1d_mask_gradcheck():
    mask = np.array([[1, 1, 0, 1], [0, 1, 0, 0]], bool)
    x = mgp.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    assert mgp.gradcheck(lambda x: layers.GlobalAveragePooling1D()(x, mask=mask), x)


# ========================================== models and files ========================================

def test_a_functional_model_of_these_layers_round_trips_through_json_and_weights(tmp_path):
    inputs = layers.Input((16, 3))
    x = layers.Conv1D(8, 3, padding="causal", activation="relu")(inputs)
    x = layers.SeparableConv1D(8, 3, padding="same")(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.UpSampling1D(2)(x)
    x = layers.ZeroPadding1D((1, 2))(x)
    x = layers.Cropping1D((2, 1))(x)
    x = layers.Conv1DTranspose(4, 3, strides=2, padding="same")(x)
    x = layers.SpatialDropout1D(0.3)(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(2)(x)
    model = mgp.Model(inputs, outputs)
    data = sample(4, 16, 3)
    expected = model.predict(data, verbose=0)
    clone = mgp.Model.from_config(json.loads(json.dumps(model.get_config())))
    model.save_weights(tmp_path / "m.weights.h5")
    clone.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(clone.predict(data, verbose=0), expected)
