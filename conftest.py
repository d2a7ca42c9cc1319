"""Collects the Markdown docs' Python blocks as tests (tests/markdown_blocks.py), with the same
setup the tests have: the local copy of the datasets when MGP_DATA_DIR is not set."""
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))
os.environ.setdefault("KERAS_BACKEND", "torch")
_LOCAL_DATA = Path(__file__).resolve().parents[1] / "shared" / "data"
if "MGP_DATA_DIR" not in os.environ and _LOCAL_DATA.is_dir():
    os.environ["MGP_DATA_DIR"] = str(_LOCAL_DATA)

from markdown_blocks import pytest_collect_file  # noqa: E402, F401
