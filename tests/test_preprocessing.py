"""The numeric and image preprocessing layers against Keras 3 on its torch backend: the
deterministic layers give Keras's outputs and dtypes; each random layer applies Keras's own
random draw (its `get_random_transformation`) exactly as Keras does, is the identity (in
Keras's dtype) at inference, and is reproducible with a seed; configs cross both ways; bad
input is refused naming the layer, before anything changes."""
import json

import numpy as np
import pytest

import oracles

keras = oracles.keras()

import mgp  # noqa: E402
from mgp import layers  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
rng = np.random.default_rng(0)
IMAGES = rng.uniform(0, 255, (3, 7, 9, 2)).astype(np.float32)
IMAGES_CF = np.ascontiguousarray(IMAGES.transpose(0, 3, 1, 2))
UINT8 = rng.integers(0, 256, (2, 6, 8, 3)).astype(np.uint8)
RGB = rng.uniform(0, 255, (4, 6, 7, 3)).astype(np.float32)
RGB_CF = np.ascontiguousarray(RGB.transpose(0, 3, 1, 2))
AUDIO = np.sin(np.arange(2 * 300).reshape(2, 300) * [[0.3], [0.71]])
BIG = rng.uniform(0, 255, (2, 32, 32, 3)).astype(np.float32) ** 1.1 / 2
BASE_KEYS = ("name",)


def knp(x):
    return keras.ops.convert_to_numpy(x)


def both(name, **kwargs):
    return getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)


def jsonable(config):
    return json.loads(json.dumps({k: v for k, v in config.items() if k not in BASE_KEYS}))


# ---- deterministic layers ------------------------------------------------------------------------
DETERMINISTIC = [
    ("Resizing", dict(height=4, width=5), IMAGES),
    ("Resizing", dict(height=10, width=12, interpolation="bicubic"), IMAGES),
    ("Resizing", dict(height=3, width=4, interpolation="nearest"), IMAGES),
    ("Resizing", dict(height=3, width=4, antialias=True), IMAGES),
    ("Resizing", dict(height=10, width=4, crop_to_aspect_ratio=True), IMAGES),
    ("Resizing", dict(height=4, width=12, pad_to_aspect_ratio=True, fill_value=7.0), IMAGES),
    ("Resizing", dict(height=4, width=5, data_format="channels_first"), IMAGES_CF),
    ("Resizing", dict(height=4, width=5), IMAGES[0]),
    ("CenterCrop", dict(height=4, width=5), IMAGES),
    ("CenterCrop", dict(height=10, width=5), IMAGES),
    ("CenterCrop", dict(height=3, width=3, data_format="channels_first"), IMAGES_CF),
    ("CenterCrop", dict(height=4, width=4), UINT8),
    ("CenterCrop", dict(height=4, width=4), IMAGES[0]),
    ("AutoContrast", dict(), RGB / 2 + 20),
    ("AutoContrast", dict(value_range=(0, 1)), RGB / 400),
    ("AutoContrast", dict(), UINT8 // 2 + 10),
    # CLAHE: Keras's torch backend counts the histograms in int64 and so truncates the clip
    # limit (clip_limit * pixels per tile / 256) to an integer; these cases have integral
    # limits (or none), where its backends agree
    ("ContrastLimitedAdaptiveHistogramEqualization", dict(tile_grid_size=(2, 2)), BIG),
    ("ContrastLimitedAdaptiveHistogramEqualization", dict(tile_grid_size=(4, 4),
                                                          clip_limit=8.0), BIG),
    ("ContrastLimitedAdaptiveHistogramEqualization", dict(clip_limit=0.0,
                                                          tile_grid_size=(4, 3)), UINT8),
    ("ContrastLimitedAdaptiveHistogramEqualization",
     dict(value_range=(0, 1), tile_grid_size=(2, 4), clip_limit=0.0,
          data_format="channels_first"), RGB_CF / 255),
    ("Rescaling", dict(scale=1 / 255), UINT8),
    ("Rescaling", dict(scale=1 / 127.5, offset=-1), IMAGES),
    ("Rescaling", dict(scale=np.array([0.5, 2.0], np.float32)), IMAGES),
    ("Normalization", dict(mean=[1.0, 2.0], variance=[2.0, 3.0]), IMAGES),
    ("Normalization", dict(mean=3.0, variance=4.0, axis=None), IMAGES),
    ("Normalization", dict(mean=[1.0, 2.0], variance=[2.0, 3.0], invert=True), IMAGES),
    ("Normalization", dict(mean=[0.5] * 7, variance=[2.0] * 7, axis=1), IMAGES),
    ("Discretization", dict(bin_boundaries=[0.0, 50.0, 200.0]), IMAGES[0, :, :, 0]),
    ("Discretization", dict(bin_boundaries=[0.0, 1.0], output_mode="one_hot"),
     np.array([[-1.0], [0.5], [3.0]], np.float32)),
    ("Discretization", dict(bin_boundaries=[0.0, 1.0], output_mode="multi_hot"),
     np.array([[-1.0, 0.5, 0.7], [3.0, 3.0, 0.0]], np.float32)),
    ("Discretization", dict(bin_boundaries=[0.0, 1.0], output_mode="count"),
     np.array([[-1.0, 0.5, 0.7], [3.0, 3.0, 0.0]], np.float32)),
    ("CategoryEncoding", dict(num_tokens=4, output_mode="one_hot"), np.array([0, 1, 3])),
    ("CategoryEncoding", dict(num_tokens=4, output_mode="one_hot"), np.array([[1], [2]])),
    ("CategoryEncoding", dict(num_tokens=4, output_mode="one_hot"),
     np.array([[0, 1], [3, 3]])),
    ("CategoryEncoding", dict(num_tokens=4), np.array([[0, 1], [3, 3]])),
    ("CategoryEncoding", dict(num_tokens=4, output_mode="binary"), np.array([0, 1, 3])),
    ("CategoryEncoding", dict(num_tokens=4, output_mode="count"), np.array([[0, 1, 1], [3, 3, 2]])),
    ("CategoryEncoding", dict(num_tokens=5, output_mode="multi_hot"), np.array(2)),
    # in float64: in float32 the FFTs' roundoff (about 1e-7 of the peak) shows in decibels
    # at powers far below the peak
    ("MelSpectrogram", dict(fft_length=64, sequence_stride=16, num_mel_bins=12,
                            sampling_rate=8000, dtype="float64"), AUDIO),
    ("MelSpectrogram", dict(fft_length=64, sequence_length=48, sequence_stride=20,
                            num_mel_bins=8, window="hamming", power_to_db=False,
                            mag_exp=1.0, max_freq=3000), AUDIO),
    ("MelSpectrogram", dict(fft_length=32, sequence_stride=8, num_mel_bins=6, top_db=20.0,
                            ref_power=2.0, dtype="float64"), AUDIO[0].astype(np.float64)),
]


@pytest.mark.parametrize("name,kwargs,x", DETERMINISTIC,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(DETERMINISTIC)])
def test_deterministic_layer_equals_keras(name, kwargs, x):
    ours, theirs = both(name, **kwargs)
    for training in (True, False):
        a, b = ours(x, training=training).data, knp(theirs(x, training=training))
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)
    assert jsonable(ours.get_config()) == jsonable(theirs.get_config())
    assert ours.compute_output_shape((None,) + x.shape[1:]) == \
        tuple(theirs.compute_output_shape((None,) + x.shape[1:]))


