"""Normalization layers, one file each as Keras groups them."""
from mgp.layers.normalization.batch_normalization import BatchNormalization
from mgp.layers.normalization.group_normalization import GroupNormalization
from mgp.layers.normalization.layer_normalization import LayerNormalization
from mgp.layers.normalization.rms_normalization import RMSNormalization
from mgp.layers.normalization.spectral_normalization import SpectralNormalization
from mgp.layers.normalization.unit_normalization import UnitNormalization

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization", "RMSNormalization",
           "SpectralNormalization", "UnitNormalization"]
