"""The TensorBoard callback's event files, read back with TensorBoard's own reader: the scalars
per epoch and per batch, histograms, images and the model graph, under Keras's tags."""
import io
import json
import os

import numpy as np
import oracles
import pytest

from mgp import callbacks, layers, optimizers
from mgp.callbacks.event_file import EventFileWriter, crc32c, histogram_buckets
from mgp.models import Model, Sequential
from mgp.utils import set_random_seed


@pytest.fixture(scope="module")
def tb():
    oracles.tensorboard()
    from tensorboard.backend.event_processing import plugin_event_accumulator
    from tensorboard.util import tensor_util
    return plugin_event_accumulator, tensor_util


def read(tb, folder):
    """{tag: [(step, value), ...]} and {tag: plugin name} of every event file in `folder`."""
    accumulator, tensor_util = tb
    acc = accumulator.EventAccumulator(folder, size_guidance={"tensors": 0})
    acc.Reload()
    values = {t: [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(t)]
              for t in acc.Tags()["tensors"]}
    plugins = {t: acc.SummaryMetadata(t).plugin_data.plugin_name for t in values}
    return values, plugins


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)


def model():
    set_random_seed(0)
    m = Sequential([layers.Input((4,)), layers.Dense(3, activation="relu", name="hidden"),
                    layers.Dense(1, name="out")], name="net")
    m.compile(optimizer=optimizers.SGD(0.01), loss="mse", metrics=["mae"])
    return m


def test_scalars_histograms_images_and_graph(tb, tmp_path):
    m = model()
    board = callbacks.TensorBoard(tmp_path, histogram_freq=2, write_images=True, update_freq=3,
                                  write_steps_per_second=True)
    history = m.fit(*data(), batch_size=10, epochs=3, validation_data=data(20, 1), verbose=0,
                    callbacks=[board]).history
    train, train_plugins = read(tb, str(tmp_path / "train"))
    val, _ = read(tb, str(tmp_path / "validation"))

    # per epoch: the training logs and the learning rate in train/, the val_ logs in validation/
    for name in ["loss", "mae"]:
        assert [s for s, _ in train[f"epoch_{name}"]] == [0, 1, 2]
        np.testing.assert_allclose([float(v) for _, v in train[f"epoch_{name}"]],
                                   history[name], rtol=1e-6)
        np.testing.assert_allclose([float(v) for _, v in val[f"epoch_{name}"]],
                                   history[f"val_{name}"], rtol=1e-6)
    np.testing.assert_allclose([float(v) for _, v in train["epoch_learning_rate"]], [0.01] * 3)
    assert all(float(v) > 0 for _, v in train["epoch_steps_per_second"])
    # per batch, every update_freq=3 global batches (4 a epoch: 3, 6, 9, 12)
    assert [s for s, _ in train["batch_loss"]] == [3, 6, 9, 12]
    assert [s for s, _ in train["batch_steps_per_second"]] == [3, 6, 9, 12]
    # after each evaluation, at the optimizer's step count
    assert [s for s, _ in val["evaluation_loss_vs_iterations"]] == [4, 8, 12]
    np.testing.assert_allclose([float(v) for _, v in val["evaluation_loss_vs_iterations"]],
                               history["val_loss"], rtol=1e-6)
    assert train_plugins["epoch_loss"] == "scalars" and train["epoch_loss"][0][1].dtype == \
        np.float32

    # histograms of every weight at epochs 0 and 2, under the layer path Keras uses
    weights = {f"net/{layer.name}/{w.name}": w.numpy() for layer in m.layers
               for w in layer.weights}
    for tag, value in weights.items():
        histograms = train[f"{tag}/histogram"]
        assert train_plugins[f"{tag}/histogram"] == "histograms"
        assert [s for s, _ in histograms] == [0, 2]
        buckets = histograms[-1][1]
        assert buckets.shape == (30, 3) and buckets[:, 2].sum() == value.size
        assert buckets[0, 0] == value.min() and buckets[-1, 1] == value.max()
        np.testing.assert_array_equal(buckets, histogram_buckets(value))

    # the kernel as an image, wide side across, values clipped to [0, 1] as grey levels
    from PIL import Image
    strings = train["net/hidden/kernel/image"][-1][1]
    width, height = int(strings[0]), int(strings[1])
    kernel = weights["net/hidden/kernel"]
    assert (height, width) == (kernel.shape[1], kernel.shape[0])  # (4, 3) shown as 3 x 4
    pixels = np.asarray(Image.open(io.BytesIO(strings[2])))
    np.testing.assert_array_equal(pixels, np.clip(kernel.T * 255.5, 0, 255).astype(np.uint8))

    # the graph: the model's config, which TensorBoard's graph plugin turns into nodes
    from tensorboard.plugins.graph import keras_util
    assert train_plugins["keras"] == "graph_keras_model"
    config = json.loads(train["keras"][0][1].reshape(-1)[0].decode())
    graph = keras_util.keras_model_to_graph_def(config)
    assert {"net/hidden", "net/out"} <= {node.name for node in graph.node}


