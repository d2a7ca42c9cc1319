"""The graph of a functional model: its layer calls (`Node`s) in order, and running them.

`Model(inputs, outputs)` keeps the nodes reachable from its outputs, each after the nodes whose
outputs it reads. Running the model runs them in that order on Tensors; inferring its outputs
(when the model is called on placeholders, inside another model) runs them on SymbolicTensors.
"""
from mgp.layers.symbolic import SymbolicTensor, flatten, map_structure, set_mask


def graph_nodes(outputs):
    """The nodes that `outputs` depend on, each after the ones it reads (inputs' nodes too)."""
    order, seen, stack = [], set(), [(o.node, False) for o in reversed(outputs)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p.node, False) for p in reversed(node.parents) if id(p.node) not in seen)
    return order


def check_graph(inputs, nodes):
    """Every node reads only tensors the model's inputs lead to."""
    given = {id(t.node) for t in inputs}
    for node in nodes:
        if not node.call_args and id(node) not in given:
            raise ValueError(f"the outputs depend on input '{node.layer.name}', which is not "
                             f"among the model's inputs")


def run_graph(inputs, nodes, outputs_structure, values, call):
    """Evaluate `nodes` from `values` (one per model input, flat) with `call(node, args,
    kwargs) -> outputs`; returns the outputs in `outputs_structure`."""
    computed = {id(sym): value for sym, value in zip(inputs, values)}

    def value_of(x):
        return computed[id(x)] if isinstance(x, SymbolicTensor) else x
    for node in nodes:
        if not node.call_args:  # an InputLayer: its value is given
            continue
        args = map_structure(value_of, node.call_args)
        kwargs = map_structure(value_of, node.call_kwargs)
        results = flatten(call(node, args, kwargs))
        for sym, result in zip(node.outputs, results):
            computed[id(sym)] = result
    return map_structure(lambda s: computed[id(s)], outputs_structure)


def adjusted_shape(shape, sym):
    """The shape data of `shape` takes for the input `sym`: a trailing axis of size 1 added or
    dropped where that is all that differs in rank (Keras's `Functional._adjust_input_rank`:
    (n, 28, 28) data for an `Input((28, 28, 1))`); otherwise `shape` itself (the layers then
    say what does not fit)."""
    shape, want = tuple(shape), len(sym.shape)
    if len(shape) == want + 1 and shape[-1] == 1:
        return shape[:-1]
    if len(shape) == want - 1 and sym.shape[-1] == 1:
        return shape + (1,)
    return shape


def adjusted_rank(x, sym):
    """`x` reshaped to `adjusted_shape` (itself when that is its shape)."""
    shape = adjusted_shape(x.shape, sym)
    if shape == tuple(x.shape):
        return x
    from mgp import ops
    return ops.reshape(x, shape)


def attach_input_masks(inputs, masks):
    """Keras's `Model.call(inputs, mask=...)`: put each given mask on its input tensor."""
    if masks is None:
        return
    for x, mask in zip(inputs, flatten(masks)):
        if mask is not None:
            set_mask(x, mask)


def functional_layers(inputs, outputs):
    """A functional model's layers in Keras's order: by decreasing depth (the longest path to
    an output), ties broken by the order a depth-first walk from the outputs first meets them
    (Keras's `map_graph`); InputLayers included."""
    layer_of, parents, index, order, finished = {}, {}, {}, [], set()
    stack = [(sym.node, False) for sym in reversed(outputs)]
    while stack:
        node, done = stack.pop()
        if done:
            if id(node) not in finished:
                finished.add(id(node))
                order.append(node)
            continue
        if id(node) in finished:
            continue
        layer_of[id(node)] = node.layer
        index.setdefault(id(node.layer), len(index))
        parents[id(node)] = [p.node for p in node.parents]
        stack.append((node, True))
        stack.extend((p.node, False) for p in reversed(node.parents))

    node_depth, layer_depth = {}, {}
    for node in reversed(order):
        layer = id(node.layer)
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(layer, 0))
        layer_depth[layer] = node_depth[id(node)] = depth
        for parent in parents[id(node)]:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for sym in inputs:  # inputs no output depends on
        if id(sym.layer) not in layer_depth:
            layer_depth[id(sym.layer)] = 0
            index[id(sym.layer)] = -1
            layer_of[id(sym.node)] = sym.layer
    by_id = {id(layer): layer for layer in layer_of.values()}
    ids = sorted(layer_depth, key=lambda i: (-layer_depth[i], index[i]))
    return [by_id[i] for i in ids]
