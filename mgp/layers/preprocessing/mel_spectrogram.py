"""MelSpectrogram: audio signals to mel-scaled (log-)power spectrograms."""
import numpy as np

from mgp import ops
from mgp.errors import InvalidArgumentError
from mgp.layers._utils import integer, number
from mgp.layers.base import Layer
from mgp.layers.preprocessing.rescaling import check_numeric

MEL_BREAK_FREQUENCY_HERTZ = 700.0
MEL_HIGH_FREQUENCY_Q = 1127.0


def hertz_to_mel(frequencies):
    return MEL_HIGH_FREQUENCY_Q * np.log(1.0 + frequencies / MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins=20, num_spectrogram_bins=129, sampling_rate=8000,
                                lower_edge_hertz=125.0, upper_edge_hertz=3800.0,
                                dtype="float32"):
    """(num_spectrogram_bins, num_mel_bins) triangular filters, evenly spaced on the mel scale
    between the edges, that turn linear-frequency bins into mel bins (the DC bin gets none)."""
    f = np.dtype(dtype).type
    linear = np.linspace(f(0), f(sampling_rate) / f(2), num_spectrogram_bins,
                         dtype=dtype)[1:]
    bins_mel = hertz_to_mel(linear)[:, None]
    edges = np.linspace(hertz_to_mel(f(lower_edge_hertz)), hertz_to_mel(f(upper_edge_hertz)),
                        num_mel_bins + 2, dtype=dtype)
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = np.maximum(f(0), np.minimum(rising, falling))
    return np.pad(weights, [(1, 0), (0, 0)]).astype(dtype)


class MelSpectrogram(Layer):
    """Turn audio signals (samples,) or (batch, samples) into mel spectrograms
    (num_mel_bins, frames) or (batch, num_mel_bins, frames): a centred STFT's magnitude to the
    power `mag_exp`, mel filters, then decibels (`power_to_db`), clipped `top_db` below the
    peak. Differentiable in the signal.

    Args:
        fft_length: the FFT size (2048); sequence_length: the window (fft_length by
            default); sequence_stride: the hop (512); window: 'hann', 'hamming' or None.
        sampling_rate: the signal's rate in Hz (16000).
        num_mel_bins: the mel bins (128); min_freq, max_freq: their range in Hz (20 to half
            the rate).
        power_to_db, top_db, mag_exp, min_power, ref_power: the decibel scale
            10 log10(max(power, min_power) / ref_power), floored top_db below its maximum.
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None,
                 window="hann", sampling_rate=16000, num_mel_bins=128, min_freq=20.0,
                 max_freq=None, power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10,
                 ref_power=1.0, **kwargs):
        super().__init__(**kwargs)
        self.fft_length = integer(self, "fft_length", fft_length)
        self.sequence_stride = integer(self, "sequence_stride", sequence_stride)
        self.sequence_length = fft_length if sequence_length is None else \
            integer(self, "sequence_length", sequence_length)
        if window is not None and not isinstance(window, str):
            raise InvalidArgumentError(f"MelSpectrogram: window must be 'hann', 'hamming' or "
                                       f"None, got {window!r}")
        integer(self, "num_mel_bins", num_mel_bins)
        for name, value, low in (("sampling_rate", sampling_rate, 1), ("min_freq", min_freq, 0),
                                 ("mag_exp", mag_exp, None), ("min_power", min_power, 0),
                                 ("ref_power", ref_power, 0), ("top_db", top_db, 0)):
            number(self, name, value, low)
        if max_freq is not None:
            number(self, "max_freq", max_freq, 0)
        if self.fft_length < self.sequence_length:
            raise ValueError(f"MelSpectrogram: fft_length must be >= sequence_length, got "
                             f"sequence_length={self.sequence_length}, "
                             f"fft_length={self.fft_length}")
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power

    def call(self, inputs):
        check_numeric(self, inputs)
        dtype = self.dtype if self.dtype.name in ("float32", "float64") else "float32"
        x = ops.cast(inputs, dtype)
        real, imag = ops.stft(x, sequence_length=self.sequence_length,
                              sequence_stride=self.sequence_stride,
                              fft_length=self.fft_length, window=self.window, center=True)
        spec = ops.power(ops.sqrt(ops.square(real) + ops.square(imag)), self.mag_exp)
        matrix = linear_to_mel_weight_matrix(self.num_mel_bins, spec.shape[-1],
                                             self.sampling_rate, self.min_freq, self.max_freq)
        out = ops.tensordot(spec, ops.cast(matrix, spec.dtype), axes=1)
        if self.power_to_db:
            out = 10.0 * ops.log10(ops.maximum(out, self.min_power))
            out = out - 10.0 * float(np.log10(max(abs(self.ref_power), self.min_power)))
            out = ops.maximum(out, ops.stop_gradient(ops.max(out)) - self.top_db)
        return ops.cast(ops.swapaxes(out, -1, -2), self.dtype)

    def compute_output_shape(self, input_shape):
        frames = input_shape[-1]
        if frames is not None:
            frames = (frames + self.sequence_stride + 1) // self.sequence_stride
        if len(input_shape) == 1:
            return (self.num_mel_bins, frames)
        return (input_shape[0], self.num_mel_bins, frames)

    def get_config(self):
        return {**super().get_config(), "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window,
                "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db,
                "mag_exp": self.mag_exp, "min_power": self.min_power,
                "ref_power": self.ref_power}
