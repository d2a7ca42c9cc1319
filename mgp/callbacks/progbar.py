"""Progress of `fit`, `evaluate` and `predict`: `Progbar` (Keras's `keras.utils.Progbar`) and
the `ProgbarLogger` callback that drives it.

One bar, three places to show it, chosen when the bar starts:
- a terminal: the line is redrawn in place with a carriage return, as Keras draws it;
- a file or a pipe (a log, CI, `nohup`): plain lines only, never a carriage return: the final
  line of each epoch, plus a progress line every `log_interval` seconds on long epochs;
- a Jupyter kernel: an ipywidgets progress bar that, once finished, is replaced by the final
  line (so a notebook saved or read as text still shows the final metrics). Without ipywidgets
  the same line is updated in place as a display output. Neither is imported until a bar is
  shown in a notebook, so `import mgp` never imports or warns about them.
"""
import html
import sys
import time

import numpy as np

from mgp.callbacks.base import Callback


def _in_notebook():
    """Whether this process is a Jupyter kernel (IPython's ZMQ shell), not a terminal IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None or "ipykernel" not in sys.modules:
        return False
    shell = ipython.get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _format_value(v):
    if isinstance(v, (int, float, np.integer, np.floating)) or (
            isinstance(v, np.ndarray) and v.ndim == 0):
        v = float(v)
        return f"{v:.4f}" if abs(v) > 1e-3 or v == 0 else f"{v:.4e}"
    return str(v)


def _format_time_per_unit(seconds, unit):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _format_duration(seconds):
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.0f}s"


class _TerminalView:
    """Redraws one line in place; the finished line ends with a newline."""

    def __init__(self, file):
        self.file, self._width = file, 0

    def show(self, plain, fraction, final, colored=None):
        text = colored or plain
        pad = " " * max(0, self._width - len(plain))  # wipe what a longer line left behind
        self.file.write("\r" + text + pad + ("\n" if final else ""))
        self.file.flush()
        self._width = len(plain)


class _LogView:
    """Whole lines only: the final one, and one every `interval` seconds before it."""

    def __init__(self, file, interval):
        self.file, self.interval = file, interval
        self._last = time.perf_counter()

    def show(self, plain, fraction, final, colored=None):
        now = time.perf_counter()
        if final or (self.interval is not None and now - self._last >= self.interval):
            self.file.write(plain + "\n")
            self.file.flush()
            self._last = now


class _FinalLine:
    """What a notebook keeps once a bar is done: the line as text, and as HTML with a bar."""

    def __init__(self, text, fraction):
        self.text, self.fraction = text, fraction

    def __repr__(self):
        return self.text

    def _repr_html_(self):
        done = int(round(100 * min(max(self.fraction, 0.0), 1.0)))
        return (f'<div style="font-family: monospace; white-space: pre">'
                f'<progress value="{done}" max="100" style="width: 12em"></progress> '
                f'{html.escape(self.text)}</div>')


class _NotebookView:
    """An ipywidgets bar and label while running; replaced by `_FinalLine` when done. Without
    ipywidgets, the `_FinalLine` display itself is updated as the bar moves."""

    def __init__(self):
        from IPython.display import display
        try:
            import ipywidgets
        except ImportError:
            ipywidgets = None
        self._widget = None
        if ipywidgets is not None:
            self._bar = ipywidgets.FloatProgress(value=0.0, min=0.0, max=1.0)
            self._label = ipywidgets.HTML(value="")
            self._widget = ipywidgets.HBox([self._bar, self._label])
            self._handle = display(self._widget, display_id=True)
        else:
            self._handle = display(_FinalLine("", 0.0), display_id=True)

    def show(self, plain, fraction, final, colored=None):
        if final:
            self._handle.update(_FinalLine(plain, fraction))
            if self._widget is not None:
                self._widget.close()
        elif self._widget is not None:
            self._bar.value = fraction
            self._label.value = f"<code>{html.escape(plain)}</code>"
        else:
            self._handle.update(_FinalLine(plain, fraction))


class Progbar:
    """A progress bar with Keras's format:
    `12/100 ━━━━━━━━━━━━━━━━━━━━ 3s 28ms/step - loss: 0.3412`.

    Args:
        target: total number of steps, or None when unknown.
        width: the bar's width in characters.
        verbose: 1 for a bar (updated as it goes), 2 for a single line when it finishes,
            0 for nothing.
        interval: the least number of seconds between two redraws on a terminal or in a
            notebook.
        stateful_metrics: names whose values are shown as given; every other value is
            averaged over the steps seen (Keras's default).
        stateless_metrics: instead of `stateful_metrics`: the only names to average
            (`ProgbarLogger` passes none: the logs are running averages already).
        unit_name: what a step is called in the time per step (`"step"`).
        log_interval: in a log file or pipe, seconds between progress lines before the final
            one (None: the final line only).
        file: where to write (default: `sys.stdout` at the time of writing).

    Example:
        bar = mgp.utils.Progbar(100)
        for step in range(100):
            bar.update(step + 1, [("loss", 0.1)])
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step", log_interval=30.0, file=None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar takes stateful_metrics or stateless_metrics, not both")
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name, self.log_interval = interval, unit_name, log_interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        self._file = file
        self._values, self._order = {}, []
        self._seen = 0
        self._start = time.perf_counter()
        self._after_first_step = None
        self._last_draw = 0.0
        self._view = None

    def _make_view(self):
        file = self._file or sys.stdout
        if self._file is None and _in_notebook():
            return _NotebookView()
        if getattr(file, "isatty", lambda: False)():
            return _TerminalView(file)
        return _LogView(file, self.log_interval)

    def update(self, current, values=None, finalize=None):
        """Record step `current` (1-based) and its `values` ([(name, value), ...]), and redraw
        when it is time to."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            if name not in self._order:
                self._order.append(name)
            averaged = (name in self.stateless_metrics if self.stateless_metrics is not None
                        else name not in self.stateful_metrics)
            if not averaged or finalize:
                self._values[name] = [value, 1]
            else:
                steps = max(current - self._seen, 1)
                total, count = self._values.get(name, [0.0, 0])
                self._values[name] = [total + value * steps, count + steps]
        now = time.perf_counter()
        per_step = self._time_per_step(current, now)
        self._seen = current
        if self.verbose == 0 or (self.verbose == 2 and not finalize):
            return
        if not finalize and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        if self._view is None:
            self._view = self._make_view()
        plain, colored, fraction = self._render(current, now, per_step, finalize)
        self._view.show(plain, fraction, finalize, colored)

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    def _time_per_step(self, current, now):
        """Seconds per step, leaving out the first step (compilation, caches) once there are
        others, as Keras estimates it."""
        if not current:
            return 0.0
        if current == 1 and self._after_first_step is None:
            self._after_first_step = now
        if self._after_first_step is not None and current > 1:
            return (now - self._after_first_step) / (current - 1)
        return (now - self._start) / current

    def _metrics_text(self):
        parts = []
        for name in self._order:
            total, count = self._values[name]
            value = total / max(count, 1) if not isinstance(total, str) else total
            parts.append(f" - {name}: {_format_value(value)}")
        return "".join(parts)

    def _render(self, current, now, per_step, finalize):
        """The line as plain text, as colored text (for a terminal), and the fraction done."""
        known = self.target is not None and self.target > 0
        fraction = current / self.target if known else 0.0
        if self.verbose == 2:
            count = f"{current:{len(str(self.target))}d}/{self.target}" if known else \
                f"{current}"
            line = (f"{count} - {now - self._start:.0f}s - "
                    f"{_format_time_per_unit(per_step, self.unit_name)}{self._metrics_text()}")
            return line, None, fraction
        if known:
            count = f"{current:{len(str(self.target))}d}/{self.target}"
            done = min(int(self.width * fraction), self.width)
            bar = "━" * done + "─" * (self.width - done)
            colored_bar = f"\x1b[32m{'━' * done}\x1b[0m\x1b[37m{'━' * (self.width - done)}\x1b[0m"
        else:
            count, bar, colored_bar = f"{current:7d}/Unknown", "", ""
        if known and not finalize:
            when = _format_duration(per_step * (self.target - current))  # time left
        else:
            when = f"{now - self._start:.0f}s"  # time taken
        info = (f" {when} {_format_time_per_unit(per_step, self.unit_name)}"
                f"{self._metrics_text()}")
        plain = f"{count} {bar}{info}" if bar else f"{count}{info}"
        colored = f"\x1b[1m{count}\x1b[0m {colored_bar}{info}" if bar else None
        return plain, colored, fraction

    def __repr__(self):
        return f"<Progbar {self._seen}/{self.target} verbose={self.verbose}>"


class ProgbarLogger(Callback):
    """Prints the progress of `fit`, `evaluate` and `predict`, as Keras does: added by them
    whenever `verbose` is not 0.

    With verbose 1, `fit` shows `Epoch i/n` (when there are several epochs) and a bar per epoch
    with the running loss and metrics, the validation figures added to its final line;
    `evaluate` shows a bar with the metrics and `predict` a bar alone. With verbose 2, each
    epoch (or evaluation) is one line when it ends. The validation inside `fit` is silent.
    Where the bar goes (terminal, log file or pipe, notebook) is described in
    `mgp.callbacks.progbar`.

    Args:
        log_interval: in a log file or pipe, seconds between progress lines within an epoch
            (default 30; None: one line per epoch).
    """

    def __init__(self, log_interval=30.0):
        super().__init__()
        self.log_interval = log_interval
        self.progbar = None
        self.seen = 0
        self._in_fit = False

    def _new_bar(self):
        verbose = self.params.get("verbose", 1)
        self.seen = 0
        self.progbar = Progbar(self.params.get("steps"), verbose=1 if verbose == "auto" else
                               int(verbose), stateless_metrics=(),
                               log_interval=self.log_interval)

    def _update(self, batch, logs):
        if self.progbar is None:
            self._new_bar()
        self.seen = batch + 1
        if self.progbar.verbose == 1:
            self.progbar.update(self.seen, sorted((logs or {}).items()), finalize=False)

    def _finish(self, logs):
        if self.progbar is None:
            self._new_bar()
        if self.progbar.target is None:
            self.progbar.target = self.seen
        # by name, as Keras shows its logs (accuracy, loss, val_accuracy, val_loss)
        self.progbar.update(self.seen or self.progbar.target or 0,
                            sorted((logs or {}).items()), finalize=True)
        self.progbar = None

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False
        self.progbar = None

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs", 1)
        if epochs > 1:
            print(f"Epoch {epoch + 1}/{epochs}", flush=True)
        self._new_bar()

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)  # the outputs are not metrics

    def on_predict_end(self, logs=None):
        self._finish(None)

    def __repr__(self):
        return f"<ProgbarLogger log_interval={self.log_interval}>"

