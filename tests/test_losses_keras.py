"""Every loss against Keras 3.15 (torch backend): the same inputs, sample weights, reductions and
masks give the same values, and configs cross between the two frameworks both ways."""
import warnings

import numpy as np
import pytest

import oracles

import mgp
from mgp import losses

f32 = np.float32
rng = np.random.default_rng(0)
N, C = 6, 4
LOGITS = (rng.standard_normal((N, C)) * 2).astype(f32)
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
SIGMOID = 1 / (1 + np.exp(-LOGITS))
LABELS = rng.integers(0, C, N)
ONE_HOT = np.eye(C, dtype=f32)[LABELS]
BINARY = rng.integers(0, 2, (N, C)).astype(f32)
SIGNS = np.sign(rng.standard_normal((N, C))).astype(f32)
TARGETS = (rng.random((N, C)) * 3).astype(f32)
OUTPUTS = (rng.random((N, C)) * 3).astype(f32)
EMBEDDINGS = rng.standard_normal((N, 5)).astype(f32)
EMBEDDINGS /= np.linalg.norm(EMBEDDINGS, axis=1, keepdims=True)
GROUPS = np.array([0, 1, 0, 1, 2, 2])
CTC_LABELS = np.array([[1, 2, 0], [3, 3, 0], [1, 0, 0], [2, 3, 1], [1, 1, 2], [3, 0, 0]])
CTC_LOGITS = rng.standard_normal((N, 8, C)).astype(f32)
WEIGHTS = rng.random(N).astype(f32)
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]

# one row per case: (class name, constructor arguments, y_true, y_pred)
CASES = [
    ("MeanSquaredError", {}, TARGETS, OUTPUTS),
    ("MeanAbsoluteError", {}, TARGETS, OUTPUTS),
    ("MeanAbsoluteError", {}, LABELS.astype(f32), LOGITS[:, :1]),
    ("MeanAbsolutePercentageError", {}, TARGETS, OUTPUTS),
    ("MeanSquaredLogarithmicError", {}, TARGETS, OUTPUTS),
    ("CosineSimilarity", {}, TARGETS, OUTPUTS - 1.5),
    ("Huber", {"delta": 0.7}, TARGETS, OUTPUTS),
    ("LogCosh", {}, TARGETS, OUTPUTS),
    ("Hinge", {}, BINARY, LOGITS),
    ("Hinge", {}, SIGNS, LOGITS),
    ("SquaredHinge", {}, BINARY, LOGITS),
    ("CategoricalHinge", {}, ONE_HOT, LOGITS),
    ("KLDivergence", {}, ONE_HOT * 0.7 + 0.1, PROBS),
    ("Poisson", {}, TARGETS, OUTPUTS),
    ("BinaryCrossentropy", {}, BINARY, SIGMOID),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, BINARY, LOGITS),
    ("BinaryFocalCrossentropy", {}, BINARY, SIGMOID),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5,
                                 "from_logits": True, "label_smoothing": 0.1}, BINARY, LOGITS),
    ("CategoricalCrossentropy", {}, ONE_HOT, PROBS),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, ONE_HOT, LOGITS),
    ("CategoricalCrossentropy", {"axis": 0}, ONE_HOT.T[:, :4], PROBS.T[:, :4]),
    ("CategoricalFocalCrossentropy", {}, ONE_HOT, PROBS),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 3.0, "from_logits": True,
                                      "label_smoothing": 0.2}, ONE_HOT, LOGITS),
    ("SparseCategoricalCrossentropy", {}, LABELS, PROBS),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, LABELS[:, None], LOGITS),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, LABELS, PROBS),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2, "from_logits": True}, LABELS, LOGITS),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.7}, LABELS, PROBS),
    ("Dice", {}, BINARY, SIGMOID),
    ("Dice", {"axis": (1,)}, BINARY, SIGMOID),
    ("Tversky", {"alpha": 0.3, "beta": 0.7}, BINARY, SIGMOID),
    ("Tversky", {"axis": [1]}, BINARY, SIGMOID),
    ("Circle", {}, GROUPS, EMBEDDINGS),
    ("Circle", {"gamma": 10.0, "margin": 0.2, "remove_diagonal": False}, GROUPS, EMBEDDINGS),
    ("CTC", {}, CTC_LABELS, CTC_LOGITS),
]


def _keras():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return oracles.keras()


