"""Keras 3 as the oracle for `mgp.initializers`: every name Keras has (classes, snake_case
names, old aliases), Keras's configs and serialized forms both ways, Keras's values for the
deterministic initializers, Keras's distributions for the random ones (checked by moments and
by a Kolmogorov-Smirnov distance from Keras's own draws), and seeded draws that repeat."""
import math

import numpy as np
import oracles
import pytest

keras = oracles.keras()

import mgp
from mgp import initializers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
to_numpy = keras.ops.convert_to_numpy


def test_every_keras_name_is_the_same_kind_of_thing():
    names = [n for n in dir(keras.initializers) if not n.startswith("_")]
    for name in names:
        theirs, ours = getattr(keras.initializers, name), getattr(initializers, name)
        if isinstance(theirs, type):
            assert isinstance(ours, type), name
            assert ours.__name__ == theirs.__name__, name  # aliases are the classes themselves
        else:
            assert callable(ours), name


# (class name, constructor arguments): every class with non-default arguments too
CONFIGS = [("Zeros", {}), ("Ones", {}), ("Constant", {"value": 0.3}), ("Identity", {}),
           ("RandomNormal", {"mean": 0.5, "stddev": 2.0, "seed": 3}),
           ("RandomUniform", {"minval": -2.0, "maxval": 1.0, "seed": 4}),
           ("TruncatedNormal", {"mean": 0.0, "stddev": 0.7, "seed": 5}),
           ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "uniform",
                                "seed": 6}),
           ("VarianceScaling", {"distribution": "normal"}),  # an old name, read as Keras does
           ("VarianceScaling", {"input_axes": [0], "output_axes": [1, 2]}),
           ("Orthogonal", {"gain": 1.5, "seed": 7}), ("Orthogonal", {}),
           ("STFT", {}), ("STFT", {"side": "imag", "window": "hamming", "scaling": "spectrum",
                                   "periodic": True}),
           ("STFT", {"window": None, "scaling": None})] + [
    (name, {"seed": 8}) for name in ["GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
                                     "LecunUniform", "LecunNormal"]]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_configs_and_serialized_forms_as_keras(name, kwargs):
    ours, theirs = getattr(initializers, name)(**kwargs), getattr(keras.initializers, name)(**kwargs)
    config = ours.get_config()
    keras_config = theirs.get_config()
    if name == "Identity":  # see test_identity_keeps_its_gain_in_its_config
        keras_config = {"gain": 1.0}
    assert config == keras_config
    assert initializers.serialize(ours)["config"] == config
    assert {k: v for k, v in initializers.serialize(ours).items() if k != "config"} == \
        {k: v for k, v in keras.initializers.serialize(theirs).items() if k != "config"}
    # each reads the other's serialized form
    again = initializers.deserialize(keras.initializers.serialize(theirs))
    assert type(again) is type(ours) and again.get_config() == config
    back = keras.initializers.deserialize(initializers.serialize(ours))
    assert back.get_config() == theirs.get_config()
    assert type(ours).from_config(config).get_config() == config


def test_identity_keeps_its_gain_in_its_config():
    # Keras 3.15 leaves `gain` out of Identity's config (so a saved gain is lost); mgp keeps it
    ours = initializers.Identity(gain=3.0)
    assert ours.get_config() == {"gain": 3.0}
    theirs = keras.initializers.deserialize(initializers.serialize(ours))
    np.testing.assert_array_equal(to_numpy(theirs((2, 3))), ours((2, 3)))


@pytest.mark.parametrize("name", sorted(initializers._BY_NAME))
def test_get_takes_every_name_keras_takes(name):
    if name in ("Initializer", "initializer", "Constant", "constant"):
        # the base class (an instance that cannot be called); Keras 3.15's get("Constant")
        # fails on its own empty config, where mgp's gives Constant(0.0)
        assert initializers.get(name).get_config() == ({"value": 0.0} if "onst" in name else {})
        return
    ours, theirs = initializers.get(name), keras.initializers.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    if type(ours) is not initializers.Identity:  # see test_identity_keeps_its_gain_in_its_config
        assert ours.get_config() == theirs.get_config()


