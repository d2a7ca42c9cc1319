"""The frame every application model shares: checking `weights` and `classes`, the image
input, the classifier or pooling on top, the functional model, and loading its weights."""
import os

from mgp import layers
from mgp.applications import imagenet_utils
from mgp.layers.symbolic import SymbolicTensor, get_source_inputs
from mgp.models import Model
from mgp.utils.file_utils import get_file

WEIGHTS_MESSAGE = ("The `weights` argument should be either `None` (random initialization), "
                   "'imagenet' (pre-training on ImageNet), or the path to the weights file to "
                   "be loaded.  Received: weights={weights}")
CLASSES_MESSAGE = ("If using `weights='imagenet'` with `include_top=True`, `classes` should be "
                   "1000.  Received classes={classes}")


def check_weights(weights, include_top, classes, weights_message=WEIGHTS_MESSAGE,
                  classes_message=CLASSES_MESSAGE):
    """`weights` is None, "imagenet" or an existing file; ImageNet's classifier has 1000."""
    if not (weights is None or weights == "imagenet" or
            (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError(weights_message.format(weights=weights))
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(classes_message.format(classes=classes))


def image_input(input_tensor, input_shape):
    """The tensor the model starts from: a new Input of `input_shape`, or `input_tensor`."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not isinstance(input_tensor, SymbolicTensor):
        raise ValueError(f"input_tensor must be a symbolic tensor (what mgp.layers.Input or a "
                         f"layer of a functional model returns); received "
                         f"{type(input_tensor).__name__}: {input_tensor!r}")
    return input_tensor


def top(x, include_top, pooling, classes, classifier_activation, weights,
        pool_names=(None, None)):
    """The classifier (global average pooling, then a Dense layer named "predictions"), or,
    without it, the optional global pooling (`pooling` "avg" or "max"; None keeps the
    feature map). `pool_names` names the two pooling layers where Keras names them."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name=pool_names[0])(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return pool(x, pooling, pool_names)


def pool(x, pooling, pool_names=(None, None)):
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=pool_names[0])(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=pool_names[1])(x)
    return x


def build(input_tensor, img_input, x, name):
    """The functional model from the model's inputs (those `input_tensor` comes from) to x."""
    inputs = get_source_inputs(input_tensor) if input_tensor is not None else img_input
    return Model(inputs, x, name=name)


def load(model, weights, file_name=None, origin=None, file_hash=None):
    """Load the ImageNet weights (downloading `origin` into ~/.mgp/models the first time,
    checked against `file_hash` when Keras publishes one) or the weights file `weights`."""
    if weights == "imagenet":
        weights = get_file(file_name, origin, cache_subdir="models", file_hash=file_hash)
    if weights is not None:
        model.load_weights(weights)
    return model