def _numpy(keras, x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _id(case):
    return f"{case[0]}-{'-'.join(map(str, case[1].values())) or 'default'}"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name,kwargs,y_true,y_pred", CASES, ids=[_id(c) for c in CASES])
def test_values_match_keras_for_every_reduction_and_weighting(name, kwargs, y_true, y_pred):
    keras = _keras()
    weights = WEIGHTS[: len(y_true)]
    for reduction in REDUCTIONS:
        for sample_weight in (None, weights):
            expected = _numpy(keras, getattr(keras.losses, name)(reduction=reduction, **kwargs)(
                y_true, y_pred, sample_weight=sample_weight))
            got = getattr(losses, name)(reduction=reduction, **kwargs)(
                y_true, mgp.tensor(y_pred), sample_weight=sample_weight)
            assert isinstance(got, mgp.Tensor) and got.shape == expected.shape, reduction
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6,
                                       err_msg=f"reduction={reduction}, weighted="
                                               f"{sample_weight is not None}")


# the function form gives the per-sample values of the class, as Keras's
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("fn,kwargs,y_true,y_pred", [
    ("mean_squared_error", {}, TARGETS, OUTPUTS),
    ("mean_absolute_percentage_error", {}, TARGETS, OUTPUTS),
    ("mean_squared_logarithmic_error", {}, TARGETS, OUTPUTS),
    ("cosine_similarity", {"axis": 0}, TARGETS, OUTPUTS),
    ("log_cosh", {}, TARGETS, OUTPUTS * 30),
    ("huber", {"delta": 2.0}, TARGETS, OUTPUTS),
    ("hinge", {}, BINARY, LOGITS),
    ("categorical_hinge", {}, ONE_HOT, LOGITS),
    ("kl_divergence", {}, ONE_HOT, PROBS),
    ("poisson", {}, TARGETS, OUTPUTS),
    ("binary_focal_crossentropy", {"gamma": 0.0}, BINARY, SIGMOID),
    ("categorical_focal_crossentropy", {"axis": 0}, ONE_HOT, PROBS / PROBS.sum(0)),
    ("categorical_generalized_cross_entropy", {"q": 0.3}, LABELS, PROBS),
    ("dice", {"axis": 1}, BINARY, SIGMOID),
    ("tversky", {"alpha": 0.9, "beta": 0.1}, BINARY, SIGMOID),
    ("circle", {"ref_labels": GROUPS[::-1].copy(), "ref_embeddings": EMBEDDINGS[::-1].copy()},
     GROUPS, EMBEDDINGS),
    ("ctc", {}, CTC_LABELS, CTC_LOGITS),
], ids=lambda v: v if isinstance(v, str) else None)
def test_functions_match_keras(fn, kwargs, y_true, y_pred):
    keras = _keras()
    expected = _numpy(keras, getattr(keras.losses, fn)(
        keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(y_pred), **kwargs))
    got = getattr(losses, fn)(y_true, mgp.tensor(y_pred), **kwargs)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


# ---- masks ----------------------------------------------------------------------------------------

SEQ_LOGITS = rng.standard_normal((3, 4, 5)).astype(f32)
SEQ_PROBS = np.exp(SEQ_LOGITS) / np.exp(SEQ_LOGITS).sum(-1, keepdims=True)
SEQ_LABELS = rng.integers(0, 5, (3, 4))
SEQ_ONE_HOT = np.eye(5, dtype=f32)[SEQ_LABELS]
MASK = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)
STEP_WEIGHTS = rng.random((3, 4)).astype(f32)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name,kwargs,y_true", [
    ("SparseCategoricalCrossentropy", {}, SEQ_LABELS),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, SEQ_LABELS),
    ("CategoricalCrossentropy", {}, SEQ_ONE_HOT),
    ("MeanSquaredError", {}, SEQ_ONE_HOT),
    ("CategoricalFocalCrossentropy", {}, SEQ_ONE_HOT),
])
def test_a_mask_on_y_pred_weighs_as_in_keras(name, kwargs, y_true):
    keras = _keras()
    torch = oracles.torch()
    from keras.src.backend import set_keras_mask
    k_pred = torch.tensor(SEQ_PROBS)
    set_keras_mask(k_pred, torch.tensor(MASK))
    m_pred = mgp.tensor(SEQ_PROBS)
    m_pred._keras_mask = MASK
    for reduction in REDUCTIONS:
        for sample_weight in (None, STEP_WEIGHTS):
            expected = _numpy(keras, getattr(keras.losses, name)(reduction=reduction, **kwargs)(
                y_true, k_pred, sample_weight=sample_weight))
            got = getattr(losses, name)(reduction=reduction, **kwargs)(
                y_true, m_pred, sample_weight=sample_weight)
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-7,
                                       err_msg=f"{reduction}, {sample_weight is not None}")


