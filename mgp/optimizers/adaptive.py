"""Per-coordinate adaptive rates from accumulated squared gradients: RMSprop, Adagrad,
Adadelta, Adafactor (factored second moments) and FTRL."""
import numpy as np

from mgp.backend import xp
from mgp.optimizers.base import Optimizer, check_fraction, check_positive
from mgp.variables import Variable

f32 = np.float32


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), as Keras writes it (epsilon inside the square root):

        v = rho * v + (1 - rho) * g^2
        a = rho * a + (1 - rho) * g;  denominator = v + epsilon - a^2   (centered=True)
        increment = learning_rate * g / sqrt(denominator)            (else v + epsilon)
        m = momentum * m + increment;  w -= m                         (momentum > 0)
        w -= increment                                                (momentum == 0)

    Args:
        learning_rate: default 0.001. rho: 0.9. momentum: 0. epsilon: 1e-7. centered: False.
        **kwargs: as `Optimizer`.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        rho = check_fraction("RMSprop", "rho", rho)
        momentum = check_fraction("RMSprop", "momentum", momentum)
        epsilon = check_positive("RMSprop", "epsilon", epsilon)
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = rho, momentum, epsilon
        self.centered = bool(centered)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums = self.add_optimizer_variables(variables, "momentum") \
            if self.momentum > 0 else []
        self._average_gradients = self.add_optimizer_variables(variables, "average_gradient") \
            if self.centered else []

    def update_step(self, g, variable, lr):
        rho = self.rho
        v = self._slot(self._velocities, variable)
        denominator = g * g
        denominator *= 1 - rho
        v *= rho
        v += denominator
        xp.add(v, self.epsilon, out=denominator)
        if self.centered:
            a = self._slot(self._average_gradients, variable)
            a *= rho
            a += (1 - rho) * g
            denominator -= a * a
        increment = g * lr
        increment /= xp.sqrt(denominator, out=denominator)
        w = self._own(variable)
        if self.momentum > 0:
            m = self._slot(self._momentums, variable)
            m *= self.momentum
            m += increment
            w -= m
        else:
            w -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): `acc += g^2; w -= learning_rate * g / sqrt(acc + epsilon)`.

    Args:
        learning_rate: default 0.001. initial_accumulator_value: 0.1. epsilon: 1e-7.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        initial = check_positive("Adagrad", "initial_accumulator_value",
                                 initial_accumulator_value)
        epsilon = check_positive("Adagrad", "epsilon", epsilon)
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial, epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulators = self.add_optimizer_variables(
            variables, "accumulator", initializer=self.initial_accumulator_value)

    def update_step(self, g, variable, lr):
        acc = self._slot(self._accumulators, variable)
        denominator = g * g
        acc += denominator
        xp.sqrt(xp.add(acc, self.epsilon, out=denominator), out=denominator)
        step = g * lr
        step /= denominator
        w = self._own(variable)
        w -= step

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): the step is scaled by the RMS of past steps over the RMS of
    past gradients, so it needs no rate of its own (Keras still multiplies by one):

        acc_g = rho * acc_g + (1 - rho) * g^2
        delta = -sqrt(acc_delta + epsilon) / sqrt(acc_g + epsilon) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta^2;  w += learning_rate * delta

    Args:
        learning_rate: default 0.001 (1.0 follows the paper). rho: 0.95. epsilon: 1e-7.
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        rho = check_fraction("Adadelta", "rho", rho)
        epsilon = check_positive("Adadelta", "epsilon", epsilon)
        super().__init__(learning_rate, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            variables, ["accumulated_grad", "accumulated_delta_var"])

    def update_step(self, g, variable, lr):
        rho = self.rho
        acc_g = self._slot(self._accumulated_grads, variable)
        acc_delta = self._slot(self._accumulated_delta_vars, variable)
        scratch = g * g
        scratch *= 1 - rho
        acc_g *= rho
        acc_g += scratch
        delta = xp.sqrt(acc_delta + self.epsilon)
        delta *= g
        delta /= xp.sqrt(xp.add(acc_g, self.epsilon, out=scratch), out=scratch)
        delta *= -1
        acc_delta *= rho
        scratch = xp.multiply(delta, delta, out=scratch)
        scratch *= 1 - rho
        acc_delta += scratch
        delta *= lr
        w = self._own(variable)
        w += delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018): for a weight of rank >= 2, the second moment is kept
    factored, as a row mean `r` and a column mean `c` over the last two axes, rebuilt as
    `v = r c / mean(r)`; a step is scaled by the weight's RMS and clipped by its own RMS:

        beta_2 = 1 - t^beta_2_decay;  v from g^2 + epsilon_1
        u = g / sqrt(v);  u /= max(1, rms(u) / clip_threshold)
        w -= max(epsilon_2, rms(w)) * min(learning_rate, 1 / sqrt(t)) * u

    Args:
        learning_rate: default 0.001. beta_2_decay: -0.8. epsilon_1: 1e-30. epsilon_2: 1e-3.
        clip_threshold: 1.0. relative_step: with a float learning rate, also cap it at
            `1 / sqrt(t)` (default True).
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        check_positive("Adafactor", "clip_threshold", clip_threshold, strict=True)
        super().__init__(learning_rate, **kwargs)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, bool(relative_step)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._r, self._c, self._v = [], [], []
        for var in variables:
            if var.ndim < 2:  # not factored; Keras keeps integer placeholders in their place
                self._r.append(self._add_scalar(var.name, 0, np.int32))
                self._c.append(self._add_scalar(var.name, 0, np.int32))
            else:
                shape = var.shape
                self._r.append(self.add_variable(shape[:-1], dtype=var.dtype, name=var.name))
                self._c.append(self.add_variable(shape[:-2] + shape[-1:], dtype=var.dtype,
                                                 name=var.name))
            self._v.append(self.add_variable_from_reference(var, "velocity"))

    @staticmethod
    def _rms(x):
        return xp.sqrt(xp.mean(x * x))

    def update_step(self, g, variable, lr):
        t = f32(self.iterations + 1)
        inverse_sqrt_t = f32(1) / np.sqrt(t)
        if isinstance(self._learning_rate, Variable) and self.relative_step:
            lr = min(lr, inverse_sqrt_t)
        w = self._own(variable)
        alpha = xp.maximum(f32(self.epsilon_2), self._rms(w)) * min(lr, inverse_sqrt_t)
        squared = g * g
        squared += f32(self.epsilon_1)
        beta = 1 - np.power(t, f32(self.beta_2_decay))
        v = self._slot(self._v, variable)
        if w.ndim >= 2:
            r, c = self._slot(self._r, variable), self._slot(self._c, variable)
            r *= beta
            r += (1 - beta) * xp.mean(squared, axis=-1)
            c *= beta
            c += (1 - beta) * xp.mean(squared, axis=-2)
            xp.multiply((r / xp.mean(r, axis=-1, keepdims=True))[..., None], c[..., None, :],
                        out=v)
        else:
            v *= beta
            v += (1 - beta) * squared
        u = g / xp.sqrt(v)
        u /= xp.maximum(f32(1), self._rms(u) / f32(self.clip_threshold))
        u *= alpha
        w -= u

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}


