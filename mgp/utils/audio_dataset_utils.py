"""`audio_dataset_from_directory`: a folder of .wav files (one subfolder per class) as a
dataset of (audio, labels) batches, as Keras makes it (see `dataset_utils`). WAV files are
read by the standard library's `wave` module: integer PCM, 8 to 32 bits, scaled to [-1, 1)
as TensorFlow's `decode_wav` scales them."""
import wave

import numpy as np

from mgp.utils import dataset_utils


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, batch_size=32, sampling_rate=None,
                                 output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None,
                                 follow_links=False, verbose=True):
    """A dataset of audio batches from the .wav files of a folder, with Keras's arguments
    (those of `image_dataset_from_directory` that apply to sound).

    Args:
        sampling_rate: the rate every file must have (mgp does not resample; Keras needs
            tensorflow-io to); None takes the files as they are.
        output_sequence_length: cut or zero-pad every file to this many samples; None pads
            each batch to its longest file (Keras's padded batches).
        ragged: batches of files at their own lengths: a list of (samples, channels) arrays.
    Returns:
        A `BatchDataset` of `(audio, labels)` batches, audio float32 (batch, samples,
        channels), with `class_names` and `file_paths`; or a (training, validation) pair for
        `subset="both"`.

    Example:
        >>> train = mgp.utils.audio_dataset_from_directory("speech", output_sequence_length=16000)
    """
    if ragged and output_sequence_length is not None:
        raise ValueError("audio_dataset_from_directory: give ragged or output_sequence_length, "
                         "not both")
    if sampling_rate is not None and (isinstance(sampling_rate, bool) or
                                      not isinstance(sampling_rate, int) or sampling_rate <= 0):
        raise ValueError(f"audio_dataset_from_directory: sampling_rate must be a positive "
                         f"integer, got {sampling_rate!r}")

    def load(paths):
        sounds = [read_wav(p, sampling_rate, output_sequence_length) for p in paths]
        if ragged:
            return _Ragged(sounds)
        longest = max(len(s) for s in sounds)
        out = np.zeros((len(sounds), longest, sounds[0].shape[1]), dtype=np.float32)
        for i, s in enumerate(sounds):
            if s.shape[1] != out.shape[2]:
                raise ValueError(f"audio_dataset_from_directory: {paths[i]} has {s.shape[1]} "
                                 f"channels, {paths[0]} {out.shape[2]}; a batch needs one "
                                 f"channel count")
            out[i, :len(s)] = s
        return out
    return dataset_utils.from_directory(
        "audio_dataset_from_directory", directory, labels, label_mode, class_names,
        batch_size, shuffle, seed, validation_split, subset, follow_links, verbose, (".wav",),
        load)


class _Ragged(list):
    """A batch of sounds of their own lengths (what `ragged=True` yields), indexable by an
    index array as a BatchDataset indexes a batch."""

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return _Ragged(list.__getitem__(self, int(i)) for i in np.asarray(index).ravel())
        return list.__getitem__(self, index)


def read_wav(path, sampling_rate=None, length=None):
    """A .wav file's samples, float32 (samples, channels) in [-1, 1); cut or zero-padded to
    `length` samples when given."""
    try:
        with wave.open(str(path), "rb") as f:
            channels, width, rate = f.getnchannels(), f.getsampwidth(), f.getframerate()
            frames = f.readframes(f.getnframes())
    except (wave.Error, EOFError) as e:
        raise ValueError(f"audio_dataset_from_directory: {path} is not a PCM .wav file the "
                         f"wave module can read ({e})") from None
    if sampling_rate is not None and rate != sampling_rate:
        raise ValueError(f"audio_dataset_from_directory: {path} is sampled at {rate} Hz, not "
                         f"the sampling_rate={sampling_rate} asked for (mgp does not resample)")
    if width == 1:  # 8-bit WAV is unsigned
        x = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128) / 128
    elif width == 3:  # 24-bit: little-endian triplets, widened to 32 bits
        raw = np.frombuffer(frames, np.uint8).reshape(-1, 3)
        x = (raw[:, 0].astype(np.int32) << 8 | raw[:, 1].astype(np.int32) << 16 |
             raw[:, 2].astype(np.int32) << 24).astype(np.float32) / 2.0 ** 31
    elif width in (2, 4):
        x = np.frombuffer(frames, f"<i{width}").astype(np.float32) / 2.0 ** (8 * width - 1)
    else:
        raise ValueError(f"audio_dataset_from_directory: {path} has {8 * width}-bit samples; "
                         f"8, 16, 24 and 32-bit PCM are read")
    x = x.reshape(-1, channels)
    if length is not None:
        if len(x) >= length:
            x = x[:length]
        else:
            x = np.concatenate([x, np.zeros((length - len(x), channels), np.float32)])
    return x
