"""mgp's global settings, as Keras's `keras.config` names them: the default float dtype, the
fuzz factor, the image layout, and the counters that number objects' default names.

`mgp.backend` answers the same names (`mgp.backend.floatx()`), as `keras.backend` does.
"""
import collections
import gc

_floatx = "float32"
_epsilon = 1e-7
_image_data_format = "channels_last"
_name_uids = collections.defaultdict(int)  # prefix -> how many names it has given


def backend():
    """The name of the backend: 'mgp' (NumPy underneath, or CuPy on a GPU)."""
    return "mgp"


def floatx():
    """The default float dtype, as a string: 'float32' unless `set_floatx` changed it.

    Creation ops (`ops.ones`, `ops.zeros`, `ops.arange` of floats...), Python floats given to
    ops, and the float results of ops on integers take this dtype.
    """
    return _floatx


def set_floatx(value):
    """Set the default float dtype: 'float16', 'float32' or 'float64'.

    Raises:
        ValueError: for any other value (NumPy has no 'bfloat16', so mgp has none either).
    """
    global _floatx
    accepted = ("float16", "float32", "float64")
    if value == "bfloat16":
        raise ValueError("set_floatx: mgp computes with NumPy, which has no bfloat16; use one "
                         f"of {accepted}")
    if value not in accepted:
        raise ValueError(f"set_floatx: unknown floatx {value!r}; expected one of {accepted}")
    _floatx = str(value)


def epsilon():
    """The fuzz factor that keeps divisions and logarithms finite (1e-7 by default)."""
    return _epsilon


def set_epsilon(value):
    """Set the fuzz factor `epsilon()` returns."""
    global _epsilon
    _epsilon = float(value)


def image_data_format():
    """'channels_last' (images as (batch, height, width, channels), the default) or
    'channels_first' ((batch, channels, height, width))."""
    return _image_data_format


def set_image_data_format(data_format):
    """Set the layout layers and image ops assume when given `data_format=None`."""
    global _image_data_format
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(f"set_image_data_format: expected 'channels_first' or "
                         f"'channels_last', got {data_format!r}")
    _image_data_format = value


# ============================================== naming ==============================================

def get_uid(prefix=""):
    """A counter per `prefix`: 1 on the first call, then 2, 3, ... (Keras's `get_uid`)."""
    _name_uids[prefix] += 1
    return _name_uids[prefix]


def unique_name(base):
    """'dense', then 'dense_1', 'dense_2', ... as Keras numbers default names (sharing the
    counters of `get_uid`, as Keras does)."""
    n = _name_uids[base]
    _name_uids[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def clear_session(free_memory=True):
    """Forget the names given so far, so the next `Dense()` is 'dense' again, and (with
    `free_memory`) collect the garbage that old models left."""
    _name_uids.clear()
    if free_memory:
        gc.collect()
