"""Writing a file so that it appears complete or not at all.

The data goes to a temporary file in the target's folder (so the rename stays on one file
system), is flushed to disk with fsync, and only then is renamed onto the target with
`os.replace`, which is atomic: a crash at any moment leaves either the old complete file or the
new complete file under the target's name, never a partial one.

Around that: a target that is a symbolic link is followed (the file it points to is replaced,
the link stays); a file that is replaced keeps its permission bits; the temporary name is short
whatever the target's name (`.<up to 40 characters of it>~<hash of it>.<pid>.<random>.tmp`), so
any name the file system allows can be saved; and the temporaries a killed save left beside the
target (those of processes no longer running) are removed by the next save to it.
"""
import contextlib
import hashlib
import os
import stat
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
    path = os.path.realpath(os.fspath(path))  # a symlink: write (and replace) its target
    folder, name = os.path.split(path)
    stem = _stem(name)
    _remove_stale(folder, stem)
    tmp = os.path.join(folder, f"{stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        with contextlib.suppress(FileNotFoundError):  # the old file's permission bits
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_dir(folder)


def _stem(name):
    """The start of the temporary names of the saves to `name`."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f".{name[:40]}~{digest}"


def _remove_stale(folder, stem):
    """Remove the temporaries of saves to the same target whose process is gone (killed)."""
    with contextlib.suppress(OSError):
        for entry in os.listdir(folder):
            parts = entry[len(stem):].split(".")
            if not entry.startswith(stem + ".") or len(parts) != 4 or parts[3] != "tmp" \
                    or not parts[1].isdigit():
                continue
            pid = int(parts[1])
            if pid != os.getpid() and not _running(pid):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(folder, entry))


def _running(pid):
    if os.name == "nt":  # (os.kill would end the process there): leave the file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or no way to tell): leave its file
    return True


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
