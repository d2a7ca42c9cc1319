"""Model architectures as Keras 3 configs, and back.

A layer is `{"module", "class_name", "config", "registered_name", "build_config"}` (see
`mgp.saving.serialization_lib`). A functional model's config lists its layers, each with its
`inbound_nodes`: for each call, the arguments, in which a tensor is written as Keras writes it,
`{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history":
[layer name, node index, tensor index]}}`; `input_layers` and `output_layers` are such
`[layer, node, index]` triples. A Sequential's config lists its layers, its InputLayer first.
"""
import inspect

from mgp.layers.operation import Operation
from mgp.layers.symbolic import SymbolicTensor, flatten, map_structure
from mgp.saving.serialization_lib import (deserialize_keras_object, register_keras_serializable,
                                          serialize_keras_object)

# Keras 3 config entries for features mgp does not have, with the value meaning "off": a
# config holding that value loads (the entry is dropped), any other value is an error naming it
KERAS_ONLY = {"quantization_config": None, "renorm": False, "renorm_clipping": None,
              "renorm_momentum": 0.99, "lora_rank": None, "lora_alpha": None, "ragged": False,
              "optional": False, "sparse": False}


def register_serializable(cls=None, name=None, package="Custom"):
    """Class decorator: make a custom layer or model loadable by `load_model` without passing
    `custom_objects` (Keras's `register_keras_serializable`, as `@register_serializable` or
    `@register_serializable(name=..., package=...)`)."""
    decorator = register_keras_serializable(package=package, name=name)
    return decorator(cls) if cls is not None else decorator


def layer_classes():
    """The layer and model classes a config may name: mgp's own, by class name."""
    from mgp import layers, models
    known = {name: obj for name, obj in vars(layers).items()
             if isinstance(obj, type) and issubclass(obj, layers.Layer)}
    for obj in list(known.values()):  # configs name the class (GroupedQueryAttention)
        known.setdefault(obj.__name__, obj)
    known.update({"Sequential": models.Sequential, "Model": models.Model,
                  "Functional": models.Model})
    # the layers keras.applications' models are made of beyond keras.layers, so that a saved
    # ConvNeXt or InceptionResNetV2 loads back
    from mgp.applications.convnext import LayerScale, StochasticDepth
    from mgp.applications.inception_resnet_v2 import CustomScaleLayer
    for cls in (LayerScale, StochasticDepth, CustomScaleLayer):
        known.setdefault(cls.__name__, cls)
    return known


def serialize_layer(layer):
    return serialize_keras_object(layer)


def deserialize_layer(config, custom_objects=None):
    """A layer (or model) from its serialized config; only mgp's classes, registered ones and
    `custom_objects` are resolved."""
    return deserialize_keras_object(config, module_objects=layer_classes(),
                                    custom_objects=custom_objects, kind="layer")


def from_config_of(cls, config, custom_objects=None):
    """`cls.from_config(config)`, passing `custom_objects` where it takes them; entries of
    Keras-only features at their "off" value are dropped for mgp's own classes."""
    config = dict(config)
    if cls.__module__.startswith("mgp."):
        accepted = set(inspect.signature(cls.__init__).parameters)
        for key, off in KERAS_ONLY.items():
            if key in config and key not in accepted:
                value = config.pop(key)
                if value != off:
                    raise ValueError(f"{cls.__name__}: {key}={value!r} is not supported by "
                                     f"mgp (only {off!r})")
    from_config = cls.from_config
    if "custom_objects" in inspect.signature(from_config).parameters:
        return from_config(config, custom_objects=custom_objects)
    return from_config(config)


