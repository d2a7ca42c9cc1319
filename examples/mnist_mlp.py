"""A multilayer perceptron on MNIST: flatten the pixels, two Dense layers, softmax.

Run:  python examples/mnist_mlp.py
"""
import mgp
from mgp import layers

mgp.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = mgp.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255

model = mgp.Sequential([
    mgp.Input(shape=(784,)),
    layers.Dense(128, activation="relu"),
    layers.Dropout(0.2),
    layers.Dense(10, activation="softmax"),
])
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=128, epochs=5, validation_split=0.1)
test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy {test_acc:.4f}, loss {test_loss:.4f}")
print("validation accuracy per epoch:", [round(a, 4) for a in history.history["val_accuracy"]])
