"""`draw_graph(t)`: the autograd graph that `t.backward()` walks, as a picture (micrograd's
`draw_dot`, for tensors)."""
import collections

import numpy as np

from mgp.backend import to_numpy
from mgp.tensor import Tensor, _freed_backward
from mgp.utils.dot import Dot, html_escape


def _walk(root):
    """Every tensor `root` was made from, each with its distance (in ops) from `root`."""
    distance, order, queue = {id(root): 0}, [root], collections.deque([root])
    while queue:
        node = queue.popleft()
        for parent in node._parents:
            if id(parent) not in distance:
                distance[id(parent)] = distance[id(node)] + 1
                order.append(parent)
                queue.append(parent)
    return order, distance


def _array_text(a, limit):
    a = to_numpy(a)
    if a.size > limit:
        return None
    return np.array2string(np.asarray(a), precision=4, separator=", ", suppress_small=True,
                           max_line_width=60)


def draw_graph(t, show_values=False, show_grads=None, names=None, max_nodes=150,
               value_limit=16, rankdir="LR"):
    """The graph of ops that made `t`, as Graphviz DOT (a `Dot`: shown inline in Jupyter,
    `.save("graph.svg")` writes it, `.source` is the text).

    Each tensor is a box: the op that made it (or `input` for a leaf), its shape and dtype;
    leaves that require grad (the parameters) are shaded. Arrows go from an op's inputs to its
    output, the way the forward pass runs; `backward()` walks them in reverse.

    Args:
        t: the Tensor to draw from (usually a loss). Draw before `backward()`, or after
            `backward(retain_graph=True)`: a plain `backward()` frees the graph.
        show_values: add the values of tensors with at most `value_limit` elements.
        show_grads: add the `.grad` of such tensors where it is set (leaves, after
            `backward()`); default: the same as `show_values`.
        names: optional {name: tensor} to label tensors, e.g. `names={"x": x, "w": w}`.
        max_nodes: larger graphs keep the `max_nodes` tensors nearest to `t` and summarize the
            rest in one box that counts their ops.
        value_limit: the most elements a tensor may have for its values to be shown.
        rankdir: "LR" (left to right) or "TB" (top to bottom).
    Returns:
        A `mgp.utils.dot.Dot`.

    Example:
        >>> x = mgp.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> print(mgp.utils.draw_graph(y, names={"x": x}).source)   # doctest: +SKIP
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"draw_graph takes an mgp Tensor, got {type(t).__name__}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    show_grads = show_values if show_grads is None else show_grads
    labels = {}
    for name, tensor in (names or {}).items():
        if not isinstance(tensor, Tensor):
            raise TypeError(f"names[{name!r}] must be a Tensor, got {type(tensor).__name__}")
        labels[id(tensor)] = str(name)
    order, distance = _walk(t)
    freed = [n for n in order if n._backward is _freed_backward]
    if freed:
        raise ValueError("this graph was freed by backward(): draw it before calling "
                         "backward(), or call backward(retain_graph=True) to keep it")
    kept = order[:max_nodes]  # breadth first from t: the nearest ones
    kept_ids = {id(n) for n in kept}
    dropped = order[max_nodes:]

    lines = ["digraph autograd {", f"  rankdir={rankdir};",
             '  node [shape=plaintext, fontname="Helvetica", fontsize=11];',
             "  edge [color=\"#555555\"];"]
    for n in kept:
        label = _label(n, labels, show_values, show_grads, value_limit, n is t)
        lines.append(f"  t{id(n)} [label=<{label}>];")
    for n in kept:
        for p in n._parents:
            if id(p) in kept_ids:
                lines.append(f"  t{id(p)} -> t{id(n)};")
    if dropped:
        ops = collections.Counter(n._op or ("parameter" if n.requires_grad else "input")
                                  for n in dropped)
        summary = ", ".join(f"{op} x{count}" for op, count in ops.most_common(8))
        if len(ops) > 8:
            summary += ", ..."
        lines.append(f'  summary [shape=box, style="dashed,rounded", label=<<b>'
                     f'{len(dropped):,} more tensors</b><br/>{html_escape(summary)}>];')
        frontier = {id(n) for n in kept for p in n._parents if id(p) not in kept_ids}
        for n in kept:
            if id(n) in frontier:
                lines.append(f"  summary -> t{id(n)} [style=dashed];")
    lines.append("}")
    return Dot("\n".join(lines) + "\n", nodes=len(kept) + bool(dropped))


def _label(n, labels, show_values, show_grads, value_limit, is_root):
    """An HTML-like Graphviz label: a small table with the op, shape and dtype."""
    if n._op is not None:
        title, fill = n._op, "#dbe8f6" if not is_root else "#f6e3c8"
    else:
        title = "parameter" if n.requires_grad else "input"
        fill = "#cfe9cf" if n.requires_grad else "#eeeeee"
    name = labels.get(id(n))
    head = f"<b>{html_escape(name)}</b> = {html_escape(title)}" if name else \
        f"<b>{html_escape(title)}</b>"
    rows = [f'<tr><td bgcolor="{fill}">{head}</td></tr>',
            f"<tr><td>{html_escape(tuple(n.shape))} {n.dtype}</td></tr>"]
    if show_values:
        text = _array_text(n.data, value_limit)
        if text is not None:
            rows.append(f'<tr><td align="left">data {_lines(text)}</td></tr>')
    if show_grads and n.grad is not None:
        text = _array_text(n.grad, value_limit)
        if text is not None:
            rows.append(f'<tr><td align="left" bgcolor="#fdf3d0">grad {_lines(text)}</td></tr>')
    return ('<table border="0" cellborder="1" cellspacing="0" cellpadding="4">'
            + "".join(rows) + "</table>")


def _lines(text):
    # a <br align="left"/> left-aligns the line before it, so every line ends with one
    return "".join(html_escape(line) + '<br align="left"/>' for line in text.splitlines())
