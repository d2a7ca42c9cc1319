"""Every metric against Keras 3.15 (torch backend): the same batches (several update_state calls,
with and without sample weights, masks) give the same result, reset_state starts over, and
configs cross between the two frameworks both ways."""
import warnings

import numpy as np
import pytest

import oracles

import mgp
from mgp import metrics

f32 = np.float32
rng = np.random.default_rng(0)
N, C = 12, 4
LOGITS = (rng.standard_normal((N, C)) * 2).astype(f32)
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
SIGMOID = (1 / (1 + np.exp(-LOGITS))).astype(f32)
SIGMOID[0, 0], SIGMOID[1, 1], SIGMOID[2, 2] = 0.5, 0.0, 1.0  # on the thresholds' edges
LABELS = rng.integers(0, C, N)
ONE_HOT = np.eye(C, dtype=f32)[LABELS]
BINARY = rng.integers(0, 2, (N, C)).astype(f32)
TARGETS = (rng.random((N, C)) * 3).astype(f32)
OUTPUTS = (rng.random((N, C)) * 3).astype(f32)
SEG_TRUE = rng.integers(0, 3, (N, 5))
SEG_PRED = rng.integers(0, 3, (N, 5))
SEG_TRUE[0, 0], SEG_PRED[1, 1] = 7, -1  # out of range: left out, as Keras does
WEIGHTS = rng.random(N).astype(f32)
INT_WEIGHTS = rng.integers(0, 3, N)
BATCHES = [slice(0, 5), slice(5, 9), slice(9, 12)]

