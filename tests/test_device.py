"""The device seam, tested on the CPU: `fake_cupy` stands in for CuPy, as strict as CuPy about
host and device arrays, so any code path that bypasses `mgp.backend.xp` or forgets `to_numpy`
fails here. Its arithmetic is NumPy's, so device results must equal the CPU's exactly (on a real
GPU they agree to rounding only; tests/test_gpu.py checks that)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fake_cupy
import mgp
from mgp import ops as F
from mgp import backend, layers, optimizers

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cuda(monkeypatch):
    """mgp on the stand-in GPU for the test, back on the CPU after it."""
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setattr(fake_cupy, "visible_gpus", 1)
    mgp.set_device("cuda")
    yield fake_cupy
    mgp.set_device("cpu")


def on(device, fn, *args):
    """Run `fn` with `device` active, then go back to the device that was active."""
    before = mgp.get_device()
    mgp.set_device(device)
    try:
        return fn(*args)
    finally:
        mgp.set_device(before)


def is_device_array(a):
    return isinstance(a, fake_cupy.ndarray)


# ============================================ the switch ============================================

def test_cpu_is_the_default_and_the_stand_in_is_strict(cuda):
    assert on("cpu", lambda: (mgp.get_device(), type(mgp.tensor([1.0]).data))) == ("cpu",
                                                                                     np.ndarray)
    t = mgp.tensor([1.0, 2.0])
    assert mgp.get_device() == "cuda" and t.device == "cuda" and is_device_array(t.data)
    # the stand-in refuses what CuPy refuses, so the tests below mean something
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(t.data)
    with pytest.raises(TypeError, match="Unsupported type"):
        t.data + np.ones(2)
    with pytest.raises(TypeError):
        np.exp(t.data)


def test_set_device_names_and_errors(cuda):
    mgp.set_device("GPU")
    assert mgp.get_device() == "cuda"
    with pytest.raises(ValueError, match=r"unknown device 'tpu'; known: 'cpu', 'cuda'"):
        mgp.set_device("tpu")
    assert mgp.get_device() == "cuda"  # a bad name changes nothing


def test_missing_cupy_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
    with pytest.raises(ImportError, match=r"pip install mgp\[cuda\]"):
        mgp.set_device("cuda")
    with pytest.raises(ImportError, match=r"pip install mgp\[cuda\]"):
        mgp.tensor([1.0]).to("cuda")
    assert mgp.get_device() == "cpu"


def test_no_visible_gpu_and_old_cupy_are_clear_errors(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setattr(fake_cupy, "visible_gpus", 0)
    with pytest.raises(RuntimeError, match="cannot reach a GPU.*MGP_DEVICE=cpu"):
        mgp.set_device("cuda")
    monkeypatch.setattr(fake_cupy, "visible_gpus", 1)
    monkeypatch.setattr(fake_cupy, "__version__", "12.3.0")
    with pytest.raises(ImportError, match="CuPy 13 or newer, found 12.3.0"):
        mgp.set_device("cuda")
    assert mgp.get_device() == "cpu"


def test_environment_variable_selects_the_device(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    try:
        monkeypatch.setenv("MGP_DEVICE", "cuda")
        backend._device_from_environment()
        assert mgp.get_device() == "cuda"
        monkeypatch.setenv("MGP_DEVICE", "cpu")
        backend._device_from_environment()
        assert mgp.get_device() == "cpu"
        monkeypatch.setenv("MGP_DEVICE", "npu")
        with pytest.raises(ValueError, match="MGP_DEVICE='npu' is not a device"):
            backend._device_from_environment()
    finally:
        mgp.set_device("cpu")


def test_importing_mgp_with_mgp_device_cuda_and_no_cupy_fails_clearly():
    code = "import sys; sys.modules['cupy'] = None; import mgp"
    env = {**os.environ, "MGP_DEVICE": "cuda", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "pip install mgp[cuda]" in result.stderr


# ============================================ moving tensors ========================================

def test_tensor_to_cpu_and_back_and_gradients_follow(cuda):
    host = on("cpu", lambda: mgp.tensor([1.0, -2.0, 3.0], requires_grad=True))
    assert host.device == "cpu" and host.to("cpu") is host and host.cpu() is host
    dev = host.cuda()
    assert dev.device == "cuda" and is_device_array(dev.data) and dev.to("gpu") is dev
    (dev * dev).sum().backward()
    assert type(host.grad) is np.ndarray  # the gradient came back to the host
    np.testing.assert_array_equal(host.grad, [2.0, -4.0, 6.0])
    back = dev.cpu()
    assert back.device == "cpu" and type(back.numpy()) is np.ndarray
    np.testing.assert_array_equal(back.numpy(), host.numpy())
    # a tensor of another device's array is copied to the active one
    assert on("cpu", lambda: mgp.tensor(dev.data).device) == "cpu"
    assert mgp.tensor(host.data).device == "cuda"
    assert "tensor([ 1., -2.,  3.]" in repr(dev)


# ================================================ ops ===============================================

def _t(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


# (name, function, input arrays): every input is differentiated
OPS = [
    ("add_broadcast", lambda a, b: a + b, [_t(3, 1), _t(4)]),
    ("sub_mul_div", lambda a, b: (a - b) * a / (b * b + 1), [_t(2, 3), _t(3)]),
    ("pow", lambda a, b: a.abs() ** b + a ** 3, [_t(4), _t(4)]),
    ("exp_log_sqrt", lambda a: (a.exp() + 1).log() + (a * a + 1).sqrt(), [_t(5)]),
    ("tanh_sigmoid_relu", lambda a: a.tanh() * a.sigmoid() + a.relu(), [_t(6)]),
    ("gelu_elu_softplus", lambda a: F.gelu(a) + F.elu(a) + F.softplus(a) + F.leaky_relu(a),
     [_t(6)]),
    ("max_min_ties", lambda a: a.max(axis=1) + a.clip(-0.5, 0.5).min(axis=0).sum(),
     [np.array([[1.0, 3.0, 3.0], [0.0, -1.0, 2.0]])]),
    ("logsumexp_var_mean", lambda a: a.logsumexp(axis=0) + a.var(axis=0) + a.mean(), [_t(3, 4)]),
    ("matmul_1d_batched", lambda a, b, c: (a @ b).sum() + (b.T @ c).sum(),
     [_t(4), _t(4, 3), _t(2, 4, 5)]),
    ("getitem_repeated", lambda a: a[[0, 0, 2]] * a[1:, ::2].sum() + a[np.array([1, 1])].sum(),
     [_t(3, 4)]),
    ("movement", lambda a, b: F.concatenate([a, b], axis=1).transpose(1, 0).reshape(-1, 1)
     .squeeze(1).expand_dims(0) * F.stack([b, b]).sum(), [_t(2, 3), _t(2, 2)]),
    ("pad_where_maximum", lambda a, b: F.pad(F.where(a > 0, a, b), ((1, 0), (0, 2)))
     + F.maximum(a, b).sum(), [_t(2, 3), _t(2, 3, seed=1)]),
    ("softmax_log_softmax", lambda a: F.softmax(a) * F.log_softmax(a, axis=0), [_t(3, 5)]),
    ("cross_entropies", lambda a: F.nn.cross_entropy(a, mgp.tensor([1, 3, 0])).sum()
     + F.nn.cross_entropy(a, mgp.tensor(np.eye(5)[[4, 0, 2]])).sum()
     + F.nn.binary_cross_entropy_with_logits(a, mgp.tensor(np.eye(5)[[4, 0, 2]])).mean(),
     [_t(3, 5)]),
    ("conv2d_same_strided", lambda x, k, b: F.nn.conv2d(x, k, b, strides=2, padding="same"),
     [_t(2, 5, 5, 2), _t(3, 3, 2, 3), _t(3)]),
    ("conv2d_channels_first_dilated", lambda x, k: F.nn.conv2d(
        x, k, dilation_rate=2, data_format="channels_first"), [_t(1, 2, 6, 6), _t(2, 2, 2, 2)]),
    ("pooling", lambda x: F.nn.max_pool2d(x, 2, padding="same").sum()
     + F.nn.avg_pool2d(x, 2, padding="same").sum() + F.nn.global_avg_pool2d(x).sum(),
     [_t(2, 5, 5, 2)]),
    ("batch_norm", lambda x, g, b: F.nn.batch_norm(x, g, b)[0], [_t(4, 3), _t(3), _t(3)]),
    ("conv1d_grouped_conv3d", lambda x, k, v, w: mgp.ops.conv(x, k, 2, "same").sum()
     + mgp.ops.conv(v, w, 1, "valid", "channels_first").sum(),
     [_t(2, 7, 4), _t(3, 2, 4), _t(1, 2, 4, 3, 3), _t(2, 2, 2, 2, 3)]),
    ("conv_transpose_depthwise", lambda x, k, d: mgp.ops.conv_transpose(x, k, 2, "same").sum()
     + mgp.ops.depthwise_conv(x, d, 1, "same").sum(),
     [_t(2, 4, 3, 2), _t(3, 3, 3, 2), _t(2, 2, 2, 2)]),
    ("pools_nd", lambda x, y: mgp.ops.max_pool(x, 2, 1, "same").sum()
     + mgp.ops.average_pool(y, 3, 2, "same").sum(), [_t(1, 4, 3, 4, 2), _t(2, 7, 3)]),
]


def _value_and_grads(fn, arrays):
    inputs = [mgp.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    out.sum().backward()
    assert out.device == mgp.get_device()
    assert all(t.grad is not None and backend.device_of(t.grad) == mgp.get_device()
               for t in inputs)
    return [out.numpy()] + [backend.to_numpy(t.grad) for t in inputs]


@pytest.mark.parametrize("name, fn, arrays", OPS, ids=[c[0] for c in OPS])
def test_op_on_device_equals_cpu(cuda, name, fn, arrays):
    expected = on("cpu", _value_and_grads, fn, arrays)
    for got, want in zip(_value_and_grads(fn, arrays), expected):
        assert type(got) is np.ndarray
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name, fn, arrays", OPS[::3], ids=[c[0] for c in OPS[::3]])
def test_gradcheck_on_device(cuda, name, fn, arrays):
    inputs = [mgp.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    assert mgp.gradcheck(fn, *inputs)
    assert mgp.gradcheck(fn, *inputs, fast=True)


# ========================================== models, training ========================================

def small_cnn(dropout=0.0):
    return mgp.Sequential([
        mgp.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.BatchNormalization(), layers.Flatten(), layers.Dropout(dropout),
        layers.Dense(3, activation="softmax")])


def images(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 8, 8, 1), dtype=np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) * 6).astype(np.int64) % 3
    return x, y


def train(optimizer="adam", dropout=0.0, epochs=2, seed=0):
    """Seeded fit + evaluate + predict of the small CNN; returns what a user sees."""
    mgp.utils.set_random_seed(seed)
    x, y = images()
    model = small_cnn(dropout)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, validation_split=0.25)
    return model, history.history, model.evaluate(x, y, verbose=0), model.predict(x, verbose=0)


def test_fit_evaluate_predict_on_device_equal_the_cpu(cuda):
    model, history, evaluated, predicted = train()
    assert all(w.device == "cuda" for w in model.weights)
    assert type(predicted) is np.ndarray and predicted.shape == (48, 3)
    assert all(type(v) is float for values in history.values() for v in values)
    _, cpu_history, cpu_evaluated, cpu_predicted = on("cpu", train)
    # same seed, same initial weights and batch order (drawn on the host), same arithmetic
    assert history == cpu_history and evaluated == cpu_evaluated
    np.testing.assert_array_equal(predicted, cpu_predicted)


@pytest.mark.parametrize("optimizer", [
    optimizers.SGD(0.1, momentum=0.9, nesterov=True, clipnorm=1.0),
    optimizers.Adam(amsgrad=True, global_clipnorm=1.0), optimizers.AdamW(clipvalue=0.5),
    optimizers.RMSprop(momentum=0.5, centered=True, weight_decay=0.01), optimizers.Adagrad(),
    optimizers.Adadelta(1.0), optimizers.Adamax(use_ema=True, ema_overwrite_frequency=2),
    optimizers.Nadam(gradient_accumulation_steps=2), optimizers.Lion(weight_decay=0.1),
    optimizers.Lamb(), optimizers.Adafactor(), optimizers.Ftrl(l1_regularization_strength=0.01),
    optimizers.Muon(exclude_embeddings=False), optimizers.ScheduleFreeAdamW(),
    optimizers.LossScaleOptimizer(optimizers.Adam()),
    optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD(), {"bias": optimizers.Adam()}))],
    ids=lambda o: type(o).__name__)
def test_every_optimizer_steps_on_device_as_on_cpu(cuda, optimizer):
    config = optimizers.serialize(optimizer)
    model, history = train(optimizers.deserialize(config), epochs=1)[:2]
    opt = model.optimizer
    # the slots live on the device; the scalars each step reads (step counts, rates) on the host
    assert all(v.device == ("cpu" if v.ndim == 0 else "cuda") for v in opt.variables)
    cpu_model, cpu_history = on("cpu", lambda: train(optimizers.deserialize(config), epochs=1))[:2]
    assert history == cpu_history
    for a, b in zip(model.get_weights() + [v.numpy() for v in opt.variables],
                    cpu_model.get_weights() + [v.numpy() for v in cpu_model.optimizer.variables]):
        np.testing.assert_array_equal(a, b)


def test_functional_model_with_merges_trains_on_device(cuda):
    mgp.utils.set_random_seed(1)
    inputs = mgp.Input((8, 8, 1))
    a = layers.Conv2D(4, 3, padding="same")(inputs)
    b, c = layers.AveragePooling2D(2)(a), layers.MaxPooling2D(2)(a)
    merged = layers.Concatenate()([layers.Add()([b, c]), layers.Multiply()([b, c])])
    pooled = layers.GlobalAveragePooling2D()(merged)
    outputs = layers.Dense(3, activation="softmax")(layers.Dense(5, activation="gelu")(pooled))
    model = mgp.Model(inputs, outputs)
    model.compile("rmsprop", "categorical_crossentropy", metrics=["categorical_accuracy"])
    x, y = images()
    history = model.fit(x, mgp.utils.to_categorical(y, 3), batch_size=16, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert type(model.predict(x[:5], verbose=0)) is np.ndarray


def test_a_training_step_waits_for_the_device_at_most_six_times(cuda):
    model = small_cnn(dropout=0.5)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = images()
    model.fit(x[:16], y[:16], batch_size=16, epochs=1, verbose=0)  # builds the optimizer
    before = cuda.syncs
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    # per step: loss.item() for the logs; the accuracy copies labels and predictions to the host;
    # one label-range check each in the loss and in cross_entropy (a GPU wraps bad labels
    # silently); one check that the softmax's output sums to one before using its logits.
    # Nothing in the optimizer, the layers or the backward pass.
    assert (cuda.syncs - before) / 3 <= 6


# ============================================ saving ================================================

def _trained_cnn():
    model = train(epochs=1)[0]
    return model


def test_weights_saved_on_device_load_on_cpu_and_back(cuda, tmp_path):
    model = _trained_cnn()
    x = images()[0]
    expected = model.predict(x, verbose=0)
    model.save_weights(tmp_path / "dev.weights.h5")
    model.save(tmp_path / "dev.keras")

    def load_on_cpu():
        cpu = small_cnn()
        cpu.compile("adam", "sparse_categorical_crossentropy")
        cpu.load_weights(tmp_path / "dev.weights.h5")
        assert all(w.device == "cpu" for w in cpu.weights)
        np.testing.assert_array_equal(cpu.predict(x, verbose=0), expected)
        whole = mgp.models.load_model(tmp_path / "dev.keras")
        assert all(w.device == "cpu" for w in whole.weights)
        assert whole.optimizer.iterations == model.optimizer.iterations
        np.testing.assert_array_equal(whole.predict(x, verbose=0), expected)
        cpu.fit(x, images()[1], batch_size=16, epochs=1, verbose=0)  # and trains on
        cpu.save_weights(tmp_path / "cpu.weights.h5")
        return cpu.predict(x, verbose=0)
    cpu_predicted = on("cpu", load_on_cpu)

    again = small_cnn()
    again.load_weights(tmp_path / "cpu.weights.h5")
    assert all(w.device == "cuda" for w in again.weights)
    np.testing.assert_array_equal(again.predict(x, verbose=0), cpu_predicted)


def test_a_built_model_moves_with_get_and_set_weights(cuda):
    model = _trained_cnn()
    x = images()[0]
    expected = model.predict(x, verbose=0)

    def move_to_cpu():
        model.set_weights(model.get_weights())
        assert all(w.device == "cpu" for w in model.weights)
        return model.predict(x, verbose=0)
    np.testing.assert_array_equal(on("cpu", move_to_cpu), expected)


# ========================================== random numbers ==========================================

def _dropout_masks(layer_seed=None):
    mgp.utils.set_random_seed(7)
    drop = layers.Dropout(0.5, seed=layer_seed)
    ones = np.ones((4, 6), np.float32)
    return [drop(ones, training=True).numpy() for _ in range(2)] + [
        F.nn.dropout(mgp.tensor(ones), 0.5).numpy()]


def test_seeded_runs_reproduce_and_dropout_draws_on_the_device(cuda):
    first, second = _dropout_masks(), _dropout_masks()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # a fresh mask each call
    cpu = on("cpu", _dropout_masks)
    assert not any(np.array_equal(a, b) for a, b in zip(first, cpu))  # another generator
    # a layer with its own seed draws on the host: the same masks on every device
    seeded, cpu_seeded = _dropout_masks(layer_seed=3), on("cpu", _dropout_masks, 3)
    for a, b in zip(seeded[:2], cpu_seeded[:2]):
        np.testing.assert_array_equal(a, b)
    # set_random_seed also seeds CuPy's own global generator
    mgp.utils.set_random_seed(11)
    a = cuda.random.random((3,)).get()
    mgp.utils.set_random_seed(11)
    np.testing.assert_array_equal(cuda.random.random((3,)).get(), a)


def test_seeded_training_with_dropout_reproduces_on_device(cuda):
    _, history, _, predicted = train(dropout=0.5, epochs=1)
    _, again, _, predicted_again = train(dropout=0.5, epochs=1)
    assert history == again
    np.testing.assert_array_equal(predicted, predicted_again)


# ============================================== bench ===============================================

def test_gpu_bench_without_cupy_fails_with_a_clear_message():
    code = ("import runpy, sys; sys.modules['cupy'] = None; sys.argv = ['gpu.py', '--quick']; "
            "runpy.run_path('bench/gpu.py', run_name='__main__')")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "pip install mgp[cuda]" in result.stderr and "Traceback" not in result.stderr
