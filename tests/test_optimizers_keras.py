"""Every optimizer and schedule against Keras 3 itself (on its torch backend): trajectories over
several steps from the same weights and gradients, the state (order, names, shapes, values),
configs both ways, and the state crossing both ways through `.weights.h5` and `.keras` files.

Each row of `CASES` builds the same optimizer from either module (`o` is `keras.optimizers` or
`mgp.optimizers`), so a new optimizer or option is one line.
"""
import json
import re
import warnings

import numpy as np
import oracles
import pytest

import mgp
from mgp import layers, optimizers
from mgp.variables import Variable

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # inside Keras's backend

f32 = np.float32
SHAPES = {"kernel": (3, 4), "bias": (4,), "conv": (2, 3, 2)}


@pytest.fixture(scope="module")
def keras():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return oracles.keras()


def exclude_bias(opt):
    opt.exclude_from_weight_decay(var_names=["bias"])


# (id, factory(o) -> optimizer, options): options "setup" (called before the first step),
# "fixed_lr" (no learning-rate change at step 3), "inf_at" (a step whose gradient has an inf)
CASES = [
    ("sgd", lambda o: o.SGD(0.1), {}),
    ("sgd-momentum", lambda o: o.SGD(0.1, momentum=0.9), {}),
    ("sgd-nesterov-decay", lambda o: o.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
     {}),
    ("sgd-clipnorm-ema", lambda o: o.SGD(0.1, clipnorm=0.5, use_ema=True, ema_momentum=0.8,
                                         ema_overwrite_frequency=2), {}),
    ("sgd-accumulate", lambda o: o.SGD(0.1, momentum=0.5, gradient_accumulation_steps=2), {}),
    ("adam", lambda o: o.Adam(0.01), {}),
    ("adam-amsgrad-clipnorm", lambda o: o.Adam(0.01, amsgrad=True, clipnorm=0.5), {}),
    ("adam-accumulate-ema", lambda o: o.Adam(0.01, gradient_accumulation_steps=3, use_ema=True,
                                             ema_overwrite_frequency=1), {}),
    ("adam-global-clipnorm", lambda o: o.Adam(0.01, global_clipnorm=0.7), {}),
    ("adam-loss-scale", lambda o: o.Adam(0.01, loss_scale_factor=8.0), {}),
    ("adam-schedule", lambda o: o.Adam(o.schedules.ExponentialDecay(0.01, 2, 0.5)),
     {"fixed_lr": True}),
    ("adamw", lambda o: o.AdamW(0.01, weight_decay=0.1), {"setup": exclude_bias}),
    ("adamw-clipvalue", lambda o: o.AdamW(0.01, clipvalue=0.3), {}),
    ("adamax", lambda o: o.Adamax(0.01), {}),
    ("adamax-decay", lambda o: o.Adamax(0.01, weight_decay=0.1, clipnorm=1.0), {}),
    ("nadam", lambda o: o.Nadam(0.01), {}),
    ("nadam-accumulate", lambda o: o.Nadam(0.01, gradient_accumulation_steps=2), {}),
    ("lion", lambda o: o.Lion(0.01), {}),
    ("lion-decay-ema", lambda o: o.Lion(0.01, beta_2=0.9, weight_decay=0.2, use_ema=True), {}),
    ("lamb", lambda o: o.Lamb(0.01), {}),
    ("lamb-decay", lambda o: o.Lamb(0.01, weight_decay=0.1, global_clipnorm=1.0), {}),
    ("adafactor", lambda o: o.Adafactor(0.5), {}),
    ("adafactor-fixed-step", lambda o: o.Adafactor(0.05, relative_step=False, clip_threshold=0.5),
     {}),
    ("adafactor-schedule", lambda o: o.Adafactor(o.schedules.InverseTimeDecay(0.5, 1, 0.5)),
     {"fixed_lr": True}),
    ("ftrl", lambda o: o.Ftrl(0.1), {}),
    ("ftrl-regularized", lambda o: o.Ftrl(0.1, learning_rate_power=-0.7,
                                          initial_accumulator_value=0.3,
                                          l1_regularization_strength=0.01,
                                          l2_regularization_strength=0.02,
                                          l2_shrinkage_regularization_strength=0.03, beta=0.1),
     {}),
    ("ftrl-fixed-rate", lambda o: o.Ftrl(0.1, learning_rate_power=0.0), {}),
    ("adadelta", lambda o: o.Adadelta(1.0), {}),
    ("adadelta-accumulate", lambda o: o.Adadelta(1.0, rho=0.9, gradient_accumulation_steps=2),
     {}),
    ("rmsprop", lambda o: o.RMSprop(0.01), {}),
    ("rmsprop-centered", lambda o: o.RMSprop(0.01, momentum=0.5, centered=True, clipvalue=0.2),
     {}),
    ("adagrad", lambda o: o.Adagrad(0.1), {}),
    ("adagrad-decay", lambda o: o.Adagrad(0.1, initial_accumulator_value=0.5,
                                          weight_decay=0.01), {}),
    ("muon", lambda o: o.Muon(0.01), {}),
    ("muon-plain", lambda o: o.Muon(0.01, nesterov=False, rms_rate=None, weight_decay=0.1,
                                    adam_lr_ratio=0.5, ns_steps=3), {}),
    ("muon-excluded", lambda o: o.Muon(0.01, exclude_layers=["ker"]), {}),
    ("schedule-free", lambda o: o.ScheduleFreeAdamW(0.01), {}),
    ("schedule-free-warmup", lambda o: o.ScheduleFreeAdamW(0.01, warmup_steps=3,
                                                           weight_decay=0.1), {}),
    ("loss-scale", lambda o: o.LossScaleOptimizer(o.Adam(0.01), initial_scale=64.0,
                                                  dynamic_growth_steps=2), {"inf_at": 2}),
    ("multi", lambda o: o.MultiOptimizer(o.OptimizerMap(o.SGD(0.1, momentum=0.5),
                                                        {"kernel": o.Adam(0.01)})),
     {"fixed_lr": True}),
]
IDS = [c[0] for c in CASES]


