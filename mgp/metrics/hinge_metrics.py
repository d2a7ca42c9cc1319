"""Hinge metrics: the mean of the hinge losses."""
from mgp import losses
from mgp.metrics.reduction_metrics import BuiltinMeanMetric


class Hinge(BuiltinMeanMetric):
    """Mean hinge loss (labels -1 / 1, or 0 / 1)."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(losses.hinge, name=name, dtype=dtype)


class SquaredHinge(BuiltinMeanMetric):
    """Mean squared hinge loss."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(losses.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(BuiltinMeanMetric):
    """Mean categorical hinge loss (one-hot labels)."""

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(losses.categorical_hinge, name=name, dtype=dtype)
