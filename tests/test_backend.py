"""mgp.backend's Keras names (keras.backend), against Keras itself: settings, dtype names and
rules, naming counters and clear_session."""
import numpy as np
import pytest

import mgp
from mgp import backend, layers

import oracles

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_defaults_match_keras():
    keras = oracles.keras()
    for name in ("epsilon", "floatx", "image_data_format"):
        assert getattr(backend, name)() == getattr(keras.backend, name)(), name
    assert backend.backend() == "mgp"
    assert mgp.config.floatx() is backend.floatx()  # one setting, two faces


@pytest.mark.parametrize("setter, getter, value", [
    ("set_epsilon", "epsilon", 1e-5), ("set_floatx", "floatx", "float64"),
    ("set_floatx", "floatx", "float16"),
    ("set_image_data_format", "image_data_format", "channels_first"),
])
def test_setters(setter, getter, value):
    before = getattr(backend, getter)()
    try:
        getattr(backend, setter)(value)
        assert getattr(backend, getter)() == value
    finally:
        getattr(backend, setter)(before)


@pytest.mark.parametrize("setter, value, message", [
    ("set_floatx", "float8", "unknown floatx 'float8'"), ("set_floatx", "bfloat16", "bfloat16"),
    ("set_image_data_format", "channels_middle", "channels_first"),
])
def test_setters_reject_bad_values(setter, value, message):
    with pytest.raises(ValueError, match=message):
        getattr(backend, setter)(value)


def test_image_data_format_is_the_image_ops_default():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    backend.set_image_data_format("channels_first")
    try:
        assert mgp.ops.image.resize(x, (8, 10)).shape == (2, 3, 8, 10)
    finally:
        backend.set_image_data_format("channels_last")
    assert mgp.ops.image.resize(x, (8, 10)).shape == (2, 8, 10, 5)


DTYPES = [None, "float32", "int8", "bool", "uint16", "complex64", "string", int, float, bool,
          np.float64, np.dtype("int16"), np.int32]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_standardize_dtype_matches_keras(dtype):
    keras = oracles.keras()
    assert backend.standardize_dtype(dtype) == keras.backend.standardize_dtype(dtype)
    for name in ("is_float_dtype", "is_int_dtype"):
        assert getattr(backend, name)(dtype) == getattr(keras.backend, name)(dtype)


def test_standardize_dtype_reads_torch_dtypes_and_rejects_others():
    torch = oracles.torch()
    assert backend.standardize_dtype(torch.float16) == "float16"
    assert backend.standardize_dtype(mgp.ops.ones(2).dtype) == "float32"
    for bad in ("float128", "float"):  # Keras takes Python's float, not the string
        with pytest.raises(ValueError, match=f"invalid dtype '{bad}'"):
            backend.standardize_dtype(bad)


def test_result_type_examples():
    assert backend.result_type() == "float32"
    assert backend.result_type("int8", int) == "int8"
    assert backend.result_type("int32", float) == "float32"
    assert backend.result_type("uint8", "int8") == "int16"
    assert backend.result_type("bool", int) == "int32"
    assert backend.result_type("float64", float) == "float64"  # kept, not folded to float32
    assert backend.result_type(None, "float16") == "float32"


def test_get_uid_counts_as_keras():
    keras = oracles.keras()
    backend.clear_session()
    keras.backend.clear_session()
    for prefix in ("a", "a", "b", "a"):
        assert backend.get_uid(prefix) == keras.backend.get_uid(prefix)


def test_clear_session_resets_layer_names():
    backend.clear_session()
    assert [layers.Dense(2).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    backend.clear_session(free_memory=False)
    assert layers.Dense(2).name == "dense"
    assert mgp.optimizers.Adam().name == "adam"


def test_is_keras_tensor():
    keras = oracles.keras()
    assert backend.is_keras_tensor(mgp.Input((3,)))
    assert not backend.is_keras_tensor(mgp.ops.ones(3))
    assert keras.backend.is_keras_tensor(keras.Input((3,)))
