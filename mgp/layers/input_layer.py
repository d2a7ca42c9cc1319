"""InputLayer and `Input`: the placeholder a functional model starts from."""
import numpy as np

from mgp.layers._utils import describe, floating
from mgp.layers.base import Layer, SymbolicTensor


class InputLayer(Layer):
    """The layer behind `Input`: holds the expected batch shape and its symbolic output.

    Args:
        shape: shape of one sample, without the batch axis (e.g. (28, 28, 1)).
        batch_size: optional fixed batch size (None: any).
        dtype: the inputs' dtype ('float32').
        batch_shape: the full shape, batch axis first, instead of shape and batch_size.
        name: the layer's name ('input_layer', numbered, by default).

    Calling it checks the inputs' shape against `batch_shape` and passes them through.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 name=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise NotImplementedError("InputLayer: sparse inputs are not supported by mgp")
        if shape is not None and batch_shape is not None:
            raise ValueError(f"InputLayer takes shape or batch_shape, not both; got "
                             f"shape={shape!r}, batch_shape={batch_shape!r}")
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs a shape, e.g. Input(shape=(784,))")
            shape = (shape,) if isinstance(shape, (int, np.integer)) else shape
            batch_shape = (batch_size,) + tuple(shape)
        self.batch_shape = tuple(None if n is None else int(n) for n in batch_shape)
        self.built = True
        self._outbound.append(SymbolicTensor(self.batch_shape, self.dtype, layer=self, inputs=()))

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
        return {"batch_shape": self.batch_shape, "dtype": self.dtype.name, "sparse": False,
                "name": self.name}

    def __repr__(self):
        return f"<InputLayer name={self.name}, batch_shape={self.batch_shape}>"


def Input(shape=None, batch_size=None, name=None, dtype="float32", sparse=None,
          batch_shape=None):
    """A symbolic input for a functional model.

    Args:
        shape: shape of one sample, without the batch axis, e.g. (28, 28, 1).
        batch_size: optional fixed batch size; the batch axis is None (any size) by default.
        name: the input layer's name ('input_layer', numbered, by default).
        dtype: the inputs' dtype, 'float32' by default.
        batch_shape: the full shape, batch axis first, instead of shape and batch_size.

    Returns:
        A `SymbolicTensor` of shape (batch_size,) + shape, made by a new `InputLayer`
        (its `.layer`; also that layer's `.output`).

    Example:
        >>> inputs = mgp.Input(shape=(28, 28, 1))
        >>> inputs.shape
        (None, 28, 28, 1)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name)
    return layer.output
