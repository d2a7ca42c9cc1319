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
