"""The autograd core: Tensor, the graph walk, grad mode, `sum_to`, and the two ways in.

A Tensor wraps an array (`.data`), carries `.grad`, and remembers the op that made it: its parents
and a `_backward` closure. An op's backward takes the output's gradient and returns one gradient
per parent at the *output's* shape; the engine alone sums each back to its parent's shape
(`sum_to`) and accumulates it, so no op can forget broadcasting and a node used twice gets both
contributions.

Two constructors, with two sets of defaults:
- `mgp.tensor(data)`, the engine's (PyTorch's `torch.tensor`, with mgp's float32 default):
  Python floats and float64 arrays become float32, Python ints int64.
- `convert_to_tensor(data)`, Keras's (`keras.ops.convert_to_tensor`): Python floats become
  `floatx()`, Python ints int32, and arrays keep their dtype (float64 stays float64).
Every op in `mgp.ops` converts its inputs the Keras way and promotes by Keras's lattice
(`mgp.dtypes`). Tensor operators (`t + 1`, `t * a`) first lift a NumPy operand to the tensor's
float dtype (the engine's rule: a constant never upcasts a float32 computation, so
`t * np.ones(3)` stays float32, where PyTorch would promote an array to float64).
"""
import contextlib
import operator

import numpy as np

from mgp import backend, config
from mgp.backend import xp, to_numpy
from mgp.dtypes import standardize_dtype

_grad_enabled = True


class no_grad(contextlib.ContextDecorator):
    """Context manager and decorator (`@mgp.no_grad()` or `@mgp.no_grad`): nothing computed
    inside builds a graph.

    Example:
        with mgp.no_grad():
            y = model(x)   # y.requires_grad is False, no closures are kept
    """

    _mode = False

    def __new__(cls, func=None):
        self = super().__new__(cls)
        self._prev = []  # a stack, so one decorated function may call itself
        return self(func) if callable(func) else self

    def __init__(self, func=None):
        pass

    def __enter__(self):
        global _grad_enabled
        self._prev.append(_grad_enabled)
        _grad_enabled = self._mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev.pop()
        return False


class enable_grad(no_grad):
    """Context manager and decorator that turns graph building back on inside `no_grad`."""

    _mode = True


def is_grad_enabled():
    return _grad_enabled


