"""The autograd core: construction and dtype rules, backward semantics, graph shapes that catch
accumulation bugs, retain_graph, no_grad, and `sum_to` (the one place broadcasting is undone)."""
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mgp
from mgp import ops
from mgp.tensor import sum_to

rng = np.random.default_rng(0)


def randn(*shape, requires_grad=True):
    return mgp.tensor(rng.standard_normal(shape), requires_grad=requires_grad)


# ============================================ construction ============================================

@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32),
    ([1.0, 2.0], np.float32),
    (np.zeros(3), np.float32),                      # float64 arrays become float32
    (np.zeros(3, dtype=np.float16), np.float16),
    (np.zeros(3, dtype=np.float32), np.float32),
    (3, np.int64),
    ([1, 2], np.int64),
    (np.arange(3, dtype=np.int32), np.int32),
    ([True, False], np.bool_),
])
def test_default_dtypes(data, dtype):
    assert mgp.tensor(data).dtype == dtype


def test_float64_when_asked():
    x = mgp.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = (x * 2.5 + 1).exp().sum()
    assert x.dtype == y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64
    assert mgp.tensor(np.zeros(2), dtype="float64").dtype == np.float64


def test_int_results_of_float_math_are_float32():
    i = mgp.tensor([1, 2, 3])
    assert (i / 2).dtype == np.float32
    assert i.mean().dtype == np.float32
    assert i.exp().dtype == np.float32
    assert (i ** 0.5).dtype == np.float32
    assert (i ** 2).dtype == np.int64 and (i ** 2).numpy().tolist() == [1, 4, 9]
    assert (i + 1).dtype == np.int64
    assert (i * 2.5).dtype == np.float32
    assert ops.cast(i, np.float64).dtype == np.float64  # asked for explicitly


OTHERS = [2.5, 2, np.float64(2.5), np.arange(1.0, 4.0), np.arange(1, 4), mgp.tensor([1, 2, 3]),
          True]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
          lambda a, b: a ** b]


@pytest.mark.parametrize("other", OTHERS, ids=lambda o: type(o).__name__)
@pytest.mark.parametrize("op", BINARY)
def test_float32_never_upcast_by_constants(op, other):
    """Tensor operators lift a constant to the tensor's float dtype (mgp's engine rule)."""
    x = mgp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out in (op(x, other), op(other, x)):
        assert isinstance(out, mgp.Tensor)
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32


@pytest.mark.parametrize("op", [ops.add, ops.maximum, ops.minimum, ops.multiply])
def test_ops_promote_by_keras_rules(op):
    """mgp.ops follow Keras: Python scalars are weak, arrays count with their own dtype."""
    x = mgp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for other in (2.5, 2, np.float64(2.5), True, np.arange(1, 4, dtype=np.int32)):
        assert op(x, other).dtype == np.float32 and op(other, x).dtype == np.float32
    assert op(x, np.arange(1.0, 4.0)).dtype == np.float64  # a float64 array: float64
    assert op(mgp.tensor([1, 2]), 2).dtype == np.int64 and op(np.int8(3), 1).dtype == np.int8


def test_reflected_operators():
    x = mgp.tensor([1.0, 2.0, 4.0], requires_grad=True)
    a = np.array([1.0, 1.0, 1.0])
    for out, expected, grad in [
        (2 * x, [2, 4, 8], [2, 2, 2]),
        (a + x, [2, 3, 5], [1, 1, 1]),
        (1 / x, [1, 0.5, 0.25], [-1, -0.25, -0.0625]),
        (3 - x, [2, 1, -1], [-1, -1, -1]),
        (2 ** x, [2, 4, 16], np.log(2) * np.array([2, 4, 16])),
        (np.float32(3) * x, [3, 6, 12], [3, 3, 3]),
        (-x, [-1, -2, -4], [-1, -1, -1]),
    ]:
        x.grad = None
        assert isinstance(out, mgp.Tensor)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
        out.sum().backward()
        np.testing.assert_allclose(x.grad, grad, rtol=1e-6)


def test_matmul_operator_both_sides():
    w = randn(3, 2)
    m = rng.standard_normal((4, 3))
    np.testing.assert_allclose((m @ w).numpy(), m @ w.numpy(), rtol=1e-5)
    np.testing.assert_allclose((w.T @ m.T).numpy(), w.numpy().T @ m.T, rtol=1e-5)


