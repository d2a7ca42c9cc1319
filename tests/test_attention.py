"""The embedding, normalization and attention layers on their own: float64 gradient checks of
their fused ops and of the layers, errors for bad inputs (raised before any weight changes),
config round trips, and a small Transformer classifier that learns a generated task."""
import numpy as np
import pytest

import mgp
from mgp import layers, ops

rng = np.random.default_rng(1)


def t64(*shape, grad=True):
    return mgp.tensor(rng.normal(size=shape), dtype="float64", requires_grad=grad)


# ---- the fused ops, in float64 ----------------------------------------------------------------
@pytest.mark.parametrize("shape, axis", [((3, 5), -1), ((2, 3, 4), (1, 2)), ((2, 3, 4), 1),
                                         ((2, 3, 4), (0, 2))])
@pytest.mark.parametrize("rms_scaling", [False, True])
def test_layer_normalization_gradcheck(shape, axis, rms_scaling):
    axes = (axis,) if isinstance(axis, int) else axis
    sizes = tuple(shape[a] for a in axes)
    x, gamma, beta = t64(*shape), t64(*sizes), t64(*sizes)
    assert mgp.gradcheck(lambda x, g, b: ops.layer_normalization(
        x, g, b, axis=axis, epsilon=1e-3, rms_scaling=rms_scaling), x, gamma, beta)
    assert mgp.gradcheck(lambda x: ops.layer_normalization(x, axis=axis), x)


def test_layer_normalization_matches_its_definition():
    x = rng.normal(size=(4, 6))
    g, b = rng.normal(size=6), rng.normal(size=6)
    out = ops.layer_normalization(x, g, b, epsilon=1e-3).numpy()
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3) * g + b
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


ATTENTION_CASES = [
    dict(),                                              # plain
    dict(heads=(4, 2)),                                  # grouped-query: 2 key heads serve 4
    dict(mask=True), dict(causal=True), dict(bias=True), dict(cap=2.0),
    dict(heads=(2, 1), mask=True, causal=True, scale=0.3),
]


@pytest.mark.parametrize("case", ATTENTION_CASES, ids=[str(c) for c in ATTENTION_CASES])
def test_dot_product_attention_gradcheck(case):
    n, k = case.get("heads", (2, 2))
    q, key, v = t64(2, 3, n, 4), t64(2, 5, k, 4), t64(2, 5, k, 3)
    extra = {}
    if case.get("mask"):  # every query step may attend to at least one key
        m = rng.random((2, n, 3, 5)) > 0.5
        m[..., 0] = True
        extra["mask"] = m
    if case.get("bias"):
        extra["bias"] = t64(1, n, 3, 5)
    fn = lambda q, key, v, *b: ops.dot_product_attention(  # noqa: E731
        q, key, v, *b, is_causal=case.get("causal", False), scale=case.get("scale"),
        attn_logits_soft_cap=case.get("cap"), **{k_: v_ for k_, v_ in extra.items()
                                                 if k_ != "bias"})
    args = (q, key, v) + ((extra["bias"],) if "bias" in extra else ())
    assert mgp.gradcheck(fn, *args)


def test_dot_product_attention_fully_masked_row_averages_values():
    q, k, v = t64(1, 2, 1, 3), t64(1, 4, 1, 3), t64(1, 4, 1, 2)
    mask = np.array([True, True, True, False])[None, None, None, :].repeat(2, 2)
    mask[..., 1, :] = False  # the second query may attend to nothing
    out = ops.dot_product_attention(q, k, v, mask=mask)
    np.testing.assert_allclose(out.numpy()[0, 1, 0], v.numpy()[0, :, 0].mean(0), rtol=1e-6)
    assert mgp.gradcheck(lambda q, k, v: ops.dot_product_attention(q, k, v, mask=mask), q, k, v)


def test_embedding_op_gradcheck_repeated_indices():
    table = t64(6, 3)
    ids = np.array([[1, 1, 5, 0], [5, 5, 5, 2]])
    assert mgp.gradcheck(lambda t: ops.nn.embedding(t, ids) * mgp.tensor(
        np.arange(24.0).reshape(2, 4, 3), dtype="float64"), table)


