"""Ops called on symbolic tensors: the one place where every public op meets a functional model.

In Keras, `ops.expand_dims(inputs, -1)` on a functional model's placeholder records a call in
the model's graph (an `Operation`) and returns a placeholder for its output; the model later runs
the op on real tensors. Here each public op is wrapped once, when `mgp.ops` is imported: the
wrapper looks at the arguments, and only when one of them is symbolic does it hand the call to
the graph (`mgp.layers.operation`, registered below when the layers load, since the engine
never imports a layer). Every other call goes straight to the op.
"""
import functools

# the functions that answer a symbolic tensor directly instead of recording a call
_ANSWERED = {
    "shape": lambda x: tuple(x.shape),
    "dtype": lambda x: x.dtype.name,
    "ndim": lambda x: len(x.shape),
}
# the functions that take no tensors, or that give back something other than tensors of the
# graph (conversions out of it, decorators): never recorded
_NOT_RECORDED = frozenset(("convert_to_numpy", "custom_gradient", "is_tensor", "vectorize",
                           "bartlett", "blackman", "hamming", "hanning", "kaiser", "empty",
                           "eye", "identity", "ones", "zeros", "tri"))

_SEQUENCES = (list, tuple)
_symbolic_types = ()  # the classes of symbolic tensors (set when mgp.layers loads)
_record = None        # record(name, fn, args, kwargs) -> symbolic outputs


def register(types, record):
    """Route op calls whose arguments include an instance of `types` to `record`."""
    global _symbolic_types, _record
    _symbolic_types, _record = tuple(types), record


def any_symbolic(args, kwargs):
    """Whether a symbolic tensor is among the arguments (or one list or tuple deep in them, as
    in `concatenate([a, b])`)."""
    if not _symbolic_types:
        return False
    for value in (*args, *kwargs.values()):
        if isinstance(value, _symbolic_types):
            return True
        if isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, _symbolic_types):
                    return True
    return False


def dispatching(name, fn):
    """`fn` that records a graph call when given a symbolic tensor, `fn` itself otherwise."""
    if name in _ANSWERED:
        answer = _ANSWERED[name]

        @functools.wraps(fn)
        def answered(x, *args, **kwargs):
            if isinstance(x, _symbolic_types):
                return answer(x)
            return fn(x, *args, **kwargs)
        answered.__wrapped_op__ = fn
        return answered

    @functools.wraps(fn)
    def op(*args, **kwargs):
        for value in args:  # any_symbolic, inlined: every eager op call passes here
            if isinstance(value, _symbolic_types) or (
                    type(value) in _SEQUENCES and any_symbolic(value, {})):
                return _record(name, fn, args, kwargs)
        if kwargs and any_symbolic((), kwargs):
            return _record(name, fn, args, kwargs)
        return fn(*args, **kwargs)
    op.__wrapped_op__ = fn
    return op


def install(namespace, families):
    """Wrap each public op in place: every function of the `namespace` module (`mgp.ops`),
    and the functions each of the `families` modules defines (`mgp.ops.nn.relu`), the same
    wrapper wherever one function is reachable under one name. The ops' calls of one another
    then dispatch too; the engine's helpers they import (`convert_to_tensor`) do not."""
    wrapped = {}
    for module in (namespace, *families):
        for name, fn in list(vars(module).items()):
            if (name.startswith("_") or name in _NOT_RECORDED or not callable(fn)
                    or isinstance(fn, type) or hasattr(fn, "__wrapped_op__")
                    or not getattr(fn, "__module__", "").startswith(("mgp.ops", "mgp.tensor"))
                    or module is not namespace and fn.__module__ != module.__name__
                    and (name, id(fn)) not in wrapped):
                continue
            key = (name, id(fn))
            if key not in wrapped:
                wrapped[key] = dispatching(name, fn)
            setattr(module, name, wrapped[key])
