"""Keras 3 (torch backend) as the oracle for the embedding, normalization and attention layers:
with the same weights and inputs (and masks), mgp gives Keras's outputs, attention scores,
input gradients and weight gradients (to 1e-5), the same weight names and order, the same
config keys, and masks that flow from Embedding(mask_zero=True) as Keras's do."""
import warnings

import numpy as np
import pytest

import oracles

keras = oracles.keras()
torch = oracles.torch()

import mgp  # noqa: E402
from mgp import layers  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
rng = np.random.default_rng(0)


def f32(*shape):
    return rng.normal(size=shape).astype(np.float32)


def run(layer, framework, arrays, masks, kwargs, grad):
    """Call `layer` on `arrays` (positional, or one list when the layer takes a list) with the
    masks attached as `_keras_mask`; returns (outputs as arrays, the tensors made)."""
    tensors = []
    for a, m in zip(arrays, masks):
        if framework == "mgp":
            t = mgp.tensor(a, requires_grad=grad and a.dtype.kind == "f")
            if m is not None:
                t._keras_mask = mgp.Tensor(m)
        else:
            t = torch.tensor(a, requires_grad=grad and a.dtype.kind == "f")
            if m is not None:
                t._keras_mask = torch.tensor(m)
        tensors.append(t)
    list_input = kwargs.pop("_list", False)
    out = layer(tensors, **kwargs) if list_input else layer(*tensors, **kwargs)
    if list_input:
        kwargs["_list"] = True
    return out, tensors


def to_np(t):
    return t.numpy() if isinstance(t, mgp.Tensor) else t.detach().numpy()


def same_as_keras(ours, theirs, arrays, masks=None, atol=1e-5, rows=None, **kwargs):
    """Build both, copy mgp's weights into Keras, compare outputs, then the gradients of
    sum(out * g) (g random) with respect to the float inputs and every trainable weight.

    `rows` (batch, steps) marks the query steps that may attend to some key: elsewhere g is 0,
    as the masked losses and poolings downstream make it. A step that may attend to nothing
    outputs a constant (the values' mean on Keras's fused path, 0 on its softmax path) whose
    gradient PyTorch's fused kernel gives from rounded logits (7x the softmax Jacobian for 7
    keys); mgp's is 0, the derivative of that constant."""
    masks = masks or [None] * len(arrays)
    run(ours, "mgp", arrays, masks, kwargs, False)
    run(theirs, "keras", arrays, masks, kwargs, False)
    # Keras's paths name the enclosing layer too ('multi_head_attention/query/kernel')
    def paths(layer):
        return [w.path.removeprefix(layer.name + "/") for w in layer.weights]
    assert paths(ours) == paths(theirs)
    theirs.set_weights(ours.get_weights())
    out_a, ins_a = run(ours, "mgp", arrays, masks, kwargs, True)
    out_b, ins_b = run(theirs, "keras", arrays, masks, kwargs, True)
    outs_a = list(out_a) if isinstance(out_a, tuple) else [out_a]
    outs_b = list(out_b) if isinstance(out_b, tuple) else [out_b]
    assert len(outs_a) == len(outs_b)
    for a, b in zip(outs_a, outs_b):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-5, atol=atol)
    g = f32(*outs_a[0].shape)
    if rows is not None:
        g *= rows.reshape(rows.shape + (1,) * (g.ndim - rows.ndim))
    (outs_a[0] * g).sum().backward()
    (outs_b[0] * torch.tensor(g)).sum().backward()
    for i, (a, b) in enumerate(zip(ins_a, ins_b)):
        if a.requires_grad:
            np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-5, atol=atol,
                                       err_msg=f"input {i}")
    for a, b in zip(ours.trainable_weights, theirs.trainable_weights):
        if a.grad is None or b.value.grad is None:  # a weight this call does not use
            assert a.grad is None and b.value.grad is None, a.path
            continue
        np.testing.assert_allclose(a.grad, b.value.grad.numpy(), rtol=1e-5, atol=atol,
                                   err_msg=a.path)
    ours_mask = getattr(outs_a[0], "_keras_mask", None)
    theirs_mask = getattr(outs_b[0], "_keras_mask", None)
    assert (ours_mask is None) == (theirs_mask is None)
    if ours_mask is not None:
        np.testing.assert_array_equal(to_np(ours_mask), to_np(theirs_mask))
    return outs_a


