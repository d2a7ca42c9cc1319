"""Keras's "customizing what happens in fit()" guide (its torch version), run in mgp with only the
imports changed and against Keras itself (its torch backend) with the same weights and data:
the overridden train_step(self, data) with compute_loss and self.metrics, the fully manual step
with trackers of its own, sample weights through unpack_x_y_sample_weight, an overridden
test_step, compute_loss / compute_metrics overrides, and a GAN with two optimizers."""
import numpy as np
import pytest

import oracles

import mgp

keras_oracle = oracles.keras()
torch = oracles.torch()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

rng = np.random.default_rng(0)
X = rng.standard_normal((48, 6)).astype(np.float32)
Y = (X @ rng.standard_normal((6, 1)) * 0.5).astype(np.float32)
SW = rng.uniform(0.2, 2.0, 48).astype(np.float32)


def frameworks():
    """(keras module, its no_grad) for mgp and for Keras on torch."""
    return [(mgp, mgp.no_grad), (keras_oracle, torch.no_grad)]


def same_weights(ours, theirs):
    theirs.set_weights(ours.get_weights())


def assert_same_run(histories, models, rtol=2e-5):
    (h_ours, h_theirs), (m_ours, m_theirs) = histories, models
    assert set(h_ours.history) == set(h_theirs.history)
    for key in h_ours.history:
        np.testing.assert_allclose(h_ours.history[key], h_theirs.history[key], rtol=rtol,
                                   atol=1e-6, err_msg=key)
    for a, b in zip(m_ours.get_weights(), m_theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=rtol, atol=1e-6)


# ---- the guide's first example: train_step with compute_loss and self.metrics --------------------
def guide_model(keras, no_grad):
    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)  # Forward pass
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input(shape=(6,))
    outputs = keras.layers.Dense(1)(keras.layers.Dense(4, activation="tanh")(inputs))
    return CustomModel(inputs, outputs)


def test_guide_train_step_with_compute_loss_and_metrics_as_keras():
    models = [guide_model(k, ng) for k, ng in frameworks()]
    same_weights(*models)
    histories = []
    for (keras, _), model in zip(frameworks(), models):
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        histories.append(model.fit(X, Y, epochs=3, batch_size=16, shuffle=False, verbose=0))
    assert set(histories[0].history) == {"loss", "mae"}
    assert_same_run(histories, models)


# ---- the fully manual step: trackers of its own, compile() with an optimizer only ---------------
def manual_model(keras, no_grad):
    class CustomModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            # listed so that fit resets them at the start of each epoch
            return [self.loss_tracker, self.mae_metric]

    inputs = keras.Input(shape=(6,))
    return CustomModel(inputs, keras.layers.Dense(1)(inputs))


def test_guide_manual_step_with_own_trackers_as_keras():
    models = [manual_model(k, ng) for k, ng in frameworks()]
    same_weights(*models)
    histories = []
    for model in models:
        model.compile(optimizer="adam")
        histories.append(model.fit(X, Y, epochs=3, batch_size=16, shuffle=False, verbose=0))
    assert_same_run(histories, models)


