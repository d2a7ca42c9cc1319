"""InputSpec: what a layer accepts (rank, dtype, sizes of given axes), checked when it is called."""
import numpy as np


class InputSpec:
    """The rank, dtype and axis sizes a layer's input must have, as Keras's InputSpec.

    Args:
        dtype: the expected dtype (None: any).
        shape: the full expected shape, None for a free axis (fixes `ndim`).
        ndim, max_ndim, min_ndim: the exact, largest or smallest rank.
        axes: {axis: size}; the input's axis must have that size (None: any size).
        allow_last_axis_squeeze: accept a rank one less or more when the last axis is 1.
        name: the input's name, for a dict of inputs.
        optional: whether the input may be None.

    A layer with `input_spec` set (one spec, or a list for several inputs) checks each call's
    inputs against it before running, and raises a ValueError naming the layer.
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = None if dtype is None else np.dtype(dtype).name
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.name, self.optional = name, optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (ValueError, TypeError):
            raise TypeError(f"InputSpec: the keys of axes must be ints, got {axes!r}") from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            top = (self.ndim if self.ndim is not None else self.max_ndim) - 1
            if max(self.axes) > top:
                raise ValueError(f"InputSpec: axis {max(self.axes)} is beyond the rank "
                                 f"{top + 1}")

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in [("dtype", self.dtype), ("shape", self.shape),
                                         ("ndim", self.ndim), ("max_ndim", self.max_ndim),
                                         ("min_ndim", self.min_ndim), ("axes", self.axes)]
                 if v]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raise a ValueError naming `layer_name` unless each input fits its spec."""
    if input_spec is None:
        return
    specs = input_spec if isinstance(input_spec, (list, tuple)) else [input_spec]
    if isinstance(inputs, dict):
        names = [spec.name for spec in specs]
        if all(names):
            inputs = [inputs.get(name) for name in names]
        else:
            inputs = list(inputs.values())
    flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(flat) != len(specs):
        raise ValueError(f"Layer '{layer_name}' expects {len(specs)} input(s), but it received "
                         f"{len(flat)} input tensors")
    for i, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None:
            continue
        if x is None:
            if spec.optional:
                continue
            raise ValueError(f"Input {i} of layer '{layer_name}' is None, which its spec does "
                             f"not allow")
        shape = tuple(getattr(x, "shape", np.shape(x)))
        where = f"Input {i} of layer '{layer_name}' is incompatible with the layer:"
        ndim = len(shape)
        if spec.ndim is not None and ndim != spec.ndim:
            # a trailing axis of size 1 may be there or not, where the spec allows it
            squeezed = spec.allow_last_axis_squeeze and (
                ndim == spec.ndim + 1 and shape[-1] == 1 or ndim == spec.ndim - 1)
            if not squeezed:
                raise ValueError(f"{where} expected ndim={spec.ndim}, found ndim={ndim}. Full "
                                 f"shape received: {shape}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{where} expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(f"{where} expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                             f"Full shape received: {shape}")
        dtype = getattr(x, "dtype", None)
        if spec.dtype is not None and dtype is not None and np.dtype(dtype).name != spec.dtype:
            raise ValueError(f"{where} expected dtype={spec.dtype}, found dtype="
                             f"{np.dtype(dtype).name}")
        for axis, size in spec.axes.items():
            if size is None:
                continue
            if not -ndim <= axis < ndim or shape[axis] not in (size, None):
                raise ValueError(f"{where} expected axis {axis} of input shape to have value "
                                 f"{size}, but received input with shape {shape}")
        if spec.shape is not None and ndim == len(spec.shape):
            for got, want in zip(shape, spec.shape):
                if want is not None and got is not None and got != want:
                    raise ValueError(f"{where} expected shape={spec.shape}, found "
                                     f"shape={shape}")
