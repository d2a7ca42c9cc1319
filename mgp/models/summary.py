"""`model.summary()`: layers, output shapes and parameter counts, as a Keras-like table."""


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


def print_summary(model, print_fn=print):
    rows = [("Layer (type)", "Output Shape", "Param #")]
    for layer in model.layers:
        params = sum(w.size for w in layer.weights) if layer.built else 0
        rows.append((f"{layer.name} ({type(layer).__name__})", _shape(layer), f"{params:,}"))
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
    widths[0] = max(widths[0], 30)
    widths[1] = max(widths[1], 24)
    widths[2] = max(widths[2], 12)
    line = "-" * (sum(widths) + 2)

    def fmt(r):
        return f" {r[0]:<{widths[0]}}{r[1]:<{widths[1]}}{r[2]:>{widths[2]}}"
    total = sum(w.size for w in model.weights) if model.built else 0
    trainable = sum(w.size for w in model.trainable_weights) if model.built else 0
    lines = [f'Model: "{model.name}"', line, fmt(rows[0]), "=" * len(line)]
    for r in rows[1:]:
        lines.append(fmt(r))
    lines += ["=" * len(line),
              f" Total params: {total:,} ({_bytes(total)})",
              f" Trainable params: {trainable:,} ({_bytes(trainable)})",
              f" Non-trainable params: {total - trainable:,} ({_bytes(total - trainable)})",
              line]
    print_fn("\n".join(lines))