def test_resizing_integer_images_round_as_keras():
    """uint8 images stay uint8, each value Keras's rounded one; a value that lands exactly
    halfway in float32 may go either way in another summation order, so there the float
    result is checked to be that tie."""
    ours, theirs = both("Resizing", height=4, width=5)
    a, b = ours(UINT8).data, knp(theirs(UINT8))
    assert a.dtype == b.dtype == np.uint8
    exact = knp(keras.layers.Resizing(4, 5)(UINT8.astype(np.float32)))
    differ = a != b
    assert np.all(np.abs(a.astype(int) - b.astype(int)) <= 1)
    np.testing.assert_allclose(np.mod(exact[differ], 1), 0.5, atol=1e-4)


def test_count_weights_and_normalization_adapt_equal_keras():
    ours, theirs = both("CategoryEncoding", num_tokens=4, output_mode="count")
    x, w = np.array([[0, 1, 1], [2, 3, 3]]), np.array([[0.5, 1.0, 2.0], [1.0, 0.25, 4.0]])
    np.testing.assert_allclose(ours(x, count_weights=w).data,
                               knp(theirs(x, count_weights=w)), rtol=1e-6)
    for axis in (-1, None, (1, 2), 1):
        ours, theirs = both("Normalization", axis=axis)
        ours.adapt(IMAGES)
        theirs.adapt(IMAGES)
        np.testing.assert_allclose(ours.adapt_mean.data, knp(theirs.adapt_mean), rtol=1e-6)
        np.testing.assert_allclose(ours.adapt_variance.data, knp(theirs.adapt_variance),
                                   rtol=1e-5)
        np.testing.assert_allclose(ours(IMAGES).data, knp(theirs(IMAGES)), rtol=1e-4, atol=1e-5)
        assert [w.name for w in ours.weights] == ["mean", "variance", "count"]
        assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
        assert ours.get_build_config() == {"input_shape": list(IMAGES.shape)}
        assert jsonable(ours.get_config()) == jsonable(theirs.get_config())