def test_comparisons_are_boolean_and_outside_the_graph():
    x = randn(5)
    for c in (x > 0, x >= 0, x < 0, x <= 0, x == x, x != 0):
        assert c.dtype == np.bool_ and not c.requires_grad
    assert (x > 0).numpy().tolist() == (x.numpy() > 0).tolist()


# ============================================= properties ============================================

def test_properties():
    x = mgp.tensor(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.float32
    assert len(x) == 2
    assert x.T.shape == (3, 2) and x.T.numpy()[2, 1] == 5
    assert isinstance(x.numpy(), np.ndarray) and np.shares_memory(x.numpy(), x.data)
    assert mgp.tensor([[7.0]]).item() == 7.0 and isinstance(mgp.tensor(7.0).item(), float)
    with pytest.raises(ValueError, match=r"one element.*\(2, 3\)"):
        x.item()
    with pytest.raises(TypeError, match="0-d"):
        len(mgp.tensor(1.0))


def test_numpy_interop():
    x = mgp.tensor([1.0, 2.0], requires_grad=True)
    a = np.asarray(x)
    assert a.dtype == np.float32 and np.shares_memory(a, x.data)
    assert not np.shares_memory(np.array(x), x.data)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert mgp.tensor([mgp.tensor(1.0), mgp.tensor(2.0)]).numpy().tolist() == [1.0, 2.0]


def test_detach():
    x = randn(3)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf
    d = mgp.tensor([1.0], dtype=np.float64, requires_grad=True)
    assert d.detach().dtype == np.float64 and np.shares_memory(d.detach().data, d.data)


def test_repr():
    assert repr(mgp.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(mgp.tensor([1.0], requires_grad=True))
    assert "grad_fn=<multiply>" in repr(mgp.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=int64" in repr(mgp.tensor([1, 2]))


# ========================================= backward semantics ========================================

def test_backward_from_scalar():
    x = mgp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2, 4, 6])


def test_backward_with_explicit_grad():
    x = mgp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * 3).backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(x.grad, [3, 0, -3])
    assert x.grad.dtype == np.float32


def test_backward_errors_change_nothing():
    x = mgp.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"grad has shape \(3,\).*shape \(2,\)"):
        y.backward(np.ones(3))
    with pytest.raises(RuntimeError, match=r"one-element.*\(2,\)"):
        y.backward()
    assert x.grad is None
    y.backward(np.ones(2))  # the graph is intact after the refused calls
    np.testing.assert_allclose(x.grad, [2, 2])


def test_backward_on_tensor_not_requiring_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (mgp.tensor([1.0]) * 2).sum().backward()


@pytest.mark.parametrize("data", [[1, 2], [True, False]])
def test_requires_grad_only_for_floats(data):
    with pytest.raises(TypeError, match="floating-point"):
        mgp.tensor(data, requires_grad=True)


# ========================================= graph shapes ==============================================

def test_node_used_twice():
    x = mgp.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2, -4, 6])


@pytest.mark.parametrize("order", ["a+b", "b+a"])
def test_diamond(order):
    # b feeds r directly and through a; b's backward must wait for both contributions
    x = mgp.tensor(2.0, requires_grad=True)
    b = x * 2
    a = b * 3
    r = a + b if order == "a+b" else b + a
    r.backward()
    assert x.grad == 8.0


def test_deeper_diamonds():
    x = mgp.tensor([0.5, -1.0], requires_grad=True)
    h1 = x.exp()
    h2 = h1 * x
    h3 = h2 + h1
    out = (h3 * h1 + h2).sum()
    out.backward()
    e, v = np.exp(x.numpy()), x.numpy()
    # out = (e*v + e)*e + e*v = e^2 v + e^2 + e v
    expected = 2 * e * e * v + e * e + 2 * e * e + e * v + e
    np.testing.assert_allclose(x.grad, expected, rtol=1e-5)


