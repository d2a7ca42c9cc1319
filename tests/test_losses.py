import warnings

import numpy as np
import pytest

import oracles

import mgp
from mgp import losses

f32 = np.float32
EPS = 1e-7
LOGITS = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [-2.0, 1.0, 1.0], [0.0, 0.0, 0.0]], f32)
LABELS = np.array([0, 2, 1, 2])
ONE_HOT = np.eye(3, dtype=f32)[LABELS]


def softmax_np(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def value(t):
    assert isinstance(t, mgp.Tensor) and t.shape == ()
    return float(t.item())


# ---- values against NumPy ---------------------------------------------------------------------------

def test_categorical_crossentropy_values():
    p = softmax_np(LOGITS)
    expected = -np.log(p[np.arange(4), LABELS])
    np.testing.assert_allclose(losses.categorical_crossentropy(ONE_HOT, mgp.tensor(p)).data,
                               expected, rtol=1e-5)
    np.testing.assert_allclose(
        losses.categorical_crossentropy(ONE_HOT, mgp.tensor(LOGITS), from_logits=True).data,
        expected, rtol=1e-5)
    # through softmax: the loss goes back to the logits
    assert value(losses.CategoricalCrossentropy()(ONE_HOT, mgp.softmax(mgp.tensor(LOGITS)))) \
        == pytest.approx(expected.mean(), rel=1e-6)
    # unnormalized probabilities are normalized first, then clipped, as Keras
    q = np.array([[2.0, 0.0, 2.0]], f32)
    assert value(losses.CategoricalCrossentropy()([[0, 1, 0]], mgp.tensor(q))) == \
        pytest.approx(-np.log(EPS), rel=1e-5)
    assert value(losses.CategoricalCrossentropy()([[1, 0, 0]], mgp.tensor(q))) == \
        pytest.approx(np.log(2), rel=1e-5)


def test_categorical_label_smoothing_and_axis():
    p = softmax_np(LOGITS)
    smooth = ONE_HOT * 0.9 + 0.1 / 3
    expected = -(smooth * np.log(p)).sum(-1).mean()
    loss = losses.CategoricalCrossentropy(label_smoothing=0.1)
    assert value(loss(ONE_HOT, mgp.tensor(p))) == pytest.approx(expected, rel=1e-5)
    assert value(loss(ONE_HOT, mgp.softmax(mgp.tensor(LOGITS)))) == pytest.approx(expected,
                                                                                  rel=1e-5)
    # classes on axis 0
    loss0 = losses.CategoricalCrossentropy(axis=0)
    assert value(loss0(ONE_HOT.T, mgp.tensor(p.T))) == pytest.approx(
        -np.log(p[np.arange(4), LABELS]).mean(), rel=1e-5)
    assert value(losses.CategoricalCrossentropy(from_logits=True, axis=0)(
        ONE_HOT.T, mgp.tensor(LOGITS.T))) == pytest.approx(
        -np.log(p[np.arange(4), LABELS]).mean(), rel=1e-5)


def test_softmax_on_another_axis_is_not_mistaken_for_the_losses():
    x = mgp.tensor(LOGITS)
    p0 = mgp.softmax(x, axis=0)  # each column sums to one, not each row
    direct = p0.data / p0.data.sum(-1, keepdims=True)
    expected = -np.log(direct[np.arange(4), LABELS]).mean()
    assert value(losses.CategoricalCrossentropy()(ONE_HOT, p0)) == pytest.approx(expected,
                                                                                rel=1e-5)


@pytest.mark.parametrize("labels", [LABELS, LABELS[:, None], LABELS.astype(f32),
                                    LABELS[:, None].astype(f32), mgp.tensor(LABELS)])
def test_sparse_categorical_crossentropy_label_forms(labels):
    p = softmax_np(LOGITS)
    expected = -np.log(p[np.arange(4), LABELS]).mean()
    for y_pred, kwargs in [(mgp.tensor(p), {}), (mgp.tensor(LOGITS), {"from_logits": True}),
                           (mgp.softmax(mgp.tensor(LOGITS)), {})]:
        loss = losses.SparseCategoricalCrossentropy(**kwargs)
        assert value(loss(labels, y_pred)) == pytest.approx(expected, rel=1e-5)


def test_sparse_categorical_crossentropy_sequences():
    logits = np.random.default_rng(0).standard_normal((2, 5, 4)).astype(f32)
    labels = np.array([[0, 1, 2, 3, 0], [3, 3, 1, 0, 2]])
    p = softmax_np(logits)
    expected = -np.log(np.take_along_axis(p, labels[..., None], -1)[..., 0])
    out = losses.sparse_categorical_crossentropy(labels, mgp.tensor(p))
    np.testing.assert_allclose(out.data, expected, rtol=1e-5)
    out = losses.sparse_categorical_crossentropy(labels, mgp.tensor(logits), from_logits=True)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5)