# ---- configs --------------------------------------------------------------------------------------

CONFIG_CASES = [
    ("MeanSquaredError", {"reduction": "sum"}), ("MeanAbsoluteError", {}),
    ("MeanAbsolutePercentageError", {}), ("MeanSquaredLogarithmicError", {"reduction": None}),
    ("CosineSimilarity", {"axis": 0}), ("Huber", {"delta": 0.3}), ("LogCosh", {}),
    ("Hinge", {}), ("SquaredHinge", {}), ("CategoricalHinge", {"reduction": "mean"}),
    ("KLDivergence", {}), ("Poisson", {}),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1, "axis": 0}),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.0,
                                 "from_logits": True, "label_smoothing": 0.2, "axis": 0}),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2, "axis": 1}),
    ("CategoricalFocalCrossentropy", {"alpha": 0.1, "gamma": 0.5, "from_logits": True}),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 3}),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.2}), ("Dice", {"axis": [1, 2]}),
    ("Tversky", {"alpha": 0.2, "beta": 0.8, "axis": [1]}),
    ("Circle", {"gamma": 30.0, "margin": 0.1, "remove_diagonal": False}),
    ("CTC", {"reduction": "sum"}),
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name,kwargs", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_configs_round_trip_and_cross_with_keras(name, kwargs):
    keras = _keras()
    loss = getattr(losses, name)(name="custom", **kwargs)
    config = loss.get_config()
    assert type(loss).from_config(config).get_config() == config
    assert losses.deserialize(losses.serialize(loss)).get_config() == config
    # mgp -> Keras: Keras rebuilds the same loss, arguments included (Keras 3.15 does not
    # register CategoricalGeneralizedCrossEntropy for deserialization: its own configs of it
    # do not load either)
    if name != "CategoricalGeneralizedCrossEntropy":
        k_loss = keras.losses.deserialize(losses.serialize(loss))
        assert type(k_loss).__name__ == name and k_loss.name == "custom"
        assert k_loss.reduction == loss.reduction
        for key, value in kwargs.items():
            if key != "reduction":
                assert k_loss._fn_kwargs[key] == value, key
    # Keras -> mgp: Keras's config (which leaves out some arguments) gives the same config
    k_made = getattr(keras.losses, name)(name="custom", **kwargs)
    back = losses.deserialize(keras.losses.serialize(k_made))
    assert type(back).__name__ == name and back.name == "custom"
    k_config = k_made.get_config()
    assert {k: v for k, v in back.get_config().items() if k in k_config} == \
        {k: list(v) if isinstance(v, tuple) else v for k, v in k_config.items()}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_function_wrappers_and_functions_cross_with_keras():
    keras = _keras()
    wrapped = losses.LossFunctionWrapper(losses.mean_squared_logarithmic_error, name="w",
                                         reduction="sum")
    k_wrapped = keras.losses.deserialize(losses.serialize(wrapped))
    assert k_wrapped.fn is keras.losses.mean_squared_logarithmic_error
    back = losses.deserialize(keras.losses.serialize(k_wrapped))
    assert back.fn is losses.mean_squared_logarithmic_error and back.reduction == "sum"
    assert losses.deserialize(keras.losses.serialize(keras.losses.kl_divergence)) is \
        losses.kl_divergence
    assert keras.losses.deserialize(losses.serialize(losses.hinge)) is keras.losses.hinge


def test_names_and_aliases_as_keras_resolves_them():
    keras = _keras()
    for name in ["mse", "MSE", "mae", "mape", "MAPE", "msle", "kld", "KLD", "bce", "BCE",
                 "huber", "log_cosh", "ctc", "dice", "tversky", "circle", "poisson", "hinge",
                 "CategoricalFocalCrossentropy", "SquaredHinge"]:
        theirs = keras.losses.get(name)
        ours = losses.get(name)
        assert isinstance(ours, losses.Loss)
        expected = theirs.__name__ if callable(theirs) and not isinstance(theirs, type) and \
            not isinstance(theirs, keras.losses.Loss) else type(theirs).__name__
        assert ours.fn.__name__ == expected or type(ours).__name__ == expected, name


def test_every_keras_loss_name_is_here_as_the_same_kind_of_object():
    keras = _keras()
    import inspect
    names = [n for n in dir(keras.losses) if not n.startswith("_")]
    assert len(names) == 48
    for name in names:
        theirs, ours = getattr(keras.losses, name), getattr(losses, name)
        assert inspect.isclass(ours) == inspect.isclass(theirs), name
        assert inspect.isfunction(ours) == inspect.isfunction(theirs), name
