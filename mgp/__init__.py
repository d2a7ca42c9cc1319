"""mgp: a readable deep-learning framework on NumPy.

The engine: `mgp.Tensor`, `mgp.tensor`, `mgp.no_grad`, `mgp.gradcheck`, and every op as a
function in `mgp.functional` (the math ones also here: `mgp.exp`, `mgp.matmul`, ...).
"""
from mgp.backend import set_device, get_device
from mgp.tensor import Tensor, tensor, no_grad, enable_grad, is_grad_enabled, sum_to
from mgp.gradcheck import gradcheck, GradcheckError
from mgp import functional
from mgp.functional import (  # noqa: F401
    add, sub, mul, div, neg, pow, exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu, elu,
    gelu, softplus, maximum, minimum, clip, where,
    sum, mean, var, max, min, logsumexp, argmax, argmin, matmul,
    reshape, transpose, permute, expand_dims, squeeze, flatten, broadcast_to, concatenate, stack,
    pad, softmax, log_softmax,
)

__version__ = "0.1.0"

# The Keras-style API, module by module as Keras spells it.
from mgp import (  # noqa: E402
    activations, backend, callbacks, constraints, datasets, distribution, initializers, layers,
    losses, metrics, models, optimizers, regularizers, saving, utils,
)
from mgp.layers import Input  # noqa: E402
from mgp.models import Model, Sequential  # noqa: E402
