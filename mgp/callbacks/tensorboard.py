"""TensorBoard: the training curves, weight histograms and images, and the model's graph, as
event files TensorBoard reads (`tensorboard --logdir logs`), under Keras's tags and folders.

The files are written by `event_file.py`, without TensorFlow; nothing beyond NumPy is needed.
"""
import json
import os
import time
import warnings

import numpy as np

from mgp.callbacks.base import Callback
from mgp.callbacks.event_file import EventFileWriter


class TensorBoard(Callback):
    """Log training for TensorBoard, as Keras's TensorBoard callback does.

    Writes to `log_dir/train` and `log_dir/validation`:
    - each epoch: `epoch_<metric>` for the training logs (with `epoch_learning_rate`) and, in
      `validation`, for the `val_` logs; after each evaluation, `evaluation_<metric>_vs_iterations`
      at the optimizer's step count.
    - every `update_freq` batches (when it is an int, or "batch" for every batch):
      `batch_<metric>` at the global batch number.
    - every `histogram_freq` epochs: a histogram of each layer's weights
      (`<layer path>/<weight>/histogram`) and, with `write_images`, the weights as images.
    - with `write_graph`, the model's config (TensorBoard's graph tab draws it) for Sequential
      and functional models.

    Args:
        log_dir: the folder (created if missing). histogram_freq: epochs between histograms, 0
            for none. write_graph: default True. write_images: default False.
        write_steps_per_second: also log the training speed. update_freq: "epoch", "batch" or
            an int. profile_batch: must be 0 (mgp has no profiler).
        embeddings_freq, embeddings_metadata: for `Embedding` layers, as Keras: a
            `projector_config.pbtxt` and the weights saved every `embeddings_freq` epochs.

    Example:
        >>> model.fit(x, y, epochs=5, callbacks=[mgp.callbacks.TensorBoard("logs")])
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        if profile_batch not in (0, None, "0", (0, 0), [0, 0]):
            raise ValueError(f"TensorBoard: profiling is not available in mgp; profile_batch "
                             f"must be 0, got {profile_batch!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, int) and update_freq >= 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or an integer "
                             f">= 1, got {update_freq!r}")
        for name, value in [("histogram_freq", histogram_freq),
                            ("embeddings_freq", embeddings_freq)]:
            if not (isinstance(value, int) and value >= 0):
                raise ValueError(f"TensorBoard: {name} must be an integer >= 0, got {value!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph = histogram_freq, write_graph
        self.write_images, self.write_steps_per_second = write_images, write_steps_per_second
        self.update_freq = update_freq
        self.embeddings_freq, self.embeddings_metadata = embeddings_freq, embeddings_metadata
        self._writers = {}
        self._global_train_batch = self._global_test_batch = 0
        self._batch_start = self._epoch_start = 0.0
        self._epoch_start_iterations = 0

    # ---- writers --------------------------------------------------------------------------------
    def _writer(self, kind):
        if kind not in self._writers:
            folder = "train" if kind == "train" else "validation"
            self._writers[kind] = EventFileWriter(os.path.join(self.log_dir, folder))
        return self._writers[kind]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model):
        super().set_model(model)
        self._close_writers()
        if self.write_graph:
            self._write_model_config()
        if self.embeddings_freq:
            self._configure_embeddings()

    def _write_model_config(self):
        from mgp.models import Sequential
        from mgp.saving.layout import group_name
        from mgp.saving.model_file import model_config
        if not (isinstance(self.model, Sequential) or group_name(self.model) == "functional"):
            return  # as Keras: only models whose config describes the graph
        try:
            text = json.dumps(_keras_graph_config(model_config(self.model)))
        except Exception as e:  # a layer whose config is not JSON: skip, as Keras does
            warnings.warn(f"TensorBoard: the model's config is not JSON-serializable, so its "
                          f"graph is not written ({e})", stacklevel=2)
            return
        writer = self._writer("train")
        writer.text_tensor("keras", text, 0, "graph_keras_model", content=b"1")
        writer.flush()

    def _configure_embeddings(self):
        metadata = self.embeddings_metadata
        pending = dict(metadata) if isinstance(metadata, dict) else {}
        lines = []
        for layer in self.model.layers:
            if type(layer).__name__ != "Embedding":
                continue
            lines += ["embeddings {", '  tensor_name: "layer_with_weights-0/embeddings/'
                      '.ATTRIBUTES/VARIABLE_VALUE"']
            path = metadata if isinstance(metadata, str) else pending.pop(layer.name, None)
            if path is not None:
                lines.append(f"  metadata_path: {json.dumps(path)}")
            lines.append("}")
        if pending:
            raise ValueError(f"TensorBoard: embeddings_metadata names layers that are not "
                             f"Embedding layers of the model: {sorted(pending)}")
        os.makedirs(self.log_dir, exist_ok=True)
        with open(os.path.join(self.log_dir, "projector_config.pbtxt"), "w") as f:
            f.write("\n".join(lines) + ("\n" if lines else ""))

    # ---- hooks ----------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._epoch_start_iterations = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_iterations = self._iterations()
            self._epoch_start = time.time()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        writer = self._writer("train")
        if self.write_steps_per_second:
            writer.scalar("batch_steps_per_second",
                          1.0 / max(time.time() - self._batch_start, 1e-9), step)
        for name, value in (logs or {}).items():
            if _is_number(value):
                writer.scalar(f"batch_{name}", value, step)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return
        writer, step = self._writer("val"), self._iterations()
        for name, value in (logs or {}).items():
            if _is_number(value):
                writer.scalar(f"evaluation_{name}_vs_iterations", value, step)
        writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self.model.save_weights(os.path.join(self.log_dir, "train",
                                                 f"keras_embedding.ckpt-{epoch}.weights.h5"))

    # ---- what is written ----------------------------------------------------------------------
    def _iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        return int(getattr(optimizer, "iterations", 0) or 0)

    def _learning_rates(self):
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if optimizer is None:
            return {}
        if hasattr(type(optimizer), "optimizers"):  # a MultiOptimizer: one per inner optimizer
            return {f"learning_rate_{o.name}": o.learning_rate for o in optimizer.optimizers}
        return {"learning_rate": optimizer.learning_rate}

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        train.update(self._learning_rates())
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start, 1e-9)
            train["steps_per_second"] = (self._iterations() - self._epoch_start_iterations) / \
                elapsed
        for kind, values in [("train", train), ("val", val)]:
            values = {k: v for k, v in values.items() if _is_number(v)}
            if values:
                writer = self._writer(kind)
                for name, value in values.items():
                    writer.scalar(f"epoch_{name}", value, epoch)
                writer.flush()

    def _log_weights(self, epoch):
        from mgp.models import Sequential
        writer = self._writer("train")
        # Keras builds a Sequential model's layers inside the model's name scope
        prefix = f"{self.model.name}/" if isinstance(self.model, Sequential) else ""
        for layer in self.model.layers:
            for weight in layer.weights:
                tag = f"{prefix}{layer.name}/{weight.name}".replace(":", "_")
                values = weight.numpy()
                writer.histogram(f"{tag}/histogram", values, epoch)
                if self.write_images:
                    image = _weight_image(values)
                    if image is not None:
                        writer.image(f"{tag}/image", image, epoch)
        writer.flush()

    def __repr__(self):
        return f"<TensorBoard log_dir={self.log_dir!r} update_freq={self.update_freq!r}>"


def _keras_graph_config(config):
    """The model config with each layer's inputs in Keras 3's form (a `__keras_tensor__` with
    its `keras_history`), which TensorBoard's graph plugin reads to draw the edges."""
    def tensor(arg):
        if isinstance(arg, list):
            return [tensor(a) for a in arg]
        if isinstance(arg, dict) and "layer" in arg:
            return {"class_name": "__keras_tensor__", "config": {"keras_history": [
                arg["layer"], arg.get("node", 0), arg.get("index", 0)]}}
        return arg

    def layer(entry):
        entry = dict(entry)
        nodes = []
        for node in entry.get("inbound_nodes") or []:
            if isinstance(node, dict):
                args = tensor(node.get("args", []))
                node = {**node, "args": args if isinstance(args, list) else [args]}
            nodes.append(node)
        if "inbound_nodes" in entry:
            entry["inbound_nodes"] = nodes
        inner = entry.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("layers"), list):
            entry["config"] = {**inner, "layers": [layer(e) for e in inner["layers"]]}
        return entry

    return layer(config)


def _is_number(value):
    return isinstance(value, (int, float, np.number)) or (isinstance(value, np.ndarray)
                                                          and value.size == 1)


def _weight_image(w):
    """A weight as images, as Keras lays it out: a vector as one row, a matrix wide side across,
    a 3-D kernel one image per output channel; None for what is not an image. Values map to
    grey levels as TensorFlow's image summary maps floats (clipped to [0, 1])."""
    w = np.squeeze(w)
    if w.ndim == 1:
        w = w.reshape(1, w.shape[0], 1, 1)
    elif w.ndim == 2:
        if w.shape[0] > w.shape[1]:
            w = w.T
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.ndim == 3:
        w = np.transpose(w, (2, 0, 1))[..., None]
    if w.ndim != 4 or w.shape[-1] not in (1, 3, 4):
        return None
    return np.clip(w.astype(np.float64) * 255.5, 0, 255).astype(np.uint8)
