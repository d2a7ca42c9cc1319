"""`keras.preprocessing.sequence`: `pad_sequences`, as in `mgp.utils`."""
from mgp.utils import pad_sequences  # noqa: F401