def both(name, *args, **kwargs):
    return getattr(layers, name)(*args, **kwargs), getattr(keras.layers, name)(*args, **kwargs)


X = f32(2, 5, 8)          # (batch, steps, features)
Y = f32(2, 7, 6)          # another sequence, of other length and width
STEPS = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
OTHER = np.array([[1, 1, 0, 0, 0, 1, 1], [1, 1, 1, 1, 1, 1, 0]], bool)
PAIRS = rng.random((2, 5, 7)) > 0.4
PAIRS[0, 2] = False       # a query step that may attend to nothing


# ---- MultiHeadAttention ---------------------------------------------------------------------
MHA_CASES = [
    ("self", dict(num_heads=2, key_dim=4), [X, X], None, {}),
    ("cross+key", dict(num_heads=3, key_dim=2, value_dim=5), [X, Y, f32(2, 7, 3)], None, {}),
    ("no_bias,output_shape", dict(num_heads=2, key_dim=4, use_bias=False, output_shape=6),
     [X, Y], None, {}),
    ("output_shape tuple", dict(num_heads=2, key_dim=3, output_shape=(2, 3)), [X, Y], None,
     {}),
    ("attention_mask", dict(num_heads=2, key_dim=4), [X, Y], None,
     dict(attention_mask=PAIRS)),
    ("causal", dict(num_heads=2, key_dim=4), [X, X], None, dict(use_causal_mask=True)),
    ("causal+attention_mask", dict(num_heads=2, key_dim=4), [X, X], None,
     dict(use_causal_mask=True, attention_mask=PAIRS[:, :, :5])),
    ("scores", dict(num_heads=2, key_dim=4), [X, Y], None,
     dict(return_attention_scores=True, attention_mask=PAIRS)),
    ("scores+causal", dict(num_heads=2, key_dim=4), [X, X], None,
     dict(return_attention_scores=True, use_causal_mask=True)),
    ("dropout (inference)", dict(num_heads=2, key_dim=4, dropout=0.5), [X, Y], None,
     dict(attention_mask=PAIRS)),
    ("query and value masks", dict(num_heads=2, key_dim=4), [X, Y], [STEPS, OTHER], {}),
    ("masks, scores", dict(num_heads=2, key_dim=4), [X, Y], [STEPS, OTHER],
     dict(return_attention_scores=True)),
    ("masks, causal", dict(num_heads=2, key_dim=4), [X, X], [STEPS, STEPS],
     dict(use_causal_mask=True)),
    ("key mask", dict(num_heads=2, key_dim=4), [X, Y, f32(2, 7, 4)], [None, None, OTHER], {}),
    ("value_mask argument", dict(num_heads=2, key_dim=4), [X, Y], None,
     dict(value_mask=OTHER)),
    ("attention_axes 2-D", dict(num_heads=2, key_dim=3, attention_axes=(1, 2)),
     [f32(2, 3, 4, 5), f32(2, 3, 4, 5)], None, {}),
    ("attention_axes 2-D, scores", dict(num_heads=2, key_dim=3, attention_axes=(1, 2)),
     [f32(2, 3, 4, 5), f32(2, 3, 4, 5)], None, dict(return_attention_scores=True)),
    ("attention_axes 2-D, mask", dict(num_heads=2, key_dim=3, attention_axes=(1, 2)),
     [f32(2, 3, 4, 5), f32(2, 3, 4, 5)], None,
     dict(attention_mask=rng.random((2, 3, 4, 3, 4)) > 0.3)),
    ("attention_axes last", dict(num_heads=2, key_dim=3, attention_axes=2),
     [f32(2, 3, 4, 5), f32(2, 3, 4, 5)], None, {}),
    ("sliding_window", dict(num_heads=2, key_dim=4, sliding_window=2), [X, X], None, {}),
    ("sliding_window+causal", dict(num_heads=2, key_dim=4, sliding_window=2), [X, X], None,
     dict(use_causal_mask=True)),
    ("use_gate", dict(num_heads=2, key_dim=4, use_gate=True), [X, Y], None, {}),
]


