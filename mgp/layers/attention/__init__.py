"""Attention layers, one file each as Keras groups them: Attention and AdditiveAttention (no
projections), MultiHeadAttention and GroupQueryAttention (EinsumDense projections into heads)."""
from mgp.layers.attention.attention import AdditiveAttention, Attention
from mgp.layers.attention.grouped_query_attention import (  # noqa: F401 (the class name)
    GroupedQueryAttention,
    GroupQueryAttention)
from mgp.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "GroupQueryAttention", "MultiHeadAttention"]