def test_metrics_found_as_attributes_are_reset_each_epoch():
    """Without the `metrics` property, the trackers are found as attributes (as Keras tracks
    them) and still reset at each epoch: the epoch logs are that epoch's means."""
    class Model(mgp.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.seen = mgp.metrics.Mean(name="seen")

        def train_step(self, data):
            x, _ = data
            self.seen.update_state(float(len(x)), sample_weight=1)
            return {"seen": self.seen.result()}
    inputs = mgp.Input(shape=(6,))
    model = Model(inputs, mgp.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    assert model.metrics[-1] is model.seen
    history = model.fit(X, Y, batch_size=32, epochs=2, verbose=0)  # batches of 32 and 16
    assert history.history["seen"] == [24.0, 24.0]


# ---- sample weights, and an overridden test_step ----------------------------------------------
def weighted_model(keras, no_grad):
    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input(shape=(6,))
    return CustomModel(inputs, keras.layers.Dense(1)(inputs))


def test_guide_sample_weight_and_test_step_as_keras():
    models = [weighted_model(k, ng) for k, ng in frameworks()]
    same_weights(*models)
    histories, evaluations = [], []
    for model in models:
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        histories.append(model.fit(X, Y, sample_weight=SW, epochs=2, batch_size=16,
                                   shuffle=False, verbose=0))
        evaluations.append(model.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True))
    assert_same_run(histories, models)
    assert set(evaluations[0]) == set(evaluations[1]) == {"loss", "mae"}
    for key in evaluations[0]:
        np.testing.assert_allclose(evaluations[0][key], evaluations[1][key], rtol=2e-5)


# ---- compute_loss and compute_metrics overrides (Keras's docstring examples) ---------------------
def overriding_model(keras, no_grad):
    class MyModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.max_tracker = keras.metrics.Mean(name="mean_max")

        def compute_loss(self, x, y, y_pred, sample_weight, training=True):
            loss = keras.ops.mean((y_pred - y) ** 2)
            loss += sum(self.losses)  # the docstring's ops.sum(self.losses), in plain Python
            self.loss_tracker.update_state(loss)
            return loss

        def compute_metrics(self, x, y, y_pred, sample_weight):
            results = super().compute_metrics(x, y, y_pred, sample_weight)
            self.max_tracker.update_state(keras.ops.max(y_pred))
            results["mean_max"] = self.max_tracker.result()
            return results

        def reset_metrics(self):
            self.loss_tracker.reset_state()
            self.max_tracker.reset_state()

        @property
        def metrics(self):
            return [self.loss_tracker, self.max_tracker]

    inputs = keras.Input(shape=(6,))
    outputs = keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(0.01))(inputs)
    return MyModel(inputs, outputs)


def test_compute_loss_and_compute_metrics_overrides_as_keras():
    models = [overriding_model(k, ng) for k, ng in frameworks()]
    same_weights(*models)
    histories = []
    for model in models:
        model.compile(optimizer="sgd", loss="mse")
        histories.append(model.fit(X, Y, epochs=2, batch_size=16, shuffle=False, verbose=0))
    assert set(histories[0].history) == {"loss", "mean_max"}
    assert_same_run(histories, models)


# ---- a GAN: two models, two optimizers, compile() overridden -------------------------------------
LATENT = 3
NOISE = rng.standard_normal((48, LATENT)).astype(np.float32)


def gan(keras, no_grad):
    concatenate = keras.ops.concatenate

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.step = 0
            self.built = True

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            if isinstance(real_images, tuple):
                real_images = real_images[0]
            batch_size = real_images.shape[0]
            # the guide draws keras.random.normal; a fixed draw makes the runs comparable
            start = self.step * batch_size
            random_latent_vectors = NOISE[start:start + batch_size]
            self.step += 1
            generated_images = self.generator(random_latent_vectors)
            combined_images = concatenate([generated_images, real_images], axis=0)
            labels = np.concatenate([np.ones((batch_size, 1)), np.zeros((batch_size, 1))],
                                    axis=0).astype(np.float32)

            # train the discriminator
            self.zero_grad()
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
            d_loss.backward()
            grads = [v.value.grad for v in self.discriminator.trainable_weights]
            with no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

            # train the generator through the discriminator, whose weights stay
            misleading_labels = np.zeros((batch_size, 1), np.float32)
            self.zero_grad()
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
            g_loss.backward()
            grads = [v.value.grad for v in self.generator.trainable_weights]
            with no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)

            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(),
                    "g_loss": self.g_loss_tracker.result()}

    layers = keras.layers
    discriminator = keras.Sequential([keras.Input((6,)), layers.Dense(5),
                                      layers.LeakyReLU(negative_slope=0.2), layers.Dense(1)],
                                     name="discriminator")
    generator = keras.Sequential([keras.Input((LATENT,)), layers.Dense(5, activation="relu"),
                                  layers.Dense(6)], name="generator")
    return GAN(discriminator, generator, LATENT)


