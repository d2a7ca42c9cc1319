import warnings

import numpy as np
import pytest

import oracles

import mgp
from mgp import optimizers
from mgp.variables import Variable

f32 = np.float32
W0 = np.array([[0.5, -1.0], [2.0, 0.25]], f32)
GRADS = [np.array([[0.1, -0.2], [0.3, 0.05]], f32),
         np.array([[-0.4, 0.1], [0.2, -0.3]], f32),
         np.array([[0.25, 0.5], [-0.1, 0.15]], f32)]


def run(opt, steps=3):
    w = Variable(W0.copy(), name="kernel")
    for g in GRADS[:steps]:
        opt.apply([g], [w])
    return w.data


# ---- each optimizer against the update written out in NumPy ----------------------------------------

def test_sgd_plain():
    w = W0.copy()
    for g in GRADS:
        w = w - f32(0.01) * g
    np.testing.assert_allclose(run(optimizers.SGD()), w, rtol=1e-6)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum(nesterov):
    lr, mu = 0.1, 0.9
    w, m = W0.copy(), np.zeros_like(W0)
    for g in GRADS:
        m = mu * m - lr * g
        w = w + (mu * m - lr * g if nesterov else m)
    np.testing.assert_allclose(run(optimizers.SGD(lr, momentum=mu, nesterov=nesterov)), w,
                               rtol=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam(amsgrad):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    w, m, v, vhat = W0.copy(), 0 * W0, 0 * W0, 0 * W0
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vhat = np.maximum(vhat, v)
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)  # Keras's bias-correction form
        w = w - alpha * m / (np.sqrt(vhat if amsgrad else v) + eps)
    out = run(optimizers.Adam(lr, amsgrad=amsgrad))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, w, rtol=1e-5)


def test_adamw_decays_before_the_adam_step():
    lr, wd, b1, b2, eps = 0.01, 0.004, 0.9, 0.999, 1e-7
    w, m, v = W0.copy(), 0 * W0, 0 * W0
    for t, g in enumerate(GRADS, start=1):
        w = w - w * wd * lr
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(run(optimizers.AdamW(lr)), w, rtol=1e-5)
    assert optimizers.AdamW().weight_decay == 0.004
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)


@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.0, True),
                                               (0.5, True)])
def test_rmsprop(momentum, centered):
    lr, rho, eps = 0.01, 0.9, 1e-7
    w, v, a, mom = W0.copy(), 0 * W0, 0 * W0, 0 * W0
    for g in GRADS:
        v = rho * v + (1 - rho) * g * g
        a = rho * a + (1 - rho) * g
        denominator = v - a * a + eps if centered else v + eps  # epsilon inside the sqrt
        inc = lr * g / np.sqrt(denominator)
        mom = momentum * mom + inc
        w = w - (mom if momentum else inc)
    out = run(optimizers.RMSprop(lr, momentum=momentum, centered=centered))
    np.testing.assert_allclose(out, w, rtol=1e-5)


def test_adagrad():
    lr, eps = 0.1, 1e-7
    w, acc = W0.copy(), np.full_like(W0, 0.1)
    for g in GRADS:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
    np.testing.assert_allclose(run(optimizers.Adagrad(lr)), w, rtol=1e-6)


def test_sgd_weight_decay():
    lr, wd = 0.1, 0.01
    w = W0.copy()
    for g in GRADS:
        w = w - w * wd * lr
        w = w - lr * g
    np.testing.assert_allclose(run(optimizers.SGD(lr, weight_decay=wd)), w, rtol=1e-6)


def test_exclude_from_weight_decay():
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    w, b = Variable(np.ones(2, f32), name="kernel"), Variable(np.ones(2, f32), name="bias")
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply([np.zeros(2, f32), np.zeros(2, f32)], [w, b])
    np.testing.assert_allclose(w.data, 0.95)
    np.testing.assert_allclose(b.data, 1.0)