# ---- checking a model's config before building anything from it -------------------------------
def check_layer_entries(config, who):
    """Raise ConfigError unless `config["layers"]` is a list of layer entries Keras's way:
    dicts with a text `class_name`, a dict `config` (an InputLayer's with a shape), a text
    `name` where given, and `inbound_nodes` (a list of calls with `args` and `kwargs`)."""
    from mgp.errors import ConfigError
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ConfigError(f"{who}: 'layers' should be a list of layer configs, got "
                          f"{_short(entries)}")
    for i, entry in enumerate(entries):
        where = f"{who}: layers[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
                or not isinstance(entry.get("config"), dict):
            raise ConfigError(f"{where} should be a dict with a text 'class_name' and a dict "
                              f"'config', got {_short(entry)}")
        name = entry.get("name", entry["config"].get("name"))
        if name is not None and not isinstance(name, str):
            raise ConfigError(f"{where}: the name should be text, got {_short(name)}")
        if entry["class_name"] == "InputLayer":
            c = entry["config"]
            shape = c.get("batch_shape") or c.get("batch_input_shape")
            if not isinstance(shape, list) or not all(
                    d is None or (type(d) is int and d >= 0) for d in shape):
                raise ConfigError(f"{where} (InputLayer '{name}'): batch_shape should be a "
                                  f"list of sizes (integers >= 0 or null), got {_short(shape)}")
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list) or not all(
                isinstance(n, dict) and isinstance(n.get("args", []), list)
                and isinstance(n.get("kwargs", {}), dict) for n in nodes):
            raise ConfigError(f"{where} ('{name}'): inbound_nodes should be a list of calls "
                              f"{{'args': [...], 'kwargs': {{...}}}}, got {_short(nodes)}")
        for n in nodes:
            _check_refs(n, f"{where} ('{name}')")


def _check_refs(value, where):
    """Every tensor reference in a call's arguments: `keras_history` [layer, node, index]."""
    from mgp.errors import ConfigError
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        inner = value.get("config")
        history = inner.get("keras_history") if isinstance(inner, dict) else None
        if not (isinstance(history, list) and len(history) == 3 and
                isinstance(history[0], str) and all(type(h) is int and h >= 0
                                                    for h in history[1:])):
            raise ConfigError(f"{where}: a tensor's keras_history should be [layer name, node, "
                              f"index], got {_short(history)}")
    elif isinstance(value, dict):
        for v in value.values():
            _check_refs(v, where)
    elif isinstance(value, list):
        for v in value:
            _check_refs(v, where)


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# Keras's entries for plain values in a call's arguments
SPECIAL_ENTRIES = ("__slice__", "__ellipsis__", "__numpy__", "__tensor__", "__bytes__")


# ---- functional models ---------------------------------------------------------------------------
def _tensor_ref(sym, history):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(sym.shape),
                       "dtype": "string" if sym.dtype.kind in "USO" else sym.dtype.name,
                       "keras_history": list(history[id(sym)])}}


def functional_config(model):
    """Layers with the calls that connect them, in Keras's order of layers (by depth, as
    `model.operations`), as Keras writes them."""
    history = {}      # id(symbolic tensor) -> (layer name, node index, tensor index)
    calls, layers = {}, {}  # id(layer) -> its calls in this model, in order; the layer
    for node in model._nodes:
        own = calls.setdefault(id(node.layer), [])
        layers[id(node.layer)] = node.layer
        for i, sym in enumerate(node.outputs):
            history[id(sym)] = (node.layer.name, len(own), i)
        own.append(node)

    def ref(x):
        if isinstance(x, SymbolicTensor):
            return _tensor_ref(x, history)
        return serialize_keras_object(x)
    order = [layer for layer in model._functional_layers if id(layer) in calls]
    order += [layer for key, layer in layers.items() if all(key != id(o) for o in order)]
    entries = []
    for layer in order:
        entry = layer.serialized() if isinstance(layer, Operation) else serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [  # an InputLayer's node has no call
            {"args": [map_structure(ref, a) for a in node.call_args],
             "kwargs": map_structure(ref, node.call_kwargs)}
            for node in calls[id(layer)] if node.call_args]
        entries.append(entry)

    def triple(sym):
        return list(history[id(sym)])
    return {"name": model.name, "trainable": model.trainable, "layers": entries,
            "input_layers": _io_refs(model._inputs_structure, triple),
            "output_layers": _io_refs(model._outputs_structure, triple)}


