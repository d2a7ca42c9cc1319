"""Global pools: the maximum or mean over all spatial axes, (batch, *spatial, channels) ->
(batch, channels); one class, `BaseGlobalPooling`, by rank and mode."""
from mgp import ops
from mgp.layers._utils import check_rank, describe, floating, normalize_data_format
from mgp.layers.base import Layer
from mgp.ops.windows import axes_words


class BaseGlobalPooling(Layer):
    """Max or mean over every spatial axis.

    Args:
        data_format: 'channels_last' (default when None) or 'channels_first'.
        keepdims: keep the spatial axes, with size 1.
    """

    rank = None  # spatial axes, set by each concrete class
    pool_mode = None  # "max" or "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        try:
            self.data_format = normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f"{type(self).__name__}: {e}") from None
        self.keepdims = bool(keepdims)

    @property
    def _spatial_axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def _checked(self, inputs):
        x = floating(inputs, self.dtype)
        check_rank(self, x.shape, self.rank + 2, axes_words(self.rank, self.data_format))
        return x

    def call(self, inputs, training=False):
        x = self._checked(inputs)
        reduce = ops.max if self.pool_mode == "max" else ops.mean
        return reduce(x, self._spatial_axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        check_rank(self, shape, self.rank + 2, axes_words(self.rank, self.data_format))
        if self.keepdims:
            return tuple(1 if i in self._spatial_axes else n for i, n in enumerate(shape))
        return tuple(n for i, n in enumerate(shape) if i not in self._spatial_axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over the steps of (batch, steps, channels); with a `mask` (batch, steps), the mean
    of the unmasked steps only, as Keras.

    Example:
        >>> GlobalAveragePooling1D()(x, mask=np.array([[True, True, False]]))  # first two steps
    """

    rank, pool_mode = 1, "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True  # takes the mask; its output has none (compute_mask)

    def call(self, inputs, mask=None, training=False):
        if mask is None:
            return super().call(inputs)
        x = self._checked(inputs)
        mask = ops.convert_to_tensor(mask)
        steps = self._spatial_axes[0]
        if tuple(mask.shape) != (x.shape[0], x.shape[steps]):
            raise ValueError(f"{describe(self)} expected a mask of shape "
                             f"{(x.shape[0], x.shape[steps])} (batch, steps) for inputs "
                             f"{tuple(x.shape)}, got {tuple(mask.shape)}")
        keep = ops.expand_dims(mask, 2 if steps == 1 else 1) != 0  # a step axis, then channels
        total = ops.sum(ops.where(keep, x, 0.0), steps, keepdims=self.keepdims)
        return total / ops.sum(ops.cast(keep, x.dtype), steps, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over height and width: (batch, h, w, c) -> (batch, c), or (batch, 1, 1, c) with
    keepdims=True (as `BaseGlobalPooling`)."""

    rank, pool_mode = 2, "average"


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over depth, height and width (as `BaseGlobalPooling`)."""

    rank, pool_mode = 3, "average"


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Max over the steps of (batch, steps, channels) (as `BaseGlobalPooling`; like Keras's,
    it takes no mask)."""

    rank, pool_mode = 1, "max"


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Max over height and width (as `BaseGlobalPooling`)."""

    rank, pool_mode = 2, "max"


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Max over depth, height and width (as `BaseGlobalPooling`)."""

    rank, pool_mode = 3, "max"


# Keras's aliases
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = \
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = \
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
