"""Regularization layers, as Keras groups them: Dropout, SpatialDropout1D/2D/3D (one class by
rank), the noise layers GaussianNoise, GaussianDropout, AlphaDropout, and
ActivityRegularization."""
from mgp.layers.regularization.activity_regularization import (  # noqa: F401
    ActivityRegularization)
from mgp.layers.regularization.dropout import Dropout  # noqa: F401
from mgp.layers.regularization.noise import AlphaDropout, GaussianDropout, GaussianNoise  # noqa: F401
from mgp.layers.regularization.spatial_dropout import (  # noqa: F401
    SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
