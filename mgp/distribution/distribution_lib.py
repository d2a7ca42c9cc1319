"""Keras 3's distribution API for CPU processes: `DataParallel`, `set_distribution`,
`distribution`, `list_devices`, `DeviceMesh`, `TensorLayout`, `initialize`.

A device is one process of the MPI job, named `cpu:<rank>`: `mpiexec -n 8 python train.py`
has devices `cpu:0` .. `cpu:7`, `python train.py` has `cpu:0`. A script opts in as it does in
Keras, with `set_distribution(DataParallel())`; then `fit`, `evaluate` and `predict` share each
global batch among the processes (`mgp.distribution.loop` says how). With one process the
distribution changes nothing, and MPI is not needed.
"""
import contextlib

import numpy as np

from mgp.distribution import mpi

DEFAULT_BATCH_DIM_NAME = "batch"


def _num_processes():
    return mpi.launched_size()


def _process_id():
    return mpi.world().rank if _num_processes() > 1 else 0


def list_devices(device_type=None):
    """The devices of the whole job: one `"cpu:<rank>"` per process.

    Args:
        device_type: None or "cpu" (mgp's distribution runs one process per CPU device).
    Returns:
        a list of strings, `["cpu:0", "cpu:1", ...]`.
    """
    if device_type is not None and str(device_type).lower() != "cpu":
        raise ValueError(f"list_devices(): mgp's distribution has one CPU device per process; "
                         f"device_type must be None or 'cpu', got {device_type!r}")
    return [f"cpu:{i}" for i in range(_num_processes())]


