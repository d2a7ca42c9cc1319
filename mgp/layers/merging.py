"""Merge layers: combine a list of inputs (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate), and the lowercase functions Keras offers for them (`add([a, b])`).

Masks, as Keras merges them: the elementwise layers give the union (logical or) of their
inputs' masks when every input has one; Concatenate joins the masks (a missing one counted as
all True) along its axis, then a time step counts where any of its entries does.
"""
import functools

from mgp import ops
from mgp.backend import xp
from mgp.layers._utils import describe, floating
from mgp.layers.base import Layer
from mgp.layers.symbolic import SymbolicTensor
from mgp.tensor import Tensor


def _broadcast_shape(shapes):
    """The elementwise-broadcast shape of `shapes` (None: unknown size), or None if they clash."""
    ndim = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (ndim - len(s)) + tuple(s) for s in shapes]):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            return None
        out.append(known.pop() if known else (None if None in dims else 1))
    return tuple(out)


def _is_shape_list(input_shape):
    return bool(input_shape) and all(isinstance(s, (tuple, list)) for s in input_shape)


def _check_mask_list(layer, inputs, mask):
    if not isinstance(mask, (list, tuple)) or not isinstance(inputs, (list, tuple)):
        raise ValueError(f"{describe(layer)}: compute_mask expects a list of inputs and a list "
                         f"of masks, got {type(inputs).__name__} and {type(mask).__name__}")
    if len(mask) != len(inputs):
        raise ValueError(f"{describe(layer)}: {len(inputs)} inputs but {len(mask)} masks")


def _mask_array(m):
    return m.data if isinstance(m, Tensor) else xp.asarray(m)


class _Merge(Layer):
    """Checks that the inputs are a list of compatible shapes, then `_merge`s them."""

    _min_inputs = 1

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        _check_mask_list(self, inputs, mask)
        if any(m is None for m in mask):
            return None
        if any(isinstance(m, SymbolicTensor) for m in mask):
            shape = _broadcast_shape([m.shape for m in mask])
            return SymbolicTensor(shape, "bool")
        return Tensor(functools.reduce(xp.logical_or, [_mask_array(m) for m in mask]))

    def _check(self, shapes):
        if len(shapes) < self._min_inputs:
            raise ValueError(f"{describe(self)} expects a list of at least {self._min_inputs} "
                             f"inputs, got {len(shapes)}")
        if _broadcast_shape(shapes) is None:
            raise ValueError(f"{describe(self)} got inputs with incompatible shapes "
                             f"{[tuple(s) for s in shapes]}")

    def build(self, input_shape):
        if _is_shape_list(input_shape):  # a list of several inputs: check it now, batch axis None
            self._check(list(input_shape))

    def call(self, inputs, training=False):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{describe(self)} expects a list of inputs, got a single input of "
                             f"shape {tuple(inputs.shape)}")
        self._check([t.shape for t in inputs])
        return self._merge([floating(t, self.dtype) for t in inputs])

    def compute_output_shape(self, input_shape):
        self._check(list(input_shape))
        return _broadcast_shape(input_shape)


class Add(_Merge):
    """Elementwise sum of a list of inputs (shapes must broadcast).

    Example:
        >>> y = Add()([x, shortcut])   # a residual connection
    """

    def _merge(self, xs):
        return functools.reduce(ops.add, xs)


class Subtract(_Merge):
    """inputs[0] - inputs[1]; exactly two inputs."""

    _min_inputs = 2

    def _check(self, shapes):
        if len(shapes) != 2:
            raise ValueError(f"{describe(self)} expects a list of exactly 2 inputs, got "
                             f"{len(shapes)}")
        super()._check(shapes)

    def _merge(self, xs):
        return ops.subtract(xs[0], xs[1])


class Multiply(_Merge):
    """Elementwise product of a list of inputs."""

    def _merge(self, xs):
        return functools.reduce(ops.multiply, xs)


class Average(_Merge):
    """Elementwise mean of a list of inputs."""

    def _merge(self, xs):
        return functools.reduce(ops.add, xs) / len(xs)


class Maximum(_Merge):
    """Elementwise maximum of a list of inputs."""

    def _merge(self, xs):
        return functools.reduce(ops.maximum, xs)


class Minimum(_Merge):
    """Elementwise minimum of a list of inputs."""

    def _merge(self, xs):
        return functools.reduce(ops.minimum, xs)