DETERMINISTIC = [("Zeros", {}, (3, 4)), ("Ones", {}, (2, 3, 2)), ("Constant", {"value": -1.5},
                 (4,)), ("Identity", {}, (3, 3)), ("Identity", {"gain": 2.0}, (2, 4)),
                 ("Identity", {}, (5, 2))] + [
    ("STFT", {"side": side, "window": window, "scaling": scaling, "periodic": periodic},
     (frames, 1, bins))
    for side, window, scaling, periodic, frames, bins in [
        ("real", "hann", "density", False, 16, 9), ("imag", "hann", "density", False, 16, 9),
        ("real", "hann", "spectrum", True, 12, 7), ("imag", "hamming", None, True, 10, 6),
        ("real", "hamming", "density", False, 9, 5), ("real", "blackman", "density", True, 8, 5),
        ("imag", "blackman", "spectrum", False, 11, 6), ("real", "bartlett", None, False, 7, 4),
        ("real", "bartlett", "density", True, 8, 5), ("imag", "boxcar", "spectrum", True, 6, 4),
        ("real", "cosine", "density", False, 9, 5), ("real", "cosine", "density", True, 8, 5),
        ("real", None, None, False, 8, 5), ("imag", None, "density", False, 8, 5),
        ("real", "hann", "density", False, 1, 2)]]


@pytest.mark.parametrize("name, kwargs, shape", DETERMINISTIC,
                         ids=[f"{c[0]}-{c[2]}" for c in DETERMINISTIC])
def test_deterministic_values_as_keras(name, kwargs, shape):
    ours = getattr(initializers, name)(**kwargs)(shape, dtype="float32")
    theirs = to_numpy(getattr(keras.initializers, name)(**kwargs)(shape, dtype="float32"))
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    # Keras computes the STFT angles in float32 (errors ~1e-7 of values of order 1), mgp in
    # float64 before the cast (so up to 2e-6 apart at angles of a few pi)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-6)


def test_stft_takes_window_values_as_keras():
    window = np.linspace(0.1, 1.0, 8)
    kwargs = {"window": window, "scaling": "spectrum"}
    np.testing.assert_allclose(initializers.STFT(**kwargs)((8, 1, 5)),
                               to_numpy(keras.initializers.STFT(**kwargs)((8, 1, 5))),
                               rtol=1e-5, atol=1e-6)


def _ks_distance(a, b):
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    a, b = np.sort(a.ravel()), np.sort(b.ravel())
    grid = np.concatenate([a, b])
    return np.max(np.abs(np.searchsorted(a, grid, "right") / a.size
                         - np.searchsorted(b, grid, "right") / b.size))


RANDOM = [("RandomNormal", {"mean": 0.5, "stddev": 2.0}, (200, 150)),
          ("RandomUniform", {"minval": -2.0, "maxval": 1.0}, (200, 150)),
          ("TruncatedNormal", {"mean": 1.0, "stddev": 0.5}, (200, 150)),
          ("GlorotUniform", {}, (120, 250)), ("GlorotNormal", {}, (120, 250)),
          ("HeUniform", {}, (3, 3, 40, 30)), ("HeNormal", {}, (3, 3, 40, 30)),
          ("LecunUniform", {}, (300, 100)), ("LecunNormal", {}, (300, 100)),
          ("VarianceScaling", {"scale": 3.0, "mode": "fan_out",
                               "distribution": "untruncated_normal"}, (100, 300)),
          ("VarianceScaling", {"scale": 0.5, "mode": "fan_avg", "distribution": "uniform",
                               "input_axes": [0, 1], "output_axes": [2]}, (10, 20, 150)),
          ("Orthogonal", {"gain": 2.0}, (150, 200))]


@pytest.mark.parametrize("name, kwargs, shape", RANDOM, ids=[c[0] for c in RANDOM])
def test_distributions_as_keras(name, kwargs, shape):
    ours = getattr(initializers, name)(seed=11, **kwargs)(shape)
    theirs = to_numpy(getattr(keras.initializers, name)(seed=12, **kwargs)(shape))
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours.mean(), theirs.mean(), atol=0.02 * theirs.std() + 1e-3)
    np.testing.assert_allclose(ours.std(), theirs.std(), rtol=0.02)
    if name not in ("RandomNormal", "Orthogonal") and "untruncated" not in str(kwargs):
        # a bounded distribution (uniform, or normal cut at two deviations): the same bounds
        np.testing.assert_allclose(ours.min(), theirs.min(), atol=0.01 * theirs.std())
        np.testing.assert_allclose(ours.max(), theirs.max(), atol=0.01 * theirs.std())
    # 30,000 draws each: a KS distance above 0.02 has probability < 1e-4 for one distribution
    assert _ks_distance(ours, theirs) < 0.02


