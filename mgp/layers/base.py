"""The Layer base class, and the symbolic tensors the functional API traces with.

Lifecycle as Keras documents it: `__init__` holds the config, `build(input_shape)` creates the
weights with `add_weight` on the first call, `call(inputs, training=False)` computes, and
`get_config()` returns what `from_config` needs to make the layer again.
"""
import functools
import inspect
import re

import numpy as np

from mgp import initializers
from mgp.backend import xp
from mgp.config import unique_name  # noqa: F401  (layers, models and optimizers name by it)
from mgp.tensor import Tensor, no_grad
from mgp.variables import Variable


def snake_case(name):
    """Keras's `to_snake_case`: 'MaxPooling2D' -> 'max_pooling2d', 'Conv2D' -> 'conv2d'."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class SymbolicTensor:
    """A placeholder for a tensor in a functional model: a shape (None for the batch axis) and
    the layer call that produces it.

    Attributes:
        shape: tuple, batch axis first (None).
        layer: the layer whose call made it. inputs: the symbolic inputs of that call.
    """

    def __init__(self, shape, dtype="float32", layer=None, inputs=(), call_kwargs=None, index=0):
        self.index = index  # position among the flattened outputs of the call that made it
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.layer = layer
        self.inputs = inputs
        self.call_kwargs = call_kwargs or {}

    ndim = property(lambda self: len(self.shape))

    def __repr__(self):
        name = self.layer.name if self.layer is not None else "?"
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype} from '{name}'>"


def _flatten(structure):
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _flatten(item)]
    if isinstance(structure, dict):
        return [leaf for item in structure.values() for leaf in _flatten(item)]
    return [structure]


def _map(fn, structure):
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: _map(fn, v) for k, v in structure.items()}
    return fn(structure)


def _to_tensor(x):
    if isinstance(x, Tensor):
        return x
    arr = xp.asarray(x)
    return Tensor(arr, dtype=np.float32 if arr.dtype.kind in "fc" else None)


def _shape_of(x):
    return tuple(x.shape)


@functools.lru_cache(maxsize=None)
def _accepts_training(call):
    """Whether a `call` function takes `training`: inspect.signature, asked once per function
    (it made a small Dense call take 81 us instead of 13)."""
    return "training" in inspect.signature(call).parameters


class Layer:
    """Base class of every layer (and of Model).

    Subclasses override `build(input_shape)` to create weights with `add_weight`, `call(inputs)`
    (optionally with `training`) to compute, and `get_config()` to add their own arguments.

    Args:
        name: a unique name; by default the snake-case class name, numbered (`dense_1`).
        trainable: whether the layer's weights are updated by training.
        dtype: the weights' dtype (float32).
        input_shape: Keras 2 style shape of one sample for the first layer of a Sequential.
    """

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 activity_regularizer=None, **kwargs):
        if activity_regularizer is not None:
            raise NotImplementedError(f"{type(self).__name__}: activity_regularizer is not "
                                      f"supported by mgp yet; got {activity_regularizer!r}")
        if "batch_input_shape" in kwargs:
            input_shape = tuple(kwargs.pop("batch_input_shape"))[1:]
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments "
                            f"{sorted(kwargs)}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = trainable
        self.dtype = np.dtype(dtype or "float32")
        self.activity_regularizer = activity_regularizer
        self.built = False
        self._own_weights = []
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self._build_shapes = None
        self._outbound = []  # symbolic outputs made by this layer, in call order

    # ---- weights -------------------------------------------------------------------------------
    def add_weight(self, shape, initializer="glorot_uniform", trainable=True, name=None,
                   dtype=None, regularizer=None, constraint=None):
        """Create a weight of `shape` with `initializer` (a string or callable) and track it."""
        if regularizer is not None or constraint is not None:
            raise NotImplementedError(f"{type(self).__name__}: weight regularizers and "
                                      f"constraints are not supported by mgp yet; got "
                                      f"{regularizer!r}, {constraint!r} for weight {name!r}")
        init = initializers.get(initializer)
        value = init(tuple(shape), dtype=dtype or self.dtype)
        var = Variable(value, name=name or f"variable_{len(self._own_weights)}",
                       trainable=trainable and self._trainable, dtype=dtype or self.dtype)
        var.trainable = trainable  # the weight's own role; the layer's flag is applied on top
        self._own_weights.append(var)
        return var

    def _sublayers(self):
        """Layers held as attributes (directly or in lists/tuples/dicts), in attribute order."""
        found, seen = [], set()
        for value in vars(self).values():
            if not isinstance(value, (Layer, list, tuple, dict)):
                continue  # most attributes: numbers, strings, arrays (a third of the walk's time)
            for item in _flatten(value):
                if isinstance(item, Layer) and item is not self and id(item) not in seen:
                    seen.add(id(item))
                    found.append(item)
        return found

    def _all_weights(self):
        out, seen = [], set()
        for w in self._own_weights + [w for l in self._sublayers() for w in l._all_weights()]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def weights(self):
        """All weights: trainable first, then non-trainable (as Keras orders them)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        own = [w for w in self._own_weights if w.trainable]
        return own + [w for l in self._sublayers() for w in l.trainable_weights
                      if all(w is not o for o in own)]

    @property
    def non_trainable_weights(self):
        trainable = self.trainable_weights
        return [w for w in self._all_weights() if all(w is not t for t in trainable)]

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

    # ---- lifecycle -----------------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def _maybe_build(self, shapes):
        if not self.built:
            self.build(shapes[0] if len(shapes) == 1 else shapes)
            self.built = True
            self._build_shapes = shapes

    def _call_accepts_training(self):
        return _accepts_training(getattr(self.call, "__func__", self.call))

    def __call__(self, inputs, *args, **kwargs):
        if any(isinstance(t, SymbolicTensor) for t in _flatten(inputs)):
            return self._call_symbolic(inputs, *args, **kwargs)
        inputs = _map(_to_tensor, inputs)
        self._maybe_build([_shape_of(t) for t in _flatten(inputs)])
        if "training" in kwargs and not self._call_accepts_training():
            kwargs.pop("training")
        return self.call(inputs, *args, **kwargs)

    def _call_symbolic(self, inputs, *args, **kwargs):
        """Trace a call on placeholders: run the layer on one zero sample to learn its output."""
        flat = _flatten(inputs)
        shapes = [t.shape for t in flat]
        self._maybe_build(shapes)
        sample = _map(lambda t: Tensor(xp.zeros((1,) + t.shape[1:], dtype=t.dtype)), inputs)
        with no_grad():
            kw = dict(kwargs)
            if "training" in kw and not self._call_accepts_training():
                kw.pop("training")
            out = self.call(sample, *args, **kw)
        outputs = _map(lambda o: SymbolicTensor((None,) + o.shape[1:], o.dtype, self, inputs,
                                                kwargs), out)
        for i, sym in enumerate(_flatten(outputs)):
            sym.index = i
        self._outbound.extend(_flatten(outputs))
        return outputs

    def compute_output_shape(self, input_shape):
        """Output shape for `input_shape` (batch axis None), found by tracing one zero sample."""
        out = self._call_symbolic(SymbolicTensor(input_shape))
        self._outbound.pop()
        return out.shape

    @property
    def output(self):
        """The symbolic output of this layer's (last) call in a functional model."""
        if not self._outbound:
            raise AttributeError(f"layer '{self.name}' has never been called on a symbolic "
                                 f"input, so it has no output")
        return self._outbound[-1]

    @property
    def input(self):
        out = self.output
        return out.inputs

    # ---- config --------------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self._build_shapes is not None and len(self._build_shapes) == 1:
            config["batch_input_shape"] = [None] + list(self._build_shapes[0][1:])
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
