"""Data-parallel training over MPI (`mgp.distribution`): 2 and 3 processes on this machine
(`mpiexec -n N`, oversubscribed), each run of tests/distributed_train.py in a subprocess with a
time limit, against the same script run as one process.

The tolerance against one process: each gradient is the same sum over the global batch, added
up in another order (per shard, then over the processes), so it differs from the one-process
gradient by float32 rounding, a few units in the last place; a few Adam steps, whose size does
not grow with the gradient's error, keep the weights within 1e-6 of each other (they are of
order 1; float32's spacing there is 1.2e-7). Every process, though, gets the same allreduce
result and applies the same update, so the processes agree bit for bit after every step.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import oracles

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "distributed_train.py"


def mpiexec():
    """The launcher of the `mgp[mpi]` extra (the mpich wheel puts it beside the interpreter)."""
    oracles.module("mpi4py")
    path = Path(sys.executable).parent / "mpiexec"
    return str(path) if path.exists() else oracles.program("mpiexec")


def run(tmp_path, processes, limit=120, check=True, **options):
    """Run the script on `processes` processes (0: plainly, without a launcher), killing the
    whole job after `limit` seconds; returns (each process's results, the completed
    process)."""
    out = tmp_path / f"run{len(list(tmp_path.glob('run*')))}"
    out.mkdir()
    options["out"] = str(out)
    command = [sys.executable, str(SCRIPT), json.dumps(options)]
    if processes:
        command = [mpiexec(), "-n", str(processes)] + command
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=str(ROOT))
    job = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)
    try:
        stdout, stderr = job.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)  # the launcher and every process it started
        job.communicate()
        raise
    done = subprocess.CompletedProcess(command, job.returncode, stdout, stderr)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    results = [dict(np.load(p, allow_pickle=False)) for p in sorted(out.glob("rank*.npz"))]
    return results, done


def same_on_every_process(results):
    for r in results[1:]:
        for key in ("steps", "final", "optimizer", "predicted", "predicted_on_batch"):
            np.testing.assert_array_equal(r[key], results[0][key], err_msg=key)
        for key in ("history", "evaluated", "epochs", "lr", "on_batch"):
            assert str(r[key]) == str(results[0][key]), key


@pytest.mark.parametrize("processes", [2, 3])
def test_fit_matches_one_process(tmp_path, processes):
    # 40 training samples in batches of 19: the last global batch has 2, so with 3 processes
    # one of them has an empty shard and runs a stand-in sample that must count for nothing
    # (and so do evaluate's and predict's last batches of 1)
    options = dict(epochs=2, sample_weight=True, validation_split=0.2, batch_size=19)
    (alone,), _ = run(tmp_path, 0, **options)
    results, _ = run(tmp_path, processes, **options)
    assert len(results) == processes
    same_on_every_process(results)
    ours = results[0]
    assert ours["steps"].shape == alone["steps"].shape == (6, 163)
    np.testing.assert_allclose(ours["steps"], alone["steps"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours["optimizer"], alone["optimizer"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["predicted"], alone["predicted"], rtol=0, atol=1e-6)
    assert ours["predicted"].shape == (50, 3)
    ours_history, alone_history = json.loads(str(ours["history"])), \
        json.loads(str(alone["history"]))
    assert set(ours_history) == set(alone_history) == {
        "loss", "accuracy", "weighted_accuracy", "val_loss", "val_accuracy",
        "val_weighted_accuracy"}
    for key, values in alone_history.items():  # sums of numerators and denominators
        np.testing.assert_allclose(ours_history[key], values, rtol=1e-6, err_msg=key)
    evaluated, alone_evaluated = json.loads(str(ours["evaluated"])), \
        json.loads(str(alone["evaluated"]))
    for key, value in alone_evaluated.items():
        np.testing.assert_allclose(evaluated[key], value, rtol=1e-6, err_msg=key)
    np.testing.assert_allclose(ours["predicted_on_batch"], alone["predicted_on_batch"],
                               rtol=0, atol=1e-6)
    for mine, theirs in zip(json.loads(str(ours["on_batch"])),
                            json.loads(str(alone["on_batch"]))):  # train_ and test_on_batch
        for key, value in theirs.items():
            np.testing.assert_allclose(mine[key], value, rtol=1e-5, err_msg=key)
    # one bucket a step, started from the backward pass (and train_on_batch's)
    assert int(ours["early"]) == int(ours["messages"]) == 7


def test_buckets_and_custom_steps_reduce_the_same(tmp_path):
    # the same gradients whether they travel in one bucket started from the backward pass, in
    # one bucket per weight, or from a custom train_step's apply (2 processes: a + b == b + a,
    # so the sums agree bit for bit)
    one, _ = run(tmp_path, 2, sample_weight=True)
    small, _ = run(tmp_path, 2, sample_weight=True, bucket_cap_mb=1e-4)
    custom, _ = run(tmp_path, 2, sample_weight=True, custom_step=True)
    for results in (one, small, custom):
        same_on_every_process(results)
    np.testing.assert_array_equal(small[0]["steps"], one[0]["steps"])
    np.testing.assert_array_equal(custom[0]["steps"], one[0]["steps"])
    assert int(small[0]["messages"]) == 4 * 9 and int(small[0]["early"]) == 4 * 9
    assert int(custom[0]["messages"]) == 9 and int(custom[0]["early"]) == 0


def test_batch_norm_and_dropout_stay_identical_with_their_own_masks(tmp_path):
    results, _ = run(tmp_path, 3, bn_dropout=True, record_streams=True, epochs=2)
    same_on_every_process(results)  # moving statistics averaged: the same on every process
    streams = [r["streams"] for r in results]  # drawn from each dropout stream at each epoch
    assert streams[0].shape == (2, 4)
    assert not np.array_equal(streams[0], streams[1])
    assert not np.array_equal(streams[1], streams[2])
    assert not np.array_equal(streams[0][0], streams[0][1])  # a new stream every epoch


def test_process_zero_alone_writes_and_all_decide_the_same(tmp_path):
    results, done = run(tmp_path, 2, writers=True, epochs=8, verbose=2)
    same_on_every_process(results)  # EarlyStopping and ReduceLROnPlateau: the same on both
    out = tmp_path / "run0"
    assert sorted(p.name for p in out.iterdir()) == ["files0", "rank0.npz", "rank1.npz"]
    assert sorted(p.name for p in (out / "files0").iterdir()) == [
        "backup", "ckpt.weights.h5", "log.csv", "tb"]
    assert (out / "files0" / "log.csv").read_text().count("\n") == 5  # header + 4 epochs
    assert results[0]["epochs"].tolist() == [0, 1, 2, 3]  # stopped early, everywhere
    assert float(results[0]["lr"]) == pytest.approx(0.005)  # reduced once, everywhere
    assert done.stdout.count("Epoch 1/8") == 1  # one progress bar


def test_a_killed_process_ends_the_job_with_an_error(tmp_path):
    start = time.monotonic()
    results, done = run(tmp_path, 3, check=False, kill=[1, 0], epochs=50)
    assert time.monotonic() - start < 60
    assert done.returncode != 0
    assert results == []  # no process finished
    assert "signal 9" in done.stdout + done.stderr or done.returncode == -signal.SIGKILL


def test_a_hung_process_stops_the_others_after_the_timeout(tmp_path):
    start = time.monotonic()
    results, done = run(tmp_path, 2, check=False, hang=[1, 0], epochs=50, timeout=3)
    assert time.monotonic() - start < 60
    assert done.returncode != 0 and results == []
    assert "TimeoutError: mgp.distribution: process 0 of 2 waited 3 s" in done.stderr
    assert "aborting the other processes" in done.stderr


def test_resume_after_a_kill_matches_an_uninterrupted_run(tmp_path):
    options = dict(bn_dropout=True, epochs=4)
    uninterrupted, _ = run(tmp_path, 2, backup=str(tmp_path / "backup0"), **options)
    killed, done = run(tmp_path, 2, check=False, backup=str(tmp_path / "backup1"),
                       kill=[1, 1], **options)
    assert done.returncode != 0 and killed == []
    resumed, _ = run(tmp_path, 2, backup=str(tmp_path / "backup1"), **options)
    same_on_every_process(resumed)
    # process 0 backed up epoch 0 before either could finish epoch 1; maybe epoch 1 too
    assert resumed[0]["epochs"].tolist() in ([1, 2, 3], [2, 3])
    np.testing.assert_array_equal(resumed[0]["final"], uninterrupted[0]["final"])
    np.testing.assert_array_equal(resumed[0]["optimizer"], uninterrupted[0]["optimizer"])
    np.testing.assert_array_equal(resumed[0]["predicted"], uninterrupted[0]["predicted"])


# ---- one process: the pieces, without a launcher ----------------------------------------------

import inspect  # noqa: E402

import mgp  # noqa: E402
from mgp.distribution import gradients, loop, mpi  # noqa: E402


def test_the_post_accumulate_grad_hook_sees_the_whole_gradient_once():
    w = mgp.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.copy()))
    a = w * 3.0
    ((w * w).sum() + (a * a).sum() + a.sum()).backward()  # w reached by paths of two depths
    np.testing.assert_allclose(seen, [2 * np.array([1, 2]) * 10 + 3])
    w.sum().backward()  # accumulates, as PyTorch: the hook sees the sum
    np.testing.assert_allclose(seen[1], seen[0] + 1)
    handle.remove()
    w.sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="leaf tensors only"):
        (w * 2).register_post_accumulate_grad_hook(print)


def _metric_cases():
    rng = np.random.default_rng(0)
    probs = rng.uniform(0.01, 0.99, (12, 4)).astype(np.float32)
    probs /= probs.sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, 12)
    onehot = np.eye(4, dtype=np.float32)[labels]
    binary = (rng.uniform(size=(12, 1)) > 0.5).astype(np.float32)
    scores = rng.uniform(0.01, 0.99, (12, 1)).astype(np.float32)
    regression = rng.standard_normal((12, 3)).astype(np.float32)
    return [(onehot, probs), (labels, probs), (binary, scores),
            (regression, regression + rng.standard_normal((12, 3)).astype(np.float32))]


_ARGUMENTS = {"IoU": {"num_classes": 4, "target_class_ids": [0, 2]},
              "MeanIoU": {"num_classes": 4}, "OneHotIoU": {"num_classes": 4,
                                                           "target_class_ids": [1, 3]},
              "OneHotMeanIoU": {"num_classes": 4}, "BinaryIoU": {},
              "SensitivityAtSpecificity": {"specificity": 0.5},
              "SpecificityAtSensitivity": {"sensitivity": 0.5},
              "PrecisionAtRecall": {"recall": 0.5}, "RecallAtPrecision": {"precision": 0.5},
              "MeanMetricWrapper": {"fn": mgp.losses.mean_squared_error}}


@pytest.mark.parametrize("name", sorted(mgp.metrics._CLASSES))
def test_every_metric_state_adds_up_over_processes(name):
    # what two processes saw, their states summed, is what one process that saw both has:
    # the sum of numerators and denominators that data-parallel logs rest on
    cls = mgp.metrics._CLASSES[name]
    for y_true, y_pred in _metric_cases():
        halves = [(y_true[:7], y_pred[:7]), (y_true[7:], y_pred[7:])]
        whole, a, b = (cls(**_ARGUMENTS.get(name, {})) for _ in range(3))
        try:
            args = (lambda t, p: (p,)) if name in ("Mean", "Sum") else (lambda t, p: (t, p))
            fresh = dict(vars(a))
            for metric, (t, p) in ((whole, (y_true, y_pred)), *zip((a, b), halves)):
                metric.update_state(*args(t, p))
        except (ValueError, TypeError):
            continue  # another kind of labels
        expected = whole.result()
        break
    else:
        pytest.fail(f"no test data fits {name}")
    # every attribute the first update changed is state, or a shape it learned
    changed = {k for k, v in vars(a).items() if k not in fresh or v is not fresh[k]}
    declared = {k for k, _ in loop.metric_state(a) if isinstance(k, str)}
    assert changed - declared <= {"_columns", "_classes", "_labels"}, name
    summed = [(k, va + vb) for (k, va), (_, vb) in zip(loop.metric_state(a),
                                                        loop.metric_state(b))]
    loop._set_metric_state(a, summed)
    np.testing.assert_allclose(a.result(), expected, rtol=1e-12, atol=1e-12, err_msg=name)


def test_a_metric_whose_state_is_unknown_is_refused_by_name():
    class Count(mgp.metrics.Metric):  # state in a plain attribute, undeclared
        def update_state(self, y_true, y_pred, sample_weight=None):
            self.n = getattr(self, "n", 0) + len(y_true)

        def result(self):
            return self.n
    with pytest.raises(TypeError, match="'count'.*add_variable"):
        loop.metric_state(Count(name="count"))


def test_buckets_are_cut_last_layer_first_by_size_and_dtype():
    v = [mgp.variables.Variable(np.zeros(shape), dtype=dtype) for shape, dtype in
         [((100,), "float32"), ((10,), "float32"), ((300,), "float32"), ((5,), "float64"),
          ((7,), "float64")]]
    buckets = gradients.cut_into_buckets(v, cap_bytes=4 * 320)
    position = {id(x): i for i, x in enumerate(v)}
    assert [[position[id(x)] for x in b.variables] for b in buckets] == [[4, 3], [2, 1], [0]]
    assert [b.send.dtype for b in buckets] == [np.float64, np.float32, np.float32]
    assert [b.send.size for b in buckets] == [13, 311, 101]  # and one count each


def test_one_process_trains_as_without_a_distribution():
    def train():
        mgp.utils.set_random_seed(3)
        x = np.random.default_rng(0).standard_normal((30, 4)).astype(np.float32)
        model = mgp.Sequential([mgp.Input((4,)), mgp.layers.Dense(5, activation="relu"),
                                mgp.layers.Dropout(0.5), mgp.layers.Dense(1)])
        model.compile("adam", "mse")
        history = model.fit(x, x[:, :1], batch_size=8, epochs=2, verbose=0)
        return model.get_weights(), history.history, model.predict(x, verbose=0)
    plain = train()
    with mgp.distribution.DataParallel().scope():
        assert mgp.distribution.distribution() is not None
        shared = train()
    assert mgp.distribution.distribution() is None
    for a, b in zip(plain[0], shared[0]):
        np.testing.assert_array_equal(a, b)
    assert plain[1] == shared[1]
    np.testing.assert_array_equal(plain[2], shared[2])
    assert "mpi4py.MPI" not in sys.modules  # one process never starts MPI


def test_the_api_is_keras_for_one_process():
    d = mgp.distribution
    assert d.list_devices() == ["cpu:0"] and d.list_devices("cpu") == ["cpu:0"]
    assert d.get_device_count() == 1
    dp = d.DataParallel()
    assert dp.num_processes == dp.num_model_replicas == 1 and dp.data_shard_id == 0
    assert dp.batch_dim_name == "batch" and dp.device_mesh.shape == (1,)
    assert dp.get_data_layout((8, 3, 2)).axes == ("batch", None, None)
    assert dp.get_variable_layout(mgp.variables.Variable(np.zeros((2, 3)))).axes == (None, None)
    mesh = d.DeviceMesh((1,), ["data"])
    assert d.DataParallel(device_mesh=mesh).batch_dim_name == "data"
    assert repr(mesh) == "<DeviceMesh shape=(1,), axis_names=['data']>"
    d.initialize(num_processes=1, process_id=0)
    keras = oracles.keras()
    for name in ("DataParallel", "DeviceMesh", "TensorLayout", "list_devices",
                 "get_device_count", "initialize", "set_distribution", "distribution"):
        theirs = list(inspect.signature(getattr(keras.distribution, name)).parameters)
        ours = list(inspect.signature(getattr(d, name)).parameters)
        assert ours[:len(theirs)] == theirs, name


@pytest.mark.parametrize("call, message", [
    (lambda d: d.list_devices("gpu"), "device_type must be None or 'cpu'"),
    (lambda d: d.DataParallel(devices=["cpu:0", "cpu:1"]), "every process of the job"),
    (lambda d: d.DataParallel(auto_shard_dataset=False), "give every process the whole"),
    (lambda d: d.DataParallel(timeout=0), "timeout must be > 0"),
    (lambda d: d.DataParallel(bucket_cap_mb=-1), "bucket_cap_mb must be > 0"),
    (lambda d: d.DataParallel(device_mesh="cpu:0"), "must be a DeviceMesh"),
    (lambda d: d.DeviceMesh((2,), ["batch"]), r"shape \(2,\) does not hold the 1 devices"),
    (lambda d: d.DeviceMesh((1,), ["a", "b"]), "the same length"),
    (lambda d: d.TensorLayout(("x",), d.DeviceMesh((1,), ["batch"])), "not axes of the mesh"),
    (lambda d: d.set_distribution("data_parallel"), "takes a mgp.distribution.DataParallel"),
    (lambda d: d.initialize(num_processes=4), "started 1 process"),
    (lambda d: d.initialize(job_addresses="10.0.0.1:1234"), "the launcher places"),
])
def test_bad_arguments_are_refused_by_name(call, message):
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=message):
        call(mgp.distribution)
    assert mgp.distribution.distribution() is None


def test_without_the_extra_the_error_names_it(monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")  # as if mpiexec -n 2 had started this process
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # and mpi4py were not installed
    monkeypatch.setattr(mpi, "_world", None)
    assert mpi.launched_size() == 2
    with pytest.raises(ImportError, match=r'pip install "mgp\[mpi\]"'):
        mgp.distribution.DataParallel()


def test_a_launch_without_a_distribution_warns_that_each_process_trains_alone(monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "4")
    monkeypatch.setattr(loop, "_warned_alone", False)
    model = mgp.Sequential([mgp.Input((2,)), mgp.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((4, 2), np.float32)
    with pytest.warns(UserWarning, match="4 processes, but no distribution is set"):
        model.fit(x, x[:, :1], verbose=0)
