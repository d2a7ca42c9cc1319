"""Layers, as Keras names them: `from mgp import layers; layers.Dense(10)`.

Grouped by family as Keras groups them: core, activations, convolutional, pooling, reshaping,
regularization, normalization, attention, merging, recurrent (rnn), preprocessing.
"""
from mgp.layers.base import Layer
from mgp.layers.operation import Operation  # noqa: F401  (ops on symbolic tensors)
from mgp.layers.input_layer import Input, InputLayer
from mgp.layers.core import (Activation, Dense, EinsumDense, Embedding, Identity, Lambda,
                             Masking, ReversibleEmbedding)
from mgp.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from mgp.layers.convolutional import (
    Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D, Conv3DTranspose, Convolution1D,
    Convolution1DTranspose, Convolution2D, Convolution2DTranspose, Convolution3D,
    Convolution3DTranspose, DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D,
    SeparableConvolution1D, SeparableConvolution2D)
from mgp.layers.pooling import (
    AveragePooling1D, AveragePooling2D, AveragePooling3D, AvgPool1D, AvgPool2D, AvgPool3D,
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalAvgPool1D,
    GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPool1D, MaxPool2D, MaxPool3D,
    MaxPooling1D, MaxPooling2D, MaxPooling3D)
from mgp.layers.pooling import (
    AdaptiveAveragePooling1D, AdaptiveAveragePooling2D, AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D, AdaptiveMaxPooling2D, AdaptiveMaxPooling3D)
from mgp.layers.reshaping import (
    Cropping1D, Cropping2D, Cropping3D, Flatten, Permute, RepeatVector, Reshape, UpSampling1D,
    UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)
from mgp.layers.regularization import (
    ActivityRegularization, AlphaDropout, Dropout, GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D,
    SpatialDropout3D)
from mgp.layers.normalization import BatchNormalization, LayerNormalization, UnitNormalization
from mgp.layers.normalization import GroupNormalization, RMSNormalization, SpectralNormalization
from mgp.layers.attention import (AdditiveAttention, Attention, GroupQueryAttention,
                                  MultiHeadAttention)
from mgp.layers.input_spec import InputSpec
from mgp.layers.wrapper import Wrapper
from mgp.layers.preprocessing import *  # noqa: F401,F403  (each listed in its __all__)
from mgp.layers.preprocessing import __all__ as _preprocessing
from mgp.layers.rnn import (GRU, LSTM, RNN, Bidirectional, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D,
                            GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell, StackedRNNCells,
                            TimeDistributed)
from mgp.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                Subtract, add, average, concatenate, dot, maximum, minimum,
                                multiply, subtract)

__all__ = [
    "Layer", "Input", "InputLayer", "Dense", "Activation", "Identity", "Lambda", "Masking",
    "EinsumDense", "Embedding", "ReversibleEmbedding",
    "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution1DTranspose",
    "Convolution2DTranspose", "Convolution3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D",
    "AvgPool3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
    "GlobalMaxPool3D",
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
    "Flatten", "Reshape", "Permute", "RepeatVector", "UpSampling1D", "UpSampling2D",
    "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D",
    "Cropping2D", "Cropping3D",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization",
    "BatchNormalization", "LayerNormalization", "UnitNormalization",
    "GroupNormalization", "RMSNormalization", "SpectralNormalization",
    "InputSpec", "Wrapper", "serialize", "deserialize",
    "Attention", "AdditiveAttention", "MultiHeadAttention", "GroupQueryAttention",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
    "Concatenate", "Dot", "add", "subtract", "multiply", "average", "maximum", "minimum",
    "concatenate", "dot",
    "RNN", "SimpleRNN", "SimpleRNNCell", "LSTM", "LSTMCell", "GRU", "GRUCell",
    "StackedRNNCells", "Bidirectional", "TimeDistributed", "ConvLSTM1D", "ConvLSTM2D",
    "ConvLSTM3D",
] + _preprocessing


# serialize / deserialize resolve classes through the models package, which imports the layers:
# imported when called
def serialize(layer):
    """A layer's config as Keras serializes it (`module`, `class_name`, `config`, ...)."""
    from mgp.models.serialization import serialize_layer
    return serialize_layer(layer)


def deserialize(config, custom_objects=None):
    """A layer (or model) from its serialized config; only mgp's classes, registered ones and
    `custom_objects` are resolved."""
    from mgp.models.serialization import deserialize_layer
    return deserialize_layer(config, custom_objects=custom_objects)
