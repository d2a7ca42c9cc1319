"""fit, evaluate and predict find each layer's sublayers once (layers.base.cached_structure):
a layer attribute set during the loop must still be seen at once."""
import numpy as np

import mgp
from mgp import layers
from mgp.layers.base import cached_structure


class LateBlock(mgp.Model):
    """Makes a second Dense on its first call, inside fit's loop."""

    def __init__(self):
        super().__init__()
        self.first = layers.Dense(4, activation="relu")

    def call(self, x):
        if not hasattr(self, "second"):
            self.second = layers.Dense(2)
        return self.second(self.first(x))


def test_a_sublayer_made_inside_fit_is_trained():
    model = LateBlock()
    model.compile(optimizer=mgp.optimizers.SGD(0.1), loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), np.ones((16, 2), np.float32)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert len(model.trainable_weights) == 4
    before = [w.numpy().copy() for w in model.second.trainable_weights]
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    after = [w.numpy() for w in model.second.trainable_weights]
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))


def test_setting_a_layer_attribute_clears_the_cache():
    model = LateBlock()
    model(np.ones((1, 3), np.float32))
    with cached_structure():
        assert len(model.trainable_weights) == 4
        model.third = layers.Dense(1)
        model.third.build((None, 2))
        assert len(model.trainable_weights) == 6
        del model.third
        assert len(model.trainable_weights) == 4
        layers_seen = model.layers
        layers_seen.append("not a layer")  # the caller's copy: the cache is not touched
        assert len(model.layers) == 2