# ---- random layers: Keras's draw, applied by both ------------------------------------------------
RANDOM = [
    ("RandomFlip", dict(), IMAGES),
    ("RandomFlip", dict(mode="horizontal"), IMAGES),
    ("RandomFlip", dict(mode="vertical", data_format="channels_first"), IMAGES_CF),
    ("RandomRotation", dict(factor=0.2, fill_mode="constant", fill_value=3.0), IMAGES),
    ("RandomRotation", dict(factor=(-0.3, 0.1)), IMAGES),
    ("RandomRotation", dict(factor=0.3, fill_mode="wrap", interpolation="nearest"), IMAGES),
    ("RandomRotation", dict(factor=0.25, fill_mode="nearest", data_format="channels_first"),
     IMAGES_CF),
    ("RandomZoom", dict(height_factor=0.3), IMAGES),
    ("RandomZoom", dict(height_factor=0.3, width_factor=(-0.5, 0.2), fill_mode="nearest"),
     IMAGES),
    ("RandomZoom", dict(height_factor=(-0.4, -0.1), fill_mode="constant",
                        data_format="channels_first"), IMAGES_CF),
    ("RandomTranslation", dict(height_factor=0.3, width_factor=0.2), IMAGES),
    ("RandomTranslation", dict(height_factor=(-0.2, 0.4), width_factor=0.5,
                               fill_mode="wrap", interpolation="nearest"), IMAGES),
    ("RandomContrast", dict(factor=0.5), IMAGES),
    ("RandomContrast", dict(factor=(0.2, 0.9), value_range=(0, 100)), IMAGES),
    ("RandomBrightness", dict(factor=0.3), IMAGES),
    ("RandomBrightness", dict(factor=(-0.5, -0.1), value_range=(0, 1)), IMAGES / 255),
    ("RandomCrop", dict(height=4, width=5), IMAGES),
    ("RandomCrop", dict(height=8, width=5), IMAGES),
    ("RandomCrop", dict(height=3, width=4, data_format="channels_first"), IMAGES_CF),
    ("RandomGrayscale", dict(factor=0.5), RGB),
    ("RandomGrayscale", dict(factor=0.7, data_format="channels_first"), RGB_CF),
    ("RandomInvert", dict(factor=0.6), RGB),
    ("RandomInvert", dict(factor=(0.2, 0.9), value_range=(0, 1)), RGB / 255),
    ("Solarization", dict(addition_factor=0.3, threshold_factor=(0.4, 0.8)), RGB),
    ("Solarization", dict(threshold_factor=0.5, value_range=(0, 1)), RGB / 255),
    ("RandomPosterization", dict(factor=(2, 6)), RGB),
    ("RandomPosterization", dict(factor=(3, 3), value_range=(0, 1)), RGB / 255),
    ("RandomHue", dict(factor=0.5), RGB),
    ("RandomHue", dict(factor=(0.2, 0.9), value_range=(0, 1), data_format="channels_first"),
     RGB_CF / 255),
    ("RandomSaturation", dict(factor=(0.2, 0.8), value_range=(0, 1)), RGB / 255),
    ("RandomSaturation", dict(factor=0.5, value_range=(0, 1), data_format="channels_first"),
     RGB_CF / 255),
    ("RandomColorDegeneration", dict(factor=0.7), RGB),
    ("RandomColorDegeneration", dict(factor=(0.2, 0.5), data_format="channels_first"), RGB_CF),
    ("RandomSharpness", dict(factor=0.8), RGB),
    ("RandomSharpness", dict(factor=(0.1, 0.3), data_format="channels_first"), RGB_CF),
    ("RandomShear", dict(x_factor=0.3, y_factor=0.2), IMAGES),
    ("RandomShear", dict(x_factor=(0.1, 0.5), fill_mode="constant", interpolation="nearest",
                         data_format="channels_first"), IMAGES_CF),
    ("RandomGaussianBlur", dict(factor=0.7, kernel_size=5, sigma=(0.3, 0.9)), RGB),
    ("RandomGaussianBlur", dict(kernel_size=(5, 5), sigma=0.5), RGB),
    ("RandomGaussianBlur", dict(data_format="channels_first"), RGB_CF),
    ("RandomErasing", dict(), RGB),
    ("RandomErasing", dict(factor=0.8, scale=(0.1, 0.5), fill_value=(1.0, 2.0, 3.0)), RGB),
    ("RandomErasing", dict(fill_value=7.0, data_format="channels_first"), RGB_CF),
    ("MixUp", dict(alpha=0.4), RGB),
    ("MixUp", dict(data_format="channels_first"), RGB_CF),
    ("CutMix", dict(), RGB),
    ("CutMix", dict(factor=(0.3, 0.6), data_format="channels_first"), RGB_CF),
    ("Equalization", dict(), RGB),
    ("Equalization", dict(value_range=(0, 1), bins=64, data_format="channels_first"),
     RGB_CF / 255),
    ("Equalization", dict(), np.round(RGB / 8) * 8),
    ("RandomPerspective", dict(), IMAGES),
    ("RandomPerspective", dict(factor=0.6, scale=0.4, interpolation="nearest",
                               fill_value=5.0, data_format="channels_first"), IMAGES_CF),
]


