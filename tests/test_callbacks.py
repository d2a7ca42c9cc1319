"""Callbacks on real `fit` runs of a small Dense model: History, LambdaCallback, stop_training,
EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, CSVLogger,
TerminateOnNaN."""
import csv
import os
import warnings

import numpy as np
import pytest

import oracles

from mgp.callbacks import (BackupAndRestore, Callback, CSVLogger, EarlyStopping, History, LambdaCallback,
                           LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau,
                           TerminateOnNaN)
from mgp.layers import Dense, Input
from mgp.models.sequential import Sequential
from mgp.optimizers import SGD
from mgp.utils import set_random_seed

N, BATCH = 64, 16  # 4 steps per epoch


def data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")
    return x, y


def make_model(lr=0.01, metrics=None):
    set_random_seed(0)
    model = Sequential([Input(shape=(4,)), Dense(8, activation="relu"), Dense(1)])
    model.compile(optimizer=SGD(learning_rate=lr), loss="mse", metrics=metrics)
    return model


def fit(model, callbacks, epochs=3, validation=True, **kwargs):
    x, y = data()
    val = data(32, seed=1) if validation else None
    return model.fit(x, y, batch_size=BATCH, epochs=epochs, validation_data=val, verbose=0,
                     callbacks=callbacks, **kwargs)


