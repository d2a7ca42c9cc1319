"""Careless input to compile / fit / evaluate / predict: every bad call is an mgp error that names
the argument or the value, raised before anything changed. Each case trains the model first (so
the optimizer has state to lose), makes the bad call, and compares every weight, optimizer
variable and the optimizer itself bit for bit before and after."""
import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mgp
from mgp import layers, losses, utils
from mgp.errors import InvalidArgumentError, InvalidDataError, MgpError
from mgp.models import Sequential

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 40)
ONE_HOT = np.eye(3, dtype=np.float32)[Y]


def trained(loss="sparse_categorical_crossentropy", y=Y, metrics=None):
    utils.set_random_seed(0)
    model = Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                        layers.BatchNormalization(), layers.Dense(3, activation="softmax")])
    model.compile("adam", loss, metrics=metrics)
    model.fit(X, y, batch_size=8, epochs=1, verbose=0)
    return model


def state(model):
    """Everything a bad call must leave alone: the weights (BatchNormalization's moving
    statistics included), the optimizer object and its variables, the compiled loss."""
    return ([np.array(w) for w in model.get_weights()],
            [np.array(v.numpy()) for v in model.optimizer.variables],
            model.optimizer, model.loss, model._compile_loss, model._compile_metrics)


def assert_unchanged(before, after):
    (w0, o0, *objs0), (w1, o1, *objs1) = before, after
    assert len(w0) == len(w1) and len(o0) == len(o1)
    for a, b in zip(w0 + o0, w1 + o1):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert all(a is b for a, b in zip(objs0, objs1))


def last(a, value):
    """`a` with its last row's first entry set to `value` (a bad value in the last batch)."""
    a = a.copy()
    a.reshape(len(a), -1)[-1, 0] = value
    return a


def with_object(a, value):
    a = a.astype(object)
    a.reshape(len(a), -1)[-1, 0] = value
    return a


def strings(a):
    a = a.astype(str)
    a[-1, 0] = "abc"
    return a


