"""Losses as Keras names them: each as a function `fn(y_true, y_pred, ...)` giving one value per
sample, and as a `Loss` class whose call `loss(y_true, y_pred, sample_weight=None)` weights,
masks and reduces those values to a scalar Tensor.

By family, as Keras groups them: `loss` (the base class, weights, masks, reductions),
`regression`, `probabilistic` (the cross-entropies, KL divergence, Poisson), `hinge_losses`,
`segmentation` (Dice, Tversky), `similarity` (Circle) and `sequence` (CTC).
"""
from mgp.losses.loss import (  # noqa: F401
    EPSILON, REDUCTIONS, Loss, LossFunctionWrapper, apply_mask, reduce_values,
    reduce_weighted_values, squeeze_or_expand_to_same_rank, standardize_reduction,
)
from mgp.losses.regression import (  # noqa: F401
    CosineSimilarity, Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredError, MeanSquaredLogarithmicError, cosine_similarity, huber, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error,
)
from mgp.losses.probabilistic import (  # noqa: F401
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy, KLDivergence, Poisson,
    SparseCategoricalCrossentropy, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy,
    categorical_generalized_cross_entropy, kl_divergence, poisson,
    sparse_categorical_crossentropy,
)
from mgp.losses.hinge_losses import (  # noqa: F401
    CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge,
)
from mgp.losses.segmentation import Dice, Tversky, dice, tversky  # noqa: F401
from mgp.losses.similarity import Circle, circle  # noqa: F401
from mgp.losses.sequence import CTC, ctc  # noqa: F401

# ============================================ lookup ================================================

_CLASSES = {cls.__name__: cls for cls in [
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity, Huber, LogCosh, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy, KLDivergence, Poisson, Hinge, SquaredHinge,
    CategoricalHinge, Dice, Tversky, Circle, CTC, LossFunctionWrapper,
]}

# each function, by its name, and the class that wraps it
_FUNCTIONS = {fn.__name__: (fn, cls) for fn, cls in [
    (mean_squared_error, MeanSquaredError), (mean_absolute_error, MeanAbsoluteError),
    (mean_absolute_percentage_error, MeanAbsolutePercentageError),
    (mean_squared_logarithmic_error, MeanSquaredLogarithmicError),
    (cosine_similarity, CosineSimilarity), (huber, Huber), (log_cosh, LogCosh),
    (categorical_crossentropy, CategoricalCrossentropy),
    (sparse_categorical_crossentropy, SparseCategoricalCrossentropy),
    (binary_crossentropy, BinaryCrossentropy),
    (binary_focal_crossentropy, BinaryFocalCrossentropy),
    (categorical_focal_crossentropy, CategoricalFocalCrossentropy),
    (categorical_generalized_cross_entropy, CategoricalGeneralizedCrossEntropy),
    (kl_divergence, KLDivergence), (poisson, Poisson), (hinge, Hinge),
    (squared_hinge, SquaredHinge), (categorical_hinge, CategoricalHinge), (dice, Dice),
    (tversky, Tversky), (circle, Circle), (ctc, CTC),
]}

# Keras's short names (each also in capitals)
_ALIASES = {"bce": "binary_crossentropy", "kld": "kl_divergence", "mae": "mean_absolute_error",
            "mse": "mean_squared_error", "mape": "mean_absolute_percentage_error",
            "msle": "mean_squared_logarithmic_error"}


def get(identifier):
    """A Loss from a name ('mse', 'categorical_crossentropy', 'CategoricalCrossentropy'), a
    config dict (`{"class_name": ..., "config": {...}}`), a Loss class, or a Loss or function
    (returned as is; a function gives per-sample values, wrap it in `LossFunctionWrapper` to
    reduce them).

    Unlike Keras, which returns the function for a function's name, a name always gives a Loss
    instance here, so `get(name)(y_true, y_pred)` is the scalar loss.

    Example:
        >>> mgp.losses.get("kld")
        KLDivergence(name='kl_divergence', reduction='sum_over_batch_size')
    """
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise ValueError(f"could not interpret loss identifier {identifier!r}: expected a name, a "
                     f"config dict, a Loss or a function")


def _lookup(name):
    """The Loss class of a class name, function name or alias."""
    if name in _CLASSES and name != "LossFunctionWrapper":
        return _CLASSES[name]
    key = _ALIASES.get(str(name).lower(), name)
    if key in _FUNCTIONS:
        return _FUNCTIONS[key][1]
    raise ValueError(f"unknown loss {name!r}; known: "
                     f"{sorted(_ALIASES) + sorted(_FUNCTIONS) + sorted(_CLASSES)}")


def serialize(loss):
    """The loss as Keras's serialized dict (`module`, `class_name`, `config`); a function as
    Keras writes a function."""
    if not isinstance(loss, Loss):
        return serialize_function(loss)
    return {"module": "keras.losses", "class_name": type(loss).__name__,
            "config": loss.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """A Loss (or loss function) from `serialize`'s dict, mgp's or Keras's."""
    custom_objects = custom_objects or {}
    if isinstance(config, str):
        return custom_objects.get(config) or get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"could not deserialize a loss from {config!r}: expected a dict with "
                         f"'class_name' and 'config'")
    if config["class_name"] == "function":
        return deserialize_function(config, custom_objects)
    name = config["class_name"]
    cls = custom_objects.get(name) or _CLASSES.get(name)
    if cls is None:
        raise ValueError(f"unknown loss class {name!r}; known: {sorted(_CLASSES)} (pass custom "
                         f"classes in custom_objects)")
    return cls.from_config(dict(config.get("config") or {}))


def serialize_function(fn):
    """A function as Keras serializes one: found again by its name."""
    name = getattr(fn, "__name__", None)
    if name is None or name == "<lambda>":
        raise ValueError(f"cannot serialize {fn!r}: only named functions can be saved")
    return {"module": "builtins", "class_name": "function", "config": name,
            "registered_name": "function"}


def deserialize_function(config, custom_objects=None, known=None):
    """The function a `serialize_function` dict (or a bare name) names: from `custom_objects`,
    else from `known` (name -> function; by default the loss functions)."""
    name = config.get("config") if isinstance(config, dict) else config
    known = {n: fn for n, (fn, _) in _FUNCTIONS.items()} if known is None else known
    fn = (custom_objects or {}).get(name) or known.get(name)
    if fn is None:
        raise ValueError(f"unknown function {name!r}; known: {sorted(known)} (pass custom "
                         f"functions in custom_objects)")
    return fn
