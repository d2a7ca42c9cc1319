"""docs/keras_coverage.md is what tools/keras_coverage.py makes from the code now."""
import importlib.util
import os

import oracles

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tool():
    spec = importlib.util.spec_from_file_location(
        "keras_coverage", os.path.join(ROOT, "tools", "keras_coverage.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_coverage_page_is_up_to_date():
    oracles.keras()
    tool = _tool()
    version, rows = tool.coverage()
    with open(os.path.join(ROOT, tool.PAGE), encoding="utf-8") as f:
        committed = f.read()
    assert committed == tool.markdown(version, rows), (
        f"{tool.PAGE} is stale: run python tools/keras_coverage.py --markdown {tool.PAGE}")


def test_the_page_lists_the_five_families_a_course_meets():
    oracles.keras()
    tool = _tool()
    _, rows = tool.coverage()
    by_namespace = {dotted: (names, present) for dotted, names, present, _ in rows}
    for namespace in ("layers", "losses", "metrics", "optimizers", "callbacks"):
        names, present = by_namespace[namespace]
        assert names and set(present) <= set(names)
    assert "Dense" in by_namespace["layers"][1] and "EarlyStopping" in \
        by_namespace["callbacks"][1]
