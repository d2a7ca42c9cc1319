"""A functional model with a skip connection: y = relu(conv(conv(x)) + x), on MNIST.

Shows the functional API: `mgp.Input`, layers called on symbolic tensors, `layers.Add` for the
residual, `mgp.Model(inputs, outputs)`, and a feature extractor built from another model's layer.

Run:  python examples/functional_residual.py
"""
import mgp
from mgp import layers

mgp.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = mgp.datasets.mnist.load_data()
x_train = x_train[:20000, ..., None].astype("float32") / 255
y_train = y_train[:20000]
x_test = x_test[..., None].astype("float32") / 255

inputs = mgp.Input(shape=(28, 28, 1))
x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
x = layers.MaxPooling2D(2)(x)                                  # (14, 14, 16)
shortcut = x
x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
x = layers.Conv2D(16, 3, padding="same")(x)
x = layers.Activation("relu")(layers.Add()([x, shortcut]))     # the skip connection
x = layers.MaxPooling2D(2)(x)                                  # (7, 7, 16)
x = layers.Flatten(name="features")(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = mgp.Model(inputs, outputs, name="residual_cnn")
model.summary()

model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=64, epochs=1)
loss, acc = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
print(f"test accuracy {acc:.4f}")

# Any layer's output can seed a new model: here, the 784 features the classifier sees.
extractor = mgp.Model(model.inputs, model.get_layer("features").output)
print("features of the first 3 test images:", extractor.predict(x_test[:3], verbose=0).shape)
