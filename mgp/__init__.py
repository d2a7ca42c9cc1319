"""mgp: a readable deep-learning framework on NumPy.

The engine: `mgp.Tensor`, `mgp.tensor`, `mgp.no_grad`, `mgp.gradcheck`, and every op in
`mgp.ops` (Keras's `keras.ops`; the common math ones also here: `mgp.exp`, `mgp.matmul`, ...,
with PyTorch's short names for the arithmetic: `mgp.sub`, `mgp.mul`, `mgp.div`).
"""
from mgp.backend import set_device, get_device
from mgp.tensor import Tensor, tensor, no_grad, enable_grad, is_grad_enabled, sum_to
from mgp.gradcheck import gradcheck, GradcheckError
from mgp.ops import (  # noqa: F401
    add, subtract as sub, multiply as mul, divide as div, negative as neg, power as pow, exp,
    log, sqrt, abs, tanh, sigmoid, relu, leaky_relu, elu, gelu, softplus, maximum, minimum,
    clip, where, sum, mean, var, max, min, logsumexp, argmax, argmin, matmul, reshape,
    transpose, transpose as permute, expand_dims, squeeze, broadcast_to, concatenate, stack,
    pad, softmax, log_softmax,
)
from mgp.ops.numpy import flatten  # noqa: F401  (PyTorch's name; Keras has ravel)

__version__ = "0.1.0"

# The Keras-style API, module by module as Keras spells it.
from mgp import (  # noqa: E402
    activations, applications, backend, callbacks, config, constraints, datasets, distribution, initializers,
    layers, losses, metrics, models, ops, optimizers, preprocessing, random, regularizers, saving,
    utils,
)
from mgp.layers import Input  # noqa: E402
from mgp.models import Model, Sequential  # noqa: E402
