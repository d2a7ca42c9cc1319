"""Keras's second home for ResNet50: `keras.applications.resnet50` has ResNet50 and the
ResNet v1 `preprocess_input` and `decode_predictions` of `resnet`."""
from mgp.applications.resnet import ResNet50, decode_predictions, preprocess_input  # noqa: F401
