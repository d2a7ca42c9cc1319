"""EinsumDense: a dense layer whose product is an einsum equation (the projections of the
attention layers are ones)."""
import re

import numpy as np

from mgp import activations, constraints, initializers, ops, regularizers
from mgp.layers._utils import describe, floating, serialize_initializer
from mgp.layers.base import Layer


def analyze_equation(equation, bias_axes, input_shape, output_shape):
    """(kernel shape, bias shape or None, full output shape, kernel input axes, kernel output
    axes) for `equation` applied to inputs of `input_shape`, as Keras works them out. The
    equation is 'in,kernel->out', optionally with '...' leading both input and output, or
    trailing both (the elided axes pass through)."""
    plain = equation.replace("...", "0")
    match, left = re.fullmatch(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", plain), False
    if match is None:
        match = re.fullmatch(r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", plain)
        left = match is not None
    if match is None:
        match = re.fullmatch(r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", plain)
    if match is None:
        raise ValueError(f"EinsumDense: invalid equation {equation!r}; it must be of the form "
                         f"'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...'")
    in_spec, w_spec, out_spec = match.groups()
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(in_spec)
    if elided < 0 or (elided and "..." not in equation):
        raise ValueError(f"EinsumDense: equation {equation!r} expects inputs of rank "
                         f"{len(in_spec)}, got shape {input_shape}")
    out = [input_shape[0]] + list(output_shape)
    if elided and left:
        for i in range(1, elided):
            out.insert(1, input_shape[i])
    elif elided:
        out.extend(input_shape[len(input_shape) - elided:])
    if left:
        in_map = {c: i + elided - len(input_shape) for i, c in enumerate(in_spec)}
        out_map = {c: i + elided for i, c in enumerate(out_spec)}
    else:
        in_map = {c: i for i, c in enumerate(in_spec)}
        out_map = {c: i for i, c in enumerate(out_spec)}
    for c in in_spec:
        if c in out_map and out[out_map[c]] is not None and out[out_map[c]] != \
                input_shape[in_map[c]]:
            raise ValueError(f"EinsumDense {equation!r}: inputs {input_shape} and the output "
                             f"shape {tuple(out)} differ at the shared axis '{c}'")
    for c in out_spec:
        if c not in in_spec and c not in w_spec:
            raise ValueError(f"EinsumDense {equation!r}: output axis '{c}' is in neither the "
                             f"input nor the kernel")
    kernel, in_axes, out_axes = [], [], []
    for i, c in enumerate(w_spec):
        if c in out_map:
            kernel.append(out[out_map[c]])
            out_axes.append(i)
        elif c in in_map:
            kernel.append(input_shape[in_map[c]])
            in_axes.append(i)
        else:
            raise ValueError(f"EinsumDense {equation!r}: kernel axis '{c}' is in neither the "
                             f"input nor the output")
    bias = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"EinsumDense {equation!r}: bias axis '{c}' is not an output "
                                 f"axis ('{out_spec}')")
        offset = elided if left else 0
        sizes = {c: out[i + offset] for i, c in enumerate(out_spec)}
        first = min(out_spec.find(c) for c in bias_axes)
        bias = [sizes[c] if c in bias_axes else 1 for c in out_spec[first:]]
        if not left:
            bias += [1] * elided
    if any(d is None for d in kernel) or (bias and any(d is None for d in bias)):
        raise ValueError(f"EinsumDense {equation!r}: the kernel's shape {tuple(kernel)} is not "
                         f"fully known from inputs {input_shape} and output_shape "
                         f"{tuple(output_shape)}")
    return tuple(kernel), None if bias is None else tuple(bias), tuple(out), in_axes, out_axes


class EinsumDense(Layer):
    """A dense layer of any rank: `activation(einsum(equation, inputs, kernel) + bias)`.

    Args:
        equation: 'ab,bc->ac' style ('...' allowed at the start or end of both input and
            output); the first term is the inputs (batch axis first), the second the kernel.
        output_shape: the output's shape without the batch axis (an int for rank 2); None
            for an axis whose size comes from the inputs.
        activation: name or callable (None: linear).
        bias_axes: the output letters the bias varies along ('c'), or None for no bias.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            kernel_constraint, bias_constraint: as Dense's. A variance-scaling initializer
            counts its fans over the kernel's input and output axes (as Keras's).

    Weights: `kernel` (shape from the equation), `bias` (when bias_axes is given).

    Example:
        >>> layer = EinsumDense("abc,cde->abde", output_shape=(None, 2, 16), bias_axes="de")
        >>> layer(np.zeros((4, 10, 32))).shape      # (batch, steps, heads, head_dim)
        (4, 10, 2, 16)
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None, **kwargs):
        super().__init__(**kwargs)
        if lora_rank or quantization_config is not None or gptq_unpacked_column_size:
            raise NotImplementedError("EinsumDense: lora_rank, quantization_config and "
                                      "gptq_unpacked_column_size are not supported by mgp")
        if not isinstance(equation, str):
            raise ValueError(f"EinsumDense: equation must be a string, got {equation!r}")
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else \
            tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    def build(self, input_shape):
        kernel_shape, bias_shape, self.full_output_shape, in_axes, out_axes = analyze_equation(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        self._input_rank = len(input_shape)
        self._gemm = self._as_gemm(kernel_shape)
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (
                init.input_axes is None or init.output_axes is None):
            config = {**init.get_config(), "input_axes": in_axes, "output_axes": out_axes}
            init = type(init).from_config(config)
        self.kernel = self.add_weight(shape=kernel_shape, initializer=init, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if bias_shape is not None:
            self.bias = self.add_weight(shape=bias_shape, initializer=self.bias_initializer,
                                        name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def _as_gemm(self, kernel_shape):
        """(inputs' contracted size, kernel's output size, output's kernel axes) when the
        equation is 'free + bound, bound + made -> free + made' (the projections of the
        attention layers are), else None."""
        match = re.fullmatch(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", self.equation)
        if match is None:
            return None
        ins, ker, out = match.groups()
        for bound in range(1, min(len(ins), len(ker)) + 1):
            free, made = ins[:-bound], ker[bound:]
            if ins[-bound:] == ker[:bound] and out == free + made and free and \
                    len(set(ins + ker)) == len(ins) + len(made):
                self._bound = bound
                sizes = kernel_shape[:bound], kernel_shape[bound:]
                return (int(np.prod(sizes[0])), int(np.prod(sizes[1])), tuple(sizes[1]))
        return None

    def call(self, inputs, training=None):
        x = floating(inputs, self.dtype)
        if x.ndim != self._input_rank:
            raise ValueError(f"{describe(self)} ({self.equation!r}) expected inputs of rank "
                             f"{self._input_rank}, got shape {tuple(x.shape)}")
        if self._gemm is not None:  # a dense product in disguise: one 2-D GEMM
            n_in, n_out, out_tail = self._gemm
            y = ops.matmul(ops.reshape(x, (-1, n_in)), ops.reshape(self.kernel, (n_in, n_out)))
            y = ops.reshape(y, tuple(x.shape[:x.ndim - self._bound]) + out_tail)
        else:
            y = ops.einsum(self.equation, x, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return analyze_equation(self.equation, self.bias_axes, input_shape,
                                self.partial_output_shape)[2]

    def get_config(self):
        return {**super().get_config(), "output_shape": self.partial_output_shape,
                "equation": self.equation,
                "activation": activations.serialize(self.activation),
                "bias_axes": self.bias_axes,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "quantization_config": None}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("quantization_config", None)
        if isinstance(config.get("output_shape"), list):
            config["output_shape"] = tuple(config["output_shape"])
        return cls(**config)
