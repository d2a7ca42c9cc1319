"""Metrics as Keras names them: stateful objects that accumulate over batches
(`update_state`, `result`, `reset_state`), computed on the host outside the autograd graph.

By family, in modules named as Keras names its own: `metric` (the base class),
`reduction_metrics` (Sum, Mean, MeanMetricWrapper), `accuracy_metrics`, `confusion_metrics`
(counts, Precision, Recall, rates at a constraint), `auc_metrics`, `regression_metrics`,
`correlation_metrics`, `iou_metrics`, `f_score_metrics`, `probabilistic_metrics`,
`hinge_metrics`. The per-sample functions Keras lists here (`mgp.metrics.mean_squared_error`,
...) are the losses' functions; the accuracy and correlation functions return Tensors too.
"""
from mgp import losses
from mgp.losses import (  # noqa: F401  (Keras lists these functions under metrics too)
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge,
)
from mgp.metrics.metric import Metric  # noqa: F401
from mgp.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum  # noqa: F401
from mgp.metrics.accuracy_metrics import (  # noqa: F401
    accuracy, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, binary_accuracy, categorical_accuracy,
    sparse_categorical_accuracy, sparse_top_k_categorical_accuracy, top_k_categorical_accuracy,
)
from mgp.metrics.confusion_metrics import (  # noqa: F401
    FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives,
)
from mgp.metrics.auc_metrics import AUC  # noqa: F401
from mgp.metrics.regression_metrics import (  # noqa: F401
    CosineSimilarity, LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredError, MeanSquaredLogarithmicError, R2Score, RootMeanSquaredError,
)
from mgp.metrics.correlation_metrics import (  # noqa: F401
    ConcordanceCorrelation, PearsonCorrelation, concordance_correlation, pearson_correlation,
)
from mgp.metrics.iou_metrics import (  # noqa: F401
    BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
)
from mgp.metrics.f_score_metrics import F1Score, FBetaScore  # noqa: F401
from mgp.metrics.probabilistic_metrics import (  # noqa: F401
    BinaryCrossentropy, CategoricalCrossentropy, KLDivergence, Poisson,
    SparseCategoricalCrossentropy,
)
from mgp.metrics.hinge_metrics import CategoricalHinge, Hinge, SquaredHinge  # noqa: F401
from mgp.layers.base import snake_case

# ============================================= lookup ===============================================

_CLASSES = {cls.__name__: cls for cls in [
    Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    TruePositives, FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall,
    PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, AUC,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score, PearsonCorrelation,
    ConcordanceCorrelation, IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU, F1Score,
    FBetaScore, KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Hinge, SquaredHinge, CategoricalHinge,
]}
# Keras also finds each class by its snake-case name ('auc', 'mean_io_u', 'f1_score')
_SNAKE = {snake_case(name): cls for name, cls in _CLASSES.items()}
_ALIASES = {"bce": BinaryCrossentropy, "mse": MeanSquaredError, "mae": MeanAbsoluteError,
            "mape": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError}
# the per-sample functions, found by name (a metric of a function's name wraps it)
_FUNCTIONS = {fn.__name__: fn for fn in [
    binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, pearson_correlation,
    concordance_correlation, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy, categorical_hinge, hinge, huber,
    kl_divergence, log_cosh, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_error, mean_squared_logarithmic_error, poisson,
    sparse_categorical_crossentropy, squared_hinge,
]}


def get(identifier, loss=None, y_true=None, y_pred=None):
    """A Metric from a name, a config dict, a Metric class or object, or a per-sample function.

    A name gives a metric of that name, as Keras's `compile` names them (History keys `mae`,
    `mse`, `accuracy`, `acc`, `auc`); class names, their snake-case forms ('auc',
    'top_k_categorical_accuracy'), Keras's aliases and the per-sample functions' names are
    known. 'accuracy' / 'acc' picks the accuracy that fits the problem: with `y_true` and
    `y_pred` (anything with a `.shape`, e.g. the first batch) by Keras 3's rule (predictions
    with last axis 1: BinaryAccuracy; labels of lower rank or with last axis 1:
    SparseCategoricalAccuracy; else CategoricalAccuracy); otherwise by the `loss` (sparse
    categorical, categorical or binary cross-entropy); otherwise plain `Accuracy`.

    Example:
        >>> mgp.metrics.get("accuracy", loss="sparse_categorical_crossentropy")
        <SparseCategoricalAccuracy name='accuracy' result=0>
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _accuracy_for(loss, y_true, y_pred)(name=identifier)
        if identifier in _FUNCTIONS and _lookup(identifier, required=False) is None:
            return MeanMetricWrapper(_FUNCTIONS[identifier], name=identifier)
        cls = _lookup(identifier)
        try:
            return cls(name=identifier)
        except TypeError:
            raise ValueError(f"metric {identifier!r} ({cls.__name__}) needs arguments: create "
                             f"it yourself, e.g. mgp.metrics.{cls.__name__}(...)") from None
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"could not interpret metric identifier {identifier!r}: expected a name, a "
                     f"config dict, a Metric or a function")


def _lookup(name, required=True):
    cls = _CLASSES.get(name) or _SNAKE.get(name) or _ALIASES.get(str(name).lower())
    if cls is None and required:
        raise ValueError(f"unknown metric {name!r}; known: "
                         f"{['accuracy', 'acc'] + sorted(_ALIASES) + sorted(_SNAKE)}")
    return cls


def _accuracy_for(loss, y_true, y_pred):
    if y_true is not None and y_pred is not None:
        t, p = tuple(y_true.shape), tuple(y_pred.shape)
        if p and p[-1] == 1:
            return BinaryAccuracy
        if len(t) < len(p) or t and t[-1] == 1 and p[-1] > 1:
            return SparseCategoricalAccuracy
        return CategoricalAccuracy
    if isinstance(loss, str):
        loss = losses.get(loss)
    if isinstance(loss, losses.SparseCategoricalCrossentropy) or \
            loss is losses.sparse_categorical_crossentropy:
        return SparseCategoricalAccuracy
    if isinstance(loss, losses.CategoricalCrossentropy) or \
            loss is losses.categorical_crossentropy:
        return CategoricalAccuracy
    if isinstance(loss, losses.BinaryCrossentropy) or loss is losses.binary_crossentropy:
        return BinaryAccuracy
    return Accuracy


def serialize(metric):
    """The metric as Keras's serialized dict (`module`, `class_name`, `config`)."""
    if not isinstance(metric, Metric):
        return losses.serialize_function(metric)
    return {"module": "keras.metrics", "class_name": type(metric).__name__,
            "config": metric.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """A Metric from `serialize`'s dict, mgp's or Keras's."""
    custom_objects = custom_objects or {}
    if isinstance(config, str):
        return custom_objects.get(config) or get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"could not deserialize a metric from {config!r}: expected a dict with "
                         f"'class_name' and 'config'")
    if config["class_name"] == "function":
        return deserialize_function(config, custom_objects)
    name = config["class_name"]
    cls = custom_objects.get(name) or _CLASSES.get(name)
    if cls is None:
        raise ValueError(f"unknown metric class {name!r}; known: {sorted(_CLASSES)} (pass "
                         f"custom classes in custom_objects)")
    return cls.from_config(dict(config.get("config") or {}))


def deserialize_function(config, custom_objects=None):
    """The per-sample function a serialized function dict (or a bare name) names."""
    return losses.deserialize_function(config, custom_objects, known=_FUNCTIONS)
