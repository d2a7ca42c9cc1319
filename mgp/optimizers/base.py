"""The optimizer base class: what every Keras 3 optimizer does around its own update rule.

One `apply(grads, variables)` is, in Keras's order: check every gradient against its variable
(before anything changes), build the state on the first call, unscale by `loss_scale_factor`,
then either add the gradients to the accumulators (`gradient_accumulation_steps`) or clip them,
decay the weights and run the subclass's `update_step` per variable; then the moving average of
the weights (`use_ema`), each variable's `constraint`, and the step counter.

The state is a list of `Variable`s in Keras 3's order, `[iteration, learning_rate, *slots]`,
the slots created per model variable as Keras creates them (the EMA averages and gradient
accumulators first, then the subclass's), so `optimizer/vars/0, 1, ...` in a Keras
`.weights.h5` file map one to one. Updates write in place into the optimizer's own arrays and
into the variables' arrays, as raw array math under no graph.
"""
import re
import warnings

import numpy as np

from mgp.backend import to_numpy, xp
from mgp.layers.base import snake_case, unique_name
from mgp.optimizers.schedules import LearningRateSchedule
from mgp.optimizers.schedules import deserialize as deserialize_schedule
from mgp.optimizers.schedules import serialize as serialize_schedule
from mgp.tensor import Tensor, no_grad
from mgp.variables import Variable


# Data-parallel training (`mgp.distribution`) sets this, for the length of each training step, to
# a function that averages (gradient, variable) pairs over the processes; every optimizer's
# `apply` passes its gradients through it first, so that all processes apply the same update.
_gradient_reducer = None


def set_gradient_reducer(reducer):
    """Install `reducer(pairs) -> pairs` (or None) for every optimizer's `apply`."""
    global _gradient_reducer
    _gradient_reducer = reducer


