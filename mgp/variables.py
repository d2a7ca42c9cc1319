"""Variable: a named leaf tensor that a layer owns (a weight) and an optimizer updates."""
from mgp.backend import xp
from mgp.tensor import Tensor


class Variable(Tensor):
    """A layer's weight: a leaf Tensor with a `name` and a `trainable` flag.

    Trainable variables require grad; non-trainable ones (BatchNormalization's moving statistics)
    do not. `assign` replaces the value in place of the name, keeping shape and dtype.

    Attributes set by `Layer.add_weight`, as Keras has them: `path` ("dense/kernel"),
    `regularizer` (its penalty goes into `layer.losses`), `constraint` (applied by the optimizer
    after each update), `aggregation`. `value` is the variable itself, so that Keras's
    torch-style `v.value.grad` reads the gradient.
    """

    __slots__ = ("name", "trainable", "path", "regularizer", "constraint", "aggregation")

    def __init__(self, data, name="variable", trainable=True, dtype=None, path=None):
        super().__init__(data, dtype=dtype, requires_grad=trainable)
        self.name = name
        self.trainable = trainable
        self.path = path or name
        self.regularizer = self.constraint = None
        self.aggregation = "none"

    @property
    def value(self):
        return self

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
        return f"<Variable '{self.path}' shape={self.shape} dtype={self.dtype} " \
               f"trainable={self.trainable}>"