def attendable(arrays, masks, call, window=None):
    """(batch, query steps): True where the query step may attend to some key."""
    if arrays[0].ndim != 3:
        return None
    b, t, s = arrays[0].shape[0], arrays[0].shape[1], arrays[1].shape[1]
    allowed = np.ones((b, t, s), bool)
    masks = masks or [None] * 3
    for i, m in enumerate(list(masks) + [call.get("value_mask")]):
        if m is not None:
            allowed &= m[:, :, None] if i == 0 else m[:, None, :]
    if call.get("attention_mask") is not None:
        allowed &= call["attention_mask"]
    rows, cols = np.arange(t)[:, None], np.arange(s)[None, :]
    if call.get("use_causal_mask"):
        allowed &= cols <= rows
    if window is not None:
        allowed &= np.abs(rows - cols) < window
    return allowed.any(-1)


@pytest.mark.parametrize("kwargs, arrays, masks, call", [c[1:] for c in MHA_CASES],
                         ids=[c[0] for c in MHA_CASES])
def test_multi_head_attention_as_keras(kwargs, arrays, masks, call):
    ours, theirs = both("MultiHeadAttention", **kwargs)
    rows = attendable(arrays, masks, call, kwargs.get("sliding_window"))
    same_as_keras(ours, theirs, arrays, masks, rows=rows, **call)


def test_multi_head_attention_dropout_in_training():
    x = f32(4, 6, 8)
    layer = layers.MultiHeadAttention(2, 4, dropout=0.5, seed=1)
    out, scores = layer(x, x, return_attention_scores=True, training=True)
    assert out.shape == (4, 6, 8)  # the returned scores are before dropout, as Keras's
    np.testing.assert_allclose(scores.numpy().sum(-1), 1, rtol=1e-5)
    a, b = layer(x, x, training=True).numpy(), layer(x, x, training=True).numpy()
    assert not np.allclose(a, b)  # a new dropout draw each call
    np.testing.assert_array_equal(layer(x, x).numpy(), layer(x, x).numpy())


GQA_CASES = [
    ("self", dict(head_dim=4, num_query_heads=4, num_key_value_heads=2), [X, X], None, {}),
    ("cross+key", dict(head_dim=3, num_query_heads=2, num_key_value_heads=1),
     [X, f32(2, 7, 8), f32(2, 7, 5)], None, {}),
    ("masks", dict(head_dim=4, num_query_heads=4, num_key_value_heads=2), [X, Y],
     [STEPS, OTHER], {}),
    ("causal", dict(head_dim=4, num_query_heads=4, num_key_value_heads=2), [X, X], None,
     dict(use_causal_mask=True)),
    ("scores, mask", dict(head_dim=4, num_query_heads=4, num_key_value_heads=2), [X, Y], None,
     dict(return_attention_scores=True, attention_mask=PAIRS)),
    ("dropout (inference), no bias", dict(head_dim=2, num_query_heads=2,
                                          num_key_value_heads=2, dropout=0.3, use_bias=False),
     [X, Y], [STEPS, None], {}),
    ("gate, sliding window", dict(head_dim=2, num_query_heads=4, num_key_value_heads=1,
                                  use_gate=True, sliding_window=3), [X, X], None, {}),
]


@pytest.mark.parametrize("kwargs, arrays, masks, call", [c[1:] for c in GQA_CASES],
                         ids=[c[0] for c in GQA_CASES])
