"""VGG19: VGG16 with four convolutions in each of its last three blocks. Its ImageNet weights
expect `preprocess_input` ("caffe" mode)."""
from mgp.applications.vgg16 import decode_predictions, preprocess_input, vgg  # noqa: F401

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                "vgg19_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                       "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    """The VGG19 model, as `keras.applications.VGG19` builds it; the arguments as
    `mgp.applications.VGG16`'s."""
    return vgg([2, 2, 4, 4, 4], "vgg19", WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP, WEIGHTS_HASHES,
               include_top, weights, input_tensor, input_shape, pooling, classes,
               classifier_activation, name)
