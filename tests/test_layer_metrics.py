"""`Layer.metrics`: the metrics a plain layer creates as attributes, tracked (its own, then its
layers') and reported and reset by the model's `fit`, as in Keras 3.15 (torch backend)."""
import numpy as np
import pytest

import oracles

import mgp

keras = oracles.keras()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _classes(K):
    class Tracking(K.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.activity = K.metrics.Mean(name="activity")

        def call(self, x):
            self.activity.update_state(K.ops.mean(K.ops.abs(x)))
            return x

    class Outer(K.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.total = K.metrics.Sum(name="total")
            self.inner = Tracking()

        def call(self, x):
            self.total.update_state(K.ops.sum(x))
            return self.inner(x)
    return Tracking, Outer


@pytest.mark.parametrize("K", [mgp, keras], ids=["mgp", "keras"])
def test_layer_metrics_own_then_its_layers(K):
    _, Outer = _classes(K)
    layer = Outer()
    assert [m.name for m in layer.metrics] == ["total", "activity"]
    assert layer.metrics_variables == [v for m in layer.metrics for v in m.variables]
    layer(np.ones((2, 3), "float32"))
    assert float(layer.inner.activity.result()) == 1.0


def _fit(K, x, y):
    Tracking, _ = _classes(K)
    inputs = K.Input((3,))
    model = K.Model(inputs, K.layers.Dense(2, kernel_initializer="ones")(Tracking()(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    return model, history.history


def test_fit_reports_and_resets_a_layers_metric_as_keras():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)).astype("float32"), np.zeros((6, 2), "float32")
    ours, our_history = _fit(mgp, x, y)
    theirs, their_history = _fit(keras, x, y)
    assert set(our_history) == set(their_history) == {"loss", "activity"}
    # reset at each epoch: every epoch averages the same batches
    np.testing.assert_allclose(our_history["activity"], their_history["activity"], rtol=1e-6)
    assert [m.name for m in ours.metrics] == [m.name for m in theirs.metrics]
    ours.reset_metrics()
    assert float(ours.layers[1].activity.result()) == 0.0