def test_binary_crossentropy_values():
    t = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], f32)
    x = np.array([[0.5, -1.0], [2.0, 0.0], [-3.0, 4.0]], f32)
    p = 1 / (1 + np.exp(-x))
    per_sample = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)
    np.testing.assert_allclose(losses.binary_crossentropy(t, mgp.tensor(p)).data, per_sample,
                               rtol=1e-5)
    for y_pred, kwargs in [(mgp.tensor(p), {}), (mgp.tensor(x), {"from_logits": True}),
                           (mgp.sigmoid(mgp.tensor(x)), {})]:
        assert value(losses.BinaryCrossentropy(**kwargs)(t, y_pred)) == \
            pytest.approx(per_sample.mean(), rel=1e-5)
    # (N,) labels for (N, 1) predictions, label smoothing
    ts = np.array([1, 0, 1])
    pc = p[:, :1]
    smooth = ts[:, None] * 0.8 + 0.1
    expected = -(smooth * np.log(pc) + (1 - smooth) * np.log(1 - pc)).mean()
    assert value(losses.BinaryCrossentropy(label_smoothing=0.2)(ts, mgp.tensor(pc))) == \
        pytest.approx(expected, rel=1e-5)
    # saturated probabilities are clipped to [1e-7, 1 - 1e-7]
    assert value(losses.BinaryCrossentropy()([[1.0]], mgp.tensor([[0.0]]))) == \
        pytest.approx(-np.log(EPS), rel=1e-4)


def test_regression_losses():
    t = np.array([[1.0, 2.0], [0.0, -1.0]], f32)
    p = np.array([[1.5, 0.0], [0.2, 1.0]], f32)
    e = p - t
    np.testing.assert_allclose(losses.mean_squared_error(t, mgp.tensor(p)).data,
                               (e ** 2).mean(-1), rtol=1e-6)
    np.testing.assert_allclose(losses.mean_absolute_error(t, mgp.tensor(p)).data,
                               np.abs(e).mean(-1), rtol=1e-6)
    for delta in (1.0, 0.3):
        h = np.where(np.abs(e) <= delta, 0.5 * e ** 2, delta * np.abs(e) - 0.5 * delta ** 2)
        np.testing.assert_allclose(losses.huber(t, mgp.tensor(p), delta=delta).data, h.mean(-1),
                                   rtol=1e-6)
        assert value(losses.Huber(delta)(t, mgp.tensor(p))) == pytest.approx(h.mean(), rel=1e-6)
    assert value(losses.MeanSquaredError()(t, mgp.tensor(p))) == pytest.approx((e ** 2).mean())
    assert value(losses.MeanAbsoluteError()(t, mgp.tensor(p))) == \
        pytest.approx(np.abs(e).mean())
    # (N,) targets for (N, 1) predictions: no broadcasting to (N, N)
    assert value(losses.get("mse")([1.0, 2.0], mgp.tensor([[1.5], [2.0]]))) == \
        pytest.approx(0.125)


