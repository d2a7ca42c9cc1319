"""An op called on symbolic tensors: one `Operation` in a functional model (Keras's).

`ops.mean(x, axis=1)` on a placeholder makes an `Operation` for `mean` holding the arguments
that are not tensors (`axis=1, keepdims=False`: Keras's split between an op class's
construction arguments and its call arguments, from `mgp.ops.keras_classes`), calls it on the
tensors, and returns a placeholder whose shape and dtype are found by running the op on probes
(see `mgp.layers.symbolic`: every unknown size is 83, then 89, so the op's own shape rules and
errors apply, and a size that changes with them is unknown). The functional model runs the op on
real tensors; a `.keras` file holds it as Keras does (`"module": "keras.src.ops.numpy",
"class_name": "Mean", "config": {"name": "mean", "axis": 1, "keepdims": false}`), so Keras reads
mgp's files and mgp Keras's. An op Keras records as several (`batch_normalization`) or not at all
is saved under mgp's own module, which only mgp reads.

Operations are not layers of the model (`model.layers` leaves them out, as Keras does;
`model.operations` has them); they hold no weights.
"""
import functools
import inspect

import numpy as np

from mgp.config import unique_name
from mgp.layers.base import Layer, snake_case
from mgp.layers.symbolic import Node, SymbolicTensor, flatten, map_structure, probe
from mgp.ops import symbolic as dispatch
from mgp.ops.keras_classes import KERAS_OPS

# every unknown size is the same in a probe run, so that an op may join axes of different
# placeholders (`matmul(transpose(x), x)`)
OP_PROBE_SIZES = ((83, 83), (89, 89))
_BY_CLASS = {(family, cls): name for name, (family, cls, _) in KERAS_OPS.items()}


def _op_function(name):
    """The public op called `name` (the dispatching function, in `mgp.ops` or `ops.image`)."""
    from mgp import ops
    fn = getattr(ops, name, None)
    if fn is None:
        fn = getattr(ops.image, name)
    return getattr(fn, "__wrapped_op__", fn)


@functools.cache
def _parameters(name):
    return tuple(inspect.signature(_op_function(name)).parameters.values())


def _has_symbolic(value):
    return any(isinstance(v, SymbolicTensor) for v in flatten(value))


def _camel(name):
    return "".join(part.capitalize() for part in name.split("_"))


