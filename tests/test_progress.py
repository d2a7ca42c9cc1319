"""Progress of fit / evaluate / predict: Keras's lines, in a terminal, a log and a notebook."""
import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mgp
from mgp import layers
from mgp.callbacks import ProgbarLogger, progbar
from mgp.utils import Progbar

import oracles

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def model_and_data():
    mgp.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((40, 3)).astype("float32")
    y = (x.sum(axis=1) > 1.5).astype("int64")
    model = mgp.Sequential([mgp.Input((3,)), layers.Dense(4, activation="relu"),
                            layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_fit_verbose_1_to_a_pipe_is_one_line_per_epoch_without_carriage_returns(
        model_and_data, capsys):
    model, x, y = model_and_data
    model.fit(x, y, batch_size=10, epochs=3, verbose=1, validation_split=0.25)
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    lines = out.splitlines()
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    for line in lines[1::2]:
        assert line.startswith("3/3 ━━━━━━━━━━━━━━━━━━━━ ")
        assert "ms/step" in line or "us/step" in line
        assert " - loss: " in line and " - accuracy: " in line and " - val_loss: " in line
    assert len(lines) == 6  # validation inside fit prints nothing of its own


def test_fit_final_line_shows_the_epochs_logs(model_and_data, capsys):
    model, x, y = model_and_data
    history = model.fit(x, y, batch_size=10, epochs=1, verbose=1)
    line = capsys.readouterr().out.strip()
    assert "Epoch" not in line  # a single epoch gets no header, as in Keras
    assert f"loss: {history.history['loss'][0]:.4f}" in line
    assert f"accuracy: {history.history['accuracy'][0]:.4f}" in line


def test_verbose_2_one_line_per_epoch_in_keras_format(model_and_data, capsys):
    model, x, y = model_and_data
    model.fit(x, y, batch_size=10, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("4/4 - ") and "/step - accuracy: " in lines[1]
    assert " - loss: " in lines[1]


def test_evaluate_and_predict_show_progress_with_verbose_1(model_and_data, capsys):
    model, x, y = model_and_data
    loss, acc = model.evaluate(x, y, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert out.startswith("5/5 ━━━━━━━━━━━━━━━━━━━━ ") and out.count("\n") == 1
    assert f"loss: {loss:.4f}" in out and f"accuracy: {acc:.4f}" in out
    model.predict(x, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert out.startswith("5/5 ━━━━━━━━━━━━━━━━━━━━ ") and "loss" not in out
    model.evaluate(x, y, batch_size=8, verbose=2)
    assert capsys.readouterr().out.startswith("5/5 - ")


def test_verbose_0_prints_nothing_and_bad_verbose_is_refused(model_and_data, capsys):
    model, x, y = model_and_data
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose must be 0, 1, 2 or 'auto', got 3"):
        model.evaluate(x, y, verbose=3)


def _shape_of_lines(text):
    """The lines with every number made '#': what is left is the format."""
    import re
    text = re.sub(r"\x1b\[\d+m", "", text)  # colours
    lines = [re.sub(r"\d+(\.\d+)?(e[-+]\d+)?", "#", line).rstrip()
             for line in text.splitlines()]
    return [re.sub(r"#(us|ms|s)/step", "#?s/step", line) for line in lines]  # speeds differ


def test_the_lines_have_keras_format_for_fit_evaluate_and_predict(capsys):
    keras = oracles.keras()

    def run(k):
        x = np.random.default_rng(0).random((40, 3)).astype("float32")
        y = (x.sum(axis=1) > 1.5).astype("int64")
        model = k.Sequential([k.Input((3,)), k.layers.Dense(2, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=10, epochs=2, verbose=2, validation_split=0.25)
        model.evaluate(x, y, verbose=2)
        model.predict(x, verbose=2)
        model.fit(x, y, batch_size=10, epochs=1, verbose=1)  # to a pipe: the final line
        return capsys.readouterr().out
    theirs, ours = _shape_of_lines(run(keras)), _shape_of_lines(run(mgp))
    assert ours[:6] == theirs[:6]
    # Keras writes a bar to a pipe as frames ended by "\r"; its final frame is mgp's line
    assert ours[6] == theirs[-1].split("\r")[-1]


def test_terminal_redraws_in_place_and_ends_the_line():
    out = _Terminal()
    bar = Progbar(4, interval=0, file=out)
    for step in range(4):
        bar.update(step + 1, [("loss", 1.0 / (step + 1))])
    text = out.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "\x1b[32m" in text  # the done part of the bar in green, as Keras draws it


def test_log_prints_a_progress_line_every_log_interval_seconds():
    out = io.StringIO()
    bar = Progbar(5, interval=0, log_interval=0, file=out)
    for step in range(5):
        bar.update(step + 1)
    lines = out.getvalue().splitlines()
    assert len(lines) == 5 and "\r" not in out.getvalue()
    assert lines[0].startswith("1/5 ━━━━────────────────")
    out = io.StringIO()
    bar = Progbar(5, interval=0, log_interval=None, file=out)
    for step in range(5):
        bar.update(step + 1)
    assert len(out.getvalue().splitlines()) == 1


def test_progbar_averages_stateless_values_as_keras_does():
    out = io.StringIO()
    bar = Progbar(2, interval=0, log_interval=None, stateful_metrics=["acc"], file=out)
    bar.update(1, [("loss", 1.0), ("acc", 0.5)])
    bar.update(2, [("loss", 3.0), ("acc", 0.75)], finalize=False)
    bar.update(2, finalize=True)
    line = out.getvalue()
    assert "loss: 2.0000" in line and "acc: 0.7500" in line
    with pytest.raises(ValueError, match="not both"):
        Progbar(2, stateful_metrics=["a"], stateless_metrics=["b"])


def test_a_given_progbar_logger_replaces_the_default(model_and_data, capsys):
    model, x, y = model_and_data
    model.fit(x, y, batch_size=10, epochs=1, callbacks=[ProgbarLogger(log_interval=None)])
    assert capsys.readouterr().out.count("4/4") == 1


def _notebook_outputs(monkeypatch, fit):
    oracles.module("IPython")
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    InteractiveShell.instance()
    monkeypatch.setattr(progbar, "_in_notebook", lambda: True)
    with capture_output() as captured:
        fit()
    return captured


def test_notebook_shows_a_widget_then_the_final_line_as_text(model_and_data, monkeypatch):
    oracles.module("ipywidgets")
    model, x, y = model_and_data
    captured = _notebook_outputs(
        monkeypatch, lambda: model.fit(x, y, batch_size=10, epochs=2, validation_split=0.25))
    assert captured.stdout == "Epoch 1/2\nEpoch 2/2\n"
    assert len(captured.outputs) == 4  # per epoch: the widget, then what replaces it
    widget, final = captured.outputs[2], captured.outputs[3]
    assert "application/vnd.jupyter.widget-view+json" in widget.data and not widget.update
    # the widget's display is replaced by plain text (and HTML) holding the final metrics
    assert final.update and final.transient == widget.transient
    assert set(final.data) == {"text/plain", "text/html"}
    text = final.data["text/plain"]
    assert text.startswith("3/3 ") and " - loss: " in text and " - val_accuracy: " in text
    assert "<progress" in final.data["text/html"]


def test_notebook_without_ipywidgets_updates_a_text_display(model_and_data, monkeypatch):
    model, x, y = model_and_data
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now fails
    captured = _notebook_outputs(monkeypatch, lambda: model.evaluate(x, y, verbose=1))
    assert all("application/vnd.jupyter.widget-view+json" not in o.data
               for o in captured.outputs)
    assert captured.outputs[-1].data["text/plain"].startswith("2/2 ━")
    assert " - accuracy: " in captured.outputs[-1].data["text/plain"]


def test_import_mgp_imports_no_notebook_or_plotting_module():
    code = ("import sys, mgp; print(sorted(m for m in ('tqdm.auto', 'tqdm.notebook', "
            "'ipywidgets', 'IPython', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, check=True)
    assert out.stdout.strip() == "[]" and out.stderr == ""


def test_import_mgp_in_a_kernel_without_ipywidgets_warns_nothing():
    """tqdm.auto warns as it is imported in a Jupyter kernel lacking ipywidgets; mgp must not
    import it. The marks of a kernel that tqdm looks for are set beside a real IPython shell."""
    oracles.module("IPython")
    code = textwrap.dedent("""
        import sys, types, warnings
        sys.modules["ipywidgets"] = None
        for name in ("ipykernel", "ipykernel.zmqshell"):  # what tqdm.auto takes for a kernel
            sys.modules[name] = types.ModuleType(name)
        from IPython.core.interactiveshell import InteractiveShell
        InteractiveShell.instance()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import mgp
        print([type(w.message).__name__ for w in caught])
        with warnings.catch_warnings(record=True) as caught:  # a setting tqdm.auto warns in
            warnings.simplefilter("always")
            import tqdm.auto
        print([type(w.message).__name__ for w in caught])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    assert out.returncode == 0, out.stderr
    assert out.stdout == "[]\n['TqdmWarning']\n"
    assert out.stderr == ""


def _run_notebook(cells, monkeypatch):
    nbformat = oracles.module("nbformat")
    nbclient = oracles.module("nbclient")
    oracles.module("ipykernel")
    monkeypatch.setenv("PYTHONPATH", ROOT)  # the kernel imports this tree's mgp
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": ROOT}}).execute()
    return [cell.outputs for cell in notebook.cells]


FIT_IN_A_NOTEBOOK = """
import numpy as np
x = np.random.default_rng(0).random((40, 3)).astype("float32")
y = (x.sum(axis=1) > 1.5).astype("int64")
model = mgp.Sequential([mgp.Input((3,)), mgp.layers.Dense(2, activation="softmax")])
model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, batch_size=10, epochs=2)
"""


def test_in_a_real_jupyter_kernel_the_saved_notebook_keeps_the_final_metrics(monkeypatch):
    """A real kernel (ipykernel, run by nbclient): the bar is a widget while it runs; what the
    executed notebook keeps is the final line, as text and as HTML."""
    oracles.module("ipywidgets")
    outputs = _run_notebook(["import mgp", FIT_IN_A_NOTEBOOK,
                             "print(history.history['loss'][-1])"], monkeypatch)
    assert outputs[0] == []  # import mgp: nothing printed, no warning
    streams = [o for o in outputs[1] if o.output_type == "stream"]
    displays = [o for o in outputs[1] if o.output_type == "display_data"]
    assert "".join(o.text for o in streams) == "Epoch 1/2\nEpoch 2/2\n"
    assert len(displays) == 2  # one per epoch, each replaced by its final line
    for shown in displays:
        assert "application/vnd.jupyter.widget-view+json" not in shown.data
        assert shown.data["text/plain"].startswith("4/4 ━━━━━━━━━━━━━━━━━━━━ ")
        assert " - loss: " in shown.data["text/plain"] and "<progress" in shown.data["text/html"]
    last_loss = float(outputs[2][0].text)
    assert f"loss: {last_loss:.4f}" in displays[-1].data["text/plain"]


def test_in_a_real_jupyter_kernel_without_ipywidgets_import_mgp_warns_nothing(monkeypatch):
    outputs = _run_notebook(["import sys\nsys.modules['ipywidgets'] = None",
                             "import mgp", FIT_IN_A_NOTEBOOK], monkeypatch)
    assert outputs[1] == []
    text = [o.data["text/plain"] for o in outputs[2] if o.output_type == "display_data"]
    assert len(text) == 2 and all(" - accuracy: " in t for t in text)
    assert not [o for o in outputs[2] if o.output_type == "stream" and o.name == "stderr"]
