"""Broadcasting and its gradient, and how to write and check an op of your own.

Run: python examples/broadcasting.py
"""
import numpy as np

import mgp
from mgp.backend import xp  # the array namespace ops use (NumPy here), so ops also run on a GPU

rng = np.random.default_rng(0)

# ---- 1. The bias example: y = x + b -----------------------------------------------------------
# x is a batch of N = 4 rows of D = 3 features; b is one bias per feature, shape (D,).
# NumPy broadcasting adds b to every row: y[n, d] = x[n, d] + b[d].
x = mgp.tensor(rng.standard_normal((4, 3)), requires_grad=True)
b = mgp.tensor(np.zeros(3), requires_grad=True)
y = x + b

# Pretend y feeds a loss whose gradient with respect to y is `upstream` (any (N, D) array).
upstream = np.arange(12, dtype=np.float32).reshape(4, 3)
y.backward(upstream)

# Each b[d] was used once per row, so its gradient is the sum of the upstream gradient down the
# batch axis: the adjoint of "copy b into every row" is "add the rows up". add's backward just
# returns `upstream` for both inputs; the engine's sum_to folds it back to b's shape (3,).
print("upstream gradient dL/dy:\n", upstream)
print(f"b of shape {b.shape}: b.grad = upstream.sum(axis=0) =", b.grad)
assert np.array_equal(b.grad, upstream.sum(axis=0))

# The same rule covers every way of broadcasting: a (1, D) bias keeps its axis, and a (N, 1)
# bias (one per sample) sums across the features instead.
for shape, axis in [((1, 3), 0), ((4, 1), 1)]:
    b = mgp.tensor(np.zeros(shape), requires_grad=True)
    (x + b).backward(upstream)
    assert np.array_equal(b.grad, upstream.sum(axis=axis, keepdims=True))
    print(f"b of shape {shape}: b.grad = upstream.sum(axis={axis}, keepdims=True) =",
          b.grad.ravel())


# ---- 2. A user-written op, checked with mgp.gradcheck -------------------------------------------
# An op computes its output from `.data` and hands Tensor._make the output, its inputs, and a
# backward. The backward receives g = dL/d(out) and returns one gradient per input, at the
# output's shape: broadcasting is undone by the engine, so the op never thinks about it.
def swish(x, beta):
    """x * sigmoid(beta * x), differentiable in both x and beta (beta may be a scalar tensor)."""
    s = 1 / (1 + xp.exp(-beta.data * x.data))
    out = x.data * s

    def backward(g):
        ds = s * (1 - s)  # sigmoid'
        return (g * (s + x.data * beta.data * ds),  # d out / d x
                g * x.data * x.data * ds)           # d out / d beta, summed to () by the engine
    return mgp.Tensor._make(out, (x, beta), backward, "swish")


# gradcheck reruns the op in float64 with each input nudged by +-eps and compares the central
# differences with what backward returned; it raises, naming the input and element, if they differ.
x = mgp.tensor(rng.standard_normal((5, 3)), requires_grad=True)
beta = mgp.tensor(1.5, requires_grad=True)
print("\ngradcheck(swish):", mgp.gradcheck(swish, x, beta))


# The same op with a deliberate mistake in its beta gradient (a factor x dropped) is caught:
def broken_swish(x, beta):
    s = 1 / (1 + xp.exp(-beta.data * x.data))
    return mgp.Tensor._make(x.data * s, (x, beta),
                            lambda g: (g * (s + x.data * beta.data * s * (1 - s)),
                                       g * x.data * s * (1 - s)), "broken_swish")


try:
    mgp.gradcheck(broken_swish, x, beta)
except mgp.GradcheckError as err:
    print("gradcheck(broken_swish) caught the mistake:", err)