# one row per case: (class name, constructor arguments, y_true, y_pred)
CASES = [
    ("Accuracy", {}, LABELS, PROBS.argmax(-1)),
    ("BinaryAccuracy", {}, BINARY, SIGMOID),
    ("BinaryAccuracy", {"threshold": 0.3}, BINARY, SIGMOID),
    ("CategoricalAccuracy", {}, ONE_HOT, PROBS),
    ("SparseCategoricalAccuracy", {}, LABELS, PROBS),
    ("TopKCategoricalAccuracy", {"k": 2}, ONE_HOT, PROBS),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, LABELS, PROBS),
    ("SparseTopKCategoricalAccuracy", {"k": 2, "from_sorted_ids": True}, LABELS,
     np.argsort(-PROBS, axis=-1)),
    ("TruePositives", {}, BINARY, SIGMOID),
    ("FalsePositives", {"thresholds": [0.2, 0.5, 0.8]}, BINARY, SIGMOID),
    ("TrueNegatives", {"thresholds": [0.0, 0.5, 1.0]}, BINARY, SIGMOID),
    ("FalseNegatives", {"thresholds": 0.3}, BINARY, SIGMOID),
    ("Precision", {}, BINARY, SIGMOID),
    ("Precision", {"thresholds": [0.3, 0.6]}, BINARY, SIGMOID),
    ("Precision", {"top_k": 2}, BINARY, SIGMOID),
    ("Precision", {"top_k": 2, "class_id": 2}, BINARY, SIGMOID),
    ("Recall", {"class_id": 1}, BINARY, SIGMOID),
    ("Recall", {"thresholds": [0.9, 0.1, 0.5]}, BINARY, SIGMOID),
    ("Recall", {"top_k": 1}, BINARY, SIGMOID),
    ("PrecisionAtRecall", {"recall": 0.5}, BINARY, SIGMOID),
    ("PrecisionAtRecall", {"recall": 0.8, "num_thresholds": 7, "class_id": 1}, BINARY, SIGMOID),
    ("RecallAtPrecision", {"precision": 0.6}, BINARY, SIGMOID),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, BINARY, SIGMOID),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5, "num_thresholds": 1}, BINARY, SIGMOID),
    ("AUC", {}, BINARY, SIGMOID),
    ("AUC", {"curve": "PR"}, BINARY, SIGMOID),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, BINARY, SIGMOID),
    ("AUC", {"summation_method": "minoring", "num_thresholds": 13}, BINARY, SIGMOID),
    ("AUC", {"curve": "PRGAIN"}, BINARY, SIGMOID),
    ("AUC", {"multi_label": True}, BINARY, SIGMOID),
    ("AUC", {"multi_label": True, "num_labels": 4, "label_weights": [1, 2, 0, 1],
             "curve": "PR"}, BINARY, SIGMOID),
    ("AUC", {"label_weights": [1, 2, 0, 1]}, BINARY, SIGMOID),
    ("AUC", {"from_logits": True}, BINARY, LOGITS),
    ("AUC", {"thresholds": [0.2, 0.5, 0.7]}, BINARY, SIGMOID),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75]}, BINARY, SIGMOID),
    ("AUC", {}, BINARY[:, 0], SIGMOID[:, 0]),
    ("MeanSquaredError", {}, TARGETS, OUTPUTS),
    ("RootMeanSquaredError", {}, TARGETS, OUTPUTS),
    ("MeanAbsoluteError", {}, TARGETS, OUTPUTS),
    ("MeanAbsolutePercentageError", {}, TARGETS, OUTPUTS),
    ("MeanSquaredLogarithmicError", {}, TARGETS, OUTPUTS),
    ("LogCoshError", {}, TARGETS, OUTPUTS),
    ("CosineSimilarity", {}, TARGETS, OUTPUTS - 1),
    ("R2Score", {}, TARGETS, OUTPUTS),
    ("R2Score", {"class_aggregation": None}, TARGETS, OUTPUTS),
    ("R2Score", {"class_aggregation": "variance_weighted_average", "num_regressors": 2},
     TARGETS, OUTPUTS),
    ("PearsonCorrelation", {}, TARGETS, OUTPUTS),
    ("ConcordanceCorrelation", {}, TARGETS, OUTPUTS),
    ("F1Score", {}, ONE_HOT, PROBS),
    ("F1Score", {"average": "micro"}, BINARY, SIGMOID),
    ("F1Score", {"average": "macro", "threshold": 0.5}, BINARY, SIGMOID),
    ("FBetaScore", {"beta": 2.0, "average": "weighted"}, BINARY, SIGMOID),
    ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, SEG_TRUE, SEG_PRED),
    ("MeanIoU", {"num_classes": 3}, SEG_TRUE, SEG_PRED),
    ("MeanIoU", {"num_classes": 3, "ignore_class": 1}, SEG_TRUE, SEG_PRED),
    ("MeanIoU", {"num_classes": 4, "sparse_y_pred": False, "dtype": "float32"}, LABELS, PROBS),
    ("BinaryIoU", {}, BINARY, SIGMOID),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, BINARY, SIGMOID),
    ("OneHotIoU", {"num_classes": 4, "target_class_ids": [1, 3]}, ONE_HOT, PROBS),
    ("OneHotMeanIoU", {"num_classes": 4}, ONE_HOT, PROBS),
    ("KLDivergence", {}, ONE_HOT * 0.7 + 0.1, PROBS),
    ("Poisson", {}, TARGETS, OUTPUTS),
    ("BinaryCrossentropy", {}, BINARY, SIGMOID),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, BINARY, LOGITS),
    ("CategoricalCrossentropy", {}, ONE_HOT, PROBS),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, ONE_HOT, LOGITS),
    ("SparseCategoricalCrossentropy", {}, LABELS, PROBS),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, LABELS, PROBS),
    ("Hinge", {}, BINARY, LOGITS),
    ("SquaredHinge", {}, BINARY, LOGITS),
    ("CategoricalHinge", {}, ONE_HOT, LOGITS),
]


def _keras():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return oracles.keras()


def _run(metric, y_true, y_pred, weights):
    for batch in BATCHES:
        metric.update_state(y_true[batch], y_pred[batch],
                            sample_weight=None if weights is None else weights[batch])
    return metric.result()


def _id(case):
    return f"{case[0]}-{'-'.join(map(str, case[1].values())) or 'default'}"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore:.*float sample weights are cast")
@pytest.mark.parametrize("name,kwargs,y_true,y_pred", CASES, ids=[_id(c) for c in CASES])
def test_results_match_keras_over_batches(name, kwargs, y_true, y_pred):
    keras = _keras()
    per_sample = "IoU" not in name or y_true.ndim == 1  # Keras cannot weigh pixels by sample
    for weights in (None, WEIGHTS, INT_WEIGHTS) if per_sample else (None,):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = keras.ops.convert_to_numpy(_run(getattr(keras.metrics, name)(**kwargs),
                                                       y_true, y_pred, weights))
        metric = getattr(metrics, name)(**kwargs)
        got = _run(metric, y_true, y_pred, weights)
        assert np.shape(got) == np.shape(expected)
        assert isinstance(got, float) if np.ndim(expected) == 0 else got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6,
                                   err_msg=f"weighted: {weights is not None}")
        # reset_state starts over: the same batches again give the same result
        metric.reset_state()
        np.testing.assert_allclose(_run(metric, y_true, y_pred, weights), got, rtol=1e-12)