class Optimizer:
    """Base class of the optimizers; subclass it to write your own (`build`, `update_step`,
    `get_config`), as in Keras.

    Args:
        learning_rate: a float, a `mgp.optimizers.schedules.LearningRateSchedule` (called with
            the step count), or a callable taking no arguments.
        weight_decay: if set, each update first scales the weights by
            `1 - weight_decay * learning_rate` (decoupled weight decay).
        clipnorm: clip each gradient to this L2 norm. clipvalue: clip each element to
            [-clipvalue, clipvalue]. global_clipnorm: clip all gradients together to this global
            L2 norm. At most one of the three.
        use_ema: keep an exponential moving average of the weights:
            `average = ema_momentum * average + (1 - ema_momentum) * weight` after each step
            (the first step copies the weights). ema_momentum: default 0.99.
        ema_overwrite_frequency: every this many steps, overwrite the weights with their
            average; None leaves that to `finalize_variable_values` at the end of training.
        loss_scale_factor: `scale_loss(loss)` multiplies the loss by it and `apply` divides the
            gradients by it (for low-precision training).
        gradient_accumulation_steps: an int >= 2: add up the gradients of this many calls and
            update with their mean on every last one. `iterations` counts updates; a schedule
            sees the calls.
        name: by default the snake-case class name, numbered (`adam`, `adam_1`).

    Example:
        >>> opt = mgp.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)
        >>> opt.apply([w.grad], [w])
    """

    # set on the optimizers a wrapper (LossScaleOptimizer, MultiOptimizer) applies: their
    # gradients come from the wrapper, averaged over the processes already
    _inside_wrapper = False

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        who = type(self).__name__ + (f" '{name}'" if name else "")
        if kwargs.pop("decay", None) is not None:
            warnings.warn(f"{who}: argument `decay` is no longer supported (as in Keras 3) and "
                          f"is ignored; use a learning-rate schedule", stacklevel=3)
        if kwargs:
            raise ValueError(f"{who}: argument(s) not recognized: {sorted(kwargs)}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{who}: only one of clipnorm, clipvalue and global_clipnorm can be "
                             f"set, got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        for arg, value in [("weight_decay", weight_decay), ("clipnorm", clipnorm),
                           ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm),
                           ("loss_scale_factor", loss_scale_factor)]:
            if value is not None and not _number(value) >= 0:
                raise ValueError(f"{who}: {arg} must be a non-negative float or None, got "
                                 f"{value!r}")
        if gradient_accumulation_steps and not (_is_int(gradient_accumulation_steps)
                                                and gradient_accumulation_steps >= 2):
            raise ValueError(f"{who}: gradient_accumulation_steps must be an integer >= 2, got "
                             f"{gradient_accumulation_steps!r}")
        if use_ema:
            if not 0 <= _number(ema_momentum) <= 1:
                raise ValueError(f"{who}: ema_momentum must be in [0, 1], got {ema_momentum!r}")
            if ema_overwrite_frequency and not (_is_int(ema_overwrite_frequency)
                                                and ema_overwrite_frequency >= 1):
                raise ValueError(f"{who}: ema_overwrite_frequency must be an integer >= 1 or "
                                 f"None, got {ema_overwrite_frequency!r}")
        learning_rate = _check_learning_rate(learning_rate, who)

        self.name = name or unique_name(snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum = bool(use_ema), ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps or None
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._index = {}    # id(model variable) -> its position in the list build() saw
        self._owned = []    # per model variable: the array last written in place (see _own)
        self._exclude_ids, self._exclude_pattern = set(), None
        self._iterations = self._add_scalar("iteration", 0, np.int64)
        if isinstance(learning_rate, float):
            self._learning_rate = self._add_scalar("learning_rate", learning_rate, np.float32)
        else:
            self._learning_rate = learning_rate

    # ---- the step counter and the learning rate -------------------------------------------------
    @property
    def iterations(self):
        """The number of updates applied so far (an int): calls to `apply`, divided by
        `gradient_accumulation_steps` when accumulating."""
        n = int(self._iterations.data)
        return n // self.gradient_accumulation_steps if self.gradient_accumulation_steps else n

    @property
    def learning_rate(self):
        """The current learning rate as a float (a schedule is evaluated at the call count)."""
        return float(self._current_learning_rate())

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            if isinstance(self._learning_rate, Variable):
                self._variables.remove(self._learning_rate)
            self._learning_rate = value
            return
        if not isinstance(self._learning_rate, Variable):
            raise TypeError(f"{self._who}: was created with a learning-rate schedule or "
                            f"callable, so its learning rate cannot be set to {value!r}; create "
                            f"the optimizer with a float learning_rate to make it settable")
        value = _check_learning_rate(value, self._who)
        self._learning_rate.data = np.asarray(value, dtype=np.float32)

    def _current_learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return np.float32(lr.data)
        if isinstance(lr, LearningRateSchedule):
            return np.float32(lr(int(self._iterations.data)))  # every call, as Keras
        value = lr()  # a callable takes no arguments, as in Keras
        return np.float32(to_numpy(value.data) if isinstance(value, Tensor) else value)

    @property
    def _who(self):
        return f"{type(self).__name__} '{self.name}'"

    # ---- state ------------------------------------------------------------------------------------
    @property
    def variables(self):
        """The state in Keras 3's order: iteration, learning_rate (unless a schedule), slots."""
        return list(self._variables)

    def build(self, variables):
        """Create the state for `variables` (the first `apply` does it). Subclasses return at
        once when built, call this, then create their own slots, as in Keras."""
        variables = list(variables)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(variables,
                                                                                "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = self.add_optimizer_variables(variables,
                                                                       "gradient_accumulator")
        self._trainable_variables = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        self._owned = [None] * len(variables)
        self.built = True

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """A state variable of `shape` (float32 unless `dtype`), initialized by `initializer`
        (a name, a number, or a callable `(shape, dtype)`), placed on the current device."""
        value = _initial_value(initializer, tuple(shape), np.dtype(dtype or np.float32))
        var = Variable(np.zeros((), np.float32), name=f"{self.name}/{name or 'variable'}",
                       trainable=False)
        var.data = xp.asarray(value)
        self._variables.append(var)
        return var

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A state variable shaped like `reference_variable` (same dtype and device), named
        `<its path with _ for />_<name>` as Keras names it."""
        prefix = str(getattr(reference_variable, "path", reference_variable.name))
        label = f"{prefix.replace('/', '_').replace(':', '_')}_{name or 'var'}"
        ref = reference_variable.data
        module = np if isinstance(ref, np.ndarray) else xp  # the reference's device
        value = _initial_value(initializer, tuple(ref.shape), ref.dtype)
        var = Variable(np.zeros((), np.float32), name=f"{self.name}/{label}", trainable=False)
        var.data = module.asarray(value)
        self._variables.append(var)
        return var

    def add_optimizer_variables(self, variables, names, initializer="zeros"):
        """One slot per model variable per name, created interleaved (variable 0: every name,
        variable 1: every name, ...) as Keras creates them.

        Returns a list of slots for a single name, a tuple of lists for several (`initializer`
        may then be a list, one per name).
        """
        single = isinstance(names, str)
        names = [names] if single else list(names)
        inits = initializer if isinstance(initializer, (list, tuple)) else \
            [initializer] * len(names)
        if len(inits) != len(names):
            raise ValueError(f"{self._who}: {len(names)} slot names but {len(inits)} "
                             f"initializers")
        slots = tuple([] for _ in names)
        for var in variables:
            for name, init, out in zip(names, inits, slots):
                out.append(self.add_variable_from_reference(var, name, init))
        return slots[0] if single else slots

    def _add_scalar(self, name, value, dtype):
        """A scalar state variable kept on the host on every device: each step reads it, and a
        read from a GPU would wait for it."""
        var = Variable(np.zeros((), np.float32), name=f"{self.name}/{name}", trainable=False)
        var.data = np.asarray(value, dtype=dtype)
        self._variables.append(var)
        return var

    def _get_variable_index(self, variable):
        return self._index[id(variable)]

    def _slot(self, slots, variable):
        """The array of `variable`'s slot in the list `slots`."""
        return slots[self._index[id(variable)]].data

    def save_own_variables(self, store):
        """Write the state into `store` (a dict or h5py group) as "0", "1", ... (Keras's keys)."""
        for i, var in enumerate(self.variables):
            store[str(i)] = np.array(to_numpy(var.data))

    def load_own_variables(self, store):
        """Restore the state written by `save_own_variables` (or by Keras); build first."""
        self.set_weights([store[str(i)] for i in range(len(store.keys()))])

    def set_weights(self, weights):
        """Set the state from arrays in `variables` order; checks all of them before changing
        any, so a mismatch leaves the optimizer as it was."""
        if not self.built:
            raise ValueError(f"{self._who} is not built: call optimizer.build("
                             f"model.trainable_weights) before restoring its state")
        variables = self.variables
        if len(weights) != len(variables):
            raise ValueError(f"{self._who} has {len(variables)} state variables, got "
                             f"{len(weights)} arrays")
        values = [to_numpy(w.data if isinstance(w, Tensor) else w) for w in weights]
        for var, value in zip(variables, values):
            if np.shape(value) != var.shape:
                raise ValueError(f"{self._who}: state variable '{var.name}' has shape "
                                 f"{var.shape}, got {np.shape(value)}")
        for var, value in zip(variables, values):
            module = np if isinstance(var.data, np.ndarray) else xp  # each stays where it is
            var.data = module.array(value, dtype=var.dtype)  # a copy

    # ---- applying gradients -----------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Apply a list of `(gradient, variable)` pairs; returns the new step count."""
        grads_and_vars = list(grads_and_vars)
        self.apply([g for g, _ in grads_and_vars], [v for _, v in grads_and_vars])
        return self.iterations

    def apply(self, grads, trainable_variables=None):
        """One step: each gradient updates its variable (see the module docstring for the
        order of what happens).

        Args:
            grads: arrays (or Tensors, or None for a variable without a gradient), one per
                variable, of the variable's shape.
            trainable_variables: the Variables to update; the first call builds the state for
                them. Later calls may pass a subset, or None for the list the optimizer was
                built on.
        Raises:
            ValueError naming the optimizer when the gradients do not match the variables (how
            many, which, their shapes), before anything changes.
        """
        grads = list(grads)
        if not grads:  # nothing to apply: not even a step, as in Keras
            return
        pairs, variables = self._check_gradients(grads, trainable_variables)
        if not self.built:
            self.build(variables)
        grads, variables = [g for g, _ in pairs], [v for _, v in pairs]
        with no_grad():
            if self.loss_scale_factor is not None:
                grads = [g / np.float32(self.loss_scale_factor) for g in grads]
            self._apply_gradients(grads, variables)
            for var in variables:
                constraint = getattr(var, "constraint", None)
                if constraint is not None:
                    out = constraint(var)
                    self._own(var)[...] = out.data if isinstance(out, Tensor) else out
        self._iterations.data = np.asarray(int(self._iterations.data) + 1, dtype=np.int64)

    def _check_gradients(self, grads, variables):
        """The (float gradient, variable) pairs to apply (averaged over the processes in
        data-parallel training), and the variables passed; raises on any mismatch and changes
        nothing."""
        if variables is None:
            if not self.built:
                raise ValueError(f"{self._who} is not built: pass the variables with the "
                                 f"gradients, apply(grads, variables), or call build(variables) "
                                 f"first")
            variables = self._trainable_variables
        variables = list(variables)
        grads = list(grads)
        if len(grads) != len(variables):
            raise ValueError(f"{self._who} got {len(grads)} gradients for {len(variables)} "
                             f"variables")
        pairs, missing = [], []
        for g, v in zip(grads, variables):
            if not isinstance(v, Variable):
                raise TypeError(f"{self._who} updates Variables, got {type(v).__name__} {v!r}")
            if self.built and id(v) not in self._index:
                raise ValueError(f"{self._who}: unknown variable {v!r}; the optimizer was built "
                                 f"for other variables: create a new optimizer for these")
            if g is None:
                missing.append(v.name)
                continue
            g = g.data if isinstance(g, Tensor) else xp.asarray(g)
            if g.shape != v.shape:
                raise ValueError(f"{self._who}: gradient of shape {g.shape} for variable "
                                 f"'{v.name}' of shape {v.shape}")
            if g.dtype.kind not in "fiu":
                raise TypeError(f"{self._who}: gradient for variable '{v.name}' has dtype "
                                f"{g.dtype}, expected a float array")
            pairs.append((g.astype(v.dtype, copy=False), v))
        if not pairs:
            raise ValueError(f"{self._who}: no gradients provided for any variable (all of "
                             f"{[v.name for v in variables]} got None)")
        if missing:
            warnings.warn(f"{self._who}: gradients do not exist for variables {missing}",
                          stacklevel=3)
        if _gradient_reducer is not None and not self._inside_wrapper:
            pairs = _gradient_reducer(pairs)
        return pairs, variables

    def _apply_gradients(self, grads, variables):
        """Accumulate, or clip + decay + update; then the moving average."""
        lr = self._current_learning_rate()
        steps = self.gradient_accumulation_steps
        if steps:
            accumulators = [self._slot(self._accumulated_gradients, v) for v in variables]
            if (int(self._iterations.data) + 1) % steps == 0:
                grads = [(g + a) / steps for g, a in zip(grads, accumulators)]
                self._update(grads, variables, lr)
                for a in self._accumulated_gradients:
                    a.data[...] = 0
            else:
                for g, a in zip(grads, accumulators):
                    a += g
        else:
            self._update(grads, variables, lr)
        if self.use_ema:
            self._update_moving_average()

    def _update(self, grads, variables, lr):
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(variables, lr)
        self._update_variables(grads, variables, lr)

    def _update_variables(self, grads, variables, lr):
        """Every variable's update (an optimizer with per-step state overrides this)."""
        for g, v in zip(grads, variables):
            self.update_step(g, v, lr)

    def update_step(self, gradient, variable, learning_rate):
        """Update one variable (and its slots) in place from its gradient (an array of the
        variable's dtype) and the learning rate (a float32 scalar)."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_step(gradient, "
                                  f"variable, learning_rate)")

    # helpers for update rules written with Tensors, as a Keras optimizer's are
    def assign(self, variable, value):
        self._target(variable)[...] = value.data if isinstance(value, Tensor) else value

    def assign_add(self, variable, value):
        target = self._target(variable)
        target += value.data if isinstance(value, Tensor) else value

    def assign_sub(self, variable, value):
        target = self._target(variable)
        target -= value.data if isinstance(value, Tensor) else value

    def _target(self, variable):
        return self._own(variable) if id(variable) in self._index else variable.data

    def _own(self, variable):
        """The variable's array, copied once if the optimizer did not make it, so in-place
        updates never write into an array someone else passed in (`assign`, `set_weights`)."""
        i = self._index[id(variable)]
        if self._owned[i] is not variable.data:
            module = np if isinstance(variable.data, np.ndarray) else xp
            variable.data = module.array(variable.data)
            self._owned[i] = variable.data
        return variable.data

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            c = np.float32(self.clipnorm)
            return [g * c / xp.maximum(xp.sqrt(xp.sum(g * g)), c) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            c = np.float32(self.global_clipnorm)
            norm = xp.sqrt(sum(xp.sum(g * g) for g in grads)).astype(np.float32)
            with np.errstate(divide="ignore"):
                # (norm - norm) turns the scale into nan when the norm is inf or nan, as Keras
                scale = c * xp.minimum(1 / norm, 1 / c) + (norm - norm)
            return [g * scale for g in grads]
        if self.clipvalue and self.clipvalue > 0:
            return [xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    # ---- weight decay ----------------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables from weight decay: those in `var_list`, and those whose name
        matches any of the regular expressions in `var_names` (e.g. `["bias"]`). Call before
        the optimizer is built."""
        if self.built:
            raise ValueError(f"{self._who}: exclude_from_weight_decay() must be called before "
                             f"the optimizer is built")
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        return self._exclude_pattern is None or \
            self._exclude_pattern.search(variable.name) is None

    def _apply_weight_decay(self, variables, lr):
        if self.weight_decay is None:
            return
        scale = np.float32(1) - np.float32(self.weight_decay) * lr
        for v in variables:
            if self._use_weight_decay(v):
                w = self._own(v)
                w *= scale

    # ---- the moving average of the weights ------------------------------------------------------
    def _update_moving_average(self):
        steps = self.iterations
        # the first update copies the weights
        m = np.float32(self.ema_momentum) if steps != 0 else np.float32(0)
        for v, average in zip(self._trainable_variables, self._model_variables_moving_average):
            a = average.data
            a *= m
            a += (1 - m) * v.data
        if self.ema_overwrite_frequency and (steps + 1) % self.ema_overwrite_frequency == 0:
            self._overwrite_with_moving_average(self._trainable_variables)

    def _overwrite_with_moving_average(self, variables):
        for v in variables:
            self._own(v)[...] = self._slot(self._model_variables_moving_average, v)

    def finalize_variable_values(self, var_list):
        """At the end of training: with `use_ema`, set the weights to their moving average."""
        if self.use_ema and self.built:
            self._overwrite_with_moving_average(list(var_list))

    def scale_loss(self, loss):
        """The loss times `loss_scale_factor` (the loss itself when it is None)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    # ---- config ----------------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, Variable):
            lr = float(lr.data)
        elif isinstance(lr, LearningRateSchedule):
            lr = serialize_schedule(lr)
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"],
                                                           custom_objects)
        return cls(**config)

    def _saveable_children(self):
        """(path, optimizer) of the optimizers this one wraps, where Keras saves their state
        again below its own (`inner_optimizer`, `optimizers/adam`, ...)."""
        return []

    def __repr__(self):
        lr = self._learning_rate
        lr = f"{float(lr.data):g}" if isinstance(lr, Variable) else repr(lr)
        return f"<{type(self).__name__} name='{self.name}' learning_rate={lr} " \
               f"iterations={self.iterations}>"


# ---- argument checks --------------------------------------------------------------------------------
def _number(value):
    """`value` as a float for a range check (nan, which fails every check, when it is none)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_learning_rate(value, who):
    if isinstance(value, LearningRateSchedule) or callable(value):
        return value
    if isinstance(value, Variable):
        value = value.data
    if isinstance(value, bool) or not _number(value) >= 0:
        raise ValueError(f"{who}: learning_rate must be a non-negative float, a "
                         f"LearningRateSchedule or a callable, got {value!r}")
    return float(value)


def _initial_value(initializer, shape, dtype):
    if isinstance(initializer, (int, float, np.number)) and not isinstance(initializer, bool):
        return np.full(shape, initializer, dtype=dtype)
    from mgp import initializers
    return np.asarray(initializers.get(initializer)(shape, dtype=dtype), dtype=dtype)


def check_fraction(who, name, value, low=0.0, high=1.0, open_low=False):
    """Raise unless `low <= value <= high` (`low < value` when open_low); returns a float."""
    x = _number(value)
    if not ((low < x if open_low else low <= x) and x <= high):
        bounds = f"({low}, {high}]" if open_low else f"[{low}, {high}]"
        raise ValueError(f"{who}: {name} must be a float in {bounds}, got {value!r}")
    return x


def check_positive(who, name, value, strict=False):
    x = _number(value)
    if not (x > 0 if strict else x >= 0):
        raise ValueError(f"{who}: {name} must be a {'positive' if strict else 'non-negative'} "
                         f"number, got {value!r}")
    return x