FIT_CASES = [
    # x
    ("string in x's last row", dict(x=strings(X)), InvalidDataError, r"input .* takes float32 "
     r"numbers, but x holds strings"),
    ("NaN in object x", dict(x=with_object(X, np.nan)), InvalidDataError, "dtype object"),
    ("NaN in x", dict(x=last(X, np.nan)), InvalidDataError, r"x holds NaN .* row 39"),
    ("inf in x", dict(x=last(X, np.inf)), InvalidDataError, r"x holds NaN or infinite"),
    ("complex x", dict(x=X.astype(np.complex64)), InvalidDataError, "complex numbers"),
    ("x of the wrong width", dict(x=X[:, :3]), InvalidDataError, r"expected input shape"),
    ("a list of numbers as x", dict(x=[1.0, 2.0]), InvalidDataError, r"np.asarray\(x\)"),
    # y: class indices for sparse_categorical_crossentropy
    ("label out of range", dict(y=last(Y, 3)), InvalidDataError,
     r"y: class indices must lie in \[0, 3\) .* row 39 holds 3 \(1 row in all\)"),
    ("negative label", dict(y=last(Y, -1)), InvalidDataError, r"row 39 holds -1"),
    ("NaN label", dict(y=last(Y.astype(np.float32), np.nan)), InvalidDataError,
     r"y holds NaN .* row 39"),
    ("fractional label", dict(y=last(Y.astype(np.float32), 1.5)), InvalidDataError,
     r"integer class indices .* row 39 holds 1.5"),
    ("one-hot labels for a sparse loss", dict(y=ONE_HOT), InvalidDataError,
     r"y has shape \(40, 3\).*use categorical_crossentropy"),
    ("string labels", dict(y=Y.astype(str)), InvalidDataError, "y holds strings"),
    ("fewer labels than samples", dict(y=Y[:30]), InvalidDataError, "40 inputs and 30 targets"),
    # validation_data
    ("validation_data of the wrong width", dict(validation_data=(X[:, :3], Y)),
     InvalidDataError, r"validation_data: .* expected input shape"),
    ("validation_data of the wrong length", dict(validation_data=(X[:10], Y[:9])),
     InvalidDataError, r"validation_data: x and y must have the same number"),
    ("validation_data of 1 item", dict(validation_data=(X,)), InvalidArgumentError,
     r"validation_data must be \(x_val, y_val\).* 1 items"),
    ("validation_data of 4 items", dict(validation_data=(X, Y, None, None)),
     InvalidArgumentError, r"validation_data must be .* 4 items"),
    ("validation label out of range", dict(validation_data=(X, last(Y, 9))), InvalidDataError,
     r"validation_data: y: class indices .* row 39 holds 9"),
    ("validation_freq=0", dict(validation_data=(X, Y), validation_freq=0), InvalidArgumentError,
     "validation_freq must be a positive integer"),
    ("validation_freq=-1", dict(validation_data=(X, Y), validation_freq=-1),
     InvalidArgumentError, "validation_freq"),
    ("validation_freq=[0]", dict(validation_data=(X, Y), validation_freq=[0, 2]),
     InvalidArgumentError, "validation_freq"),
    ("validation_split='a'", dict(validation_split="a"), InvalidArgumentError,
     "validation_split"),
    ("validation_split=1", dict(validation_split=1.0), InvalidArgumentError,
     r"validation_split must be in \[0, 1\)"),
    # weights
    ("NaN in object sample_weight", dict(sample_weight=with_object(np.ones(40), np.nan)),
     InvalidDataError, r"sample_weight holds NaN .* row 39"),
    ("inf sample_weight", dict(sample_weight=last(np.ones(40), np.inf)), InvalidDataError,
     "sample_weight holds NaN or infinite"),
    ("string sample_weight", dict(sample_weight=np.array(["a"] * 40)), InvalidDataError,
     "sample_weight must hold numbers"),
    ("sample_weight of the wrong length", dict(sample_weight=np.ones(39)), InvalidDataError,
     r"sample_weight must have shape \(40,\)"),
    ("NaN class_weight", dict(class_weight={0: 1.0, 1: np.nan, 2: 1.0}), InvalidArgumentError,
     "the weight of class 1 must be a finite number"),
    ("string class_weight", dict(class_weight={0: 1.0, 1: "a", 2: 1.0}), InvalidArgumentError,
     "the weight of class 1"),
    ("class_weight as a list", dict(class_weight=[1.0, 1.0, 1.0]), InvalidArgumentError,
     "class_weight must be a dict"),
    ("class_weight missing a class", dict(class_weight={0: 1.0, 1: 1.0}),
     InvalidArgumentError, r"no weight for classes \[2\]"),
    ("sample_weight and class_weight", dict(sample_weight=np.ones(40), class_weight={0: 1.0}),
     InvalidArgumentError, "sample_weight or class_weight, not both"),
    # the other arguments
    ("epochs=1.5", dict(epochs=1.5), InvalidArgumentError, "epochs must be a non-negative"),
    ("epochs='a'", dict(epochs="a"), InvalidArgumentError, "epochs"),
    ("epochs=-1", dict(epochs=-1), InvalidArgumentError, "epochs"),
    ("initial_epoch='a'", dict(initial_epoch="a"), InvalidArgumentError, "initial_epoch"),
    ("batch_size=0", dict(batch_size=0), InvalidArgumentError, "batch_size must be a positive"),
    ("batch_size=2.5", dict(batch_size=2.5), InvalidArgumentError, "batch_size"),
    ("shuffle='x'", dict(shuffle="x"), InvalidArgumentError, "shuffle must be True or False"),
    ("callbacks=3", dict(callbacks=3), InvalidArgumentError, "callbacks must be a list"),
    ("callbacks=[3]", dict(callbacks=[3]), InvalidArgumentError,
     "callbacks must be mgp.callbacks.Callback instances, got int"),
    ("verbose='x'", dict(verbose="x"), InvalidArgumentError, "verbose must be 0, 1, 2"),
    ("steps_per_epoch=0", dict(steps_per_epoch=0), InvalidArgumentError, "steps_per_epoch"),
]


