"""`rearrange`, einops's notation for reshapes and transposes (Keras's `keras.ops.rearrange`)."""
import math
import re

from mgp.ops.numpy import _t, reshape, transpose


def _parse(side):
    """'b (h w) c' -> [['b'], ['h', 'w'], ['c']]; '...' is one group of its own."""
    groups, current = [], None
    for token in re.findall(r"\.\.\.|\(|\)|[A-Za-z_][A-Za-z0-9_]*|\d+", side):
        if token == "(":
            if current is not None:
                raise ValueError(f"rearrange: nested parentheses in {side!r}")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError(f"rearrange: unbalanced parentheses in {side!r}")
            groups.append(current)
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    if current is not None:
        raise ValueError(f"rearrange: unbalanced parentheses in {side!r}")
    return groups


def rearrange(tensor, pattern, **axes_lengths):
    """Reshape and transpose by an einops pattern: 'b h w c -> b (h w) c' merges h and w,
    'b (h w) c -> b h w c' splits them (give h= or w=), 'b c h w -> b h w c' transposes.

    Example:
        >>> rearrange(ops.ones((2, 3, 4)), "b h w -> b (h w)").shape
        (2, 12)
    """
    x = _t(tensor)
    if "->" not in pattern:
        raise ValueError(f"rearrange: the pattern needs '->', got {pattern!r}")
    left, right = (_parse(side) for side in pattern.split("->"))
    if len(left) - (["..."] in left) > x.ndim or (["..."] not in left and len(left) != x.ndim):
        raise ValueError(f"rearrange: {pattern!r} names {len(left)} axes, the tensor has "
                         f"{x.ndim} ({x.shape})")
    sizes = dict(axes_lengths)
    elementary = []  # the input's axes split into single named axes
    ellipsis_axes = x.ndim - (len(left) - 1) if ["..."] in left else 0
    dim = 0
    for group in left:
        if group == ["..."]:
            names = [f"...{i}" for i in range(ellipsis_axes)]
            for i, name in enumerate(names):
                sizes[name] = x.shape[dim + i]
            elementary += names
            dim += ellipsis_axes
            continue
        n = x.shape[dim]
        unknown = [a for a in group if a not in sizes and not a.isdigit()]
        known = math.prod(int(a) if a.isdigit() else sizes[a] for a in group if a not in unknown)
        if len(unknown) > 1:
            raise ValueError(f"rearrange: cannot split axis {dim} of size {n} into {group} "
                             f"without the sizes of {unknown[1:]}")
        if unknown:
            if n % known:
                raise ValueError(f"rearrange: axis {dim} of size {n} does not split into "
                                 f"{group}")
            sizes[unknown[0]] = n // known
        elif known != n:
            raise ValueError(f"rearrange: {group} has size {known}, axis {dim} has {n}")
        elementary += group
        dim += 1
    order = []
    out_shape = []
    for group in right:
        if group == ["..."]:
            group = [f"...{i}" for i in range(ellipsis_axes)]
            order += [elementary.index(a) for a in group]
            out_shape += [sizes[a] for a in group]
            continue
        for a in group:
            if a not in elementary:
                raise ValueError(f"rearrange: {a!r} is on the right of {pattern!r} but not on "
                                 f"the left")
        order += [elementary.index(a) for a in group]
        out_shape.append(math.prod(sizes[a] for a in group))
    if sorted(order) != list(range(len(elementary))):
        raise ValueError(f"rearrange: {pattern!r} must use every input axis exactly once")
    split = reshape(x, [sizes[a] if not a.isdigit() else int(a) for a in elementary])
    return reshape(transpose(split, order), out_shape)
