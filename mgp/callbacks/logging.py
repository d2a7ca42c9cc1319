"""Callbacks that act on the logs: CSVLogger (one row per epoch), RemoteMonitor (an HTTP POST
per epoch), TerminateOnNaN, LambdaCallback."""
import collections.abc
import csv
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from mgp.callbacks.base import Callback


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file.

    The first row is the header: `epoch` (0-based) then the log keys, sorted; when there are no
    `val_*` keys, `val_` columns are added for each key (filled with "NA"), as Keras does. Each
    row is flushed as soon as it is written, so a killed run leaves every finished epoch on disk.

    Args:
        filename: path of the CSV file.
        separator: the column separator (default ",").
        append: add to an existing file instead of overwriting it. The existing header is kept
            and its columns are used for the new rows. When the run resumes at epoch k > 0 (by
            `initial_epoch` or `BackupAndRestore`), rows already written for epochs >= k (left by
            a run killed after logging them) are dropped first, rewriting the file atomically.

    Example:
        model.fit(x, y, epochs=10, callbacks=[CSVLogger("training.log")])
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.keys = None
        self.writer = None
        self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        self._close()
        self.keys = None
        self.append_header = True
        if not self.append:
            self.csv_file = open(self.filename, "w", newline="")
        # in append mode the file is opened at the first epoch, once the resume epoch is known

    def on_epoch_begin(self, epoch, logs=None):
        if self.csv_file is None:
            self._open_for_append(epoch)

    def _open_for_append(self, first_epoch):
        lines = []
        if os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                lines = f.read().splitlines(keepends=True)
        kept = [line for line in lines if line.endswith("\n")]  # a line cut by a kill is dropped
        if kept and first_epoch > 0:
            kept = kept[:1] + [line for line in kept[1:] if not self._epoch_at_least(line,
                                                                                    first_epoch)]
        if kept != lines:
            self._rewrite(kept)
        if kept:
            header = next(csv.reader([kept[0]], delimiter=self.sep))
            if header and header[0] == "epoch":
                self.keys = header[1:]
            self.append_header = False
        self.csv_file = open(self.filename, "a", newline="")

    def _epoch_at_least(self, line, first_epoch):
        row = next(csv.reader([line], delimiter=self.sep), [])
        try:
            return int(row[0]) >= first_epoch
        except (IndexError, ValueError):
            return False

    def _rewrite(self, lines):
        """Replace the file's content in one step: a temporary file moved into place."""
        folder = os.path.dirname(os.path.abspath(self.filename))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".csvlogger-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", newline="") as f:
                f.writelines(lines)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.filename)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.csv_file is None:  # fit called the hooks out of order; behave as on a new file
            self._open_for_append(epoch)
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, _csv_value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None

    def __repr__(self):
        return f"<CSVLogger filename={self.filename!r} append={self.append}>"


def _csv_value(v):
    if isinstance(v, str):
        return v
    if isinstance(v, collections.abc.Iterable) and not (isinstance(v, np.ndarray) and v.ndim == 0):
        return f'"[{", ".join(map(str, v))}]"'
    return v


class RemoteMonitor(Callback):
    """POST each epoch's logs to a server, as JSON.

    The body is `{"epoch": epoch, **logs}`: sent as the form field `field` (form-encoded) or,
    with `send_as_json`, as the request body (`Content-Type: application/json`). A server that
    cannot be reached, or answers with an error, gives a warning; training goes on.

    Args:
        root: the server, default "http://localhost:9000". path: default "/publish/epoch/end/".
        field: the form field, default "data". headers: extra HTTP headers (a dict).
        send_as_json: send the logs as a JSON body instead of a form.
        timeout: seconds to wait for the server (mgp's addition; Keras waits indefinitely).
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False, timeout=10.0):
        super().__init__()
        self.root, self.path, self.field = root, path, field
        self.headers, self.send_as_json, self.timeout = headers, send_as_json, timeout

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as e:
            warnings.warn(f"could not reach the RemoteMonitor server at {self.root} "
                          f"({type(e).__name__}: {e})", stacklevel=2)

    def __repr__(self):
        return f"<RemoteMonitor {self.root + self.path!r}>"


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    Args:
        raise_error: raise a RuntimeError instead of setting `model.stop_training` (which ends
            `fit` after the current batch, with the epoch's end hooks still called).
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                               f"{loss}. Terminating training immediately.")
        print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
        self.model.stop_training = True


_HOOKS = {name for name in vars(Callback) if name.startswith("on_")}


class LambdaCallback(Callback):
    """A callback made of functions given on the spot.

    Each argument replaces the hook of the same name and is called with the same arguments:
    `on_epoch_begin(epoch, logs)`, `on_epoch_end(epoch, logs)`, `on_train_begin(logs)`,
    `on_train_end(logs)`, `on_train_batch_begin(batch, logs)`, `on_train_batch_end(batch, logs)`;
    other hooks (`on_test_begin=...`, `on_predict_batch_end=...`) can be given by keyword.

    Example:
        print_loss = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
        model.fit(x, y, epochs=3, callbacks=[print_loss])
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        unknown = sorted(k for k in kwargs if k.startswith("on_") and k not in _HOOKS)
        if unknown:
            warnings.warn(f"LambdaCallback got {unknown}, which are not callback hooks and will "
                          f"never be called; the hooks are {sorted(_HOOKS)}", stacklevel=2)
        self.__dict__.update(kwargs)
        given = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end}
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, fn)

    def __repr__(self):
        hooks = sorted(k for k in self.__dict__ if k in _HOOKS)
        return f"<LambdaCallback {', '.join(hooks)}>"
