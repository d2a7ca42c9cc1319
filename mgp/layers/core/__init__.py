"""Core layers: Dense, Activation, Lambda and Identity here; EinsumDense, Embedding,
ReversibleEmbedding and Masking in their own files."""
import inspect

import numpy as np

from mgp import activations, constraints, initializers, ops, regularizers
from mgp.layers._utils import describe, floating, resolved, serialize_initializer
from mgp.layers.base import Layer


class Dense(Layer):
    """A densely connected layer: `activation(inputs @ kernel + bias)`.

    Applied on the last axis: inputs (batch, ..., in_features) give (batch, ..., units).

    Args:
        units: number of output features.
        activation: name ('relu'), callable, or None (linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: names, configs or initializers
            (Keras's defaults: 'glorot_uniform', 'zeros').
        kernel_regularizer, bias_regularizer: penalties on the weights (`mgp.regularizers`),
            added to the training loss. activity_regularizer: a penalty on the outputs.
        kernel_constraint, bias_constraint: projections applied after each optimizer update
            (`mgp.constraints`).

    Weights: `kernel` (in_features, units) and `bias` (units,), float32. Masks pass through.

    Example:
        >>> layer = Dense(10, activation="softmax")
        >>> layer(np.zeros((32, 1600))).shape
        (32, 10)
        >>> layer.count_params()
        16010
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = resolved(self, "activation", activation, activations.get)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = resolved(
            self, "kernel_initializer", kernel_initializer, initializers.get)
        self.bias_initializer = resolved(
            self, "bias_initializer", bias_initializer, initializers.get)
        self.kernel_regularizer = resolved(
            self, "kernel_regularizer", kernel_regularizer, regularizers.get)
        self.bias_regularizer = resolved(
            self, "bias_regularizer", bias_regularizer, regularizers.get)
        self.kernel_constraint = resolved(
            self, "kernel_constraint", kernel_constraint, constraints.get)
        self.bias_constraint = resolved(self, "bias_constraint", bias_constraint, constraints.get)
        self.supports_masking = True
        self.kernel = self.bias = None

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"{describe(self)} needs inputs of shape (batch, ..., features) with "
                             f"a known last dimension, got {tuple(input_shape)}")
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer=self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                        name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def call(self, inputs, training=False):
        x = floating(inputs, self.dtype)
        n_in = self.kernel.shape[0]
        if x.ndim < 2 or x.shape[-1] != n_in:
            raise ValueError(f"{describe(self)} expected inputs with last dimension {n_in}, got "
                             f"{tuple(x.shape)}")
        if x.ndim == 2 and x.dtype == self.kernel.dtype:
            # one op for the product, the bias and a relu (mgp.ops.nn.linear): the same results
            relu = self.activation is activations.relu
            y = ops.nn.linear(x, self.kernel, self.bias, "relu" if relu else None)
            return y if relu else self.activation(y)
        if x.ndim == 2:
            y = ops.matmul(x, self.kernel)
        else:  # one GEMM over all leading axes, not a batched matmul per sample
            y = ops.matmul(ops.reshape(x, (-1, n_in)), self.kernel)
            y = ops.reshape(y, x.shape[:-1] + (self.units,))
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}

    def __repr__(self):
        return f"<Dense name={self.name}, units={self.units}, " \
               f"activation={getattr(self.activation, '__name__', '?')}, built={self.built}>"


class Activation(Layer):
    """Applies an activation function.

    Args:
        activation: a name ('relu', 'softmax', ...) or a callable.

    Masks pass through.

    Example:
        >>> Activation("relu")(np.array([[-1.0, 2.0]])).data
        array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = resolved(self, "activation", activation, activations.get)
        self.supports_masking = True

    def call(self, inputs, training=False):
        return self.activation(floating(inputs, self.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Lambda(Layer):
    """Wraps a function of the inputs as a layer: `Lambda(lambda x: x ** 2)`.

    Args:
        function: `function(inputs, **arguments)`; it is also given `mask=` and `training=`
            when it takes them.
        output_shape: the output's shape without the batch axis (a tuple, or a list of them),
            or a function `input_shape -> output_shape`; None: found by running the function
            on probes (see `mgp.layers.symbolic`).
        mask: the output mask: a function `(inputs, mask) -> mask`, or a fixed mask; None: the
            layer does not support masking.
        arguments: keyword arguments passed to `function`.

    Saving: the function is saved by its name (as Keras saves a named function), and found
    again among mgp's activations and ops, the functions registered with
    `mgp.saving.register_keras_serializable`, or `custom_objects`. A Python lambda has no name,
    so a model holding one cannot be saved (`clone_model` still copies it); and loading never
    runs code from a file (a Keras file holding a lambda's bytecode is refused, naming the
    layer).
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got {function!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        if isinstance(output_shape, list) and all(
                d is None or isinstance(d, (int, np.integer)) for d in output_shape):
            output_shape = tuple(output_shape)
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # a builtin without a signature
            params = {}
        self._takes_mask, self._takes_training = "mask" in params, "training" in params
        self.built = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._takes_mask:
            kwargs["mask"] = mask
        if self._takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_spec(self, inputs, *args, **kwargs):
        if self._output_shape is None:  # run the function on probes
            from mgp.layers.symbolic import probe
            return probe(lambda x, **kw: self.call(x, **kw), (inputs,), kwargs, [self])
        return super().compute_output_spec(inputs, *args, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        from mgp.layers.symbolic import flatten, is_shape, map_shapes
        batch = next(iter(flatten(input_shape)), None) if not is_shape(input_shape) else \
            (input_shape[0] if input_shape else None)
        return map_shapes(lambda s: (batch,) + tuple(s), self._output_shape)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        # the functions themselves: saving writes each by its name (and refuses a lambda)
        config = {**super().get_config(), "function": self.function}
        if self._output_shape is not None:
            config["output_shape"] = self._output_shape
        if self.mask is not None:
            config["mask"] = self.mask
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        name = config.get("name", "lambda")
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and value.get("class_name") == "__lambda__":
                raise ValueError(f"Lambda layer '{name}': its {key} is stored as Python "
                                 f"bytecode (a lambda), and mgp never loads code from a file; "
                                 f"build this layer in code, or save it with a named function "
                                 f"registered with register_keras_serializable()")
            if isinstance(value, dict) and value.get("class_name") == "function":
                config[key] = _named_function(value, custom_objects, name)
        if isinstance(config.get("output_shape"), list):
            shape = config["output_shape"]
            config["output_shape"] = tuple(shape) if all(
                d is None or isinstance(d, int) for d in shape) else [tuple(s) for s in shape]
        if isinstance(config.get("arguments"), dict):
            from mgp.saving.serialization_lib import deserialize_keras_object
            config["arguments"] = {
                k: deserialize_keras_object(v, custom_objects=custom_objects)
                if isinstance(v, dict) and "class_name" in v else v
                for k, v in config["arguments"].items()}
        return cls(**config)


def _named_function(config, custom_objects, layer_name):
    """A function a config names: mgp's activations and ops, registered ones, custom_objects."""
    from mgp import ops
    from mgp.saving.serialization_lib import UnknownObjectError, resolve
    module = config.get("module") or ""
    known = {}
    if module.startswith("keras.ops") or module.startswith("mgp.ops"):
        known = {k: v for k, v in vars(ops).items() if callable(v) and not k.startswith("_")}
    elif module in ("keras.activations", "mgp.activations"):
        known = {k: v for k, v in vars(activations).items()
                 if callable(v) and not k.startswith("_")}
    try:
        return resolve(config.get("config"), config.get("registered_name"), known,
                       custom_objects, "function", module)
    except UnknownObjectError as e:
        raise ValueError(f"Lambda layer '{layer_name}': {e}") from None


class Identity(Layer):
    """Returns its inputs unchanged (any structure): a placeholder, as Keras's."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # masks pass through

    def call(self, inputs, training=False):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


# the core family's other members, one file each as Keras keeps them
from mgp.layers.core.einsum_dense import EinsumDense  # noqa: E402,F401
from mgp.layers.core.embedding import Embedding, ReversibleEmbedding  # noqa: E402,F401
from mgp.layers.core.masking import Masking  # noqa: E402,F401