def gradients(steps=6, inf_at=None, seed=1):
    rng = np.random.default_rng(seed)
    out = [{n: rng.standard_normal(s).astype(f32) for n, s in SHAPES.items()}
           for _ in range(steps)]
    if inf_at is not None:
        out[inf_at]["bias"][1] = np.inf
    return out


def initial_weights(seed=0):
    rng = np.random.default_rng(seed)
    return {n: rng.standard_normal(s).astype(f32) for n, s in SHAPES.items()}


def run_keras(keras, factory, options, steps=6):
    variables = [keras.Variable(a, name=n) for n, a in initial_weights().items()]
    opt = factory(keras.optimizers)
    if "setup" in options:
        options["setup"](opt)
    for step, grads in enumerate(gradients(steps, options.get("inf_at"))):
        opt.apply([keras.ops.convert_to_tensor(g) for g in grads.values()], variables)
        if step == 2 and not options.get("fixed_lr"):
            opt.learning_rate = 0.005  # a callback changing the rate between steps
    return ([keras.ops.convert_to_numpy(v) for v in variables],
            [(v.name, keras.ops.convert_to_numpy(v)) for v in opt.variables], opt)


def run_mgp(factory, options, steps=6):
    variables = [Variable(a, name=n) for n, a in initial_weights().items()]
    opt = factory(optimizers)
    if "setup" in options:
        options["setup"](opt)
    for step, grads in enumerate(gradients(steps, options.get("inf_at"))):
        opt.apply(list(grads.values()), variables)
        if step == 2 and not options.get("fixed_lr"):
            opt.learning_rate = 0.005
    return [v.numpy() for v in variables], [(v.name, v.numpy()) for v in opt.variables], opt