def keras_transformation(layer, x):
    """Keras's random draw for x, as host arrays (copied: Keras's torch affine_transform
    swaps entries of the transform it is given in place)."""
    t = layer.get_random_transformation(x, training=True)
    if t is None:  # CutMix on one image
        copy = None
    elif isinstance(t, dict):
        copy = {k: np.array(knp(v)) for k, v in t.items()}
    elif isinstance(t, tuple):
        copy = tuple(int(knp(v)) for v in t)
    else:
        copy = np.array(knp(t))
    return t, copy


@pytest.mark.parametrize("name,kwargs,x", RANDOM,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(RANDOM)])
def test_random_layer_applies_keras_transformation(name, kwargs, x):
    ours, theirs = both(name, **kwargs)
    for images in (x, x[0]):
        t, copy = keras_transformation(theirs, images)
        batched = images if images.ndim == 4 else images[None]
        expected = knp(theirs.transform_images(keras.ops.convert_to_tensor(batched), t))
        got = ours.transform_images(mgp.ops.convert_to_tensor(batched), copy).data
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-3)
    # our own draw is of Keras's form: the same keys and shapes
    ours_t = ours.get_random_transformation(mgp.ops.convert_to_tensor(x), training=True)
    theirs_t = theirs.get_random_transformation(x, training=True)
    if isinstance(theirs_t, dict):
        assert sorted(ours_t) == sorted(theirs_t)
        for key in theirs_t:
            assert np.shape(ours_t[key]) == tuple(np.shape(knp(theirs_t[key])))
    assert jsonable(ours.get_config()) == jsonable(theirs.get_config()) or name == "RandomCrop"


INFERENCE = RANDOM + [("RandomFlip", {}, UINT8), ("RandomRotation", {"factor": 0.1}, UINT8),
                     ("RandomCrop", {"height": 3, "width": 4}, UINT8),
                     ("RandomContrast", {"factor": 0.3}, UINT8)]


@pytest.mark.parametrize("name,kwargs,x", INFERENCE,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(INFERENCE)])
def test_random_layer_is_identity_at_inference_as_keras(name, kwargs, x):
    ours, theirs = both(name, **kwargs)
    a, b = ours(x, training=False).data, knp(theirs(x, training=False))
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def test_random_draws_cover_the_factor_range_and_reproduce_with_a_seed():
    x = np.repeat(IMAGES[:1], 64, axis=0)
    rot = layers.RandomRotation((0.1, 0.2), seed=3)
    angles = rot.get_random_transformation(mgp.ops.convert_to_tensor(x))["angle"]
    assert angles.min() >= 36 and angles.max() < 72 and angles.std() > 5
    flips = layers.RandomFlip(seed=5).get_random_transformation(
        mgp.ops.convert_to_tensor(x))["flips"]
    assert 10 < flips.sum() < 54
    for name, kwargs in (("RandomFlip", {}), ("RandomRotation", {"factor": 0.3}),
                         ("RandomZoom", {"height_factor": 0.3}),
                         ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.2}),
                         ("RandomContrast", {"factor": 0.4}),
                         ("RandomBrightness", {"factor": 0.2}),
                         ("RandomCrop", {"height": 4, "width": 4})):
        make = getattr(layers, name)
        a, b = make(**kwargs, seed=11), make(**kwargs, seed=11)
        first, second = a(x[:8]).data, a(x[:8]).data
        np.testing.assert_array_equal(first, b(x[:8]).data)
        np.testing.assert_array_equal(second, b(x[:8]).data)
        assert not np.array_equal(first, second), name  # the stream advances
        mgp.utils.set_random_seed(7)
        c = make(**kwargs)(x[:8]).data
        mgp.utils.set_random_seed(7)
        np.testing.assert_array_equal(c, make(**kwargs)(x[:8]).data)


def test_collapsed_factors_give_the_fixed_transform_keras_gives():
    """A factor range of one value removes the randomness: the layers' calls equal Keras's."""
    for name, kwargs in (("RandomRotation", {"factor": (0.125, 0.125)}),
                         ("RandomZoom", {"height_factor": (0.25, 0.25),
                                         "width_factor": (-0.2, -0.2)}),
                         ("RandomTranslation", {"height_factor": (0.25, 0.25),
                                                "width_factor": (-0.5, -0.5)}),
                         ("RandomContrast", {"factor": (0.0, 0.0)}),
                         ("RandomBrightness", {"factor": (0.1, 0.1)})):
        ours, theirs = both(name, **kwargs)
        np.testing.assert_allclose(ours(IMAGES).data, knp(theirs(IMAGES)), rtol=1e-5, atol=2e-3)


