"""Data-parallel training over MPI processes, with Keras 3's `keras.distribution` names.

    import mgp
    mgp.distribution.set_distribution(mgp.distribution.DataParallel())
    model.fit(x, y, batch_size=256, epochs=10)

runs as `python train.py` (one process) or `mpiexec -n 8 python train.py` (eight processes, each
taking its shard of every global batch of 256; `pip install "mgp[mpi]"`). See
docs/distributed.md.
"""
from mgp.distribution.distribution_lib import (  # noqa: F401
    DataParallel, DeviceMesh, Distribution, TensorLayout, distribution, get_device_count,
    initialize, list_devices, set_distribution,
)

__all__ = ["DataParallel", "DeviceMesh", "Distribution", "TensorLayout", "distribution",
           "get_device_count", "initialize", "list_devices", "set_distribution"]
