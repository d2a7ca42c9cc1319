"""Optimizers as Keras 3 defines them: SGD, Adam, AdamW, RMSprop, Adagrad.

An optimizer updates a list of `Variable`s from their gradients (`apply(grads, variables)`).
Its state is a list of variables in Keras 3's order, `[iteration, learning_rate, *slots]`, with
the slots created the way Keras creates them (Adam: momentum and velocity interleaved per model
variable, then the velocity_hats; RMSprop: all velocities, then all momentums, then all average
gradients), so `optimizer/vars/0, 1, ...` in a Keras `.weights.h5` file map one to one.

The update math follows Keras's `update_step` operation by operation, in float32; the optimizer
writes into its own state and into the variables' arrays in place (after backward is done).
"""
import warnings

import numpy as np

from mgp.backend import to_numpy, xp
from mgp.layers.base import snake_case, unique_name
from mgp.tensor import Tensor
from mgp.variables import Variable

# Keras arguments mgp accepts only at their defaults (so Keras configs load).
_KERAS_ONLY = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
               "loss_scale_factor": None, "gradient_accumulation_steps": None}


class Optimizer:
    """Base class: gradient clipping, decoupled weight decay, the step counter and the state.

    Args:
        learning_rate: a float, or a callable `step -> float` (a schedule).
        weight_decay: if set, each step first does `w -= w * weight_decay * learning_rate`.
        clipnorm: clip each gradient to this L2 norm. clipvalue: clip each element to
            [-clipvalue, clipvalue]. global_clipnorm: clip all gradients together to this
            global L2 norm. At most one of the three.
        name: by default the snake-case class name, numbered (`adam`, `adam_1`).
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        for key, value in kwargs.items():
            if key not in _KERAS_ONLY:
                raise ValueError(f"{type(self).__name__}: argument(s) not recognized: "
                                 f"{sorted(k for k in kwargs if k not in _KERAS_ONLY)}")
            if value != _KERAS_ONLY[key]:
                raise NotImplementedError(f"{type(self).__name__}: mgp does not implement "
                                          f"{key}={value!r}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"only one of clipnorm, clipvalue and global_clipnorm can be set, "
                             f"got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.built = False
        self._iterations = Variable(np.array(0, np.int64), name=f"{self.name}/iteration",
                                    trainable=False)
        self._variables = [self._iterations]
        if callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            self._learning_rate = Variable(np.array(_float(learning_rate, "learning_rate"),
                                                    np.float32),
                                           name=f"{self.name}/learning_rate", trainable=False)
            self._variables.append(self._learning_rate)
        # The step counter and the learning rate stay on the host on every device: each step
        # reads them, and a read from a GPU would wait for it.
        for var in self._variables:
            var.data = to_numpy(var.data)
        self._trainable_variables = []
        self._index = {}    # id(model variable) -> position in the list build() saw
        self._owned = []    # per model variable: the array last written in place (see _own)
        self._exclude_ids, self._exclude_names = set(), ()

    # ---- learning rate and step counter ---------------------------------------------------------
    @property
    def iterations(self):
        """The number of steps applied so far (an int)."""
        return int(self._iterations.data)

    @property
    def learning_rate(self):
        """The current learning rate as a float (a schedule is evaluated at `iterations`)."""
        if isinstance(self._learning_rate, Variable):
            return float(self._learning_rate.data)
        return float(self._learning_rate(self.iterations))

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            if isinstance(self._learning_rate, Variable):
                self._variables.remove(self._learning_rate)
            self._learning_rate = value
        elif not isinstance(self._learning_rate, Variable):
            raise TypeError(f"optimizer '{self.name}' was created with a learning-rate "
                            f"schedule, so its learning rate cannot be set to {value!r}")
        else:
            self._learning_rate.data = np.array(_float(value, "learning_rate"), np.float32)

    # ---- state -----------------------------------------------------------------------------------
    @property
    def variables(self):
        """The state in Keras 3's order: iteration, learning_rate (unless a schedule), slots."""
        return list(self._variables)

    def build(self, variables):
        """Create the slot state for `variables` (done by the first `apply`; a no-op once
        built). Subclasses create their slots after calling this."""
        self._trainable_variables = list(variables)
        self._index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        self._owned = [None] * len(self._trainable_variables)
        self.built = True

    def add_optimizer_variables(self, variables, names, initial_value=0.0):
        """One zero-filled (or `initial_value`) slot per model variable per name, created
        interleaved (var 0: all names, var 1: all names, ...) as Keras creates them.

        Returns a list of slot Variables for a single name, a tuple of lists for several.
        """
        single = isinstance(names, str)
        names = [names] if single else list(names)
        slots = tuple([] for _ in names)
        for var in variables:
            prefix = getattr(var, "path", var.name).replace("/", "_")
            for name, out in zip(names, slots):
                slot = Variable(xp.full(var.shape, initial_value, dtype=var.dtype),
                                name=f"{self.name}/{prefix}_{name}", trainable=False)
                self._variables.append(slot)
                out.append(slot)
        return slots[0] if single else slots

    def save_own_variables(self, store):
        """Write the state into `store` (a dict or h5py group) as "0", "1", ... (Keras's keys)."""
        for i, var in enumerate(self._variables):
            store[str(i)] = np.array(var.numpy())

    def load_own_variables(self, store):
        """Restore the state written by `save_own_variables` (or by Keras); build first."""
        self.set_weights([store[str(i)] for i in range(len(store.keys()))])

    def set_weights(self, weights):
        """Set the state from arrays in `variables` order; checks all of them before changing
        any, so a mismatch leaves the optimizer as it was."""
        if not self.built:
            raise ValueError(f"optimizer '{self.name}' is not built: call "
                             f"optimizer.build(model.trainable_weights) before restoring its "
                             f"state")
        if len(weights) != len(self._variables):
            raise ValueError(f"optimizer '{self.name}' has {len(self._variables)} state "
                             f"variables, got {len(weights)} arrays")
        values = [to_numpy(w) for w in weights]
        for var, value in zip(self._variables, values):
            if value.shape != var.shape:
                raise ValueError(f"optimizer '{self.name}': state variable '{var.name}' has "
                                 f"shape {var.shape}, got {value.shape}")
        for var, value in zip(self._variables, values):
            on_host = var is self._iterations or var is self._learning_rate  # see __init__
            var.data = (np if on_host else xp).array(value, dtype=var.dtype)  # a copy

    # ---- applying gradients ----------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Apply a list of `(gradient, variable)` pairs; returns the new step count."""
        grads_and_vars = list(grads_and_vars)
        self.apply([g for g, _ in grads_and_vars], [v for _, v in grads_and_vars])
        return self.iterations

    def apply(self, grads, variables=None):
        """One step: clip, decay, update each variable from its gradient, count the step.

        Args:
            grads: arrays (or Tensors, or None for a variable without a gradient), one per
                variable.
            variables: the Variables to update; the first call builds the state for them.
                Later calls may pass a subset, or None for the list the optimizer was built on.
        """
        if variables is None:
            if not self.built:
                raise ValueError(f"optimizer '{self.name}' is not built: pass the variables "
                                 f"with the gradients, or call build(variables) first")
            variables = self._trainable_variables
        else:
            variables = list(variables)
            if not self.built:
                self.build(variables)
        grads = list(grads)
        if len(grads) != len(variables):
            raise ValueError(f"got {len(grads)} gradients for {len(variables)} variables")
        pairs, missing = [], []
        for g, v in zip(grads, variables):
            if id(v) not in self._index:
                raise ValueError(f"unknown variable {v!r}: optimizer '{self.name}' was built "
                                 f"for other variables; create a new optimizer for these")
            if g is None:
                missing.append(getattr(v, "path", v.name))
                continue
            g = g.data if isinstance(g, Tensor) else xp.asarray(g)
            if g.shape != v.shape:
                raise ValueError(f"gradient of shape {g.shape} for variable '{v.name}' of "
                                 f"shape {v.shape}")
            pairs.append((g.astype(v.dtype, copy=False), v))
        if not pairs:
            raise ValueError("no gradients provided for any variable")
        if missing:
            warnings.warn(f"gradients do not exist for variables {missing}", stacklevel=2)

        grads = self._clip_gradients([g for g, _ in pairs])
        variables = [v for _, v in pairs]
        lr = np.float32(self.learning_rate)
        self._apply_weight_decay(variables, lr)
        for g, v in zip(grads, variables):
            self.update_step(g, v, lr)
        for v in variables:  # a weight's constraint (mgp.constraints) projects it after its update
            if getattr(v, "constraint", None) is not None:
                v.assign(v.constraint(v))
        self._iterations.data = np.asarray(self.iterations + 1, dtype=np.int64)

    def update_step(self, gradient, variable, learning_rate):
        """Update one variable (and its slots) in place from its float32 gradient."""
        raise NotImplementedError

    def _own(self, variable):
        """The variable's array, copied once if the optimizer did not make it, so in-place
        updates never write into an array someone else passed in (`assign`, `set_weights`)."""
        i = self._index[id(variable)]
        if self._owned[i] is not variable.data:
            variable.data = xp.array(variable.data)
            self._owned[i] = variable.data
        return variable.data

    def _slot(self, slots, variable):
        return slots[self._index[id(variable)]].data

    def _clip_gradients(self, grads):
        if self.clipnorm:
            c = np.float32(self.clipnorm)
            return [g * c / xp.maximum(xp.sqrt(xp.sum(g * g)), c) for g in grads]
        if self.global_clipnorm:
            c = np.float32(self.global_clipnorm)
            norm = xp.sqrt(sum(xp.sum(g * g) for g in grads)).astype(np.float32)
            # (norm - norm) turns the scale into nan when the norm is inf or nan, as Keras
            scale = c * xp.minimum(1 / norm, 1 / c) + (norm - norm)
            return [g * scale for g in grads]
        if self.clipvalue:
            return [xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    # ---- weight decay ----------------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables from weight decay: those in `var_list`, and those whose name
        contains any of the strings in `var_names` (e.g. `["bias"]`). Call before `build`."""
        if self.built:
            raise ValueError("exclude_from_weight_decay() must be called before the optimizer "
                             "is built")
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_names = tuple(var_names or ())

    def _apply_weight_decay(self, variables, lr):
        if self.weight_decay is None:
            return
        wd = np.float32(self.weight_decay)
        for v in variables:
            if id(v) in self._exclude_ids or any(s in v.name for s in self._exclude_names):
                continue
            w = self._own(v)
            w -= w * wd * lr

    # ---- config ----------------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        return {"name": self.name,
                "learning_rate": float(lr.data) if isinstance(lr, Variable) else lr,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        lr = self._learning_rate
        lr = f"{float(lr.data):g}" if isinstance(lr, Variable) else repr(lr)
        return f"<{type(self).__name__} name='{self.name}' learning_rate={lr} " \
               f"iterations={self.iterations}>"


def _float(value, name):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a float, got {value!r}") from None


# ============================================ optimizers ============================================

class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum, as Keras writes it:

        velocity = momentum * velocity - learning_rate * g
        w = w + velocity                                   (nesterov=False)
        w = w + momentum * velocity - learning_rate * g    (nesterov=True)

    Args:
        learning_rate: float, default 0.01. momentum: float in [0, 1], default 0.
        nesterov: bool. Others as `Optimizer`.

    Example:
        >>> opt = mgp.optimizers.SGD(learning_rate=0.1, momentum=0.9)
        >>> opt.apply([w.grad], [w])
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        if not 0 <= _float(momentum, "momentum") <= 1:
            raise ValueError(f"momentum must be a float in [0, 1], got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = self.add_optimizer_variables(variables, "momentum") \
            if self.momentum != 0 else []

    def update_step(self, g, variable, lr):
        w = self._own(variable)
        if self.momentum == 0:
            w -= g * lr
            return
        m = self._slot(self.momentums, variable)
        m *= self.momentum
        m -= g * lr
        if self.nesterov:
            w += m * self.momentum - g * lr
        else:
            w += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam, in Keras's form (bias correction folded into the step size, epsilon outside the
    square root):

        m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
        alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w -= m * alpha / (sqrt(v) + epsilon)        (v replaced by max(v_hat, v) with amsgrad)

    Args:
        learning_rate: default 0.001. beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7.
        amsgrad: bool. Others as `Optimizer` (weight_decay here is decoupled, as in AdamW).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        # Python floats, so that float32 arrays stay float32 in every product (NEP 50)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon, self.amsgrad = float(epsilon), bool(amsgrad)
        self._alpha, self._alpha_for = None, None

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"])
        self._velocity_hats = self.add_optimizer_variables(variables, "velocity_hat") \
            if self.amsgrad else []

    def _step_size(self, lr):
        """alpha for this step, computed once per step rather than once per variable."""
        key = (self.iterations, lr, self.beta_1, self.beta_2)
        if self._alpha_for != key:
            t = np.float32(key[0] + 1)
            beta_1, beta_2 = np.float32(self.beta_1), np.float32(self.beta_2)
            self._alpha, self._alpha_for = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t), key
        return self._alpha

    def update_step(self, g, variable, lr):
        alpha = self._step_size(lr)
        m = self._slot(self._momentums, variable)
        v = self._slot(self._velocities, variable)
        m += (g - m) * (1 - self.beta_1)
        v += (g * g - v) * (1 - self.beta_2)
        if self.amsgrad:
            v = xp.maximum(self._slot(self._velocity_hats, variable), v,
                           out=self._slot(self._velocity_hats, variable))
        w = self._own(variable)
        w -= m * alpha / (xp.sqrt(v) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004): each step first does
    `w -= w * weight_decay * learning_rate`, then the Adam update. Arguments as `Adam`."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW needs a float weight_decay, got None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay,
                         clipnorm, clipvalue, global_clipnorm, name, **kwargs)


class RMSprop(Optimizer):
    """RMSprop, as Keras writes it (epsilon inside the square root):

        v = rho * v + (1 - rho) * g^2
        a = rho * a + (1 - rho) * g;  denominator = v - a^2 + epsilon   (centered=True)
        increment = learning_rate * g / sqrt(denominator)            (else v + epsilon)
        m = momentum * m + increment;  w -= m                         (momentum > 0)
        w -= increment                                                (momentum == 0)

    Args:
        learning_rate: default 0.001. rho: 0.9. momentum: 0. epsilon: 1e-7. centered: False.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums = self.add_optimizer_variables(variables, "momentum") \
            if self.momentum > 0 else []
        self._average_gradients = self.add_optimizer_variables(variables, "average_gradient") \
            if self.centered else []

    def update_step(self, g, variable, lr):
        rho = self.rho
        v = self._slot(self._velocities, variable)
        v *= rho
        v += (1 - rho) * (g * g)
        if self.centered:
            a = self._slot(self._average_gradients, variable)
            a *= rho
            a += (1 - rho) * g
            denominator = v - a * a + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = lr * g / xp.sqrt(denominator)
        w = self._own(variable)
        if self.momentum > 0:
            m = self._slot(self._momentums, variable)
            m *= self.momentum
            m += increment
            w -= m
        else:
            w -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad, as Keras writes it: `acc += g^2; w -= learning_rate * g / sqrt(acc + epsilon)`.

    Args:
        learning_rate: default 0.001. initial_accumulator_value: 0.1. epsilon: 1e-7.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulators = self.add_optimizer_variables(
            variables, "accumulator", initial_value=self.initial_accumulator_value)

    def update_step(self, g, variable, lr):
        acc = self._slot(self._accumulators, variable)
        acc += g * g
        w = self._own(variable)
        w -= lr * g / xp.sqrt(acc + self.epsilon)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


# ============================================ lookup ================================================

_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier):
    """An optimizer from a name ('adam', 'Adam'), a config dict
    (`{"class_name": "Adam", "config": {...}}`), or an Optimizer (returned as is).

    Example:
        >>> mgp.optimizers.get("adam")
        <Adam name='adam' learning_rate=0.001 iterations=0>
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return _lookup(identifier.get("class_name")).from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise ValueError(f"could not interpret optimizer identifier {identifier!r}: expected a "
                     f"name, a config dict or an Optimizer")


def _lookup(name):
    cls = _BY_NAME.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; known: {sorted(_BY_NAME)}")
    return cls


def serialize(optimizer):
    """The optimizer as Keras's serialized dict (`module`, `class_name`, `config`)."""
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config):
    return get(config)