def test_color_jitter_is_its_steps_with_the_same_draws():
    """RandomColorJitter draws each step's factor in turn from its generator: with a seed it
    equals the steps applied with a generator of that seed; at inference it is the identity;
    its config is Keras's."""
    from mgp.random import SeedGenerator
    kwargs = dict(brightness_factor=0.2, contrast_factor=0.3, saturation_factor=(0.3, 0.7),
                  hue_factor=0.2)
    jitter = layers.RandomColorJitter(seed=3, **kwargs)
    generator = SeedGenerator(3)
    x = mgp.ops.convert_to_tensor(RGB)
    for step in (layers.RandomBrightness(0.2), layers.RandomContrast(0.3),
                 layers.RandomSaturation((0.3, 0.7)), layers.RandomHue(0.2)):
        x = step.transform_images(x, step.get_random_transformation(x, seed=generator))
    np.testing.assert_allclose(jitter(RGB).data, x.data, rtol=1e-6)
    np.testing.assert_array_equal(jitter(RGB, training=False).data, RGB)
    theirs = keras.layers.RandomColorJitter(seed=3, **kwargs)
    np.testing.assert_array_equal(knp(theirs(RGB, training=False)), RGB)
    assert jsonable(jitter.get_config()) == jsonable(theirs.get_config())


def test_rand_augment_applies_keras_picks_and_draws():
    """RandAugment's draw holds the picks and every candidate's own draw. mgp applies the
    picked augmentations in turn; so does this test with Keras's own layers and Keras's draws.
    (Keras's RandAugment on torch itself runs every candidate at every step and keeps the
    picked one, but RandomBrightness adds to the images in place and affine_transform swaps
    the rotation matrix in place, so its own result also carries those side effects; it is not
    the reference here.)"""
    x = RGB
    compared = set()
    for seed in range(12):
        ours = layers.RandAugment(num_ops=3, factor=0.4, seed=seed)
        theirs = keras.layers.RandAugment(num_ops=3, factor=0.4, seed=seed)
        t = theirs.get_random_transformation(x, training=True)
        copy = {"layer_idxes": np.array(knp(t["layer_idxes"])), "transforms": {}}
        for name, value in t["transforms"].items():
            copy["transforms"][name] = None if value is None else (
                {k: np.array(knp(v)) for k, v in value.items()} if isinstance(value, dict)
                else value)
        expected = x.copy()
        for pick in copy["layer_idxes"].tolist():
            name = ours._AUGMENT_LAYERS[pick]
            compared.add(name)
            draw = copy["transforms"][name]
            draw = None if draw is None else {k: keras.ops.convert_to_tensor(np.array(v))
                                              for k, v in draw.items()}
            expected = np.array(knp(getattr(theirs, name).transform_images(
                keras.ops.convert_to_tensor(np.array(expected)), draw)))
        got = ours.transform_images(mgp.ops.convert_to_tensor(x), copy).data
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=5e-3)
        assert jsonable(ours.get_config()) == jsonable(theirs.get_config())
    assert len(compared) >= 8  # most of the eleven augmentations took part
    np.testing.assert_array_equal(layers.RandAugment()(x, training=False).data, x)


def test_aug_mix_applies_keras_chains_as_keras():
    """AugMix's draw holds the chains (each step's layer and draw) and the mixing weights;
    applied by both, the images agree (Keras applies each step once, so its result is the
    reference here)."""
    for seed, kwargs in ((0, {}), (1, {"all_ops": False, "num_chains": 2}),
                         (2, {"chain_depth": 4, "factor": 0.5, "alpha": 0.5})):
        ours = layers.AugMix(seed=seed, **kwargs)
        theirs = keras.layers.AugMix(seed=seed, **kwargs)
        t = theirs.get_random_transformation(RGB, training=True)
        copy = {"chain_mixing_weights": np.array(knp(t["chain_mixing_weights"])),
                "weight_sample": float(knp(t["weight_sample"])), "chain_transforms": [
                    [{"layer_name": step["layer_name"], "transformation": None
                      if step["transformation"] is None else
                      {k: np.array(knp(v)) for k, v in step["transformation"].items()}}
                     for step in chain] for chain in t["chain_transforms"]]}
        expected = knp(theirs.transform_images(keras.ops.convert_to_tensor(RGB), t))
        got = ours.transform_images(mgp.ops.convert_to_tensor(RGB), copy).data
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=5e-3)
        assert jsonable(ours.get_config()) == jsonable(theirs.get_config())
    a, b = layers.AugMix(seed=5)(RGB).data, layers.AugMix(seed=5)(RGB).data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(layers.AugMix()(RGB, training=False).data, RGB)


def test_elastic_transform_draws_reproduce_and_stay_in_range():
    """Its displacement fields come from mgp's generators (not comparable value by value with
    Keras's); the layer reproduces them with a seed, keeps values in value_range, moves nothing
    with scale 0, and is the identity at inference, as Keras's is."""
    x = RGB
    a = layers.RandomElasticTransform(scale=0.5, seed=4)(x).data
    np.testing.assert_array_equal(a, layers.RandomElasticTransform(scale=0.5, seed=4)(x).data)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 255
    assert not np.allclose(a, x)
    np.testing.assert_array_equal(layers.RandomElasticTransform(scale=0.0)(x).data, x)
    theirs = keras.layers.RandomElasticTransform(scale=0.5)
    np.testing.assert_array_equal(layers.RandomElasticTransform(scale=0.5)(
        x, training=False).data, knp(theirs(x, training=False)))
    ours = layers.RandomElasticTransform(fill_mode="mirror", scale=(0.1, 0.4), seed=1)
    theirs = keras.layers.RandomElasticTransform(fill_mode="mirror", scale=(0.1, 0.4), seed=1)
    assert jsonable(ours.get_config()) == jsonable(theirs.get_config())


