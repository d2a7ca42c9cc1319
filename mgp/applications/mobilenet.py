"""MobileNet (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications", 2017): depthwise separable convolutions (a 3x3 depthwise, then a 1x1
pointwise convolution), narrowed by the width multiplier `alpha`. Its ImageNet weights expect
`preprocess_input` ("tf" mode: pixels scaled to [-1, 1])."""
import warnings

from mgp import layers
from mgp.applications import _common, imagenet_utils
from mgp.config import image_data_format

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
SIZES = (128, 160, 192, 224)  # the input sizes ImageNet weights were published for


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True,
              weights="imagenet", input_tensor=None, pooling=None, classes=1000,
              classifier_activation="softmax", name=None):
    """The MobileNet model, as `keras.applications.MobileNet` builds it (same layer names and
    weights).

    Args:
        input_shape: the shape of one image; (224, 224, 3) by default, any size from 32x32
            without the top (ImageNet weights exist for 128, 160, 192 and 224).
        alpha: the width multiplier: every layer has `alpha` times the filters (ImageNet
            weights for 0.25, 0.5, 0.75 and 1.0).
        depth_multiplier: the depthwise convolutions' depth multiplier (1 for the weights).
        dropout: the dropout rate before the classifier.
        include_top, weights, input_tensor, pooling, classes, classifier_activation: as for
            `mgp.applications.VGG16`.
        name: the model's name; None: `mobilenet_{alpha:0.2f}_{rows}`.
    Returns:
        A functional `mgp.Model`.
    """
    _common.check_weights(
        weights, include_top, classes,
        weights_message=_common.WEIGHTS_MESSAGE.replace("loaded.  Received: ",
                                                        "loaded. Received "))
    first = image_data_format() == "channels_first"
    default_size = 224
    if input_shape is not None:
        rows, cols = input_shape[1:3] if first else input_shape[:2]
        if rows == cols and rows in SIZES:
            default_size = rows
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format=image_data_format(),
        require_flatten=include_top, weights=weights)
    rows, cols = input_shape[1:3] if first else input_shape[:2]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(f"If imagenet weights are being loaded, depth multiplier must be "
                             f"1.  Received depth_multiplier={depth_multiplier}")
        if alpha not in ALPHA_TEXT:
            raise ValueError(f"If imagenet weights are being loaded, alpha can be one of"
                             f"`0.25`, `0.50`, `0.75` or `1.0` only.  Received alpha={alpha}")
        if rows != cols or rows not in SIZES:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                          "[128, 160, 192, 224]. Weights for input shape (224, 224) will be "
                          "loaded as the default.", stacklevel=2)
    img_input = _common.image_input(input_tensor, input_shape)
    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    # (pointwise filters, stride) of the 13 depthwise separable blocks
    for block_id, (filters, stride) in enumerate(
            [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
             (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)], 1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, (stride, stride),
                                  block_id)
    if include_top:
        # the classifier is a 1x1 convolution on the pooled features, as in the weights file
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    model = _common.build(input_tensor, img_input, x, name)
    if weights != "imagenet":
        return _common.load(model, weights)
    file_name = f"mobilenet_{ALPHA_TEXT[alpha]}_{rows}_tf{'' if include_top else '_no_top'}.h5"
    return _common.load(model, weights, file_name, BASE_WEIGHT_PATH + file_name)


def _channel_axis():
    return 1 if image_data_format() == "channels_first" else -1


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    """The stem: a strided convolution, batch normalization, ReLU6."""
    x = layers.Conv2D(int(filters * alpha), kernel, padding="same", use_bias=False,
                      strides=strides, name="conv1")(inputs)
    x = layers.BatchNormalization(axis=_channel_axis(), name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters, alpha, depth_multiplier=1,
                          strides=(1, 1), block_id=1):
    """Depthwise 3x3 (strided blocks pad the bottom and right, TensorFlow's 'same'), then
    pointwise 1x1, each with batch normalization and ReLU6."""
    x = inputs
    if strides != (1, 1):
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides,
                               use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same",
                      use_bias=False, strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def preprocess_input(x, data_format=None):
    """Pixels scaled from [0, 255] to [-1, 1] (`imagenet_utils` "tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """The top ImageNet classes of each prediction (see `imagenet_utils.decode_predictions`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
