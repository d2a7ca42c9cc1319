"""VGG16 (Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015): five blocks of 3x3 convolutions and 2x2 max pooling, then three
fully-connected layers. Its ImageNet weights expect `preprocess_input` ("caffe" mode)."""
from mgp import layers
from mgp.applications import _common, imagenet_utils
from mgp.config import image_data_format

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
                "vgg16_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
                       "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc")


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    """The VGG16 model, as `keras.applications.VGG16` builds it (same layer names and weights).

    Args:
        include_top: include the three fully-connected layers on top (then the input must be
            224x224).
        weights: None (random initialization), "imagenet" (downloaded once into
            ~/.mgp/models), or the path of a weights file to load.
        input_tensor: a symbolic tensor (`mgp.layers.Input(...)`) to build the model on.
        input_shape: the shape of one image, (224, 224, 3) by default; without the top any
            size from 32x32.
        pooling: without the top, None (the last block's 4-D feature map), "avg" or "max"
            (global pooling to a 2-D output).
        classes: the classifier's size (1000 with the ImageNet weights).
        classifier_activation: the classifier's activation ("softmax"; None for the logits;
            only these two with pretrained weights).
        name: the model's name.
    Returns:
        A functional `mgp.Model`.
    """
    return vgg([2, 2, 3, 3, 3], "vgg16", WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP, WEIGHTS_HASHES,
               include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name)


def vgg(convs_per_block, prefix, top_path, no_top_path, hashes, include_top, weights,
        input_tensor, input_shape, pooling, classes, classifier_activation, name):
    """VGG16 and VGG19: they differ only in how many convolutions each block has."""
    _common.check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    x = img_input
    for block, (convs, filters) in enumerate(zip(convs_per_block, [64, 128, 256, 512, 512]), 1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling)
    model = _common.build(input_tensor, img_input, x, name)
    file_name = f"{prefix}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return _common.load(model, weights, file_name, top_path if include_top else no_top_path,
                        hashes[0] if include_top else hashes[1])


def preprocess_input(x, data_format=None):
    """RGB to BGR, then each channel minus its ImageNet mean (`imagenet_utils` "caffe")."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """The top ImageNet classes of each prediction (see `imagenet_utils.decode_predictions`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
