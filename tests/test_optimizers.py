import numpy as np
import pytest

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



@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_flat_update_equals_the_per_weight_one(amsgrad):
    """Adam updates all weights at once on flat arrays (its slots are views into them); a
    subclass with its own update_step takes the per-weight path. Both give the same bits, also
    after set_weights replaced the slots' arrays mid-way, and apply on a subset of the weights
    falls back to the per-weight path."""
    class PerWeight(optimizers.Adam):
        def update_step(self, g, variable, lr):
            super().update_step(g, variable, lr)

    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,), (4, 2)]
    start = [rng.standard_normal(s).astype(f32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(f32) for s in shapes] for _ in range(6)]
    results, opts = [], []
    for make in (optimizers.Adam, PerWeight):
        opt = make(0.01, amsgrad=amsgrad)
        ws = [Variable(a.copy()) for a in start]
        for step, gs in enumerate(grads):
            if step == 3:  # fresh arrays for every slot: the flat path must pick them up
                opt.set_weights([np.asarray(v.data) * f32(1.5) for v in opt.variables])
            if step == 4:
                opt.apply(gs[:1], ws[:1])
            else:
                opt.apply(gs, ws)
        results.append(([w.data.copy() for w in ws], [np.asarray(v.data) for v in opt.variables]))
        opts.append(opt)
    (w_flat, s_flat), (w_each, s_each) = results
    for a, b in zip(w_flat + s_flat, w_each + s_each):
        np.testing.assert_array_equal(a, b)
    groups = [opts[0]._momentums, opts[0]._velocities] + \
        ([opts[0]._velocity_hats] if amsgrad else [])
    assert all([v.data.shape for v in group] == shapes for group in groups)
    assert opts[0]._momentums[0].data.base is not None  # the flat path did run: a view

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
    opt.apply([], [])  # nothing to apply: not a step either, as in Keras
    assert opt.iterations == 2


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
    with pytest.raises(ValueError, match=r"SGD 'sgd\w*': learning_rate must be a non-negative "
                                         r"float.*got 'fast'"):
        sgd.learning_rate = "fast"
    with pytest.raises(ValueError, match="got -0.5"):
        sgd.learning_rate = -0.5
    np.testing.assert_allclose(sgd.learning_rate, 0.25)


def test_learning_rate_schedule_and_callable():
    class Harmonic(optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / (step + 1)

    opt = optimizers.SGD(learning_rate=Harmonic())
    w = Variable(np.zeros(1, f32))
    for _ in range(3):
        opt.apply([np.ones(1, f32)], [w])
    np.testing.assert_allclose(w.data, [-(1 + 1 / 2 + 1 / 3)], rtol=1e-6)
    # a plain callable takes no arguments, as in Keras
    rate = {"now": 0.5}
    sgd = optimizers.SGD(learning_rate=lambda: rate["now"])
    v = Variable(np.zeros(1, f32))
    sgd.apply([np.ones(1, f32)], [v])
    rate["now"] = 0.25
    sgd.apply([np.ones(1, f32)], [v])
    np.testing.assert_allclose(v.data, [-0.75])
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
                      ("adagrad", optimizers.Adagrad), ("Adam", optimizers.Adam),
                      ("adamax", optimizers.Adamax), ("Nadam", optimizers.Nadam),
                      ("adadelta", optimizers.Adadelta), ("ftrl", optimizers.Ftrl),
                      ("lion", optimizers.Lion), ("lamb", optimizers.Lamb),
                      ("adafactor", optimizers.Adafactor), ("muon", optimizers.Muon),
                      ("schedulefreeadamw", optimizers.ScheduleFreeAdamW)]:
        assert type(optimizers.get(name)) is cls
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamx'; known: \['adadelta', "
                                         r"'adafactor', 'adagrad', 'adam', 'adamax', 'adamw'"):
        optimizers.get("adamx")
    with pytest.raises(ValueError, match=r"Adam: argument\(s\) not recognized: \['betaa_1'\]"):
        optimizers.Adam(betaa_1=0.9)
    with pytest.warns(UserWarning, match="decay"):  # Keras 2's argument, ignored as Keras 3 does
        optimizers.SGD(decay=0.1)


def test_keras_defaults():
    assert optimizers.SGD().get_config()["learning_rate"] == pytest.approx(0.01)
    adam = optimizers.Adam().get_config()
    assert (adam["beta_1"], adam["beta_2"], adam["epsilon"], adam["amsgrad"]) == \
        (0.9, 0.999, 1e-7, False)
    rms = optimizers.RMSprop().get_config()
    assert (rms["rho"], rms["momentum"], rms["epsilon"], rms["centered"]) == \
        (0.9, 0.0, 1e-7, False)
    assert optimizers.Adagrad().get_config()["initial_accumulator_value"] == 0.1


