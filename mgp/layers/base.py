"""The Layer base class.

Lifecycle as Keras documents it: `__init__` holds the config, `build(input_shape)` creates the
weights with `add_weight` on the first call, `call(inputs, training=False)` computes, and
`get_config()` returns what `from_config` needs to make the layer again.

What `__call__` adds around `call`, as Keras's `Layer.__call__` does:
- arrays become Tensors; the layer is built from the first argument's shape;
- `training` is passed down: a value given explicitly wins, else the value of the outermost
  layer call in progress (so a subclassed model's `self.dropout(x)` trains inside `fit`), else
  `call`'s own default;
- masks: `call` receives `mask=` (the masks attached to its inputs) when it takes one, and a
  layer that supports masking attaches `compute_mask(inputs, mask)` to its outputs as
  `_keras_mask`;
- the losses `add_loss` recorded by the previous call are cleared when an outermost call starts,
  and the `activity_regularizer`'s penalty on the outputs is added;
- on SymbolicTensors (a functional model being built) it infers the outputs instead (see
  `mgp.layers.symbolic`) and records the call.
"""
import contextlib
import functools
import inspect
import re
import warnings

import numpy as np

from mgp.layers._utils import resolved
from mgp import constraints, initializers, regularizers
from mgp.errors import InvalidArgumentError
from mgp.backend import xp
from mgp.config import unique_name  # noqa: F401  (layers, models and optimizers name by it)
from mgp.layers.symbolic import (Node, SymbolicTensor, flatten, get_mask, map_shapes,
                                 map_structure, probe, set_mask, shape_of)
from mgp.tensor import Tensor
from mgp.variables import Variable

# the names other modules import from here
_flatten, _map = flatten, map_structure

# while a model is rebuilt from a file: [bytes its weights may still take, the file's name]
# (`weight_budget`), so that a config cannot make mgp allocate more than the file can fill
_budget = []


@contextlib.contextmanager
def weight_budget(nbytes, filename):
    """Within the block, `add_weight` refuses (UnsafeFileError, before allocating) weights
    beyond `nbytes` in all: what a file holding the weights can justify."""
    _budget.append([int(nbytes), filename])
    try:
        yield
    finally:
        _budget.pop()


def _charge(shape, dtype, layer, name):
    nbytes = np.dtype(dtype).itemsize
    for d in shape:
        nbytes *= int(d)
    budget = _budget[-1]
    budget[0] -= nbytes
    if budget[0] < 0:
        from mgp.errors import UnsafeFileError
        raise UnsafeFileError(f"'{budget[1]}': layer '{layer}' asks for weight {name!r} of "
                              f"shape {shape} ({nbytes} bytes), more than the file's weights "
                              f"hold: the config describes a larger model than the file")


