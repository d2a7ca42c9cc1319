"""`timeseries_dataset_from_array`: sliding windows over a series, in batches, as Keras makes
them (see `dataset_utils` for what mgp returns in place of a tf.data.Dataset)."""
import numpy as np

from mgp.utils.dataset_utils import BatchDataset


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None, format="tf"):
    """Windows of `sequence_length` time steps over `data`, with Keras's arguments.

    Window i starts at step `start_index + i * sequence_stride` and takes every
    `sampling_rate`-th step from there; its target is `targets[i * sequence_stride]` (Keras's
    alignment: for the value after a window, pass `targets=data[sequence_length:]`).

    Args:
        data: an array (steps, ...) of consecutive time steps.
        targets: an array with one target per step, or None for windows alone.
        sequence_length: steps per window.
        sequence_stride: steps between the starts of successive windows.
        sampling_rate: steps between the samples inside a window.
        batch_size: windows per batch (None: single windows).
        shuffle, seed: shuffle the windows (the starting order as Keras's, then a new order
            at each pass; see `dataset_utils`).
        start_index, end_index: use the steps in [start_index, end_index) only.
        format: 'tf' or 'grain', accepted as Keras has it; mgp returns its BatchDataset.
    Returns:
        A `BatchDataset` of `(windows, targets)` batches (windows (batch, sequence_length,
        ...)), or of windows alone without targets.

    Example:
        >>> ds = mgp.utils.timeseries_dataset_from_array(
        ...     series[:-10], series[10:], sequence_length=10, batch_size=32)
    """
    data = np.asarray(data)
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"start_index must be 0 or greater, got {start_index}")
        if start_index >= n:
            raise ValueError(f"start_index must be below the data's length {n}, got "
                             f"{start_index}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"end_index must be above start_index={start_index}, got "
                             f"{end_index}")
        if end_index >= n:
            raise ValueError(f"end_index must be below the data's length {n}, got "
                             f"{end_index}")
        if end_index <= 0:
            raise ValueError(f"end_index must be above 0, got {end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"{name} must be above 0, got {value}")
        if value >= n:
            raise ValueError(f"{name} must be below the data's length {n}, got {value}")
    if format not in ("tf", "grain"):
        raise ValueError(f"timeseries_dataset_from_array: format must be 'tf' or 'grain', got "
                         f"{format!r}")
    start_index = start_index or 0
    end_index = end_index or n
    windows = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        windows = min(windows, len(targets))
    starts = np.arange(0, max(windows, 0), sequence_stride)
    if len(starts) == 0:
        raise ValueError(f"timeseries_dataset_from_array: {end_index - start_index} steps "
                         f"make no window of {sequence_length} steps at sampling_rate "
                         f"{sampling_rate}")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1_000_000)
        np.random.RandomState(seed).shuffle(starts)
    steps = data[start_index:end_index]
    offsets = np.arange(sequence_length) * sampling_rate

    def load(rows):  # one gather for the whole batch of windows
        return steps[starts[rows][:, None] + offsets]
    window_targets = None if targets is None else targets[start_index:end_index][starts]
    return BatchDataset(len(starts), load, window_targets, batch_size, shuffle, seed)
