"""SpectralNormalization: keep a layer's kernel at spectral norm 1 (Miyato et al. 2018)."""
import numpy as np

from mgp import initializers, ops
from mgp.layers._utils import describe
from mgp.layers.input_spec import InputSpec
from mgp.layers.wrapper import Wrapper


class SpectralNormalization(Wrapper):
    """Wraps a layer with a `kernel` (or `embeddings`) and, at each training call, divides that
    kernel by an estimate of its largest singular value before the layer runs, as Keras does:
    the kernel, flattened to (-1, units), is W; `power_iterations` steps of the power method
    from the stored vector u give v = normalize(u W^T), u = normalize(v W) and sigma = v W u^T;
    the kernel *variable* is set to W / sigma and u is kept for the next call. The gradient
    flows to the kernel as in the plain layer (sigma is not differentiated). At inference the
    layer runs with its kernel as it is.

    Args:
        layer: the layer to normalize.
        power_iterations: power-method steps per training call (at least 1).

    Weights: the wrapped layer's, and `vector_u` (non-trainable, (1, units), drawn from
    TruncatedNormal(stddev=0.02)); like Keras, the wrapper lists the kernel among its own
    weights too (so a weights file holds it under both).
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if not isinstance(power_iterations, (int, np.integer)) or \
                isinstance(power_iterations, bool) or power_iterations <= 0:
            raise ValueError(f"SpectralNormalization: power_iterations must be a positive int, "
                             f"got {power_iterations!r}")
        self.power_iterations = int(power_iterations)
        self.kernel = self.vector_u = None

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None:
            kernel = getattr(self.layer, "embeddings", None)
        if kernel is None:
            raise ValueError(f"{describe(self)}: the wrapped {type(self.layer).__name__} has "
                             f"no 'kernel' nor 'embeddings' weight to normalize")
        self.kernel = kernel
        self._own_weights.append(kernel)  # Keras tracks it as the wrapper's own weight too
        self.vector_u = self.add_weight(shape=(1, kernel.shape[-1]),
                                        initializer=initializers.TruncatedNormal(stddev=0.02),
                                        trainable=False, name="vector_u", dtype=kernel.dtype)

    def call(self, inputs, training=False):
        if training and bool(np.any(ops.convert_to_numpy(self.kernel) != 0)):
            # an all-zero kernel has no direction to normalize: left as it is, as in Keras
            u, kernel = self.normalized_weights()
            self.vector_u.assign(u)
            self.kernel.assign(kernel)
        out = self.layer(inputs)
        dtype = getattr(inputs, "dtype", None)
        return ops.cast(out, dtype) if dtype is not None and np.dtype(dtype).kind == "f" else out

    def normalized_weights(self):
        """(u, W / sigma) after `power_iterations` power-method steps from the stored u (values
        without gradient)."""
        w = ops.reshape(ops.stop_gradient(self.kernel), (-1, self.kernel.shape[-1]))
        u = ops.convert_to_tensor(self.vector_u.data)
        for _ in range(self.power_iterations):
            v = ops.nn.normalize(ops.matmul(u, ops.transpose(w)), axis=None)
            u = ops.nn.normalize(ops.matmul(v, w), axis=None)
        sigma = ops.matmul(ops.matmul(v, w), ops.transpose(u))
        return u.data, ops.reshape(ops.divide(w, sigma), self.kernel.shape).data

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
