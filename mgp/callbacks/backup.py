"""BackupAndRestore: resume a killed `fit` where it stopped, bit for bit."""
import contextlib
import json
import os

import numpy as np

from mgp import backend
from mgp.callbacks.base import Callback
from mgp.errors import FileFormatError


class BackupAndRestore(Callback):
    """Back up the training state during `fit`, and restore it when the same `fit` runs again.

    At the end of every epoch (or every `save_freq` batches) one file,
    `backup_dir/latest.weights.h5`, is replaced atomically by a new one holding the weights, the
    optimizer's state (in the `.weights.h5` layout, so Keras can read it too) and, as root
    attributes, the number of epochs completed and the state of mgp's random generator. When a
    run is killed (SIGKILL, power loss) and the script is run again, `on_train_begin` finds the
    file, restores all of it and makes `fit` start at the next epoch, so the resumed run ends with
    exactly the weights an uninterrupted run would have had. When `fit` finishes, the backup is
    deleted.

    Args:
        backup_dir: folder for the backup (created when needed); use it for nothing else.
        save_freq: "epoch", or an integer N to also back up every N batches. A run resumed from
            a backup made in the middle of an epoch repeats that epoch from its first batch
            with the weights of that moment (as Keras does), so only "epoch" is exact.
        double_checkpoint: keep the previous backup as `latest.weights.h5.bkp` and fall back to
            it when the latest one cannot be read.
        delete_checkpoint: delete the backup when training finishes.

    Example:
        >>> mgp.utils.set_random_seed(0)
        >>> model.fit(x, y, epochs=10,
        ...           callbacks=[mgp.callbacks.BackupAndRestore("/tmp/backup")])
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore needs a backup_dir, got an empty one")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or
                                     isinstance(save_freq, bool) or save_freq < 1):
            raise ValueError(f"save_freq must be 'epoch' or a positive integer, got "
                             f"{save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._prev_path = self._path + ".bkp"
        self._epoch = 0            # the epoch in progress
        self._batches_since_save = 0

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(f"BackupAndRestore needs a built model, and model "
                             f"'{self.model.name}' is not built: give it an input shape "
                             f"(mgp.Input) or call it on a batch before fit()")
        candidates = [p for p in (self._path, self._prev_path) if os.path.exists(p)]
        for i, path in enumerate(candidates):
            try:
                self._restore(path)
                return
            except ValueError:
                if i == len(candidates) - 1:
                    raise

    def _restore(self, path):
        """Check everything in the backup (weights, optimizer state, epoch, random states)
        against the model, then restore all of it; a bad backup changes nothing."""
        from mgp import saving
        from mgp.saving import h5format
        with saving.read_weights_file(path) as contents:
            attrs = contents.attrs
            if "backup_epoch" not in attrs or "backup_rng_state" not in attrs:
                raise FileFormatError(f"'{path}' is not a backup written by BackupAndRestore "
                                      f"(it lacks the attributes backup_epoch and "
                                      f"backup_rng_state)")
            pairs, optimizer_state = h5format.plan(self.model, contents, optimizer="require")
        epoch = attrs["backup_epoch"]
        if not 0 <= epoch <= 2 ** 62:
            raise FileFormatError(f"'{path}': backup_epoch is {epoch}, not a count of epochs")
        rng_state = _json(attrs["backup_rng_state"], "backup_rng_state", path)
        layer_states = _json(attrs.get("backup_layer_rng_states", "{}"),
                             "backup_layer_rng_states", path)
        if not isinstance(layer_states, dict):
            raise FileFormatError(f"'{path}': backup_layer_rng_states holds "
                                  f"{type(layer_states).__name__}, not a dict")
        # mgp's one generator (shuffling, dropout, ...) and any generator a layer holds
        # (Dropout(seed=...)): each state is tried on a fresh generator of the same kind first
        generators = [(backend.rng(), rng_state, "backup_rng_state")]
        for (layer_path, attr), generator in _layer_generators(self.model).items():
            state = layer_states.get(f"{layer_path}:{attr}")
            if state is not None:
                what = f"backup_layer_rng_states '{layer_path}:{attr}'"
                generators.append((generator, state, what))
        for generator, state, what in generators:
            _check_state(generator, state, what, path)
        h5format.assign(self.model, pairs, optimizer_state)
        for generator, state, _ in generators:
            generator.bit_generator.state = state
        self._epoch = int(epoch)
        self.model._initial_epoch = self._epoch  # fit reads it after on_train_begin

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._batches_since_save = 0

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch)  # an unfinished epoch: resumed from its start

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch + 1)

    def _save(self, next_epoch):
        from mgp import saving
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            os.replace(self._path, self._prev_path)
        layer_states = {f"{path}:{attr}": g.bit_generator.state
                        for (path, attr), g in _layer_generators(self.model).items()}
        saving.write_weights_file(self.model, self._path, kind="backup", attrs={
            "backup_epoch": int(next_epoch),
            "backup_rng_state": json.dumps(backend.rng().bit_generator.state),
            "backup_layer_rng_states": json.dumps(layer_states)})

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        for path in (self._path, self._prev_path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        with contextlib.suppress(OSError):  # only when nothing else was put there
            os.rmdir(self.backup_dir)

    def __repr__(self):
        return f"<BackupAndRestore backup_dir='{self.backup_dir}' save_freq={self.save_freq!r}>"


def _layer_generators(model):
    """NumPy generators held by the model's layers, keyed by (layer path, attribute name)."""
    from mgp.saving.layout import saveables
    return {(path, attr): value for path, obj in saveables(model, include_optimizer=False)
            for attr, value in vars(obj).items() if isinstance(value, np.random.Generator)}


def _json(text, key, path):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise FileFormatError(f"'{path}': {key} is not valid JSON ({e})") from None


def _check_state(generator, state, what, path):
    """Raise FileFormatError unless `state` is one the generator's kind of bit generator takes."""
    bit_generator = generator.bit_generator
    kind = type(bit_generator).__name__
    if not isinstance(state, dict) or state.get("bit_generator") != kind:
        found = state.get("bit_generator") if isinstance(state, dict) else state
        raise FileFormatError(f"'{path}': {what} is not the state of a {kind} generator "
                              f"(found {str(found)[:60]!r})")
    try:
        type(bit_generator)().state = state
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise FileFormatError(f"'{path}': {what} is not a valid {kind} state "
                              f"({type(e).__name__}: {e})") from None
