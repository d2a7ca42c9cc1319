"""Train a small CNN on MNIST with mgp's Keras-style API.

Measured on a 2-core machine (bench/RESULTS.md): 98.26% test accuracy after 2 epochs, in 27.0 s of
training and evaluation (28.8 s wall for the whole script). The data is downloaded on first use
(to ~/.mgp/datasets), or read from the folder named by MGP_DATA_DIR.

Run:  python examples/mnist_cnn.py
"""
import time

import mgp
from mgp import layers

mgp.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = mgp.datasets.mnist.load_data()
x_train = x_train[..., None].astype("float32") / 255   # (60000, 28, 28, 1): channels last
x_test = x_test[..., None].astype("float32") / 255

model = mgp.Sequential([
    mgp.Input(shape=(28, 28, 1)),
    layers.Conv2D(16, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Conv2D(32, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

start = time.perf_counter()
model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.1)
test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
print(f"test accuracy {test_acc:.4f} (loss {test_loss:.4f}) after "
      f"{time.perf_counter() - start:.1f} s of training and evaluation")

model.save_weights("mnist_cnn.weights.h5")
print("weights saved to mnist_cnn.weights.h5")