def sum_to(g, shape):
    """Sum `g` down to `shape`: the adjoint of broadcasting `shape` up to `g.shape`.

    First the leading axes that broadcasting added, then every axis where `shape` has size 1.
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to: cannot sum shape {g.shape} down to the larger {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def _freed_backward(g):
    raise RuntimeError(
        "backward() went through part of a graph a second time, after its saved intermediates "
        "were freed; pass retain_graph=True to the first backward() to keep them")


class _HookHandle:
    def __init__(self, tensor, hook):
        self.tensor, self.hook = tensor, hook

    def remove(self):
        self.tensor._grad_hooks = tuple(h for h in getattr(self.tensor, "_grad_hooks", ())
                                        if h is not self.hook)

    def __repr__(self):
        return f"<grad hook {getattr(self.hook, '__name__', self.hook)!r}>"


def _default_dtype_for(arr):
    """float64 input becomes float32 (mgp's default); ints, bools and float32/16 are kept."""
    if arr.dtype == np.float64:
        return np.float32
    return arr.dtype


class Tensor:
    """An n-dimensional array that records the operations on it for reverse-mode autodiff.

    Args:
        data: array-like. Python floats and float64 arrays become float32 unless `dtype` is given;
            Python ints become int64, bools stay bool.
        dtype: optional dtype to cast to.
        requires_grad: if True, `backward()` fills `.grad`. Only floating tensors can require grad.

    Example:
        >>> x = mgp.tensor([[1.0, 2.0]], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        array([[2., 4.]], dtype=float32)
    """

    # `_logits`, set only by softmax and sigmoid, points at their input so that a cross-entropy
    # loss can work from the logits (stable) instead of the probabilities, as Keras does.
    # `_keras_mask`, set by layers that produce or pass on a mask (Keras's attribute name): which
    # time steps count; unset elsewhere (read it with getattr(t, "_keras_mask", None)).
    # `_grad_hooks`, set only by `register_post_accumulate_grad_hook` on a leaf: what to call
    # once a backward pass has finished accumulating its `.grad`.
    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_op", "_logits",
                 "_keras_mask", "_grad_hooks", "__weakref__")
    __array_priority__ = 1000  # so that `ndarray + tensor` calls Tensor.__radd__

    def __init__(self, data, dtype=None, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.data
        if dtype is None:
            data = backend.asarray(data)
            dtype = _default_dtype_for(data)
        self.data = backend.asarray(data, dtype=dtype)
        self.grad = None
        self._parents = ()
        self._backward = None
        self._op = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, parents, backward, op):
        """Create an op's output; keep the graph only when a parent needs a gradient."""
        out = Tensor.__new__(Tensor)
        if isinstance(data, np.generic):  # NumPy reductions return scalars; keep 0-d arrays
            data = xp.asarray(data)
        out.data, out.grad, out._op = data, None, op
        if _grad_enabled:
            for p in parents:  # a loop, not any(): ops have one or two parents
                if p.requires_grad:
                    out.requires_grad, out._parents, out._backward = True, parents, backward
                    return out
        out.requires_grad, out._parents, out._backward = False, (), None
        return out

    def requires_grad_(self, flag=True):
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype "
                            f"{self.data.dtype}")
        self.requires_grad = bool(flag)
        return self

    # ---- properties ----------------------------------------------------------------------------
    # attrgetter, not a lambda: read by every op, and a C getter costs less than a Python call
    shape = property(operator.attrgetter("data.shape"))
    ndim = property(operator.attrgetter("data.ndim"))
    dtype = property(operator.attrgetter("data.dtype"))
    size = property(operator.attrgetter("data.size"))
    T = property(lambda self: self.transpose())
    is_leaf = property(lambda self: self._backward is None)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        body = np.array2string(to_numpy(self.data), separator=", ", prefix="tensor(")
        extra = f", dtype={self.dtype}" if self.dtype != np.float32 else ""
        if self.requires_grad:
            extra += f", grad_fn=<{self._op}>" if self._op else ", requires_grad=True"
        return f"tensor({body}{extra})"

    def numpy(self):
        """The data as a NumPy array on the host (shares memory on the CPU)."""
        return to_numpy(self.data)

    # ---- devices -------------------------------------------------------------------------------
    @property
    def device(self):
        """Where the data lives: 'cpu' or 'cuda'."""
        return backend.device_of(self.data)

    def to(self, device):
        """This tensor on `device` ('cpu' or 'cuda'): itself when it is there already, else a
        copy whose gradient flows back to this tensor's device.

        Ops compute on the active device (`mgp.set_device`), so move tensors to it before
        combining them with others.

        Example:
            >>> t = mgp.tensor([1.0, 2.0]).to("cuda")
            >>> t.device
            'cuda'
        """
        here = self.device
        if backend.device_name(device) == here:
            return self
        return Tensor._make(backend.to_device(self.data, device), (self,),
                            lambda g: (backend.to_device(g, here),), "to")

    def cpu(self):
        """This tensor on the host (see `to`)."""
        return self.to("cpu")

    def cuda(self):
        """This tensor on the GPU (see `to`)."""
        return self.to("cuda")

    def __array__(self, dtype=None, copy=None):
        """`np.asarray(t)`: the data as a host array, outside the graph."""
        a = to_numpy(self.data)
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def item(self):
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def detach(self):
        """A tensor sharing the data (and dtype), cut from the graph."""
        return Tensor(self.data, dtype=self.dtype)

    def astype(self, dtype):
        return cast(self, dtype)

    def zero_grad(self):
        self.grad = None

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(tensor)` each time `backward()` has finished adding to this leaf's `.grad`
        (PyTorch's hook of that name; data-parallel training starts sending a gradient there,
        while the rest of the backward pass still runs).

        Returns:
            a handle whose `remove()` unregisters the hook.
        """
        if self._backward is not None:
            raise RuntimeError("register_post_accumulate_grad_hook works on leaf tensors only "
                               "(those backward() gives a .grad)")
        hooks = getattr(self, "_grad_hooks", ())
        self._grad_hooks = hooks + (hook,)
        return _HookHandle(self, hook)

    # ---- the graph walk ------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        Args:
            grad: the upstream gradient, of `self.shape`. May be omitted for a one-element tensor.
            retain_graph: keep the saved intermediates so backward can run through them again.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() called on a tensor that does not require grad; "
                               "create the inputs with requires_grad=True")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a grad needs a one-element tensor, got "
                                   f"shape {self.shape}; pass grad= of that shape")
            grad = xp.ones(self.shape, dtype=self.dtype)
        else:
            grad = xp.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward(): grad has shape {grad.shape}, but the tensor has "
                                 f"shape {self.shape}")

        grads = {id(self): grad}
        for node in reversed(self._topological_order()):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._backward is None:  # a leaf: accumulate, PyTorch's += semantics
                node.grad = g.copy() if node.grad is None else node.grad + g
                # every consumer came before it in the sweep, so this .grad is complete
                for hook in getattr(node, "_grad_hooks", ()):
                    hook(node)
                continue
            parent_grads = node._backward(g)
            for parent, pg in zip(node._parents, parent_grads):
                if pg is None or not parent.requires_grad:
                    continue
                data = parent.data
                if pg.shape != data.shape:  # adjoint of broadcasting, for every op at once
                    pg = sum_to(pg, data.shape)
                if pg.dtype != data.dtype:
                    pg = pg.astype(data.dtype)
                key = id(parent)
                grads[key] = grads[key] + pg if key in grads else pg
            if not retain_graph:
                node._backward, node._parents = _freed_backward, ()

    def _topological_order(self):
        """Nodes that require grad, each after all of its parents (iterative, no recursion)."""
        # Mark a node when it is expanded, not when it is pushed. Marked at push time, b in the
        # diamond r = b + a, a = f(b) is skipped as a's parent while it still waits on the stack,
        # a is emitted first, and b's backward runs before a's share of b's gradient arrives.
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for p in node._parents:
                if p.requires_grad and id(p) not in visited:
                    stack.append((p, False))
        return order

    # ---- operators (the math lives in mgp.ops; operands lifted PyTorch's way) ------------------
    def __add__(self, o): return ops.add(*_operands(self, o))
    def __radd__(self, o): return ops.add(*_operands(o, self))
    def __sub__(self, o): return ops.subtract(*_operands(self, o))
    def __rsub__(self, o): return ops.subtract(*_operands(o, self))
    def __mul__(self, o): return ops.multiply(*_operands(self, o))
    def __rmul__(self, o): return ops.multiply(*_operands(o, self))
    def __truediv__(self, o): return ops.divide(*_operands(self, o))
    def __rtruediv__(self, o): return ops.divide(*_operands(o, self))
    def __floordiv__(self, o): return ops.floor_divide(*_operands(self, o))
    def __rfloordiv__(self, o): return ops.floor_divide(*_operands(o, self))
    def __mod__(self, o): return ops.mod(*_operands(self, o))
    def __rmod__(self, o): return ops.mod(*_operands(o, self))
    def __pow__(self, o): return ops.power(*_operands(self, o))
    def __rpow__(self, o): return ops.power(*_operands(o, self))
    def __matmul__(self, o): return ops.matmul(*_operands(self, o))
    def __rmatmul__(self, o): return ops.matmul(*_operands(o, self))
    def __and__(self, o): return ops.bitwise_and(*_operands(self, o))
    def __rand__(self, o): return ops.bitwise_and(*_operands(o, self))
    def __or__(self, o): return ops.bitwise_or(*_operands(self, o))
    def __ror__(self, o): return ops.bitwise_or(*_operands(o, self))
    def __xor__(self, o): return ops.bitwise_xor(*_operands(self, o))
    def __rxor__(self, o): return ops.bitwise_xor(*_operands(o, self))
    def __neg__(self): return ops.negative(self)
    def __pos__(self): return self
    def __abs__(self): return ops.absolute(self)
    def __invert__(self): return ops.bitwise_invert(self)
    def __getitem__(self, key): return ops.get_item(self, key)

    # comparisons give boolean tensors, outside the graph
    def __lt__(self, o): return ops.less(*_operands(self, o))
    def __le__(self, o): return ops.less_equal(*_operands(self, o))
    def __gt__(self, o): return ops.greater(*_operands(self, o))
    def __ge__(self, o): return ops.greater_equal(*_operands(self, o))
    def __eq__(self, o):  # a string is no array: Python's own answer, False
        return NotImplemented if isinstance(o, str) else ops.equal(*_operands(self, o))

    def __ne__(self, o):
        return NotImplemented if isinstance(o, str) else ops.not_equal(*_operands(self, o))

    __hash__ = object.__hash__  # tensors are graph nodes, hashed by identity

    def __bool__(self):
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    def __float__(self): return float(self.item())
    def __int__(self): return int(self.item())

    # ---- methods: NumPy's signatures where NumPy has the method, PyTorch's for the math --------
    def sum(self, axis=None, keepdims=False): return ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return ops.mean(self, axis, keepdims)
    def var(self, axis=None, keepdims=False, ddof=0):
        """The variance over `axis`, divided by n - ddof (ddof=0: the population variance)."""
        v = ops.var(self, axis, keepdims)
        if not ddof:
            return v
        n = self.size // max(v.size, 1) if axis is not None else self.size
        return v * (n / (n - ddof))
    def std(self, axis=None, keepdims=False): return ops.std(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return ops.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return ops.min(self, axis, keepdims)
    def prod(self, axis=None, keepdims=False): return ops.prod(self, axis, keepdims)
    def all(self, axis=None, keepdims=False): return ops.all(self, axis, keepdims)
    def any(self, axis=None, keepdims=False): return ops.any(self, axis, keepdims)
    def logsumexp(self, axis=None, keepdims=False): return ops.logsumexp(self, axis, keepdims)
    def argmax(self, axis=None): return ops.argmax(self, axis)
    def argmin(self, axis=None): return ops.argmin(self, axis)
    def reshape(self, *shape): return ops.reshape(self, _shape_args(shape))
    def view(self, *shape): return ops.reshape(self, _shape_args(shape))
    def transpose(self, *axes): return ops.transpose(self, _shape_args(axes) or None)
    def permute(self, *axes): return ops.transpose(self, _shape_args(axes))
    def flatten(self, start_axis=0): return ops.numpy.flatten(self, start_axis)
    def squeeze(self, axis=None): return ops.squeeze(self, axis)
    def expand_dims(self, axis): return ops.expand_dims(self, axis)
    def broadcast_to(self, shape): return ops.broadcast_to(self, shape)
    def clip(self, min=None, max=None): return ops.clip(self, min, max)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def abs(self): return ops.absolute(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def softmax(self, axis=-1): return ops.softmax(self, axis)
    def log_softmax(self, axis=-1): return ops.log_softmax(self, axis)
    def tolist(self): return to_numpy(self.data).tolist()


def _shape_args(args):
    """`t.reshape(2, 3)` and `t.reshape((2, 3))` alike: the shape as a tuple."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        return tuple(args[0])
    return tuple(args)


def _operands(a, b):
    """The operands of a Tensor operator: a NumPy array or scalar takes the other operand's
    float dtype (`t * np.ones(3)` stays float32), an integer tensor meets a float tensor at the
    float dtype (as PyTorch), and Python scalars stay weak for the op."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.dtype == b.dtype:
            return a, b
        fa, fb = a.dtype.kind == "f", b.dtype.kind == "f"
        if fa and not fb:
            return a, ops.cast(b, a.dtype)
        if fb and not fa:
            return ops.cast(a, b.dtype), b
        common = np.result_type(a.dtype, b.dtype)
        return ops.cast(a, common), ops.cast(b, common)
    if isinstance(a, Tensor):
        return a, _lift(b, a)
    return _lift(a, b), b


def _lift(o, like):
    if isinstance(o, (bool, int, float)) and not isinstance(o, np.generic):
        return o  # Python scalars: weak, the op keeps `like`'s dtype
    if isinstance(o, ops.symbolic.symbolic_types()):
        return o  # a functional model's placeholder: the op records the call
    o = backend.asarray(o)
    if like.dtype.kind == "f" and o.dtype.kind in "fiub":
        return Tensor(o, dtype=like.dtype)
    return Tensor(o, dtype=o.dtype)


def tensor(data, dtype=None, requires_grad=False):
    """Create a Tensor (see `Tensor`). float64 and Python floats become float32 unless asked."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


# ======================================== Keras's conversions =======================================

_INT32 = np.iinfo(np.int32)


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """`x` as a Tensor, by Keras's rules (`keras.ops.convert_to_tensor`).

    Args:
        x: a Tensor (returned as it is, or cast), a NumPy array (its dtype is kept), a Python
            or NumPy scalar, or nested lists of them.
        dtype: the dtype to convert to; by default a Python bool gives bool, an int int32
            (int64 when it does not fit), a float `floatx()`, and a list or tuple of them the
            same (the widest kind among its elements).
        sparse, ragged: accepted for Keras's signature; mgp has neither kind of tensor.

    Returns:
        A Tensor. A Tensor given with another `dtype` is cast in the graph, so gradients flow.

    Example:
        >>> convert_to_tensor(3).dtype, convert_to_tensor([1.0, 2]).dtype
        (dtype('int32'), dtype('float32'))
    """
    if sparse or ragged:
        raise ValueError(f"convert_to_tensor: mgp has no {'sparse' if sparse else 'ragged'} "
                         f"tensors")
    if isinstance(x, Tensor):
        return x if dtype is None else cast(x, dtype)
    if dtype is not None:
        return Tensor(backend.asarray(_raw_leaves(x), dtype=standardize_dtype(dtype)),
                      dtype=standardize_dtype(dtype))
    if isinstance(x, bool):
        return Tensor(backend.asarray(x), dtype=np.bool_)
    if isinstance(x, int):
        return Tensor(backend.asarray(x), dtype=np.int32 if _INT32.min <= x <= _INT32.max
                      else np.int64)
    if isinstance(x, float):  # also NumPy's float64 scalars, which are Python floats
        return Tensor(backend.asarray(x), dtype=config.floatx())
    if isinstance(x, complex):
        return Tensor(backend.asarray(x), dtype=np.complex64)
    if isinstance(x, (list, tuple)):
        if any(isinstance(e, Tensor) for e in x):
            from mgp import ops
            return ops.stack([convert_to_tensor(e) for e in x])
        try:
            arr = backend.asarray(x)
        except ValueError:
            raise ValueError(f"convert_to_tensor: cannot convert a ragged or mixed list "
                             f"{x!r}") from None
        kind = arr.dtype.kind
        if arr.dtype == np.float64:  # Python floats: floatx, as Keras
            return Tensor(arr, dtype=config.floatx())
        if arr.dtype == np.int64 and (arr.size == 0 or (
                _INT32.min <= arr.min() and arr.max() <= _INT32.max)):
            return Tensor(arr, dtype=np.int32)
        if arr.dtype == np.complex128:
            return Tensor(arr, dtype=np.complex64)
        if kind == "O":
            raise ValueError(f"convert_to_tensor: cannot convert a ragged or mixed list {x!r}")
        return Tensor(arr, dtype=arr.dtype)
    arr = backend.asarray(x)
    if arr.dtype == object:
        raise TypeError(f"convert_to_tensor: cannot make a tensor of a {type(x).__name__} "
                        f"({x!r}); a functional model's symbolic tensors go through layers "
                        f"(layers.Lambda wraps a function of ops)")
    return Tensor(arr, dtype=arr.dtype)


def _raw_leaves(x):
    """Nested lists with any Tensors replaced by their arrays (for an explicit dtype)."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)) and any(isinstance(e, (Tensor, list, tuple)) for e in x):
        return [_raw_leaves(e) for e in x]
    return x


def cast(x, dtype):
    """`x` in `dtype` (any form `standardize_dtype` takes). Between float dtypes the cast is
    differentiable (the gradient comes back in `x`'s dtype); to or from integers it is not.

    Example:
        >>> cast(mgp.tensor([1.7, -1.7]), "int32")
        tensor([ 1, -1], dtype=int32)
    """
    dtype = np.dtype(standardize_dtype(dtype))
    if not isinstance(x, Tensor):
        return convert_to_tensor(x, dtype)
    if x.dtype == dtype:
        return x
    out = x.data.astype(dtype)
    if out.dtype.kind not in "fc" or x.dtype.kind not in "fc":
        return Tensor(out, dtype=out.dtype)
    return Tensor._make(out, (x,), lambda g: (g,), "cast")  # the engine casts g back


from mgp import ops  # noqa: E402  (ops builds on Tensor; Tensor's operators call into ops)
