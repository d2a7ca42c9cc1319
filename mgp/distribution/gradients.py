"""Averaging gradients over the processes: fused buckets, one nonblocking allreduce each.

As PyTorch's DistributedDataParallel and Horovod do, gradients travel in a few large messages,
not one per weight. The trainable variables are cut, in the order the backward pass finishes
their gradients (the last layer's first), into buckets of at most `bucket_cap_mb` megabytes. A
bucket's gradients are packed into one flat buffer, each multiplied by this process's number of
samples, that number written as the buffer's last element, and the buffer is summed over the
processes by one MPI allreduce. Dividing by the summed count gives the gradient of the mean loss
over the whole global batch, whatever share of it each process had.

In the default `train_step` a bucket starts its allreduce from inside the backward pass, as soon
as its last gradient is complete (`Tensor.register_post_accumulate_grad_hook`), while the
earlier layers' gradients are still being computed; `Optimizer.apply` then waits for them and
takes the averages. A custom step's gradients are packed and sent when it calls `apply`.
"""
import time

import numpy as np

from mgp import backend


class Bucket:
    """Variables whose gradients travel in one message (one dtype)."""

    def __init__(self, variables):
        self.variables = list(variables)
        self.index = {id(v): i for i, v in enumerate(self.variables)}
        bounds = np.cumsum([0] + [v.size for v in self.variables])
        self.slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
        self.send = np.empty(int(bounds[-1]) + 1, dtype=self.variables[0].dtype)
        self.recv = np.empty_like(self.send)
        self.clear()

    def clear(self):
        self.packed = [None] * len(self.variables)  # the gradient arrays packed, by identity
        self.request = None

    def pack(self, i, grad, count):
        out = self.send[self.slices[i]]
        if count:
            np.multiply(backend.to_numpy(grad).reshape(-1), count, out=out)
        else:  # a stand-in batch: nothing of it may count, not even a nan
            out[...] = 0
        self.packed[i] = grad

    def complete(self):
        return all(p is not None for p in self.packed)

    def start(self, comm, count):
        self.send[-1] = count
        self.request = comm.start_sum(self.send, self.recv)

    def holds(self, grads):
        """Whether the allreduce under way was packed from exactly these arrays."""
        return self.request is not None and all(p is g for p, g in zip(self.packed, grads))

    def averaged(self):
        """The gradients summed over the processes, divided by the summed sample count."""
        total = backend.xp.asarray(self.recv[:-1] / self.recv[-1])
        return [total[s].reshape(v.shape) for s, v in zip(self.slices, self.variables)]

    def __repr__(self):
        return f"<Bucket variables={len(self.variables)} elements={self.send.size - 1} " \
               f"dtype={self.send.dtype}>"


def cut_into_buckets(variables, cap_bytes):
    """Buckets for `variables`, last first, each of one dtype and at most `cap_bytes` (a
    variable larger than that has a bucket of its own)."""
    buckets, current, size = [], [], 0
    for v in reversed(list(variables)):
        nbytes = v.size * v.dtype.itemsize
        if current and (size + nbytes > cap_bytes or v.dtype != current[0].dtype):
            buckets.append(Bucket(current))
            current, size = [], 0
        current.append(v)
        size += nbytes
    if current:
        buckets.append(Bucket(current))
    return buckets


class GradientReducer:
    """`reducer(pairs) -> pairs`: (gradient, variable) pairs averaged over the processes, for
    `Optimizer.apply`, while a training step is open (`begin_step` .. `end_step`).

    Attributes:
        seconds: time spent on the gradients' communication (packing, MPI calls, waiting).
        wait_seconds: the part of it spent waiting in `apply` for allreduces to finish.
        messages: allreduces sent; early: those the backward pass started.
    """

    def __init__(self, comm, bucket_cap_mb=25.0):
        self.comm = comm
        self.cap_bytes = int(bucket_cap_mb * 2 ** 20)
        self.count = None   # this process's samples in the open step; None: no step open
        self._buckets = {}  # the buckets of each variable list `apply` was given
        self._hooked = {}   # id(variable) -> (bucket, index) filled from the backward pass
        self._handles = []
        self._started = []  # requests the backward pass started in the open step
        self.seconds = self.wait_seconds = 0.0
        self.messages = self.early = 0

    def buckets_for(self, variables):
        key = tuple(id(v) for v in variables)
        if key not in self._buckets:
            self._buckets[key] = cut_into_buckets(variables, self.cap_bytes)
        return self._buckets[key]

    def attach(self, variables):
        """Pack these variables' gradients as the backward pass completes them (the default
        train_step's variables, which its `apply` gets in the same order)."""
        self.detach()
        for bucket in self.buckets_for(variables):
            for i, v in enumerate(bucket.variables):
                self._hooked[id(v)] = (bucket, i)
        self._handles = [v.register_post_accumulate_grad_hook(self._gradient_ready)
                         for v in variables]

    def detach(self):
        for handle in self._handles:
            handle.remove()
        self._handles, self._hooked = [], {}

    def begin_step(self, count):
        self.count = count
        self._started = []

    def end_step(self):
        """Close the step; an allreduce started for gradients no `apply` took is finished."""
        left = [b for buckets in self._buckets.values() for b in buckets if b.request]
        if left:
            self.comm.wait([b.request for b in left], "gradients no optimizer applied")
        for buckets in self._buckets.values():
            for b in buckets:
                b.clear()
        self.count = None

    def _gradient_ready(self, tensor):
        if self.count is None:  # a backward pass outside a training step (a callback's)
            return
        start = time.perf_counter()
        bucket, i = self._hooked[id(tensor)]
        bucket.pack(i, tensor.grad, self.count)
        if bucket.complete():
            bucket.start(self.comm, self.count)
            self._started.append(bucket.request)
        self.comm.progress(self._started)
        self.seconds += time.perf_counter() - start

    def __call__(self, pairs):
        if self.count is None:
            return pairs
        start = time.perf_counter()
        grads = {id(v): g for g, v in pairs}
        buckets = self.buckets_for([v for _, v in pairs])
        for bucket in buckets:
            mine = [grads[id(v)] for v in bucket.variables]
            if bucket.holds(mine):
                self.early += 1
            else:
                if bucket.request is not None:  # started early on other arrays: let it finish
                    self.comm.wait([bucket.request], "a gradient allreduce")
                for i, g in enumerate(mine):
                    bucket.pack(i, g, self.count)
                bucket.start(self.comm, self.count)
            self.messages += 1
        waited = time.perf_counter()
        self.comm.wait([b.request for b in buckets], "the gradient allreduce")
        self.wait_seconds += time.perf_counter() - waited
        averaged = {}
        for bucket in buckets:
            for v, g in zip(bucket.variables, bucket.averaged()):
                averaged[id(v)] = g
            bucket.clear()
        self.seconds += time.perf_counter() - start
        return [(averaged[id(v)], v) for _, v in pairs]

    def __repr__(self):
        return f"<GradientReducer bucket_cap_mb={self.cap_bytes / 2 ** 20:g} " \
               f"variable_lists={len(self._buckets)}>"
