"""Normalization layers, one file each as Keras groups them."""
from mgp.layers.normalization.batch_normalization import BatchNormalization

__all__ = ["BatchNormalization"]