def test_gradient_clipping():
    g = np.array([3.0, 4.0], f32)  # norm 5
    for kwargs, expected in [({"clipnorm": 1.0}, g / 5), ({"clipvalue": 3.5}, [3.0, 3.5]),
                             ({"global_clipnorm": 2.5}, g / 2)]:
        w = Variable(np.zeros(2, f32))
        optimizers.SGD(1.0, **kwargs).apply([g], [w])
        np.testing.assert_allclose(-w.data, expected, rtol=1e-6)
    # the global norm is over all gradients together
    a, b = Variable(np.zeros(1, f32)), Variable(np.zeros(1, f32))
    optimizers.SGD(1.0, global_clipnorm=1.0).apply([np.array([3.0], f32), np.array([4.0], f32)],
                                                   [a, b])
    np.testing.assert_allclose([-a.data[0], -b.data[0]], [0.6, 0.8], rtol=1e-6)
    with pytest.raises(ValueError, match="only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


# ---- the engine, the arrays, the bookkeeping ---------------------------------------------------------

def test_trains_a_tiny_regression_through_the_engine():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(f32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], f32)
    w = Variable(np.zeros((3, 1), f32), name="kernel")
    opt = optimizers.Adam(0.05)
    for _ in range(300):
        loss = ((mgp.tensor(x) @ w - y) ** 2).mean()
        w.grad = None
        loss.backward()
        opt.apply([w.grad], [w])
    assert float(loss) < 1e-3
    assert w.dtype == np.float32 and all(v.dtype != np.float64 for v in opt.variables)


def test_updates_never_write_into_arrays_passed_in():
    init = W0.copy()
    w = Variable(init, name="kernel")
    g = GRADS[0].copy()
    opt = optimizers.SGD(0.1, momentum=0.9)
    opt.apply([g], [w])
    np.testing.assert_array_equal(init, W0)  # w took `init` without copying; still untouched
    np.testing.assert_array_equal(g, GRADS[0])
    shared = W0.copy()
    w.assign(shared)  # e.g. set_weights after training started
    opt.apply([g], [w])
    np.testing.assert_array_equal(shared, W0)


def test_none_gradients_skip_the_variable_and_warn():
    a, b = Variable(np.ones(2, f32), name="a"), Variable(np.ones(2, f32), name="b")
    opt = optimizers.SGD(0.5)
    with pytest.warns(UserWarning, match="b"):
        opt.apply([np.ones(2, f32), None], [a, b])
    np.testing.assert_allclose(a.data, 0.5)
    np.testing.assert_allclose(b.data, 1.0)
    assert opt.iterations == 1
    with pytest.raises(ValueError, match="no gradients"):
        opt.apply([None, None], [a, b])


def test_apply_gradients_pairs_and_tensor_gradients():
    w = Variable(np.ones(2, f32))
    opt = optimizers.SGD(0.5)
    assert opt.apply_gradients([(mgp.tensor([1.0, 2.0]), w)]) == 1
    np.testing.assert_allclose(w.data, [0.5, 0.0])
    opt.apply([np.ones(2, f32)])  # the variables it was built on
    np.testing.assert_allclose(w.data, [0.0, -0.5])


def test_apply_errors():
    w = Variable(np.ones(2, f32), name="kernel")
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="not built"):
        opt.apply([np.ones(2, f32)])
    opt.apply([np.ones(2, f32)], [w])
    with pytest.raises(ValueError, match="unknown variable"):
        opt.apply([np.ones(2, f32)], [Variable(np.ones(2, f32))])
    with pytest.raises(ValueError, match=r"shape \(3,\).*'kernel' of shape \(2,\)"):
        opt.apply([np.ones(3, f32)], [w])
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        opt.apply([np.ones(2, f32)] * 2, [w])


def test_learning_rate_setter():
    opt = optimizers.Adam(learning_rate=0.01)
    assert opt.learning_rate == pytest.approx(0.01)
    opt.learning_rate = 0.5
    assert opt.learning_rate == pytest.approx(0.5)
    w = Variable(np.zeros(1, f32))
    sgd = optimizers.SGD(1.0)
    sgd.apply([np.ones(1, f32)], [w])
    sgd.learning_rate = 0.25  # as a callback would, between epochs
    sgd.apply([np.ones(1, f32)], [w])
    np.testing.assert_allclose(w.data, [-1.25])
    with pytest.raises(ValueError, match="learning_rate must be a float"):
        sgd.learning_rate = "fast"


def test_learning_rate_schedule():
    opt = optimizers.SGD(learning_rate=lambda step: 1.0 / (step + 1))
    w = Variable(np.zeros(1, f32))
    for _ in range(3):
        opt.apply([np.ones(1, f32)], [w])
    np.testing.assert_allclose(w.data, [-(1 + 1 / 2 + 1 / 3)], rtol=1e-6)
    assert [v.name.split("/")[1] for v in opt.variables] == ["iteration"]  # no lr variable
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.1


