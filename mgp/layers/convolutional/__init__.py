"""Convolution layers, as Keras groups them: each family one class parameterized by rank.

- conv.py: `BaseConv`, Conv1D, Conv2D, Conv3D
- conv_transpose.py: `BaseConvTranspose`, Conv1DTranspose, Conv2DTranspose, Conv3DTranspose
- depthwise_conv.py: `BaseDepthwiseConv`, DepthwiseConv1D, DepthwiseConv2D
- separable_conv.py: `BaseSeparableConv`, SeparableConv1D, SeparableConv2D
- base.py: what they all share (window, data format, bias, activation, input checks)
"""
from mgp.layers.convolutional.conv import (  # noqa: F401
    Conv1D, Conv2D, Conv3D, Convolution1D, Convolution2D, Convolution3D)
from mgp.layers.convolutional.conv_transpose import (  # noqa: F401
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose, Convolution1DTranspose,
    Convolution2DTranspose, Convolution3DTranspose)
from mgp.layers.convolutional.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D  # noqa: F401
from mgp.layers.convolutional.separable_conv import (  # noqa: F401
    SeparableConv1D, SeparableConv2D, SeparableConvolution1D, SeparableConvolution2D)
