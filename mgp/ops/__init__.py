"""mgp's ops: Keras's `keras.ops` namespace, each op defined once with its backward beside it.

The definitions live by family, as Keras groups them: `mgp.ops.numpy` (elementwise math,
reductions, matmul, shapes) and `mgp.ops.nn` (softmax, losses from logits, dropout, convolution,
pooling, normalization). Everything is also reachable here, as `mgp.ops.<name>`.
"""
from mgp.ops import nn  # noqa: F401
from mgp.ops.numpy import (  # noqa: F401
    add, sub, mul, div, neg, pow, exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu, elu,
    gelu, softplus, maximum, minimum, clip, where, cast,
    sum, mean, var, max, min, logsumexp, argmax, argmin,
    matmul,
    reshape, transpose, permute, expand_dims, squeeze, flatten, broadcast_to, concatenate, stack,
    pad, getitem, as_tensor,
)
from mgp.ops.nn import (  # noqa: F401
    softmax, log_softmax, cross_entropy, binary_cross_entropy_with_logits, dropout,
    conv2d, max_pool2d, avg_pool2d, global_avg_pool2d, batch_norm,
    conv, conv_transpose, depthwise_conv, separable_conv, max_pool, average_pool,
)
from mgp.ops.nn import ctc_loss, ctc_decode  # noqa: F401
