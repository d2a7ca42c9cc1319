"""Sequential, functional and subclassed models; compile / fit / evaluate / predict."""
import io
import contextlib

import numpy as np
import pytest

import mgp
from mgp import layers


def small_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    return x, y


def sequential_mlp():
    return mgp.Sequential([mgp.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                           layers.Dense(3, activation="softmax")])


def functional_mlp():
    inputs = mgp.Input(shape=(6,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    return mgp.Model(inputs, layers.Dense(3, activation="softmax")(hidden))


class SubclassedMLP(mgp.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(3, activation="softmax")

    def call(self, x, training=False):
        return self.out(self.hidden(x))


class SubclassedNoTraining(mgp.Model):
    """A subclassed model whose call takes no `training` argument (allowed, as in Keras)."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(3)

    def call(self, x):
        return self.dense(x)


def compiled(model, x):
    model(x[:2])  # builds subclassed models; harmless for the others
    model.compile(optimizer=mgp.optimizers.SGD(learning_rate=0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_three_kinds_of_model_agree_on_predictions_and_training():
    x, y = small_data()
    models = [compiled(m, x) for m in (sequential_mlp(), functional_mlp(), SubclassedMLP())]
    weights = models[0].get_weights()
    for m in models[1:]:
        m.set_weights(weights)
    preds = [m.predict(x, verbose=0) for m in models]
    np.testing.assert_allclose(preds[1], preds[0], rtol=1e-6)
    np.testing.assert_allclose(preds[2], preds[0], rtol=1e-6)
    histories = [m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
                 for m in models]
    for h in histories[1:]:
        np.testing.assert_allclose(h["loss"], histories[0]["loss"], rtol=1e-5)
    for m in models[1:]:
        for a, b in zip(m.get_weights(), models[0].get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert histories[0]["loss"][-1] < histories[0]["loss"][0]


def test_fit_is_reproducible_under_one_seed():
    x, y = small_data()

    def run():
        mgp.utils.set_random_seed(123)
        model = mgp.Sequential([mgp.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                                layers.Dropout(0.3), layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        return model.get_weights()

    first, second = run(), run()
    for a, b in zip(first, second):
        assert np.array_equal(a, b)


def test_history_keys_and_values():
    x, y = small_data()
    model = compiled(sequential_mlp(), x)
    history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]
    assert model.history is history
    val_loss, val_acc = model.evaluate(x[48:], y[48:], verbose=0)
    assert val_loss == pytest.approx(history.history["val_loss"][-1], rel=1e-5)
    assert val_acc == pytest.approx(history.history["val_accuracy"][-1])


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = small_data(40)
    model = compiled(sequential_mlp(), x)
    history = model.fit(x, y, batch_size=10, epochs=1, validation_split=0.25, verbose=0)
    expected = model.evaluate(x[30:], y[30:], verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(expected["loss"], rel=1e-5)


def test_evaluate_and_predict_return_keras_types():
    x, y = small_data()
    model = sequential_mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    loss = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(as_dict) == {"loss", "accuracy"}
    pred = model.predict(x, batch_size=10, verbose=0)
    assert isinstance(pred, np.ndarray) and pred.shape == (64, 3) and pred.dtype == np.float32
    np.testing.assert_allclose(pred.sum(axis=1), 1, rtol=1e-5)
    direct = model(x)
    assert isinstance(direct, mgp.Tensor)
    np.testing.assert_allclose(direct.numpy(), pred, rtol=1e-6)


def test_keras_mnist_convnet_summary_counts_34826_parameters():
    model = mgp.Sequential([
        mgp.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    assert model.count_params() == 34826
    assert model.output_shape == (None, 10)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.summary()
    text = out.getvalue()
    assert "Total params: 34,826" in text
    assert "Trainable params: 34,826" in text
    assert "(None, 11, 11, 64)" in text and "18,496" in text


def test_summary_counts_non_trainable_batchnorm_statistics():
    model = mgp.Sequential([mgp.Input(shape=(4,)), layers.Dense(5),
                            layers.BatchNormalization()])
    # Dense 4*5+5 = 25; BatchNormalization 4*5 = 20, of which moving mean/variance 10
    assert model.count_params() == 45
    assert sum(w.size for w in model.non_trainable_weights) == 10
    out = io.StringIO()
    model.summary(print_fn=out.write)
    assert "Non-trainable params: 10" in out.getvalue()


def test_layer_names_as_keras_assigns_them():
    mgp.backend.clear_session()
    model = mgp.Sequential([mgp.Input(shape=(4,)), layers.Dense(2), layers.Dense(2)])
    assert [l.name for l in model.layers] == ["dense", "dense_1"]
    assert model.name == "sequential"


def test_structure_accessors():
    x, _ = small_data()
    model = functional_mlp()
    assert isinstance(model.layers[0], layers.InputLayer)
    dense = model.layers[1]
    assert model.get_layer(dense.name) is dense
    assert model.get_layer(index=1) is dense
    with pytest.raises(ValueError, match="no layer named"):
        model.get_layer("nope")
    assert model.count_params() == 6 * 8 + 8 + 8 * 3 + 3
    assert model.input_shape == (None, 6) and model.output_shape == (None, 3)
    features = mgp.Model(model.inputs, dense.output)
    np.testing.assert_allclose(features.predict(x, verbose=0),
                               np.maximum(x @ dense.get_weights()[0] + dense.get_weights()[1], 0),
                               rtol=1e-5, atol=1e-6)


def test_sequential_add_and_pop():
    model = mgp.Sequential()
    model.add(mgp.Input(shape=(6,)))
    model.add(layers.Dense(4))
    model.add(layers.Dense(2))
    assert model.output_shape == (None, 2)
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and model.output_shape == (None, 4)
    assert len(model.layers) == 1


def test_sequential_without_input_builds_on_first_call():
    x, y = small_data()
    model = mgp.Sequential([layers.Dense(4, activation="relu"), layers.Dense(3)])
    assert not model.built
    out = model(x)
    assert out.shape == (64, 3) and model.built
    assert model.count_params() == 6 * 4 + 4 + 4 * 3 + 3


def test_subclassed_model_tracks_layers_and_call_without_training():
    x, y = small_data()
    model = SubclassedMLP()
    model(x[:1])
    assert [type(l) for l in model.layers] == [layers.Dense, layers.Dense]
    assert len(model.trainable_weights) == 4
    plain = SubclassedNoTraining()
    plain.compile("sgd", "mse")
    plain.fit(x, np.zeros((64, 3), np.float32), epochs=1, verbose=0)
    assert plain.predict(x, verbose=0).shape == (64, 3)


def test_functional_multiple_inputs_and_shared_layer_and_residual():
    a, b = mgp.Input(shape=(4,)), mgp.Input(shape=(4,))
    shared = layers.Dense(4)
    merged = layers.Add()([shared(a), shared(b), a])
    out = layers.Dense(1)(layers.Concatenate()([merged, b]))
    model = mgp.Model([a, b], out)
    assert len(model.trainable_weights) == 4  # the shared layer counts once
    rng = np.random.default_rng(0)
    xa, xb = rng.standard_normal((10, 4), np.float32), rng.standard_normal((10, 4), np.float32)
    w, bias = shared.get_weights()
    w2, b2 = model.layers[-1].get_weights()
    expected = np.concatenate([xa @ w + bias + xb @ w + bias + xa, xb], axis=1) @ w2 + b2
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), expected, rtol=1e-5,
                               atol=1e-6)
    model.compile("sgd", "mse")
    history = model.fit([xa, xb], np.ones((10, 1), np.float32), epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_functional_config_round_trip_preserves_predictions():
    a = mgp.Input(shape=(4,))
    shared = layers.Dense(4, activation="tanh")
    out = layers.Dense(2)(layers.Add()([shared(a), shared(shared(a))]))
    model = mgp.Model(a, out)
    clone = mgp.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_sequential_config_round_trip():
    model = sequential_mlp()
    clone = mgp.Sequential.from_config(model.get_config())
    assert [type(l) for l in clone.layers] == [type(l) for l in model.layers]
    assert clone.count_params() == model.count_params()


def test_softmax_output_with_crossentropy_stays_finite_for_huge_logits():
    model = mgp.Sequential([mgp.Input(shape=(2,)), layers.Dense(3, activation="softmax")])
    model.compile(mgp.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.layers[0].set_weights([np.array([[1e4, -1e4, 0], [0, 0, 1e4]], np.float32),
                                 np.zeros(3, np.float32)])
    x = np.array([[1.0, 0.0], [0.0, -1.0]], np.float32)
    loss = model.evaluate(x, np.array([1, 2]), verbose=0)
    assert np.isfinite(loss) and loss > 1000
    model.fit(x, np.array([1, 2]), epochs=1, verbose=0)
    assert all(np.isfinite(w).all() for w in model.get_weights())


# ---- bad input: clear errors, nothing changed ---------------------------------------------------

@pytest.fixture
def model_and_data():
    x, y = small_data()
    return compiled(sequential_mlp(), x), x, y


def test_fit_before_compile():
    x, y = small_data()
    with pytest.raises(RuntimeError, match="compile"):
        sequential_mlp().fit(x, y, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"validation_split": 1.0}, r"validation_split must be in \[0, 1\)"),
    ({"validation_split": -0.1}, r"validation_split must be in \[0, 1\)"),
])
def test_fit_argument_errors(model_and_data, kwargs, message):
    model, x, y = model_and_data
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, verbose=0, **kwargs)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_data_errors(model_and_data):
    model, x, y = model_and_data
    before = model.get_weights()
    with pytest.raises(ValueError, match="same number of samples, got 64 inputs and 63"):
        model.fit(x, y[:-1], verbose=0)
    with pytest.raises(ValueError, match=r"expected input shape \(None, 6\), got \(64, 5\)"):
        model.fit(x[:, :5], y, verbose=0)
    with pytest.raises(ValueError, match="empty"):
        model.fit(x[:0], y[:0], verbose=0)
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        model.fit(bad, y, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_integer_labels_given_to_categorical_crossentropy(model_and_data):
    model, x, y = model_and_data
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(x, y, verbose=0)


def test_labels_out_of_range(model_and_data):
    model, x, y = model_and_data
    with pytest.raises(ValueError, match="3"):
        model.fit(x, y + 1, verbose=0)


@pytest.mark.parametrize("kwargs", [{"optimizer": "adamx"}, {"loss": "msee"},
                                    {"metrics": ["acuracy"]}])
def test_unknown_strings_list_known_ones(kwargs):
    args = {"optimizer": "sgd", "loss": "mse", **kwargs}
    with pytest.raises(ValueError) as info:
        sequential_mlp().compile(**args)
    bad = next(iter(kwargs.values()))
    bad = bad[0] if isinstance(bad, list) else bad
    assert bad in str(info.value)


def test_unknown_activation_lists_known_ones():
    with pytest.raises(ValueError, match="relu"):
        layers.Dense(3, activation="rellu")


def test_progress_output_verbose_2_one_line_per_epoch(model_and_data, capsys):
    model, x, y = model_and_data
    model.fit(x, y, batch_size=16, epochs=2, verbose=2, validation_split=0.25)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    lines = [l for l in out.splitlines() if "loss:" in l]
    assert len(lines) == 2 and "val_accuracy" in lines[-1] and lines[0].startswith("3/3")


def test_progress_bar_verbose_1(model_and_data, capsys):
    model, x, y = model_and_data
    model.fit(x, y, batch_size=16, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "4/4" in out and "loss" in out and "\r" not in out  # captured: a log, not a tty


def test_steps_per_epoch_limits_batches(model_and_data):
    model, x, y = model_and_data
    seen = []
    cb = mgp.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    model.fit(x, y, batch_size=8, epochs=2, steps_per_epoch=3, verbose=0, callbacks=[cb])
    assert seen == [0, 1, 2, 0, 1, 2]


def test_sample_weight_and_class_weight_weight_the_loss():
    x, y = small_data(32)
    model = compiled(sequential_mlp(), x)
    plain = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    per_sample = model.predict(x, verbose=0)[np.arange(32), y]
    weights = np.linspace(0, 2, 32).astype(np.float32)
    weighted = model.evaluate(x, y, batch_size=32, sample_weight=weights, verbose=0,
                              return_dict=True)["loss"]
    # Keras's 'sum_over_batch_size': sum(w * loss) / batch size
    assert plain == pytest.approx(float(np.mean(-np.log(per_sample))), rel=1e-5)
    assert weighted == pytest.approx(float(np.mean(-weights * np.log(per_sample))), rel=1e-5)
    before = model.get_weights()
    model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0,
              class_weight={0: 0.0, 1: 0.0, 2: 0.0})
    # every sample weighted 0: the gradient is zero and SGD leaves the weights as they were
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(ValueError, match="one weight per sample"):
        model.fit(x, y, sample_weight=weights[:5], verbose=0)
    with pytest.raises(ValueError, match="no weight for classes"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_validation_freq_and_batch_size():
    x, y = small_data()
    model = compiled(sequential_mlp(), x)
    history = model.fit(x, y, epochs=4, validation_data=(x[:16], y[:16]), validation_freq=2,
                        validation_batch_size=5, verbose=0)
    assert len(history.history["loss"]) == 4 and len(history.history["val_loss"]) == 2


def test_bad_input_leaves_the_model_and_optimizer_as_they_were():
    x, y = small_data()
    model = compiled(functional_mlp(), x)
    model.fit(x, y, epochs=1, verbose=0)
    before = [w.copy() for w in model.get_weights()]
    state = [v.numpy().copy() for v in model.optimizer.variables]
    bad = [
        dict(x=x[:, :5], y=y),                              # wrong feature count
        dict(x=x, y=y[:10]),                                # sample counts differ
        dict(x=x, y=y, sample_weight=np.ones(3)),           # one weight per sample
        dict(x=x, y=y, sample_weight=np.ones(len(x)), class_weight={0: 1, 1: 1, 2: 1}),
        dict(x=x, y=y, batch_size=0),
        dict(x=np.full_like(x, np.nan), y=y),               # NaN inputs
    ]
    for kwargs in bad:
        with pytest.raises(ValueError):
            model.fit(verbose=0, **kwargs)
    with pytest.raises(ValueError, match=r"expected input shape \(None, 6\), got \(4, 5\)"):
        model.predict(x[:4, :5], verbose=0)
    with pytest.raises(ValueError):
        model.evaluate(x[:, :5], y, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(state, model.optimizer.variables))


def test_layer_and_model_input_output_as_keras():
    # Keras: a layer's `output`/`input` are its first call's tensors (a flat list when several,
    # keyword tensors such as `initial_state` among the inputs); a functional model's are the
    # structures given to Model(inputs, outputs)
    x = mgp.Input((None, 3))
    s = mgp.Input((4,))
    lstm = mgp.layers.LSTM(4, return_state=True)
    outs = lstm(x, initial_state=[s, s])
    assert lstm.output == list(outs) and len(lstm.output) == 3
    assert lstm.input[0] is x and lstm.input[1] is s and len(lstm.input) == 3
    dense = mgp.layers.Dense(2)
    first = dense(s)
    dense(s)
    assert dense.output is first and dense.input is s
    model = mgp.Model({"s": s}, {"y": first})
    assert model.input == {"s": s} and model.output == {"y": first}
    seq = mgp.Sequential([mgp.Input((3,)), mgp.layers.Dense(2)])
    assert seq.input.shape == (None, 3) and seq.output.shape == (None, 2)
    with pytest.raises(AttributeError, match="never been called"):
        _ = mgp.layers.Dense(2).output