def test_gan_with_two_optimizers_as_keras():
    models = [gan(k, ng) for k, ng in frameworks()]
    for part in ("discriminator", "generator"):
        same_weights(getattr(models[0], part), getattr(models[1], part))
    histories = []
    for (keras, _), model in zip(frameworks(), models):
        model.compile(d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
                      g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
                      loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
        histories.append(model.fit(X, epochs=1, batch_size=16, shuffle=False, verbose=0))
    assert set(histories[0].history) == {"d_loss", "g_loss"}
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(histories[0].history[key], histories[1].history[key],
                                   rtol=2e-5)
    for part in ("discriminator", "generator"):
        for a, b in zip(getattr(models[0], part).get_weights(),
                        getattr(models[1], part).get_weights()):
            np.testing.assert_allclose(a, np.asarray(b), rtol=2e-5, atol=1e-6)
    assert models[0].d_optimizer.iterations == models[0].g_optimizer.iterations == 3


# ---- the pieces on their own ---------------------------------------------------------------------
def test_step_data_as_fit_evaluate_and_predict_hand_it():
    seen = []

    class Probe(mgp.Model):
        def train_step(self, data):
            seen.append(("train", _describe(data)))
            return super().train_step(data)

        def test_step(self, data):
            seen.append(("test", _describe(data)))
            return super().test_step(data)

        def predict_step(self, data):
            seen.append(("predict", _describe(data)))
            return super().predict_step(data)

    a, b = mgp.Input((6,)), mgp.Input((2,))
    model = Probe([a, b], mgp.layers.Dense(1)(mgp.layers.Concatenate()([a, b])))
    model.compile("sgd", "mse")
    xs = [X[:8], X[:8, :2]]
    model.fit(xs, Y[:8], batch_size=8, verbose=0)
    model.fit(xs, Y[:8], sample_weight=SW[:8], batch_size=8, verbose=0)
    model.evaluate(xs, Y[:8], batch_size=8, verbose=0)
    model.predict(xs, batch_size=8, verbose=0)
    # as Keras hands them: (x, y), (x, y, sample_weight), and (x,) for list inputs
    assert seen == [("train", "tuple[list, Tensor]"), ("train", "tuple[list, Tensor, Tensor]"),
                    ("test", "tuple[list, Tensor]"), ("predict", "tuple[list]")]


def _describe(data):
    if isinstance(data, tuple):
        return "tuple[" + ", ".join(type(d).__name__ for d in data) + "]"
    return type(data).__name__


def test_unpack_x_y_sample_weight_as_keras():
    unpack = mgp.utils.unpack_x_y_sample_weight
    for data in [X, (X,), (X, Y), (X, Y, SW), [X, Y]]:
        ours, theirs = unpack(data), keras_oracle.utils.unpack_x_y_sample_weight(data)
        assert [o is t for o, t in zip(ours, theirs)] == [True] * 3
    with pytest.raises(ValueError, match="got a tuple of 4 items"):
        unpack((X, Y, SW, SW))


def test_compute_loss_adds_regularization_and_add_loss_and_says_when_there_is_none():
    class Penalized(mgp.layers.Layer):
        def call(self, x):
            self.add_loss(mgp.ops.sum(x * x) * 0.5)
            return x
    inputs = mgp.Input((6,))
    dense = mgp.layers.Dense(1, kernel_regularizer=mgp.regularizers.L1(0.1))
    model = mgp.Model(inputs, dense(Penalized()(inputs)))
    model.compile("sgd", "mse")
    y_pred = model(X[:4])
    loss = model.compute_loss(y=Y[:4], y_pred=y_pred)
    expected = np.mean((y_pred.numpy() - Y[:4]) ** 2) + 0.5 * np.sum(X[:4] ** 2) + \
        0.1 * np.abs(dense.kernel.numpy()).sum()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5)
    model(X[:2])  # a new outermost call: the previous call's add_loss losses are gone
    assert len(model.losses) == 2
    bare = mgp.Model(inputs, mgp.layers.Dense(1)(inputs))
    bare.compile("sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        bare.compute_loss(y=Y[:4], y_pred=bare(X[:4]))
    with pytest.raises(ValueError, match="no targets y"):
        model.fit(X, epochs=1, verbose=0)


def test_train_on_batch_and_test_on_batch_as_keras():
    inputs_ours = mgp.Input((6,))
    ours = mgp.Model(inputs_ours, mgp.layers.Dense(1)(inputs_ours))
    k_in = keras_oracle.Input((6,))
    theirs = keras_oracle.Model(k_in, keras_oracle.layers.Dense(1)(k_in))
    same_weights(ours, theirs)
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    for _ in range(2):
        np.testing.assert_allclose(ours.train_on_batch(X, Y), theirs.train_on_batch(X, Y),
                                   rtol=1e-5)
    a = ours.test_on_batch(X, Y, return_dict=True)
    b = theirs.test_on_batch(X, Y, return_dict=True)
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5)
    # after three steps the outputs differ by float32 rounding; an output that cancels to near
    # zero (-0.00095 among values of order 1) needs an absolute bound at that rounding's scale
    np.testing.assert_allclose(ours.predict_on_batch(X), theirs.predict_on_batch(X), rtol=1e-5,
                               atol=1e-6)
