"""`plot_model` and `model_to_dot`: a model's layers as a Graphviz picture, as Keras draws it."""
import os

from mgp.layers.base import _flatten
from mgp.utils.dot import Dot, html_escape, quote


def _is_graph_model(layer):
    """A Sequential or functional model: one that has layers to draw inside it."""
    from mgp.models import Model
    return isinstance(layer, Model) and getattr(layer, "outputs", None) is not None


def _calls(model):
    """The layer calls of a functional model, in graph order: [(output sym, input syms)]."""
    seen, calls = set(), []
    for sym in model._graph:
        key = (id(sym.layer), id(sym.inputs))
        # an Input's own symbol has no inputs; `!=` on a symbol would record an op
        is_input = isinstance(sym.inputs, tuple) and len(sym.inputs) == 0
        if not is_input and key not in seen:
            seen.add(key)
            calls.append((sym, _flatten(sym.inputs)))
    return calls


def _shape_text(shapes):
    return str(shapes[0]) if len(shapes) == 1 else "[" + ", ".join(map(str, shapes)) + "]"


def _io(model, layer):
    """The input and output shapes (and output dtype) of `layer`'s last call in `model`."""
    from mgp.layers import InputLayer
    if isinstance(layer, InputLayer):
        out = layer._outbound[-1]
        return None, _shape_text([out.shape]), str(out.dtype)
    outs = [s for s in layer._outbound]
    if not outs:
        return "?", "?", "?"
    last = outs[-1]
    mine = [s for s in outs if s.inputs is last.inputs]
    inputs = _flatten(last.inputs)
    return (_shape_text([s.shape for s in inputs]), _shape_text([s.shape for s in mine]),
            str(last.dtype))


def _activation_name(layer):
    act = getattr(layer, "activation", None)
    if act is None:
        return None
    return getattr(act, "__name__", None) or getattr(act, "name", None) or str(act)


def _type_name(layer):
    from mgp.models import Model, Sequential
    if type(layer) is Model and getattr(layer, "_graph", None) is not None:
        return "Functional"
    return "Sequential" if isinstance(layer, Sequential) else type(layer).__name__


def _label(model, layer, show_shapes, show_dtype, show_layer_names, show_layer_activations,
           show_trainable):
    cols = []
    if show_shapes:
        shape_in, shape_out, _ = _io(model, layer)
        if shape_in is not None:
            cols.append(f"Input shape: <b>{html_escape(shape_in)}</b>")
        cols.append(f"Output shape: <b>{html_escape(shape_out)}</b>")
    if show_dtype:
        cols.append(f"Output dtype: <b>{html_escape(_io(model, layer)[2])}</b>")
    trainable_cell = ""
    if show_trainable and layer.weights:
        color, text = ("forestgreen", "Trainable") if layer.trainable else \
            ("firebrick", "Non-trainable")
        trainable_cell = (f'<td bgcolor="{color}"><font point-size="14" color="white">'
                          f"<b>{text}</b></font></td>")
    # the title spans the columns there could be, whether or not this layer fills them (Keras)
    span = max(1, int(show_dtype) + int(show_trainable) + 2 * int(show_shapes))
    title = (f"<b>{html_escape(layer.name)}</b> ({_type_name(layer)})" if show_layer_names
             else f"<b>{_type_name(layer)}</b>")
    rows = [f'<tr><td colspan="{span}" bgcolor="black"><font point-size="16" color="white">'
            f"{title}</font></td></tr>"]
    activation = _activation_name(layer) if show_layer_activations else None
    if activation:
        rows.append(f'<tr><td bgcolor="white" colspan="{span}"><font point-size="14">'
                    f"Activation: <b>{html_escape(activation)}</b></font></td></tr>")
    cells = "".join(f'<td bgcolor="white"><font point-size="14">{c}</font></td>' for c in cols)
    if cells or trainable_cell:
        rows.append(f"<tr>{cells}{trainable_cell}</tr>")
    return ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
            + "".join(rows) + "</table>>")


def _exit(layer, index=0):
    """The box an edge out of `layer` starts at: inside nested models, the layer that made
    output `index`."""
    from mgp.models import Sequential
    while _is_graph_model(layer):
        layer = layer.layers[-1] if isinstance(layer, Sequential) else \
            layer.outputs[index].layer
    return layer