def snake_case(name):
    """Keras's `to_snake_case`: 'MaxPooling2D' -> 'max_pooling2d', 'Conv2D' -> 'conv2d'."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()




def _to_tensor(x):
    if isinstance(x, (Tensor, SymbolicTensor)) or x is None:
        return x
    arr = xp.asarray(x)
    return Tensor(arr, dtype=np.float32 if arr.dtype.kind in "fc" else None)


def _is_tensor_like(x):
    return isinstance(x, (Tensor, SymbolicTensor))


def _plain_flags(kwargs):
    """Whether every keyword argument is a flag (`training=True`) or None: then only `inputs`
    can hold tensors, and the structures need no walk."""
    for v in kwargs.values():  # a loop, not all(): asked three times a layer call
        if v is not None and type(v) is not bool:
            return False
    return True


@functools.lru_cache(maxsize=None)
def _signature(fn):
    """(parameter names without self, names -> default, takes **kwargs) of a function, asked
    once per function (inspect.signature made a small Dense call take 81 us instead of 13)."""
    params = list(inspect.signature(fn).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY,
                                             p.KEYWORD_ONLY)]
    defaults = {p.name: p.default for p in named if p.default is not p.empty}
    return tuple(p.name for p in named), defaults, any(p.kind == p.VAR_KEYWORD for p in params)


def _function(method):
    return getattr(method, "__func__", method)


class _CallContext:
    """The outermost layer call in progress, and the `training` value it settled on."""

    def __init__(self, entry):
        self.entry, self.training = entry, None


_context = None

# While a training, evaluation or prediction loop runs: each layer's sublayers as `_sublayers`
# found them, {id: (layer, tuple)}; None otherwise. Every step asks for them several times (the
# trainable weights, the losses, the metrics), and a step does not change them; setting any
# attribute of a layer to a layer or a container empties it.
_sublayer_cache = None


@contextlib.contextmanager
def cached_structure():
    """Within it, each layer's sublayers are found once (until a layer attribute is set to a
    layer or a container). The loops of `fit`, `evaluate` and `predict` run in it."""
    global _sublayer_cache
    outermost = _sublayer_cache is None
    if outermost:
        _sublayer_cache = {}
    try:
        yield
    finally:
        if outermost:
            _sublayer_cache = None


class Layer:
    """Base class of every layer (and of Model).

    Subclasses override `build(input_shape)` to create weights with `add_weight`, `call(inputs)`
    (optionally with `training` and `mask`) to compute, `compute_output_shape(input_shape)` so
    that functional models know the output's shape, and `get_config()` to add their own
    arguments.

    Args:
        name: a unique name; by default the snake-case class name, numbered (`dense_1`).
        trainable: whether the layer's weights are updated by training.
        dtype: the weights' dtype (float32); a Keras dtype policy config is read as its name.
        activity_regularizer: a regularizer applied to the outputs of each call (its penalty,
            divided by the batch size, goes into `losses`).
        autocast: accepted as Keras has it (mgp computes in the weights' dtype).
        input_shape / input_dim: Keras 2 style shape of one sample for the first layer of a
            Sequential.
    """

    # what the inputs must look like (an InputSpec, or a list for several inputs), checked at
    # each call before the layer builds or runs; None: the layer checks its inputs itself
    input_spec = None

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None, autocast=True,
                 name=None, **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        if "input_dim" in kwargs:
            input_shape = (kwargs.pop("input_dim"),)
        if "batch_input_shape" in kwargs:  # configs of earlier mgp versions
            input_shape = tuple(kwargs.pop("batch_input_shape"))[1:]
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments "
                            f"{sorted(kwargs)}")
        if not isinstance(trainable, (bool, np.bool_)):
            raise ValueError(f"{type(self).__name__}: trainable must be a bool, got "
                             f"{trainable!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        try:
            self.dtype = _dtype_of(dtype)
        except TypeError as e:
            raise InvalidArgumentError(f"{type(self).__name__}: dtype={dtype!r} is not a dtype "
                                       f"({e})") from None
        self.autocast = bool(autocast)
        self.activity_regularizer = resolved(
            self, "activity_regularizer", activity_regularizer, regularizers.get)
        self.built = False
        self._own_weights = []
        self._losses = []
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self._build_shapes_dict = None
        self._outbound = []  # symbolic outputs made by this layer, in call order

    # ---- weights -------------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none",
                   overwrite_with_gradient=False, name=None):
        """Create a weight and track it, with Keras 3's signature.

        Args:
            shape: the weight's shape, fully known; () (a scalar) by default.
            initializer: a name, config or callable `(shape, dtype) -> array`; by default
                'glorot_uniform' for floating weights and 'zeros' otherwise.
            dtype: the weight's dtype (the layer's by default).
            trainable: whether training updates it (BatchNormalization's moving statistics
                are not trainable).
            autocast: accepted as Keras has it.
            regularizer: a regularizer whose penalty on the weight goes into `losses`.
            constraint: a projection the optimizer applies after each update.
            aggregation: 'none', 'mean', 'sum' or 'only_first_replica' (for data-parallel
                training).
            name: the weight's name ('kernel'); its `path` is '<layer name>/<name>'.
        Returns:
            the `Variable`.
        """
        if isinstance(shape, str):
            raise ValueError(f"{type(self).__name__}.add_weight: name must be passed by "
                             f"keyword; got add_weight({shape!r}, ...). Use "
                             f"add_weight(shape=..., name={shape!r})")
        shape = () if shape is None else tuple(shape)
        if any(d is None for d in shape):
            raise ValueError(f"layer '{self.name}': add_weight needs a fully known shape, got "
                             f"{shape} for weight {name!r}")
        if aggregation not in (None, "none", "mean", "sum", "only_first_replica"):
            raise ValueError(f"layer '{self.name}': aggregation must be one of 'none', 'mean', "
                             f"'sum', 'only_first_replica', got {aggregation!r}")
        if overwrite_with_gradient:
            raise NotImplementedError(f"layer '{self.name}': overwrite_with_gradient=True (for "
                                      f"float8 training) is not supported by mgp")
        dtype = np.dtype(dtype) if dtype is not None else self.dtype
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        if _budget:
            _charge(shape, dtype, self.name, name)
        value = resolved(self, "initializer", initializer, initializers.get)(shape, dtype=dtype)
        name = name or f"variable_{len(self._own_weights)}"
        var = Variable(value, name=name, trainable=trainable and self._trainable, dtype=dtype,
                       path=f"{self.name}/{name}")
        var.trainable = bool(trainable)  # the weight's own role; the layer's flag is on top
        var.regularizer = resolved(self, "regularizer", regularizer, regularizers.get)
        var.constraint = resolved(self, "constraint", constraint, constraints.get)
        var.aggregation = aggregation or "none"
        self._own_weights.append(var)
        return var

    # the base class's own bookkeeping, which never holds layers (skipped by the walk below,
    # which every step takes several times)
    _NOT_SUBLAYERS = frozenset(("_own_weights", "_losses", "_outbound", "_build_shapes_dict",
                                "_input_shape_arg", "_compile_config", "inputs", "outputs",
                                "_inputs_structure", "_outputs_structure", "_nodes",
                                "_functional_layers"))

    def __setattr__(self, name, value):
        if _sublayer_cache and (isinstance(value, Layer) or type(value) in (list, tuple, dict)):
            _sublayer_cache.clear()  # the structure may have changed
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if _sublayer_cache:
            _sublayer_cache.clear()
        object.__delattr__(self, name)

    def _sublayers(self):
        """Layers held as attributes (directly or in lists/tuples/dicts), in attribute order."""
        cache = _sublayer_cache
        if cache is not None:
            entry = cache.get(id(self))
            if entry is not None and entry[0] is self:
                return list(entry[1])
        found, seen = [], set()
        skip = self._NOT_SUBLAYERS
        for key, value in vars(self).items():
            kind = type(value)
            if kind is list or kind is tuple or kind is dict:
                if key in skip:
                    continue
                items = flatten(value)
            elif isinstance(value, Layer):
                items = (value,)
            else:
                continue  # most attributes: numbers, strings, arrays, functions, Variables
            for item in items:
                if isinstance(item, Layer) and item is not self and id(item) not in seen:
                    seen.add(id(item))
                    found.append(item)
        if cache is not None:
            cache[id(self)] = (self, tuple(found))
        return found

    def _flatten_layers(self, include_self=True):
        """This layer and every layer below it, each once, outer ones first."""
        out, seen, queue = [], {id(self)}, list(self._sublayers())
        while queue:
            layer = queue.pop(0)
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            queue.extend(layer._sublayers())
        return ([self] if include_self else []) + out

    def _all_weights(self):
        out, seen = [], set()
        for w in self._own_weights + [w for l in self._sublayers() for w in l._all_weights()]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def weights(self):
        """All weights in Keras 3's order: this layer's own (trainable first), then each
        sublayer's `weights` in turn (so a model lists them layer by layer)."""
        return _unique([w for w in self._own_weights if w.trainable] +
                       [w for w in self._own_weights if not w.trainable] +
                       [w for l in self._sublayers() for w in l.weights])

    @property
    def trainable_weights(self):
        """The weights training updates, in `weights` order (none when not trainable)."""
        if not self.trainable:
            return []
        return _unique([w for w in self._own_weights if w.trainable] +
                       [w for l in self._sublayers() for w in l.trainable_weights])

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    # Keras 3 names the same lists "variables" too
    variables = property(lambda self: self.weights)
    trainable_variables = property(lambda self: self.trainable_weights)
    non_trainable_variables = property(lambda self: self.non_trainable_weights)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._sublayers():
            layer.trainable = value
        for w in self._own_weights:
            w.requires_grad = bool(value) and w.trainable

    def zero_grad(self):
        """Forget the gradients of every weight (`.grad = None`, as torch's `zero_grad`)."""
        for w in self._all_weights():
            w.grad = None

    def count_params(self):
        if not self.built:
            raise ValueError(f"layer '{self.name}' is not built yet; call it on data first")
        return int(sum(w.size for w in self.weights))

    def get_weights(self):
        """The weights' values as NumPy arrays, in `weights` order."""
        from mgp.backend import to_numpy
        return [to_numpy(w.data).copy() for w in self.weights]

    def set_weights(self, values):
        """Set the weights from a list of arrays, in `weights` order; checks every shape first."""
        weights = self.weights
        if len(values) != len(weights):
            raise ValueError(f"layer '{self.name}' has {len(weights)} weights, got "
                             f"{len(values)} arrays")
        for w, v in zip(weights, values):
            if tuple(np.shape(v)) != w.shape:
                raise ValueError(f"layer '{self.name}': weight '{w.name}' has shape {w.shape}, "
                                 f"got {tuple(np.shape(v))}")
        for w, v in zip(weights, values):
            w.assign(v)

    # ---- losses --------------------------------------------------------------------------------
    def add_loss(self, loss):
        """Record a scalar loss (a Tensor, or several) to be added to the training loss; call
        it from `call`. The losses of a call are cleared when the next outermost call starts."""
        for x in flatten(loss):
            if not isinstance(x, Tensor):
                if isinstance(x, SymbolicTensor):
                    raise ValueError(f"layer '{self.name}': add_loss() needs a computed "
                                     f"Tensor, got a symbolic one; call it from call()")
                x = Tensor(np.asarray(x, dtype=np.float32))
            self._losses.append(x)

    @property
    def losses(self):
        """The losses of the last call (`add_loss`, activity regularizers) of this layer and
        the layers below it, then the penalties of the regularized trainable weights (computed
        from their current values, so they can be differentiated)."""
        added, penalties, seen = [], [], set()

        def walk(layer, trainable):  # one pass: each layer's losses, and its weights' penalties
            if id(layer) in seen:
                return
            seen.add(id(layer))
            added.extend(layer._losses)
            trainable = trainable and layer.trainable
            if trainable:
                penalties.extend(w.regularizer(w) for w in layer._own_weights
                                 if w.trainable and w.regularizer is not None)
            for sub in layer._sublayers():
                walk(sub, trainable)
        walk(self, True)
        return added + penalties

    @property
    def metrics(self):
        """The metrics this layer holds as attributes (a `Mean` it updates in `call`), then
        those of the layers below it (Keras's `Layer.metrics`); a model's `fit` reports and
        resets them with its own."""
        found, seen = [], set()
        for layer in [self] + [sub for sub in self._flatten_layers() if sub is not self]:
            for metric in layer._own_metrics():
                if id(metric) not in seen:
                    seen.add(id(metric))
                    found.append(metric)
        return found

    @property
    def metrics_variables(self):
        """The variables of `metrics`."""
        return [v for metric in self.metrics for v in metric.variables]

    def _own_metrics(self):
        """The Metric objects held as attributes (directly or in lists, tuples and dicts)."""
        from mgp.metrics import Metric  # the metrics sit above the layers
        found = []
        for name, value in vars(self).items():
            if name in ("_loss_tracker", "_compile_metrics", "_compile_loss", "_compile_config"):
                continue  # a model's compiled metrics: its own `metrics` lists them
            if isinstance(value, Metric):
                found.append(value)
            elif type(value) in (list, tuple, dict):
                found.extend(v for v in flatten(value) if isinstance(v, Metric))
        return found

    def _clear_losses(self):
        for layer in self._flatten_layers():
            layer._losses.clear()

    # ---- masks ---------------------------------------------------------------------------------
    @property
    def supports_masking(self):
        """Whether the layer passes on (or computes) masks: set it, or override
        `compute_mask` (Keras's rule)."""
        value = self.__dict__.get("_supports_masking")
        if value is None:
            return _function(self.compute_mask) is not Layer.compute_mask
        return value

    @supports_masking.setter
    def supports_masking(self, value):
        self._supports_masking = bool(value)

    def compute_mask(self, inputs, previous_mask):
        """The mask of the outputs given the inputs and their mask: the same mask by default."""
        return previous_mask

    # ---- lifecycle -----------------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def _call_arguments(self, inputs, args, kwargs):
        """The call's arguments by parameter name (the first positional one is `inputs`)."""
        names = _signature(_function(self.call))[0]
        bound = dict(zip(names, (inputs,) + args))
        bound.update(kwargs)
        return bound

    def _tensor_arguments(self, inputs, args, kwargs):
        """name -> argument for each argument holding tensors (masks and catch-alls aside)."""
        if not args and (_plain_flags(kwargs) or not any(
                _is_tensor_like(v) for v in flatten(list(kwargs.values())))):
            return {"inputs": inputs}  # the common case: one tensor argument
        bound = self._call_arguments(inputs, args, kwargs)
        return {k: v for k, v in bound.items() if k not in ("mask", "training")
                and any(_is_tensor_like(t) for t in flatten(v))}

    def _shape_arguments(self, fn, tensor_args):
        """Arguments for `build` or `compute_output_shape`: one parameter takes the first
        argument's shape; several are matched by name (`query_shape` <- `query`), as Keras."""
        names = _signature(_function(fn))[0]
        shapes = {k: map_structure(shape_of, v) for k, v in tensor_args.items()}
        if len(names) == 1:
            return {names[0]: next(iter(shapes.values()), None)}
        out = {}
        for name in names:
            if name.endswith("_shape") and name[:-len("_shape")] in shapes:
                out[name] = shapes[name[:-len("_shape")]]
        if not out:
            raise ValueError(f"{type(self).__name__}.{fn.__name__}() takes {list(names)}, "
                             f"which do not name the call's tensor arguments "
                             f"{list(tensor_args)} as '<argument>_shape'")
        return out

    def _maybe_build(self, tensor_args):
        if self.built:
            return
        shapes = self._shape_arguments(self.build, tensor_args)
        self.build(**shapes)
        self.built = True
        self._build_shapes_dict = shapes

    def _prepare_call(self, inputs, args, kwargs):
        """Resolve `training` and fill in the masks as Keras's `__call__` does; returns the
        kwargs for `call` and the mask of the first argument (for `compute_mask`)."""
        names, defaults, takes_kwargs = _signature(_function(self.call))
        kwargs = dict(kwargs)
        given_mask = None
        if "mask" in kwargs and "mask" not in names and not takes_kwargs:
            given_mask = kwargs.pop("mask")  # for compute_mask only (a Keras config records it)
        if "training" in kwargs:
            training = kwargs.pop("training")
        elif _context.training is not None:
            training = _context.training
        else:
            training = defaults.get("training")
        if training is not None:
            _context.training = training  # the layers called inside this one inherit it
            if "training" in names:
                kwargs["training"] = training
        tensors = self._tensor_arguments(inputs, args, kwargs)
        if len(tensors) == 1:
            if "mask" in names and kwargs.get("mask") is None:
                kwargs["mask"] = map_structure(get_mask, next(iter(tensors.values())))
        else:  # several tensor arguments: `query_mask` for `query`, as Keras fills them in
            for key, value in tensors.items():
                if f"{key}_mask" in names and kwargs.get(f"{key}_mask") is None:
                    kwargs[f"{key}_mask"] = map_structure(get_mask, value)
        if kwargs.get("mask") is not None or given_mask is not None:
            previous_mask = kwargs.get("mask", given_mask)
        else:
            previous_mask = map_structure(get_mask, inputs)
        return kwargs, previous_mask

    def __call__(self, inputs=None, *args, **kwargs):
        if inputs is None and not args:  # the first argument by its name: layer(query=q, ...)
            first = _signature(_function(self.call))[0][:1]
            if not first or first[0] not in kwargs:
                raise TypeError(f"layer '{self.name}' was called without inputs: pass them "
                                f"first, or as {first[0] if first else 'inputs'}=...")
            inputs = kwargs.pop(first[0])
        eager = type(inputs) is Tensor and not args and _plain_flags(kwargs)  # the usual call
        if not eager and any(isinstance(t, SymbolicTensor) for t in flatten((inputs, args,
                                                                              kwargs))):
            return self._call_symbolic(inputs, *args, **kwargs)
        global _context
        inputs = map_structure(_to_tensor, inputs)
        args = tuple(map_structure(_to_tensor, a) if isinstance(a, np.ndarray) else a
                     for a in args)
        entered = _context is None
        if entered:
            _context = _CallContext(self)
            self._clear_losses()
        try:
            self._check_input_spec(inputs)
            self._maybe_build(self._tensor_arguments(inputs, args, kwargs))
            kwargs, previous_mask = self._prepare_call(inputs, args, kwargs)
            outputs = self.call(inputs, *args, **kwargs)
            if self.activity_regularizer is not None:
                self._add_activity_loss(outputs)
            self._attach_masks(inputs, outputs, previous_mask)
        finally:
            if entered:
                _context = None
        return outputs

    def _check_input_spec(self, inputs):
        """Check `inputs` against `self.input_spec` (an `InputSpec` or a list of them, set by
        the layers that declare one), before the layer builds or runs, as Keras does."""
        if self.input_spec is not None:
            from mgp.layers.input_spec import assert_input_compatibility
            assert_input_compatibility(self.input_spec, inputs, self.name)

    def _add_activity_loss(self, outputs):
        for out in flatten(outputs):
            if isinstance(out, Tensor):
                loss = self.activity_regularizer(out)
                if out.ndim > 0 and out.shape[0]:  # per sample, as Keras divides it
                    loss = loss / out.shape[0]
                self.add_loss(loss)

    def _attach_masks(self, inputs, outputs, previous_mask):
        """Attach `compute_mask`'s result to the outputs that have no mask yet."""
        if previous_mask is None and _function(self.compute_mask) is Layer.compute_mask:
            return  # no mask in, and the default compute_mask passes that on: nothing to do
        if not self.supports_masking:
            if any(m is not None for m in flatten(previous_mask)) and not _is_model(self):
                warnings.warn(f"layer '{self.name}' ({type(self).__name__}) was given an input "
                              f"with a mask, but does not support masking: the layers after "
                              f"it will not see the mask", stacklevel=3)
            return
        flat_outputs = flatten(outputs)
        if all(get_mask(o) is not None for o in flat_outputs):
            return
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        for out, mask in zip(flat_outputs, flatten(masks)):
            if get_mask(out) is None and mask is not None:
                set_mask(out, _to_tensor(mask) if not isinstance(mask, SymbolicTensor) else mask)

    # ---- symbolic calls (functional models) ----------------------------------------------------
    def _call_symbolic(self, inputs, *args, **kwargs):
        """Record a call on placeholders: infer the outputs and remember which call made them."""
        outputs = self.symbolic_outputs(inputs, *args, **kwargs)
        node = Node(self, (inputs,) + args, kwargs)
        node.outputs = flatten(outputs)
        for i, sym in enumerate(node.outputs):
            sym.node, sym.index = node, i
        self._outbound.extend(node.outputs)
        return outputs

    def symbolic_outputs(self, inputs, *args, **kwargs):
        """The outputs a call on SymbolicTensors would give (shapes, dtypes, masks), without
        recording the call. Builds the layer."""
        global _context
        entered = _context is None
        if entered:
            _context = _CallContext(self)
        try:
            self._check_input_spec(inputs)
            self._maybe_build(self._tensor_arguments(inputs, args, kwargs))
            kwargs, previous_mask = self._prepare_call(inputs, args, kwargs)
            outputs = self.compute_output_spec(inputs, *args, **kwargs)
            self._attach_symbolic_masks(inputs, outputs, previous_mask)
        finally:
            if entered:
                _context = None
        return outputs

    def _attach_symbolic_masks(self, inputs, outputs, previous_mask):
        if not self.supports_masking:
            self._attach_masks(inputs, outputs, previous_mask)  # warns when a mask is lost
            return
        if _function(self.compute_mask) is Layer.compute_mask:
            masks = previous_mask  # passed on as it is
        else:
            masks = self._symbolic_mask(inputs, previous_mask)
        for out, mask in zip(flatten(outputs), flatten(masks)):
            if out._keras_mask is None and isinstance(mask, SymbolicTensor):
                out._keras_mask = SymbolicTensor(mask.shape, mask.dtype)

    def _symbolic_mask(self, inputs, previous_mask):
        """A layer's own `compute_mask` on placeholders: asked directly first (most return None
        or pass a mask on); one that computes with ops is run on probes instead."""
        try:
            masks = self.compute_mask(inputs, previous_mask)
        except Exception:
            masks = Tensor  # anything that is not a mask: probe below
        if all(m is None or isinstance(m, SymbolicTensor) for m in flatten(masks)):
            return masks
        return probe(lambda x, m: _mask_tensors(self.compute_mask(x, m)),
                     (inputs, previous_mask), {}, self._flatten_layers())

    def compute_output_spec(self, inputs, *args, **kwargs):
        """SymbolicTensors for the outputs: from `compute_output_shape` when the layer has one,
        else by running `call` on probes (see `mgp.layers.symbolic`)."""
        if _function(self.compute_output_shape) is not Layer.compute_output_shape:
            tensors = self._tensor_arguments(inputs, args, kwargs)
            shapes = self.compute_output_shape(
                **self._shape_arguments(self.compute_output_shape, tensors))
            dtype = self._output_dtype(inputs)
            return map_shapes(lambda s: SymbolicTensor(s, dtype), shapes)
        return probe(lambda *a, **k: self.call(*a, **k), (inputs,) + args, kwargs,
                     self._flatten_layers())

    def _output_dtype(self, inputs):
        """The dtype of the outputs: the layer's (floating) dtype, as Keras's compute dtype."""
        return self.dtype

    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape` (batch axis first, None where unknown). This
        default runs `call` on probes; layers override it with the arithmetic."""
        out = probe(lambda *a: self.call(*a),
                    (map_shapes(lambda s: SymbolicTensor(s, self.dtype), input_shape),), {},
                    self._flatten_layers())
        return map_structure(lambda t: t.shape, out)

    def _first_node(self, what):
        """The first call recorded on symbolic inputs (Keras's `input`/`output` read that one)."""
        if not self._outbound:
            raise AttributeError(f"layer '{self.name}' has never been called on a symbolic "
                                 f"input, so it has no {what}")
        return self._outbound[0].node

    @property
    def output(self):
        """The symbolic output(s) of this layer's first call in a functional model: the tensor,
        or the flat list when that call made several (an RNN with `return_state`)."""
        outputs = self._first_node("output").outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

    @property
    def input(self):
        """The symbolic tensor(s) the first call read (keyword ones such as `initial_state`
        included, as in Keras): the tensor, or the flat list when there are several."""
        inputs = self._first_node("input").parents
        return inputs[0] if len(inputs) == 1 else inputs

    # ---- config --------------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy",
                            "config": {"name": self.dtype.name}, "registered_name": None}}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        """The input shapes the layer was built for (Keras's `build_config`), or None."""
        shapes = self._build_shapes_dict
        if shapes is None:
            return None
        if len(shapes) == 1:
            return {"input_shape": _jsonable(next(iter(shapes.values())))}
        return {"shapes_dict": _jsonable(shapes)}

    def build_from_config(self, config):
        """Build from `get_build_config()`'s result (called when a model is loaded)."""
        if not config or self.built:
            return
        if not isinstance(config, dict) or not ("input_shape" in config or
                                                isinstance(config.get("shapes_dict"), dict)):
            raise ValueError(f"layer '{self.name}': build_config {_short(config)} has neither "
                             f"'input_shape' nor a 'shapes_dict'")
        if "input_shape" in config:
            shape = config["input_shape"]
            shapes = {_signature(_function(self.build))[0][0]: _shape_tuple(shape)}
        else:
            shapes = {k: _shape_tuple(v) for k, v in config["shapes_dict"].items()}
        self.build(**shapes)
        self.built = True
        self._build_shapes_dict = shapes

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _unique(weights):
    seen, out = set(), []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


def _dtype_of(dtype):
    """A NumPy dtype from None (float32), a name, or Keras's DTypePolicy config."""
    if isinstance(dtype, dict):  # {"class_name": "DTypePolicy", "config": {"name": ...}}
        inner = dtype.get("config")
        dtype = inner.get("name") if isinstance(inner, dict) else None
        if not isinstance(dtype, str):
            raise ValueError(f"dtype {_short(inner)} is not a DTypePolicy config (expected "
                             f"{{'config': {{'name': 'float32'}}}})")
    name = getattr(dtype, "name", dtype)
    if name is not None and not isinstance(name, str):
        raise ValueError(f"dtype must be a name such as 'float32', got {_short(name)}")
    if isinstance(name, str) and name.startswith("mixed_"):
        raise NotImplementedError(f"dtype policy {name!r} (mixed precision) is not supported "
                                  f"by mgp")
    if name == "string":  # Keras's name for text (the inputs of the text preprocessing layers)
        return np.dtype(str)
    return np.dtype(name or "float32")


def _jsonable(shapes):
    if shapes is None or isinstance(shapes, (int, np.integer)):
        return None if shapes is None else int(shapes)
    if isinstance(shapes, dict):
        return {k: _jsonable(v) for k, v in shapes.items()}
    return [_jsonable(s) for s in shapes]


def _shape_tuple(value):
    """A JSON shape (lists) back as tuples: one shape, or a list / dict of them."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _shape_tuple(v) for k, v in value.items()}
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{_short(value)} is not a shape (a list of sizes)")
    if all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
           for d in value):
        return tuple(value)
    if any(not isinstance(d, (list, tuple, dict)) and d is not None for d in value):
        raise ValueError(f"{_short(value)} is not a shape (sizes are integers >= 0 or None)")
    return [_shape_tuple(v) for v in value]


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _mask_tensors(masks):
    """compute_mask's result with any arrays made Tensors (so a probe can read their shapes)."""
    return map_structure(lambda m: m if m is None or isinstance(m, Tensor) else
                         Tensor(xp.asarray(m)), masks)


def _is_model(layer):
    from mgp.models.model import Model
    return isinstance(layer, Model)
