"""Where each object's weights live in a Keras 3 `.weights.h5` file.

Keras 3 walks a model as a tree of "saveables" and gives every one a group whose `vars`
subgroup holds its own variables as datasets `0`, `1`, ... (trainable first, then
non-trainable), with the object's name as the attribute `name` of `vars`:

- Sequential and functional models: their layers, as the list `layers`, each named after its
  class in snake case, made unique in list order (`layers/dense`, `layers/dense_1`, ...).
  A functional model's list starts with its InputLayers and follows Keras's graph order.
- Subclassed models and layers: their attributes in sorted order (private ones last), a layer
  attribute under its attribute name (`encoder/vars`), a list attribute as a container named
  like `layers` above; a subclassed model also lists all its layers under `layers`, and each
  object is saved once, at the first path the walk reaches it by.
- The model's optimizer under `optimizer`: its `variables` (iteration, learning_rate, then the
  slots; a wrapper's include those of the optimizers it wraps), then each wrapped optimizer's
  own again below it, as Keras writes them (`optimizer/inner_optimizer` for a
  LossScaleOptimizer, `optimizer/optimizers/adam`, `.../sgd` for a MultiOptimizer). Only
  `optimizer/vars` is read back.
- The model itself at the root (`vars`).

This module computes that list of (path, object, variables) for an mgp model, so the same walk
serves writing and reading.
"""
from mgp.layers.base import Layer, _flatten, snake_case
from mgp.models.model import functional_layers


def saveables(model, include_optimizer=True):
    """The model's saveable objects in Keras's order: a list of `(path, object)`, the model
    itself first at path "" and, when compiled and asked for, its optimizer at "optimizer"."""
    found, seen = [], set()
    _visit(model, "", found, seen)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None:
        found.extend(_optimizer_saveables(optimizer, "optimizer"))
    return found


def _optimizer_saveables(optimizer, path):
    found = [(path, optimizer)]
    for child_path, child in getattr(optimizer, "_saveable_children", list)():
        found.extend(_optimizer_saveables(child, f"{path}/{child_path}"))
    return found


def own_variables(obj):
    """The variables an object stores in its own `vars` group, in Keras's order."""
    if isinstance(obj, Layer):
        own = obj._own_weights
        return [w for w in own if w.trainable] + [w for w in own if not w.trainable]
    return list(obj.variables)  # an optimizer: iteration, learning_rate, slots


def group_name(obj):
    """The snake-case class name Keras files an object under (`functional` for a functional
    Model, whose Keras class is `Functional`)."""
    if type(obj).__name__ == "Model" and getattr(obj, "_graph", None) is not None:
        return "functional"
    return snake_case(type(obj).__name__)


def _join(path, name):
    return f"{path}/{name}" if path else name


def _visit(obj, path, found, seen):
    if id(obj) in seen:  # saved once, where the walk first reaches it
        return
    seen.add(id(obj))
    found.append((path, obj))
    for attr, child in _children(obj):
        if isinstance(child, Layer):
            _visit(child, _join(path, attr), found, seen)
        elif isinstance(child, (list, tuple, dict)):
            _visit_container(child, _join(path, attr), found, seen, set())


def _visit_container(items, path, found, seen, containers):
    if id(items) in containers:
        return
    containers.add(id(items))
    used = {}
    for item in items.values() if isinstance(items, dict) else items:
        # the name is taken even when the item was already saved elsewhere, as Keras does
        if isinstance(item, Layer):
            _visit(item, _join(path, _unique(group_name(item), used)), found, seen)
        elif isinstance(item, (list, tuple, dict)):
            _visit_container(item, _join(path, _unique("container", used)), found, seen,
                             containers)


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _children(obj):
    """(attribute name, value) pairs Keras walks below an object."""
    from mgp.models import Model, Sequential
    if isinstance(obj, Sequential):
        return [("layers", obj.layers)]
    if isinstance(obj, Model) and obj._graph is not None:
        return [("layers", functional_layers(obj))]
    attrs = {name: value for name, value in vars(obj).items() if _holds_layers(value)}
    if isinstance(obj, Model):
        attrs["layers"] = obj.layers
    # Keras sorts the attribute names with the private ones last
    return sorted(attrs.items(), key=lambda item: "~" + item[0] if item[0].startswith("_")
                  else item[0])


def _holds_layers(value):
    if isinstance(value, Layer):
        return True
    if isinstance(value, (list, tuple, dict)):
        return any(isinstance(v, Layer) for v in _flatten(value))
    return False