def get_device_count(device_type=None):
    """The number of devices `list_devices(device_type)` returns: the number of processes."""
    return len(list_devices(device_type))


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Start MPI for a job of several processes (`DataParallel()` also does it when needed).

    The MPI launcher places the processes (`mpiexec -n 8 -hosts a,b python train.py`), so
    `job_addresses` is not taken; `num_processes` and `process_id`, when given, are checked
    against what the launcher started.
    """
    if job_addresses is not None:
        raise ValueError("initialize(): with MPI the launcher places the processes "
                         "(mpiexec -hosts / -f hostfile); job_addresses is not taken")
    size = _num_processes()
    rank = mpi.world().rank if size > 1 else 0
    if num_processes is not None and int(num_processes) != size:
        raise ValueError(f"initialize(num_processes={num_processes}): the MPI launcher started "
                         f"{size} process(es)")
    if process_id is not None and int(process_id) != rank:
        raise ValueError(f"initialize(process_id={process_id}): this is process {rank}")


class DeviceMesh:
    """The devices arranged in a grid with named axes (Keras's `DeviceMesh`); data parallelism
    uses a 1-D mesh of every process.

    Args:
        shape: the grid's shape, e.g. `(8,)`.
        axis_names: one name per axis, e.g. `["batch"]`.
        devices: the devices, `list_devices()` by default.
    """

    def __init__(self, shape, axis_names, devices=None):
        if not shape or not axis_names:
            raise ValueError(f"DeviceMesh: shape and axis_names cannot be empty, got "
                             f"shape={shape}, axis_names={axis_names}")
        if len(shape) != len(axis_names):
            raise ValueError(f"DeviceMesh: shape and axis_names must have the same length, got "
                             f"shape={shape}, axis_names={axis_names}")
        devices = np.array(list_devices() if devices is None else devices)
        if int(np.prod(shape)) != devices.size:
            raise ValueError(f"DeviceMesh: shape {tuple(shape)} does not hold the "
                             f"{devices.size} devices {devices.ravel().tolist()}")
        self._shape, self._axis_names = tuple(shape), list(axis_names)
        self._devices = devices.reshape(shape)

    shape = property(lambda self: self._shape)
    axis_names = property(lambda self: self._axis_names)
    devices = property(lambda self: self._devices)

    def __repr__(self):
        return f"<DeviceMesh shape={self.shape}, axis_names={self.axis_names}>"


class TensorLayout:
    """How a tensor is laid out over a mesh: per axis, the mesh axis it is split along, or None
    (replicated). Data parallelism splits the batch axis of the data and replicates weights."""

    def __init__(self, axes, device_mesh=None):
        self._axes, self._device_mesh = tuple(axes), None
        if device_mesh is not None:
            self.device_mesh = device_mesh

    axes = property(lambda self: self._axes)

    @property
    def device_mesh(self):
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh):
        if self._device_mesh is not None:
            raise ValueError(f"TensorLayout: the device mesh is set already, to "
                             f"{self._device_mesh}")
        unknown = set(self._axes) - {None} - set(device_mesh.axis_names)
        if unknown:
            raise ValueError(f"TensorLayout: axes {sorted(unknown)} are not axes of the mesh "
                             f"{device_mesh.axis_names}")
        self._device_mesh = device_mesh

    def __repr__(self):
        return f"<TensorLayout axes={self.axes}, device_mesh={self.device_mesh}>"


class Distribution:
    """Base class: how a model's data and weights are spread over a `DeviceMesh`."""

    def __init__(self, device_mesh, batch_dim_name=None, auto_shard_dataset=True):
        self._device_mesh, self._batch_dim_name = device_mesh, batch_dim_name
        self._auto_shard_dataset = auto_shard_dataset
        self._num_processes = _num_processes()
        self._process_id = _process_id()

    num_processes = property(lambda self: self._num_processes,
                             doc="The number of processes in the job.")
    device_mesh = property(lambda self: self._device_mesh)
    batch_dim_name = property(lambda self: self._batch_dim_name)

    @property
    def auto_shard_dataset(self):
        return self._auto_shard_dataset

    @auto_shard_dataset.setter
    def auto_shard_dataset(self, value):
        self._auto_shard_dataset = value

    @property
    def data_shard_id(self):
        """This process's shard of the data: its rank."""
        return self._process_id

    @contextlib.contextmanager
    def scope(self):
        """Make this the distribution inside a `with` block."""
        previous = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(previous)

    def __repr__(self):
        return f"<{type(self).__name__} device_mesh={self.device_mesh}>"


class DataParallel(Distribution):
    """Data parallelism over MPI processes: each process holds all the weights, takes its
    shard of every global batch, and the gradients are averaged over the processes before each
    update, so that every process applies the same one.

    The same script runs as `python train.py` (one process) and `mpiexec -n 8 python train.py`
    (eight, each given the same arrays); `batch_size` is the global batch.

    Args:
        device_mesh: a 1-D `DeviceMesh` of every process, or
        devices: the list of every process's device (by default `list_devices()`).
        auto_shard_dataset: True: each process reads its rows of the arrays every process was
            given (False, data sharded beforehand, is not supported).
        bucket_cap_mb: (mgp) gradients travel in buckets of at most this many megabytes, each
            one MPI allreduce (PyTorch's DistributedDataParallel default: 25).
        timeout: (mgp) seconds a process waits for the others before it stops the job with
            `TimeoutError` (a process that died, hung or took another path).

    Example:
        >>> mgp.distribution.set_distribution(mgp.distribution.DataParallel())
        >>> model.fit(x, y, batch_size=256, epochs=3)   # 256 samples a step, over all processes
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True, *,
                 bucket_cap_mb=25.0, timeout=300.0):
        if not auto_shard_dataset:
            raise NotImplementedError("DataParallel(auto_shard_dataset=False): mgp shards the "
                                      "arrays itself; give every process the whole arrays")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DataParallel: bucket_cap_mb must be > 0, got {bucket_cap_mb!r}")
        if not timeout > 0:
            raise ValueError(f"DataParallel: timeout must be > 0 seconds, got {timeout!r}")
        if device_mesh is not None:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError(f"DataParallel: device_mesh must be a DeviceMesh, got "
                                 f"{device_mesh!r} (of type {type(device_mesh).__name__})")
            if len(device_mesh.shape) != 1:
                raise ValueError(f"DataParallel takes a 1-D mesh, got shape "
                                 f"{device_mesh.shape}")
            batch_dim_name = device_mesh.axis_names[0]
        else:
            devices = np.array(list_devices() if not devices else devices)
            device_mesh = DeviceMesh(devices.shape, [DEFAULT_BATCH_DIM_NAME], devices)
            batch_dim_name = DEFAULT_BATCH_DIM_NAME
        every = list_devices()
        given = sorted(device_mesh.devices.ravel().tolist())
        if given != sorted(every):
            raise ValueError(f"DataParallel runs on every process of the job, {every}; got the "
                             f"devices {device_mesh.devices.ravel().tolist()}")
        super().__init__(device_mesh, batch_dim_name, auto_shard_dataset)
        self.bucket_cap_mb, self.timeout = float(bucket_cap_mb), float(timeout)
        self._reducer = None
        self._synchronized = []  # weak references to the models a loop has synchronized

    @property
    def num_model_replicas(self):
        return int(self.device_mesh.devices.size)

    def get_data_layout(self, data_shape):
        """The data is split along its first (batch) axis."""
        return TensorLayout([self.batch_dim_name] + [None] * (len(data_shape) - 1),
                            self.device_mesh)

    def get_variable_layout(self, variable):
        """Every weight is whole on every process."""
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path):
        return None

    def _communicator(self):
        comm = mpi.world()
        comm.timeout = self.timeout
        return comm

    def _gradient_reducer(self):
        """One reducer per distribution, so its buckets are made once."""
        if self._reducer is None:
            from mgp.distribution.gradients import GradientReducer
            self._reducer = GradientReducer(self._communicator(), self.bucket_cap_mb)
        return self._reducer

    def __repr__(self):
        return f"<DataParallel processes={self.num_processes} " \
               f"bucket_cap_mb={self.bucket_cap_mb:g} timeout={self.timeout:g}s>"


_distribution = None


def distribution():
    """The distribution `set_distribution` set (None: one process, no distribution)."""
    return _distribution


def set_distribution(value):
    """Set the distribution `fit`, `evaluate` and `predict` use (None to unset).

    Args:
        value: a `DataParallel`, or None.
    """
    global _distribution
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution() takes a mgp.distribution.DataParallel or None, got "
                        f"{value!r}")
    _distribution = value