def test_group_query_attention_as_keras(kwargs, arrays, masks, call):
    ours, theirs = both("GroupQueryAttention", **kwargs)
    rows = attendable(arrays, masks, call, kwargs.get("sliding_window"))
    same_as_keras(ours, theirs, arrays, masks, rows=rows, **call)


# ---- Attention, AdditiveAttention -----------------------------------------------------------
Q, V, K = f32(2, 5, 4), f32(2, 7, 3), f32(2, 7, 4)
ATTENTION_CASES = [
    ("Attention", dict(), [Q, K], None, {}),
    ("Attention", dict(use_scale=True), [Q, V, K], None, {}),
    ("Attention", dict(score_mode="concat"), [Q, K], None, {}),
    ("Attention", dict(score_mode="concat", use_scale=True), [Q, V, K], [STEPS, OTHER, None],
     {}),
    ("Attention", dict(), [Q, V, K], [STEPS, OTHER, None], dict(return_attention_scores=True)),
    ("Attention", dict(use_scale=True), [Q, Q], [None, STEPS], dict(use_causal_mask=True)),
    ("Attention", dict(dropout=0.4), [Q, V, K], [STEPS, OTHER, None], {}),
    ("AdditiveAttention", dict(), [Q, K], None, {}),
    ("AdditiveAttention", dict(use_scale=False), [Q, V, K], [STEPS, OTHER, None],
     dict(return_attention_scores=True)),
    ("AdditiveAttention", dict(), [Q, Q], [STEPS, STEPS], dict(use_causal_mask=True)),
]


@pytest.mark.parametrize("name, kwargs, arrays, masks, call", ATTENTION_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(ATTENTION_CASES)])
def test_attention_layers_as_keras(name, kwargs, arrays, masks, call):
    ours, theirs = both(name, **kwargs)
    same_as_keras(ours, theirs, arrays, masks, _list=True, **call)


# ---- EinsumDense, LayerNormalization, UnitNormalization, Embedding --------------------------
DENSE_CASES = [
    (dict(equation="ab,bc->ac", output_shape=4, bias_axes="c"), f32(3, 5)),
    (dict(equation="abc,cd->abd", output_shape=(None, 4), activation="relu"), X),
    (dict(equation="abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de"), X),
    (dict(equation="abc,cde->abde", output_shape=(5, 2, 3), bias_axes="e"), X),
    (dict(equation="abcd,cde->abe", output_shape=(None, 4), bias_axes="e"), f32(2, 5, 2, 3)),
    (dict(equation="...b,bc->...c", output_shape=4, bias_axes="c"), f32(2, 3, 5)),
    (dict(equation="ab...,bc->ac...", output_shape=4, bias_axes="c"), f32(2, 5, 3)),
]


@pytest.mark.parametrize("kwargs, x", DENSE_CASES, ids=[c[0]["equation"] for c in DENSE_CASES])
def test_einsum_dense_as_keras(kwargs, x):
    ours, theirs = both("EinsumDense", **kwargs)
    same_as_keras(ours, theirs, [x])
    assert ours.compute_output_shape(x.shape) == tuple(theirs.compute_output_shape(x.shape))


NORM_CASES = [
    ("LayerNormalization", dict(), f32(4, 6) * 3 + 1),
    ("LayerNormalization", dict(axis=-1, epsilon=1e-5), f32(2, 5, 3)),
    ("LayerNormalization", dict(axis=[1, 2]), f32(2, 5, 3)),
    ("LayerNormalization", dict(axis=(-1, 1), center=False), f32(2, 5, 3)),
    ("LayerNormalization", dict(scale=False, beta_initializer="random_normal"), X),
    ("LayerNormalization", dict(gamma_initializer="random_normal", gamma_regularizer="l2"), X),
    ("UnitNormalization", dict(), f32(4, 6)),
    ("UnitNormalization", dict(axis=[1, 2]), X),
]


