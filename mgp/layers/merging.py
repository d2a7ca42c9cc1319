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
        return ops.sub(xs[0], xs[1])


class Multiply(_Merge):
    """Elementwise product of a list of inputs."""

    def _merge(self, xs):
        return functools.reduce(ops.mul, xs)


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