@pytest.mark.parametrize("factory,options", [c[1:] for c in CASES], ids=IDS)
def test_trajectory_and_state_match_keras(keras, factory, options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k_weights, k_state, k_opt = run_keras(keras, factory, options)
    m_weights, m_state, m_opt = run_mgp(factory, options)
    for name, k, m in zip(SHAPES, k_weights, m_weights):
        np.testing.assert_allclose(m, k, rtol=1e-5, atol=1e-6, err_msg=f"weight {name}")
    # the state, in Keras's order and under Keras's names (mgp's names carry the optimizer's)
    # (Keras numbers a variable made without a name: Nadam's "variable", "variable_1", ...)
    assert [n.split("/")[-1] for n, _ in m_state] == [re.sub(r"^variable_\d+$", "variable", n)
                                                      for n, _ in k_state]
    assert [a.shape for _, a in m_state] == [a.shape for _, a in k_state]
    for (name, m), (_, k) in zip(m_state, k_state):
        assert m.dtype.kind == k.dtype.kind, name
        np.testing.assert_allclose(m, k, rtol=1e-5, atol=1e-6, err_msg=f"state {name}")
    assert m_opt.iterations == int(keras.ops.convert_to_numpy(k_opt.iterations))


def test_constraints_apply_after_each_update(keras):
    class ConstrainedVariable(Variable):
        __slots__ = ("constraint",)

    w0, grads = initial_weights()["kernel"], [g["kernel"] for g in gradients()]
    k_var = keras.Variable(w0, name="kernel")
    k_var.constraint = keras.constraints.NonNeg()
    m_var = ConstrainedVariable(w0, name="kernel")
    m_var.constraint = lambda v: v.data * (v.data >= 0)  # NonNeg, on the array
    k_opt, m_opt = keras.optimizers.Adam(0.1), optimizers.Adam(0.1)
    for g in grads:
        k_opt.apply([keras.ops.convert_to_tensor(g)], [k_var])
        m_opt.apply([g], [m_var])
    assert (m_var.numpy() >= 0).all() and (m_var.numpy() == 0).any()
    np.testing.assert_allclose(m_var.numpy(), keras.ops.convert_to_numpy(k_var), rtol=1e-5,
                               atol=1e-6)


def test_finalize_variable_values_sets_the_moving_average(keras):
    results = []
    for o, var in [(keras.optimizers, keras.Variable), (optimizers, Variable)]:
        v = var(initial_weights()["kernel"], name="kernel")
        opt = o.SGD(0.1, use_ema=True, ema_momentum=0.5)
        for g in gradients(3):
            opt.apply([g["kernel"]] if o is optimizers else
                      [keras.ops.convert_to_tensor(g["kernel"])], [v])
        opt.finalize_variable_values([v])
        results.append(keras.ops.convert_to_numpy(v) if o is not optimizers else v.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


# ---- configs --------------------------------------------------------------------------------------
def _plain(config):
    """A config without the keys that name where a class lives (Keras writes its backend's)."""
    if isinstance(config, dict):
        return {k: _plain(v) for k, v in config.items() if k not in ("module",
                                                                      "registered_name")}
    return config


@pytest.mark.parametrize("factory", [c[1] for c in CASES], ids=IDS)
def test_configs_round_trip_and_cross_with_keras(keras, factory):
    mgp.backend.clear_session()
    mine = factory(optimizers)
    config = mine.get_config()
    json.dumps(optimizers.serialize(mine))  # saved with the model as JSON
    assert type(mine).from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(mine)).get_config() == config
    theirs = factory(keras.optimizers)
    # Keras's serialized optimizer builds the same mgp optimizer, and back
    from_keras = optimizers.deserialize(json.loads(json.dumps(
        keras.optimizers.serialize(theirs))))
    assert type(from_keras).__name__ == type(theirs).__name__
    assert _plain(from_keras.get_config()) == _plain(theirs.get_config())
    serialized = json.loads(json.dumps(optimizers.serialize(mine)))
    back = keras.optimizers.deserialize(serialized)
    if isinstance(back, str):  # Keras 3.15's deserialize does not list Lamb; its class reads it
        back = getattr(keras.optimizers, serialized["class_name"]).from_config(
            serialized["config"])
    assert _plain(back.get_config()) == _plain(config)


# ---- schedules ------------------------------------------------------------------------------------
SCHEDULES = [
    lambda s: s.ExponentialDecay(0.1, decay_steps=7, decay_rate=0.9),
    lambda s: s.ExponentialDecay(0.1, decay_steps=7, decay_rate=0.5, staircase=True),
    lambda s: s.PiecewiseConstantDecay([10, 50, 51], [1.0, 0.5, 0.25, 0.1]),
    lambda s: s.PolynomialDecay(0.1, decay_steps=100),
    lambda s: s.PolynomialDecay(0.1, decay_steps=30, end_learning_rate=0.01, power=0.5,
                                cycle=True),
    lambda s: s.InverseTimeDecay(0.1, decay_steps=5, decay_rate=0.5),
    lambda s: s.InverseTimeDecay(0.1, decay_steps=5, decay_rate=0.5, staircase=True),
    lambda s: s.CosineDecay(0.1, decay_steps=120),
    lambda s: s.CosineDecay(0.1, decay_steps=100, alpha=0.1),
    lambda s: s.CosineDecay(0.0, decay_steps=100, warmup_target=0.2, warmup_steps=40, alpha=0.05),
    lambda s: s.CosineDecayRestarts(0.1, first_decay_steps=20),
    lambda s: s.CosineDecayRestarts(0.1, first_decay_steps=15, t_mul=1.0, m_mul=0.8, alpha=0.1),
    # (restarts at 7, 17.5, 33.25, ...: at a restart that falls on a step, torch's float32 log,
    # 1 ulp off, can put Keras's value at the end of the period before)
    lambda s: s.CosineDecayRestarts(0.1, first_decay_steps=7, t_mul=1.5, m_mul=0.5),
]


@pytest.mark.parametrize("make", SCHEDULES, ids=lambda m: None)
def test_schedules_match_keras_over_many_steps(keras, make):
    steps = np.arange(0, 301)
    theirs = make(keras.optimizers.schedules)
    mine = make(optimizers.schedules)
    expected = np.array([float(keras.ops.convert_to_numpy(theirs(int(s)))) for s in steps])
    values = mine(steps)  # all steps at once
    assert values.dtype == np.float32 and values.shape == steps.shape
    np.testing.assert_allclose(values, expected, rtol=2e-6, atol=1e-8)
    assert all(mine(int(s)) == values[s] for s in steps[::25])  # one at a time
    assert type(mine(3)) is np.float32
    # configs: round trip, and Keras's serialized schedule is ours, and back
    config = mine.get_config()
    assert type(mine).from_config(config).get_config() == config
    theirs_config = keras.optimizers.schedules.serialize(theirs)
    assert optimizers.schedules.serialize(mine) == json.loads(json.dumps(theirs_config))
    assert optimizers.schedules.deserialize(theirs_config).get_config() == theirs.get_config()
    assert keras.optimizers.schedules.deserialize(
        optimizers.schedules.serialize(mine)).get_config() == config


def test_an_optimizer_reads_its_schedule_at_each_call():
    sched = optimizers.schedules.PiecewiseConstantDecay([1, 3], [1.0, 0.5, 0.25])
    opt = optimizers.SGD(sched, gradient_accumulation_steps=2)
    w = Variable(np.zeros(1, f32))
    rates = []
    for _ in range(6):
        rates.append(opt.learning_rate)
        opt.apply([np.ones(1, f32)], [w])
    # the schedule sees the calls (0, 1, 2, ...), not the updates, as in Keras
    assert rates == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert opt.iterations == 3
    assert [v.name.split("/")[-1] for v in opt.variables] == ["iteration",
                                                              "variable_gradient_accumulator"]


# ---- the state in files, both ways ------------------------------------------------------------------
SAVED = ["sgd-momentum", "adam-amsgrad-clipnorm", "adam-accumulate-ema", "adamw", "adamax",
         "nadam", "lion", "lamb", "adafactor", "ftrl-regularized", "adadelta", "rmsprop-centered",
         "adagrad", "muon", "schedule-free", "adam-schedule", "loss-scale", "multi"]
BY_ID = {c[0]: c for c in CASES}


def _models(keras):
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                          keras.layers.Dense(3, use_bias=False), keras.layers.Dense(2)])
    m = mgp.Sequential([layers.Input((3,)), layers.Dense(4, activation="tanh"),
                        layers.Dense(3, use_bias=False), layers.Dense(2)])
    weights = [np.random.default_rng(3).standard_normal(w.shape).astype(f32) * 0.5
               for w in m.get_weights()]
    k.set_weights(weights)
    m.set_weights(weights)
    return k, m


