"""The Adam family: Adam, AdamW, Adamax, Nadam, Lamb and ScheduleFreeAdamW.

Each keeps a first moment `m` and (but Adamax) a second moment `v` of the gradients, updated as
Keras's torch backend updates them (`m = beta_1 * m + (1 - beta_1) * g`), and differs in how it
turns them into a step. `t` is the step number, counting from 1.
"""
import numpy as np

from mgp.backend import xp
from mgp.optimizers.base import Optimizer, check_fraction, check_positive

f32 = np.float32


class _Moments(Optimizer):
    """Shared by the family: beta_1, beta_2, epsilon, and the moment updates."""

    def __init__(self, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        who = type(self).__name__
        beta_1 = check_fraction(who, "beta_1", beta_1)
        beta_2 = check_fraction(who, "beta_2", beta_2)
        epsilon = check_positive(who, "epsilon", epsilon)
        super().__init__(learning_rate, **kwargs)
        # Python floats, so that float32 arrays stay float32 in every product (NEP 50)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _step(self):
        """t, the number of this update, as float32."""
        return f32(self.iterations + 1)

    def _moments(self, g, variable):
        m = self._slot(self._momentums, variable)
        v = self._slot(self._velocities, variable)
        scratch = (1 - self.beta_1) * g
        m *= self.beta_1
        m += scratch
        xp.multiply(g, g, out=scratch)
        scratch *= 1 - self.beta_2
        v *= self.beta_2
        v += scratch
        return m, v

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Adam(_Moments):
    """Adam (Kingma & Ba, 2014) in Keras's form, the bias correction folded into the step size
    and epsilon outside the square root:

        alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w -= alpha * m / (sqrt(v) + epsilon)        (v replaced by max(v_hat, v) with amsgrad)

    Args:
        learning_rate: default 0.001. beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7.
        amsgrad: keep the running maximum of v (Reddi et al., 2018). **kwargs: as `Optimizer`
            (`weight_decay` here is decoupled, as in AdamW).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = bool(amsgrad)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"])
        self._velocity_hats = self.add_optimizer_variables(variables, "velocity_hat") \
            if self.amsgrad else []

    def update_step(self, g, variable, lr):
        m = self._slot(self._momentums, variable)
        v = self._slot(self._velocities, variable)
        v_hat = self._slot(self._velocity_hats, variable) if self.amsgrad else None
        w = self._own(variable)
        w -= self._adam_step(g, m, v, v_hat, lr)

    def _adam_step(self, g, m, v, v_hat, lr):
        """Update the moments m, v (and v_hat) in place from the gradient g; return the step
        to subtract from the weights, in a scratch array."""
        t = self._step()
        alpha = lr * np.sqrt(1 - f32(self.beta_2) ** t) / (1 - f32(self.beta_1) ** t)
        # two scratch arrays for the whole step: each pass writes into one of them
        step = (1 - self.beta_1) * g
        m *= self.beta_1
        m += step
        denominator = g * g
        denominator *= 1 - self.beta_2
        v *= self.beta_2
        v += denominator
        if v_hat is not None:
            v = xp.maximum(v_hat, v, out=v_hat)
        xp.sqrt(v, out=denominator)
        denominator += self.epsilon
        xp.multiply(m, alpha, out=step)
        step /= denominator
        return step

    def _update_variables(self, grads, variables, lr):
        """All the weights' moments in one pass per operation: the slots are views into two
        flat arrays, and the gradients are copied into a third. The same operations as
        `update_step` on each weight, in the same order (the same float32 results), with a
        dozen NumPy calls a step instead of a dozen per weight (a tiny MLP's `apply`, 4
        weights: about 41 -> 20 us)."""
        flat = self._flat_slots(variables) if type(self).update_step is Adam.update_step \
            else None
        if flat is None:  # a subclass's own rule, a subset of the weights, other dtypes...
            super()._update_variables(grads, variables, lr)
            return
        m, v, v_hat, g, pieces = flat
        for (start, stop), grad in zip(pieces, grads):
            g[start:stop] = grad.reshape(-1)
        step = self._adam_step(g, m, v, v_hat, lr)
        for (start, stop), var in zip(pieces, variables):
            w = self._own(var)
            w -= step[start:stop].reshape(w.shape)

    def _flat_slots(self, variables):
        """(m, v, v_hat or None, gradient buffer, each weight's (start, stop)) when the update
        may run on flat arrays (`variables` are the ones built on, all NumPy arrays of one
        dtype); the slots made views into them (again, if a load replaced their arrays)."""
        built = self._trainable_variables
        if len(variables) != len(built) or any(a is not b for a, b in zip(variables, built)):
            return None
        slots = [self._momentums, self._velocities] + ([self._velocity_hats] if self.amsgrad
                                                      else [])
        cached = getattr(self, "_flat", None)
        if cached is not None and all(s.data is view for group, views in zip(slots, cached[1])
                                      for s, view in zip(group, views)):
            return cached[0]
        arrays = [s.data for group in slots for s in group]
        dtype = arrays[0].dtype
        if any(type(a) is not np.ndarray or a.dtype != dtype for a in arrays):
            return None
        sizes = [var.data.size for var in variables]
        bounds = np.cumsum([0] + sizes)
        pieces = list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))
        flats, views = [], []
        for group in slots:
            flat = np.empty(bounds[-1], dtype=dtype)
            for (start, stop), s in zip(pieces, group):
                flat[start:stop] = s.data.reshape(-1)
                s.data = flat[start:stop].reshape(s.data.shape)
            flats.append(flat)
            views.append([s.data for s in group])
        found = (flats[0], flats[1], flats[2] if self.amsgrad else None,
                 np.empty(bounds[-1], dtype=dtype), pieces)
        self._flat = (found, views)
        return found

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), default 0.004: each step
    first scales the weights by `1 - weight_decay * learning_rate`. Arguments as `Adam`."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float, got None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Adamax(_Moments):
    """Adamax, Adam's infinity-norm variant (Kingma & Ba, 2014, section 7.1):

        u = max(beta_2 * u, |g|)
        w -= learning_rate * m / ((u + epsilon) * (1 - beta_1^t))

    Args:
        learning_rate: default 0.001. beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._m, self._u = self.add_optimizer_variables(variables, ["momentum", "norm"])

    def update_step(self, g, variable, lr):
        correction = 1 - f32(self.beta_1) ** self._step()
        m, u = self._slot(self._m, variable), self._slot(self._u, variable)
        m *= self.beta_1
        m += (1 - self.beta_1) * g
        u *= self.beta_2
        xp.maximum(u, xp.abs(g), out=u)
        denominator = u + self.epsilon
        denominator *= correction
        w = self._own(variable)
        w -= m * lr / denominator


class Nadam(_Moments):
    """Adam with Nesterov momentum (Dozat, 2016), with the momentum schedule
    `mu_t = beta_1 * (1 - 0.5 * 0.96^t)` and its running product kept in the state:

        m_hat = mu_{t+1} * m / (1 - prod mu_1..t+1) + (1 - mu_t) * g / (1 - prod mu_1..t)
        w -= learning_rate * m_hat / (sqrt(v / (1 - beta_2^t)) + epsilon)

    Args:
        learning_rate: default 0.001. beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"])
        # Keras's name for it: a variable made without one
        self._u_product = self._add_scalar("variable", 1.0, np.float32)

    def _update_variables(self, grads, variables, lr):
        t = self._step()
        beta_1, decay = f32(self.beta_1), f32(0.96)
        self._u_t = beta_1 * (1 - f32(0.5) * decay ** t)
        self._u_t1 = beta_1 * (1 - f32(0.5) * decay ** (t + 1))
        self._u_product_t = f32(self._u_product.data) * self._u_t
        self._u_product.data = np.asarray(self._u_product_t, dtype=np.float32)
        self._v_correction = 1 - f32(self.beta_2) ** t
        super()._update_variables(grads, variables, lr)

    def update_step(self, g, variable, lr):
        m, v = self._moments(g, variable)
        product_t1 = self._u_product_t * self._u_t1
        m_hat = m * self._u_t1
        m_hat /= 1 - product_t1
        scratch = g * (1 - self._u_t)
        scratch /= 1 - self._u_product_t
        m_hat += scratch
        m_hat *= lr
        xp.divide(v, self._v_correction, out=scratch)
        xp.sqrt(scratch, out=scratch)
        scratch += self.epsilon
        m_hat /= scratch
        w = self._own(variable)
        w -= m_hat


class Lamb(_Moments):
    """LAMB (You et al., 2019): Adam's bias-corrected step, rescaled per weight to the weight's
    norm (the "trust ratio"):

        update = m_hat / (sqrt(v_hat) + epsilon)
        w -= learning_rate * (|w| / |update|) * update    (ratio 1 when either norm is 0)

    Args:
        learning_rate: default 0.001. beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"])

    def update_step(self, g, variable, lr):
        t = self._step()
        m, v = self._moments(g, variable)
        update = xp.sqrt(v / (1 - f32(self.beta_2) ** t))
        update += self.epsilon
        xp.divide(m / (1 - f32(self.beta_1) ** t), update, out=update)
        w = self._own(variable)
        w_norm, u_norm = xp.sqrt(xp.sum(w * w)), xp.sqrt(xp.sum(update * update))
        with np.errstate(divide="ignore", invalid="ignore"):  # the ratio where a norm is 0
            ratio = xp.where(w_norm > 0, xp.where(u_norm > 0, w_norm / u_norm, f32(1)), f32(1))
        update *= ratio * lr
        w -= update


class ScheduleFreeAdamW(_Moments):
    """Schedule-free AdamW (Defazio et al., 2024): no learning-rate schedule is needed. The
    state `z` (the "momentum" slot, starting at the weights) takes RMSprop-style steps, the
    average `x` follows it with weight 1/t, and the weights are `y = (1 - beta_1) z + beta_1 x`:

        z -= lr * g / (sqrt(v / (1 - beta_2^t)) + epsilon)
        x = (y - (1 - beta_1) z) / beta_1;  x = (1 - 1/t) x + z / t
        y = (1 - beta_1) z + beta_1 x

    As in Keras (on its torch and TensorFlow backends), `x` is recovered from the weights with
    the `z` of this step, so trajectories match Keras's.

    Args:
        learning_rate: default 0.0025. beta_1: 0.9. beta_2: 0.999. epsilon: 1e-8.
        warmup_steps: the rate rises linearly over this many steps, default 0.
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, **kwargs):
        check_positive("ScheduleFreeAdamW", "warmup_steps", warmup_steps)
        check_fraction("ScheduleFreeAdamW", "beta_1", beta_1, open_low=True)
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.warmup_steps = warmup_steps

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"])
        for z, var in zip(self._momentums, variables):
            z.data[...] = var.data

    def update_step(self, g, variable, lr):
        t = self._step()
        if self.warmup_steps > 0:
            lr = lr * min(t / f32(self.warmup_steps), f32(1))
        z = self._slot(self._momentums, variable)
        v = self._slot(self._velocities, variable)
        v *= self.beta_2
        v += (1 - self.beta_2) * (g * g)
        denominator = xp.sqrt(v / (1 - f32(self.beta_2) ** t))
        denominator += f32(self.epsilon)
        z -= lr * g / denominator
        beta_1, weight = f32(self.beta_1), f32(1) / t
        w = self._own(variable)
        x = (w - (1 - beta_1) * z) / beta_1
        x *= 1 - weight
        x += weight * z
        x *= beta_1
        x += (1 - beta_1) * z
        w[...] = x

    def get_config(self):
        return {**super().get_config(), "warmup_steps": self.warmup_steps}
