"""Permute and RepeatVector: reorder a sample's axes, or repeat a vector along a new axis."""
from mgp import ops
from mgp.layers._utils import check_rank, describe
from mgp.layers.base import Layer


class Permute(Layer):
    """Permute the axes of each sample (the batch axis stays first).

    Args:
        dims: a permutation of 1, 2, ..., n: output axis i + 1 is input axis dims[i].

    Example:
        >>> Permute((2, 1))(np.zeros((8, 10, 64))).shape
        (8, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(int(d) for d in dims)
        except (TypeError, ValueError):
            raise ValueError(f"Permute: dims must be a tuple of ints, got {dims!r}") from None
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of 1 .. {len(dims)} (the "
                             f"batch axis 0 stays first), got {dims}")
        self.dims = dims

    def call(self, inputs, training=False):
        check_rank(self, inputs.shape, len(self.dims) + 1, f"(batch, {len(self.dims)} axes)")
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        check_rank(self, shape, len(self.dims) + 1, f"(batch, {len(self.dims)} axes)")
        return (shape[0],) + tuple(shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeat each sample's vector `n` times: (batch, features) -> (batch, n, features).

    Args:
        n: a positive int.

    Example:
        >>> RepeatVector(3)(np.zeros((8, 32))).shape
        (8, 3, 32)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"RepeatVector: n must be a positive integer, got {n!r}")
        self.n = n

    def call(self, inputs, training=False):
        if inputs.ndim != 2:
            raise ValueError(f"{describe(self)} expected 2-D inputs (batch, features), got "
                             f"shape {tuple(inputs.shape)}")
        batch, features = inputs.shape
        # a view that repeats the vector; its gradient is summed back over the copies
        return ops.broadcast_to(ops.reshape(inputs, (batch, 1, features)),
                                (batch, self.n, features))

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        check_rank(self, shape, 2, "(batch, features)")
        return (shape[0], self.n, shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
