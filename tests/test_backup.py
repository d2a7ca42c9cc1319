"""BackupAndRestore: a fit killed with SIGKILL and run again ends with exactly the weights of an
uninterrupted run (weights, optimizer state, epoch counter and random state all restored)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

from mgp import layers, utils
from mgp.callbacks.backup import BackupAndRestore
from mgp.callbacks.base import Callback
from mgp.models import Sequential

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCHS = 6

# The training script a user would rerun after a crash. argv: backup_dir, output .npz, and where
# to kill itself: "epoch:E" (after the backup of epoch E), "batch:E:B", "slow" (sleep in every
# batch so the test can kill it from outside), or "none".
SCRIPT = textwrap.dedent("""
    import os
    import signal
    import sys
    import time
    import numpy as np
    sys.path.insert(0, sys.argv[4])
    from mgp import layers, utils
    from mgp.callbacks.backup import BackupAndRestore
    from mgp.callbacks.base import Callback
    from mgp.models import Sequential

    backup_dir, out, kill = sys.argv[1], sys.argv[2], sys.argv[3].split(":")

    class Kill(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if kill[0] == "slow":
                time.sleep(0.03)
            if kill[0] == "batch" and (self.epoch, batch) == (int(kill[1]), int(kill[2])):
                os.kill(os.getpid(), signal.SIGKILL)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            if kill[0] == "epoch" and epoch == int(kill[1]):
                os.kill(os.getpid(), signal.SIGKILL)

    utils.set_random_seed(0)
    data = np.random.default_rng(1)
    x = data.standard_normal((96, 8)).astype(np.float32)
    y = data.integers(0, 3, 96)
    model = Sequential([layers.Input((8,)), layers.Dense(16, activation="relu"),
                        layers.BatchNormalization(), layers.Dropout(0.3),
                        layers.Dense(16, activation="relu"), layers.Dropout(0.2, seed=3),
                        layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=%d, batch_size=16, verbose=0,
                        callbacks=[BackupAndRestore(backup_dir), Kill()])
    np.savez(out, *model.get_weights(), epochs=np.array(history.epoch))
""" % EPOCHS)


def run(tmp_path, kill, out="out.npz"):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "backup"),
                             str(tmp_path / out), kill, ROOT])


def result(path):
    with np.load(path, allow_pickle=False) as f:
        epochs = f["epochs"]
        weights = [f[k] for k in sorted((k for k in f.files if k != "epochs"),
                                        key=lambda k: int(k.split("_")[1]))]
    return weights, list(epochs)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("uninterrupted")
    assert run(tmp_path, "none").wait() == 0
    weights, epochs = result(tmp_path / "out.npz")
    assert epochs == list(range(EPOCHS))
    assert not os.path.exists(tmp_path / "backup")  # removed when fit finished
    return weights


def assert_same(weights, expected):
    assert len(weights) == len(expected) == 10
    for a, b in zip(weights, expected):
        assert np.array_equal(a, b)


def test_killed_after_an_epoch_resumes_exactly(tmp_path, uninterrupted):
    assert run(tmp_path, "epoch:2").wait() == -signal.SIGKILL
    with h5py.File(tmp_path / "backup" / "latest.weights.h5", "r") as f:
        assert f.attrs["backup_epoch"] == 3 and "optimizer/vars" in f
    assert run(tmp_path, "none").wait() == 0
    weights, epochs = result(tmp_path / "out.npz")
    assert epochs == [3, 4, 5]  # resumed after the last completed epoch
    assert_same(weights, uninterrupted)
    assert not os.path.exists(tmp_path / "backup")


def test_killed_in_the_middle_of_an_epoch_repeats_it_exactly(tmp_path, uninterrupted):
    assert run(tmp_path, "batch:4:2").wait() == -signal.SIGKILL
    assert run(tmp_path, "none").wait() == 0
    weights, epochs = result(tmp_path / "out.npz")
    assert epochs == [4, 5]
    assert_same(weights, uninterrupted)


def test_killed_from_outside_at_random_moments(tmp_path, uninterrupted):
    """SIGKILL from another process, several times, wherever the run happens to be."""
    rng = np.random.default_rng()
    resumed_from = []
    for _ in range(3):
        child = run(tmp_path, "slow")
        time.sleep(rng.uniform(0.7, 1.7))  # the import, then epochs of 6 batches * 30 ms
        child.kill()
        child.wait()
        backup = tmp_path / "backup" / "latest.weights.h5"
        if os.path.exists(backup):
            with h5py.File(backup, "r") as f:
                resumed_from.append(int(f.attrs["backup_epoch"]))
    assert run(tmp_path, "none").wait() == 0
    weights, epochs = result(tmp_path / "out.npz")
    assert_same(weights, uninterrupted)
    print(f"\nbackups found after the kills: epochs {resumed_from}; the last run did "
          f"{[int(e) for e in epochs]}")


# ---- in-process: the callback's behaviour around the kill ------------------------------------------
def make(seed=0):
    utils.set_random_seed(seed)
    model = Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                        layers.Dropout(0.5), layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse")
    return model


X = np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32)
Y = X.sum(axis=1, keepdims=True)


class Interrupt(Callback):
    def __init__(self, epoch):
        super().__init__()
        self.at = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt


def test_interrupted_by_an_exception_then_resumed(tmp_path):
    reference = make()
    reference.fit(X, Y, epochs=5, batch_size=8, verbose=0)
    model = make()
    backup = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[backup, Interrupt(3)])
    utils.set_random_seed(123)  # whatever the state now: the backup's is restored
    history = model.fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[backup])
    assert history.epoch == [3, 4]
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    with h5py.File(tmp_path / "b" / "latest.weights.h5", "r") as f:  # kept, as asked
        assert f.attrs["backup_epoch"] == 5
        json.loads(f.attrs["backup_rng_state"])


def test_integer_save_freq_backs_up_within_epochs(tmp_path):
    model = make()
    backup = BackupAndRestore(tmp_path / "b", save_freq=3)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[backup, Interrupt(2)])
    with h5py.File(tmp_path / "b" / "latest.weights.h5", "r") as f:
        assert f.attrs["backup_epoch"] == 1  # saved inside epoch 1: it is repeated
    history = model.fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[backup])
    assert history.epoch == [1, 2, 3, 4]
    assert not os.path.exists(tmp_path / "b")


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path):
    model = make()
    backup = BackupAndRestore(tmp_path / "b", double_checkpoint=True)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[backup, Interrupt(3)])
    latest = tmp_path / "b" / "latest.weights.h5"
    latest.write_bytes(latest.read_bytes()[:1000])  # damaged by something outside mgp
    history = model.fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[backup])
    assert history.epoch == [2, 3, 4]


def test_bad_arguments_and_unbuilt_model(tmp_path):
    with pytest.raises(ValueError, match="backup_dir"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore(tmp_path, save_freq="batch")
    model = Sequential([layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="not built"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path / "b")])


def test_a_backup_for_another_model_is_a_clear_error(tmp_path):
    model = make()
    backup = BackupAndRestore(tmp_path / "b")
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=3, batch_size=8, verbose=0, callbacks=[backup, Interrupt(2)])
    other = Sequential([layers.Input((4,)), layers.Dense(5), layers.Dense(1)])
    other.compile(optimizer="rmsprop", loss="mse")
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"(?s)latest\.weights\.h5.*expects shape \(4, 5\)"):
        other.fit(X, Y, epochs=3, batch_size=8, verbose=0, callbacks=[backup])
    for a, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(a, b)