def test_sample_weight_and_reductions():
    t = np.array([[1.0], [2.0], [3.0]], f32)
    p = mgp.tensor([[2.0], [2.0], [5.0]])  # squared errors 1, 0, 4
    w = np.array([2.0, 1.0, 0.5], f32)
    assert value(losses.MeanSquaredError()(t, p, sample_weight=w)) == pytest.approx(4 / 3)
    assert value(losses.MeanSquaredError(reduction="sum")(t, p, sample_weight=w)) == \
        pytest.approx(4.0)
    assert value(losses.MeanSquaredError(reduction="mean_with_sample_weight")(
        t, p, sample_weight=w)) == pytest.approx(4 / 3.5)
    none = losses.MeanSquaredError(reduction="none")(t, p)
    np.testing.assert_allclose(none.data, [1.0, 0.0, 4.0])
    assert value(losses.MeanSquaredError()(t, p, sample_weight=w[:, None])) == \
        pytest.approx(4 / 3)
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="avg")


# ---- gradients ----------------------------------------------------------------------------------------

def _x(shape=(4, 3), seed=0):
    return mgp.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda x: losses.CategoricalCrossentropy()(ONE_HOT, mgp.softmax(x)),
    lambda x: losses.CategoricalCrossentropy(label_smoothing=0.1)(ONE_HOT, mgp.softmax(x)),
    lambda x: losses.CategoricalCrossentropy()(ONE_HOT, mgp.softmax(x) * 1.0),  # probabilities
    lambda x: losses.CategoricalCrossentropy(from_logits=True)(ONE_HOT, x),
    lambda x: losses.SparseCategoricalCrossentropy()(LABELS, mgp.softmax(x)),
    lambda x: losses.SparseCategoricalCrossentropy()(LABELS, mgp.softmax(x) * 1.0),
    lambda x: losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, x),
    lambda x: losses.BinaryCrossentropy()(ONE_HOT, mgp.sigmoid(x)),
    lambda x: losses.BinaryCrossentropy()(ONE_HOT, mgp.sigmoid(x) * 1.0),
    lambda x: losses.BinaryCrossentropy(from_logits=True)(ONE_HOT, x,
                                                          sample_weight=[1.0, 2.0, 0.0, 0.5]),
    lambda x: losses.MeanSquaredError()(ONE_HOT, x),
    lambda x: losses.MeanAbsoluteError()(ONE_HOT, x),
    lambda x: losses.Huber(delta=0.5)(ONE_HOT, x),
], ids=["cce-softmax", "cce-smooth", "cce-probs", "cce-logits", "scce-softmax", "scce-probs",
        "scce-logits", "bce-sigmoid", "bce-probs", "bce-logits-weighted", "mse", "mae", "huber"])
def test_gradcheck(fn):
    assert mgp.gradcheck(fn, _x())


# ---- stability ----------------------------------------------------------------------------------------

def test_huge_logits_through_softmax_and_sigmoid_stay_finite():
    x = mgp.tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = losses.CategoricalCrossentropy()(np.eye(3, dtype=f32)[[2, 1]], mgp.softmax(x))
    loss.backward()
    assert value(loss) == pytest.approx(2e4 / 2, rel=1e-4)  # the true value, not a clipped one
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad, [[0.5, 0, -0.5], [0, 0, 0]], atol=1e-6)

    x.grad = None
    loss = losses.SparseCategoricalCrossentropy()([2, 1], mgp.softmax(x))
    loss.backward()
    assert np.isfinite(value(loss)) and np.all(np.isfinite(x.grad))

    z = mgp.tensor([[1e4], [-1e4]], requires_grad=True)
    loss = losses.BinaryCrossentropy()(np.array([0, 1]), mgp.sigmoid(z))
    loss.backward()
    assert value(loss) == pytest.approx(1e4, rel=1e-4)
    np.testing.assert_allclose(z.grad, [[0.5], [-0.5]], atol=1e-6)


# ---- errors -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("labels", [LABELS, LABELS[:, None]])
def test_integer_labels_for_categorical_suggest_sparse(labels):
    with pytest.raises(ValueError, match=r"categorical_crossentropy expects one-hot labels of "
                                         r"the predictions' shape \(4, 3\), got labels of shape "
                                         r"\(4,( 1)?\).*sparse_categorical_crossentropy.*"
                                         r"to_categorical\(y, num_classes=3\)"):
        losses.CategoricalCrossentropy()(labels, mgp.softmax(mgp.tensor(LOGITS)))


