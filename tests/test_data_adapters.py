"""fit / evaluate / predict on whole batches: a PyDataset (threads and processes for real), a
generator, a torch DataLoader, and validation_data in those forms, against Keras 3 (torch
backend) with the same weights, and against fit on the equivalent arrays; bad batches."""
import os
import random
import threading

import numpy as np
import pytest

import oracles

import mgp

keras = oracles.keras()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

_rng = np.random.default_rng(0)
X = _rng.standard_normal((22, 3)).astype(np.float32)
Y = _rng.standard_normal((22, 1)).astype(np.float32)
XV = _rng.standard_normal((10, 3)).astype(np.float32)
YV = _rng.standard_normal((10, 1)).astype(np.float32)


class Batches:
    """A dataset of (x, y) batches that logs what the loop asks of it (mixed into each
    framework's PyDataset)."""

    def __init__(self, x=X, y=Y, batch_size=6, log_file=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.log, self.log_file = x, y, batch_size, [], log_file

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        self.log.append(("get", index))
        if self.log_file:  # what a worker process does cannot be seen in the parent's memory
            with open(self.log_file, "a") as f:
                f.write(f"{os.getpid()} {threading.get_ident()} {index}\n")
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]

    def on_epoch_begin(self):
        self.log.append("begin")

    def on_epoch_end(self):
        self.log.append("end")


def dataset(k, *args, **kwargs):
    return type("Batches", (Batches, k.utils.PyDataset), {})(*args, **kwargs)


def model_pair(metrics=("mae",)):
    def build(k):
        return k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="tanh"),
                             k.layers.Dense(1)])
    ours, theirs = build(mgp), build(keras)
    theirs.set_weights(ours.get_weights())
    for m in (ours, theirs):
        m.compile(optimizer="sgd", loss="mse", metrics=list(metrics))
    return ours, theirs


def assert_same_training(a, b, history_a, history_b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    assert set(history_a) == set(history_b)
    for key in history_b:
        np.testing.assert_allclose(history_a[key], history_b[key], rtol=1e-5, atol=1e-6,
                                   err_msg=key)


@pytest.mark.parametrize("shuffle, steps", [(False, None), (True, None), (True, 3)])
def test_fit_on_a_py_dataset_as_keras(shuffle, steps):
    """The same weights, history, and the same calls on the dataset (Keras reads a first batch
    to build the model, resets with on_epoch_end, shuffles batches with Python's random)."""
    results = []
    for model, k in zip(model_pair(), (mgp, keras)):
        train, val = dataset(k), dataset(k, XV, YV, batch_size=4)
        random.seed(3)
        history = model.fit(train, epochs=3, verbose=0, shuffle=shuffle, validation_data=val,
                            steps_per_epoch=steps)
        evaluation = model.evaluate(val, verbose=0)
        prediction = model.predict(train, verbose=0)
        results.append((model, history.history, train.log, val.log, evaluation, prediction))
    ours, theirs = results
    assert_same_training(ours[0], theirs[0], ours[1], theirs[1])
    assert ours[2] == theirs[2]
    assert ours[3] == theirs[3]
    np.testing.assert_allclose(ours[4], theirs[4], rtol=1e-5)
    np.testing.assert_allclose(ours[5], theirs[5], rtol=1e-5, atol=1e-6)


def test_fit_on_a_py_dataset_equals_fit_on_its_arrays():
    mgp.utils.set_random_seed(0)
    a = mgp.Sequential([mgp.Input((3,)), mgp.layers.Dense(4, activation="tanh"),
                        mgp.layers.Dense(1)])
    b = mgp.models.clone_model(a)
    b.set_weights(a.get_weights())
    for m in (a, b):
        m.compile(optimizer="adam", loss="mse", metrics=["mae"])
    h_data = a.fit(dataset(mgp), epochs=2, shuffle=False, verbose=0,
                   validation_data=dataset(mgp, XV, YV, batch_size=4))
    h_arrays = b.fit(X, Y, batch_size=6, epochs=2, shuffle=False, verbose=0,
                     validation_data=(XV, YV), validation_batch_size=4)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert h_data.history == h_arrays.history
    np.testing.assert_array_equal(a.predict(dataset(mgp), verbose=0), b.predict(X, verbose=0))


def batches_of(x, y, batch_size, repeat=1):
    for _ in range(repeat):
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


def test_fit_on_a_generator_as_keras_and_as_its_arrays():
    results = []
    for model in model_pair():
        history = model.fit(batches_of(X, Y, 6, repeat=3), epochs=3, steps_per_epoch=4,
                            verbose=0, validation_data=batches_of(XV, YV, 5, repeat=3),
                            validation_steps=2)
        results.append((model, history.history))
    assert_same_training(results[0][0], results[1][0], results[0][1], results[1][1])

    arrays_model, _ = model_pair()
    arrays_model.set_weights(model_pair()[0].get_weights())
    generator_model = mgp.models.clone_model(arrays_model)
    generator_model.set_weights(arrays_model.get_weights())
    generator_model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    h_gen = generator_model.fit(batches_of(X, Y, 6), verbose=0,
                                validation_data=batches_of(XV, YV, 10))
    h_arr = arrays_model.fit(X, Y, batch_size=6, shuffle=False, verbose=0,
                             validation_data=(XV, YV), validation_batch_size=10)
    for wa, wb in zip(generator_model.get_weights(), arrays_model.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert h_gen.history == h_arr.history


def test_predict_and_evaluate_on_a_generator_as_keras():
    ours, theirs = model_pair()
    for m in (ours, theirs):
        m.fit(X, Y, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.predict(batches_of(X, Y, 5), verbose=0),
                               theirs.predict(batches_of(X, Y, 5), verbose=0), rtol=1e-5)
    np.testing.assert_allclose(ours.evaluate(batches_of(X, Y, 5), verbose=0),
                               theirs.evaluate(batches_of(X, Y, 5), verbose=0), rtol=1e-5)


def test_class_weight_on_a_py_dataset_as_keras():
    labels = (Y[:, 0] > 0).astype(np.float32)[:, None]
    results = []
    for model, k in zip(model_pair(metrics=()), (mgp, keras)):
        history = model.fit(dataset(k, X, labels), epochs=2, shuffle=False, verbose=0,
                            class_weight={0: 0.5, 1: 2.0})
        results.append((model, history.history))
    assert_same_training(results[0][0], results[1][0], results[0][1], results[1][1])


def test_fit_on_a_torch_data_loader_as_keras():
    torch = oracles.torch()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), batch_size=5)
    results = []
    for model in model_pair():
        history = model.fit(loader, epochs=2, verbose=0, validation_data=loader)
        results.append((model, history.history))
    assert_same_training(results[0][0], results[1][0], results[0][1], results[1][1])


