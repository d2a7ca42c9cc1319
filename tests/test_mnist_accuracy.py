"""The promise of the README: a small CNN reaches 97%+ on the real MNIST test set.

Trains on the real data (about a minute on 2 cores); runs in CI, reading MGP_DATA_DIR.
"""
import numpy as np
import pytest

import mgp
from mgp import layers


def test_cnn_reaches_97_percent_on_the_full_mnist_test_set():
    mgp.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = mgp.datasets.mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    x_train = x_train[..., None].astype(np.float32) / 255
    x_test = x_test[..., None].astype(np.float32) / 255
    model = mgp.Sequential([
        mgp.Input(shape=(28, 28, 1)),
        layers.Conv2D(16, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    assert history.history["accuracy"][0] > 0.9
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    predicted = model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1)
    assert np.mean(predicted == y_test) == pytest.approx(accuracy)
    assert accuracy >= 0.97, f"test accuracy {accuracy:.4f} < 0.97"