def test_mix_layers_mix_labels_as_keras():
    labels = np.eye(4, dtype=np.float32)[[0, 1, 2, 3]]
    for name, kwargs in (("MixUp", {"alpha": 0.5}), ("CutMix", {"factor": 0.8})):
        ours, theirs = both(name, **kwargs)
        t, copy = keras_transformation(theirs, RGB)
        expected = knp(theirs.transform_labels(keras.ops.convert_to_tensor(labels), t))
        got = ours.transform_labels(mgp.ops.convert_to_tensor(labels), copy).data
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        out = ours({"images": RGB, "labels": labels})
        np.testing.assert_allclose(out["labels"].data.sum(1), 1.0, rtol=1e-5)


def test_dict_inputs_transform_images_labels_and_masks_alike():
    x = {"images": IMAGES, "labels": np.arange(3), "segmentation_masks": IMAGES[..., :1] > 100}
    out = layers.RandomFlip("horizontal", seed=2)(x, training=True)
    flipped = np.array([np.array_equal(out["images"].data[i], IMAGES[i, :, ::-1])
                        for i in range(3)])
    assert out["labels"].data.tolist() == [0, 1, 2]
    for i in range(3):
        expected = IMAGES[i, :, ::-1, :1] > 100 if flipped[i] else IMAGES[i, :, :, :1] > 100
        np.testing.assert_array_equal(out["segmentation_masks"].data[i].astype(bool), expected)
    with pytest.raises(ValueError, match="bounding boxes are not supported"):
        layers.RandomFlip()({"images": IMAGES, "bounding_boxes": {}})


# ---- inside models -------------------------------------------------------------------------------

