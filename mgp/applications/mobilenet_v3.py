"""MobileNetV3Small and MobileNetV3Large (Howard et al., "Searching for MobileNetV3", ICCV
2019): inverted residual blocks with squeeze-and-excitation and the hard-swish activation.
The models take pixels in [0, 255] and rescale them themselves (`include_preprocessing`), so
`preprocess_input` returns its input.

One difference from Keras's layer list: Keras computes the squeeze-and-excitation gate,
hard sigmoid `relu6(x + 3) / 6`, with a ReLU layer between two arithmetic operations on its
symbolic tensors; mgp's functional models are built of layers only, so the gate is one
`Activation(hard_sigmoid)` layer where Keras lists a `ReLU`. Neither has weights, so the
weight files are the same.
"""
import warnings

from mgp import layers, ops
from mgp.applications import _common, imagenet_utils
from mgp.config import image_data_format
from mgp.layers.symbolic import SymbolicTensor

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
WEIGHTS_HASHES = {  # (with the top, without), MD5 as Keras publishes them
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb",
                             "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7",
                            "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c",
                                         "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7",
                             "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862",
                            "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37",
                                         "cde8136e733e811080d9fcd8a252f7e4"),
}
# (expansion, filters, kernel, stride, squeeze-and-excitation, activation) of each block:
# "k" is the model's kernel (5, or 3 when minimalistic), "se" its SE ratio, "act" its
# activation (hard swish, or ReLU when minimalistic), "relu" always ReLU
SMALL = [(1, 16, 3, 2, "se", "relu"), (72 / 16, 24, 3, 2, None, "relu"),
         (88 / 24, 24, 3, 1, None, "relu"), (4, 40, "k", 2, "se", "act"),
         (6, 40, "k", 1, "se", "act"), (6, 40, "k", 1, "se", "act"),
         (3, 48, "k", 1, "se", "act"), (3, 48, "k", 1, "se", "act"),
         (6, 96, "k", 2, "se", "act"), (6, 96, "k", 1, "se", "act"),
         (6, 96, "k", 1, "se", "act")]
LARGE = [(1, 16, 3, 1, None, "relu"), (4, 24, 3, 2, None, "relu"),
         (3, 24, 3, 1, None, "relu"), (3, 40, "k", 2, "se", "relu"),
         (3, 40, "k", 1, "se", "relu"), (3, 40, "k", 1, "se", "relu"),
         (6, 80, 3, 2, None, "act"), (2.5, 80, 3, 1, None, "act"),
         (2.3, 80, 3, 1, None, "act"), (2.3, 80, 3, 1, None, "act"),
         (6, 112, 3, 1, "se", "act"), (6, 112, 3, 1, "se", "act"),
         (6, 160, "k", 2, "se", "act"), (6, 160, "k", 1, "se", "act"),
         (6, 160, "k", 1, "se", "act")]


