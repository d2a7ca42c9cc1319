"""`model.summary()`: layers, output shapes and parameter counts, as a Keras-like table; for a
functional model that is not a plain chain, Keras's "Connected to" column too."""


def _shape(layer):
    outs = getattr(layer, "_outbound", None)
    if not outs:
        return "?"
    shape = outs[-1].shape
    return str(tuple(shape))


def _bytes(n_params):
    size = n_params * 4.0
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _type_name(layer):
    """The class name, and 'Functional' for a plain functional Model, as Keras calls it."""
    from mgp.layers.operation import Operation
    from mgp.models.model import Model
    if type(layer) is Model and layer._graph is not None:
        return "Functional"
    if isinstance(layer, Operation):
        return layer.class_name  # Keras's class for the op ('ExpandDims')
    return type(layer).__name__


def _node_index(sym):
    """Which call of its layer made `sym` (Keras's node index), counting every call."""
    calls = -1
    for out in sym.layer._outbound:
        calls += out.index == 0  # each call's outputs start again at index 0
        if out is sym:
            return max(calls, 0)
    return 0


def _connections(model):
    """{id(layer): 'dense[0][0], ...'}, Keras's "Connected to" column, for a functional model
    that is not a plain chain; None when the column is not shown (Sequential, subclassed and
    chain-like functional models, as in Keras)."""
    graph = getattr(model, "_graph", None)
    if graph is None or type(model).__name__ == "Sequential":
        return None
    calls = {}  # id(node) -> (an output, the call's input tensors), in model order
    for sym in graph:
        if sym.node.call_args:
            calls.setdefault(id(sym.node), (sym, sym.node.parents))
    per_layer = {}
    for sym, inputs in calls.values():
        per_layer.setdefault(id(sym.layer), []).append((_node_index(sym), inputs))
    chain = (len(model.inputs) == 1 and len(model.outputs) == 1
             and all(len(c) == 1 for c in per_layer.values())
             and all(len(inputs) <= 1 for _, inputs in calls.values()))
    if chain:
        return None
    return {layer: ", ".join(f"{t.layer.name}[{_node_index(t)}][{t.index}]"
                             for _, inputs in sorted(entries, key=lambda e: e[0])
                             for t in inputs)
            for layer, entries in per_layer.items()}


def print_summary(model, print_fn=print):
    connections = _connections(model)
    header = ("Layer (type)", "Output Shape", "Param #")
    rows = []
    for layer in getattr(model, "operations", None) or model.layers:  # ops too, as Keras
        params = sum(w.size for w in layer.weights) if layer.built else 0
        row = (f"{layer.name} ({_type_name(layer)})", _shape(layer), f"{params:,}")
        if connections is not None:
            row += (connections.get(id(layer)) or "-",)
        rows.append(row)
    if connections is not None:
        header += ("Connected to",)
    widths = [max(len(r[i]) for r in [header] + rows) + 2 for i in range(3)]
    widths[0] = max(widths[0], 30)
    widths[1] = max(widths[1], 24)
    widths[2] = max(widths[2], 12)
    width = sum(widths)
    if connections is not None:  # one connection a line, as Keras wraps them
        width += 2 + max(len(part) for r in [header] + rows for part in r[3].split(", "))
    line = "-" * (width + 2)

    def fmt(r):
        text = f" {r[0]:<{widths[0]}}{r[1]:<{widths[1]}}{r[2]:>{widths[2]}}"
        if len(r) < 4:
            return text
        first, *more = r[3].split(", ")
        pad = " " * (sum(widths) + 3)
        return "\n".join([f"{text}  {first}" + ("," if more else "")] +
                         [f"{pad}{m}" + ("," if i + 1 < len(more) else "")
                          for i, m in enumerate(more)])
    total = sum(w.size for w in model.weights) if model.built else 0
    trainable = sum(w.size for w in model.trainable_weights) if model.built else 0
    lines = [f'Model: "{model.name}"', line, fmt(header), "=" * len(line)]
    for r in rows:
        lines.append(fmt(r))
    lines += ["=" * len(line),
              f" Total params: {total:,} ({_bytes(total)})",
              f" Trainable params: {trainable:,} ({_bytes(trainable)})",
              f" Non-trainable params: {total - trainable:,} ({_bytes(total - trainable)})",
              line]
    print_fn("\n".join(lines))