def test_variance_scaling_standard_deviations_follow_the_fans():
    for cls, scale, fan in [(initializers.HeNormal, 2.0, 3 * 3 * 40),
                            (initializers.GlorotUniform, 1.0, (120 + 250) / 2)]:
        shape = (3, 3, 40, 30) if cls is initializers.HeNormal else (120, 250)
        values = cls(seed=1)(shape)
        np.testing.assert_allclose(values.std(), math.sqrt(scale / fan), rtol=0.02)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (2, 3, 5), (5, 5)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    q = initializers.Orthogonal(gain=1.5, seed=0)(shape, dtype="float64").reshape(-1, shape[-1])
    small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(small, 1.5 ** 2 * np.eye(small.shape[0]), atol=1e-12)


def test_seeded_draws_repeat_and_the_global_seed_fixes_unseeded_ones():
    for cls in [initializers.RandomNormal, initializers.RandomUniform,
                initializers.TruncatedNormal, initializers.Orthogonal, initializers.HeNormal,
                initializers.GlorotUniform]:
        init = cls(seed=5)
        np.testing.assert_array_equal(init((4, 3)), init((4, 3)))
        np.testing.assert_array_equal(init((4, 3)), cls(seed=5)((4, 3)))
        assert not np.array_equal(init((4, 3)), cls(seed=6)((4, 3)))
        mgp.utils.set_random_seed(3)
        a = cls()((4, 3))
        mgp.utils.set_random_seed(3)
        np.testing.assert_array_equal(a, cls()((4, 3)))


def test_layers_take_the_new_names_and_keep_them_in_configs():
    layer = mgp.layers.Dense(4, kernel_initializer="orthogonal", bias_initializer="ones")
    layer.build((None, 4))
    np.testing.assert_allclose(layer.kernel.numpy() @ layer.kernel.numpy().T, np.eye(4),
                               atol=1e-6)
    theirs = keras.layers.Dense(4, kernel_initializer="orthogonal", bias_initializer="ones")
    assert layer.get_config()["kernel_initializer"] == theirs.get_config()["kernel_initializer"]
    again = mgp.layers.Dense.from_config(layer.get_config())
    assert isinstance(again.kernel_initializer, initializers.Orthogonal)
    layer = mgp.layers.Dense(3, kernel_initializer=initializers.identity(gain=2.0))
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.kernel.numpy(), 2 * np.eye(3))


def test_get_as_keras_for_none_classes_callables_and_arrays():
    assert initializers.get(None) is None and keras.initializers.get(None) is None
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)

    def mine(shape, dtype=None):
        return np.full(shape, 2.0)
    assert initializers.get(mine) is mine
    values = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(initializers.get(values)((2, 3)), values)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        initializers.get(values)((3, 2))


@pytest.mark.parametrize("make, match", [
    (lambda: initializers.VarianceScaling(scale=0.0), "VarianceScaling: scale"),
    (lambda: initializers.VarianceScaling(mode="fan_max"), "mode.*'fan_max'"),
    (lambda: initializers.HeNormal(seed="x"), "HeNormal: seed"),
    (lambda: initializers.VarianceScaling(distribution="cauchy"), "distribution.*'cauchy'"),
    (lambda: initializers.STFT(side="both"), "side.*'both'"),
    (lambda: initializers.STFT(window="kaiserx"), "unknown window 'kaiserx'"),
    (lambda: initializers.STFT(scaling="l2"), "scaling.*'l2'"),
    (lambda: initializers.Identity()((2, 2, 2)), r"Identity.*\(2, 2, 2\)"),
    (lambda: initializers.Orthogonal()((5,)), r"Orthogonal.*\(5,\)"),
    (lambda: initializers.STFT(window=np.ones(4))((5, 1, 3)), "window.*5.*\\(4,\\)"),
    (lambda: initializers.get("glorot"), "unknown initializer 'glorot'"),
])
def test_bad_arguments_say_what_they_got(make, match):
    with pytest.raises(ValueError, match=match):
        make()
