import warnings

import numpy as np
import pytest

import oracles

import mgp
from mgp import losses, metrics

f32 = np.float32
PROBS = np.array([[0.1, 0.2, 0.7], [0.5, 0.3, 0.2], [0.3, 0.4, 0.3], [0.2, 0.2, 0.6]], f32)
LABELS = np.array([2, 1, 1, 0])   # argmax of PROBS is [2, 0, 1, 2]: hits 1, 0, 1, 0
ONE_HOT = np.eye(3, dtype=f32)[LABELS]


def test_mean_tracks_a_weighted_loss():
    m = metrics.Mean()
    assert m.result() == 0.0 and m.name == "mean"
    m.update_state(2.0, sample_weight=3)  # a batch of 3 with mean loss 2
    m.update_state(mgp.tensor(4.0), sample_weight=1)
    assert m.result() == pytest.approx(2.5)
    m.reset_state()
    m.update_state([1.0, 2.0, 6.0])
    assert m.result() == pytest.approx(3.0)
    m.reset_state()
    m.update_state([[1.0, 2.0], [3.0, 5.0]], sample_weight=[1.0, 0.0])  # per-sample means 1.5, 4
    assert m.result() == pytest.approx(1.5)
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) does not fit values of "
                                         r"shape \(2,\)"):
        m.update_state([1.0, 2.0], sample_weight=[1.0, 2.0, 3.0])


def test_sparse_categorical_accuracy_accumulates_over_batches():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(LABELS[:2], mgp.tensor(PROBS[:2]))  # 1 of 2
    assert m.result() == pytest.approx(0.5)
    m.update_state(LABELS[2:, None].astype(f32), PROBS[2:])  # (N, 1) float labels: 1 of 2
    assert m.result() == pytest.approx(0.5)
    m.update_state([0], [[0.9, 0.05, 0.05]])
    assert m.result() == pytest.approx(3 / 5)
    m.reset_state()
    assert m(LABELS, PROBS, sample_weight=[1, 3, 1, 0]) == pytest.approx(2 / 5)
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) do not fit predictions of "
                                         r"shape \(4, 3\)"):
        m.update_state(LABELS[:3], PROBS)


def test_categorical_accuracy():
    m = metrics.CategoricalAccuracy()
    assert m(ONE_HOT, PROBS) == pytest.approx(0.5)
    assert m.name == "categorical_accuracy"
    with pytest.raises(ValueError, match="use sparse_categorical_accuracy"):
        m.update_state(LABELS, PROBS)


def test_binary_accuracy_and_threshold():
    y = np.array([1, 0, 1, 0])
    p = np.array([[0.6], [0.4], [0.3], [0.7]], f32)
    assert metrics.BinaryAccuracy()(y, p) == pytest.approx(0.5)  # (N,) labels, (N, 1) preds
    assert metrics.BinaryAccuracy(threshold=0.25)(y[:, None], mgp.tensor(p)) == \
        pytest.approx(0.5)
    assert metrics.BinaryAccuracy(threshold=0.65)(y, p) == pytest.approx(0.25)
    # several outputs per sample: a per-sample mean first
    m = metrics.BinaryAccuracy()
    m.update_state([[1, 1], [0, 1]], [[0.9, 0.2], [0.1, 0.8]])
    assert m.result() == pytest.approx(0.75) and m.count == 2


def test_accuracy_regression_metrics():
    assert metrics.Accuracy()([[1], [2]], [[1], [3]]) == pytest.approx(0.5)
    t = np.array([[1.0, 2.0], [0.0, -1.0]], f32)
    p = np.array([[1.5, 0.0], [0.2, 1.0]], f32)
    assert metrics.MeanSquaredError()(t, mgp.tensor(p)) == pytest.approx(((p - t) ** 2).mean())
    assert metrics.MeanAbsoluteError()(t, p) == pytest.approx(np.abs(p - t).mean())
    assert metrics.MeanAbsoluteError()([1.0, 2.0], [[1.5], [2.0]]) == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"y_true has shape \(2, 3\) but y_pred has shape "
                                         r"\(2, 2\)"):
        metrics.MeanSquaredError()(np.zeros((2, 3)), p)


def test_results_are_python_floats_and_graph_free():
    x = mgp.tensor(PROBS, requires_grad=True)
    m = metrics.SparseCategoricalAccuracy()
    r = m(LABELS, x * 1.0)
    assert type(r) is float and x.grad is None