# ---- workers: threads and processes, really used, the same batches ----------------------------
@pytest.mark.parametrize("use_multiprocessing", [False, True])
def test_workers_compute_batches_off_the_loop_and_change_nothing(tmp_path, use_multiprocessing):
    log = tmp_path / "calls.txt"
    models = []
    for workers in (1, 3):
        mgp.utils.set_random_seed(0)
        model = mgp.Sequential([mgp.Input((3,)), mgp.layers.Dense(2), mgp.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        data = dataset(mgp, batch_size=2, workers=workers, max_queue_size=4,
                       use_multiprocessing=use_multiprocessing and workers > 1,
                       log_file=str(log) if workers > 1 else None)
        random.seed(0)
        history = model.fit(data, epochs=2, verbose=0)
        models.append((model, history.history))
    for wa, wb in zip(models[0][0].get_weights(), models[1][0].get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert models[0][1] == models[1][1]
    # the loop's own thread reads only the first batch (Keras's read to build the model)
    calls = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    assert len(calls) == 1 + 2 * 11
    assert calls[0][:2] == (os.getpid(), threading.get_ident())
    pids = {pid for pid, _, _ in calls[1:]}
    threads = {thread for _, thread, _ in calls[1:]}
    if use_multiprocessing:
        assert os.getpid() not in pids and len(pids) > 1
    else:
        assert pids == {os.getpid()}
        assert threading.get_ident() not in threads and len(threads) > 1


def test_a_worker_error_names_the_batch():
    class Broken(mgp.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            if index == 2:
                raise KeyError("no such image")
            return X[:2], Y[:2]

    model, _ = model_pair()
    for kwargs in ({}, {"workers": 2}, {"workers": 2, "use_multiprocessing": True}):
        with pytest.raises(KeyError, match="no such image") as info:
            model.fit(Broken(**kwargs), shuffle=False, verbose=0)
        assert any("Broken.__getitem__(2)" in note for note in info.value.__notes__)


def test_a_dead_worker_process_is_an_error():
    class Dies(mgp.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            if os.getpid() != parent:  # (the first batch is read in the loop's process)
                os._exit(3)
            return X[:2], Y[:2]

    parent = os.getpid()
    model, _ = model_pair()
    with pytest.raises(RuntimeError, match="worker process of Dies died"):
        model.fit(Dies(workers=2, use_multiprocessing=True), verbose=0)


# ---- steps, endless data and running out ---------------------------------------------------
def test_steps_per_epoch_longer_than_the_dataset_warns_as_keras():
    for model, k in zip(model_pair(), (mgp, keras)):
        with pytest.warns(UserWarning, match="ran out of data"):
            history = model.fit(dataset(k), epochs=2, steps_per_epoch=6, verbose=0)
        assert len(history.history["loss"]) == 2


def test_an_exhausted_generator_ends_training_with_a_warning():
    model, _ = model_pair()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(batches_of(X, Y, 6), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1


def test_an_endless_py_dataset_needs_steps():
    class Endless(mgp.utils.PyDataset):
        num_batches = None

        def __getitem__(self, index):
            return X[:4] + index, Y[:4]

    model, _ = model_pair()
    with pytest.raises(ValueError, match="endless.*steps_per_epoch"):
        model.fit(Endless(), verbose=0)
    data = Endless()
    history = model.fit(data, steps_per_epoch=3, epochs=2, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 2


# ---- bad input: clear errors, weights untouched --------------------------------------------
class Bad(mgp.utils.PyDataset):
    def __init__(self, batch, bad_at=0, **kwargs):
        super().__init__(**kwargs)
        self.batch, self.bad_at = batch, bad_at

    def __len__(self):
        return 3

    def __getitem__(self, index):
        return self.batch if index == self.bad_at else (X[:4], Y[:4])


@pytest.mark.parametrize("batch, message", [
    ((X[:4], Y[:4], np.ones(4), np.ones(4)), r"batch 0 of the Bad must be x.*a tuple of 4"),
    ("not a batch", r"batch 0 of the Bad must be x.*got str"),
    ((X[:4, :2], Y[:4]), r"batch 0 of the Bad: model 'sequential\w*' expected input shape "
                         r"\(None, 3\), got \(4, 2\)"),
    ((X[:4], Y[:3]), r"batch 0 of the Bad: x has 4 samples and y 3"),
    ((X[:0], Y[:0]), r"batch 0 of the Bad: x has 0 samples"),
    ((X[:4], Y[:4], np.ones(3)), r"batch 0 of the Bad: sample_weight must have shape \(4,\)"),
    ((np.full((4, 3), np.nan, np.float32), Y[:4]), r"batch 0 of the Bad: x holds NaN .* in row 0 \(4 rows in all\)"),
])
def test_a_bad_first_batch_is_named_before_any_weight_changes(batch, message):
    model, _ = model_pair()
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(Bad(batch), shuffle=False, verbose=0)
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)


def test_a_bad_later_batch_is_named():
    model, _ = model_pair()
    model.fit(X, Y, verbose=0)  # built: no first-batch read
    with pytest.raises(ValueError, match=r"batch 2 of the Bad: model .* got \(4, 5\)"):
        model.fit(Bad((np.ones((4, 5), np.float32), Y[:4]), bad_at=2), shuffle=False,
                  verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"y": Y}, "when x is a PyDataset, y must not be passed"),
    ({"sample_weight": np.ones(22)}, "sample_weight must not be passed"),
    ({"validation_split": 0.2}, "validation_split works for arrays only"),
    ({"steps_per_epoch": 0}, "steps_per_epoch must be a positive integer"),
])
def test_arguments_that_do_not_go_with_a_py_dataset(kwargs, message):
    model, _ = model_pair()
    with pytest.raises(ValueError, match=message):
        model.fit(dataset(mgp), verbose=0, **kwargs)


def test_generator_errors():
    model, _ = model_pair()
    with pytest.raises(ValueError, match="must yield at least one batch"):
        model.fit(iter([]), verbose=0)
    with pytest.raises(ValueError, match="class_weight is not supported for a generator"):
        model.fit(batches_of(X, Y, 4), class_weight={0: 1.0}, verbose=0)


def test_py_dataset_without_super_init_warns_and_works():
    class NoInit(mgp.utils.PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 2

        def __getitem__(self, index):
            return X[:3], Y[:3]

    model, _ = model_pair()
    with pytest.warns(UserWarning, match="should call super"):
        model.fit(NoInit(), verbose=0)
    assert mgp.utils.Sequence is mgp.utils.PyDataset
    assert "NoInit num_batches=2" in repr(NoInit())