@pytest.mark.parametrize("case, kwargs, error, message", FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_a_bad_fit_raises_before_anything_changes(case, kwargs, error, message):
    model = trained()
    before = state(model)
    call = dict(x=X, y=Y, batch_size=8, epochs=2, verbose=0)
    call.update(kwargs)
    with pytest.raises(error, match=message):
        model.fit(**call)
    assert_unchanged(before, state(model))
    model.fit(X, Y, batch_size=8, verbose=0)  # and the model still trains


ONE_HOT_CASES = [
    ("one-hot label above 1", last(ONE_HOT, 2.0), r"labels must lie in \[0, 1\].*row 39 holds 2"),
    ("negative one-hot label", last(ONE_HOT, -0.5), r"row 39 holds -0.5"),
    ("class indices for a one-hot loss", Y, r"to_categorical\(y, num_classes=3\)"),
    ("one-hot labels of the wrong width", np.eye(4, dtype=np.float32)[Y],
     r"y has shape \(40, 4\), but one-hot labels for predictions of shape \(40, 3\)"),
]


@pytest.mark.parametrize("case, y, message", ONE_HOT_CASES, ids=[c[0] for c in ONE_HOT_CASES])
def test_one_hot_labels_that_are_not(case, y, message):
    model = trained("categorical_crossentropy", ONE_HOT)
    before = state(model)
    with pytest.raises(InvalidDataError, match=message):
        model.fit(X, y, batch_size=8, verbose=0)
    assert_unchanged(before, state(model))


def test_labels_are_checked_for_the_metrics_too():
    def own_loss(y_true, y_pred):  # a loss mgp knows nothing of: the metric's labels decide
        return losses.sparse_categorical_crossentropy(y_true, y_pred)
    model = trained(own_loss, metrics=["sparse_categorical_accuracy"])
    before = state(model)
    with pytest.raises(InvalidDataError, match=r"class indices .* row 39 holds 7"):
        model.fit(X, last(Y, 7), batch_size=8, verbose=0)
    assert_unchanged(before, state(model))


def test_ignore_class_is_a_valid_label():
    model = trained(losses.SparseCategoricalCrossentropy(ignore_class=-1))
    y = last(Y, -1)
    model.fit(X, y, batch_size=8, verbose=0)  # -1 is ignored, not out of range
    before = state(model)
    with pytest.raises(InvalidDataError, match=r"\[0, 3\) \(or -1, the loss's ignore_class\)"):
        model.fit(X, last(Y, -2), batch_size=8, verbose=0)
    assert_unchanged(before, state(model))


def test_labels_of_a_subclassed_model_are_checked_from_its_second_fit():
    """A model without symbolic outputs: its output shape is known once it has run."""
    class Net(mgp.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(x)
    utils.set_random_seed(0)
    model = Net()
    model.compile("adam", losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(X, Y, batch_size=8, verbose=0)
    before = state(model)
    with pytest.raises(InvalidDataError, match="row 39 holds 5"):
        model.fit(X, last(Y, 5), batch_size=8, verbose=0)
    assert_unchanged(before, state(model))


EVALUATE_CASES = [
    ("label out of range", dict(y=last(Y, 3)), InvalidDataError, r"row 39 holds 3"),
    ("NaN label", dict(y=last(Y.astype(np.float32), np.nan)), InvalidDataError,
     r"integer class indices .* row 39 holds nan"),
    ("string in x", dict(x=strings(X)), InvalidDataError, "x holds strings"),
    ("steps=0", dict(steps=0), InvalidArgumentError, "steps must be a positive integer"),
    ("batch_size=-1", dict(batch_size=-1), InvalidArgumentError, "batch_size"),
]


@pytest.mark.parametrize("case, kwargs, error, message", EVALUATE_CASES,
                         ids=[c[0] for c in EVALUATE_CASES])
def test_a_bad_evaluate_raises_before_any_metric_changes(case, kwargs, error, message):
    model = trained(metrics=["accuracy"])
    model.evaluate(X, Y, verbose=0)
    before = state(model)
    metrics_before = [np.array(v.numpy()) for m in model.metrics for v in m.variables]
    call = dict(x=X, y=Y, batch_size=8, verbose=0)
    call.update(kwargs)
    with pytest.raises(error, match=message):
        model.evaluate(**call)
    assert_unchanged(before, state(model))
    metrics_after = [np.array(v.numpy()) for m in model.metrics for v in m.variables]
    assert all(a.tobytes() == b.tobytes() for a, b in zip(metrics_before, metrics_after))


def test_evaluate_keeps_keras_nan_for_nan_targets_of_a_regression():
    """Outside training a NaN target gives a NaN loss, as in Keras (nothing is trained)."""
    model = trained("mse", ONE_HOT)
    loss = model.evaluate(X, last(ONE_HOT, np.nan), verbose=0)
    assert np.isnan(loss)


COMPILE_CASES = [
    ("unknown loss", dict(loss="nope"), r"compile\(\): loss='nope': unknown loss 'nope'"),
    ("loss of the wrong kind", dict(loss=3), r"compile\(\): loss=3"),
    ("unknown metric", dict(metrics=["a"]), r"compile\(\): metrics entry 'a': unknown metric"),
    ("unknown weighted metric", dict(weighted_metrics=["nope"]),
     r"compile\(\): weighted_metrics entry 'nope'"),
    ("metrics as a string", dict(metrics="accuracy"),
     r"metrics must be a list, tuple or dict .* metrics=\['accuracy'\]"),
    ("unknown optimizer", dict(optimizer="nope"), r"compile\(\): optimizer='nope'"),
    ("two losses for one output", dict(loss=["mse", "mse"]), r"loss has 2 entries for the "
     r"model's 1 outputs"),
    ("loss for an unknown output", dict(loss={"nope": "mse"}), r"loss names outputs \['nope'\]"),
    ("loss_weights of the wrong kind", dict(loss_weights="a"), "loss_weights"),
    ("steps_per_execution=2", dict(steps_per_execution=2), "steps_per_execution"),
]


@pytest.mark.parametrize("case, kwargs, message", COMPILE_CASES,
                         ids=[c[0] for c in COMPILE_CASES])
def test_a_bad_compile_replaces_nothing(case, kwargs, message):
    model = trained()
    before = state(model)
    call = dict(optimizer="sgd", loss="mse")
    call.update(kwargs)
    with pytest.raises((MgpError, NotImplementedError), match=message):
        model.compile(**call)
    assert_unchanged(before, state(model))
    model.fit(X, Y, batch_size=8, verbose=0)  # the old compile still trains


def test_errors_are_value_errors_as_in_keras():
    model = trained()
    with pytest.raises(ValueError):
        model.fit(X, last(Y, 3), verbose=0)
    with pytest.raises(ValueError):
        model.compile("adam", "nope")


def test_predict_refuses_what_it_cannot_read():
    model = trained()
    with pytest.raises(InvalidDataError, match="x holds strings"):
        model.predict(strings(X), verbose=0)
    with pytest.raises(InvalidDataError, match="complex"):
        model.predict(X.astype(np.complex64), verbose=0)
    assert np.isnan(model.predict(last(X, np.nan), verbose=0)[-1]).all()  # as Keras: no check


def test_a_model_that_takes_strings_still_gets_them():
    vocab = layers.StringLookup(vocabulary=["a", "b", "c"])
    inputs = layers.Input((1,), dtype="string")
    model = mgp.Model(inputs, layers.Dense(3)(layers.CategoryEncoding(4)(vocab(inputs))))
    model.compile("adam", losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(np.array([["a"], ["b"], ["c"], ["a"]]), np.array([0, 1, 2, 0]), verbose=0)


# ---- fuzzing: any bad value in any row of the data, any kind of argument ------------------

@functools.lru_cache(maxsize=None)
def fuzz_model():
    return trained()


BAD_VALUES = st.sampled_from([np.nan, np.inf, -np.inf])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(row=st.integers(0, 39), value=BAD_VALUES, where=st.sampled_from(["x", "y", "w"]))
def test_fuzz_a_bad_value_anywhere_changes_nothing(row, value, where):
    model = fuzz_model()
    before = state(model)
    x, y, w = X.copy(), Y.astype(np.float32), np.ones(40, np.float32)
    {"x": x, "y": y, "w": w}[where].reshape(40, -1)[row, 0] = value
    with pytest.raises(InvalidDataError, match=f"row {row}"):
        model.fit(x, y, sample_weight=w, batch_size=8, verbose=0)
    assert_unchanged(before, state(model))


ANY = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True),
                st.text(max_size=3), st.lists(st.integers(-1, 3), max_size=3),
                st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))
FIT_ARGUMENTS = ["batch_size", "epochs", "validation_split", "shuffle", "class_weight",
                 "initial_epoch", "steps_per_epoch", "validation_freq", "callbacks", "verbose"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(FIT_ARGUMENTS), value=ANY)
def test_fuzz_fit_arguments_fail_only_with_mgp_errors(name, value):
    """Any value of any argument either trains or raises an mgp error naming the argument;
    never a raw TypeError, AttributeError or ZeroDivisionError from inside the loop."""
    model = fuzz_model()
    before = state(model)
    call = dict(x=X, y=Y, batch_size=8, epochs=1, verbose=0, validation_data=(X, Y))
    call[name] = value
    try:
        model.fit(**call)
    except MgpError as e:
        assert name in str(e)
        assert_unchanged(before, state(model))