def _model_grads(weights, steps, seed=5):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(w.shape).astype(f32) for w in weights] for _ in range(steps)]


def _multi(o):  # the same split in both: biases by SGD, the rest by Adam
    return o.MultiOptimizer(o.OptimizerMap(o.Adam(0.01), {".*bias": o.SGD(0.1, momentum=0.5)}))


def _compiled(keras, framework, factory, options):
    model = _models(keras)[framework == "mgp"]
    o = optimizers if framework == "mgp" else keras.optimizers
    model.compile(optimizer=factory(o), loss="mse")
    if "setup" in options:
        options["setup"](model.optimizer)
    model.optimizer.build(model.trainable_weights)
    return model


def _step(keras, model, grads):
    if isinstance(model, mgp.Model):
        model.optimizer.apply(grads, model.trainable_weights)
    else:
        model.optimizer.apply([keras.ops.convert_to_tensor(g) for g in grads],
                              model.trainable_variables)


def _state(keras, model):
    return [np.asarray(keras.ops.convert_to_numpy(v.value if hasattr(v, "value") else v.data))
            for v in model.optimizer.variables] + [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize("case", SAVED)
@pytest.mark.parametrize("suffix", [".weights.h5", ".keras"])
@pytest.mark.parametrize("saver,loader", [("keras", "mgp"), ("mgp", "keras")])
def test_state_crosses_files_and_training_continues(keras, case, suffix, saver, loader,
                                                    tmp_path):
    """One framework steps twice and saves; the other loads (weights and optimizer state) and
    both take a third step: the weights and the state agree."""
    factory = _multi if case == "multi" else BY_ID[case][1]
    options = BY_ID[case][2]
    grads = _model_grads(_models(keras)[1].get_weights(), 3)
    source = _compiled(keras, saver, factory, options)
    for g in grads[:2]:
        _step(keras, source, g)
    path = str(tmp_path / f"model{suffix}")
    source.save(path) if suffix == ".keras" else source.save_weights(path)
    target = _compiled(keras, loader, factory, options)
    with warnings.catch_warnings():
        # mgp would warn if it left the optimizer's state out
        warnings.simplefilter("error")
        target.load_weights(path)
    before = _state(keras, source)
    for a, b in zip(_state(keras, target), before):
        np.testing.assert_array_equal(a.astype(b.dtype), b)
    _step(keras, source, grads[2])
    _step(keras, target, grads[2])
    for a, b in zip(_state(keras, target), _state(keras, source)):
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-5,
                                   atol=1e-6)