def test_state_order_matches_keras():
    # Keras 3 creates the slots per model variable, interleaved for several names in one call,
    # and call by call: Adam (m, v) per variable then the velocity_hats; RMSprop all velocities,
    # then momentums, then average gradients.
    k, b = Variable(np.ones((2, 3), f32), name="kernel"), Variable(np.ones(3, f32), name="bias")
    cases = {
        optimizers.Adam(amsgrad=True, name="adam"): [
            "kernel_momentum", "kernel_velocity", "bias_momentum", "bias_velocity",
            "kernel_velocity_hat", "bias_velocity_hat"],
        optimizers.RMSprop(momentum=0.5, centered=True, name="rms"): [
            "kernel_velocity", "bias_velocity", "kernel_momentum", "bias_momentum",
            "kernel_average_gradient", "bias_average_gradient"],
        optimizers.SGD(momentum=0.9, name="sgd"): ["kernel_momentum", "bias_momentum"],
        optimizers.SGD(name="plain"): [],
        optimizers.Adagrad(name="ada"): ["kernel_accumulator", "bias_accumulator"],
    }
    for opt, slots in cases.items():
        opt.build([k, b])
        names = [v.name for v in opt.variables]
        assert names == [f"{opt.name}/{n}" for n in ["iteration", "learning_rate"] + slots]
        assert opt.variables[0].dtype == np.int64 and opt.variables[0].shape == ()
        assert opt.variables[1].dtype == np.float32 and opt.variables[1].shape == ()
    assert all(np.all(v.data == 0.1) for v in opt.variables[2:])  # Adagrad's initial value


def test_default_names_as_keras():
    mgp.backend.clear_session()
    names = [optimizers.Adam().name, optimizers.Adam().name, optimizers.AdamW().name,
             optimizers.RMSprop().name, optimizers.SGD().name, optimizers.Adagrad().name]
    assert names == ["adam", "adam_1", "adam_w", "rm_sprop", "sgd", "adagrad"]


@pytest.mark.parametrize("make", [lambda: optimizers.Adam(0.01, amsgrad=True),
                                  lambda: optimizers.RMSprop(momentum=0.5, centered=True),
                                  lambda: optimizers.SGD(0.1, momentum=0.9),
                                  lambda: optimizers.Adagrad(0.1)])
def test_state_round_trip_continues_exactly(make):
    """Save after two steps, restore into a fresh optimizer, and the third step is identical."""
    opt = make()
    w = Variable(W0.copy(), name="kernel")
    for g in GRADS[:2]:
        opt.apply([g], [w])
    store = {}
    opt.save_own_variables(store)
    saved_w = w.data.copy()
    opt.apply([GRADS[2]], [w])

    fresh = make()
    w2 = Variable(saved_w, name="kernel")
    fresh.build([w2])
    fresh.load_own_variables(store)
    assert fresh.iterations == 2
    fresh.apply([GRADS[2]], [w2])
    np.testing.assert_array_equal(w2.data, w.data)
    for a, b in zip(fresh.variables, opt.variables):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_round_trip_through_hdf5(tmp_path):
    h5py = pytest.importorskip("h5py")
    opt = optimizers.Adam(0.01)
    w = Variable(W0.copy())
    opt.apply([GRADS[0]], [w])
    opt.learning_rate = 0.002
    with h5py.File(tmp_path / "opt.h5", "w") as f:
        opt.save_own_variables(f.create_group("optimizer/vars"))
    fresh = optimizers.Adam()
    fresh.build([Variable(W0.copy())])
    with h5py.File(tmp_path / "opt.h5", "r") as f:
        fresh.load_own_variables(f["optimizer/vars"])
    assert fresh.iterations == 1 and fresh.learning_rate == pytest.approx(0.002)
    for a, b in zip(fresh.variables, opt.variables):
        np.testing.assert_array_equal(a.data, b.data)


def test_restore_errors_leave_the_state_unchanged():
    opt = optimizers.SGD(0.1, momentum=0.9)
    w = Variable(W0.copy())
    with pytest.raises(ValueError, match="not built"):
        opt.set_weights([np.array(0), np.array(0.1, f32), np.zeros((2, 2), f32)])
    opt.apply([GRADS[0]], [w])
    before = [v.data.copy() for v in opt.variables]
    with pytest.raises(ValueError, match=r"has 3 state variables, got 2"):
        opt.set_weights([np.array(5), np.array(0.1, f32)])
    with pytest.raises(ValueError, match=r"shape \(2, 2\), got \(3,\)"):
        opt.set_weights([np.array(5), np.array(0.5, f32), np.zeros(3, f32)])
    for a, b in zip(opt.variables, before):
        np.testing.assert_array_equal(a.data, b)


