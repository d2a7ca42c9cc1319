"""ContrastLimitedAdaptiveHistogramEqualization: histogram equalization by tiles, with the
histograms clipped and the tiles' mappings interpolated."""
import numpy as np

from mgp import ops
from mgp.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer, check_number)


def clahe(x, clip_limit, grid):
    """CLAHE of channels-last images x (batch, height, width, channels) on the 0-255 scale:
    one 256-bin histogram per tile and channel (the image padded symmetrically to whole
    tiles), clipped at clip_limit times the mean bin count and the excess spread evenly, each
    pixel mapped through its four nearest tiles' cumulative histograms, bilinearly."""
    n, h, w, c = x.shape
    gh, gw = grid
    th, tw = -(-h // gh), -(-w // gw)
    padded = np.pad(x, [(0, 0), (0, th * gh - h), (0, tw * gw - w), (0, 0)], mode="symmetric")
    tiles = padded.reshape(n, gh, th, gw, tw, c).transpose(0, 1, 3, 5, 2, 4)
    values = np.clip(tiles.reshape(n * gh * gw * c, th * tw).astype(np.int32), 0, 255)
    offsets = (np.arange(n * gh * gw * c) * 256)[:, None]
    hists = np.bincount((values + offsets).reshape(-1), minlength=n * gh * gw * c * 256)
    hists = hists.reshape(n, gh, gw, c, 256).astype(np.float32)
    if clip_limit > 0:
        clipped = np.clip(hists, 0, np.float32(clip_limit * (th * tw) / 256.0))
        hists = clipped + (hists - clipped).sum(-1, keepdims=True) / np.float32(256.0)
    cdf = np.cumsum(hists, axis=-1)
    cdf_min = cdf.min(-1, keepdims=True)
    denominator = np.float32(th * tw) - cdf_min
    denominator = np.where(denominator == 0, np.float32(1), denominator)
    mapping = np.clip((cdf - cdf_min) * np.float32(255.0) / denominator, 0, 255)
    mapping = np.pad(mapping, [(0, 0), (1, 1), (1, 1), (0, 0), (0, 0)], mode="edge")

    def taps(size, tile, count):
        pos = (np.arange(size, dtype=np.float32) - np.float32(tile / 2.0)) / np.float32(tile)
        pos = pos + np.float32(1.0)
        lo = np.floor(pos)
        frac = pos - lo
        return (np.clip(lo, 0, count + 1).astype(np.int32),
                np.clip(lo + 1, 0, count + 1).astype(np.int32), frac)
    y0, y1, wy = taps(th * gh, th, gh)
    x0, x1, wx = taps(tw * gw, tw, gw)
    pixels = np.clip(padded, 0, 255).astype(np.int32)
    b = np.arange(n)[:, None, None, None]
    ch = np.arange(c)[None, None, None, :]
    y0, y1, wy = y0[None, :, None, None], y1[None, :, None, None], wy[None, :, None, None]
    x0, x1, wx = x0[None, None, :, None], x1[None, None, :, None], wx[None, None, :, None]
    top = mapping[b, y0, x0, ch, pixels] * (1 - wx) + mapping[b, y0, x1, ch, pixels] * wx
    bottom = mapping[b, y1, x0, ch, pixels] * (1 - wx) + mapping[b, y1, x1, ch, pixels] * wx
    return (top * (1 - wy) + bottom * wy)[:, :h, :w, :]


class ContrastLimitedAdaptiveHistogramEqualization(BaseImagePreprocessingLayer):
    """Equalize each channel's histogram tile by tile (CLAHE), in training and at inference
    (as Keras does); integer images keep their dtype.

    Args:
        value_range: the images' (min, max).
        clip_limit: how far a histogram bin may rise above the mean count (4.0); 0 for no
            limit.
        tile_grid_size: the (rows, columns) of tiles (8, 8).
        data_format: 'channels_last' or 'channels_first'.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8),
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        check_number("ContrastLimitedAdaptiveHistogramEqualization", "clip_limit", clip_limit)
        if not isinstance(tile_grid_size, (tuple, list)) or len(tile_grid_size) != 2 or any(
                isinstance(g, bool) or not isinstance(g, (int, np.integer)) or g < 1
                for g in tile_grid_size):
            raise ValueError(f"ContrastLimitedAdaptiveHistogramEqualization: tile_grid_size "
                             f"must be two positive ints, got {tile_grid_size!r}")
        self.value_range = self._checked_value_range(value_range)
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def transform_images(self, images, transformation=None, training=True):
        dtype = images.dtype
        x = images
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 2, 3, 1))
        x = self._transform_value_range(x, self.value_range, (0, 255), "float32")
        out = clahe(ops.convert_to_numpy(x), self.clip_limit, self.tile_grid_size)
        out = self._transform_value_range(ops.convert_to_tensor(out), (0, 255),
                                          self.value_range, "float32")
        out = ops.cast(out, dtype)
        if self.data_format == "channels_first":
            out = ops.transpose(out, (0, 3, 1, 2))
        return out

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "clip_limit": self.clip_limit, "tile_grid_size": self.tile_grid_size,
                "data_format": self.data_format}
