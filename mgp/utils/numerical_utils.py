"""`normalize`: arrays (or Tensors) scaled to unit norm along an axis."""
import numpy as np

from mgp.tensor import Tensor

EPSILON = 1e-7  # Keras's backend.epsilon()


def normalize(x, axis=-1, order=2):
    """Divide `x` by its `order`-norm along `axis`, as Keras's `utils.normalize`.

    A NumPy array gives a NumPy array (a zero norm is taken as 1, so zero rows stay zero); a
    Tensor gives a Tensor, differentiable, computed as Keras's `ops.nn.normalize` (the norm
    bounded below by 1e-7).

    Args:
        x: an array or Tensor.
        axis: the axis the norms are taken along.
        order: the norm's order (2: Euclidean).
    """
    if isinstance(x, Tensor):
        return _normalize_tensor(x, axis, order)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis if axis is not None else -1)


def _normalize_tensor(x, axis, order):
    from mgp import ops
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: order must be an int >= 1, got {order!r}")
    if x.ndim == 0:
        x = ops.reshape(x, (1,))
    if order == 2:
        with np.errstate(divide="ignore"):  # a zero norm: inf, then bounded to 1 / epsilon
            inv_norm = 1 / ops.sqrt(ops.sum(x * x, axis=axis, keepdims=True))
        return x * ops.minimum(inv_norm, x.dtype.type(1 / EPSILON))
    norm = ops.sum(ops.abs(x) ** order, axis=axis, keepdims=True) ** (1 / order)
    return x / ops.maximum(norm, x.dtype.type(EPSILON))
