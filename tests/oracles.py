"""The comparison tests' oracles: Keras 3 on its torch backend, and PyTorch.

`keras()` / `torch()` import them or skip the test where they are not installed; under
`MGP_REQUIRE_ORACLES=1` (set by .ci/run, which installs them) a missing oracle fails instead,
so that CI can never pass by skipping the comparisons.
"""
import importlib
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")


def _load(name, install="torch==2.13.0 keras==3.15.1"):
    try:
        return importlib.import_module(name)
    except ImportError as e:
        if os.environ.get("MGP_REQUIRE_ORACLES") == "1":
            pytest.fail(f"oracle {name!r} is required (MGP_REQUIRE_ORACLES=1) but does not "
                        f"import: {e}")
        pytest.skip(f"{name} is not installed (pip install {install})")


def torch():
    return _load("torch")


def keras():
    torch()  # Keras's torch backend needs it
    module = _load("keras")
    if module.backend.backend() != "torch":
        pytest.fail(f"Keras runs on its {module.backend.backend()!r} backend; the comparison "
                    f"tests need KERAS_BACKEND=torch set before Keras is first imported")
    return module


def program(name):
    """The path of an executable the test needs (Graphviz's `dot`, `chromium`); .ci/run
    installs them, so under MGP_REQUIRE_ORACLES=1 a missing one fails instead of skipping."""
    import shutil
    path = shutil.which(name)
    if path is None:
        if os.environ.get("MGP_REQUIRE_ORACLES") == "1":
            pytest.fail(f"program {name!r} is required (MGP_REQUIRE_ORACLES=1) but is not on "
                        f"PATH")
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return path


def module(name):
    """An optional package a test needs (matplotlib, pydot, IPython); in the test extra."""
    return _load(name, install=f'".[test]" (for {name})')


def tensorboard():
    """TensorBoard's own event-file reader (a test dependency: `pip install tensorboard`)."""
    return _load("tensorboard", install="tensorboard==2.21.0")