def test_epoch_only_by_default_and_a_functional_graph(tb, tmp_path):
    set_random_seed(0)
    inputs = layers.Input((4,))
    outputs = layers.Dense(1, name="head")(layers.Dense(2, name="body")(inputs))
    m = Model(inputs, outputs, name="fn")
    m.compile(optimizer=optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.SGD(0.01, name="slow"), {".*bias": optimizers.Adam(0.001, name="quick")})),
        loss="mse")
    m.fit(*data(), batch_size=10, epochs=2, verbose=0, callbacks=[callbacks.TensorBoard(tmp_path)])
    train, _ = read(tb, str(tmp_path / "train"))
    assert not any(t.startswith("batch_") for t in train)  # update_freq="epoch"
    assert not any(t.endswith("/histogram") for t in train)  # histogram_freq=0
    assert not os.path.exists(tmp_path / "validation")
    # a MultiOptimizer: one rate per inner optimizer
    np.testing.assert_allclose(float(train["epoch_learning_rate_quick"][0][1]), 0.001)
    np.testing.assert_allclose(float(train["epoch_learning_rate_slow"][0][1]), 0.01)
    from tensorboard.plugins.graph import keras_util
    config = json.loads(train["keras"][0][1].reshape(-1)[0].decode())
    nodes = {node.name: list(node.input) for node in
             keras_util.keras_model_to_graph_def(config).node}
    assert nodes["fn/head"] == ["fn/body"]  # the edge, from the layer's inbound node
    assert nodes["fn/body"] == [n for n in nodes if n.startswith("fn/input_layer")]


def test_the_reader_checks_our_checksums(tb, tmp_path):
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    writer = EventFileWriter(str(tmp_path))
    writer.scalar("x", 1.5, 7)
    writer.close()
    values, _ = read(tb, str(tmp_path))
    assert values == {"x": [(7, np.float32(1.5))]}
    with open(writer.path, "rb") as f:
        raw = bytearray(f.read())
    raw[-6] ^= 1  # a flipped bit in the last event's data
    with open(writer.path, "wb") as f:
        f.write(bytes(raw))
    from tensorboard.compat.tensorflow_stub import errors
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import PyRecordReader_New
    reader = PyRecordReader_New(writer.path)
    reader.GetNext()  # the version event is intact
    with pytest.raises(errors.DataLossError, match="crc32"):
        reader.GetNext()


def test_histogram_buckets_as_tensorflow():
    buckets = histogram_buckets(np.array([5.0, 5.0, 5.0]), 4)
    np.testing.assert_array_equal(buckets, [[5, 5, 0], [5, 5, 0], [5, 5, 0], [5, 5, 3]])
    buckets = histogram_buckets(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 4)
    np.testing.assert_array_equal(buckets[:, 2], [1, 1, 1, 2])  # the maximum in the last
    np.testing.assert_array_equal(histogram_buckets(np.array([]), 3), np.zeros((3, 3)))


@pytest.mark.parametrize("kwargs,message", [
    ({"profile_batch": 2}, "profiling is not available"),
    ({"update_freq": "sometimes"}, "update_freq must be 'epoch', 'batch' or an integer"),
    ({"histogram_freq": -1}, "histogram_freq must be an integer >= 0"),
])
def test_bad_arguments(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        callbacks.TensorBoard(tmp_path, **kwargs)