def MobileNetV3(blocks, last_point_ch, input_shape=None, alpha=1.0, model_type="large",
                minimalistic=False, include_top=True, weights="imagenet", input_tensor=None,
                classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax",
                include_preprocessing=True, name=None):
    """A MobileNetV3 of `blocks` (see `SMALL` and `LARGE`), `last_point_ch` wide before the
    classifier; the rest as for `MobileNetV3Small`."""
    _common.check_weights(
        weights, include_top, classes,
        weights_message="The `weights` argument should be either `None` (random "
                        "initialization), `imagenet` (pre-training on ImageNet), or the path "
                        "to the weights file to be loaded.  Received weights={weights}",
        classes_message='If using `weights="imagenet"` with `include_top` as true, `classes` '
                        'should be 1000.  Received classes={classes}')
    first = image_data_format() == "channels_first"
    if input_tensor is not None and not isinstance(input_tensor, SymbolicTensor):
        raise ValueError(f"input_tensor must be a symbolic tensor (what mgp.layers.Input or a "
                         f"layer of a functional model returns); received "
                         f"{type(input_tensor).__name__}")
    if input_shape is not None and input_tensor is not None:
        if input_tensor.shape[1 if first else 2] != input_shape[1]:
            raise ValueError(
                ("When backend.image_data_format()=channels_first, input_shape[1] must equal "
                 "input_tensor.shape[1].  " if first else
                 "input_shape[1] must equal input_tensor.shape[2].  ")
                + f"Received input_shape={input_shape}, input_tensor.shape={input_tensor.shape}")
    if input_shape is None and input_tensor is not None:
        rows, cols = input_tensor.shape[2:4] if first else input_tensor.shape[1:3]
        input_shape = (3, cols, rows) if first else (cols, rows, 3)  # (Keras's order)
    if input_shape is None:
        input_shape = (3, None, None) if first else (None, None, 3)
    rows, cols = input_shape[1:3] if first else input_shape[:2]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32; Received "
                         f"`input_shape={input_shape}`")
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.75`, "
                             "`1.0` for non minimalistic or `1.0` for minimalistic only.")
        if rows != cols or rows != 224:
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not 224. "
                          "Weights for input shape (224, 224) will be loaded as the default.",
                          stacklevel=3)
    img_input = _common.image_input(input_tensor, input_shape)
    axis = 1 if first else -1
    kernel, activation, se_ratio = (3, relu, None) if minimalistic else (5, hard_swish, 0.25)

    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
                      name="conv")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name="conv_bn")(x)
    x = activation(x)
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(blocks):
        x = _inverted_res_block(x, expansion, _depth(filters * alpha),
                                kernel if k == "k" else k, stride,
                                se_ratio if se else None,
                                relu if act == "relu" else activation, block_id)
    last_conv_ch = _depth(x.shape[axis] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False,
                      name="conv_1")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name="conv_1_bn")(x)
    x = activation(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True,
                          name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling, ("avg_pool", "max_pool"))
    model = _common.build(input_tensor, img_input, x, name)
    if weights != "imagenet":
        return _common.load(model, weights)
    key = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
    file_name = f"weights_mobilenet_v3_{key}{'' if include_top else '_no_top_v2'}.h5"
    return _common.load(model, weights, file_name, BASE_WEIGHT_PATH + file_name,
                        WEIGHTS_HASHES[key][0 if include_top else 1])


def _constructor(model_type, blocks, last_point_ch):
    title = f"MobileNetV3{model_type.capitalize()}"

    def constructor(input_shape=None, alpha=1.0, minimalistic=False, include_top=True,
                    weights="imagenet", input_tensor=None, classes=1000, pooling=None,
                    dropout_rate=0.2, classifier_activation="softmax",
                    include_preprocessing=True, name=title):
        return MobileNetV3(blocks, last_point_ch, input_shape, alpha, model_type,
                           minimalistic, include_top, weights, input_tensor, classes, pooling,
                           dropout_rate, classifier_activation, include_preprocessing,
                           name=name)
    constructor.__name__ = constructor.__qualname__ = title
    constructor.__doc__ = f"""The {title} model, as `keras.applications.{title}` builds it
    (the same weights; see the module's docstring for the one layer that differs).

    Args:
        input_shape: the shape of one image; None: any size (ImageNet weights are for 224).
        alpha: the width multiplier (ImageNet weights for 0.75 and 1.0).
        minimalistic: without squeeze-and-excitation, hard swish and 5x5 kernels.
        include_top: include the classifier.
        weights: None (random initialization), "imagenet" (downloaded once into
            ~/.mgp/models), or the path of a weights file to load.
        input_tensor: a symbolic tensor (`mgp.layers.Input(...)`) to build the model on.
        classes: the classifier's size (1000 with the ImageNet weights).
        pooling: without the top, None (the 4-D feature map), "avg" or "max".
        dropout_rate: the dropout rate before the classifier.
        classifier_activation: "softmax", None for the logits, or another activation (only
            these two with pretrained weights).
        include_preprocessing: rescale pixels from [0, 255] to [-1, 1] inside the model.
        name: the model's name.
    Returns:
        A functional `mgp.Model`.
    """
    return constructor


MobileNetV3Small = _constructor("small", SMALL, 1024)
MobileNetV3Large = _constructor("large", LARGE, 1280)


def relu(x):
    return layers.ReLU()(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6 (one layer here; see the module's docstring)."""
    return layers.Activation(ops.hard_sigmoid)(x)


def hard_swish(x):
    """x * relu6(x + 3) / 6."""
    return layers.Activation(ops.hard_swish)(x)


def _depth(v, divisor=8, min_value=None):
    """`v` rounded to the nearest multiple of `divisor`, never more than 10% below `v`."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _se_block(inputs, filters, se_ratio, prefix):
    """Squeeze and excitation: the channels reweighted by a gate of their global average."""
    x = layers.GlobalAveragePooling2D(keepdims=True,
                                      name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv_1")(x)
    x = hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion, filters, kernel_size, stride, se_ratio, activation,
                        block_id):
    """Expand (1x1; not in block 0), depthwise, optional squeeze and excitation, project
    (1x1, linear), plus the input when the shapes allow."""
    axis = 1 if image_data_format() == "channels_first" else -1
    shortcut, infilters = x, x.shape[axis]
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same",
                          use_bias=False, name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999,
                                      name=f"{prefix}expand_bn")(x)
        x = activation(x)
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride,
                               padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999,
                                  name=f"{prefix}depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False,
                      name=f"{prefix}project")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999,
                                  name=f"{prefix}project_bn")(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def preprocess_input(x, data_format=None):
    """The input itself: MobileNetV3 models rescale pixels in [0, 255] themselves."""
    return x


def decode_predictions(preds, top=5):
    """The top ImageNet classes of each prediction (see `imagenet_utils.decode_predictions`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