def test_shape_and_label_errors():
    p = mgp.softmax(mgp.tensor(LOGITS))
    with pytest.raises(ValueError, match=r"y_true has shape \(4, 2\) but y_pred has shape "
                                         r"\(4, 3\)"):
        losses.categorical_crossentropy(np.zeros((4, 2)), p)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\) .* 3 classes .* got "
                                         r"values from 0 to 3"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 1, 2, 3]), p)
    with pytest.raises(ValueError, match="got values from -1 to 2"):
        losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([0, -1, 2, 2]),
                                                                mgp.tensor(LOGITS))
    with pytest.raises(ValueError, match="non-integer values such as 1.5"):
        losses.sparse_categorical_crossentropy(np.array([0, 1.5, 2, 2]), p)
    with pytest.raises(ValueError, match=r"labels of shape \(4, 3\) do not fit predictions of "
                                         r"shape \(4, 3\).*use categorical_crossentropy"):
        losses.sparse_categorical_crossentropy(ONE_HOT, p)
    with pytest.raises(ValueError, match=r"labels of shape \(5,\) .* expected labels of shape "
                                         r"\(4,\)"):
        losses.sparse_categorical_crossentropy(np.zeros(5), p)
    with pytest.raises(ValueError, match=r"mean_squared_error: y_true has shape \(4, 1\) but "
                                         r"y_pred has shape \(4, 3\)"):
        losses.MeanSquaredError()(np.zeros((4, 1)), p)
    with pytest.raises(ValueError, match=r"binary_crossentropy: y_true has shape \(3,\)"):
        losses.BinaryCrossentropy()(np.zeros(3), mgp.sigmoid(mgp.tensor(np.zeros((4, 1)))))
    with pytest.warns(UserWarning, match="single class"):
        losses.categorical_crossentropy(np.ones((4, 1)), mgp.tensor(np.ones((4, 1))))


# ---- lookup and config --------------------------------------------------------------------------------

def test_get_names_aliases_and_errors():
    cases = {"categorical_crossentropy": losses.CategoricalCrossentropy,
             "CategoricalCrossentropy": losses.CategoricalCrossentropy,
             "sparse_categorical_crossentropy": losses.SparseCategoricalCrossentropy,
             "binary_crossentropy": losses.BinaryCrossentropy, "bce": losses.BinaryCrossentropy,
             "mse": losses.MeanSquaredError, "MSE": losses.MeanSquaredError,
             "mean_squared_error": losses.MeanSquaredError, "mae": losses.MeanAbsoluteError,
             "mean_absolute_error": losses.MeanAbsoluteError, "huber": losses.Huber,
             "Huber": losses.Huber}
    for name, cls in cases.items():
        assert type(losses.get(name)) is cls, name
    loss = losses.Huber(0.5)
    assert losses.get(loss) is loss
    assert losses.get(losses.mean_squared_error) is losses.mean_squared_error
    assert type(losses.get(losses.Huber)) is losses.Huber
    assert losses.get(None) is None
    with pytest.raises(ValueError, match=r"unknown loss 'cross_entropy'; known: \['bce', "):
        losses.get("cross_entropy")
    with pytest.raises(ValueError, match="could not interpret loss identifier 3"):
        losses.get(3)


def test_config_round_trip():
    for loss in [losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
                 losses.SparseCategoricalCrossentropy(from_logits=True, name="scce"),
                 losses.BinaryCrossentropy(axis=-1), losses.MeanSquaredError(reduction="sum"),
                 losses.MeanAbsoluteError(), losses.Huber(delta=2.0)]:
        config = loss.get_config()
        assert type(loss).from_config(config).get_config() == config
        assert losses.deserialize(losses.serialize(loss)).get_config() == config
    assert losses.SparseCategoricalCrossentropy(from_logits=True).get_config() == {
        "name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": True, "ignore_class": None, "axis": -1}
    assert losses.Huber().name == "huber_loss"
    assert "from_logits=True" in repr(losses.CategoricalCrossentropy(from_logits=True))


