"""The placeholders a functional model is traced with, and how a layer's output is inferred.

A `SymbolicTensor` stands for a tensor whose values are not known yet: a shape (None where the
size is unknown, the batch axis always), a dtype, the call (`Node`) that makes it and, when the
tensor carries a mask, a symbolic mask in `_keras_mask` (Keras's attribute name).

A layer's output is inferred from its `compute_output_shape` (every built-in layer has one), so
unknown sizes stay unknown. A layer that has none (a user's layer) is run on probes instead:
concrete tensors of ones in which every unknown size is first 83, then 89 (the sizes Keras's
torch backend probes with; an unknown batch axis is first 2, then 3, so that a probe stays
small); an output size that differs between the two runs is unknown, one that agrees is kept.
A size that depends on an unknown input size and happens to agree at 83 and 89 would be taken
as fixed; write `compute_output_shape` for such a layer.
"""
import numpy as np

from mgp.backend import xp
from mgp.tensor import Tensor, no_grad

PROBE_SIZES = ((2, 83), (3, 89))  # (batch axis, other axes) of each run
_probe_depth = 0  # > 0 while a probe runs


def probing():
    """Whether the current call runs on probes: their values are stand-ins (ones, or sizes such
    as `ops.arange(83)` made from them), so checks of values, not of shapes and dtypes, must
    not fire on them (as Keras's torch backend probes on tensors that hold no values)."""
    return _probe_depth > 0


class Node:
    """One call of a layer in a functional graph: the layer, its arguments (SymbolicTensors
    among them) and the SymbolicTensors it produced."""

    def __init__(self, layer, call_args, call_kwargs):
        self.layer, self.call_args, self.call_kwargs = layer, call_args, call_kwargs
        self.outputs = []

    @property
    def parents(self):
        """The SymbolicTensors this call reads, in argument order."""
        return [t for t in flatten((self.call_args, self.call_kwargs))
                if isinstance(t, SymbolicTensor)]


class SymbolicTensor:
    """A placeholder for a tensor in a functional model.

    Attributes:
        shape: tuple, batch axis first; None for an unknown size.
        dtype: a NumPy dtype.
        node: the layer call that made it (None for a mask or a free-standing placeholder);
            `layer`, `inputs` (that call's first argument), `call_kwargs` and `index` (its
            place among the call's flattened outputs) read from it.
        _keras_mask: the symbolic mask it carries, or None.
    """

    def __init__(self, shape, dtype="float32", node=None, index=0, mask=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.node, self.index = node, index
        self._keras_mask = mask

    ndim = property(lambda self: len(self.shape))
    layer = property(lambda self: self.node.layer if self.node is not None else None)
    inputs = property(lambda self: self.node.call_args[0] if self.node is not None and
                      self.node.call_args else ())
    call_kwargs = property(lambda self: self.node.call_kwargs if self.node is not None else {})

    def __repr__(self):
        name = self.layer.name if self.layer is not None else "?"
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype} from '{name}'>"

    # Python's operators are ops recorded in the graph, as on Keras's KerasTensor
    def __bool__(self):
        raise TypeError("a symbolic tensor has no truth value: its values are known only when "
                        "the model runs")

    def __iter__(self):
        raise TypeError("a symbolic tensor cannot be iterated over; index it (x[:, 0]) or "
                        "use ops.unstack")

    def reshape(self, newshape):
        return _ops().reshape(self, newshape)

    def squeeze(self, axis=None):
        return _ops().squeeze(self, axis)

    def __getitem__(self, key):
        return _ops().get_item(self, key)

    def __round__(self, ndigits=None):
        return _ops().round(self, ndigits or 0)

    __hash__ = object.__hash__  # by identity, as `==` is (Keras defines no `__eq__` either)
    __array_ufunc__ = None  # `ndarray * x`: NumPy leaves it to `x.__rmul__`, which records it


# Python's operators on a symbolic tensor: Keras's KerasTensor's, each the op of that name
_UNARY = {"__neg__": "negative", "__abs__": "absolute", "__invert__": "logical_not"}
_BINARY = {"add": "add", "sub": "subtract", "mul": "multiply", "matmul": "matmul",
           "truediv": "true_divide", "floordiv": "floor_divide", "mod": "mod", "pow": "power",
           "and": "logical_and", "or": "logical_or", "xor": "logical_xor"}
_COMPARISONS = {"__lt__": "less", "__le__": "less_equal", "__gt__": "greater",
                "__ge__": "greater_equal", "__ne__": "not_equal"}


def _operator(op, reflected=False, unary=False):
    if unary:
        return lambda self: getattr(_ops(), op)(self)
    if reflected:
        return lambda self, other: getattr(_ops(), op)(other, self)
    return lambda self, other: getattr(_ops(), op)(self, other)


for _dunder, _op in _UNARY.items():
    setattr(SymbolicTensor, _dunder, _operator(_op, unary=True))
for _dunder, _op in _COMPARISONS.items():
    setattr(SymbolicTensor, _dunder, _operator(_op))
for _name, _op in _BINARY.items():
    setattr(SymbolicTensor, f"__{_name}__", _operator(_op))
    setattr(SymbolicTensor, f"__r{_name}__", _operator(_op, reflected=True))


def _ops():
    from mgp import ops  # the ops sit below the layers; imported when first used
    return ops


