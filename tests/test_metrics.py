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


# ---- bad input: a clear error naming the metric, raised before its state changes ---------------

def _state(metric):
    """Every accumulator of a metric: its numeric and array attributes."""
    return {k: np.array(v, copy=True) for k, v in vars(metric).items()
            if isinstance(v, (float, int, np.ndarray)) and not isinstance(v, bool)}


B_TRUE = np.array([[1, 0], [0, 1], [1, 1]], f32)
B_PRED = np.array([[0.8, 0.3], [0.4, 0.6], [0.9, 0.1]], f32)
GOOD = (B_TRUE, B_PRED)
SPARSE = ([0, 1, 1], B_PRED)
# one row per case: (metric, a batch it accepts or None, the batch it refuses, error, message)
BAD_UPDATES = [
    (lambda: metrics.Precision(name="p"), GOOD, (B_TRUE[:, :1], B_PRED), ValueError,
     r"Precision 'p': y_true has shape \(3, 1\) but y_pred has shape \(3, 2\)"),
    (lambda: metrics.AUC(), GOOD, (B_TRUE, B_PRED, np.ones(4)), ValueError,
     r"AUC 'auc.*': sample_weight of shape \(4,\) does not fit predictions of shape \(3, 2\)"),
    (lambda: metrics.AUC(multi_label=True), None, (B_TRUE[:, 0], B_PRED[:, 0]), ValueError,
     r"y_pred must have rank 2 \(samples, labels\) when multi_label=True, got shape \(3,\)"),
    (lambda: metrics.AUC(multi_label=True), GOOD, (B_TRUE[:, :1], B_PRED[:, :1]), ValueError,
     r"AUC 'auc.*': y_pred has 1 labels, expected 2"),
    (lambda: metrics.Recall(class_id=1), GOOD, (B_TRUE[:, 0], B_PRED[:, 0]), ValueError,
     r"Recall 'recall.*': class_id 1 needs predictions of shape \(samples, classes\)"),
    (lambda: metrics.TruePositives(), GOOD, (np.full((3, 2), "y"), B_PRED), TypeError,
     r"TruePositives 'true_positives.*': y_true must hold numbers, got dtype <U1"),
    (lambda: metrics.SparseTopKCategoricalAccuracy(k=1), SPARSE, ([0, 1, 2], B_PRED),
     ValueError, r"SparseTopKCategoricalAccuracy 'sparse_top_k_categorical_accuracy': "
                 r"sparse_top_k_categorical_accuracy: labels must lie in \[0, 2\) for "
                 r"predictions with 2 classes, got values from 0 to 2"),
    (lambda: metrics.SparseTopKCategoricalAccuracy(), SPARSE, ([0, 1.5, 1], B_PRED), ValueError,
     r"expects integer class labels, got non-integer values such as 1.5"),
    (lambda: metrics.TopKCategoricalAccuracy(), GOOD, ([0, 1, 1], B_PRED), ValueError,
     r"TopKCategoricalAccuracy 'top_k_categorical_accuracy': top_k_categorical_accuracy "
     r"expects one-hot labels .* use sparse_top_k_categorical_accuracy"),
    (lambda: metrics.MeanSquaredError(name="mse"), GOOD, (B_TRUE, B_PRED, np.ones(5)),
     ValueError, r"MeanSquaredError 'mse': sample_weight of shape \(5,\) does not fit values "
                 r"of shape \(3,\)"),
    (lambda: metrics.KLDivergence(), GOOD, (B_TRUE, B_PRED[:2]), ValueError,
     r"KLDivergence 'kl_divergence': kl_divergence: y_true has shape \(3, 2\) but y_pred has "
     r"shape \(2, 2\)"),
    (lambda: metrics.SparseCategoricalCrossentropy(), SPARSE, ([0, 1, 3], B_PRED), ValueError,
     r"labels must lie in \[0, 2\)"),
    (lambda: metrics.RootMeanSquaredError(), GOOD, (B_TRUE, B_PRED[:, :1]), ValueError,
     r"RootMeanSquaredError 'root_mean_squared_error': y_true has shape \(3, 2\)"),
    (lambda: metrics.R2Score(), GOOD, (B_TRUE[:, 0], B_PRED[:, 0] * [[1], [1]]), ValueError,
     r"R2Score 'r2_score' expects y_true and y_pred of the same shape"),
    (lambda: metrics.R2Score(), GOOD, (B_TRUE[:, :1], B_PRED[:, :1]), ValueError,
     r"R2Score 'r2_score': got 1 output columns, expected 2"),
    (lambda: metrics.F1Score(), GOOD, (B_TRUE, B_PRED, np.ones(2)), ValueError,
     r"F1Score 'f1_score': sample_weight of shape \(2,\) does not fit 3 samples"),
    (lambda: metrics.MeanIoU(num_classes=2), ([0, 1, 1], [0, 1, 0]), ([0, 1, 1], [0, 1]),
     ValueError, r"MeanIoU 'mean_io_u.*': y_true has 3 entries but y_pred has 2"),
    (lambda: metrics.Mean(), ([1.0, 2.0],), (np.full(3, "v"),), TypeError,
     r"Mean 'mean': values must hold numbers"),
    (lambda: metrics.Sum(), ([1.0, 2.0],), ([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError,
     r"Sum 'sum': sample_weight of shape \(3,\) does not fit values of shape \(2,\)"),
    (lambda: metrics.PearsonCorrelation(), GOOD, (B_TRUE, B_PRED[:, :1]), ValueError,
     r"pearson_correlation: y_true has shape \(3, 2\)"),
]


@pytest.mark.parametrize("make,good,bad,error,message", BAD_UPDATES,
                         ids=[f"row{i}" for i in range(len(BAD_UPDATES))])
def test_bad_input_leaves_the_state_unchanged(make, good, bad, error, message):
    metric = make()
    if good is not None:
        metric.update_state(*good)
    before, result = _state(metric), metric.result()
    with pytest.raises(error, match=message):
        metric.update_state(*bad)
    after = _state(metric)
    assert after.keys() == before.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)
    np.testing.assert_array_equal(metric.result(), result)


@pytest.mark.parametrize("make,message", [
    (lambda: metrics.Precision(thresholds=1.5), r"thresholds must lie in \[0, 1\], got \[1.5\]"),
    (lambda: metrics.Recall(thresholds=[0.5, -0.1]), r"got \[-0.1\]"),
    (lambda: metrics.TruePositives(thresholds=[2]), r"thresholds must lie in \[0, 1\]"),
    (lambda: metrics.AUC(thresholds=[0.5, 1.2]), r"AUC: thresholds must lie in \[0, 1\]"),
    (lambda: metrics.AUC(num_thresholds=1), r"num_thresholds must be an integer > 1, got 1"),
    (lambda: metrics.AUC(curve="LIFT"), r"curve must be one of \['ROC', 'PR', 'PRGAIN'\]"),
    (lambda: metrics.AUC(summation_method="simpson"), r"summation_method must be one of"),
    (lambda: metrics.AUC(num_labels=3), r"num_labels is needed only when multi_label is True"),
    (lambda: metrics.SensitivityAtSpecificity(1.2), r"specificity must lie in \[0, 1\]"),
    (lambda: metrics.PrecisionAtRecall(-0.5), r"recall must lie in \[0, 1\]"),
    (lambda: metrics.RecallAtPrecision(0.5, num_thresholds=0), r"num_thresholds must be an "
                                                               r"integer > 0, got 0"),
    (lambda: metrics.F1Score(threshold=1.5), r"threshold must be a Python float in \(0, 1\]"),
    (lambda: metrics.FBetaScore(beta=2), r"beta must be a Python float > 0, got 2"),
    (lambda: metrics.FBetaScore(average="samples"), r"average must be None, 'micro'"),
    (lambda: metrics.R2Score(class_aggregation="max"), r"class_aggregation must be None"),
    (lambda: metrics.IoU(3, [0, 3]), r"target_class_ids must be classes in \[0, 3\), got "
                                     r"\[0, 3\]"),
    (lambda: metrics.MeanIoU(0), r"num_classes must be a positive integer, got 0"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ---- results, names, Keras-style subclasses ---------------------------------------------------------

def test_results_are_floats_or_float32_arrays_and_names_are_unique():
    assert type(metrics.AUC()([0, 1, 1], [0.2, 0.7, 0.6])) is float
    per_threshold = metrics.Precision(thresholds=[0.3, 0.5])([0, 1, 1], [0.4, 0.7, 0.2])
    assert per_threshold.dtype == np.float32 and per_threshold.shape == (2,)
    np.testing.assert_allclose(per_threshold, [0.5, 1.0])
    per_class = metrics.F1Score()(np.eye(3)[[0, 1, 2, 2]], np.eye(3)[[0, 2, 2, 2]])
    assert per_class.shape == (3,)
    first, second = metrics.AUC(), metrics.AUC()
    assert first.name != second.name and second.name.startswith("auc_")
    assert repr(metrics.Precision(thresholds=[0.3, 0.5], name="p")) == \
        "<Precision name='p' result=[0. 0.]>"


def test_get_knows_every_class_by_name_and_refuses_ones_that_need_arguments():
    assert type(metrics.get("top_k_categorical_accuracy")) is metrics.TopKCategoricalAccuracy
    assert type(metrics.get("log_cosh_error")) is metrics.LogCoshError
    huber = metrics.get("huber")
    assert type(huber) is metrics.MeanMetricWrapper and huber.name == "huber"
    assert huber([[1.0, 2.0]], [[1.5, 4.0]]) == pytest.approx((0.125 + 1.5) / 2)
    with pytest.raises(ValueError, match=r"metric 'mean_io_u' \(MeanIoU\) needs arguments: "
                                         r"create it yourself"):
        metrics.get("mean_io_u")


def test_a_metric_written_for_keras_runs():
    class BinaryTruePositives(metrics.Metric):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), initializer="zeros",
                                                    name="true_positives")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = (np.asarray(y_true) == 1) & (np.asarray(y_pred) > 0.5)
            self.true_positives.assign_add(float(hits.sum()))

        def result(self):
            return self.true_positives

    m = BinaryTruePositives()
    m.update_state([1, 0, 1], [0.9, 0.8, 0.7])
    m.update_state([1], [0.2])
    assert float(m.result()) == 2.0 and len(m.variables) == 1
    m.reset_state()
    assert float(m.result()) == 0.0
    assert m.get_config() == {"name": "binary_true_positives", "dtype": "float32"}


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


@pytest.mark.parametrize("make", [
    metrics.AUC, lambda: metrics.Precision(thresholds=[0.3, 0.7]), metrics.BinaryAccuracy,
    metrics.BinaryCrossentropy, metrics.RootMeanSquaredError, metrics.R2Score, metrics.F1Score,
    lambda: metrics.OneHotMeanIoU(2, dtype="float32"), metrics.PearsonCorrelation, metrics.Hinge,
    metrics.LogCoshError, lambda: metrics.SensitivityAtSpecificity(0.5),
], ids=lambda m: getattr(m, "__name__", "configured"))
def test_metrics_take_device_tensors(cuda, make):
    weights = np.array([1.0, 0.5, 2.0], f32)
    mgp.set_device("cpu")
    expected = make()(B_TRUE, mgp.tensor(B_PRED), sample_weight=weights)
    mgp.set_device("cuda")
    metric = make()
    got = metric(mgp.tensor(B_TRUE), mgp.tensor(B_PRED), sample_weight=mgp.tensor(weights))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