def test_function_wrapper_reduces_a_custom_function():
    wrapped = losses.LossFunctionWrapper(lambda t, p: ((p - t) ** 2).sum(axis=-1), name="sse")
    # (N,) targets against (N, 1) predictions are aligned as Keras aligns them
    assert value(wrapped([1.0, 3.0], mgp.tensor([[2.0], [3.0]]))) == pytest.approx(0.5)
    assert wrapped.name == "sse"


# ---- against Keras itself, when installed -------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name,kwargs,y_true,y_pred", [
    ("CategoricalCrossentropy", {}, ONE_HOT, softmax_np(LOGITS)),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, ONE_HOT, LOGITS),
    ("SparseCategoricalCrossentropy", {}, LABELS, softmax_np(LOGITS)),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, LABELS[:, None], LOGITS),
    ("BinaryCrossentropy", {}, ONE_HOT, 1 / (1 + np.exp(-LOGITS))),
    ("BinaryCrossentropy", {"from_logits": True}, ONE_HOT, LOGITS),
    ("MeanSquaredError", {}, ONE_HOT, LOGITS),
    ("MeanAbsoluteError", {}, LABELS.astype(f32), LOGITS[:, :1]),
    ("Huber", {"delta": 0.7}, ONE_HOT, LOGITS),
])
def test_matches_keras(name, kwargs, y_true, y_pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras = oracles.keras()
    w = np.array([1.0, 0.5, 2.0, 0.0], f32)
    expected = keras.ops.convert_to_numpy(
        getattr(keras.losses, name)(**kwargs)(y_true, y_pred, sample_weight=w))
    got = getattr(losses, name)(**kwargs)(y_true, mgp.tensor(y_pred), sample_weight=w)
    assert value(got) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", ["CategoricalCrossentropy", "SparseCategoricalCrossentropy",
                                  "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError",
                                  "Huber"])
