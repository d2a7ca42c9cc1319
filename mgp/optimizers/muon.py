"""Muon: momentum orthogonalized by Newton-Schulz iterations, for the 2-D weights of hidden
layers; AdamW for every other weight."""
import re

import numpy as np

from mgp.backend import xp
from mgp.optimizers.base import Optimizer, check_fraction

f32 = np.float32


class Muon(Optimizer):
    """Muon (Jordan et al., 2024; Liu et al., 2025). A 2-D weight `w` of shape (n, k) steps
    along its momentum made (nearly) orthogonal, `U V^T` for `m = U S V^T`, which five
    Newton-Schulz iterations of the quintic `a X + b (X X^T) X + c (X X^T)^2 X` approximate:

        m = momentum * m + g;  d = g + momentum * m  (nesterov) or m
        w -= learning_rate * NS(d) * sqrt(max(n, k)) * rms_rate      (rms_rate None: no scaling)

    Every other weight (not 2-D, a name with "embedding" when `exclude_embeddings`, or matching
    one of `exclude_layers`) takes an AdamW step at `learning_rate * adam_lr_ratio`. Weight decay
    is `weight_decay` for Muon's weights and `adam_weight_decay` for Adam's.

    Args:
        learning_rate: default 0.001. adam_beta_1: 0.9. adam_beta_2: 0.999.
        adam_weight_decay: 0.004. epsilon: 1e-7 (Adam's). weight_decay: 0.004.
        exclude_layers: regular expressions of weight paths to give to AdamW.
        exclude_embeddings: default True. muon_a, muon_b, muon_c: the quintic's coefficients
        (3.4445, -4.7750, 2.0315). adam_lr_ratio: 1. momentum: 0.95. ns_steps: 5.
        nesterov: True. rms_rate: 0.2.
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004,
                 exclude_layers=None, exclude_embeddings=True, muon_a=3.4445, muon_b=-4.7750,
                 muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True,
                 rms_rate=0.2, **kwargs):
        adam_beta_1 = check_fraction("Muon", "adam_beta_1", adam_beta_1)
        adam_beta_2 = check_fraction("Muon", "adam_beta_2", adam_beta_2)
        momentum = check_fraction("Muon", "momentum", momentum)
        if not (isinstance(ns_steps, (int, np.integer)) and ns_steps >= 0):
            raise ValueError(f"Muon: ns_steps must be a non-negative integer, got {ns_steps!r}")
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)
        self.adam_beta_1, self.adam_beta_2, self.epsilon = adam_beta_1, adam_beta_2, epsilon
        self.adam_weight_decay = adam_weight_decay
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = exclude_embeddings
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum, self.ns_steps = adam_lr_ratio, momentum, ns_steps
        self.nesterov, self.rms_rate = nesterov, rms_rate

    def _should_use_adamw(self, variable):
        if variable.ndim != 2:
            return True
        path = str(getattr(variable, "path", variable.name))
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(pattern, path) for pattern in self.exclude_layers)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = [None] * len(variables)
        self.adam_velocities = [None] * len(variables)
        for i, var in enumerate(variables):
            self.momentums[i] = self.add_variable_from_reference(var, "momentum")
            if self._should_use_adamw(var):
                self.adam_velocities[i] = self.add_variable_from_reference(var, "velocity")

    def update_step(self, g, variable, lr):
        i = self._get_variable_index(variable)
        m, v = self.momentums[i].data, self.adam_velocities[i]
        if v is not None:
            self._adamw_step(g, variable, lr * f32(self.adam_lr_ratio), m, v.data)
        else:
            self._muon_step(g, variable, lr, m)

    def _muon_step(self, g, variable, lr, m):
        m *= self.momentum
        m += g
        direction = g + self.momentum * m if self.nesterov else m
        update = self.zeropower_via_newtonschulz5(direction, self.ns_steps) * lr
        if self.rms_rate is not None:
            update *= f32(np.sqrt(max(update.shape[0], update.shape[1]))) * f32(self.rms_rate)
        w = self._own(variable)
        w -= update

    def _adamw_step(self, g, variable, lr, m, v):
        t = f32(self.iterations + 1)
        alpha = lr * np.sqrt(1 - f32(self.adam_beta_2) ** t) / (1 - f32(self.adam_beta_1) ** t)
        m += (g - m) * (1 - self.adam_beta_1)
        v += (g * g - v) * (1 - self.adam_beta_2)
        w = self._own(variable)
        w -= m * alpha / (xp.sqrt(v) + self.epsilon)

    def zeropower_via_newtonschulz5(self, x, steps):
        """`x` (rank >= 2) made nearly orthogonal over its last two axes by `steps` quintic
        Newton-Schulz iterations, after scaling it to spectral norm <= 1."""
        if x.ndim < 2:
            raise ValueError(f"Muon: Newton-Schulz needs at least 2 dimensions, got shape "
                             f"{x.shape}")
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:  # iterate on the wide side: X X^T is the smaller product
            x = xp.swapaxes(x, -1, -2)
        norm = xp.sqrt(xp.sum(x * x, axis=(-2, -1), keepdims=True))
        x = x / (norm + f32(1e-7))
        for _ in range(steps):
            gram = x @ xp.swapaxes(x, -1, -2)
            x = a * x + (b * gram + c * gram @ gram) @ x
        return xp.swapaxes(x, -1, -2) if tall else x

    def _apply_weight_decay(self, variables, lr):
        for v in variables:
            if not self._use_weight_decay(v):
                continue
            decay = self.adam_weight_decay if self._should_use_adamw(v) else self.weight_decay
            if decay is None:
                continue
            w = self._own(v)
            w -= w * f32(decay) * lr

    def get_config(self):
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon,
                "exclude_layers": self.exclude_layers, "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}
