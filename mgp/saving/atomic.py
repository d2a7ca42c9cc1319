"""Writing a file so that it appears complete or not at all.

The data goes to a temporary file in the target's folder (so the rename stays on one file
system), is flushed to disk with fsync, and only then is renamed onto the target with
`os.replace`, which is atomic: a crash at any moment leaves either the old complete file or the
new complete file under the target's name, never a partial one.
"""
import contextlib
import os
import uuid


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path` to write to; on success move it onto `path`.

    When the `with` block raises, the temporary file is removed and `path` is left as it was.

    Example:
        >>> with atomic_path("model.weights.h5") as tmp:
        ...     with h5py.File(tmp, "w") as f:
        ...         f["x"] = np.zeros(3)
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_dir(folder)


@contextlib.contextmanager
def atomic_open(path, mode="w", **kwargs):
    """Like `open(path, mode)` for writing ("w" or "wb"), but atomic (see `atomic_path`)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes with mode 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f


def fsync_file(path):
    fd = os.open(path, os.O_RDWR)  # (Windows flushes only handles open for writing)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder):
    # makes the rename itself durable; not possible (nor needed) on Windows
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
