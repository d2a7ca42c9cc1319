"""The exceptions mgp raises where a user can catch them by kind.

Each is also the built-in exception Keras raises in the same place (mostly `ValueError`), so code
written against Keras (`except ValueError:`) keeps working; catching the mgp type is narrower.
Every message names what is wrong: the file, the argument, the layer, the value.
"""


class MgpError(Exception):
    """Base of the exceptions below."""


# --- files: what a file holds, before anything is assigned from it ---------------------------

class FileFormatError(MgpError, ValueError):
    """A file is not what it claims to be: corrupt, truncated, the wrong format, or holding
    values of the wrong shape or dtype. Raised before anything read from it is used."""


class UnsafeFileError(FileFormatError):
    """A file asks for something mgp never does on a file's say-so: read another file (HDF5
    external storage, virtual datasets, external links), run code (pickles, bytecode), or
    allocate far more memory than the file itself can justify."""


class ConfigError(MgpError, ValueError):
    """A config (read from a file, or given to `from_config` / `deserialize`) that cannot build
    what it names: an entry of the wrong kind, a class mgp does not know, a graph that does not
    connect. Names the object (class and name) and, where it can, the entry."""


class LayoutMismatchError(MgpError, ValueError):
    """An intact file whose contents do not fit the model or optimizer it is loaded into
    (a missing or extra variable, a different shape)."""


# --- arguments and data handed to mgp ---------------------------------------------------------

class InvalidArgumentError(MgpError, ValueError):
    """An argument to a layer, model, compile/fit/evaluate/predict or an op is out of range or
    of the wrong kind. Raised before any state changes."""


class InvalidDataError(MgpError, ValueError):
    """Training or evaluation data that cannot be used as given: non-numeric values, labels out
    of range, NaN where a number is needed, arrays of mismatched lengths."""