@pytest.mark.parametrize("name, kwargs, x", NORM_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(NORM_CASES)])
def test_normalization_as_keras(name, kwargs, x):
    ours, theirs = both(name, **kwargs)
    same_as_keras(ours, theirs, [x], [None])


def test_layer_normalization_rms_scaling_as_keras():
    with pytest.warns(UserWarning, match="rms_scaling"):
        ours = layers.LayerNormalization(rms_scaling=True, gamma_initializer="random_normal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = keras.layers.LayerNormalization(rms_scaling=True)
    same_as_keras(ours, theirs, [f32(3, 5) + 2])
    assert [w.name for w in ours.weights] == ["gamma"]


def test_masks_pass_through_normalization_as_keras():
    for name in ("LayerNormalization", "UnitNormalization"):
        ours, theirs = both(name)
        same_as_keras(ours, theirs, [X], [STEPS])


IDS = np.array([[3, 1, 0, 3, 3], [9, 0, 0, 2, 3]])  # repeated indices, and padding zeros


@pytest.mark.parametrize("kwargs", [dict(), dict(mask_zero=True),
                                    dict(embeddings_initializer="random_normal",
                                         embeddings_regularizer="l2")])
def test_embedding_as_keras(kwargs):
    ours, theirs = both("Embedding", 10, 4, **kwargs)
    same_as_keras(ours, theirs, [IDS])
    assert len(ours.losses) == len(theirs.losses)
    for a, b in zip(ours.losses, theirs.losses):
        np.testing.assert_allclose(a.item(), float(keras.ops.convert_to_numpy(b)), rtol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(), dict(tie_weights=False, mask_zero=True),
                                    dict(logit_soft_cap=0.5)])
def test_reversible_embedding_as_keras(kwargs):
    ours, theirs = both("ReversibleEmbedding", 10, 4, **kwargs)
    same_as_keras(ours, theirs, [IDS])
    same_as_keras(ours, theirs, [f32(2, 3, 4)], reverse=True)


def test_embedding_gradient_accumulates_repeated_rows():
    layer = layers.Embedding(6, 3)
    ids = np.array([[2, 2, 5], [2, 0, 5]])
    layer(ids).sum().backward()
    expected = np.zeros((6, 3), np.float32)
    np.add.at(expected, ids.reshape(-1), 1.0)
    np.testing.assert_array_equal(layer.embeddings.grad, expected)


# ---- masks flowing from Embedding(mask_zero=True), in models --------------------------------
def transformer_classifier(k, vocab=12, dim=8):
    """Embedding(mask_zero) -> MultiHeadAttention (self) + residual -> LayerNormalization ->
    GlobalAveragePooling1D (masked) -> Dense: the masks flow through every step."""
    L = k.layers
    inputs = k.Input((None,), dtype="int32")
    x = L.Embedding(vocab, dim, mask_zero=True)(inputs)
    a = L.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    x = L.LayerNormalization()(L.Add()([x, a]))
    x = L.Dense(8, activation="relu")(x)
    x = L.GlobalAveragePooling1D()(x)
    return k.Model(inputs, L.Dense(3)(x))


def test_masks_flow_from_embedding_through_attention_as_keras():
    ours, theirs = transformer_classifier(mgp), transformer_classifier(keras)
    assert [(w.name, w.shape) for w in ours.weights] == \
        [(w.name, tuple(w.shape)) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    ids = np.array([[5, 3, 7, 0, 0, 0], [1, 2, 3, 4, 5, 6], [4, 0, 0, 0, 0, 0]], np.int32)
    a = ours(ids)
    b = theirs(torch.tensor(ids))
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-5)
    # the padding changes nothing: the same sequences padded further give the same outputs
    longer = np.concatenate([ids, np.zeros((3, 3), np.int32)], axis=1)
    np.testing.assert_allclose(ours(longer).numpy(), a.numpy(), rtol=1e-5, atol=1e-5)
    g = f32(*a.shape)
    (a * g).sum().backward()
    (b * torch.tensor(g)).sum().backward()
    for w, v in zip(ours.trainable_weights, theirs.trainable_weights):
        np.testing.assert_allclose(w.grad, v.value.grad.numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=w.path)