def test_build_twice_is_a_no_op():
    opt = optimizers.Adam()
    w = Variable(W0.copy())
    opt.build([w])
    opt.build([w])
    assert len(opt.variables) == 4




# ---- bad input: a clear error naming the optimizer and what it got, before anything changes -------

BAD_ARGUMENTS = [
    (lambda: optimizers.Adam(-0.1), r"Adam: learning_rate must be a non-negative .*got -0\.1"),
    (lambda: optimizers.SGD("fast"), r"SGD: learning_rate .*got 'fast'"),
    (lambda: optimizers.SGD(momentum=1.5), r"SGD: momentum must be a float in \[0.0, 1.0\], got 1.5"),
    (lambda: optimizers.Adam(beta_1=-1), r"Adam: beta_1 must be .*got -1"),
    (lambda: optimizers.Lion(beta_1=0.0), r"Lion: beta_1 must be a float in \(0.0, 1.0\], got 0"),
    (lambda: optimizers.Ftrl(learning_rate_power=0.5), r"Ftrl: learning_rate_power must be <= 0"),
    (lambda: optimizers.Ftrl(l1_regularization_strength=-1), r"Ftrl: l1_regularization_strength"),
    (lambda: optimizers.Adam(clipnorm=1.0, clipvalue=1.0), r"Adam: only one of clipnorm"),
    (lambda: optimizers.Adam(clipnorm=-1.0), r"Adam: clipnorm must be a non-negative"),
    (lambda: optimizers.Adam(gradient_accumulation_steps=1),
     r"Adam: gradient_accumulation_steps must be an integer >= 2, got 1"),
    (lambda: optimizers.Adam(use_ema=True, ema_momentum=1.5), r"Adam: ema_momentum .*got 1.5"),
    (lambda: optimizers.Adam(use_ema=True, ema_overwrite_frequency=0.5),
     r"ema_overwrite_frequency must be an integer >= 1"),
    (lambda: optimizers.AdamW(weight_decay=None), r"AdamW: weight_decay must be a float"),
    (lambda: optimizers.Muon(ns_steps=-1), r"Muon: ns_steps"),
    (lambda: optimizers.LossScaleOptimizer("adam"), r"LossScaleOptimizer wraps an Optimizer"),
    (lambda: optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0),
     r"LossScaleOptimizer does not support clipnorm"),
    (lambda: optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False), r"dynamic=False"),
    (lambda: optimizers.MultiOptimizer(optimizers.SGD()), r"MultiOptimizer: optimizer_map"),
    (lambda: optimizers.OptimizerMap(optimizers.SGD(), {"a": "adam"}),
     r"OptimizerMap: 'a' must map to an Optimizer"),
    (lambda: optimizers.get(3), r"could not interpret optimizer identifier 3"),
    (lambda: optimizers.schedules.ExponentialDecay(0.1, 0, 0.9),
     r"ExponentialDecay: decay_steps must be > 0, got 0"),
    (lambda: optimizers.schedules.PiecewiseConstantDecay([1, 2], [1.0]),
     r"boundaries must have one element less than values"),
    (lambda: optimizers.schedules.PiecewiseConstantDecay([2, 1], [1.0, 0.5, 0.1]),
     r"strictly increasing, got \[2, 1\]"),
    (lambda: optimizers.schedules.deserialize({"class_name": "Nope", "config": {}}),
     r"unknown learning-rate schedule 'Nope'"),
]


@pytest.mark.parametrize("make,message", BAD_ARGUMENTS)
def test_bad_arguments_say_what_they_got(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def _all_optimizers():
    return [optimizers.SGD(0.1, momentum=0.9), optimizers.Adam(use_ema=True),
            optimizers.Nadam(gradient_accumulation_steps=2), optimizers.Adafactor(),
            optimizers.Ftrl(), optimizers.Muon(), optimizers.ScheduleFreeAdamW(),
            optimizers.LossScaleOptimizer(optimizers.Adam()),
            optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD(),
                                                              {"bias": optimizers.Adam()}))]


BAD_GRADIENTS = [
    (lambda k, b: ([np.ones((2, 3), f32)], [k, b]), r"got 1 gradients for 2 variables"),
    (lambda k, b: ([np.ones((3, 2), f32), np.ones(3, f32)], [k, b]),
     r"gradient of shape \(3, 2\) for variable 'kernel' of shape \(2, 3\)"),
    (lambda k, b: ([np.ones((2, 3), f32), np.array(["a", "b", "c"])], [k, b]),
     r"gradient for variable 'bias' has dtype <U1"),
    (lambda k, b: ([None, None], [k, b]), r"no gradients provided for any variable"),
    (lambda k, b: ([np.ones((2, 3), f32)], [np.ones((2, 3), f32)]), r"updates Variables"),
]


