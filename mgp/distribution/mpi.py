"""MPI for `mgp.distribution`: which process this is, and the few collectives data-parallel
training needs, each nonblocking and waited for with a deadline.

mpi4py and an MPI library (the `mpich` wheel) come with `pip install "mgp[mpi]"`. They are
imported only when an MPI launcher started the script with more than one process
(`mpiexec -n 8 python train.py`, seen in the environment it gives each process); a plain
`python train.py` is one process and never needs them.

A process that dies is noticed by the launcher, which ends the others (MPICH's `mpiexec` does at
once). What a launcher cannot see, a process that hangs or takes another path through the
script, is caught here: every wait has a deadline (`DataParallel(timeout=...)`), after which the
waiting process raises `TimeoutError`, and an exception that nothing catches aborts the whole job
(`MPI_Abort`) instead of leaving the others waiting, as `python -m mpi4py` does.
"""
import json
import os
import sys
import time

import numpy as np

# what MPI launchers put in the environment of each process they start: how many there are
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_MISSING = ("mgp.distribution needs MPI to train with several processes, and mpi4py is not "
            "installed: pip install \"mgp[mpi]\" (mpi4py and the MPICH library, mpiexec "
            "included)")


def launched_size():
    """How many processes the MPI launcher started (1 when none did)."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized():  # the script started MPI itself
        return mpi.COMM_WORLD.Get_size()
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return 1


def _import_mpi():
    try:
        import mpi4py
    except ImportError:
        raise ImportError(_MISSING) from None
    if "mpi4py.MPI" not in sys.modules:
        mpi4py.rc.thread_level = "funneled"  # only the main thread calls MPI
    from mpi4py import MPI
    return MPI


_world = None


def world():
    """The `Communicator` of all the processes (MPI started on the first call)."""
    global _world
    if _world is None:
        _world = Communicator(_import_mpi())
        if _world.size > 1:
            _abort_on_uncaught_exceptions(_world)
    return _world


def _abort_on_uncaught_exceptions(comm):
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        if comm.size > 1:
            sys.stderr.write(f"mgp.distribution: process {comm.rank} of {comm.size} stopped on "
                             f"the error above; aborting the other processes\n")
            sys.stderr.flush()
            comm.abort(1)
    sys.excepthook = hook


class Communicator:
    """MPI's world communicator, with deadlines on every wait.

    Attributes:
        rank: this process's number, 0 to size - 1. size: the number of processes.
        timeout: seconds a wait may take before `TimeoutError`.
    """

    def __init__(self, mpi, timeout=300.0):
        self.MPI = mpi
        self.comm = mpi.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.timeout = timeout
        self.waited = 0.0  # seconds spent in `wait` (for the benchmarks)

    def wait(self, requests, what):
        """Wait for nonblocking requests, polling (a blocking MPI wait spins on its core, which
        slows the other processes of an oversubscribed machine) until the deadline."""
        test_all = self.MPI.Request.Testall
        if test_all(requests):
            return
        start = time.monotonic()
        deadline, pause = start + self.timeout, 2e-5
        while not test_all(requests):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"mgp.distribution: process {self.rank} of {self.size} waited "
                    f"{self.timeout:g} s for {what}; another process has died, hung, or taken "
                    f"another path through the script (see its output)")
            time.sleep(pause)
            pause = min(2 * pause, 2.5e-4)
        self.waited += time.monotonic() - start

    def progress(self, requests):
        """Let MPI move pending requests on (MPICH advances them only inside its calls)."""
        if requests:
            self.MPI.Request.Testall(requests)

    def start_sum(self, send, recv):
        """Begin `recv = the sum of every process's send`; returns the request."""
        return self.comm.Iallreduce(send, recv, op=self.MPI.SUM)

    def sum(self, buffer, what):
        """`buffer` becomes the elementwise sum of every process's `buffer`, in place."""
        self.wait([self.comm.Iallreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM)], what)
        return buffer

    def broadcast(self, buffer, what):
        """`buffer` becomes process 0's `buffer`, in place."""
        self.wait([self.comm.Ibcast(buffer, root=0)], what)
        return buffer

    def broadcast_json(self, value, what):
        """Process 0's `value` (plain data: numbers, strings, lists, dicts) on every process,
        sent as JSON text, never as a pickle."""
        data = np.frombuffer(json.dumps(value).encode(), dtype=np.uint8) if self.rank == 0 \
            else np.empty(0, dtype=np.uint8)
        length = self.broadcast(np.array([data.size], dtype=np.int64), what)
        if self.rank != 0:
            data = np.empty(int(length[0]), dtype=np.uint8)
        else:
            data = data.copy()
        self.broadcast(data, what)
        return json.loads(data.tobytes().decode())

    def gather(self, local, counts, what):
        """Every process's `local` rows, process 0's first (`counts`: rows per process)."""
        row = int(np.prod(local.shape[1:], dtype=np.int64))
        sizes = np.asarray(counts, dtype=np.int64) * row
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        out = np.empty((int(sum(counts)),) + local.shape[1:], dtype=local.dtype)
        send = np.ascontiguousarray(local)
        self.wait([self.comm.Iallgatherv(send, [out, (sizes, offsets)])], what)
        return out

    def abort(self, code=1):
        """End every process of the job (MPI_Abort)."""
        self.comm.Abort(code)

    def __repr__(self):
        return f"<Communicator rank={self.rank} size={self.size} timeout={self.timeout:g}s>"
