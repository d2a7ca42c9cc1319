"""mgp on a real NVIDIA GPU through CuPy, compared with the CPU.

Runs only with `pytest -m gpu` on a machine with CuPy and a GPU (skipped elsewhere; the default
run deselects it). Results agree with the CPU to rounding, not bit for bit: cuBLAS and CuPy's
reductions add in another order, and CuPy's exp/log/tanh differ from NumPy's in the last bits.
"""
import numpy as np
import pytest

import mgp
from mgp import backend, layers

cupy = pytest.importorskip("cupy")
pytestmark = pytest.mark.gpu

from test_device import OPS, images, on, small_cnn, train  # noqa: E402  (after the skip)


@pytest.fixture(scope="module", autouse=True)
def gpu():
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as e:
        pytest.skip(f"CuPy is installed but sees no GPU: {e}")
    if count == 0:
        pytest.skip("CuPy is installed but sees no GPU")
    mgp.set_device("cuda")
    yield
    mgp.set_device("cpu")


def _value_and_grads(fn, arrays, dtype):
    inputs = [mgp.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    out.sum().backward()
    assert out.device == mgp.get_device() and out.dtype == dtype
    return [out.numpy()] + [backend.to_numpy(t.grad) for t in inputs]


@pytest.mark.parametrize("dtype, rtol, atol", [(np.float64, 1e-9, 1e-12),
                                               (np.float32, 1e-4, 1e-5)])
@pytest.mark.parametrize("name, fn, arrays", OPS, ids=[c[0] for c in OPS])
def test_op_value_and_gradients_on_gpu_match_cpu(name, fn, arrays, dtype, rtol, atol):
    got = _value_and_grads(fn, arrays, dtype)
    assert all(type(a) is np.ndarray for a in got)
    for g, want in zip(got, on("cpu", _value_and_grads, fn, arrays, dtype)):
        np.testing.assert_allclose(g, want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name, fn, arrays", OPS, ids=[c[0] for c in OPS])
def test_gradcheck_on_gpu(name, fn, arrays):
    inputs = [mgp.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    assert all(t.device == "cuda" for t in inputs)
    assert mgp.gradcheck(fn, *inputs)


def test_repeated_index_gradient_adds_up_on_gpu():
    # the scatter-add behind x[[0, 0, 2]] uses atomics on the GPU: every repeat must count
    x = mgp.tensor(np.ones((3, 2)), requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(backend.to_numpy(x.grad), [[3, 3], [0, 0], [1, 1]])


def test_model_forward_and_backward_on_gpu_match_cpu():
    x, y = images()
    mgp.utils.set_random_seed(0)
    model = small_cnn()
    model(x[:2])
    weights = model.get_weights()

    def grads():
        model.set_weights(weights)
        loss = mgp.losses.SparseCategoricalCrossentropy()(y, model(x, training=True))
        loss.backward()
        return [loss.numpy()] + [backend.to_numpy(w.grad) for w in model.trainable_weights]
    on_gpu = grads()
    for w in model.trainable_weights:
        w.grad = None
    for g, c in zip(on_gpu, on("cpu", grads)):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-6)


def test_training_on_gpu_follows_the_cpu_and_reproduces_run_to_run():
    _, history, evaluated, predicted = train()
    _, cpu_history, cpu_evaluated, cpu_predicted = on("cpu", train)
    for key in history:
        np.testing.assert_allclose(history[key], cpu_history[key], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(predicted, cpu_predicted, rtol=1e-3, atol=1e-4)
    # same seed, same GPU: the same numbers (dropout masks from CuPy's seeded generator)
    first, again = train(dropout=0.5), train(dropout=0.5)
    assert first[1] == again[1]
    np.testing.assert_array_equal(first[3], again[3])


def test_weights_saved_on_gpu_load_on_cpu(tmp_path):
    model = train(epochs=1)[0]
    x = images()[0]
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "gpu.keras")

    def load():
        loaded = mgp.models.load_model(tmp_path / "gpu.keras")
        assert all(w.device == "cpu" for w in loaded.weights)
        return loaded.predict(x, verbose=0)
    np.testing.assert_allclose(on("cpu", load), expected, rtol=1e-4, atol=1e-6)


def _mnist_convnet(n_train=20_000):
    """The Keras MNIST convnet, one epoch on `n_train` images; returns test accuracy."""
    mgp.utils.set_random_seed(0)
    (x, y), (x_test, y_test) = mgp.datasets.mnist.load_data()
    prep = lambda a: (a.astype(np.float32) / 255)[..., None]  # noqa: E731
    model = mgp.Sequential([
        mgp.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
        layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(prep(x[:n_train]), y[:n_train], batch_size=128, epochs=1, verbose=0)
    assert all(w.device == mgp.get_device() for w in model.weights)
    return model.evaluate(prep(x_test), y_test, batch_size=1000, verbose=0)[1]


def test_mnist_on_gpu_reaches_the_cpu_accuracy():
    gpu_accuracy = _mnist_convnet()
    cpu_accuracy = on("cpu", _mnist_convnet)
    # one epoch on a third of the data: about 0.95 (0.948 with the NumPy stand-in for CuPy)
    message = f"test accuracy {gpu_accuracy:.4f} on the GPU, {cpu_accuracy:.4f} on the CPU"
    assert gpu_accuracy >= 0.93, message
    assert gpu_accuracy >= cpu_accuracy - 0.01, message
