"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., "Identity Mappings in Deep Residual
Networks", ECCV 2016): pre-activation residual blocks. Their ImageNet weights expect
`preprocess_input` ("tf" mode: pixels scaled to [-1, 1])."""
from mgp.applications import imagenet_utils
from mgp.applications.resnet import _ARGS_DOC, ResNet, stack_residual_blocks_v2


def _v2(depths, weights_name, include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name):
    def stack_fn(x):
        x = stack_residual_blocks_v2(x, 64, depths[0], name="conv2")
        x = stack_residual_blocks_v2(x, 128, depths[1], name="conv3")
        x = stack_residual_blocks_v2(x, 256, depths[2], name="conv4")
        return stack_residual_blocks_v2(x, 512, depths[3], stride1=1, name="conv5")
    return ResNet(stack_fn, True, True, name=name, weights_name=weights_name,
                  include_top=include_top, weights=weights, input_tensor=input_tensor,
                  input_shape=input_shape, pooling=pooling, classes=classes,
                  classifier_activation=classifier_activation)


def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
               pooling=None, classes=1000, classifier_activation="softmax", name="resnet50v2"):
    return _v2((3, 4, 6, 3), "resnet50v2", include_top, weights, input_tensor, input_shape,
               pooling, classes, classifier_activation, name)


def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="resnet101v2"):
    return _v2((3, 4, 23, 3), "resnet101v2", include_top, weights, input_tensor, input_shape,
               pooling, classes, classifier_activation, name)


def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="resnet152v2"):
    return _v2((3, 8, 36, 3), "resnet152v2", include_top, weights, input_tensor, input_shape,
               pooling, classes, classifier_activation, name)


for _model, _depth in ((ResNet50V2, 50), (ResNet101V2, 101), (ResNet152V2, 152)):
    _model.__doc__ = (f"The ResNet{_depth}V2 model, as `keras.applications.ResNet{_depth}V2` "
                      f"builds it (same layer names and weights)." + _ARGS_DOC)


def preprocess_input(x, data_format=None):
    """Pixels scaled from [0, 255] to [-1, 1] (`imagenet_utils` "tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """The top ImageNet classes of each prediction (see `imagenet_utils.decode_predictions`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