class Concatenate(_Merge):
    """Join a list of inputs along `axis`; all other axes must match.

    Args:
        axis: the axis to join along (-1: features, the last).

    Example:
        >>> Concatenate()([np.zeros((2, 3)), np.zeros((2, 4))]).shape
        (2, 7)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _check(self, shapes):
        shapes = [tuple(s) for s in shapes]
        if not shapes:
            raise ValueError(f"{describe(self)} expects a list of at least 1 input, got 0")
        ndim = len(shapes[0])
        ok = all(len(s) == ndim for s in shapes) and -ndim <= self.axis < ndim
        if ok:
            axis = self.axis % ndim
            for i in range(ndim):
                known = {s[i] for s in shapes if s[i] is not None}
                ok = ok and (i == axis or len(known) <= 1)
        if not ok:
            raise ValueError(f"{describe(self)} requires inputs with matching shapes except for "
                             f"the concatenation axis {self.axis}, got {shapes}")

    def _merge(self, xs):
        return ops.concatenate(xs, axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        _check_mask_list(self, inputs, mask)
        if all(m is None for m in mask):
            return None
        if any(isinstance(t, SymbolicTensor) for t in list(inputs) + list(mask)):
            shape = self.compute_output_shape([t.shape for t in inputs])
            return SymbolicTensor(shape[:-1], "bool")
        # each mask at its input's shape (a missing one all True), joined, then any over the
        # last axis
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(xp.ones(tuple(x.shape), dtype=bool))
            else:
                m = _mask_array(m)
                masks.append(xp.broadcast_to(m[..., None], x.shape) if m.ndim < x.ndim else m)
        return Tensor(xp.concatenate(masks, axis=self.axis).any(axis=-1))

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        self._check(shapes)
        axis = self.axis % len(shapes[0])
        sizes = [s[axis] for s in shapes]
        out = [next((s[i] for s in shapes if s[i] is not None), None)
               for i in range(len(shapes[0]))]
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def add(inputs, **kwargs):
    """Functional form of `Add`: `add([a, b])`."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`: `concatenate([a, b], axis=-1)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


class Dot(_Merge):
    """Dot product of two inputs along one axis of each, per sample (Keras's `batch_dot`): the
    output keeps the first input's other axes, then the second's (without its batch axis);
    a result of one axis becomes (batch, 1).

    Args:
        axes: an int (the same axis of both) or a pair (one axis per input); never the batch
            axis 0.
        normalize: L2-normalize both along their axis first (the output is then the cosine
            similarity), as Keras: `x * min(1 / ||x||, 1e7)`.

    Example:
        >>> Dot(axes=1)([np.ones((2, 3)), np.ones((2, 3))]).shape
        (2, 1)
        >>> Dot(axes=(2, 2))([np.ones((2, 4, 3)), np.ones((2, 5, 3))]).shape
        (2, 4, 5)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        ok = isinstance(axes, int) and not isinstance(axes, bool)
        if not ok and isinstance(axes, (list, tuple)) and len(axes) == 2:
            ok = all(isinstance(a, int) and not isinstance(a, bool) for a in axes)
            axes = tuple(axes)
        if not ok:
            raise ValueError(f"Dot: axes must be an int or a pair of ints, got {axes!r}")
        self.axes = axes
        self.normalize = bool(normalize)
        self.supports_masking = True  # takes masked inputs; its output has none (compute_mask)

    def _axes_for(self, shapes):
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return tuple(a % len(s) if len(s) else a for a, s in zip(axes, shapes))

    def _check(self, shapes):
        shapes = [tuple(s) for s in shapes]
        if len(shapes) != 2:
            raise ValueError(f"{describe(self)} expects a list of exactly 2 inputs, got "
                             f"{len(shapes)}")
        if min(len(s) for s in shapes) < 2:
            raise ValueError(f"{describe(self)} expects inputs of at least 2 axes (batch, ...), "
                             f"got shapes {shapes}")
        a0, a1 = self._axes_for(shapes)
        if 0 in (a0, a1):
            raise ValueError(f"{describe(self)} cannot take the dot product over the batch axis "
                             f"0 (axes={self.axes})")
        d0, d1 = shapes[0][a0], shapes[1][a1]
        if d0 is not None and d1 is not None and d0 != d1:
            raise ValueError(f"{describe(self)}: axis {a0} of {shapes[0]} ({d0}) and axis {a1} "
                             f"of {shapes[1]} ({d1}) differ")

    def _merge(self, xs):
        x, y = xs
        a0, a1 = self._axes_for([x.shape, y.shape])
        if self.normalize:
            x, y = _l2_normalize(x, a0), _l2_normalize(y, a1)
        # x's summed axis last, y's first after the batch: a batched matrix product
        x = ops.transpose(x, tuple(i for i in range(x.ndim) if i != a0) + (a0,))
        y = ops.transpose(y, (0, a1) + tuple(i for i in range(1, y.ndim) if i != a1))
        rest_x, rest_y = x.shape[1:-1], y.shape[2:]
        out = ops.matmul(ops.reshape(x, (x.shape[0], -1, x.shape[-1])),
                         ops.reshape(y, (y.shape[0], y.shape[1], -1)))
        shape = (out.shape[0],) + rest_x + rest_y
        return ops.reshape(out, shape if len(shape) > 1 else shape + (1,))

    def compute_output_shape(self, input_shape):
        shapes = [list(s) for s in input_shape]
        self._check(shapes)
        a0, a1 = self._axes_for(shapes)
        shapes[0].pop(a0)
        shapes[1].pop(a1)
        out = shapes[0] + shapes[1][1:]
        return tuple(out if len(out) > 1 else out + [1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x, axis, epsilon=1e-7):
    """x / ||x|| along `axis`, the norm floored at epsilon (Keras's `ops.normalize`)."""
    squares = ops.sum(x * x, axis, keepdims=True)
    return x / ops.sqrt(ops.maximum(squares, epsilon * epsilon))


def dot(inputs, axes=-1, **kwargs):
    """Functional form of `Dot`: `dot([a, b], axes=1)`."""
    return Dot(axes=axes, **kwargs)(inputs)
