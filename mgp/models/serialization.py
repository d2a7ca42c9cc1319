"""Model architectures as JSON-ready configs, and back (Keras's get_config / from_config)."""
from mgp.layers.base import _flatten, _map


def _registry(custom_objects=None):
    from mgp import layers, models
    known = {name: obj for name, obj in vars(layers).items() if isinstance(obj, type)}
    known.update({"Sequential": models.Sequential, "Model": models.Model,
                  "Functional": models.Model})
    known.update(custom_objects or {})
    known.update(_registered)
    return known


_registered = {}


def register_serializable(cls=None, name=None):
    """Class decorator: make a custom layer or model loadable by `load_model` without passing
    `custom_objects` (Keras's `register_keras_serializable`)."""
    def register(c):
        _registered[name or c.__name__] = c
        return c
    return register(cls) if cls is not None else register


def serialize_layer(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize_layer(entry, custom_objects=None):
    known = _registry(custom_objects)
    cls = known.get(entry["class_name"])
    if cls is None:
        raise ValueError(f"unknown layer class {entry['class_name']!r}; pass it in "
                         f"custom_objects={{'{entry['class_name']}': cls}} or decorate it with "
                         f"mgp.saving.register_serializable")
    from mgp.models.model import Model
    if isinstance(cls, type) and issubclass(cls, Model):
        try:
            return cls.from_config(entry["config"], custom_objects=custom_objects)
        except TypeError:
            return cls.from_config(entry["config"])
    return cls.from_config(entry["config"])


def functional_config(model):
    """Layers with the calls that connect them: for each call, which layer outputs it took."""
    node_of = {}       # id(symbolic tensor) -> (layer name, node index, tensor index)
    call_count = {}    # id(layer) -> calls seen
    call_index = {}    # (id(layer), id(inputs)) -> node index
    entries, by_layer = [], {}
    for sym in model._graph:
        layer = sym.layer
        if id(layer) not in by_layer:
            entry = serialize_layer(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = []
            by_layer[id(layer)] = entry
            entries.append(entry)
        key = (id(layer), id(sym.inputs))
        if key not in call_index:
            call_index[key] = call_count.get(id(layer), 0)
            call_count[id(layer)] = call_index[key] + 1
            if sym.inputs != ():
                by_layer[id(layer)]["inbound_nodes"].append({
                    "args": _map(lambda s: dict(zip(("layer", "node", "index"), node_of[id(s)])),
                                 sym.inputs),
                    "kwargs": sym.call_kwargs})
        node_of[id(sym)] = (layer.name, call_index[key], sym.index)

    def ref(s):
        return list(node_of[id(s)])
    return {"name": model.name, "trainable": model.trainable, "layers": entries,
            "input_layers": _map(ref, model._inputs_structure),
            "output_layers": _map(ref, model._outputs_structure)}


def _resolve(args, produced):
    """Replace each {"layer", "node", "index"} reference by the symbolic tensor it names."""
    if isinstance(args, dict) and "layer" in args:
        return produced[(args["layer"], args["node"])][args["index"]]
    if isinstance(args, (list, tuple)):
        return [_resolve(a, produced) for a in args]
    return args


def functional_from_config(config, custom_objects=None):
    from mgp.layers import Input
    from mgp.models.model import Model
    produced = {}  # (layer name, node index) -> flat list of symbolic outputs
    for entry in config["layers"]:
        name = entry["name"]
        if entry["class_name"] == "InputLayer":
            c = entry["config"]
            produced[(name, 0)] = [Input(shape=tuple(c["batch_shape"][1:]),
                                         dtype=c.get("dtype", "float32"), name=name)]
            continue
        layer = deserialize_layer(entry, custom_objects)
        for node_index, node in enumerate(entry["inbound_nodes"]):
            args = _resolve(node["args"], produced)
            produced[(name, node_index)] = _flatten(layer(args, **node.get("kwargs", {})))

    def lookup(ref):
        return produced[(ref[0], ref[1])][ref[2]]

    def structure(refs):
        if refs and isinstance(refs[0], str):
            return lookup(refs)
        return [structure(r) for r in refs]
    return Model(structure(config["input_layers"]), structure(config["output_layers"]),
                 name=config.get("name"))
