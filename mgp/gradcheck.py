"""Check an op's analytic gradient against central finite differences, in float64."""
import numpy as np

from mgp.backend import to_numpy, xp
from mgp.tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree; the message names where."""


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast=False, seed=0):
    """Compare the gradient `backward()` computes with central differences, for every input
    that requires grad.

    The check runs in float64 on copies of the inputs. The output is projected on a random
    vector v, so the checked quantity is the vector-Jacobian product v^T J, element by element.
    With `fast=True` (for large inputs) it compares v^T J u for one random direction u per
    input instead, which costs two evaluations of `fn` per input rather than two per element.

    Args:
        fn: a function of the inputs returning a Tensor of any shape.
        *inputs: Tensors (those with requires_grad=True are checked) or other arguments,
            passed through unchanged.
        eps: finite-difference step. atol, rtol: the tolerance, as `np.allclose`.
    Returns:
        True; raises `GradcheckError` naming the input, the worst element and both values.

    Example:
        >>> x = mgp.tensor(np.random.randn(3, 4), requires_grad=True)
        >>> mgp.gradcheck(lambda t: (t * t.exp()).sum(axis=1), x)
        True
    """
    rng = np.random.default_rng(seed)
    # C-ordered float64 copies: perturbing them cannot touch the caller's arrays
    args = [Tensor(np.array(to_numpy(t.data), dtype=np.float64, order="C"), dtype=np.float64,
                   requires_grad=True)
            if isinstance(t, Tensor) and t.requires_grad else t for t in inputs]
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")

    out = fn(*args)
    v = rng.standard_normal(out.shape)

    def projected():
        with no_grad():
            return float((to_numpy(fn(*args).data).astype(np.float64) * v).sum())

    out.backward(v)
    for i in checked:
        x = args[i]
        analytic = to_numpy(x.grad) if x.grad is not None else np.zeros(x.shape)
        data = x.data  # perturbed in place, restored after each step
        if fast:
            u = rng.standard_normal(x.shape)
            step = xp.asarray(eps * u)  # on the inputs' device
            data += step
            plus = projected()
            data -= 2 * step
            minus = projected()
            data += step
            num, ana = (plus - minus) / (2 * eps), float((analytic * u).sum())
            if not np.isclose(ana, num, atol=atol, rtol=rtol):
                raise GradcheckError(f"gradcheck failed for input {i} (shape {x.shape}) along a "
                                     f"random direction: analytic {ana:.8g}, numerical {num:.8g}")
            continue
        numerical = np.zeros(x.shape)
        flat = data.reshape(-1)  # a view, since data is C-ordered; the writes must reach `data`
        for k in range(flat.size):
            orig = flat[k].copy()  # a device array's element is a view, not a copy
            flat[k] = orig + eps
            plus = projected()
            flat[k] = orig - eps
            minus = projected()
            flat[k] = orig
            numerical.flat[k] = (plus - minus) / (2 * eps)
        bad = ~np.isclose(analytic, numerical, atol=atol, rtol=rtol)
        if bad.any():
            err = np.abs(analytic - numerical) - rtol * np.abs(numerical)
            k = tuple(int(j) for j in
                      np.unravel_index(np.argmax(np.where(bad, err, -np.inf)), x.shape))
            raise GradcheckError(
                f"gradcheck failed for input {i} (shape {x.shape}) at element {k}: analytic "
                f"{analytic[k]:.8g}, numerical {numerical[k]:.8g} ({int(bad.sum())} of "
                f"{x.size} elements differ)")
    return True