def _entry_for(layer, input_index):
    """The box an edge into input `input_index` of `layer` ends at: inside nested models, the
    InputLayer (functional) or first layer (Sequential) that takes it."""
    from mgp.models import Sequential
    while _is_graph_model(layer):
        if isinstance(layer, Sequential):
            layer = layer.layers[0]
        else:
            layer = layer.inputs[min(input_index, len(layer.inputs) - 1)].layer
            input_index = 0
    return layer


def _body(model, expand_nested, options, lines, edges, depth=1):
    """Nodes (and clusters for nested models) of `model` into `lines`, edges into `edges`."""
    from mgp.layers import InputLayer
    from mgp.models import Sequential
    pad = "  " * depth
    sequential = isinstance(model, Sequential)
    layers = model.layers
    for layer in layers:
        if expand_nested and _is_graph_model(layer):
            lines.append(f"{pad}subgraph cluster_{id(layer)} {{")
            lines.append(f"{pad}  style=dashed; label={quote(layer.name)}; labeljust=l;")
            _body(layer, expand_nested, options, lines, edges, depth + 1)
            lines.append(f"{pad}}}")
        else:
            lines.append(f"{pad}n{id(layer)} [label={_label(model, layer, **options)}];")
    if sequential:
        for a, b in zip(layers, layers[1:]):
            src = _exit(a) if expand_nested else a
            dst = _entry_for(b, 0) if expand_nested else b
            edges.append((src, dst))
        return
    for sym, inputs in _calls(model):
        for i, t in enumerate(inputs):
            src, dst = t.layer, sym.layer
            if expand_nested:
                src, dst = _exit(src, t.index), _entry_for(dst, i)
            if isinstance(src, InputLayer) and src is dst:
                continue
            edges.append((src, dst))


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, splines="ortho",
                 **kwargs):
    """The model as a `Dot` (Graphviz text): one box per layer, an arrow per connection.

    Arguments as `plot_model`'s (note that `show_layer_names` defaults to True here, False
    there, as in Keras). A subclassed model, which has no graph to trace, is one box.
    """
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if subgraph:
        raise ValueError("subgraph=True is not supported; use expand_nested=True to draw "
                         "nested models as clusters")
    if not model.built:
        raise ValueError(f"model '{model.name}' has not been built yet; build it first by "
                         f"calling build() or calling it on a batch of data")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                   show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations,
                   show_trainable=show_trainable)
    lines = ["digraph model {", f"  rankdir={rankdir}; concentrate=true; dpi={int(dpi)}; "
             f"splines={splines};", '  node [shape=record, fontname="Helvetica", border=0, '
             "margin=0];"]
    edges = []
    if _is_graph_model(model):
        _body(model, expand_nested, options, lines, edges)
    else:
        lines.append(f"  n{id(model)} [label={_label(model, model, **options)}];")
    seen = set()
    for src, dst in edges:
        if (id(src), id(dst)) not in seen:
            seen.add((id(src), id(dst)))
            lines.append(f"  n{id(src)} -> n{id(dst)} [penwidth=2];")
    lines.append("}")
    return Dot("\n".join(lines) + "\n", nodes=sum(1 for line in lines if " [label=" in line))


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Draw the model's layers and connections to `to_file`, as Keras's `plot_model` does.

    Args:
        model: a built Sequential, functional or subclassed model (a subclassed one is a
            single box).
        to_file: the picture's file; its extension picks the format (png, svg, pdf, jpg;
            `.dot` writes the Graphviz text, which needs no Graphviz).
        show_shapes: each layer's input and output shapes.
        show_dtype: each layer's output dtype.
        show_layer_names: layer names beside their class names.
        rankdir: "TB" (top to bottom) or "LR" (left to right).
        expand_nested: draw nested models as dashed clusters of their layers.
        dpi: resolution of a PNG.
        show_layer_activations: the activation of layers that have one.
        show_trainable: mark each layer with weights as trainable or not.
        splines: how Graphviz draws the edges ("ortho", "spline", "polyline", "line", ...).
    Returns:
        The picture as a `mgp.utils.dot.Dot`, which Jupyter shows inline.
    Raises:
        ImportError, naming Graphviz, when the picture is not `.dot` and Graphviz's `dot`
        program is not installed.
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines, **kwargs)
    to_file = os.fspath(to_file)
    dot.save(to_file)
    return dot
