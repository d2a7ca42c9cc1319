"""Xception (Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", CVPR
2017): a stack of depthwise separable convolutions with residual connections, in an entry, a
middle (8 repeated blocks) and an exit flow. Its ImageNet weights expect `preprocess_input`
("tf" mode: pixels scaled to [-1, 1]) on 299x299 images."""
from mgp import layers
from mgp.applications import _common, imagenet_utils
from mgp.config import image_data_format

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/xception/"
                "xception_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/xception/"
                       "xception_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="xception"):
    """The Xception model, as `keras.applications.Xception` builds it (same layer names and
    weights).

    Args:
        include_top: include the classifier (then the input must be 299x299).
        weights: None (random initialization), "imagenet" (downloaded once into
            ~/.mgp/models), or the path of a weights file to load.
        input_tensor: a symbolic tensor (`mgp.layers.Input(...)`) to build the model on.
        input_shape: the shape of one image, (299, 299, 3) by default; without the top any
            size from 71x71.
        pooling: without the top, None (the 4-D feature map), "avg" or "max".
        classes: the classifier's size (1000 with the ImageNet weights).
        classifier_activation: "softmax", None for the logits, or another activation (only
            these two with pretrained weights).
        name: the model's name.
    Returns:
        A functional `mgp.Model`.
    """
    _common.check_weights(
        weights, include_top, classes,
        weights_message="The `weights` argument should be either `None` (random "
                        "initialization), 'imagenet' (pre-training on ImageNet), or the path "
                        "to the weights file to be loaded.")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=71, data_format=image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    axis = 1 if image_data_format() == "channels_first" else -1

    def bn(x, name=None):
        return layers.BatchNormalization(axis=axis, name=name)(x)

    def sepconv(x, filters, name):
        x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False,
                                   name=name)(x)
        return bn(x, f"{name}_bn")

    def shortcut(x, filters):  # the strided 1x1 projection beside a downsampling block
        x = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
        return bn(x)

    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.Activation("relu", name="block1_conv1_act")(bn(x, "block1_conv1_bn"))
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(bn(x, "block1_conv2_bn"))

    # entry flow: blocks 2 to 4 halve the size; block 2 starts without an activation
    for block, filters in [(2, 128), (3, 256), (4, 728)]:
        residual = shortcut(x, filters)
        if block > 2:
            x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
        x = sepconv(x, filters, f"block{block}_sepconv1")
        x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
        x = sepconv(x, filters, f"block{block}_sepconv2")
        x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same",
                                name=f"block{block}_pool")(x)
        x = layers.add([x, residual])

    for block in range(5, 13):  # middle flow: three separable convolutions, identity shortcut
        residual = x
        for j in (1, 2, 3):
            x = layers.Activation("relu", name=f"block{block}_sepconv{j}_act")(x)
            x = sepconv(x, 728, f"block{block}_sepconv{j}")
        x = layers.add([x, residual])

    residual = shortcut(x, 1024)  # exit flow
    x = layers.Activation("relu", name="block13_sepconv1_act")(x)
    x = sepconv(x, 728, "block13_sepconv1")
    x = layers.Activation("relu", name="block13_sepconv2_act")(x)
    x = sepconv(x, 1024, "block13_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block13_pool")(x)
    x = layers.add([x, residual])
    x = sepconv(x, 1536, "block14_sepconv1")
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = sepconv(x, 2048, "block14_sepconv2")
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling)
    model = _common.build(input_tensor, img_input, x, name)
    file_name = f"xception_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return _common.load(model, weights, file_name,
                        WEIGHTS_PATH if include_top else WEIGHTS_PATH_NO_TOP,
                        WEIGHTS_HASHES[0 if include_top else 1])


def preprocess_input(x, data_format=None):
    """Pixels scaled from [0, 255] to [-1, 1] (`imagenet_utils` "tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """The top ImageNet classes of each prediction (see `imagenet_utils.decode_predictions`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