def test_symbolic_masks_and_shapes_as_keras():
    results = []
    for k in (mgp, keras):
        L = k.layers
        inputs = k.Input((None,), dtype="int32")
        x = L.Embedding(12, 8, mask_zero=True)(inputs)
        out, scores = L.MultiHeadAttention(2, 4, output_shape=6)(
            x, x, return_attention_scores=True)
        att = L.Attention()([x, x])
        norm = L.LayerNormalization()(x)
        gqa = L.GroupQueryAttention(4, 2, 1)(x, x)
        results.append([tuple(t.shape) for t in (x, out, scores, att, norm, gqa)] +
                       [None if getattr(t, "_keras_mask", None) is None else
                        tuple(t._keras_mask.shape) for t in (x, out, att, norm, gqa)])
    assert results[0] == results[1]


# ---- configs --------------------------------------------------------------------------------
CONFIG_CASES = [
    ("Embedding", (10, 4), dict(mask_zero=True)),
    ("ReversibleEmbedding", (10, 4), dict(tie_weights=False, logit_soft_cap=2.0)),
    ("EinsumDense", ("abc,cde->abde",), dict(output_shape=(None, 2, 3), bias_axes="de")),
    ("LayerNormalization", (), dict(axis=[1, 2], epsilon=1e-5)),
    ("UnitNormalization", (), dict(axis=[1, 2])),
    ("MultiHeadAttention", (2, 4), dict(value_dim=3, dropout=0.1, output_shape=(5,),
                                        attention_axes=(1,), use_gate=True)),
    ("GroupQueryAttention", (4, 4, 2), dict(dropout=0.2, sliding_window=3)),
    ("Attention", (), dict(use_scale=True, score_mode="concat", dropout=0.1)),
    ("AdditiveAttention", (), dict(use_scale=False)),
]
KERAS_ONLY = {"quantization_config"}


@pytest.mark.parametrize("name, args, kwargs", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_configs_as_keras(name, args, kwargs):
    ours, theirs = both(name, *args, **kwargs)
    a, b = ours.get_config(), theirs.get_config()
    assert set(b) - KERAS_ONLY <= set(a), set(b) - set(a)
    for key in set(b) - {"name", "dtype"} - KERAS_ONLY:
        value = b[key]
        if key.endswith(("initializer", "regularizer", "constraint")) and value is not None:
            assert a[key]["class_name"] == value["class_name"], key
            continue
        assert (list(a[key]) if isinstance(a[key], tuple) else a[key]) == \
            (list(value) if isinstance(value, tuple) else value), key
    again = type(ours).from_config(a)
    assert again.get_config() == {**a, "name": a["name"]}
    # and Keras's own config makes the same layer
    ours_from_keras = type(ours).from_config({k: v for k, v in b.items() if k != "dtype"})
    assert {k: v for k, v in ours_from_keras.get_config().items() if k != "name"} == \
        {k: v for k, v in a.items() if k != "name"}


@pytest.mark.parametrize("name, args", [("MultiHeadAttention", (2, 4)),
                                        ("GroupQueryAttention", (2, 4, 2))])
def test_attention_regularizers_as_keras(name, args):
    """The regularizers reach the projections (and GroupQueryAttention's own outputs), as in
    Keras: the same losses, in the same order."""
    kwargs = dict(kernel_regularizer="l2", bias_regularizer="l1", activity_regularizer="l2")
    ours, theirs = both(name, *args, **kwargs)
    same_as_keras(ours, theirs, [X, Y[:, :, :8] if name == "GroupQueryAttention" else Y])
    a = sorted(float(loss.item()) for loss in ours.losses)
    b = sorted(float(keras.ops.convert_to_numpy(loss)) for loss in theirs.losses)
    np.testing.assert_allclose(a, b, rtol=1e-5)