class Inject(Callback):
    """Sets logs[key] to a scripted value at each epoch's end; list it before the watcher."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key = values, key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class WeightsLog(Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


# ---- History, LambdaCallback, stop_training -----------------------------------------------------
def test_history_keys_values_and_epochs():
    model = make_model(metrics=["mae"])
    seen = []
    history = fit(model, [LambdaCallback(on_epoch_end=lambda e, logs: seen.append(dict(logs)))])
    assert isinstance(history, History) and model.history is history
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert history.epoch == [0, 1, 2]
    for key, values in history.history.items():
        assert values == [logs[key] for logs in seen]
        assert all(isinstance(v, float) for v in values)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(*data(32, seed=1), batch_size=BATCH, verbose=0)[0], rel=1e-6)


def test_lambda_callback_hooks_arguments_and_counts():
    calls = {}

    def record(name):
        return lambda *args: calls.setdefault(name, []).append(args)

    hooks = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
             "on_train_batch_begin", "on_train_batch_end"]
    model = make_model()
    fit(model, [LambdaCallback(**{h: record(h) for h in hooks})], epochs=2)
    assert len(calls["on_train_begin"]) == 1 and calls["on_train_begin"][0] == ({},)
    assert [a[0] for a in calls["on_epoch_begin"]] == [0, 1]
    assert [a[0] for a in calls["on_epoch_end"]] == [0, 1]
    assert all(set(a[1]) == {"loss", "val_loss"} for a in calls["on_epoch_end"])
    assert [a[0] for a in calls["on_train_batch_begin"]] == [0, 1, 2, 3] * 2
    assert [a[0] for a in calls["on_train_batch_end"]] == [0, 1, 2, 3] * 2
    assert all("loss" in a[1] for a in calls["on_train_batch_end"])
    assert len(calls["on_train_end"]) == 1 and "loss" in calls["on_train_end"][0][0]


def test_lambda_callback_takes_other_hooks_by_keyword_and_warns_on_typos():
    model = make_model()
    began = []
    model.evaluate(*data(), verbose=0, callbacks=[LambdaCallback(on_test_begin=began.append)])
    assert began == [{}]
    with pytest.warns(UserWarning, match="on_epoch_ends"):
        LambdaCallback(on_epoch_ends=print)


def test_stop_training_from_a_callback_stops_after_that_batch():
    model = make_model()
    batches = []

    def on_batch_end(batch, logs):
        batches.append(batch)
        if batch == 1:
            model.stop_training = True

    history = fit(model, [LambdaCallback(on_train_batch_end=on_batch_end)], epochs=5)
    assert batches == [0, 1]
    assert model.optimizer.iterations == 2
    assert history.epoch == [0]


# ---- EarlyStopping ------------------------------------------------------------------------------
@pytest.mark.parametrize("values, kwargs, stopped_epoch", [
    # best at epoch 1, then 3 epochs without improvement
    ([1.0, 0.9, 0.95, 0.92, 0.91, 0.5, 0.4], dict(patience=3), 4),
    # 0.95 is better, but not by min_delta
    ([1.0, 0.95, 0.92, 0.9], dict(patience=1, min_delta=0.1), 1),
    # patience 0 stops at the first epoch without improvement
    ([1.0, 0.9, 0.8, 0.85, 0.7], dict(patience=0), 3),
    # not beating the baseline at epoch 0 does not reset the wait
    ([1.0, 1.0, 1.0, 1.0], dict(patience=2, baseline=0.5), 1),
    ([1.0, 1.0, 1.0, 1.0], dict(patience=2), 2),
    # rising from the start, but the first two epochs are warm-up
    ([1.0, 2.0, 3.0, 4.0, 5.0], dict(patience=0, start_from_epoch=2), 3),
])
def test_early_stopping_stops_at_the_right_epoch(values, kwargs, stopped_epoch):
    stop = EarlyStopping(**kwargs)
    history = fit(make_model(), [Inject(values), stop], epochs=len(values))
    assert stop.stopped_epoch == stopped_epoch
    assert history.epoch == list(range(stopped_epoch + 1))
    assert history.history["val_loss"] == values[:stopped_epoch + 1]


def test_early_stopping_auto_mode_maximizes_accuracy():
    values = [0.5, 0.6, 0.6, 0.6, 0.6]
    stop = EarlyStopping(monitor="val_accuracy", patience=2)
    fit(make_model(), [Inject(values, "val_accuracy"), stop], epochs=5)
    assert stop.stopped_epoch == 3  # minimizing would have stopped at epoch 2
    assert stop.best == 0.6
    down = EarlyStopping(monitor="val_accuracy", patience=2, mode="min")
    fit(make_model(), [Inject(values, "val_accuracy"), down], epochs=5)
    assert down.stopped_epoch == 2


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_restore_best_weights(restore):
    values = [0.5, 0.4, 0.1, 0.3, 0.35, 0.36, 0.2]
    log = WeightsLog()
    model = make_model()
    stop = EarlyStopping(patience=3, restore_best_weights=restore)
    fit(model, [Inject(values), log, stop], epochs=len(values))
    assert stop.stopped_epoch == 5 and stop.best_epoch == 2
    assert not same_weights(log.weights[2], log.weights[5])
    assert same_weights(model.get_weights(), log.weights[2 if restore else 5])


def test_early_stopping_on_real_training_loss_and_missing_key_warning():
    stop = EarlyStopping(monitor="loss", patience=0)
    history = fit(make_model(lr=0.01), [stop], epochs=4, validation=False)
    assert len(history.epoch) == 4 and stop.stopped_epoch == 0  # the loss keeps falling
    with pytest.warns(UserWarning, match="val_loss.*not available"):
        history = fit(make_model(), [EarlyStopping()], epochs=2, validation=False)
    assert len(history.epoch) == 2


def test_early_stopping_on_a_diverging_model():
    # far too large a learning rate: the validation loss grows from the first epochs
    stop = EarlyStopping(patience=1, restore_best_weights=True)
    log = WeightsLog()
    with np.errstate(all="ignore"):
        history = fit(make_model(lr=0.15), [log, stop], epochs=20)
    losses = history.history["val_loss"]
    assert len(losses) < 20
    best = int(np.nanargmin(losses))
    assert stop.best_epoch == best
    assert same_weights(stop.model.get_weights(), log.weights[best])


# ---- ModelCheckpoint ----------------------------------------------------------------------------
def test_checkpoint_templated_weights_files(tmp_path):
    log = WeightsLog()
    model = make_model()
    path = str(tmp_path / "ckpt" / "ckpt-{epoch:02d}-{val_loss:.4f}.weights.h5")
    history = fit(model, [log, ModelCheckpoint(path, save_weights_only=True)], epochs=3)
    expected = [f"ckpt-{e + 1:02d}-{v:.4f}.weights.h5"
                for e, v in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path / "ckpt")) == expected
    fresh = Sequential([Input(shape=(4,)), Dense(8, activation="relu"), Dense(1)])
    fresh.load_weights(str(tmp_path / "ckpt" / expected[1]))
    assert same_weights(fresh.get_weights(), log.weights[1])


def test_checkpoint_save_best_only(tmp_path):
    values = [0.5, 0.6, 0.4, 0.45, 0.41]
    log = WeightsLog()
    model = make_model()
    callbacks = [Inject(values), log,
                 ModelCheckpoint(str(tmp_path / "e{epoch}.weights.h5"), save_best_only=True,
                                 save_weights_only=True),
                 ModelCheckpoint(str(tmp_path / "best.weights.h5"), save_best_only=True,
                                 save_weights_only=True)]
    fit(model, callbacks, epochs=len(values))
    assert sorted(os.listdir(tmp_path)) == ["best.weights.h5", "e1.weights.h5", "e3.weights.h5"]
    model.load_weights(str(tmp_path / "best.weights.h5"))
    assert same_weights(model.get_weights(), log.weights[2])


def test_checkpoint_mode_and_initial_value_threshold(tmp_path):
    values = [0.5, 0.6, 0.55, 0.7]
    fit(make_model(), [Inject(values, "val_accuracy"),
                       ModelCheckpoint(str(tmp_path / "a{epoch}.weights.h5"),
                                       monitor="val_accuracy", save_best_only=True,
                                       save_weights_only=True)], epochs=4)
    fit(make_model(), [Inject([0.5, 0.6, 0.4, 0.45]),
                       ModelCheckpoint(str(tmp_path / "t{epoch}.weights.h5"),
                                       save_best_only=True, save_weights_only=True,
                                       initial_value_threshold=0.45)], epochs=4)
    assert sorted(os.listdir(tmp_path)) == ["a1.weights.h5", "a2.weights.h5", "a4.weights.h5",
                                            "t3.weights.h5"]


def test_checkpoint_warns_when_the_monitored_key_is_missing(tmp_path):
    path = tmp_path / "m.weights.h5"
    with pytest.warns(UserWarning, match="val_loss"):
        fit(make_model(), [ModelCheckpoint(path, save_best_only=True, save_weights_only=True)],
            epochs=1, validation=False)
    assert path.exists()  # saved anyway, as Keras does


def test_checkpoint_every_n_batches(tmp_path):
    path = str(tmp_path / "b-{epoch}-{batch}.weights.h5")
    fit(make_model(), [ModelCheckpoint(path, save_weights_only=True, save_freq=3)], epochs=2)
    # 4 batches per epoch: the 3rd and the 6th batch overall
    assert sorted(os.listdir(tmp_path)) == ["b-1-3.weights.h5", "b-2-2.weights.h5"]


def test_checkpoint_whole_model(tmp_path):
    fit(make_model(), [ModelCheckpoint(str(tmp_path / "m-{epoch}.keras"))], epochs=2)
    assert sorted(os.listdir(tmp_path)) == ["m-1.keras", "m-2.keras"]


def test_checkpoint_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    with pytest.raises(ValueError, match=r"\.keras"):
        ModelCheckpoint(str(tmp_path / "model.npz"))
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="batch")
    with pytest.raises(KeyError, match="val_acc"):
        fit(make_model(), [ModelCheckpoint(str(tmp_path / "{val_acc}.weights.h5"),
                                           save_weights_only=True)], epochs=1)


# ---- learning rate ------------------------------------------------------------------------------
def test_reduce_lr_on_plateau_lowers_the_learning_rate():
    model = make_model(lr=0.1)
    reduce = ReduceLROnPlateau(factor=0.5, patience=2)
    history = fit(model, [Inject([1.0] * 6), reduce], epochs=6)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.025)


def test_reduce_lr_cooldown_min_lr_and_improvements():
    model = make_model(lr=0.1)
    history = fit(model, [Inject([1.0] * 6), ReduceLROnPlateau(patience=1, cooldown=2)], epochs=6)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.01, 0.01, 1e-3, 1e-3])
    model = make_model(lr=0.1)
    fit(model, [Inject([1.0] * 5), ReduceLROnPlateau(patience=1, min_lr=0.05)], epochs=5)
    assert model.optimizer.learning_rate == pytest.approx(0.05)
    model = make_model(lr=0.1)  # improving by more than min_delta every epoch: never reduced
    fit(model, [Inject([1.0, 0.9, 0.8, 0.7]), ReduceLROnPlateau(patience=1)], epochs=4)
    assert model.optimizer.learning_rate == pytest.approx(0.1)
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    model = make_model(lr=0.1)
    seen = []
    history = fit(model, [LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2),
                          LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(
                              model.optimizer.learning_rate))], epochs=4)
    assert seen == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert history.history["learning_rate"] == pytest.approx(seen)
    model = make_model()
    fit(model, [LearningRateScheduler(lambda epoch: 0.1 / (1 + epoch))], epochs=3)
    assert model.optimizer.learning_rate == pytest.approx(0.1 / 3)


def test_learning_rate_scheduler_rate_is_used_by_the_optimizer():
    model = make_model(lr=0.1)
    before = model.get_weights()
    fit(model, [LearningRateScheduler(lambda epoch, lr: 0.0)], epochs=2)
    assert same_weights(model.get_weights(), before)
    with pytest.raises(ValueError, match="should be a float"):
        fit(make_model(), [LearningRateScheduler(lambda epoch, lr: "fast")], epochs=1)


# ---- CSVLogger ----------------------------------------------------------------------------------
def read_csv(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_csv_logger_writes_header_and_a_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    history = fit(make_model(metrics=["mae"]), [CSVLogger(path)], epochs=3)
    rows = read_csv(path)
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for i, key in enumerate(rows[0][1:], start=1):
        assert [float(r[i]) for r in rows[1:]] == pytest.approx(history.history[key])


def test_csv_logger_without_validation_and_separator(tmp_path):
    path = tmp_path / "log.tsv"
    fit(make_model(), [CSVLogger(path, separator="\t")], epochs=2, validation=False)
    rows = read_csv(path, "\t")
    assert rows[0] == ["epoch", "loss", "val_loss"]  # Keras adds the val_ columns
    assert [r[2] for r in rows[1:]] == ["NA", "NA"]
    fit(make_model(), [CSVLogger(path, separator="\t")], epochs=1, validation=False)
    assert len(read_csv(path, "\t")) == 2  # append=False starts over


def test_csv_logger_append_keeps_the_header(tmp_path):
    path = tmp_path / "log.csv"
    model = make_model()
    fit(model, [CSVLogger(path)], epochs=2)
    fit(model, [CSVLogger(path, append=True)], epochs=4, initial_epoch=2)
    rows = read_csv(path)
    assert rows[0] == ["epoch", "loss", "val_loss"] and rows.count(rows[0]) == 1
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "3"]


def test_csv_logger_resume_drops_rows_of_rerun_epochs(tmp_path):
    # a run killed after logging epochs 0-3 (and in the middle of writing another row), resumed
    # at epoch 2: the rows of epochs 2 and 3 are logged again, not twice; the header's order stays
    path = tmp_path / "log.csv"
    path.write_text("epoch,val_loss,loss\r\n0,9,9\r\n1,8,8\r\n2,7,7\r\n3,6,6\r\n4,5.")
    history = fit(make_model(), [CSVLogger(path, append=True)], epochs=4, initial_epoch=2)
    rows = read_csv(path)
    assert rows[0] == ["epoch", "val_loss", "loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "3"]
    assert rows[1] == ["0", "9", "9"]
    assert [float(r[1]) for r in rows[3:]] == pytest.approx(history.history["val_loss"])
    assert not [p for p in os.listdir(tmp_path) if p != "log.csv"]  # no temporary file left



def test_csv_logger_with_backup_and_restore_matches_an_uninterrupted_run(tmp_path):
    class Crash(Exception):
        pass

    def crash_at_epoch_2(epoch, logs):
        if epoch == 2:  # after the CSV row of epoch 2, before its backup
            raise Crash

    def run(name, crash=False):
        csv_logger = CSVLogger(tmp_path / name, append=True)
        callbacks = [csv_logger] + ([LambdaCallback(on_epoch_end=crash_at_epoch_2)] if crash
                                    else []) + [BackupAndRestore(tmp_path / "backup")]
        try:
            fit(make_model(), callbacks, epochs=5)
        finally:
            csv_logger.on_train_end()

    run("straight.csv")
    with pytest.raises(Crash):
        run("resumed.csv", crash=True)
    assert [r[0] for r in read_csv(tmp_path / "resumed.csv")[1:]] == ["0", "1", "2"]
    run("resumed.csv")
    assert read_csv(tmp_path / "resumed.csv") == read_csv(tmp_path / "straight.csv")
    assert len(read_csv(tmp_path / "straight.csv")) == 6

# ---- TerminateOnNaN -----------------------------------------------------------------------------
def nan_data():
    """A target that overflows the squared error to inf in the second batch (without
    shuffling); fit refuses NaN targets up front."""
    x, y = data()
    y[20] = 1e30
    return x, y


def test_terminate_on_nan_stops_after_the_nan_batch(capsys):
    x, y = nan_data()
    model = make_model()
    batches = []
    history = model.fit(x, y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0, callbacks=[
        TerminateOnNaN(), LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))])
    assert batches == [0, 1]
    assert history.epoch == [0] and not np.isfinite(history.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        make_model().fit(x, y, batch_size=BATCH, shuffle=False, verbose=0,
                         callbacks=[TerminateOnNaN(raise_error=True)])


def test_terminate_on_nan_on_a_diverging_model():
    x, y = data()
    model = make_model(lr=1e6)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = model.fit(x, y * 1e3, batch_size=BATCH, epochs=50, verbose=0,
                            callbacks=[TerminateOnNaN()])
    assert len(history.epoch) < 50
    assert not np.isfinite(history.history["loss"][-1])


# ---- the same decisions as Keras ----------------------------------------------------------------
class _FakeModel:
    """What the monitor callbacks touch: stop_training, weights, optimizer.learning_rate, saves."""

    def __init__(self):
        self.stop_training = False
        self.optimizer = type("Opt", (), {"learning_rate": 0.1})()
        self.w, self.saved = [0], []

    def get_weights(self):
        return list(self.w)

    def set_weights(self, w):
        self.w = list(w)

    def save_weights(self, path, overwrite=True):
        self.saved.append(path)


def _drive(callback, values, key):
    """Run the epoch hooks as `fit` does on a scripted sequence; return every decision made."""
    model = _FakeModel()
    callback.set_model(model)
    callback.on_train_begin({})
    trace = []
    for epoch, value in enumerate(values):
        model.w = [epoch]
        callback.on_epoch_begin(epoch, {})
        logs = {key: value}
        callback.on_epoch_end(epoch, logs)
        trace.append((model.stop_training, logs.get("learning_rate"),
                      model.optimizer.learning_rate))
        if model.stop_training:
            break
    callback.on_train_end({})
    return trace, model.w, model.saved


def test_monitor_callbacks_decide_as_keras_on_random_sequences():
    keras = oracles.keras()
    import mgp.callbacks as ours
    rng = np.random.default_rng(0)
    for trial in range(300):
        values = [round(float(v), 2) if rng.random() < 0.7 else 0.5
                  for v in rng.random(rng.integers(1, 10))]
        mode = ["min", "max", "auto"][trial % 3]
        key = ("val_loss" if trial % 2 else "loss") if mode == "auto" else "val_score"
        common = dict(monitor=key, mode=mode)
        kind = trial % 5
        if kind <= 1:
            name, kwargs = "EarlyStopping", dict(
                patience=int(rng.integers(0, 4)), min_delta=float(rng.choice([0, 0.05])),
                baseline=[None, 0.3, 0.7][trial % 3 if kind else 0],
                start_from_epoch=int(rng.integers(0, 3)), restore_best_weights=bool(kind))
        elif kind <= 3:
            name, kwargs = "ReduceLROnPlateau", dict(
                patience=int(rng.integers(0, 4)), factor=float(rng.choice([0.5, 0.1])),
                cooldown=int(rng.integers(0, 3)), min_lr=float(rng.choice([0.0, 0.02])),
                min_delta=float(rng.choice([1e-4, 0.05])))
        else:
            name, kwargs = "ModelCheckpoint", dict(
                filepath="e{epoch}.weights.h5", save_weights_only=True,
                save_best_only=bool(rng.random() < 0.8),
                initial_value_threshold=[None, 0.4][trial % 2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = _drive(getattr(keras.callbacks, name)(**common, **kwargs), values, key)
            got = _drive(getattr(ours, name)(**common, **kwargs), values, key)
        assert got == expected, (name, kwargs, values)


# ---- RemoteMonitor: real POSTs to a local server -----------------------------------------------
@pytest.fixture
def server():
    """An HTTP server on a free local port that records every request it gets."""
    import http.server
    import threading
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            status = 500 if self.path.startswith("/broken") else 200
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("as_json", [False, True])
def test_remote_monitor_posts_each_epoch(server, as_json):
    import json
    import urllib.parse
    from mgp.callbacks import RemoteMonitor
    root, received = server
    monitor = RemoteMonitor(root=root, path="/epoch/", field="payload",
                            headers={"X-Run": "7"}, send_as_json=as_json)
    history = fit(make_model(), [monitor], epochs=2)
    assert [path for path, _, _ in received] == ["/epoch/", "/epoch/"]
    for epoch, (_, headers, body) in enumerate(received):
        assert headers["X-Run"] == "7"
        if as_json:
            assert headers["Content-Type"] == "application/json"
            sent = json.loads(body)
        else:
            assert headers["Content-Type"] == "application/x-www-form-urlencoded"
            sent = json.loads(urllib.parse.parse_qs(body.decode())["payload"][0])
        assert sent == {"epoch": epoch, **{k: v[epoch] for k, v in history.history.items()}}


def test_remote_monitor_warns_and_training_goes_on(server):
    from mgp.callbacks import RemoteMonitor
    root, _ = server
    with pytest.warns(UserWarning, match="could not reach the RemoteMonitor server"):
        history = fit(make_model(), [RemoteMonitor(root=root, path="/broken")], epochs=2)
    assert len(history.history["loss"]) == 2
    with pytest.warns(UserWarning, match="127.0.0.1:9"):  # nothing listens on the discard port
        fit(make_model(), [RemoteMonitor(root="http://127.0.0.1:9", timeout=2)], epochs=1)


# ---- SwapEMAWeights ------------------------------------------------------------------------------
def ema_model():
    set_random_seed(0)
    model = Sequential([Input(shape=(4,)), Dense(8, activation="relu"), Dense(1)])
    model.compile(optimizer=SGD(learning_rate=0.05, use_ema=True, ema_momentum=0.5), loss="mse")
    return model


def _averages(model):
    return [a.numpy().copy() for a in model.optimizer._model_variables_moving_average]


def test_swap_ema_weights_evaluates_with_the_average_and_swaps_back():
    from mgp.callbacks import SwapEMAWeights
    model = ema_model()
    seen = []
    watch = LambdaCallback(on_test_begin=lambda logs: seen.append(model.get_weights()))
    history = fit(model, [SwapEMAWeights(), watch], epochs=2)
    averages = _averages(model)
    # fit ends by leaving the average in the model (the optimizer's finalize, as Keras's fit)
    assert same_weights(model.get_weights(), averages)
    assert same_weights(seen[-1], averages)  # validation ran on the average
    xv, yv = data(32, seed=1)
    np.testing.assert_allclose(model.evaluate(xv, yv, verbose=0), history.history["val_loss"][-1],
                               rtol=1e-6)
    raw = [w + 0.5 for w in averages]  # weights that differ from the optimizer's average
    model.set_weights(raw)
    ema_prediction = Sequential([Input(shape=(4,)), Dense(8, activation="relu"), Dense(1)])
    ema_prediction.set_weights(averages)
    swap = SwapEMAWeights()
    np.testing.assert_allclose(model.predict(xv, verbose=0, callbacks=[swap]),
                               ema_prediction.predict(xv, verbose=0), rtol=1e-6)
    assert same_weights(model.get_weights(), raw)  # swapped back after predict


def test_swap_ema_weights_on_epoch_keeps_the_average_at_the_end():
    from mgp.callbacks import SwapEMAWeights
    model = ema_model()
    epoch_end = []
    watch = LambdaCallback(on_epoch_end=lambda epoch, logs: epoch_end.append(
        (model.get_weights(), _averages(model))))
    fit(model, [SwapEMAWeights(swap_on_epoch=True), watch], epochs=3)
    weights, slots = epoch_end[0]
    assert not same_weights(weights, slots)  # the average in the model, the raw in the slots
    assert same_weights(model.get_weights(), _averages(model))  # both the average at the end


def test_swap_ema_weights_needs_use_ema():
    from mgp.callbacks import SwapEMAWeights
    with pytest.raises(ValueError, match="needs an optimizer with use_ema=True"):
        fit(make_model(), [SwapEMAWeights()], epochs=1)


def test_callback_arguments_are_keras_s():
    """Every callback's constructor takes Keras 3's arguments, in order, with its defaults."""
    import inspect
    import mgp.callbacks as ours
    keras = oracles.keras()
    extra = {"RemoteMonitor": ["timeout"],  # mgp's additions, after Keras's
             "ProgbarLogger": ["log_interval"]}
    for name in dir(keras.callbacks):
        theirs = getattr(keras.callbacks, name)
        if name.startswith("_") or not isinstance(theirs, type) or name == "OrbaxCheckpoint":
            continue
        mine = getattr(ours, name)
        k = [(p.name, p.default) for p in inspect.signature(theirs.__init__).parameters.values()]
        m = [(p.name, p.default) for p in inspect.signature(mine.__init__).parameters.values()
             if p.name not in extra.get(name, [])]
        assert m == k, name