@pytest.mark.parametrize("case", ["adam-accumulate-ema", "nadam", "adafactor", "muon",
                                  "loss-scale", "multi"])
def test_the_optimizer_groups_in_the_file_are_keras_s(keras, case, tmp_path):
    """The same groups, datasets and shapes under `optimizer/` as in the file Keras writes."""
    import h5py
    factory, options = (_multi if case == "multi" else BY_ID[case][1]), BY_ID[case][2]
    layout = {}
    for framework in ("keras", "mgp"):
        model = _compiled(keras, framework, factory, options)
        path = str(tmp_path / f"{framework}.weights.h5")
        model.save_weights(path)
        with h5py.File(path, "r") as f:
            layout[framework] = {}
            f["optimizer"].visititems(lambda name, obj, found=layout[framework]: found.update(
                {name: obj.shape if isinstance(obj, h5py.Dataset) else None}))
    assert layout["mgp"] == layout["keras"]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adamax", "Nadam", "Lion", "Lamb",
                                  "ScheduleFreeAdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adafactor", "Ftrl", "Muon", "LossScaleOptimizer"])
def test_defaults_are_keras_s(keras, name):
    def config(o):
        args = [o.SGD()] if name == "LossScaleOptimizer" else []
        c = _plain(getattr(o, name)(*args).get_config())
        c.pop("name")
        c.get("inner_optimizer", {}).get("config", {}).pop("name", None)
        return c
    assert config(optimizers) == config(keras.optimizers)
