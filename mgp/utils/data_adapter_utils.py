"""How a batch reaches the step methods: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`."""


def unpack_x_y_sample_weight(data):
    """The batch `data` as `(x, y, sample_weight)`, with None for what it does not hold; for
    use in an overridden `train_step(self, data)`.

    Args:
        data: `x`, or a tuple (or list) `(x,)`, `(x, y)` or `(x, y, sample_weight)`.
    Returns:
        `(x, y, sample_weight)`.

    Example:
        >>> x, y, sample_weight = mgp.utils.unpack_x_y_sample_weight((features, labels))
        >>> sample_weight is None
        True
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(f"data must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of "
                     f"{len(data)} items")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of `unpack_x_y_sample_weight`: `x` alone (a list or tuple `x` as `(x,)`),
    `(x, y)` or `(x, y, sample_weight)`."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return x, y
    return x, y, sample_weight
