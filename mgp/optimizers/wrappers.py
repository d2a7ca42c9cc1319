"""Optimizers that wrap others: LossScaleOptimizer (dynamic loss scaling) and MultiOptimizer
(a different optimizer for each group of variables, chosen by an OptimizerMap)."""
import re
from collections.abc import MutableMapping

import numpy as np

from mgp.backend import xp
from mgp.optimizers.base import Optimizer
from mgp.tensor import no_grad

_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


def _deserialize_optimizer(config, custom_objects=None):
    from mgp.optimizers import deserialize
    return deserialize(config, custom_objects)


def _serialize_optimizer(optimizer):
    from mgp.optimizers import serialize
    return serialize(optimizer)


class LossScaleOptimizer(Optimizer):
    """Dynamic loss scaling around another optimizer, for low-precision gradients.

    `scale_loss(loss)` multiplies the loss by the current scale; `apply` divides the gradients
    by it and passes them on. When a gradient is not finite, the step is skipped and the scale
    halves; after `dynamic_growth_steps` finite steps in a row it doubles.

    Args:
        inner_optimizer: the Optimizer to wrap (its own `loss_scale_factor` is turned off).
        initial_scale: default 2**15. dynamic_growth_steps: default 2000.

    Example:
        >>> opt = mgp.optimizers.LossScaleOptimizer(mgp.optimizers.Adam())
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer: dynamic=False is no longer supported; set "
                             "loss_scale_factor on the inner optimizer instead")
        for arg, default in _BASE_DEFAULTS.items():  # what older Keras configs still carry
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(f"LossScaleOptimizer does not support {arg}; set it on the "
                                 f"inner optimizer")
        if kwargs:
            raise ValueError(f"LossScaleOptimizer: argument(s) not recognized: {sorted(kwargs)}")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f"LossScaleOptimizer wraps an Optimizer, got {inner_optimizer!r}")
        if not (initial_scale > 0 and np.isfinite(initial_scale)):
            raise ValueError(f"LossScaleOptimizer: initial_scale must be a positive float, got "
                             f"{initial_scale!r}")
        if not (isinstance(dynamic_growth_steps, (int, np.integer))
                and dynamic_growth_steps >= 1):
            raise ValueError(f"LossScaleOptimizer: dynamic_growth_steps must be an integer "
                             f">= 1, got {dynamic_growth_steps!r}")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale, self.dynamic_growth_steps = initial_scale, dynamic_growth_steps
        inner_optimizer.loss_scale_factor = None  # scaled once, here
        inner_optimizer._inside_wrapper = True

    def build(self, variables):
        if self.built:
            return
        self.step_counter = self._add_scalar("step_counter", 0, np.int64)
        self.dynamic_scale = self._add_scalar("dynamic_scale", self.initial_scale, np.float32)
        self.inner_optimizer.build(variables)
        super().build(variables)

    @property
    def variables(self):
        return list(self._variables) + self.inner_optimizer.variables

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if trainable_variables is None and not self.built:
            raise ValueError(f"{self._who} is not built: pass the variables with the "
                             f"gradients, apply(grads, variables)")
        # checked before the scale or the counter moves
        pairs, variables = self._check_gradients(grads, trainable_variables)
        if not self.built:
            self.build(variables)
        # one read of the device for all the gradients
        finite = bool(xp.stack([xp.isfinite(g).all() for g, _ in pairs]).all())
        counter, scale = int(self.step_counter.data), np.float32(self.dynamic_scale.data)
        if not finite:
            counter, scale = 0, scale * np.float32(0.5)
        else:
            with no_grad():
                unscaled = [g / scale for g, _ in pairs]
            self.inner_optimizer.apply(unscaled, [v for _, v in pairs])
            counter, scale = (0, scale * np.float32(2)) \
                if counter == self.dynamic_growth_steps - 1 else (counter + 1, scale)
        self.step_counter.data = np.asarray(counter, dtype=np.int64)
        self.dynamic_scale.data = np.asarray(scale, dtype=np.float32)

    def scale_loss(self, loss):
        scale = float(self.dynamic_scale.data) if self.built else self.initial_scale
        return loss * scale

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        return {"name": self.name, "inner_optimizer": _serialize_optimizer(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = _deserialize_optimizer(config.pop("inner_optimizer"), custom_objects)
        return cls(inner, **config)

    def _saveable_children(self):
        return [("inner_optimizer", self.inner_optimizer)]

    def __repr__(self):
        return f"<LossScaleOptimizer name='{self.name}' inner={self.inner_optimizer!r}>"


class OptimizerMap(MutableMapping):
    """Which optimizer updates which variable: keys are variable paths, or regular expressions
    that match a whole path (`"encoder/.*"`); a variable no key matches gets `default_optimizer`.

    Example:
        >>> optimizer_map = OptimizerMap(default_optimizer=mgp.optimizers.SGD())
        >>> optimizer_map["encoder/.*"] = mgp.optimizers.Adam()
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"OptimizerMap: default_optimizer must be an Optimizer, got "
                            f"{default_optimizer!r}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"OptimizerMap: optimizer_map must be a dict, got {optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        """The optimizer of the exact key, else of the one pattern that matches all of `key`,
        else the default; two matching patterns are an error."""
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(f"OptimizerMap: variable '{key}' matches several keys {matches}")
        return self._optimizer_map[matches[0]] if matches else self._default_optimizer

    def __setitem__(self, key, optimizer):
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: keys are strings, got {key!r}")
        if key in self._optimizer_map:
            raise ValueError(f"OptimizerMap: '{key}' is already mapped to "
                             f"{self._optimizer_map[key]!r}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"OptimizerMap: '{key}' must map to an Optimizer, got "
                             f"{optimizer!r}")
        if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
            raise ValueError(f"OptimizerMap: '{key}' cannot map to a "
                             f"{type(optimizer).__name__}")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[str(getattr(variable, "path", variable.name))]

    def get_config(self):
        return {"default_optimizer": _serialize_optimizer(self._default_optimizer),
                "optimizer_map": {k: _serialize_optimizer(v)
                                  for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        default = _deserialize_optimizer(config["default_optimizer"], custom_objects)
        mapping = {k: _deserialize_optimizer(v, custom_objects)
                   for k, v in (config.get("optimizer_map") or {}).items()}
        return cls(default, mapping)

    def __repr__(self):
        return f"<OptimizerMap default={self._default_optimizer.name!r} " \
               f"{ {k: v.name for k, v in self._optimizer_map.items()} }>"


class MultiOptimizer(Optimizer):
    """Delegates each variable to its own optimizer.

    Args:
        optimizer_map: an `OptimizerMap`, or a callable `variable -> Optimizer`.
        loss_scale_factor: set on every inner optimizer.
        name: default "multi_optimizer".

    `optimizers` lists the inner optimizers; `learning_rate` is theirs, not this one's (reading
    or setting it here is an error, as in Keras).

    Example:
        >>> opt = MultiOptimizer(OptimizerMap(mgp.optimizers.SGD(), {"dense/.*": Adam()}))
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        if not callable(optimizer_map):
            raise TypeError(f"MultiOptimizer: optimizer_map must be an OptimizerMap or a "
                            f"callable variable -> Optimizer, got {optimizer_map!r}")
        self._inner_optimizers = []
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        if isinstance(optimizer_map, OptimizerMap):
            for opt in list(optimizer_map.values()) + [optimizer_map.default_optimizer]:
                if opt not in self._inner_optimizers:
                    self._inner_optimizers.append(opt)
        self.loss_scale_factor = loss_scale_factor

    @property
    def loss_scale_factor(self):
        return self._loss_scale_factor

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for opt in self._inner_optimizers:
            opt.loss_scale_factor = value

    @property
    def optimizers(self):
        return list(self._inner_optimizers)

    @property
    def variables(self):
        return list(self._variables) + [v for opt in self._inner_optimizers
                                        for v in opt.variables]

    def build(self, variables):
        if self.built:
            return
        variables = list(variables)
        chosen = []
        for var in variables:
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer) or isinstance(opt, (LossScaleOptimizer,
                                                                   MultiOptimizer)):
                raise ValueError(f"{self._who}: the optimizer for variable '{var.name}' must be "
                                 f"a plain Optimizer, got {opt!r}")
            chosen.append(opt)
        for opt in chosen:
            if opt not in self._inner_optimizers:
                opt.loss_scale_factor = self.loss_scale_factor
                opt._inside_wrapper = True
                self._inner_optimizers.append(opt)
        self._owner = {id(v): self._inner_optimizers.index(o) for v, o in zip(variables, chosen)}
        for i, opt in enumerate(self._inner_optimizers):
            mine = [v for v in variables if self._owner[id(v)] == i]
            if mine:
                opt.build(mine)
        super().build(variables)

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None and not self.built:
            raise ValueError(f"{self._who} is not built: pass the variables with the "
                             f"gradients, apply(grads, variables)")
        variables = self._trainable_variables if trainable_variables is None \
            else list(trainable_variables)
        pairs, variables = Optimizer._check_gradients(self, grads, variables)  # changes nothing
        if not self.built:
            self.build(variables)
        groups = [([], []) for _ in self._inner_optimizers]
        for g, v in pairs:
            grads_of, variables_of = groups[self._owner[id(v)]]
            grads_of.append(g)
            variables_of.append(v)
        for opt, (sub_grads, sub_vars) in zip(self._inner_optimizers, groups):
            if sub_grads:
                opt.apply(sub_grads, sub_vars)
        self._iterations.data = np.asarray(int(self._iterations.data) + 1, dtype=np.int64)

    @property
    def learning_rate(self):
        raise AttributeError("MultiOptimizer has no learning rate of its own: read it on the "
                             "inner optimizers (optimizer.optimizers)")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("MultiOptimizer has no learning rate of its own: set it on the "
                             "inner optimizers (optimizer.optimizers)")

    def finalize_variable_values(self, var_list):
        for i, opt in enumerate(self._inner_optimizers):
            mine = [v for v in var_list if self._owner.get(id(v)) == i]
            if mine:
                opt.finalize_variable_values(mine)

    def get_config(self):
        optimizer_map = self._optimizer_map
        if isinstance(optimizer_map, OptimizerMap):
            optimizer_map = {"module": "keras.optimizers", "class_name": "OptimizerMap",
                             "config": optimizer_map.get_config(), "registered_name": None}
        return {"optimizer_map": optimizer_map, "loss_scale_factor": self.loss_scale_factor,
                "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        optimizer_map = config["optimizer_map"]
        if isinstance(optimizer_map, dict):
            optimizer_map = OptimizerMap.from_config(optimizer_map["config"], custom_objects)
        config["optimizer_map"] = optimizer_map
        return cls(**config)

    def _saveable_children(self):
        from mgp.layers.base import snake_case
        used, children = {}, []
        for opt in self._inner_optimizers:  # named as Keras names a list's items
            base = snake_case(type(opt).__name__)
            used[base] = used.get(base, -1) + 1
            children.append((f"optimizers/{base}" + (f"_{used[base]}" if used[base] else ""),
                             opt))
        return children

    def __repr__(self):
        return f"<MultiOptimizer name='{self.name}' optimizers={[o.name for o in self.optimizers]}>"