def test_augmentation_in_a_model_trains_and_predicts_as_keras():
    """In fit the augmentation runs; predict and evaluate see the identity."""
    model = mgp.Sequential([mgp.Input((7, 9, 2)), layers.Rescaling(1 / 255),
                            layers.RandomFlip("horizontal", seed=1),
                            layers.RandomTranslation(0.2, 0.2, seed=2), layers.Flatten()])
    np.testing.assert_allclose(model.predict(IMAGES, verbose=0), IMAGES.reshape(3, -1) / 255,
                               rtol=1e-6)
    trained = model(IMAGES, training=True).data
    assert not np.allclose(trained, IMAGES.reshape(3, -1) / 255)
    clf = mgp.Sequential([mgp.Input((7, 9, 2)), layers.RandomFlip(seed=0),
                          layers.Normalization(mean=100.0, variance=900.0, axis=None),
                          layers.Flatten(), layers.Dense(2, activation="softmax")])
    clf.compile("sgd", "sparse_categorical_crossentropy")
    history = clf.fit(IMAGES, np.array([0, 1, 0]), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_configs_cross_with_keras():
    for name, kwargs in [("RandomRotation", {"factor": 0.2, "seed": 4}),
                         ("RandomZoom", {"height_factor": 0.1, "width_factor": (0.1, 0.3)}),
                         ("Resizing", {"height": 3, "width": 4, "crop_to_aspect_ratio": True}),
                         ("RandomCrop", {"height": 3, "width": 4, "seed": 9}),
                         ("Normalization", {"axis": (1, 2), "invert": True}),
                         ("Rescaling", {"scale": 0.5, "offset": 1.0}),
                         ("Discretization", {"bin_boundaries": [0.0, 1.0],
                                             "output_mode": "count"}),
                         ("CategoryEncoding", {"num_tokens": 3, "output_mode": "one_hot"})]:
        ours, theirs = both(name, **kwargs)
        config = jsonable(ours.get_config())
        assert config == jsonable(theirs.get_config())
        again = getattr(keras.layers, name).from_config(config)
        assert jsonable(again.get_config()) == config
        back = getattr(layers, name).from_config(jsonable(theirs.get_config()))
        assert jsonable(back.get_config()) == config


# ---- bad input -----------------------------------------------------------------------------------

def test_image_layers_refuse_bad_input_naming_the_layer():
    flip = layers.RandomFlip(name="flip")
    with pytest.raises(ValueError, match="RandomFlip 'flip' expected images of rank 3 .* got "
                                         "shape \\(4, 5\\)"):
        flip(np.ones((4, 5)))
    with pytest.raises(TypeError, match="RandomFlip 'flip' expected numeric images, got dtype "
                                        "<U1"):
        flip(np.array([[["a"]]]))
    with pytest.raises(ValueError, match="Resizing: height must be a positive int, got -2"):
        layers.Resizing(-2, 3)
    with pytest.raises(ValueError, match="CenterCrop: width must be a positive int, got 2.5"):
        layers.CenterCrop(2, 2.5)
    with pytest.raises(ValueError, match="RandomRotation: factor must be .* got factor=2"):
        layers.RandomRotation(2)
    with pytest.raises(ValueError, match="RandomZoom: height_factor .* \\(-1, 1\\]"):
        layers.RandomZoom(-1.0)
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        layers.RandomTranslation(0.1, 0.1, fill_mode="edge")
    with pytest.raises(ValueError, match="RandomFlip: mode must be one of"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="RandomContrast: factor must be .* \\[0, 1\\]"):
        layers.RandomContrast(-0.5)
    with pytest.raises(ValueError, match="seed must be an int or None"):
        layers.RandomFlip(seed="x")


def test_numeric_layers_refuse_strings_and_bad_values():
    with pytest.raises(TypeError, match="Rescaling 'scale' expected numeric inputs, got dtype "
                                        "<U1"):
        layers.Rescaling(0.5, name="scale")(np.array([["a"]]))
    with pytest.raises(ValueError, match="CategoryEncoding 'enc': values must be in \\[0, 3\\), "
                                         "got values from 0 to 5"):
        layers.CategoryEncoding(3, name="enc")(np.array([[0, 5]]))
    with pytest.raises(TypeError, match="CategoryEncoding 'enc' expected integer categories"):
        layers.CategoryEncoding(3, name="enc")(np.array([[0.5]]))
    with pytest.raises(ValueError, match="num_tokens must be an int >= 1"):
        layers.CategoryEncoding(0)
    with pytest.raises(ValueError, match="Discretization 'd' has no bin boundaries yet"):
        layers.Discretization(num_bins=3, name="d")(np.ones((2, 2)))
    with pytest.raises(ValueError, match="give num_bins or bin_boundaries, not both"):
        layers.Discretization(bin_boundaries=[0.0], num_bins=2)
    with pytest.raises(ValueError, match="bin_boundaries must be a sorted list"):
        layers.Discretization(bin_boundaries=[1.0, 0.0])


def test_normalization_before_adapt_and_bad_adapt_change_nothing():
    norm = layers.Normalization(name="norm")
    with pytest.raises(ValueError, match="Normalization 'norm' has no mean and variance yet: "
                                         "call adapt"):
        norm(np.ones((2, 3), np.float32))
    assert not norm.built and norm.weights == []
    with pytest.raises(ValueError, match="Normalization 'norm': axis \\(-1,\\) is out of range"):
        norm.adapt(np.ones(()))
    with pytest.raises(TypeError, match="adapt\\(\\) expected numeric data, got dtype <U1"):
        norm.adapt(np.array([["a"]]))
    assert not norm.built
    norm.adapt(np.array([[1.0, 2.0], [3.0, 6.0]], np.float32))
    before = [w.copy() for w in norm.get_weights()]
    with pytest.raises(ValueError, match="was built for inputs of shape \\(2, 2\\), but adapt"):
        norm.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="adapt\\(\\) got a batch of shape \\(1, 3\\)"):
        norm.adapt([np.ones((2, 2)), np.ones((1, 3))])
    for a, b in zip(before, norm.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="expected inputs of shape \\(2, 2\\) on axes \\(1,\\), "
                                         "got \\(2, 3\\)"):
        norm(np.ones((2, 3)))
    with pytest.raises(TypeError, match="Normalization 'norm' expected numeric inputs"):
        norm(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="give both mean and variance or neither"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="variance must be >= 0"):
        layers.Normalization(mean=1.0, variance=-1.0)


def test_normalization_in_a_functional_model_before_adapt():
    """A model may be built through an un-adapted Normalization; adapt() before fit."""
    norm = layers.Normalization()
    inputs = mgp.Input((2,))
    model = mgp.Model(inputs, layers.Dense(1)(norm(inputs)))
    norm.adapt(np.array([[1.0, 2.0], [3.0, 6.0]], np.float32))
    assert model.predict(np.ones((3, 2), np.float32), verbose=0).shape == (3, 1)


def test_pipeline_applies_its_layers_in_order_and_crosses_configs_with_keras():
    def make(L):
        return L.Pipeline([L.RandomFlip("horizontal", seed=1), L.Rescaling(0.5, offset=1.0),
                           L.CenterCrop(5, 5)], name="augment")
    ours, theirs = make(layers), make(keras.layers)
    np.testing.assert_allclose(ours(IMAGES, training=False).data,
                               knp(theirs(IMAGES, training=False)), rtol=1e-6)
    trained = ours(IMAGES).data  # training=True by default: the flips are drawn
    assert trained.shape == (3, 5, 5, 2)
    assert ours.compute_output_shape((None, 7, 9, 2)) == (None, 5, 5, 2)
    config = ours.get_config()
    assert [e["class_name"] for e in config["layers"]] == \
        [e["class_name"] for e in theirs.get_config()["layers"]]
    for entry, theirs_entry in zip(config["layers"], theirs.get_config()["layers"]):
        assert jsonable(entry["config"]) == jsonable(theirs_entry["config"])
    again = layers.Pipeline.from_config(config)
    np.testing.assert_allclose(again(IMAGES, training=False).data,
                               ours(IMAGES, training=False).data)
    with pytest.raises(ValueError, match="Pipeline: layers must be a list of layers"):
        layers.Pipeline("flip")


