"""The digit model of the demo: a small CNN trained on MNIST, and a drawing made to look like an
MNIST digit before the model sees it."""
import os

import numpy as np

import mgp
from mgp import layers

CANVAS = 140  # the page sends its drawing as CANVAS x CANVAS grey levels


def build_model():
    """Conv(8, 3x3) -> pool -> Conv(16, 3x3) -> pool -> Dense(10): 4,882 weights."""
    return mgp.Sequential([
        mgp.Input(shape=(28, 28, 1)),
        layers.Conv2D(8, 3, activation="relu", name="conv1"),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 3, activation="relu", name="conv2"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax", name="probabilities"),
    ], name="digits")


def train_model(samples=60000, epochs=3, batch_size=64, seed=0, verbose="auto"):
    """A model trained on the first `samples` MNIST training images; returns (model, test
    accuracy on 2,000 test images)."""
    mgp.utils.set_random_seed(seed)
    (x, y), (x_test, y_test) = mgp.datasets.mnist.load_data()
    x = x[:samples, :, :, None].astype("float32") / 255
    x_test = x_test[:2000, :, :, None].astype("float32") / 255
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y[:samples], batch_size=batch_size, epochs=epochs, verbose=verbose)
    _, accuracy = model.evaluate(x_test, y_test[:2000], verbose=0)
    return model, float(accuracy)


def load_or_train(path, retrain=False, **train_args):
    """The model saved at `path` (a `.weights.h5` file), or a new one trained and saved there.
    Returns (model, test accuracy or None when loaded)."""
    if os.path.exists(path) and not retrain:
        model = build_model()
        model.load_weights(path)
        return model, None
    model, accuracy = train_model(**train_args)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    model.save_weights(path)
    return model, accuracy


def _area_resize_matrix(n_in, n_out):
    """(n_out, n_in) weights that average the input over each output cell (a box filter)."""
    edges = np.linspace(0, n_in, n_out + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    cells = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, cells + 1) - np.maximum(lo, cells), 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def mnist_like(image):
    """A drawing (H, W grey levels in [0, 1], white on black) made into a 28x28 MNIST digit:
    the bounding box of the ink scaled (aspect kept) so that its longer side is 20 pixels,
    then placed so that its centre of mass is at the centre of the 28x28 field, as MNIST's
    digits were. Returns float32 (28, 28) in [0, 1]; all zeros for an empty drawing."""
    image = np.asarray(image, dtype=np.float64)
    rows, cols = np.nonzero(image > 0.05)
    out = np.zeros((28, 28), dtype=np.float32)
    if rows.size == 0:
        return out
    box = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = box.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = _area_resize_matrix(h, new_h) @ box @ _area_resize_matrix(w, new_w).T
    total = small.sum()
    cy = (small.sum(axis=1) * np.arange(new_h)).sum() / total
    cx = (small.sum(axis=0) * np.arange(new_w)).sum() / total
    top = int(round(13.5 - cy))
    left = int(round(13.5 - cx))
    # paste, clipped to the field (a long thin stroke's mass can sit near one end)
    top, left = min(max(top, 0), 28 - new_h), min(max(left, 0), 28 - new_w)
    out[top:top + new_h, left:left + new_w] = small
    return np.clip(out, 0, 1)