def test_configs_cross_over_with_keras(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras = oracles.keras()
    k_loss = getattr(keras.losses, name)(name="custom")
    m_loss = losses.deserialize(keras.losses.serialize(k_loss))
    assert type(m_loss).__name__ == name and m_loss.name == "custom"
    back = keras.losses.deserialize(losses.serialize(m_loss))
    assert type(back).__name__ == name and back.name == "custom"


def test_float64_labels_and_weights_keep_float32():
    x = mgp.tensor(LOGITS, requires_grad=True)
    y = ONE_HOT.astype(np.float64)
    for loss in [losses.CategoricalCrossentropy(label_smoothing=0.1), losses.BinaryCrossentropy(),
                 losses.MeanSquaredError(), losses.Huber(0.5)]:
        for y_pred in [mgp.softmax(x), mgp.sigmoid(x), mgp.softmax(x) * 1.0]:  # last: no logits
            x.grad = None
            out = loss(y, y_pred, sample_weight=np.ones(4))
            out.backward()
            assert out.dtype == np.float32 and x.grad.dtype == np.float32


# ---- every loss: gradients in float64 -------------------------------------------------------------

R = np.random.default_rng(7)
T6 = R.random((6, 4)) * 2 + 0.5
BIN6 = R.integers(0, 2, (6, 4)).astype(np.float64)
LAB6 = np.array([0, 3, 1, 2, 2, 1])
HOT6 = np.eye(4)[LAB6]
GROUPS6 = np.array([0, 1, 0, 1, 2, 2])
CTC_LAB = np.array([[1, 2, 0], [3, 3, 0], [1, 0, 0], [2, 3, 1], [1, 1, 2], [3, 0, 0]])
W6 = R.random(6)
STEP_MASK = np.array([[1, 1, 0], [1, 1, 1], [1, 0, 0], [0, 1, 1], [1, 1, 1], [1, 0, 1]], bool)


def _masked(x, mask):
    y = x * 1.0
    y._keras_mask = mask
    return y


# one row per loss (or variant): the loss of the input x (6, 4) or its transform
GRADCHECK_CASES = {
    "mean_absolute_percentage_error": lambda x: losses.MeanAbsolutePercentageError()(T6, x),
    "mean_squared_logarithmic_error": lambda x: losses.MeanSquaredLogarithmicError()(
        T6, x.exp()),
    "cosine_similarity": lambda x: losses.CosineSimilarity(axis=0)(T6, x),
    "log_cosh": lambda x: losses.LogCosh()(T6, x * 10, sample_weight=W6),
    "hinge": lambda x: losses.Hinge()(BIN6, x),
    "squared_hinge": lambda x: losses.SquaredHinge()(BIN6, x),
    "categorical_hinge": lambda x: losses.CategoricalHinge()(HOT6, x),
    "kl_divergence": lambda x: losses.KLDivergence()(HOT6 * 0.6 + 0.1, mgp.softmax(x)),
    "poisson": lambda x: losses.Poisson()(T6, x.exp()),
    "binary_focal": lambda x: losses.BinaryFocalCrossentropy()(BIN6, mgp.sigmoid(x) * 1.0),
    "binary_focal-sigmoid": lambda x: losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, gamma=1.5)(BIN6, mgp.sigmoid(x)),
    "binary_focal-logits": lambda x: losses.BinaryFocalCrossentropy(
        from_logits=True, label_smoothing=0.1)(BIN6, x),
    "categorical_focal": lambda x: losses.CategoricalFocalCrossentropy()(
        HOT6, mgp.softmax(x) * 1.0),
    "categorical_focal-logits": lambda x: losses.CategoricalFocalCrossentropy(
        from_logits=True, gamma=3.0, label_smoothing=0.1)(HOT6, x),
    "sparse_cce-ignore_class": lambda x: losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=2)(LAB6, x),
    "generalized_ce": lambda x: losses.CategoricalGeneralizedCrossEntropy(q=0.4)(
        LAB6, mgp.softmax(x)),
    "dice": lambda x: losses.Dice()(BIN6, mgp.sigmoid(x)),
    "dice-axis": lambda x: losses.Dice(axis=1)(BIN6, mgp.sigmoid(x), sample_weight=W6),
    "tversky": lambda x: losses.Tversky(alpha=0.2, beta=0.8)(BIN6, mgp.sigmoid(x)),
    "circle": lambda x: losses.Circle(gamma=5.0)(GROUPS6, x * 0.4),
    "ctc": lambda x: losses.CTC()(CTC_LAB, x.reshape(6, 1, 4) * mgp.tensor(
        np.linspace(0.5, 1.5, 5)[None, :, None])),  # 5 frames
    "masked-sparse_cce": lambda x: losses.SparseCategoricalCrossentropy(from_logits=True)(
        np.stack([LAB6 % 2, LAB6 // 2], 1), _masked(x.reshape(6, 2, 2), STEP_MASK[:, :2])),
    "masked-mse-sum": lambda x: losses.MeanSquaredError(reduction="sum")(
        T6[:, :3, None], _masked(x[:, :3].reshape(6, 3, 1), STEP_MASK)),
}


@pytest.mark.parametrize("name", list(GRADCHECK_CASES))
def test_every_loss_gradcheck(name):
    x = mgp.tensor(np.random.default_rng(3).standard_normal((6, 4)), dtype=np.float64,
                   requires_grad=True)
    out = GRADCHECK_CASES[name](x)
    assert out.dtype == np.float64 and out.shape == ()
    assert mgp.gradcheck(GRADCHECK_CASES[name], x)


# ---- bad input: a clear error naming the loss and what it got -----------------------------------

P6 = mgp.softmax(mgp.tensor(np.random.default_rng(1).standard_normal((6, 4))))
BAD_INPUT_CASES = [
    (losses.MeanAbsolutePercentageError(), np.full((6, 4), "a"), P6, None, TypeError,
     r"MeanAbsolutePercentageError 'mean_absolute_percentage_error': y_true must hold "
     r"numbers, got dtype <U1"),
    (losses.Poisson(name="p"), T6, np.ones((6, 4), complex), None, TypeError,
     r"Poisson 'p': y_pred must hold numbers, got dtype complex128"),
    (losses.Hinge(), np.ones((6, 3)), P6, None, ValueError,
     r"hinge: y_true has shape \(6, 3\) but y_pred has shape \(6, 4\)"),
    (losses.KLDivergence(), np.ones((5, 4)), P6, None, ValueError,
     r"kl_divergence: y_true has shape \(5, 4\)"),
    (losses.Dice(), np.ones((6, 1)), P6, None, ValueError, r"dice: y_true has shape \(6, 1\)"),
    (losses.SparseCategoricalCrossentropy(ignore_class=-1), np.array([0, 1, -1, 4, 2, 2]), P6,
     None, ValueError, r"labels must lie in \[0, 4\) .* got values from 0 to 4"),
    (losses.CategoricalGeneralizedCrossEntropy(), np.array([0, 1, 2, 3, 4, 5]), P6, None,
     ValueError, r"categorical_generalized_cross_entropy: labels must lie in \[0, 4\)"),
    (losses.CategoricalFocalCrossentropy(), LAB6, P6, None, ValueError,
     r"categorical_focal_crossentropy expects one-hot labels .* use "
     r"sparse_categorical_crossentropy"),
    (losses.MeanSquaredError(), T6, P6, np.ones(5), ValueError,
     r"mean_squared_error: sample_weight of shape \(5,\) does not fit values of shape \(6,\)"),
    (losses.MeanSquaredError(), T6, P6, np.full(6, "x"), TypeError,
     r"mean_squared_error: sample_weight must hold numbers"),
    (losses.CTC(), CTC_LAB[:, 0], mgp.tensor(np.zeros((6, 5, 4))), None, ValueError,
     r"ctc: y_true must be integer labels of shape \(batch, max_length\), got shape \(6,\)"),
    (losses.CTC(), CTC_LAB, P6, None, ValueError,
     r"ctc: y_pred must be logits of shape \(batch, max_length, classes\), got shape \(6, 4\)"),
    (losses.CTC(), CTC_LAB + 2, mgp.tensor(np.zeros((6, 5, 4))), None, ValueError,
     r"CTC 'ctc': ctc_loss: target labels must lie in \[0, 4\), got values from 2 to 5"),
    (losses.Circle(), GROUPS6[:5], P6, None, ValueError, r"circle: 5 labels for 6 embeddings"),
]


@pytest.mark.parametrize("loss,y_true,y_pred,sample_weight,error,message", BAD_INPUT_CASES,
                         ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(BAD_INPUT_CASES)])
def test_bad_input_is_refused_naming_the_loss(loss, y_true, y_pred, sample_weight, error,
                                              message):
    with pytest.raises(error, match=message):
        loss(y_true, y_pred, sample_weight=sample_weight)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"q must be in \(0, 1\), got 1.5"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)
    with pytest.raises(ValueError, match="MeanSquaredError: dtype must be a float type, got int32"):
        losses.MeanSquaredError(dtype="int32")
    masked = P6 * 1.0
    masked._keras_mask = np.ones((6, 3), bool)
    with pytest.raises(ValueError, match=r"the mask on y_pred has shape \(6, 3\), which does not "
                                         r"fit the per-sample losses of shape \(6,\)"):
        losses.CategoricalCrossentropy()(HOT6, masked)