SEQ_PROBS = rng.dirichlet(np.ones(5), (3, 4)).astype(f32)
SEQ_LABELS = rng.integers(0, 5, (3, 4))
MASK = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)
STEP_WEIGHTS = rng.random((3, 4)).astype(f32)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name,kwargs,y_true", [
    ("SparseCategoricalAccuracy", {}, SEQ_LABELS),
    ("CategoricalAccuracy", {}, np.eye(5, dtype=f32)[SEQ_LABELS]),
    ("MeanSquaredError", {}, np.eye(5, dtype=f32)[SEQ_LABELS]),
    ("SparseCategoricalCrossentropy", {}, SEQ_LABELS),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, SEQ_LABELS),
    ("KLDivergence", {}, np.eye(5, dtype=f32)[SEQ_LABELS]),
])
def test_a_mask_on_y_pred_counts_as_in_keras(name, kwargs, y_true):
    keras = _keras()
    torch = oracles.torch()
    from keras.src.backend import set_keras_mask
    k_pred = torch.tensor(SEQ_PROBS)
    set_keras_mask(k_pred, torch.tensor(MASK))
    m_pred = mgp.tensor(SEQ_PROBS)
    m_pred._keras_mask = MASK
    for weights in (None, STEP_WEIGHTS):
        k, m = getattr(keras.metrics, name)(**kwargs), getattr(metrics, name)(**kwargs)
        for _ in range(2):
            k.update_state(y_true, k_pred, sample_weight=weights)
            m.update_state(y_true, m_pred, sample_weight=weights)
        assert m.result() == pytest.approx(float(keras.ops.convert_to_numpy(k.result())),
                                           rel=1e-5)


