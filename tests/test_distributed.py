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
        for key in ("steps", "final", "optimizer", "predicted"):
            np.testing.assert_array_equal(r[key], results[0][key], err_msg=key)
        for key in ("history", "evaluated", "epochs", "lr"):
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
    assert int(ours["early"]) == int(ours["messages"]) == 6  # one bucket a step, from backward


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
    assert int(small[0]["messages"]) == 4 * 8 and int(small[0]["early"]) == 4 * 8
    assert int(custom[0]["messages"]) == 8 and int(custom[0]["early"]) == 0


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
