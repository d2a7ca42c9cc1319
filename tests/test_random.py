"""mgp.random against keras.random: Keras's torch backend draws other numbers than NumPy's
generators, so these compare signatures, shapes, dtypes and distributions (moments, ranges,
frequencies), and check the reproducibility rules: an int seed repeats its draw, a seeded
SeedGenerator repeats its sequence, and seed=None follows mgp.utils.set_random_seed."""
import numpy as np
import pytest

import mgp
from mgp import random

import oracles

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
N = 20000


def draw(fn, *args, **kwargs):
    return fn(*args, **kwargs).numpy()


@pytest.mark.parametrize("name, args, kwargs", [
    ("normal", ((3, 4),), {}), ("normal", ((2,),), {"mean": 1.0, "stddev": 2.0, "dtype": "float64"}),
    ("uniform", ((3, 4),), {"minval": -1.0, "maxval": 2.0}),
    ("truncated_normal", ((5,),), {"dtype": "float16"}),
    ("randint", ((3, 4), 0, 10), {}), ("randint", ((3,), -5, 5), {"dtype": "int8"}),
    ("gamma", ((3,), 2.0), {}), ("beta", ((3,), 2.0, 3.0), {}),
    ("binomial", ((3,), 10, 0.5), {}), ("binomial", ((3,), 10, 0.5), {"dtype": "int32"}),
])
def test_shapes_and_dtypes_match_keras(name, args, kwargs):
    keras = oracles.keras()
    mine = getattr(random, name)(*args, seed=1, **kwargs)
    theirs = getattr(keras.random, name)(*args, seed=1, **kwargs)
    assert mine.shape == tuple(theirs.shape)
    assert mgp.ops.dtype(mine) == keras.backend.standardize_dtype(theirs.dtype)


def test_categorical_dropout_shuffle_match_keras_in_shape_and_dtype():
    keras = oracles.keras()
    logits = np.log(np.array([[0.2, 0.8], [0.5, 0.5]], np.float32))
    x = np.ones((4, 6), np.float32)
    kl, kx = keras.ops.convert_to_tensor(logits), keras.ops.convert_to_tensor(x)
    pairs = [(random.categorical(logits, 5, seed=1), keras.random.categorical(kl, 5, seed=1)),
             (random.dropout(x, 0.5, seed=1), keras.random.dropout(kx, 0.5, seed=1)),
             (random.dropout(x, 0.5, noise_shape=(1, 6), seed=1),
              keras.random.dropout(kx, 0.5, noise_shape=(1, 6), seed=1)),
             (random.shuffle(x, seed=1), keras.random.shuffle(kx, seed=1))]
    for mine, theirs in pairs:
        assert mine.shape == tuple(theirs.shape)
        assert mgp.ops.dtype(mine) == keras.backend.standardize_dtype(theirs.dtype)


@pytest.mark.parametrize("name, args, mean, var", [
    ("normal", (), 0.0, 1.0),
    ("normal", (), 1.5, 0.25),  # mean 1.5, stddev 0.5
    ("uniform", (), 0.5, 1 / 12),
    ("truncated_normal", (), 0.0, 0.7737413),  # the variance of N(0, 1) cut at +-2
    ("gamma", (3.0,), 3.0, 3.0),
    ("beta", (2.0, 3.0), 0.4, 0.04),
    ("binomial", (10, 0.3), 3.0, 2.1),
])
def test_moments(name, args, mean, var):
    kwargs = {"mean": 1.5, "stddev": 0.5} if (name, mean) == ("normal", 1.5) else {}
    x = draw(getattr(random, name), (N,), *args, seed=3, **kwargs).astype(np.float64)
    assert abs(x.mean() - mean) < 4 * np.sqrt(var / N)
    assert abs(x.var() - var) < 0.05 * var


def test_ranges():
    u = draw(random.uniform, (N,), -2.0, 3.0, seed=0)
    assert u.min() >= -2 and u.max() < 3 and u.dtype == np.float32
    t = draw(random.truncated_normal, (N,), 1.0, 2.0, seed=0)
    assert t.min() >= 1 - 4 and t.max() <= 1 + 4
    r = draw(random.randint, (N,), 3, 7, seed=0)
    assert set(np.unique(r)) == {3, 4, 5, 6} and r.dtype == np.int32


def test_categorical_frequencies_follow_softmax():
    logits = np.log(np.array([[0.1, 0.6, 0.3], [0.9, 0.05, 0.05]]))
    draws = random.categorical(logits, N, seed=0).numpy()
    assert draws.shape == (2, N) and draws.dtype == np.int32
    for row, p in zip(draws, np.exp(logits)):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / N, p, atol=0.015)


def test_dropout_keeps_the_expected_fraction_scaled_and_is_differentiable():
    x = mgp.tensor(np.ones((200, 100)), requires_grad=True)
    out = random.dropout(x, 0.3, seed=0)
    kept = out.numpy() != 0
    assert 0.68 < kept.mean() < 0.72
    np.testing.assert_allclose(out.numpy()[kept], 1 / 0.7, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, kept / np.float32(0.7), rtol=1e-6)
    shared = random.dropout(np.ones((4, 6), np.float32), 0.5, noise_shape=(1, 6), seed=2).numpy()
    assert (shared == shared[0]).all()  # one draw shared along the axis of size 1
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\), got 1"):
        random.dropout(x, 1.0)