@pytest.mark.parametrize("loss,cls", [
    ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
    (losses.SparseCategoricalCrossentropy(from_logits=True), metrics.SparseCategoricalAccuracy),
    ("categorical_crossentropy", metrics.CategoricalAccuracy),
    (losses.CategoricalCrossentropy(), metrics.CategoricalAccuracy),
    ("binary_crossentropy", metrics.BinaryAccuracy), ("bce", metrics.BinaryAccuracy),
    (losses.binary_crossentropy, metrics.BinaryAccuracy),
    ("mse", metrics.Accuracy), (None, metrics.Accuracy),
])
def test_accuracy_resolved_by_the_loss(loss, cls):
    m = metrics.get("accuracy", loss=loss)
    assert type(m) is cls and m.name == "accuracy"
    acc = metrics.get("acc", loss=loss)
    assert type(acc) is cls and acc.name == "acc"


@pytest.mark.parametrize("t_shape,p_shape,cls", [
    ((8,), (8, 10), metrics.SparseCategoricalAccuracy),
    ((8, 1), (8, 10), metrics.SparseCategoricalAccuracy),
    ((8, 10), (8, 10), metrics.CategoricalAccuracy),
    ((8, 1), (8, 1), metrics.BinaryAccuracy),
    ((8,), (8, 1), metrics.BinaryAccuracy),
    ((8, 5), (8, 5), metrics.CategoricalAccuracy),  # Keras 3 decides by shapes alone
])
def test_accuracy_resolved_by_shapes_as_keras_3(t_shape, p_shape, cls):
    m = metrics.get("accuracy", loss="binary_crossentropy", y_true=np.zeros(t_shape),
                    y_pred=mgp.tensor(np.zeros(p_shape)))
    assert type(m) is cls and m.name == "accuracy"


def test_get_names_as_keras_logs_them():
    for name, cls in [("mae", metrics.MeanAbsoluteError), ("mse", metrics.MeanSquaredError),
                      ("mean_absolute_error", metrics.MeanAbsoluteError),
                      ("MeanSquaredError", metrics.MeanSquaredError),
                      ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
                      ("binary_accuracy", metrics.BinaryAccuracy), ("mean", metrics.Mean)]:
        m = metrics.get(name)
        assert type(m) is cls and m.name == name
    m = metrics.MeanAbsoluteError()
    assert metrics.get(m) is m and m.name == "mean_absolute_error"
    assert type(metrics.get(metrics.CategoricalAccuracy)) is metrics.CategoricalAccuracy

    def top_is_zero(y_true, y_pred):
        return (np.argmax(y_pred, -1) == 0).astype(f32)
    custom = metrics.get(top_is_zero)
    assert custom.name == "top_is_zero" and custom(LABELS, PROBS) == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"unknown metric 'f1'; known: \['accuracy', 'acc', "):
        metrics.get("f1")
    with pytest.raises(ValueError, match="could not interpret metric identifier 7"):
        metrics.get(7)


def test_config_round_trip():
    for m in [metrics.Mean(name="loss"), metrics.BinaryAccuracy(threshold=0.3),
              metrics.SparseCategoricalAccuracy(name="accuracy"), metrics.MeanSquaredError(),
              metrics.Accuracy()]:
        config = m.get_config()
        assert type(m).from_config(config).get_config() == config
        assert metrics.deserialize(metrics.serialize(m)).get_config() == config
    assert metrics.BinaryAccuracy().get_config() == {"name": "binary_accuracy",
                                                     "dtype": "float32", "threshold": 0.5}
    acc = metrics.Accuracy()
    acc.update_state([[1], [2]], [[1], [3]])
    assert repr(acc) == "<Accuracy name='accuracy' result=0.5>"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name,y_true,y_pred", [
    ("SparseCategoricalAccuracy", LABELS, PROBS),
    ("CategoricalAccuracy", ONE_HOT, PROBS),
    ("BinaryAccuracy", ONE_HOT, PROBS),
    ("Accuracy", np.array([[1], [2], [2], [0]]), np.array([[1], [3], [2], [1]])),
    ("MeanSquaredError", ONE_HOT, PROBS),
    ("MeanAbsoluteError", ONE_HOT, PROBS),
])
def test_matches_keras(name, y_true, y_pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras = oracles.keras()
    k, m = getattr(keras.metrics, name)(), getattr(metrics, name)()
    w = np.array([1.0, 0.5, 2.0, 0.0], f32)
    for sample_weight in (None, w):
        k.update_state(y_true, y_pred, sample_weight=sample_weight)
        m.update_state(y_true, y_pred, sample_weight=sample_weight)
    assert m.result() == pytest.approx(float(keras.ops.convert_to_numpy(k.result())), rel=1e-6)
    assert m.name == k.name
