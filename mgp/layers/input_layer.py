"""InputLayer and `Input`: the placeholder a functional model starts from."""
import numpy as np

from mgp.layers._utils import describe, floating
from mgp.layers.base import Layer
from mgp.layers.symbolic import Node, SymbolicTensor


class InputLayer(Layer):
    """The layer behind `Input`: holds the expected batch shape and its symbolic output.

    Args:
        shape: shape of one sample, without the batch axis (e.g. (28, 28, 1)); None for a size
            that may vary (`(None, 3)`: sequences of any length).
        batch_size: optional fixed batch size (None: any).
        dtype: the inputs' dtype ('float32').
        batch_shape: the full shape, batch axis first, instead of shape and batch_size.
        name: the layer's name ('input_layer', numbered, by default).
        sparse, ragged, optional: accepted as Keras has them, only False.

    Calling it checks the inputs' shape against `batch_shape` and passes them through.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,
                 batch_shape=None, input_tensor=None, optional=False, name=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        for option, value in (("sparse", sparse), ("ragged", ragged), ("optional", optional),
                              ("input_tensor", input_tensor)):
            if value:
                raise NotImplementedError(f"InputLayer: {option}={value!r} is not supported by "
                                          f"mgp")
        if shape is not None and batch_shape is not None:
            raise ValueError(f"InputLayer takes shape or batch_shape, not both; got "
                             f"shape={shape!r}, batch_shape={batch_shape!r}")
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs a shape, e.g. Input(shape=(784,))")
            shape = (shape,) if isinstance(shape, (int, np.integer)) else shape
            batch_shape = (batch_size,) + tuple(shape)
        try:
            self.batch_shape = tuple(None if n is None else int(n) for n in batch_shape)
        except (TypeError, ValueError):
            raise ValueError(f"InputLayer: the shape must hold ints or None, got "
                             f"{tuple(batch_shape)!r}") from None
        if any(n is not None and n < 0 for n in self.batch_shape):
            raise ValueError(f"InputLayer: sizes must not be negative, got {self.batch_shape}")
        self.built = True
        node = Node(self, (), {})
        node.outputs = [SymbolicTensor(self.batch_shape, self.dtype, node=node)]
        self._outbound.append(node.outputs[0])

    def call(self, inputs, training=False):
        shape = tuple(inputs.shape)
        if len(shape) != len(self.batch_shape) or any(
                want is not None and want != got for want, got in zip(self.batch_shape, shape)):
            raise ValueError(f"{describe(self)} expected inputs of shape {self.batch_shape}, got "
                             f"{shape}")
        return floating(inputs, self.dtype) if self.dtype.kind == "f" else inputs

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def get_config(self):
        dtype = "string" if self.dtype.kind in "USO" else self.dtype.name  # Keras's name for text
        return {"batch_shape": self.batch_shape, "dtype": dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": False}

    def __repr__(self):
        return f"<InputLayer name={self.name}, batch_shape={self.batch_shape}>"


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,
          name=None, tensor=None, optional=False):
    """A symbolic input for a functional model.

    Args:
        shape: shape of one sample, without the batch axis, e.g. (28, 28, 1); None entries
            for sizes that may vary from batch to batch (`Input(shape=(None,))`).
        batch_size: optional fixed batch size; the batch axis is None (any size) by default.
        dtype: the inputs' dtype, 'float32' by default ('int32' for token ids).
        batch_shape: the full shape, batch axis first, instead of shape and batch_size.
        name: the input layer's name ('input_layer', numbered, by default).

    Returns:
        A `SymbolicTensor` of shape (batch_size,) + shape, made by a new `InputLayer`
        (its `.layer`; also that layer's `.output`).

    Example:
        >>> inputs = mgp.Input(shape=(28, 28, 1))
        >>> inputs.shape
        (None, 28, 28, 1)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       ragged=ragged, batch_shape=batch_shape, name=name, input_tensor=tensor,
                       optional=optional)
    return layer.output