@pytest.mark.parametrize("make_opt", range(9), ids=lambda i: type(_all_optimizers()[i]).__name__)
@pytest.mark.parametrize("make,message", BAD_GRADIENTS)
def test_bad_gradients_change_nothing(make_opt, make, message):
    """Refused before building (the first call) and after (a later one): the weights and the
    optimizer's state stay bit for bit as they were, and the error names the optimizer."""
    opt = _all_optimizers()[make_opt]
    k = Variable(np.arange(6, dtype=f32).reshape(2, 3), name="kernel")
    b = Variable(np.ones(3, f32), name="bias")
    grads, variables = make(k, b)
    with pytest.raises((ValueError, TypeError), match=rf"{type(opt).__name__} '{opt.name}'"):
        opt.apply(grads, variables)
    assert not opt.built and opt.iterations == 0
    opt.apply([np.ones((2, 3), f32), np.ones(3, f32)], [k, b])
    before = [v.numpy().copy() for v in opt.variables] + [k.numpy().copy(), b.numpy().copy()]
    with pytest.raises((ValueError, TypeError), match=message):
        opt.apply(*make(k, b))
    after = [v.numpy() for v in opt.variables] + [k.numpy(), b.numpy()]
    for x, y in zip(after, before):
        np.testing.assert_array_equal(x, y)


def test_unknown_variables_and_unbuilt_apply():
    opt = optimizers.Nadam()
    w = Variable(np.ones(2, f32), name="w")
    with pytest.raises(ValueError, match=r"Nadam 'nadam\w*' is not built"):
        opt.apply([np.ones(2, f32)])
    opt.apply([np.ones(2, f32)], [w])
    with pytest.raises(ValueError, match=r"unknown variable <Variable 'stranger'"):
        opt.apply([np.ones(2, f32)], [Variable(np.ones(2, f32), name="stranger")])


# ---- the base options -----------------------------------------------------------------------------

def test_gradient_accumulation_updates_every_n_calls_with_the_mean():
    w, reference = Variable(np.zeros(2, f32)), Variable(np.zeros(2, f32))
    opt, plain = optimizers.SGD(1.0, gradient_accumulation_steps=3), optimizers.SGD(1.0)
    grads = [np.array([1.0, 2.0], f32), np.array([4.0, -2.0], f32), np.array([1.0, 3.0], f32)]
    for i, g in enumerate(grads):
        opt.apply([g], [w])
        if i < 2:
            np.testing.assert_array_equal(w.data, 0)  # only accumulated
    plain.apply([sum(grads) / 3], [reference])
    np.testing.assert_allclose(w.data, reference.data, rtol=1e-6)
    assert opt.iterations == 1 and int(opt._iterations.data) == 3
    np.testing.assert_array_equal(opt._accumulated_gradients[0].data, 0)  # reset after use


def test_ema_tracks_the_weights_and_finalize_sets_them():
    w = Variable(np.zeros(1, f32))
    opt = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    for _ in range(3):
        opt.apply([np.ones(1, f32)], [w])
    # weights -1, -2, -3; the average copies the first, then 0.5 * average + 0.5 * weight
    np.testing.assert_allclose(opt._model_variables_moving_average[0].data, [-2.25])
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w.data, [-2.25])


def test_loss_scaling():
    opt = optimizers.SGD(1.0, loss_scale_factor=4.0)
    w = Variable(np.zeros(1, f32))
    assert float(opt.scale_loss(mgp.tensor(2.0))) == 8.0
    opt.apply([np.full(1, 4.0, f32)], [w])  # gradients of the scaled loss
    np.testing.assert_allclose(w.data, [-1.0])
    lso = optimizers.LossScaleOptimizer(optimizers.SGD(1.0), initial_scale=8.0,
                                        dynamic_growth_steps=2)
    v = Variable(np.zeros(1, f32))
    assert float(lso.scale_loss(mgp.tensor(1.0))) == 8.0
    scales = []
    for g in [8.0, np.inf, 4.0, 4.0, 16.0]:
        lso.apply([np.full(1, g, f32)], [v])
        scales.append(float(lso.dynamic_scale.data))
    # inf: skipped and halved; two finite steps in a row: doubled
    assert scales == [8.0, 4.0, 4.0, 8.0, 8.0]
    np.testing.assert_allclose(v.data, [-1 - 1 - 1 - 2])
    assert lso.iterations == 4 and lso.learning_rate == 1.0


