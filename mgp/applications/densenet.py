"""DenseNet121, DenseNet169 and DenseNet201 (Huang et al., "Densely Connected Convolutional
Networks", CVPR 2017): each layer of a dense block gets the concatenated outputs of all the
layers before it; transition blocks halve the channels and the size between blocks. Their
ImageNet weights expect `preprocess_input` ("torch" mode)."""
from mgp import layers
from mgp.applications import _common, imagenet_utils
from mgp.config import image_data_format

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
WEIGHTS_HASHES = {  # (with the top, without), MD5 as Keras publishes them, by block sizes
    (6, 12, 24, 16): ("densenet121", "9d60b8095a5708f2dcce2bca79d332c7",
                      "30ee3e1110167f948a6b9946edeeb738"),
    (6, 12, 32, 32): ("densenet169", "d699b8f76981ab1b30698df4c175e90b",
                      "b8c4d4c20dd625c148057b9ff1c1176b"),
    (6, 12, 48, 32): ("densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807",
                      "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
EPSILON = 1.001e-5


def _bn(name):
    return layers.BatchNormalization(axis=3, epsilon=EPSILON, name=name)


def dense_block(x, blocks, name):
    """`blocks` conv blocks, each adding 32 channels."""
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """Batch normalization, ReLU, a 1x1 convolution to `reduction` times the channels, 2x2
    average pooling."""
    x = _bn(f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def conv_block(x, growth_rate, name):
    """Bottleneck (BN, ReLU, 1x1 conv to 4 * growth_rate), then BN, ReLU, 3x3 conv to
    growth_rate channels, concatenated to the input."""
    x1 = _bn(f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = _bn(f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, x1])


def DenseNet(blocks, include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="densenet"):
    """A DenseNet with `blocks` (four numbers) conv blocks in its dense blocks; the rest as
    for `DenseNet121`."""
    if image_data_format() == "channels_first":
        raise ValueError("DenseNet does not support the `channels_first` image data format. "
                         "Switch to `channels_last` with "
                         "mgp.config.set_image_data_format('channels_last')")
    _common.check_weights(
        weights, include_top, classes,
        weights_message="The `weights` argument should be either `None` (random "
                        "initialization), `imagenet` (pre-training on ImageNet), or the path "
                        "to the weights file to be loaded.",
        classes_message='If using `weights` as `"imagenet"` with `include_top` as true, '
                        '`classes` should be 1000')
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, size in enumerate(blocks[:3], 2):
        x = dense_block(x, size, name=f"conv{stage}")
        x = transition_block(x, 0.5, name=f"pool{stage}")
    x = dense_block(x, blocks[3], name="conv5")
    x = _bn("bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = _common.top(x, include_top, pooling, classes, classifier_activation, weights,
                    ("avg_pool", "max_pool"))
    model = _common.build(input_tensor, img_input, x, name)
    if weights != "imagenet":
        return _common.load(model, weights)
    if tuple(blocks) not in WEIGHTS_HASHES:
        raise ValueError("weights_path undefined")
    stem, top_hash, no_top_hash = WEIGHTS_HASHES[tuple(blocks)]
    file_name = f"{stem}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return _common.load(model, weights, file_name, BASE_WEIGHTS_PATH + file_name,
                        top_hash if include_top else no_top_hash)


def _model(depth, blocks):
    def constructor(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax",
                    name=f"densenet{depth}"):
        return DenseNet(list(blocks), include_top, weights, input_tensor, input_shape, pooling,
                        classes, classifier_activation, name=name)
    constructor.__name__ = constructor.__qualname__ = f"DenseNet{depth}"
    constructor.__doc__ = f"""The DenseNet{depth} model, as `keras.applications.DenseNet{depth}`
    builds it (same layer names and weights).

    Args:
        include_top: include the classifier (then the input must be 224x224).
        weights: None (random initialization), "imagenet" (downloaded once into
            ~/.mgp/models), or the path of a weights file to load.
        input_tensor: a symbolic tensor (`mgp.layers.Input(...)`) to build the model on.
        input_shape: the shape of one image, (224, 224, 3) by default; without the top any
            size from 32x32.
        pooling: without the top, None (the 4-D feature map), "avg" or "max".
        classes: the classifier's size (1000 with the ImageNet weights).
        classifier_activation: "softmax", None for the logits, or another activation (only
            these two with pretrained weights).
        name: the model's name.
    Returns:
        A functional `mgp.Model`.
    """
    return constructor


DenseNet121 = _model(121, (6, 12, 24, 16))
DenseNet169 = _model(169, (6, 12, 32, 32))
DenseNet201 = _model(201, (6, 12, 48, 32))


def preprocess_input(x, data_format=None):
    """Pixels scaled to [0, 1], then each channel standardized with ImageNet's mean and
    standard deviation (`imagenet_utils` "torch" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top=5):
    """The top ImageNet classes of each prediction (see `imagenet_utils.decode_predictions`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