# ---- masks and weights: what Keras 3.15 does not cover ---------------------------------------------

def test_per_sample_weights_under_a_step_mask_weigh_every_step_of_their_sample():
    # Keras 3.15 cannot combine (N,) weights with a (N, T) mask (a broadcasting error);
    # mgp gives each sample's weight to each of its steps
    y = np.tile(T6[:, :3, None], 1)
    pred = _masked(mgp.tensor(np.zeros((6, 3, 1))), STEP_MASK)
    per_step = (y[..., 0] ** 2)
    for reduction, expected in [
        ("sum", (per_step * W6[:, None] * STEP_MASK).sum()),
        ("sum_over_batch_size", (per_step * W6[:, None] * STEP_MASK).sum() / STEP_MASK.sum()),
        ("mean_with_sample_weight", (per_step * W6[:, None] * STEP_MASK).sum()
         / (W6[:, None] * STEP_MASK).sum()),
    ]:
        got = losses.MeanSquaredError(reduction=reduction)(y, pred, sample_weight=W6)
        assert value(got) == pytest.approx(expected, rel=1e-5), reduction


def test_ignore_class_masks_the_losses_and_a_loss_averages_over_the_rest():
    labels = np.array([0, 2, 1, 2, 3, 1])
    x = mgp.tensor(np.random.default_rng(2).standard_normal((6, 4)))
    per_sample = losses.sparse_categorical_crossentropy(labels, x, from_logits=True,
                                                        ignore_class=2)
    np.testing.assert_array_equal(per_sample._keras_mask, labels != 2)
    assert (per_sample.numpy()[labels == 2] == 0).all()
    full = losses.sparse_categorical_crossentropy(np.where(labels == 2, 0, labels), x,
                                                  from_logits=True).numpy()
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)(labels, x)
    assert value(loss) == pytest.approx(full[labels != 2].mean(), rel=1e-6)
    # a label value outside the classes may be the ignored one (255 for void pixels)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)(
        np.where(labels == 2, 255, labels), x)
    assert value(loss) == pytest.approx(full[labels != 2].mean(), rel=1e-6)


