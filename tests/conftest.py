"""Test-wide setup: point the dataset loaders at the local copy of the data when the
environment does not name one (CI sets MGP_DATA_DIR itself; see .ci/run)."""
import os
from pathlib import Path

_LOCAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "MGP_DATA_DIR" not in os.environ and _LOCAL_DATA.is_dir():
    os.environ["MGP_DATA_DIR"] = str(_LOCAL_DATA)
