"""Pictures with matplotlib: training curves, and what a convnet's first layer learned.

matplotlib is an optional extra (`pip install "mgp[plot]"`), imported only when a picture is
asked for. Each function returns a `matplotlib.figure.Figure` (shown inline in Jupyter; save it
with `fig.savefig("curves.png")` or the `to_file` argument), made without pyplot, so nothing
opens a window or keeps global state.
"""
import numpy as np

from mgp.backend import to_numpy


def _figure(what, figsize):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"{what} needs matplotlib, an optional extra of mgp: "
                          f"pip install \"mgp[plot]\" (or pip install matplotlib)") from None
    return Figure(figsize=figsize, layout="constrained")


def _save(fig, to_file):
    if to_file is not None:
        fig.savefig(to_file, dpi=100)
    return fig


def plot_history(history, metrics=None, to_file=None, figsize=None):
    """Training curves: one panel per metric (loss first), training against validation, per
    epoch.

    Args:
        history: the `History` that `fit` returns, or its `.history` dict.
        metrics: the names to plot (default: every name without `val_`).
        to_file: optional path to save the figure to (png, svg, pdf).
        figsize: (width, height) in inches; default 4 wide per panel.
    Returns:
        A matplotlib Figure.

    Example:
        history = model.fit(x, y, epochs=5, validation_split=0.1)
        mgp.utils.plot_history(history, to_file="curves.png")
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(f"plot_history takes a History or its .history dict with at least "
                         f"one metric, got {history!r}")
    names = [k for k in logs if not k.startswith("val_")] if metrics is None else list(metrics)
    unknown = [m for m in names if m not in logs]
    if unknown:
        raise ValueError(f"plot_history: no values for {unknown}; the history has "
                         f"{sorted(logs)}")
    epochs = list(getattr(history, "epoch", None) or range(len(logs[names[0]])))
    fig = _figure("plot_history", figsize or (4 * len(names), 3))
    for i, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), i + 1)
        x = [e + 1 for e in epochs[-len(logs[name]):]]
        ax.plot(x, logs[name], marker="o", label="training")
        if f"val_{name}" in logs:
            val = logs[f"val_{name}"]
            ax.plot(x[-len(val):], val, marker="o", label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(fig, to_file)


def first_conv_layer(model):
    """The first Conv2D in `model` (looking inside nested models), or a clear error."""
    from mgp.layers import Conv2D
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            return layer
        if hasattr(layer, "layers"):
            try:
                return first_conv_layer(layer)
            except ValueError:
                continue
    raise ValueError(f"model '{model.name}' has no Conv2D layer")


def _grid(n, columns=None):
    cols = columns or int(np.ceil(np.sqrt(n)))
    return int(np.ceil(n / cols)), cols


def plot_filters(model_or_layer, to_file=None, max_filters=64, figsize=None):
    """The kernels of a Conv2D layer (by default the model's first), one small image each.

    A kernel with 3 input channels is shown in colour, one with 1 in grey; otherwise its mean
    over the input channels. Each is scaled to its own range, so the pattern, not the
    magnitude, is what you see: blue negative, red positive for grey kernels.

    Returns:
        A matplotlib Figure.
    """
    from mgp.layers import Conv2D
    layer = model_or_layer if isinstance(model_or_layer, Conv2D) else \
        first_conv_layer(model_or_layer)
    if not layer.built:
        raise ValueError(f"layer '{layer.name}' is not built yet, so it has no kernels")
    kernel = to_numpy(layer.kernel.data)  # (kh, kw, in, out)
    n = min(kernel.shape[3], max_filters)
    rows, cols = _grid(n)
    fig = _figure("plot_filters", figsize or (1.2 * cols, 1.2 * rows + 0.4))
    fig.suptitle(f"{layer.name}: {kernel.shape[3]} filters of {kernel.shape[0]}x"
                 f"{kernel.shape[1]}x{kernel.shape[2]}")
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        k = kernel[:, :, :, i]
        if k.shape[2] == 3:
            k = (k - k.min()) / (np.ptp(k) or 1.0)
            ax.imshow(k, interpolation="nearest")
        else:
            k = k.mean(axis=2)
            limit = np.abs(k).max() or 1.0
            ax.imshow(k, cmap="bwr", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
    return _save(fig, to_file)


def layer_output(model, x, layer):
    """`layer`'s output for the inputs `x` (a batch), as a NumPy array, computed by running
    the model up to that layer."""
    from mgp.models import Model, Sequential
    from mgp.tensor import Tensor, no_grad
    with no_grad():
        if isinstance(model, Sequential):
            out = Tensor(np.asarray(x, dtype=np.float32))
            for current in model.layers:
                out = current(out, training=False)
                if current is layer:
                    return out.numpy()
            raise ValueError(f"layer '{layer.name}' is not in model '{model.name}'")
        if getattr(model, "_graph", None) is None:
            raise ValueError("layer_output needs a Sequential or functional model; a "
                             "subclassed model has no graph to stop in")
        if all(layer is not current for current in model.layers):
            raise ValueError(f"layer '{layer.name}' is not in model '{model.name}'")
        upto = Model(model.inputs, layer.output, name=f"{model.name}_upto_{layer.name}")
        return upto(np.asarray(x, dtype=np.float32)).numpy()


def plot_activations(model, x, layer=None, to_file=None, max_maps=32, figsize=None):
    """One input's activation maps at a convolutional layer: what each filter responds to.

    Args:
        model: a Sequential or functional model.
        x: one input, without the batch axis (e.g. (28, 28, 1)), or a batch of one.
        layer: the layer (or its name) whose output to show; default the first Conv2D.
        max_maps: show at most this many channels.
    Returns:
        A matplotlib Figure: the input, then one map per channel.
    """
    if layer is None:
        layer = first_conv_layer(model)
    elif isinstance(layer, str):
        layer = model.get_layer(layer)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == len(model.inputs[0].shape) - 1:
        x = x[None]
    if x.shape[0] != 1:
        raise ValueError(f"plot_activations shows one input; got a batch of {x.shape[0]}")
    maps = layer_output(model, x, layer)[0]
    if maps.ndim != 3:
        raise ValueError(f"layer '{layer.name}' gives outputs of shape {maps.shape}, not "
                         f"(height, width, channels) maps")
    n = min(maps.shape[2], max_maps)
    rows, cols = _grid(n + 1)
    fig = _figure("plot_activations", figsize or (1.4 * cols, 1.4 * rows + 0.4))
    fig.suptitle(f"{layer.name}: {maps.shape[2]} activation maps of {maps.shape[0]}x"
                 f"{maps.shape[1]}")
    ax = fig.add_subplot(rows, cols, 1)
    image = x[0]
    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray")
    ax.set_title("input", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 2)
        ax.imshow(maps[:, :, i], cmap="viridis", interpolation="nearest")
        ax.set_title(str(i), fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    return _save(fig, to_file)
