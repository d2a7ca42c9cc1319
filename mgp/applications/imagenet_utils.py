"""What the ImageNet models share: `preprocess_input` in its three modes, `decode_predictions`,
and the checks every constructor makes on its input shape and classifier.

The three modes are the three ways the published weights were trained:
- "caffe": RGB to BGR, then each channel minus its ImageNet mean (VGG, ResNet v1);
- "tf": pixels scaled from [0, 255] to [-1, 1] (MobileNet, ResNet v2, Inception, Xception);
- "torch": pixels scaled to [0, 1], then each channel standardized (DenseNet).
"""
import json
import warnings

import numpy as np

from mgp import activations, ops
from mgp.config import floatx, image_data_format
from mgp.layers.symbolic import SymbolicTensor
from mgp.tensor import Tensor
from mgp.utils.file_utils import get_file

CLASS_INDEX = None
CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"

CAFFE_MEAN = (103.939, 116.779, 123.68)  # B, G, R
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


def preprocess_input(x, data_format=None, mode="caffe"):
    """Prepare a batch of images with pixel values in [0, 255] for an ImageNet model.

    Args:
        x: a float or integer NumPy array, an mgp Tensor, or a functional model's symbolic
            tensor, of rank 3 (one image) or 4 (a batch), with 3 color channels in RGB order.
            As in Keras, a float NumPy array is preprocessed in place (pass `np.copy(x)` to
            keep it); integer arrays are converted to floatx first.
        data_format: "channels_last" or "channels_first"; None: `image_data_format()`.
        mode: "caffe", "tf" or "torch" (see the module's docstring).
    Returns:
        The preprocessed images, a float array (a Tensor for a Tensor, a symbolic tensor for
        a symbolic one), of the same shape.
    Raises:
        ValueError: for an unknown `mode` or `data_format`.
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. "
                         f"Received: mode={mode}")
    if data_format is None:
        data_format = image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError(f"Expected data_format to be one of `channels_first` or "
                         f"`channels_last`. Received: data_format={data_format}")
    if isinstance(x, SymbolicTensor):  # inside a functional model: a layer does it
        from mgp.layers.core import Lambda
        return Lambda(lambda t: _preprocess_tensor(t, data_format, mode),
                      name="preprocess_input")(x)
    if isinstance(x, Tensor):
        return _preprocess_tensor(x, data_format, mode)
    return _preprocess_numpy(np.asarray(x) if not isinstance(x, np.ndarray) else x,
                             data_format, mode)


def _channel_shape(ndim, data_format):
    """The shape that broadcasts a per-channel constant over an image or a batch."""
    if data_format == "channels_first":
        return (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)
    return (1,) * (ndim - 1) + (3,)


def _channel_axis(ndim, data_format):
    return (0 if ndim == 3 else 1) if data_format == "channels_first" else ndim - 1


def _preprocess_numpy(x, data_format, mode):
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(floatx())
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        x -= np.reshape(np.asarray(TORCH_MEAN, x.dtype), _channel_shape(x.ndim, data_format))
        x /= np.reshape(np.asarray(TORCH_STD, x.dtype), _channel_shape(x.ndim, data_format))
        return x
    x = np.flip(x, axis=_channel_axis(x.ndim, data_format))  # RGB -> BGR (a view, as Keras)
    x -= np.reshape(np.asarray(CAFFE_MEAN, x.dtype), _channel_shape(x.ndim, data_format))
    return x


def _preprocess_tensor(x, data_format, mode):
    shape = _channel_shape(len(x.shape), data_format)

    def const(values):
        return ops.convert_to_tensor(np.reshape(np.asarray(values), shape), dtype=x.dtype)
    if mode == "tf":
        return ops.subtract(ops.divide(x, ops.convert_to_tensor(127.5, dtype=x.dtype)),
                            ops.convert_to_tensor(1.0, dtype=x.dtype))
    if mode == "torch":
        x = ops.divide(x, ops.convert_to_tensor(255.0, dtype=x.dtype))
        return ops.divide(ops.subtract(x, const(TORCH_MEAN)), const(TORCH_STD))
    x = ops.take(x, [2, 1, 0], axis=_channel_axis(len(x.shape), data_format))
    return ops.subtract(x, const(CAFFE_MEAN))


def decode_predictions(preds, top=5):
    """The `top` most likely ImageNet classes of each prediction.

    Args:
        preds: array of shape (samples, 1000), a model's outputs.
        top: how many classes to return for each sample.
    Returns:
        A list with one list per sample of `(class_name, class_description, score)` tuples,
        the most likely first (`("n02123045", "tabby", 0.82)`). The class names are read once
        from Keras's `imagenet_class_index.json` (downloaded into `~/.mgp/models`).
    Raises:
        ValueError: `preds` is not of shape (samples, 1000).
    """
    global CLASS_INDEX
    preds = np.asarray(ops.convert_to_numpy(preds))
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(f"`decode_predictions` expects a batch of predictions (i.e. a 2D "
                         f"array of shape (samples, 1000)). Received array with shape: "
                         f"{preds.shape}")
    if CLASS_INDEX is None:
        path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                        file_hash=CLASS_INDEX_MD5)
        with open(path, encoding="utf-8") as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]
        result = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in best]
        result.sort(key=lambda item: item[2], reverse=True)
        results.append(result)
    return results


# ---- what the constructors check -------------------------------------------------------------
def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten,
                       weights=None):
    """The model's input shape: `input_shape` checked (3 entries, at least `min_size` pixels
    each way, 3 channels for the ImageNet weights), or the default for the model.

    `require_flatten` (a model with its classifier on top) needs a fixed size, and with the
    ImageNet weights exactly the size they were trained at.
    """
    first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn(f"This model usually expects 1 or 3 input channels. However, it was "
                          f"passed an input_shape with {channels} input channels.",
                          stacklevel=3)
        default_shape = (channels, default_size, default_size) if first else \
            (default_size, default_size, channels)
    else:
        default_shape = (3, default_size, default_size) if first else \
            (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(f"When setting `include_top=True` and loading `imagenet` "
                             f"weights, `input_shape` should be {default_shape}.  Received: "
                             f"input_shape={input_shape}")
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        channels = input_shape[0] if first else input_shape[-1]
        rows, cols = input_shape[1:] if first else input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received "
                             f"`input_shape={input_shape}`")
        if (rows is not None and rows < min_size) or (cols is not None and cols < min_size):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(f"If `include_top` is True, you should specify a static "
                         f"`input_shape`. Received: input_shape={input_shape}")
    return tuple(input_shape)


def correct_pad(inputs, kernel_size):
    """The ((top, bottom), (left, right)) zero padding before a stride-2 'valid' convolution
    that centres its `kernel_size` window as TensorFlow's 'same' padding does."""
    axis = 2 if image_data_format() == "channels_first" else 1
    size = inputs.shape[axis:axis + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights):
    """Pretrained weights were trained with a softmax: only None or "softmax" go on top."""
    if weights is None:
        return
    activation = activations.get(classifier_activation)
    if activation not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError(f"Only `None` and `softmax` activations are allowed for the "
                         f"`classifier_activation` argument when using pretrained weights, "
                         f"with `include_top=True`; Received: "
                         f"classifier_activation={classifier_activation}")
