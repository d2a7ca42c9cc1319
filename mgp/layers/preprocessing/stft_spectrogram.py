"""STFTSpectrogram: signals to short-time Fourier transform spectrograms, as a convolution whose
kernels are the windowed Fourier basis (`initializers.STFT`), so that the kernels can be trained
further as Keras's can."""
import math
import warnings

import numpy as np

from mgp import config, initializers, ops
from mgp.layers._utils import describe, normalize_data_format
from mgp.layers.base import Layer
from mgp.layers.input_spec import InputSpec
from mgp.ops.convolution import conv

MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


class STFTSpectrogram(Layer):
    """(batch, time, channels) signals (channels_last) to spectrograms: for each channel,
    frames of `frame_length` samples every `frame_step`, times the window, through a DFT of
    `fft_length` points (the fft_length // 2 + 1 non-negative frequencies).

    Args:
        mode: what each output holds: 'real' and 'imag' parts, 'stft' (both, real first, on
            the frequency axis), 'angle' (the phase), 'magnitude' (sqrt(max(power, eps))),
            'log' (log of the magnitude, at least eps), or 'psd' (the power, with the bins
            other than DC and Nyquist doubled).
        frame_length: samples per frame (the window's length).
        frame_step: samples between frames (default frame_length // 2).
        fft_length: DFT size, at least frame_length (default the next power of two).
        window, periodic, scaling: the window and its normalization (see `initializers.STFT`).
        padding: 'valid' (only whole frames) or 'same' (frames = ceil(time / frame_step)).
        expand_dims: keep channels apart: (batch, frames, freqs, channels) instead of
            (batch, frames, freqs * channels).
        data_format: 'channels_last' (default) or 'channels_first' ((batch, channels, time)
            in, (batch, freqs * channels, frames) or (batch, channels, frames, freqs) out).

    Weights: `real_kernel` (unless mode 'imag') and `imag_kernel` (unless mode 'real'), each
    (frame_length, 1, fft_length // 2 + 1), trainable as in Keras.
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None,
                 window="hann", periodic=False, scaling="density", padding="valid",
                 expand_dims=False, data_format=None, **kwargs):
        def positive(value, what):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"STFTSpectrogram: {what} must be a positive int, got "
                                 f"{value!r}")
        positive(frame_length, "frame_length")
        if frame_step is not None:
            positive(frame_step, "frame_step")
            if frame_step > frame_length:
                raise ValueError(f"STFTSpectrogram: frame_step must not exceed frame_length "
                                 f"{frame_length}, got {frame_step}")
        if fft_length is not None:
            positive(fft_length, "fft_length")
            if fft_length < frame_length:
                raise ValueError(f"STFTSpectrogram: fft_length must be at least frame_length "
                                 f"{frame_length}, got {fft_length}")
            if fft_length & (fft_length - 1):
                warnings.warn(f"STFTSpectrogram: fft_length is recommended to be a power of "
                              f"two, got {fft_length}", stacklevel=2)
        if mode not in MODES:
            raise ValueError(f"STFTSpectrogram: mode must be one of {', '.join(MODES)}, got "
                             f"{mode!r}")
        if padding not in ("valid", "same"):
            raise ValueError(f"STFTSpectrogram: padding must be 'valid' or 'same', got "
                             f"{padding!r}")
        # the window and scaling are checked by the initializer, named after the layer
        try:
            initializers.STFT("real", window, scaling, periodic)
            data_format = normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f"STFTSpectrogram: {e}") from None
        super().__init__(**kwargs)
        self.mode, self.frame_length, self.frame_step = mode, int(frame_length), frame_step
        self.fft_length = fft_length
        self._frame_step = int(frame_step or frame_length // 2)
        self._fft_length = int(fft_length or 2 ** math.ceil(math.log2(frame_length)))
        self.window, self.periodic, self.scaling = window, periodic, scaling
        self.padding, self.expand_dims, self.data_format = padding, expand_dims, data_format
        self.input_spec = InputSpec(ndim=3)
        self.real_kernel = self.imag_kernel = None

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        for side in ("real", "imag"):
            if self.mode != ("imag" if side == "real" else "real"):
                setattr(self, f"{side}_kernel", self.add_weight(
                    shape=shape, name=f"{side}_kernel",
                    initializer=initializers.STFT(side, self.window, self.scaling,
                                                  self.periodic)))

    def _spectra(self, x, kernel):
        """(batch, channels, freqs, frames): each channel convolved alone with `kernel`."""
        first = self.data_format == "channels_first"
        if not first:
            x = ops.transpose(x, (0, 2, 1))
        batch, channels, time = x.shape
        signals = ops.reshape(x, (-1, time, 1))  # every channel a signal of its own
        out = conv(signals, ops.cast(kernel, x.dtype), self._frame_step, self.padding,
                   "channels_last")  # (batch * channels, frames, freqs)
        return ops.transpose(ops.reshape(out, (batch, channels) + out.shape[1:]), (0, 1, 3, 2))

    def _arrange(self, out):
        """(batch, channels, freqs, frames) to the layer's output layout."""
        batch, channels, freqs, frames = out.shape
        if self.expand_dims:
            order = (0, 3, 2, 1) if self.data_format == "channels_last" else (0, 1, 3, 2)
            return ops.transpose(out, order)
        out = ops.reshape(out, (batch, channels * freqs, frames))
        return ops.transpose(out, (0, 2, 1)) if self.data_format == "channels_last" else out

    def call(self, inputs):
        x = ops.convert_to_tensor(inputs)
        if x.dtype.name not in ("float16", "float32", "float64"):
            raise TypeError(f"{describe(self)}: inputs must be float16, float32 or float64 "
                            f"signals, got dtype {x.dtype.name}")
        time = x.shape[1 if self.data_format == "channels_last" else 2]
        if self.padding == "valid" and time < self.frame_length:
            raise ValueError(f"{describe(self)}: {time} samples are fewer than one frame of "
                             f"{self.frame_length} (padding 'valid'); got shape "
                             f"{tuple(x.shape)}")
        real = self._spectra(x, self.real_kernel) if self.mode != "imag" else None
        imag = self._spectra(x, self.imag_kernel) if self.mode != "real" else None
        if self.mode in ("real", "imag"):
            return self._arrange(real if self.mode == "real" else imag)
        if self.mode == "angle":
            return self._arrange(ops.arctan2(imag, real))
        if self.mode == "stft":
            return self._arrange(ops.concatenate([real, imag], axis=2))
        power = ops.square(real) + ops.square(imag)
        if self.mode == "psd":  # one-sided: the bins between DC and Nyquist count twice
            inner = ops.pad(power[:, :, 1:-1, :], [(0, 0), (0, 0), (1, 1), (0, 0)])
            return self._arrange(power + inner)
        eps = config.epsilon()
        magnitude = self._arrange(ops.sqrt(ops.maximum(power, eps)))
        return magnitude if self.mode == "magnitude" else ops.log(ops.maximum(magnitude, eps))

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(f"{describe(self)} expected 3-D inputs (batch, time, channels), "
                             f"got shape {shape}")
        last = self.data_format == "channels_last"
        time, channels = (shape[1], shape[2]) if last else (shape[2], shape[1])
        freqs = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        if time is None:
            frames = None
        elif self.padding == "same":
            frames = -(-time // self._frame_step)
        else:
            frames = max(0, (time - self.frame_length) // self._frame_step + 1)
        if self.expand_dims:
            return (shape[0], frames, freqs, channels) if last else \
                (shape[0], channels, frames, freqs)
        total = None if channels is None else freqs * channels
        return (shape[0], frames, total) if last else (shape[0], total, frames)

    def get_config(self):
        window = self.window.tolist() if isinstance(self.window, np.ndarray) else self.window
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length,
                "window": window, "periodic": self.periodic, "scaling": self.scaling,
                "padding": self.padding, "data_format": self.data_format,
                "expand_dims": self.expand_dims}