def test_config_round_trip_and_get():
    opt = optimizers.RMSprop(learning_rate=0.01, rho=0.8, momentum=0.1, centered=True,
                             clipnorm=1.0, name="my_rms")
    config = opt.get_config()
    assert config["rho"] == 0.8 and config["name"] == "my_rms"
    clone = optimizers.RMSprop.from_config(config)
    assert clone.get_config() == config
    assert optimizers.get({"class_name": "RMSprop", "config": config}).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(opt)).get_config() == config
    for name, cls in [("sgd", optimizers.SGD), ("adam", optimizers.Adam),
                      ("adamw", optimizers.AdamW), ("rmsprop", optimizers.RMSprop),
                      ("adagrad", optimizers.Adagrad), ("Adam", optimizers.Adam)]:
        assert type(optimizers.get(name)) is cls
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamax'; known: \['adagrad', "
                                         r"'adam', 'adamw', 'rmsprop', 'sgd'\]"):
        optimizers.get("adamax")
    # Keras's config keys load when left at their defaults
    optimizers.Adam.from_config({**optimizers.Adam().get_config(), "use_ema": False,
                                 "loss_scale_factor": None})
    with pytest.raises(NotImplementedError, match="use_ema"):
        optimizers.Adam(use_ema=True)
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(betaa_1=0.9)


def test_keras_defaults():
    assert optimizers.SGD().get_config()["learning_rate"] == pytest.approx(0.01)
    adam = optimizers.Adam().get_config()
    assert (adam["beta_1"], adam["beta_2"], adam["epsilon"], adam["amsgrad"]) == \
        (0.9, 0.999, 1e-7, False)
    rms = optimizers.RMSprop().get_config()
    assert (rms["rho"], rms["momentum"], rms["epsilon"], rms["centered"]) == \
        (0.9, 0.0, 1e-7, False)
    assert optimizers.Adagrad().get_config()["initial_accumulator_value"] == 0.1


# ---- against Keras itself, when installed -------------------------------------------------------------

KERAS_CASES = [
    ("SGD", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True, "clipnorm": 0.5}),
    ("AdamW", {"learning_rate": 0.01, "global_clipnorm": 0.7}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True, "clipvalue": 0.2}),
    ("Adagrad", {"learning_rate": 0.1}),
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # inside Keras's torch backend
@pytest.mark.parametrize("cls,kwargs", KERAS_CASES)
def test_matches_keras(cls, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras = oracles.keras()
    rng = np.random.default_rng(1)
    inits = [rng.standard_normal((3, 4)).astype(f32), rng.standard_normal(4).astype(f32)]
    k_vars = [keras.Variable(a.copy()) for a in inits]
    m_vars = [Variable(a.copy(), name=n) for a, n in zip(inits, ["kernel", "bias"])]
    k_opt = getattr(keras.optimizers, cls)(**kwargs)
    m_opt = getattr(optimizers, cls)(**kwargs)
    for step in range(5):
        grads = [rng.standard_normal(a.shape).astype(f32) for a in inits]
        k_opt.apply([keras.ops.convert_to_tensor(g) for g in grads], k_vars)
        m_opt.apply(grads, m_vars)
        if step == 2:  # a callback changing the learning rate
            k_opt.learning_rate = 0.005
            m_opt.learning_rate = 0.005
    for k, m in zip(k_vars, m_vars):
        np.testing.assert_allclose(m.data, keras.ops.convert_to_numpy(k), rtol=2e-5, atol=1e-6)
    # the state, in order: iteration, learning_rate, then the slots as Keras creates them
    k_state = [keras.ops.convert_to_numpy(v) for v in k_opt.variables]
    m_state = [v.data for v in m_opt.variables]
    assert [s.shape for s in m_state] == [s.shape for s in k_state]
    for k, m in zip(k_state, m_state):
        np.testing.assert_allclose(m, k, rtol=2e-5, atol=1e-6)


def test_build_twice_is_a_no_op():
    opt = optimizers.Adam()
    w = Variable(W0.copy())
    opt.build([w])
    opt.build([w])
    assert len(opt.variables) == 4


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("cls", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_configs_cross_over_with_keras(cls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras = oracles.keras()
    k_opt = getattr(keras.optimizers, cls)(learning_rate=0.25, clipnorm=2.0)
    m_opt = optimizers.deserialize(keras.optimizers.serialize(k_opt))
    assert type(m_opt).__name__ == cls and m_opt.learning_rate == 0.25
    back = keras.optimizers.deserialize(optimizers.serialize(m_opt)).get_config()
    assert {k: back[k] for k in m_opt.get_config()} == m_opt.get_config()