def test_multi_optimizer_routes_each_variable():
    k, b = Variable(np.zeros(2, f32), name="kernel"), Variable(np.zeros(2, f32), name="bias")
    adam, sgd = optimizers.Adam(0.1), optimizers.SGD(1.0)
    opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd, {"ker.*": adam}))
    opt.apply([np.ones(2, f32), np.ones(2, f32)], [k, b])
    np.testing.assert_allclose(b.data, [-1.0, -1.0])  # SGD's step
    np.testing.assert_allclose(k.data, [-0.1, -0.1], rtol=1e-5)  # Adam's first step
    assert opt.optimizers == [adam, sgd] and adam.iterations == sgd.iterations == 1
    with pytest.raises(AttributeError, match="no learning rate of its own"):
        _ = opt.learning_rate
    callable_map = optimizers.MultiOptimizer(lambda v: adam if v.name == "kernel" else sgd)
    assert callable_map.optimizers == []
    mapping = optimizers.OptimizerMap(sgd)
    mapping["enc/.*"] = adam
    mapping["enc/.*a"] = optimizers.SGD()
    assert mapping["dec/x"] is sgd and mapping["enc/b"] is adam
    with pytest.raises(ValueError, match="matches several keys"):
        mapping["enc/a"]
    with pytest.raises(ValueError, match="already mapped"):
        mapping["enc/.*"] = adam


def test_a_keras_style_custom_optimizer_runs():
    """An optimizer written the way Keras's guide writes one: slots from references, the assign
    helpers, Tensor arithmetic on the variables."""
    class MomentumSGD(optimizers.Optimizer):
        def __init__(self, learning_rate=0.1, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)
            self.momentum = 0.9

        def build(self, variables):
            super().build(variables)
            self.momentums = [self.add_variable_from_reference(v, name="momentum")
                              for v in variables]

        def update_step(self, gradient, variable, learning_rate):
            m = self.momentums[self._get_variable_index(variable)]
            self.assign(m, m * self.momentum - gradient * learning_rate)
            self.assign_add(variable, m)

    w, reference = Variable(W0.copy(), name="kernel"), Variable(W0.copy(), name="kernel")
    custom, builtin = MomentumSGD(), optimizers.SGD(0.1, momentum=0.9)
    for g in GRADS:
        custom.apply([g], [w])
        builtin.apply([g], [reference])
    np.testing.assert_allclose(w.data, reference.data, rtol=1e-6)
    assert [v.name for v in custom.variables][2:] == ["momentum_sgd/kernel_momentum"]
    assert not w.requires_grad or w._parents == ()  # updated outside the graph


def test_constraint_hook():
    class ConstrainedVariable(Variable):
        __slots__ = ("constraint",)

    w = ConstrainedVariable(np.array([0.5, -0.5], f32), name="w")
    w.constraint = lambda v: mgp.ops.clip(v, -0.2, 0.2)  # a Tensor back, as mgp.constraints give
    optimizers.SGD(0.1).apply([np.ones(2, f32)], [w])
    np.testing.assert_allclose(w.data, [0.2, -0.2])


TRAINERS = [
    lambda o: o.SGD(0.1, momentum=0.9), lambda o: o.Adam(0.1), lambda o: o.AdamW(0.1),
    lambda o: o.Adamax(0.1), lambda o: o.Nadam(0.1), lambda o: o.Lion(0.05),
    lambda o: o.Lamb(0.1), lambda o: o.Adafactor(1.0), lambda o: o.Ftrl(1.0),
    lambda o: o.Adadelta(50.0), lambda o: o.RMSprop(0.05), lambda o: o.Adagrad(0.5),
    lambda o: o.Muon(0.1), lambda o: o.ScheduleFreeAdamW(0.1),
    lambda o: o.LossScaleOptimizer(o.Adam(0.1)),
    lambda o: o.MultiOptimizer(o.OptimizerMap(o.SGD(0.1), {"kernel": o.Adam(0.1)})),
    lambda o: o.SGD(o.schedules.CosineDecay(0.0, 50, warmup_target=0.2, warmup_steps=10)),
]


@pytest.mark.parametrize("make", TRAINERS, ids=lambda m: None)
def test_every_optimizer_trains_a_tiny_regression(make):
    opt = make(optimizers)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3)).astype(f32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], f32)
    kernel = Variable(np.full((3, 1), 0.5, f32), name="kernel")
    bias = Variable(np.full(1, 0.5, f32), name="bias")
    first = None
    for _ in range(60):
        loss = ((mgp.tensor(x) @ kernel + bias - y) ** 2).mean()
        kernel.grad = bias.grad = None
        loss.backward()
        opt.apply([kernel.grad, bias.grad], [kernel, bias])
        first = float(loss) if first is None else first
    assert float(loss) < 0.5 * first, type(opt).__name__
    assert kernel.dtype == np.float32 and all(v.dtype != np.float64 for v in opt.variables)
    assert repr(opt).startswith(f"<{type(opt).__name__} name=")
