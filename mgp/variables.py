"""Variable: a named leaf tensor that a layer owns (a weight) and an optimizer updates."""
from mgp.backend import xp
from mgp.tensor import Tensor


class Variable(Tensor):
    """A layer's weight: a leaf Tensor with a `name` and a `trainable` flag.

    Trainable variables require grad; non-trainable ones (BatchNormalization's moving statistics)
    do not. `assign` replaces the value in place of the name, keeping shape and dtype.
    """

    __slots__ = ("name", "trainable")

    def __init__(self, data, name="variable", trainable=True, dtype=None):
        super().__init__(data, dtype=dtype, requires_grad=trainable)
        self.name = name
        self.trainable = trainable

    def assign(self, value):
        value = value.data if isinstance(value, Tensor) else value
        value = xp.array(value, dtype=self.dtype)  # a copy: never share the caller's array
        if value.shape != self.shape:
            raise ValueError(f"cannot assign a value of shape {value.shape} to variable "
                             f"'{self.name}' of shape {self.shape}")
        self.data = value
        return self

    def assign_add(self, delta):
        return self.assign(self.data + (delta.data if isinstance(delta, Tensor) else delta))

    def assign_sub(self, delta):
        return self.assign(self.data - (delta.data if isinstance(delta, Tensor) else delta))

    def __repr__(self):
        return f"<Variable '{self.name}' shape={self.shape} dtype={self.dtype} " \
               f"trainable={self.trainable}>"