def flatten(structure):
    """The leaves of nested lists, tuples and dicts (dicts in their order), left to right."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for item in structure.values() for leaf in flatten(item)]
    return [structure]


def map_structure(fn, structure):
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def pack_as(structure, flat):
    """`flat` (a list) in the nesting of `structure`."""
    flat = iter(flat)
    return map_structure(lambda _: next(flat), structure)


def is_shape(value):
    """Whether `value` is one shape (a tuple or list of ints and Nones) rather than several."""
    return isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in value)


def map_shapes(fn, shapes):
    """Apply `fn` to each shape in a nesting of shapes (a shape is a leaf)."""
    if is_shape(shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, dict):
        return {k: map_shapes(fn, v) for k, v in shapes.items()}
    if isinstance(shapes, (list, tuple)):
        return type(shapes)(map_shapes(fn, s) for s in shapes)
    raise ValueError(f"expected a shape (a tuple of ints and Nones) or a nesting of shapes, got "
                     f"{shapes!r}")


def shape_of(x):
    return tuple(x.shape) if x is not None else None


def get_mask(x):
    return getattr(x, "_keras_mask", None)


def set_mask(x, mask):
    if isinstance(x, (Tensor, SymbolicTensor)):
        x._keras_mask = mask


# ---- probing: running a layer on concrete stand-ins ----------------------------------------------
def identities(shape, dtype):
    """Identity matrices in the last two axes where they are square (ones elsewhere): the
    probe values for an op that ones do not suit (`inv`, `cholesky` of a singular matrix)."""
    if len(shape) < 2 or shape[-1] != shape[-2]:
        return xp.ones(shape, dtype=dtype)
    return xp.broadcast_to(xp.eye(shape[-1], dtype=dtype), shape).copy()


def _concrete(structure, sizes, fill=None):
    """Tensors of ones (masks: True; `fill(shape, dtype)` when given) for the SymbolicTensors
    in `structure`, unknown sizes set to `sizes` (batch axis, other axes); everything else is
    left as it is."""
    def make(t):
        if not isinstance(t, SymbolicTensor):
            return t
        shape = tuple(sizes[i > 0] if d is None else d for i, d in enumerate(t.shape))
        values = xp.ones(shape, dtype=t.dtype) if fill is None or t.dtype == bool else \
            fill(shape, t.dtype)
        out = Tensor(values, dtype=t.dtype)
        if t._keras_mask is not None:
            out._keras_mask = make(t._keras_mask)
        return out
    return map_structure(make, structure)


def _merge_shapes(runs, dtypes):
    """SymbolicTensors whose sizes are known where every run agrees (None elsewhere)."""
    out = []
    for shapes, dtype in zip(zip(*runs), dtypes):
        first = shapes[0]
        if any(len(s) != len(first) for s in shapes):
            raise ValueError(f"the output's rank depends on the input's unknown sizes: "
                             f"{list(shapes)}")
        out.append(SymbolicTensor([d if all(s[i] == d for s in shapes) else None
                                   for i, d in enumerate(first)], dtype))
    return out


def probe(fn, args, kwargs, layers=(), sizes=PROBE_SIZES, fill=None):
    """Run `fn(*args, **kwargs)` on concrete stand-ins for the SymbolicTensors in `args` and
    `kwargs` and return its outputs as SymbolicTensors (in `fn`'s output structure).

    Nothing the run does to `layers` is kept: their weights' values and their `add_loss`
    losses are restored afterwards (the run is a shape inference, not a call). `sizes`: the
    (batch axis, other axes) sizes of each run's unknown sizes; `fill(shape, dtype)`: the
    probes' values (ones by default).
    """
    symbolic = [t for t in flatten((args, kwargs)) if isinstance(t, SymbolicTensor)]
    unknown = any(d is None for t in symbolic for d in t.shape)
    runs_sizes = sizes if unknown else ((1, 1),)
    saved = [(layer, list(layer._losses), [(w, w.data) for w in layer._own_weights])
             for layer in layers]
    runs, structure, dtypes = [], None, None
    global _probe_depth
    _probe_depth += 1
    try:
        with no_grad():
            for run in runs_sizes:
                out = fn(*_concrete(args, run, fill), **_concrete(kwargs, run, fill))
                leaves = flatten(out)
                if any(not isinstance(o, Tensor) for o in leaves):
                    raise TypeError(f"expected Tensors as outputs, got "
                                    f"{[type(o).__name__ for o in leaves]}")
                runs.append([tuple(o.shape) for o in leaves])
                structure, dtypes = out, [o.dtype for o in leaves]
    finally:
        _probe_depth -= 1
        for layer, losses, weights in saved:
            layer._losses[:] = losses
            for w, data in weights:
                w.data = data
    return pack_as(structure, _merge_shapes(runs, dtypes))


def get_source_inputs(tensor):
    """The Input tensors `tensor` is computed from, in the order the graph reaches them
    (Keras's `keras.utils.get_source_inputs`); anything but a SymbolicTensor is returned as
    it is."""
    if not isinstance(tensor, SymbolicTensor):
        return tensor
    from mgp.layers.input_layer import InputLayer
    sources, stack, seen = [], [tensor], set()
    while stack:  # depth first, left to right: Keras's recursion without the recursion
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t.node is None or isinstance(t.layer, InputLayer) or not t.node.parents:
            sources.append(t)
        else:
            stack.extend(reversed(t.node.parents))
    return sources
