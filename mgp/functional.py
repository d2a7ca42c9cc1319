"""Every differentiable op as a function, in one namespace (`import mgp.functional as F`).

The definitions live in `mgp.ops` (`mgp.ops.numpy`: elementwise, reductions, matmul, movement;
`mgp.ops.nn`: softmax, losses, dropout, convolution, pooling, batch normalization).
"""
from mgp.ops import (  # noqa: F401
    add, sub, mul, div, neg, pow, exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu, elu,
    gelu, softplus, maximum, minimum, clip, where, cast,
    sum, mean, var, max, min, logsumexp, argmax, argmin,
    matmul,
    reshape, transpose, permute, expand_dims, squeeze, flatten, broadcast_to, concatenate, stack,
    pad, getitem, as_tensor,
    softmax, log_softmax, cross_entropy, binary_cross_entropy_with_logits, dropout,
    conv2d, max_pool2d, avg_pool2d, global_avg_pool2d, batch_norm,
)