# ---- the layers, in float64 -----------------------------------------------------------------
LAYER_CASES = [
    ("MultiHeadAttention", dict(num_heads=2, key_dim=3), 2),
    ("MultiHeadAttention", dict(num_heads=2, key_dim=3, dropout=0.1, output_shape=(2, 2)), 2),
    ("MultiHeadAttention", dict(num_heads=2, key_dim=2, attention_axes=(1, 2)), "4d"),
    ("GroupQueryAttention", dict(head_dim=2, num_query_heads=4, num_key_value_heads=2), 2),
    ("Attention", dict(use_scale=True, score_mode="concat"), "list"),
    ("AdditiveAttention", dict(), "list"),
    ("LayerNormalization", dict(axis=[1, 2]), 1),
    ("UnitNormalization", dict(), 1),
    ("EinsumDense", dict(equation="abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de"),
     1),
]


@pytest.mark.parametrize("name, kwargs, arity", LAYER_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LAYER_CASES)])
def test_layers_gradcheck_float64(name, kwargs, arity):
    layer = getattr(layers, name)(dtype="float64", **kwargs)
    if arity == "4d":
        q, v = t64(2, 2, 3, 4), t64(2, 2, 3, 4)
        assert mgp.gradcheck(lambda q, v: layer(q, v), q, v)
    elif arity == "list":
        q, v = t64(2, 3, 4), t64(2, 5, 4)
        assert mgp.gradcheck(lambda q, v: layer([q, v]), q, v)
    elif arity == 2:
        q, v = t64(2, 3, 4), t64(2, 5, 4)
        assert mgp.gradcheck(lambda q, v: layer(q, v), q, v)
    else:
        x = t64(2, 3, 4)
        assert mgp.gradcheck(lambda x: layer(x), x)
    assert all(w.dtype == np.float64 for w in layer.weights)


@pytest.mark.parametrize("ids", [np.arange(12).reshape(3, 4),             # each id once
                                 np.full((2, 5), 7),                            # one id only
                                 np.array([[3, 1, 3, 9], [1, 11, 3, 0]])])      # a mix
def test_embedding_gradient_sums_each_ids_rows(ids):
    table = mgp.tensor(np.zeros((12, 3), np.float32), requires_grad=True)
    g = np.random.default_rng(0).standard_normal(ids.shape + (3,)).astype(np.float32)
    (ops.nn.embedding(table, ids) * mgp.tensor(g)).sum().backward()
    expected = np.zeros((12, 3))
    np.add.at(expected, ids.reshape(-1), g.reshape(-1, 3).astype(np.float64))
    np.testing.assert_allclose(table.grad, expected, rtol=1e-6, atol=1e-6)


# ---- bad inputs: clear errors, nothing changed ----------------------------------------------
@pytest.mark.parametrize("ids, words", [
    (np.array([[1, 10]]), "index 10 is out of range for input_dim=10"),
    (np.array([[1, -2]]), "index -2 is out of range"),
    (np.array([[1.0, 2.5]]), "non-integer values"),
    (np.array([["a"]]), "integer indices"),
])
def test_embedding_rejects_bad_indices(ids, words):
    layer = layers.Embedding(10, 3, name="words")
    layer.build()
    before = layer.get_weights()[0].copy()
    with pytest.raises(ValueError, match=words) as info:
        layer(ids)
    assert "Embedding 'words'" in str(info.value)
    np.testing.assert_array_equal(layer.get_weights()[0], before)


def test_embedding_accepts_integral_floats_as_keras():
    layer = layers.Embedding(10, 3)
    np.testing.assert_array_equal(layer(np.array([[1.0, 4.0]])).numpy(),
                                  layer(np.array([[1, 4]])).numpy())