@st.composite
def programs(draw):
    """A random DAG over two leaves: each step combines earlier nodes (fan-out, diamonds)."""
    steps = []
    for k in range(draw(st.integers(1, 12))):
        n = k + 2  # nodes so far: two leaves, then one per step
        steps.append((draw(st.sampled_from(["add", "mul", "sub", "tanh", "sum0"])),
                      draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
    return steps


def run_program(steps, x, y):
    nodes = [x, y]
    for op, i, j in steps:
        a, b = nodes[i], nodes[j]
        nodes.append({"add": lambda: a + b, "mul": lambda: a * b, "sub": lambda: a - b,
                      "tanh": lambda: a.tanh(), "sum0": lambda: a.sum(0, keepdims=True) * b}[op]())
    return sum(node.sum() for node in nodes[2:]) + nodes[-1].sum()  # every node reaches the output


@settings(max_examples=40, deadline=None)
@given(programs())
def test_random_graphs(steps):
    x = mgp.tensor(rng.uniform(-1, 1, (2, 3)), requires_grad=True)
    y = mgp.tensor(rng.uniform(-1, 1, (3,)), requires_grad=True)
    assert mgp.gradcheck(lambda x, y: run_program(steps, x, y), x, y)


def test_gradients_accumulate_across_backward_calls():
    x = mgp.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [5, 5])
    x.zero_grad()
    assert x.grad is None


@pytest.mark.parametrize("b_shape, reduce", [
    ((4,), lambda g: g.sum(axis=0)),
    ((1, 4), lambda g: g.sum(axis=0, keepdims=True)),
    ((3, 1), lambda g: g.sum(axis=1, keepdims=True)),
])
def test_bias_example(b_shape, reduce):
    x, b = randn(3, 4), randn(*b_shape)
    y = x + b
    upstream = rng.standard_normal((3, 4)).astype(np.float32)
    y.backward(upstream)
    assert b.grad.shape == b_shape
    np.testing.assert_allclose(b.grad, reduce(upstream), rtol=1e-6)
    np.testing.assert_allclose(x.grad, upstream)


# ============================================ retain_graph ===========================================

def test_second_backward_without_retain_graph_raises():
    x = mgp.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_shared_intermediate_is_freed_by_first_backward():
    x = mgp.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * h).sum().backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = mgp.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [4, 8])


@pytest.mark.parametrize("retain", [False, True])
def test_saved_intermediates_are_released(retain):
    x = mgp.tensor(np.ones(4), requires_grad=True)
    h = x * 2
    ref = weakref.ref(h)
    y = h.exp().sum()
    del h
    y.backward(retain_graph=retain)
    gc.collect()
    assert (ref() is not None) == retain


