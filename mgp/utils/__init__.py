"""Utilities, as Keras's `keras.utils` has them: one-hot labels, the one seed that makes a run
reproducible, the progress bar, padding sequences, normalizing arrays, unpacking the batches
the step methods receive, `PyDataset` and the datasets made from folders of files and from
arrays, downloading files (`get_file`), images as files and arrays, and pictures (the
autograd graph, a model's layers, training curves, what a convnet learned). Each family lives in a
module of this package."""
import random

import numpy as np

from mgp import backend
from mgp.callbacks.progbar import Progbar  # noqa: F401
from mgp.utils.data_adapter_utils import (  # noqa: F401
    pack_x_y_sample_weight, unpack_x_y_sample_weight)
from mgp.utils.numerical_utils import normalize  # noqa: F401
from mgp.utils.py_dataset import PyDataset, Sequence  # noqa: F401
from mgp.utils.config import Config  # noqa: F401
from mgp.utils.io_utils import (  # noqa: F401
    disable_interactive_logging, enable_interactive_logging, is_interactive_logging_enabled)
from mgp.utils.file_utils import get_file  # noqa: F401
# datasets from folders of files and from arrays (images through Pillow, `mgp[images]`)
from mgp.utils.dataset_utils import split_dataset  # noqa: F401
from mgp.utils.image_utils import array_to_img, img_to_array, load_img, save_img  # noqa: F401
from mgp.utils.image_dataset_utils import image_dataset_from_directory  # noqa: F401
from mgp.utils.text_dataset_utils import text_dataset_from_directory  # noqa: F401
from mgp.utils.audio_dataset_utils import audio_dataset_from_directory  # noqa: F401
from mgp.utils.timeseries_dataset_utils import timeseries_dataset_from_array  # noqa: F401
from mgp.layers.symbolic import get_source_inputs  # noqa: F401
from mgp.dtypes import standardize_dtype  # noqa: F401
from mgp.backend import clear_session  # noqa: F401
from mgp.utils.sequence_utils import pad_sequences  # noqa: F401
from mgp.utils import bounding_boxes  # noqa: F401
from mgp.layers.preprocessing.feature_space import FeatureSpace  # noqa: F401


def __getattr__(name):
    # the saving helpers Keras also exports here, from mgp.saving (loaded on first use)
    if name in _FROM_SAVING:
        from mgp import saving
        return getattr(saving, name)
    if name == "is_keras_tensor":
        from mgp.layers.symbolic import SymbolicTensor
        return lambda x: isinstance(x, SymbolicTensor)
    raise AttributeError(f"module 'mgp.utils' has no attribute {name!r}")


_FROM_SAVING = ("register_keras_serializable", "serialize_keras_object",
                "deserialize_keras_object", "get_registered_name", "get_registered_object",
                "custom_object_scope", "CustomObjectScope", "get_custom_objects")


def to_categorical(x, num_classes=None):
    """One-hot encode integer labels.

    Args:
        x: integer labels, any shape; a trailing axis of size 1 (labels of shape (n, 1), as
            CIFAR-10's) is dropped first, as Keras does.
        num_classes: number of classes; `max(x) + 1` when None.
    Returns:
        float32 array of shape `x.shape + (num_classes,)` (without that trailing 1).

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if not np.all(x == np.round(x)):
            raise ValueError("to_categorical expects integer labels, got non-integer values")
        x = x.astype(np.int64)
    if x.dtype.kind not in "iu":
        raise ValueError(f"to_categorical expects integer labels, got dtype {x.dtype}")
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must lie in [0, {num_classes}), got values "
                         f"from {x.min()} to {x.max()}")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x[..., 0]
    return np.eye(num_classes, dtype=np.float32)[x]


def set_random_seed(seed):
    """Seed everything random in mgp (initializers, shuffling, dropout), and Python's and
    NumPy's global generators, so that one seed reproduces a whole `fit` bit for bit."""
    random.seed(seed)
    np.random.seed(seed)
    backend.seed(seed)


# pictures (Graphviz and matplotlib are optional, used only when a picture is asked for)
from mgp.utils.graph import draw_graph  # noqa: E402, F401
from mgp.utils.model_visualization import model_to_dot, plot_model  # noqa: E402, F401
from mgp.utils.plotting import plot_activations, plot_filters, plot_history  # noqa: E402, F401