CONFIG_CASES = [
    ("Mean", {}), ("Sum", {}), ("Accuracy", {}), ("BinaryAccuracy", {"threshold": 0.2}),
    ("CategoricalAccuracy", {}), ("SparseCategoricalAccuracy", {}),
    ("TopKCategoricalAccuracy", {"k": 3}),
    ("SparseTopKCategoricalAccuracy", {"k": 2, "from_sorted_ids": True}),
    ("TruePositives", {"thresholds": [0.1, 0.9]}), ("FalsePositives", {}),
    ("TrueNegatives", {"thresholds": 0.7}), ("FalseNegatives", {}),
    ("Precision", {"thresholds": [0.4], "top_k": 3, "class_id": 1}), ("Recall", {"top_k": 1}),
    ("PrecisionAtRecall", {"recall": 0.3, "num_thresholds": 50, "class_id": 2}),
    ("RecallAtPrecision", {"precision": 0.9}),
    ("SensitivityAtSpecificity", {"specificity": 0.4}),
    ("SpecificityAtSensitivity", {"sensitivity": 0.6, "num_thresholds": 10}),
    ("AUC", {"num_thresholds": 50, "curve": "PR", "summation_method": "majoring",
             "multi_label": True, "num_labels": 3, "from_logits": True}),
    ("AUC", {"thresholds": [0.3, 0.6]}),
    ("MeanSquaredError", {}), ("RootMeanSquaredError", {}), ("MeanAbsoluteError", {}),
    ("MeanAbsolutePercentageError", {}), ("MeanSquaredLogarithmicError", {}),
    ("LogCoshError", {}), ("CosineSimilarity", {}),
    ("R2Score", {"class_aggregation": None, "num_regressors": 3}),
    ("PearsonCorrelation", {"axis": 0}), ("ConcordanceCorrelation", {}),
    ("F1Score", {"average": "macro", "threshold": 0.4}),
    ("FBetaScore", {"average": "weighted", "beta": 0.5}),
    ("IoU", {"num_classes": 4, "target_class_ids": [1, 2], "ignore_class": 0,
             "sparse_y_pred": False}),
    ("MeanIoU", {"num_classes": 3, "sparse_y_true": False}),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.7}),
    ("OneHotIoU", {"num_classes": 3, "target_class_ids": [0]}),
    ("OneHotMeanIoU", {"num_classes": 5, "sparse_y_pred": True}),
    ("KLDivergence", {}), ("Poisson", {}),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2, "axis": 0}),
    ("SparseCategoricalCrossentropy", {"ignore_class": 3, "from_logits": True}),
    ("Hinge", {}), ("SquaredHinge", {}), ("CategoricalHinge", {}),
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name,kwargs", CONFIG_CASES, ids=[_id(c) for c in CONFIG_CASES])
def test_configs_round_trip_and_cross_with_keras(name, kwargs):
    keras = _keras()
    metric = getattr(metrics, name)(name="custom", **kwargs)
    config = metric.get_config()
    assert type(metric).from_config(config).get_config() == config
    assert metrics.deserialize(metrics.serialize(metric)).get_config() == config
    # the same config as Keras's, where Keras keeps every argument in it
    k_made = getattr(keras.metrics, name)(name="custom", **kwargs)
    k_config = k_made.get_config()
    if name != "CosineSimilarity":  # Keras leaves axis out of CosineSimilarity's config
        assert config == {k: v.tolist() if hasattr(v, "tolist") else v
                          for k, v in k_config.items()}
    # both ways through serialize / deserialize
    k_back = keras.metrics.deserialize(metrics.serialize(metric))
    assert type(k_back).__name__ == name and k_back.get_config() == k_config
    back = metrics.deserialize(keras.metrics.serialize(k_made))
    assert type(back).__name__ == name and back.get_config() == config


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_mean_metric_wrapper_serializes_its_function_as_keras_does():
    keras = _keras()
    wrapper = metrics.MeanMetricWrapper(metrics.mean_squared_logarithmic_error, name="msle")
    k_wrapper = keras.metrics.deserialize(metrics.serialize(wrapper))
    assert k_wrapper._fn is keras.metrics.mean_squared_logarithmic_error
    back = metrics.deserialize(keras.metrics.serialize(k_wrapper))
    assert back._fn is metrics.mean_squared_logarithmic_error and back.name == "msle"
    back = metrics.deserialize(keras.metrics.serialize(
        keras.metrics.MeanMetricWrapper(keras.metrics.sparse_top_k_categorical_accuracy, k=2)))
    assert back._fn is metrics.sparse_top_k_categorical_accuracy and back._fn_kwargs == {"k": 2}
    assert back(LABELS, PROBS) == pytest.approx(
        float(keras.ops.mean(keras.metrics.sparse_top_k_categorical_accuracy(
            keras.ops.convert_to_tensor(LABELS), keras.ops.convert_to_tensor(PROBS), k=2))))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("fn,kwargs,y_true,y_pred", [
    ("binary_accuracy", {"threshold": 0.7}, BINARY, SIGMOID),
    ("categorical_accuracy", {}, ONE_HOT, PROBS),
    ("sparse_categorical_accuracy", {}, LABELS[:, None], PROBS),
    ("top_k_categorical_accuracy", {"k": 3}, ONE_HOT, PROBS),
    ("sparse_top_k_categorical_accuracy", {"k": 1}, LABELS, PROBS),
    ("pearson_correlation", {"axis": 0}, TARGETS, OUTPUTS),
    ("concordance_correlation", {}, TARGETS, OUTPUTS),
    ("huber", {}, TARGETS, OUTPUTS),
], ids=lambda v: v if isinstance(v, str) else None)
def test_metric_functions_match_keras(fn, kwargs, y_true, y_pred):
    keras = _keras()
    expected = keras.ops.convert_to_numpy(getattr(keras.metrics, fn)(
        keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(y_pred), **kwargs))
    got = getattr(metrics, fn)(y_true, y_pred, **kwargs)
    assert isinstance(got, mgp.Tensor)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_names_resolve_to_the_classes_keras_resolves():
    keras = _keras()
    for name in ["auc", "AUC", "precision", "recall", "true_positives", "mse", "MAE", "mape",
                 "msle", "bce", "r2_score", "f1_score", "log_cosh_error", "kl_divergence",
                 "root_mean_squared_error", "top_k_categorical_accuracy", "sum", "mean",
                 "categorical_hinge", "poisson", "pearson_correlation"]:
        ours = metrics.get(name)
        assert type(ours).__name__ == type(keras.metrics.get(name)).__name__, name
        assert ours.name == name  # named as compile names it


def test_every_keras_metric_name_is_here_as_the_same_kind_of_object():
    keras = _keras()
    import inspect
    names = [n for n in dir(keras.metrics) if not n.startswith("_")]
    assert len(names) == 72
    for name in names:  # e.g. metrics.hinge is the function, not the module of hinge metrics
        theirs, ours = getattr(keras.metrics, name), getattr(metrics, name)
        assert inspect.isclass(ours) == inspect.isclass(theirs), name
        assert inspect.isfunction(ours) == inspect.isfunction(theirs), name