@pytest.mark.parametrize("make, call, words", [
    (lambda: layers.MultiHeadAttention(2, 4), lambda layer, x: layer(x, x, attention_mask=np.ones(
        (2, 4, 4), bool)), r"attention_mask must broadcast to .* \(2, 5, 5\)"),
    (lambda: layers.MultiHeadAttention(2, 4), lambda layer, x: layer(x, x, value_mask=np.ones(
        (2, 3), bool)), r"value_mask must have shape \(2, 5\)"),
    (lambda: layers.MultiHeadAttention(2, 4), lambda layer, x: layer(x[0], x[0]),
     r"expects query and value of shape \(batch, steps..., features\)"),
    (lambda: layers.GroupQueryAttention(2, 4, 2), lambda layer, x: layer(x[0], x[0]),
     r"expects query of shape \(batch, steps, features\)"),
    (lambda: layers.Attention(), lambda layer, x: layer(x), r"list \[query, value\]"),
    (lambda: layers.Attention(), lambda layer, x: layer([x, x], mask=[np.ones((2, 4), bool), None]),
     r"query mask must have shape \(2, 5\)"),
    (lambda: layers.LayerNormalization(axis=3), lambda layer, x: layer(x), "axis 3 is out of range"),
    (lambda: layers.EinsumDense("abc,cd->abd", (None, 4)), lambda layer, x: layer(x[0]),
     "expects inputs of rank 3"),
])
def test_attention_layers_reject_bad_inputs(make, call, words):
    x = rng.normal(size=(2, 5, 8)).astype(np.float32)
    layer = make()
    with pytest.raises(ValueError, match=words):
        call(layer, x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        layers.MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="divisible"):
        layers.GroupQueryAttention(4, 3, 2)
    with pytest.raises(ValueError, match="score_mode must be 'dot' or 'concat'"):
        layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match="input_dim must be a positive integer"):
        layers.Embedding(0, 4)
    with pytest.raises(TypeError, match="axis must be an int or a list"):
        layers.LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="invalid equation"):
        layers.EinsumDense("ab->b", 3)(np.zeros((2, 3)))


def test_weights_when_called_again_stay_the_same_after_an_error():
    layer = layers.MultiHeadAttention(2, 4)
    x = rng.normal(size=(2, 5, 8)).astype(np.float32)
    layer(x, x)
    before = [w.copy() for w in layer.get_weights()]
    with pytest.raises(ValueError):
        layer(x, x, attention_mask=np.ones((3, 5, 5), bool))
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---- configs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [
    layers.Embedding(10, 4, mask_zero=True, embeddings_regularizer="l2"),
    layers.ReversibleEmbedding(10, 4, tie_weights=False),
    layers.EinsumDense("ab,bc->ac", 4, bias_axes="c", activation="relu"),
    layers.LayerNormalization(axis=(1, 2), center=False),
    layers.UnitNormalization(axis=-1),
    layers.MultiHeadAttention(2, 4, value_dim=3, output_shape=6, attention_axes=1,
                              sliding_window=4, use_gate=True),
    layers.GroupQueryAttention(4, 4, 2, use_bias=False),
    layers.Attention(use_scale=True, dropout=0.2, seed=3),
    layers.AdditiveAttention(use_scale=False),
], ids=lambda layer: type(layer).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config


def test_model_with_attention_saves_and_loads(tmp_path):
    model = classifier(group_query=True)
    ids = np.array([[1, 2, 3, 0], [4, 4, 1, 2]])
    expected = model.predict(ids, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = mgp.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), expected, rtol=1e-6)


# ---- a small real training run ----------------------------------------------------------------
def classifier(vocab=6, dim=16, group_query=False):
    inputs = mgp.Input((None,), dtype="int32")
    h = layers.Embedding(vocab, dim, mask_zero=True)(inputs)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=8)(h, h)
    if group_query:
        a = layers.GroupQueryAttention(4, 4, 2)(a, h, use_causal_mask=True)
    h = layers.LayerNormalization()(layers.Add()([h, a]))
    h = layers.Dense(16, activation="relu")(h)
    h = layers.GlobalAveragePooling1D()(h)
    return mgp.Model(inputs, layers.Dense(2, activation="softmax")(h))


def counting_task(n, rng):
    """Token sequences (1..5) padded with 0 to 12 steps; the label says whether token 1 occurs
    more often than token 2 (so the padding must be masked out, or it would count)."""
    x = rng.integers(1, 6, size=(n, 12))
    lengths = rng.integers(4, 13, size=n)
    x[np.arange(12)[None, :] >= lengths[:, None]] = 0
    return x, ((x == 1).sum(1) > (x == 2).sum(1)).astype(np.int64)


def test_tiny_transformer_learns_a_counting_task():
    data = np.random.default_rng(0)
    mgp.utils.set_random_seed(0)
    (x, y), (xv, yv) = counting_task(1500, data), counting_task(500, data)
    model = classifier()
    model.compile(optimizer=mgp.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=8, batch_size=50, verbose=0)
    _, accuracy = model.evaluate(xv, yv, verbose=0)
    assert accuracy >= 0.95  # the majority class is 62%
