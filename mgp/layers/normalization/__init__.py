"""Normalization layers, one file each as Keras groups them."""
from mgp.layers.normalization.batch_normalization import BatchNormalization
from mgp.layers.normalization.layer_normalization import LayerNormalization
from mgp.layers.normalization.unit_normalization import UnitNormalization

__all__ = ["BatchNormalization", "LayerNormalization", "UnitNormalization"]