class Ftrl(Optimizer):
    """FTRL-proximal (McMahan et al., 2013), for wide sparse linear models, with L1 and L2
    regularization and L2 shrinkage:

        n_new = n + g^2;  sigma = (n_new^-p - n^-p) / learning_rate     (p: learning_rate_power)
        z += g + 2 * l2_shrinkage * w - sigma * w
        w = (clip(z, -l1, l1) - z) / (n_new^-p / learning_rate + 2 * (l2 + beta / (2 lr)))

    Args:
        learning_rate: default 0.001. learning_rate_power: <= 0, default -0.5.
        initial_accumulator_value: >= 0, default 0.1. l1_regularization_strength,
        l2_regularization_strength, l2_shrinkage_regularization_strength: >= 0, default 0.
        beta: default 0.
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        for name, value in [("initial_accumulator_value", initial_accumulator_value),
                            ("l1_regularization_strength", l1_regularization_strength),
                            ("l2_regularization_strength", l2_regularization_strength),
                            ("l2_shrinkage_regularization_strength",
                             l2_shrinkage_regularization_strength)]:
            check_positive("Ftrl", name, value)
        if not learning_rate_power <= 0:
            raise ValueError(f"Ftrl: learning_rate_power must be <= 0, got "
                             f"{learning_rate_power!r}")
        super().__init__(learning_rate, **kwargs)
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulators, self._linears = self.add_optimizer_variables(
            variables, ["accumulator", "linear"],
            initializer=[self.initial_accumulator_value, "zeros"])

    def update_step(self, g, variable, lr):
        power = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        n = self._slot(self._accumulators, variable)
        z = self._slot(self._linears, variable)
        w = self._own(variable)
        n_new = n + g * g
        n_new_power = xp.power(n_new, power)
        z += (g + 2 * self.l2_shrinkage_regularization_strength * w) \
            - (n_new_power - xp.power(n, power)) / lr * w
        quadratic = n_new_power / lr + 2 * l2
        w[...] = (xp.clip(z, -l1, l1) - z) / quadratic
        n[...] = n_new

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