def test_shuffle_permutes_slices_and_carries_gradients():
    x = mgp.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    y = random.shuffle(x, seed=5)
    assert sorted(map(tuple, y.numpy())) == sorted(map(tuple, x.numpy()))
    (y * mgp.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
    np.testing.assert_allclose(random.shuffle(x.grad, seed=5), np.arange(12.0).reshape(4, 3))
    cols = random.shuffle(np.arange(6).reshape(2, 3), axis=1, seed=1).numpy()
    assert sorted(cols[0]) == [0, 1, 2] and (cols[1] - cols[0] == 3).all()


# ========================================== reproducibility ==========================================

FUNCTIONS = [
    lambda seed: random.normal((5,), seed=seed), lambda seed: random.uniform((5,), seed=seed),
    lambda seed: random.truncated_normal((5,), seed=seed),
    lambda seed: random.randint((5,), 0, 100, seed=seed),
    lambda seed: random.categorical(np.zeros((2, 4)), 5, seed=seed),
    lambda seed: random.dropout(np.ones(8, np.float32), 0.5, seed=seed),
    lambda seed: random.shuffle(np.arange(8), seed=seed),
    lambda seed: random.gamma((5,), 2.0, seed=seed), lambda seed: random.beta((5,), 2.0, 2.0,
                                                                              seed=seed),
    lambda seed: random.binomial((5,), 10, 0.5, seed=seed),
]


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_an_int_seed_repeats_its_draw(fn):
    np.testing.assert_array_equal(fn(7).numpy(), fn(7).numpy())
    assert not np.array_equal(fn(7).numpy(), fn(8).numpy()) or fn(7).size < 3


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_a_seed_generator_advances_and_reproduces_its_sequence(fn):
    gen = random.SeedGenerator(42)
    first, second = fn(gen).numpy(), fn(gen).numpy()
    again = random.SeedGenerator(42)
    np.testing.assert_array_equal(fn(again).numpy(), first)
    np.testing.assert_array_equal(fn(again).numpy(), second)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_no_seed_follows_set_random_seed(fn):
    mgp.utils.set_random_seed(11)
    a, b = fn(None).numpy(), fn(None).numpy()
    mgp.utils.set_random_seed(11)
    np.testing.assert_array_equal(fn(None).numpy(), a)
    np.testing.assert_array_equal(fn(None).numpy(), b)


def test_seed_generator_without_a_seed_follows_set_random_seed():
    mgp.utils.set_random_seed(3)
    a = random.normal((4,), seed=random.SeedGenerator()).numpy()
    mgp.utils.set_random_seed(3)
    np.testing.assert_array_equal(random.normal((4,), seed=random.SeedGenerator()).numpy(), a)


def test_seed_generator_next_gives_a_seed_tensor_and_a_config():
    keras = oracles.keras()
    gen = random.SeedGenerator(5)
    seed = gen.next()
    assert seed.shape == (2,) and seed.dtype == np.int32
    np.testing.assert_array_equal(random.normal((3,), seed=seed).numpy(),
                                  random.normal((3,), seed=seed).numpy())
    theirs = keras.random.SeedGenerator(5).get_config()
    assert sorted(gen.get_config()) == sorted(theirs) and gen.get_config()["seed"] == 5
    mgp.backend.clear_session()
    assert random.SeedGenerator(1).name == "seed_generator"
    assert random.SeedGenerator.from_config(gen.get_config()).seed == 5
    assert "seed=5" in repr(gen)


@pytest.mark.parametrize("call, message", [
    (lambda: random.uniform((2,), dtype="int32"), "randint"),
    (lambda: random.normal((2,), dtype="int32"), "float dtype"),
    (lambda: random.randint((2,), 5, 5), "greater than minval"),
    (lambda: random.randint((2,), 0, 5, dtype="float32"), "integer dtype"),
    (lambda: random.normal((2,), seed="x"), "seed must be"),
    (lambda: random.SeedGenerator(1.5), "seed must be an int"),
    (lambda: random.categorical(np.zeros(3), 2), r"2-D \(batch, classes\), got shape \(3,\)"),
])
def test_bad_arguments_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_draws_land_on_the_active_device(monkeypatch):
    """Drawn on the host, placed on the stand-in GPU: the same values as on the CPU."""
    import sys

    import fake_cupy
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setattr(fake_cupy, "visible_gpus", 1)
    cpu = [random.normal((3,), seed=4).numpy(), random.dropout(np.ones(6, np.float32), 0.5,
                                                               seed=4).numpy(),
           random.shuffle(np.arange(5), seed=4).numpy()]
    mgp.set_device("cuda")
    try:
        drawn = [random.normal((3,), seed=4), random.dropout(mgp.tensor(np.ones(6)), 0.5, seed=4),
                 random.shuffle(mgp.tensor(np.arange(5)), seed=4)]
        assert all(isinstance(t.data, fake_cupy.ndarray) for t in drawn)
        for c, d in zip(cpu, drawn):
            np.testing.assert_array_equal(d.numpy(), c)
    finally:
        mgp.set_device("cpu")