def test_long_chain_without_recursion():
    x = mgp.tensor(1.5, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = ops.negative(y)
    y.backward()
    assert y.item() == 1.5 and x.grad == 1.0


# ============================================== no_grad ==============================================

def _assert_no_graph(t):
    assert not t.requires_grad and t._parents == () and t._backward is None


def test_no_grad_context_manager():
    x = randn(3)
    with mgp.no_grad():
        y = (x * 2).exp().sum()
        assert not mgp.is_grad_enabled()
    _assert_no_graph(y)
    assert mgp.is_grad_enabled()
    assert (x * 2).requires_grad


@pytest.mark.parametrize("decorator", [mgp.no_grad(), mgp.no_grad], ids=["called", "bare"])
def test_no_grad_decorator(decorator):
    x = randn(3)

    @decorator
    def f(t, depth=2):  # calls itself: the decorator must restore the outer state on exit
        return f(t, depth - 1) if depth else (t * t).sum()

    _assert_no_graph(f(x))
    assert mgp.is_grad_enabled()


def test_no_grad_restores_after_exception_and_enable_grad_inside():
    x = randn(3)
    with pytest.raises(ZeroDivisionError):
        with mgp.no_grad():
            1 / 0
    assert mgp.is_grad_enabled()
    with mgp.no_grad():
        with mgp.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad


# =============================================== sum_to ==============================================

def test_sum_to_cases():
    g = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(sum_to(g, (3,)), [3, 5, 7])  # tinygrad 2020 crashed here
    np.testing.assert_array_equal(sum_to(g, (2, 1)), [[3], [12]])
    np.testing.assert_array_equal(sum_to(g, (1, 1)), [[15]])
    np.testing.assert_array_equal(sum_to(g, ()), 15)
    assert sum_to(g, (2, 3)) is g
    with pytest.raises(ValueError, match="larger"):
        sum_to(g, (1, 2, 3))


@st.composite
def broadcast_pairs(draw):
    """(shape, big): `shape` broadcasts to `big` by leading axes and expanded size-1 axes."""
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    big = lead + tuple(draw(st.integers(1, 4)) if n == 1 else n for n in shape)
    return shape, big


@settings(max_examples=50, deadline=None)
@given(broadcast_pairs(), st.integers(0, 2**32 - 1))
def test_sum_to_is_the_adjoint_of_broadcasting(pair, seed):
    shape, big = pair
    r = np.random.default_rng(seed)
    g, v = r.standard_normal(big), r.standard_normal(shape)
    summed = sum_to(g, shape)
    assert summed.shape == shape
    np.testing.assert_allclose((g * np.broadcast_to(v, big)).sum(), (summed * v).sum(),
                               rtol=1e-10, atol=1e-10)


# ============================================== errors ===============================================

@pytest.mark.parametrize("op, name", [(ops.add, "add"), (ops.subtract, "subtract"),
                                      (ops.multiply, "multiply"), (ops.divide, "divide"),
                                      (ops.maximum, "maximum"), (ops.power, "power")])
def test_broadcast_error_names_op_and_shapes(op, name):
    with pytest.raises(ValueError, match=rf"{name}.*\(2, 3\).*\(4,\)"):
        op(randn(2, 3), randn(4))


@pytest.mark.parametrize("a, b, why", [
    ((2, 3), (4, 5), r"inner dimensions differ \(3 != 4\)"),
    ((3,), (4,), "inner"),
    ((2, 3, 4), (5, 4, 2), "batch dimensions"),
])
def test_matmul_error_names_shapes(a, b, why):
    with pytest.raises(ValueError, match=rf"matmul.*{tuple_re(a)}.*{tuple_re(b)}.*{why}"):
        randn(*a) @ randn(*b)
    with pytest.raises(ValueError, match="at least 1-D"):
        ops.matmul(randn(), randn(3))


def tuple_re(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_other_shape_errors():
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        randn(2, 3).reshape(4)
    with pytest.raises(ValueError, match=r"broadcast_to.*\(3,\).*\(4,\)"):
        randn(3).broadcast_to((4,))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        randn(2, 3).sum(axis=2)
    with pytest.raises(ValueError, match="permutation"):
        randn(2, 3).transpose(0, 0)


# ============================================= gradcheck =============================================

def _wrong_square(x):
    """x**2 whose backward forgets the factor 2 at one element."""
    out = x.data ** 2

    def backward(g):
        d = 2 * x.data
        d.flat[-1] = x.data.flat[-1]
        return (g * d,)
    return mgp.Tensor._make(out, (x,), backward, "wrong_square")


def test_gradcheck_names_the_failing_input_and_element():
    ok = mgp.tensor(rng.standard_normal(3), requires_grad=True)
    x = mgp.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(mgp.GradcheckError,
                       match=r"input 1 \(shape \(2, 2\)\) at element \(1, 1\): analytic .*"
                             r"numerical .*\(1 of 4 elements differ\)"):
        mgp.gradcheck(lambda a, b: a.sum() + _wrong_square(b), ok, x)
    with pytest.raises(mgp.GradcheckError, match="random direction"):
        mgp.gradcheck(_wrong_square, x, fast=True)
    assert mgp.gradcheck(lambda t: t ** 2, x) and mgp.gradcheck(lambda t: t ** 2, x, fast=True)


def test_gradcheck_leaves_inputs_alone_and_handles_non_contiguous_ones():
    base = rng.standard_normal((3, 4))
    x = mgp.tensor(base.T, dtype=np.float64, requires_grad=True)  # a transposed view
    before = x.numpy().copy()
    assert mgp.gradcheck(lambda t: (t * t.exp()).sum(axis=0), x)
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.grad is None
    with pytest.raises(ValueError, match="no input requires grad"):
        mgp.gradcheck(lambda t: t * 2, mgp.tensor([1.0]))


def test_broadcasting_example_runs(capsys):
    import runpy
    from pathlib import Path
    runpy.run_path(str(Path(__file__).parents[1] / "examples" / "broadcasting.py"))
    out = capsys.readouterr().out
    assert "b.grad = upstream.sum(axis=0) = [18. 22. 26.]" in out
    assert "gradcheck(swish): True" in out and "caught the mistake" in out
