"""Layers, as Keras names them: `from mgp import layers; layers.Dense(10)`."""
from mgp.layers.base import Layer
from mgp.layers.input_layer import Input, InputLayer
from mgp.layers.core import Activation, Dense
from mgp.layers.convolutional import Conv2D, Convolution2D
from mgp.layers.pooling import (AveragePooling2D, AvgPool2D, GlobalAveragePooling2D,
                                GlobalAvgPool2D, GlobalMaxPool2D, GlobalMaxPooling2D, MaxPool2D,
                                MaxPooling2D)
from mgp.layers.reshaping import Flatten, Reshape
from mgp.layers.regularization import Dropout
from mgp.layers.normalization import BatchNormalization
from mgp.layers.preprocessing import *  # noqa: F401,F403  (each listed in its __all__)
from mgp.layers.preprocessing import __all__ as _preprocessing
from mgp.layers.merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract,
                                add, average, concatenate, maximum, minimum, multiply, subtract)

__all__ = [
    "Layer", "Input", "InputLayer", "Dense", "Activation", "Conv2D", "Convolution2D",
    "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D", "GlobalAveragePooling2D",
    "GlobalAvgPool2D", "GlobalMaxPooling2D", "GlobalMaxPool2D", "Flatten", "Reshape", "Dropout",
    "BatchNormalization", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
    "Concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
] + _preprocessing