def _io_refs(structure, triple):
    """Keras writes one input or output as a bare triple, several as a list (or dict)."""
    if isinstance(structure, SymbolicTensor):
        return triple(structure)
    return map_structure(triple, structure)


def _is_triple(value):
    return (isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(v, int) for v in value[1:]))


def functional_from_config(config, custom_objects=None, cls=None):
    """Rebuild a functional model: make each layer, then replay its calls once the tensors
    they read exist (a shared layer's later call may wait on layers listed after it)."""
    from mgp.layers import Input
    from mgp.models.model import Model
    check_layer_entries(config, f"functional model '{config.get('name')}'")
    produced = {}  # (layer name, node index) -> flat list of symbolic outputs
    layers, pending = {}, []
    for entry in config["layers"]:
        name = entry.get("name") or entry["config"]["name"]
        if entry["class_name"] == "InputLayer":
            c = entry["config"]
            shape = c.get("batch_shape") or c.get("batch_input_shape")
            produced[(name, 0)] = [Input(batch_shape=tuple(shape), dtype=c.get("dtype"),
                                         name=name)]
            continue
        if (entry.get("module") or "").startswith(("keras.src.ops.", "mgp.ops.")):
            layers[name] = Operation.from_keras(entry["module"], entry["class_name"],
                                                entry.get("config", {}))
        else:
            layers[name] = deserialize_layer(entry, custom_objects)
        pending.extend((name, i, node) for i, node in enumerate(entry.get("inbound_nodes", [])))

    def ref(value):
        """`value` with every tensor reference replaced by the tensor (KeyError: not yet)."""
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            layer, node, index = value["config"]["keras_history"]
            return produced[(layer, node)][index]
        if isinstance(value, dict) and set(value) == {"layer", "node", "index"}:
            return produced[(value["layer"], value["node"])][value["index"]]  # older mgp files
        if isinstance(value, dict) and value.get("class_name") in SPECIAL_ENTRIES:
            return deserialize_keras_object(value)  # a slice, an array, a tensor
        if isinstance(value, dict):
            return {k: ref(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [ref(v) for v in value]
        return value

    def ready(value):
        try:
            ref(value)
            return True
        except KeyError:
            return False
    while pending:
        for item in pending:
            name, index, node = item
            if ready(node.get("args", [])) and ready(node.get("kwargs", {})):
                break
        else:
            waiting = sorted({name for name, _, _ in pending})
            raise ValueError(f"the functional config cannot be replayed: the calls of layers "
                             f"{waiting} read tensors no layer produces")
        pending.remove(item)
        args, kwargs = ref(node.get("args", [])), ref(node.get("kwargs", {}))
        try:
            produced[(name, index)] = flatten(layers[name](*args, **kwargs))
        except (TypeError, AttributeError, KeyError, IndexError) as e:
            from mgp.errors import ConfigError
            raise ConfigError(f"functional model '{config.get('name')}': layer '{name}' cannot "
                              f"be called as its inbound_nodes[{index}] says "
                              f"({_short(node)}): {type(e).__name__}: {e}") from e

    def lookup(value):
        if isinstance(value, dict) and "layer" in value:
            return produced[(value["layer"], value["node"])][value["index"]]
        try:
            return produced[(value[0], value[1])][value[2]]
        except KeyError:
            raise ValueError(f"the functional config names {value!r} as an input or output, "
                             f"which no layer produces") from None

    def structure(refs):
        if _is_triple(refs) or isinstance(refs, dict) and "layer" in refs:
            return lookup(refs)
        if isinstance(refs, dict):
            return {k: structure(v) for k, v in refs.items()}
        return [structure(r) for r in refs]
    cls = cls or Model
    return cls(structure(config["input_layers"]), structure(config["output_layers"]),
               name=config.get("name"), trainable=config.get("trainable", True))