def test_models_of_preprocessing_layers_cross_keras_files_both_ways(tmp_path):
    """A Keras model made of the image and numeric preprocessing layers (their configs with
    seeds, factors, value ranges and statistics) loads in mgp and predicts as Keras (the random
    layers are the identity in predict); mgp's file of it loads in Keras and predicts the same.
    (RandomShear is left out of what Keras reads back: Keras 3.15 writes its factors as
    (-f, f) and its own constructor refuses a negative factor; mgp reads them.)"""
    def build(L, m):
        return m.Sequential([
            # (not RandomCrop: at inference Keras's returns its inputs uncropped, while its
            # output shape, which builds the next layer, is the cropped one)
            m.Input((12, 12, 3)), L.Resizing(10, 10), L.CenterCrop(9, 9),
            L.RandomFlip(seed=1), L.RandomRotation(0.1, seed=2), L.RandomZoom(0.1, seed=3),
            L.RandomTranslation(0.1, 0.1, seed=4), L.RandomContrast(0.2, seed=5),
            L.RandomBrightness(0.1, seed=6), L.RandomGrayscale(0.2, seed=7),
            L.RandomHue(0.1, seed=8), L.RandomSaturation(0.3, seed=9),
            L.RandomSharpness(0.2, seed=10),
            L.RandomPerspective(0.5, seed=12), L.RandomGaussianBlur(0.5, seed=13),
            L.RandomErasing(0.5, seed=14), L.RandomInvert(0.3, seed=15),
            L.RandomPosterization((4, 6), seed=16), L.Solarization(0.1, 0.5, seed=17),
            L.RandomColorDegeneration(0.3, seed=18), L.RandomColorJitter(
                brightness_factor=0.1, seed=19), L.RandomElasticTransform(seed=20),
            L.RandAugment(seed=21), L.AugMix(seed=22), L.MixUp(seed=23), L.CutMix(seed=24),
            L.AutoContrast(), L.Rescaling(1 / 255, offset=0.1),
            L.Normalization(axis=-1, mean=[0.4, 0.5, 0.6], variance=[0.1, 0.2, 0.3]),
            L.Flatten(), L.Dense(2, kernel_initializer="ones")])
    x = rng.uniform(0, 255, (2, 12, 12, 3)).astype(np.float32)
    theirs = build(keras.layers, keras)
    expected = theirs.predict(x, verbose=0)
    theirs.save(tmp_path / "keras.keras")
    ours = mgp.saving.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-3)
    ours.save(tmp_path / "mgp.keras")
    again = keras.saving.load_model(tmp_path / "mgp.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-3)
    for a, b in zip(ours.layers[:-1], again.layers[:-1]):  # the preprocessing layers
        assert jsonable(a.get_config()) == jsonable(b.get_config()), type(a).__name__
    shear = keras.layers.RandomShear(0.1, (0.2, 0.3), seed=3)
    ours = layers.RandomShear.from_config(shear.get_config())
    assert jsonable(ours.get_config()) == jsonable(shear.get_config())


def test_gradients_reach_the_inputs_through_the_differentiable_layers():
    """float64 gradchecks: the mel spectrogram of a signal, and the geometric and colour
    transforms of images for a fixed draw (interpolation weights are smooth in the pixels)."""
    signal = mgp.tensor(np.sin(np.arange(64) * 0.37) + 0.1, dtype="float64", requires_grad=True)
    mel = layers.MelSpectrogram(fft_length=16, sequence_stride=8, num_mel_bins=4,
                                power_to_db=False, dtype="float64")
    mgp.gradcheck(lambda s: mel(s), signal)
    images = mgp.tensor(rng.uniform(0, 1, (2, 5, 6, 3)), dtype="float64", requires_grad=True)
    for layer in (layers.RandomRotation(0.2, fill_mode="constant", seed=1, dtype="float64"),
                  layers.RandomZoom(0.3, seed=2, dtype="float64"),
                  layers.RandomContrast(0.5, value_range=(0, 1), seed=3, dtype="float64"),
                  layers.Normalization(mean=0.5, variance=0.1, dtype="float64"),
                  layers.Resizing(3, 4, dtype="float64")):
        draw = layer.get_random_transformation(images) if hasattr(
            layer, "get_random_transformation") else None
        if hasattr(layer, "transform_images"):
            mgp.gradcheck(lambda x: layer.transform_images(x, draw), images)
        else:
            mgp.gradcheck(lambda x: layer(x), images)
