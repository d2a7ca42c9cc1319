"""CategoryEncoding: integer categories as one-hot, multi-hot or count vectors; and the encoding
the lookup, hashing and discretization layers share."""
import numpy as np

from mgp import ops
from mgp.backend import to_numpy
from mgp.layers._utils import describe
from mgp.layers.base import Layer

OUTPUT_MODES = ("one_hot", "multi_hot", "count")


def encode_categorical_inputs(inputs, output_mode, depth, dtype, count_weights=None,
                              layer=None):
    """Integer indices in [0, depth) encoded as Keras encodes them: 'int' casts; 'one_hot' adds
    an axis of `depth` (replacing a last axis of 1); 'multi_hot' and 'count' reduce the second
    axis of 2-D inputs (a sample's categories) to one vector of `depth` per sample."""
    x = ops.convert_to_tensor(inputs)
    if output_mode == "int":
        return ops.cast(x, dtype)
    if x.ndim == 0:
        x = ops.expand_dims(x, -1)
    values = to_numpy(x.data)
    if values.size and (values.min() < 0 or values.max() >= depth):
        where = f"{describe(layer)}" if layer is not None else "encode_categorical_inputs"
        raise ValueError(f"{where}: values must be in [0, {depth}), got values from "
                         f"{values.min()} to {values.max()} (inputs of shape {tuple(x.shape)})")
    if output_mode == "multi_hot":
        return ops.multi_hot(x, depth, dtype=dtype)
    if output_mode == "one_hot":
        if x.ndim > 1 and x.shape[-1] == 1:
            x = ops.reshape(x, tuple(x.shape[:-1]))
        return ops.one_hot(x, depth, dtype=dtype)
    axis = 1 if x.ndim > 1 else 0
    if count_weights is not None:
        dtype = count_weights.dtype
    hot = ops.one_hot(x, depth, dtype=dtype)
    if count_weights is not None:
        hot = hot * ops.expand_dims(count_weights, -1)
    return ops.sum(hot, axis=axis)


def encoded_shape(input_shape, output_mode, depth):
    """The shape `encode_categorical_inputs` gives for `input_shape`."""
    shape = tuple(input_shape)
    if output_mode == "int":
        return shape
    if len(shape) == 0:
        return (depth,)
    if output_mode == "one_hot":
        if shape[-1] == 1 and len(shape) > 1:
            return shape[:-1] + (depth,)
        return shape + (depth,)
    return (shape[0],) + shape[2:] + (depth,) if len(shape) >= 2 else (depth,)


class CategoryEncoding(Layer):
    """Encode integer categories in [0, num_tokens) as vectors of `num_tokens`.

    Args:
        num_tokens: the number of categories.
        output_mode: 'multi_hot' (default; 'binary' is its old name): a 1 at each category a
            sample has (the last axis of 2-D inputs holds them); 'one_hot': one vector per
            input value; 'count': how often each category occurs (weighted by `count_weights`
            given to the call, when given).
        sparse: only False (mgp has no sparse tensors).

    Example:
        >>> CategoryEncoding(4, output_mode="count")(np.array([[0, 1, 1]]))   # [[1, 2, 0, 0]]
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"CategoryEncoding: output_mode must be one of {list(OUTPUT_MODES)}, "
                             f"got {output_mode!r}")
        if num_tokens is None:
            raise ValueError("CategoryEncoding: num_tokens must be set; when the number of "
                             "categories is not known beforehand, use IntegerLookup")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, (int, np.integer)) or \
                num_tokens < 1:
            raise ValueError(f"CategoryEncoding: num_tokens must be an int >= 1, got "
                             f"{num_tokens!r}")
        if sparse:
            raise ValueError("CategoryEncoding: sparse=True is not supported (mgp has no sparse "
                             "tensors)")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False

    def call(self, inputs, count_weights=None):
        if inputs.dtype.kind not in "biu" and not (
                inputs.dtype.kind == "f" and np.all(np.mod(to_numpy(inputs.data), 1) == 0)):
            raise TypeError(f"{describe(self)} expected integer categories, got dtype "
                            f"{inputs.dtype} (shape {tuple(inputs.shape)})")
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(f"{describe(self)}: count_weights is used only with "
                                 f"output_mode='count', not {self.output_mode!r}")
            count_weights = ops.cast(count_weights, self.dtype)
            if tuple(count_weights.shape) != tuple(inputs.shape):
                raise ValueError(f"{describe(self)}: count_weights of shape "
                                 f"{tuple(count_weights.shape)} must match the inputs' shape "
                                 f"{tuple(inputs.shape)}")
        return encode_categorical_inputs(inputs, self.output_mode, self.num_tokens, self.dtype,
                                         count_weights, layer=self)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode}