class Operation(Layer):
    """One op of a functional model, called on the tensors its graph gives it.

    Args:
        op: the op's name in `mgp.ops` ('mean', 'expand_dims', 'resize').
        static: the arguments that are not tensors (`{"axis": 1, "keepdims": False}`).
        name: a unique name; by default the snake-case Keras class name, numbered.
    """

    def __init__(self, op, static=None, name=None):
        if op not in KERAS_OPS and not hasattr(_op_lookup(), op):
            raise ValueError(f"Operation: mgp.ops has no op {op!r}")
        family, class_name, _ = KERAS_OPS.get(op, (None, _camel(op), ()))
        super().__init__(name=name or unique_name(snake_case(class_name)))
        self.op, self.static = op, dict(static or {})
        self.keras_family, self.class_name = family, class_name
        self.built = True

    def call(self, *args, **kwargs):
        """The op on real tensors: `args` fill its call arguments in order (Keras's call
        signature), `kwargs` and the static arguments the rest, by name."""
        positional, keywords = self._arguments(args, kwargs)
        return _op_function(self.op)(*positional, **keywords)

    def _arguments(self, args, kwargs):
        """(positional, keyword) arguments of the op's function from a call's `args` and
        `kwargs` and the static ones."""
        params = _parameters(self.op)
        values, rest = dict(self.static), list(args)
        for p in params:  # the call arguments: those that are not static, in order
            if not rest or p.name in self.static or p.kind == p.VAR_KEYWORD:
                continue
            if p.kind == p.VAR_POSITIONAL:
                values[p.name], rest = tuple(rest), []
            else:
                values[p.name] = rest.pop(0)
        if rest:
            raise TypeError(f"operation '{self.name}' ({self.op}) takes at most "
                            f"{len(args) - len(rest)} positional arguments, got {len(args)}")
        values.update(kwargs)
        key = values.get("key")
        if self.op == "get_item" and isinstance(key, list) and any(
                k is None or isinstance(k, (slice, type(Ellipsis))) for k in key):
            values["key"] = tuple(key)  # a key read back from JSON, where tuples are lists
        positional, keywords = [], {}
        before_varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
        for p in params:  # by name, except before a `*args`, where only a position will do
            if p.kind == p.VAR_POSITIONAL:
                positional.extend(values.pop(p.name, ()))
                before_varargs = False
            elif p.kind != p.VAR_KEYWORD and p.name in values:
                if before_varargs:
                    positional.append(values.pop(p.name))
                else:
                    keywords[p.name] = values.pop(p.name)
        keywords.update(values)  # the op's own **kwargs
        return positional, keywords

    def __call__(self, *args, **kwargs):
        kwargs.pop("training", None)  # a functional model passes it to every call
        if not _has_symbolic((args, kwargs)):
            return self.call(*args, **kwargs)
        outputs = self.compute_output_spec(*args, **kwargs)
        node = Node(self, args, kwargs)
        node.outputs = flatten(outputs)
        for i, sym in enumerate(node.outputs):
            sym.node, sym.index = node, i
        self._outbound.extend(node.outputs)
        return outputs

    def compute_output_spec(self, *args, **kwargs):
        try:
            with np.errstate(all="ignore"):  # ones may be outside an op's domain (log(-1))
                return probe(lambda *a, **k: _as_tensors(self.call(*a, **k)), args, kwargs,
                             sizes=OP_PROBE_SIZES)
        except (ValueError, TypeError, IndexError) as e:  # the op's own error, said of shapes
            shapes = [t.shape for t in flatten((args, kwargs)) if isinstance(t, SymbolicTensor)]
            unknown = " (every unknown size tried as 83 and 89)" if any(
                d is None for s in shapes for d in s) else ""
            raise type(e)(f"ops.{self.op} on symbolic tensors of shapes "
                          f"{', '.join(map(str, shapes))}{unknown}: {e}") from None

    symbolic_outputs = compute_output_spec  # what a model called on placeholders asks

    # ---- config: Keras's, so that each side reads the other's files ----------------------------
    def get_config(self):
        return {"name": self.name, **self.static}

    @classmethod
    def from_config(cls, config):
        raise TypeError("an Operation is made from its Keras class name: use "
                        "Operation.from_keras(module, class_name, config)")

    def serialized(self):
        """This operation as a `.keras` config entry, as Keras writes it."""
        from mgp.saving.serialization_lib import serialize_keras_object
        module = (f"keras.src.ops.{self.keras_family}" if self.keras_family
                  else f"mgp.ops.{self.op}")
        return {"module": module, "class_name": self.class_name,
                "config": serialize_keras_object(self.get_config()),
                "registered_name": self.class_name}

    @staticmethod
    def from_keras(module, class_name, config):
        """The Operation a `.keras` entry names (Keras's classes by module and class name,
        mgp's own by op name); any other name is an error naming it."""
        from mgp.saving.serialization_lib import deserialize_keras_object
        config = {k: deserialize_keras_object(v) if isinstance(v, dict) and str(
            v.get("class_name", "")).startswith("__") else v for k, v in config.items()}
        name = config.pop("name", None)
        if module.startswith("keras.src.ops."):
            op = _BY_CLASS.get((module.rsplit(".", 1)[1], class_name))
        elif module.startswith("mgp.ops.") and hasattr(_op_lookup(), module[8:]):
            op = module[8:]
        else:
            op = None
        if op is None or (module.startswith("keras.") and not hasattr(_op_lookup(), op)
                          and not hasattr(_op_lookup().image, op)):
            raise ValueError(f"the config names the op class {class_name!r} of {module!r}, "
                             f"which mgp does not have")
        return Operation(op, config, name=name)


def _op_lookup():
    from mgp import ops
    return ops


def _as_tensors(out):
    """An op's result with Python numbers made Tensors (so its probe can read their shapes)."""
    from mgp.tensor import Tensor, convert_to_tensor
    return map_structure(lambda v: v if isinstance(v, Tensor) else convert_to_tensor(v), out)


def record(name, fn, args, kwargs):
    """Record `fn(*args, **kwargs)` (the op `name`), some of whose arguments are symbolic, as an
    Operation call; returns its symbolic outputs."""
    params = _parameters(name)
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"ops.{name}: {e}") from None
    bound.apply_defaults()
    if name in KERAS_OPS:
        static_names = set(KERAS_OPS[name][2])
    else:  # not a Keras class: the arguments without placeholders in them are static
        static_names = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL,
                        p.VAR_KEYWORD) and not _has_symbolic(bound.arguments.get(p.name))}
    static, call_args, call_kwargs = {}, [], {}
    for p in params:
        if p.name not in bound.arguments:
            continue
        value = bound.arguments[p.name]
        if p.name in static_names:
            if _has_symbolic(value):
                raise TypeError(f"ops.{name}: argument {p.name!r} must be known when the model "
                                f"is built (as in Keras), got a symbolic tensor")
            static[p.name] = value
        elif p.kind == p.VAR_POSITIONAL:
            call_args.extend(value)
        elif p.kind == p.VAR_KEYWORD:
            call_kwargs.update(value)
        else:
            call_args.append(value)
    return Operation(name, static)(*call_args, **call_kwargs)


dispatch.register((SymbolicTensor,), record)
