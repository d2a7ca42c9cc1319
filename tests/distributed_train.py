"""The training script tests/test_distributed.py runs, alone and under `mpiexec -n N`.

argv[1] is a JSON object of options; each process writes what it saw to
`<out>/rank<R>.npz`: the weights after every training step, the history, what evaluate and
predict returned, and the learning rate at the end.
"""
import json
import os
import signal
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import mgp  # noqa: E402
from mgp import layers  # noqa: E402

options = json.loads(sys.argv[1])
out = options["out"]
mgp.distribution.set_distribution(mgp.distribution.DataParallel(
    bucket_cap_mb=options.get("bucket_cap_mb", 25.0), timeout=options.get("timeout", 60.0)))
rank = mgp.distribution.distribution().data_shard_id


class Record(mgp.callbacks.Callback):
    """The weights after every step; kills or hangs this process where asked."""

    def __init__(self):
        super().__init__()
        self.steps, self.streams = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0 and options.get("record_streams"):
            self.streams.append(mgp.backend.device_rng().random(4))

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(np.concatenate([w.reshape(-1) for w in self.model.get_weights()]))

    def on_epoch_end(self, epoch, logs=None):
        if options.get("kill") == [rank, epoch]:
            os.kill(os.getpid(), signal.SIGKILL)
        if options.get("hang") == [rank, epoch]:
            time.sleep(3600)


class CustomStep(mgp.Sequential):
    """A train_step written as Keras's "customizing fit" guide writes it."""

    def train_step(self, data):
        x, y, sample_weight = mgp.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        for v in self.trainable_weights:
            v.grad = None
        loss.backward()
        self.optimizer.apply([v.value.grad for v in self.trainable_weights],
                             self.trainable_weights)
        self._loss_tracker.update_state(loss, sample_weight=len(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


mgp.utils.set_random_seed(0)
data = np.random.default_rng(1)
n = options.get("n", 50)
x = data.standard_normal((n, 6)).astype(np.float32)
y = data.integers(0, 3, n)
stack = [layers.Input((6,)), layers.Dense(16, activation="relu")]
if options.get("bn_dropout"):
    stack += [layers.BatchNormalization(), layers.Dropout(0.3), layers.Dense(8, activation="relu"),
              layers.Dropout(0.2, seed=3)]
stack += [layers.Dense(3, activation="softmax")]
model = (CustomStep if options.get("custom_step") else mgp.Sequential)(stack)
model.compile(optimizer=mgp.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"], weighted_metrics=["accuracy"])

record = Record()
callbacks = [record]
if options.get("backup"):
    callbacks.append(mgp.callbacks.BackupAndRestore(options["backup"]))
if options.get("writers"):
    mine = os.path.join(out, f"files{rank}")  # where this process's writers would write
    callbacks += [mgp.callbacks.ModelCheckpoint(os.path.join(mine, "ckpt.weights.h5"),
                                                save_weights_only=True),
                  mgp.callbacks.CSVLogger(os.path.join(mine, "log.csv")),
                  mgp.callbacks.BackupAndRestore(os.path.join(mine, "backup"),
                                                 delete_checkpoint=False),
                  mgp.callbacks.TensorBoard(os.path.join(mine, "tb")),
                  mgp.callbacks.EarlyStopping("loss", min_delta=0.045, patience=0),
                  mgp.callbacks.ReduceLROnPlateau("loss", factor=0.5, patience=0,
                                                  min_delta=0.06)]
weights = data.uniform(0.5, 2.0, n).astype(np.float32) if options.get("sample_weight") else None
history = model.fit(x, y, batch_size=options.get("batch_size", 16),
                    epochs=options.get("epochs", 2), sample_weight=weights,
                    validation_split=options.get("validation_split", 0.0),
                    verbose=options.get("verbose", 0), callbacks=callbacks)
evaluated = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
predicted = model.predict(x, batch_size=7, verbose=0)
on_batch = [model.train_on_batch(x[:5], y[:5], return_dict=True),
            model.test_on_batch(x[:5], y[:5], return_dict=True)]
predicted_on_batch = model.predict_on_batch(x[:2])  # 3 processes: one has a stand-in
reducer = mgp.distribution.distribution()._reducer
np.savez(os.path.join(out, f"rank{rank}.npz"), steps=np.array(record.steps),
         history=json.dumps(history.history), epochs=np.array(history.epoch),
         evaluated=json.dumps(evaluated), predicted=predicted, on_batch=json.dumps(on_batch),
         predicted_on_batch=predicted_on_batch,
         final=np.concatenate([w.reshape(-1) for w in model.get_weights()]),
         optimizer=np.concatenate([np.ravel(v.numpy()) for v in model.optimizer.variables]),
         lr=model.optimizer.learning_rate, streams=np.array(record.streams),
         early=0 if reducer is None else reducer.early,
         messages=0 if reducer is None else reducer.messages)
