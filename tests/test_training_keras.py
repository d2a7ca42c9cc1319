"""compile / fit / evaluate against Keras 3 (torch backend) with the same weights: losses and
metrics for models with several outputs (lists, dicts, loss_weights, weighted_metrics), the
logs' keys and values, evaluate's order, regularization losses in the training loss, and
constraints after each update."""
import numpy as np
import pytest

import oracles

import mgp

keras = oracles.keras()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

rng = np.random.default_rng(1)
X = rng.standard_normal((24, 3)).astype(np.float32)
Y_CLS = rng.integers(0, 2, 24)
Y_REG = rng.standard_normal((24, 1)).astype(np.float32)
SW = rng.uniform(0.5, 1.5, 24).astype(np.float32)


def two_heads(k):
    inputs = k.Input((3,), name="x")
    hidden = k.layers.Dense(4, activation="tanh", name="hidden")(inputs)
    cls = k.layers.Dense(2, activation="softmax", name="cls")(hidden)
    reg = k.layers.Dense(1, name="reg")(hidden)
    return k.Model(inputs, [cls, reg])


def pair(builder):
    ours, theirs = builder(mgp), builder(keras)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


CASES = {
    "loss list": dict(loss=["sparse_categorical_crossentropy", "mse"]),
    "metrics per output": dict(loss=["sparse_categorical_crossentropy", "mse"],
                               metrics=[["accuracy"], ["mae"]]),
    "flat metrics list": dict(loss=["sparse_categorical_crossentropy", "mse"],
                              metrics=["accuracy", "mae"]),
    "dicts": dict(loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  metrics={"cls": "accuracy", "reg": ["mae", "mse"]}),
    "loss_weights, repeated metric": dict(
        loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 0.5, "reg": 2.0}, metrics={"cls": ["accuracy", "accuracy"]}),
    "one loss for all": dict(loss="mse"),
    "no loss for one output": dict(loss=["sparse_categorical_crossentropy", None]),
    "weighted metrics": dict(loss=["sparse_categorical_crossentropy", "mse"],
                             metrics=[["accuracy"], ["mae"]],
                             weighted_metrics=[["accuracy"], ["mae"]]),
    "loss_weights list": dict(loss=["sparse_categorical_crossentropy", "mse"],
                              loss_weights=[1.0, 0.25], metrics=[["accuracy"], ["mse"]]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_multi_output_logs_as_keras(name):
    compile_args = CASES[name]
    y = [Y_CLS, Y_REG] if name != "one loss for all" else \
        [np.eye(2, dtype=np.float32)[Y_CLS], Y_REG]
    models = pair(two_heads)
    histories, evaluations = [], []
    for model in models:
        model.compile(optimizer="sgd", **compile_args)
        histories.append(model.fit(X, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
                                   sample_weight=SW, validation_data=(X, y)).history)
        evaluations.append(model.evaluate(X, y, batch_size=8, verbose=0))
    ours, theirs = histories
    assert set(ours) == set(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=2e-5, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(evaluations[0], evaluations[1], rtol=2e-5, atol=1e-6)
    assert models[0].metrics_names == models[1].metrics_names


def test_dict_outputs_and_targets_named_by_key_as_keras():
    def build(k):
        inputs = k.Input((3,))
        return k.Model(inputs, {"p": k.layers.Dense(2, name="aa")(inputs),
                                "q": k.layers.Dense(1, name="bb")(inputs)})
    models = pair(build)
    y = {"p": np.ones((24, 2), np.float32), "q": Y_REG}
    runs = []
    for model in models:
        model.compile("sgd", loss={"p": "mse", "q": "mae"}, metrics={"p": ["mae"]})
        runs.append(model.fit(X, y, batch_size=8, shuffle=False, verbose=0).history)
    assert set(runs[0]) == set(runs[1]) == {"loss", "p_loss", "p_mae", "q_loss"}
    for key in runs[0]:
        np.testing.assert_allclose(runs[0][key], runs[1][key], rtol=2e-5)
    out = models[0].predict(X, verbose=0)
    assert set(out) == {"p", "q"} and out["p"].shape == (24, 2)


def test_single_output_names_as_keras():
    def build(k):
        inputs = k.Input((3,))
        return k.Model(inputs, k.layers.Dense(2, activation="softmax", name="out")(inputs))
    models = pair(build)
    runs = []
    for model in models:
        model.compile("sgd", "sparse_categorical_crossentropy",
                      metrics=["accuracy", "accuracy", keras.metrics.SparseCategoricalAccuracy()
                               if model is models[1] else
                               mgp.metrics.SparseCategoricalAccuracy()],
                      weighted_metrics=["accuracy"], loss_weights=2.0)
        runs.append(model.fit(X, Y_CLS, sample_weight=SW, batch_size=8, shuffle=False,
                              verbose=0).history)
    assert set(runs[0]) == set(runs[1]) == {"loss", "accuracy", "accuracy_1",
                                            "sparse_categorical_accuracy", "weighted_accuracy"}
    for key in runs[0]:
        np.testing.assert_allclose(runs[0][key], runs[1][key], rtol=2e-5, err_msg=key)


def test_subclassed_model_with_two_outputs_names_losses_as_keras():
    def build(k):
        class Heads(k.Model):
            def __init__(self):
                super().__init__()
                self.a = k.layers.Dense(2, activation="softmax")
                self.b = k.layers.Dense(1)

            def call(self, x):
                return [self.a(x), self.b(x)]
        model = Heads()
        model(X[:1])
        return model
    models = pair(build)
    runs = []
    for model in models:
        model.compile("sgd", loss=["sparse_categorical_crossentropy", "mse"],
                      metrics=[["accuracy"], ["mae"]])
        runs.append(model.fit(X, [Y_CLS, Y_REG], batch_size=8, shuffle=False,
                              verbose=0).history)
    assert set(runs[0]) == set(runs[1])
    for key in runs[0]:
        np.testing.assert_allclose(runs[0][key], runs[1][key], rtol=2e-5, err_msg=key)


def test_compile_errors_name_the_outputs_and_leave_the_model_as_it_was():
    model = two_heads(mgp)
    model.compile("sgd", loss="mse")
    before = (model.optimizer, model.loss)
    with pytest.raises(ValueError, match=r"loss names outputs \['clss'\].*\['cls', 'reg'\]"):
        model.compile("adam", loss={"clss": "mse"})
    with pytest.raises(ValueError, match="loss has 3 entries for the model's 2 outputs"):
        model.compile("adam", loss=["mse", "mse", "mse"])
        model.fit(X, [Y_CLS, Y_REG], verbose=0)
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        model.compile("adam", loss="mse", metrics=["acuracy"])
    model.compile("sgd", loss="mse")
    before = (model.optimizer, model.loss)
    with pytest.raises(ValueError, match="unknown loss 'msee'"):
        model.compile("adam", loss="msee")
    assert (model.optimizer, model.loss) == before


# ---- regularizers and constraints in training ------------------------------------------------
def regularized(k):
    inputs = k.Input((3,))
    x = k.layers.Dense(4, activation="relu", kernel_regularizer=k.regularizers.L1L2(0.01, 0.02),
                       bias_regularizer="l2", activity_regularizer=k.regularizers.L2(0.05),
                       kernel_constraint=k.constraints.MaxNorm(0.8))(inputs)
    x = k.layers.BatchNormalization(gamma_regularizer=k.regularizers.L1(0.03),
                                    beta_constraint=k.constraints.NonNeg())(x)
    x = k.layers.PReLU(alpha_regularizer="l2", alpha_constraint=k.constraints.UnitNorm())(x)
    outputs = k.layers.Dense(1, kernel_regularizer=k.regularizers.OrthogonalRegularizer(0.1),
                             kernel_constraint=k.constraints.MinMaxNorm(0.2, 0.9, rate=0.5))(x)
    return k.Model(inputs, outputs)


def test_regularization_losses_and_constraints_in_training_as_keras():
    models = pair(regularized)
    for model in models:
        model(X[:4])  # the activity regularizer's loss of this call
    assert len(models[0].losses) == len(models[1].losses) == 6  # 5 weights, 1 activity
    np.testing.assert_allclose(sorted(float(l.item()) for l in models[0].losses),
                               sorted(float(keras.ops.convert_to_numpy(l))
                                      for l in models[1].losses), rtol=1e-5)
    runs = []
    for model in models:
        model.compile(optimizer="adam", loss="mse")
        runs.append(model.fit(X, Y_REG, batch_size=8, epochs=3, shuffle=False,
                              verbose=0).history)
    np.testing.assert_allclose(runs[0]["loss"], runs[1]["loss"], rtol=2e-5)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=2e-5, atol=1e-6)
    kernel = models[0].layers[1].kernel.numpy()
    assert np.all(np.linalg.norm(kernel, axis=0) <= 0.8 + 1e-6)  # MaxNorm held


def regressor(k):
    return k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="tanh"), k.layers.Dense(1)])


@pytest.mark.parametrize("make_optimizer", [
    lambda k: k.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9),
    lambda k: k.optimizers.LossScaleOptimizer(k.optimizers.SGD(0.1), initial_scale=1024.0),
], ids=["ema", "loss scale"])
def test_fit_finishes_the_optimizer_as_keras(make_optimizer):
    """fit scales the loss for a LossScaleOptimizer before backward and leaves an EMA
    optimizer's moving average in the weights at the end, as Keras's fit does."""
    ours, theirs = pair(regressor)
    for model, k in ((ours, mgp), (theirs, keras)):
        model.compile(optimizer=make_optimizer(k), loss="mse")
        model.fit(X, Y_REG, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