# ---- on the device --------------------------------------------------------------------------------

@pytest.fixture
def cuda(monkeypatch):
    import sys

    import fake_cupy
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setattr(fake_cupy, "visible_gpus", 1)
    mgp.set_device("cuda")
    yield fake_cupy
    mgp.set_device("cpu")


DEVICE_CASES = [
    (losses.MeanAbsolutePercentageError(), T6, T6[::-1]), (losses.LogCosh(), T6, T6[::-1]),
    (losses.MeanSquaredLogarithmicError(), T6, T6[::-1]), (losses.CosineSimilarity(), T6, -T6),
    (losses.Huber(0.3), T6, T6[::-1]), (losses.Hinge(), BIN6, T6), (losses.SquaredHinge(), BIN6, T6),
    (losses.CategoricalHinge(), HOT6, T6), (losses.KLDivergence(), HOT6, T6 / T6.sum(1)[:, None]),
    (losses.Poisson(), T6, T6[::-1]), (losses.BinaryFocalCrossentropy(from_logits=True), BIN6, T6),
    (losses.CategoricalFocalCrossentropy(from_logits=True), HOT6, T6),
    (losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1), LAB6, T6),
    (losses.CategoricalGeneralizedCrossEntropy(), LAB6, T6 / T6.sum(1)[:, None]),
    (losses.Dice(), BIN6, T6 / 3), (losses.Tversky(), BIN6, T6 / 3), (losses.Circle(), GROUPS6, T6),
    (losses.CTC(), CTC_LAB, T6[:, None, :] * np.ones((1, 5, 1))),
]


@pytest.mark.parametrize("loss,y_true,y_pred", DEVICE_CASES,
                         ids=[type(c[0]).__name__ for c in DEVICE_CASES])
def test_every_loss_computes_the_same_on_the_device(cuda, loss, y_true, y_pred):
    mgp.set_device("cpu")
    x = mgp.tensor(y_pred, requires_grad=True)
    expected = loss(y_true, x, sample_weight=W6)
    expected.backward()
    mgp.set_device("cuda")
    xd = mgp.tensor(y_pred, requires_grad=True)
    got = loss(y_true, xd, sample_weight=W6)
    got.backward()
    assert got.device == "cuda"
    assert value(got) == pytest.approx(value(expected), rel=1e-6)
    np.testing.assert_allclose(xd.grad.get(), x.grad, rtol=1e-5, atol=1e-7)
