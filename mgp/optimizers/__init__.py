"""Optimizers as Keras 3 defines them, with `get`, `serialize` and `deserialize`.

- `base.py`: `Optimizer`, what they all share (clipping, weight decay, EMA, gradient
  accumulation, loss scaling, constraints, the state and its order, configs).
- `sgd.py`: SGD, Lion. `adam.py`: Adam, AdamW, Adamax, Nadam, Lamb, ScheduleFreeAdamW.
  `adaptive.py`: RMSprop, Adagrad, Adadelta, Adafactor, Ftrl. `muon.py`: Muon.
- `wrappers.py`: LossScaleOptimizer, MultiOptimizer, OptimizerMap.
- `schedules.py`: the learning-rate schedules (`mgp.optimizers.schedules`).

The update rules follow Keras's (its torch backend's where that has its own), operation by
operation in float32, so trajectories and saved state match Keras's.
"""
from mgp.optimizers import schedules
from mgp.optimizers.adam import Adam, Adamax, AdamW, Lamb, Nadam, ScheduleFreeAdamW
from mgp.optimizers.adaptive import Adadelta, Adafactor, Adagrad, Ftrl, RMSprop
from mgp.optimizers.base import Optimizer
from mgp.optimizers.muon import Muon
from mgp.optimizers.sgd import SGD, Lion
from mgp.optimizers.wrappers import LossScaleOptimizer, MultiOptimizer, OptimizerMap

__all__ = ["Optimizer", "SGD", "Lion", "Adam", "AdamW", "Adamax", "Nadam", "Lamb",
           "ScheduleFreeAdamW", "RMSprop", "Adagrad", "Adadelta", "Adafactor", "Ftrl", "Muon",
           "LossScaleOptimizer", "MultiOptimizer", "OptimizerMap", "schedules", "get",
           "serialize", "deserialize"]

# Keras finds them by lower-cased class name ("adamw", "rmsprop", "schedulefreeadamw")
_BY_NAME = {cls.__name__.lower(): cls for cls in (
    SGD, Lion, Adam, AdamW, Adamax, Nadam, Lamb, ScheduleFreeAdamW, RMSprop, Adagrad, Adadelta,
    Adafactor, Ftrl, Muon, LossScaleOptimizer, MultiOptimizer)}


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
        return deserialize(identifier)
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise ValueError(f"could not interpret optimizer identifier {identifier!r}: expected a "
                     f"name, a config dict or an Optimizer")


def _lookup(name, custom_objects=None):
    cls = (custom_objects or {}).get(name) or _BY_NAME.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; known: {sorted(_BY_NAME)}")
    return cls


def serialize(optimizer):
    """The optimizer as Keras serializes it (`module`, `class_name`, `config`,
    `registered_name`), a learning-rate schedule nested in its config the same way."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"serialize expects an Optimizer, got {optimizer!r}")
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """An optimizer from `serialize`'s dict (Keras's or mgp's); `custom_objects` maps names to
    your own optimizer or schedule classes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"cannot deserialize an optimizer from {config!r}: expected a dict "
                         f"with 'class_name' and 'config'")
    cls = _lookup(config["class_name"], custom_objects)
    return cls.from_config(dict(config.get("config") or {}), custom_objects)
