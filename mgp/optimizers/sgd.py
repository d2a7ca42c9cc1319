"""First-moment optimizers: SGD (with optional Nesterov momentum) and Lion (the sign of an
interpolated momentum)."""
from mgp.backend import xp
from mgp.optimizers.base import Optimizer, check_fraction


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum, as Keras writes it:

        velocity = momentum * velocity - learning_rate * g
        w = w + velocity                                   (nesterov=False)
        w = w + momentum * velocity - learning_rate * g    (nesterov=True)

    Args:
        learning_rate: default 0.01. momentum: float in [0, 1], default 0. nesterov: bool.
        **kwargs: the options every optimizer takes (see `Optimizer`: `weight_decay`,
            `clipnorm`, `use_ema`, `gradient_accumulation_steps`, `name`, ...).

    Example:
        >>> opt = mgp.optimizers.SGD(learning_rate=0.1, momentum=0.9)
        >>> opt.apply([w.grad], [w])
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        momentum = check_fraction("SGD", "momentum", momentum)
        super().__init__(learning_rate, **kwargs)
        self.momentum, self.nesterov = momentum, bool(nesterov)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = self.add_optimizer_variables(variables, "momentum") \
            if self.momentum != 0 else []

    def update_step(self, g, variable, lr):
        w = self._own(variable)
        if self.momentum == 0:
            w -= lr * g
            return
        m = self._slot(self.momentums, variable)
        step = lr * g
        m *= self.momentum
        m -= step
        if self.nesterov:
            w -= step
            w += xp.multiply(m, self.momentum, out=step)
        else:
            w += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Lion(Optimizer):
    """Lion (Chen et al., 2023): a step of fixed size along the sign of an interpolation of
    momentum and gradient, then the momentum update:

        w -= learning_rate * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g

    Args:
        learning_rate: default 0.001 (Lion wants a rate 3-10x smaller than Adam's).
        beta_1: in (0, 1], default 0.9. beta_2: default 0.99. **kwargs: as `Optimizer`.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        beta_1 = check_fraction("Lion", "beta_1", beta_1, open_low=True)
        beta_2 = check_fraction("Lion", "beta_2", beta_2)
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2 = beta_1, beta_2

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, g, variable, lr):
        m = self._slot(self._momentums, variable)
        step = m * self.beta_1
        scratch = (1 - self.beta_1) * g
        step += scratch
        xp.sign(step, out=step)
        step *= lr
        w = self._own(variable)
        w -= step
        m *= self.beta_2
        m += xp.multiply(g, 1 - self.beta_2, out=scratch)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}

