"""Finding, downloading and caching dataset files.

A dataset file is looked up, in order: at an explicit local path, in the folder named by the
environment variable `MGP_DATA_DIR`, in the cache (`~/.mgp/datasets/`, or `MGP_CACHE_DIR`, or a
`cache_dir` argument); only then is it downloaded into the cache. Downloads stream into a
temporary file beside the target, are checked against their SHA-256, fsynced, and only then
renamed onto the target, so an interrupted or corrupted download never leaves a file under the
final name.
"""
import hashlib
import http.client
import os
import urllib.request
import warnings

from mgp.saving.atomic import atomic_open

DOWNLOAD_TIMEOUT = 60  # seconds without data before a download is abandoned
_CHUNK = 1 << 16


def resolve_cache_dir(cache_dir=None):
    """The dataset cache folder: `cache_dir`, else `$MGP_CACHE_DIR`, else `~/.mgp/datasets`."""
    if cache_dir is None:
        cache_dir = os.environ.get("MGP_CACHE_DIR") or os.path.join("~", ".mgp", "datasets")
    return os.path.abspath(os.path.expanduser(os.fspath(cache_dir)))


def sha256_file(path):
    """SHA-256 hex digest of a file's bytes."""
    return file_digest(path, "sha256")


def file_digest(path, algorithm):
    """Hex digest of a file's bytes by a `hashlib` algorithm ("sha256", "md5")."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tqdm():
    """tqdm's notebook bar in a Jupyter kernel that has ipywidgets, its text bar elsewhere.

    Imported here, not at the top: `tqdm.auto` warns as it is imported in a kernel without
    ipywidgets, and `import mgp` must not.
    """
    from mgp.callbacks.progbar import _in_notebook
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.notebook import tqdm
            return tqdm
        except ImportError:
            pass
    from tqdm.std import tqdm
    return tqdm


def download(origin, path, sha256=None, md5=None):
    """Download `origin` to `path` atomically, with a tqdm progress bar.

    Raises `ConnectionError` when the server sends fewer bytes than it announced, `ValueError`
    when `sha256` (or `md5`, for files whose publisher gives only that) is given and the data
    does not match it, and urllib's `URLError` when the server cannot be reached; in every case
    `path` is left as it was (temporary file removed).
    """
    h = hashlib.sha256()
    h_md5 = hashlib.md5(usedforsecurity=False)
    received = 0
    with urllib.request.urlopen(origin, timeout=DOWNLOAD_TIMEOUT) as response:
        total = response.headers.get("Content-Length")
        total = int(total) if total else None
        bar = _tqdm()(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=os.path.basename(path))
        with bar, atomic_open(path, "wb") as f:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                f.write(chunk)
                h.update(chunk)
                h_md5.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
            # http.client returns a short body without complaint when the connection drops
            if total is not None and received != total:
                raise ConnectionError(f"download of {origin} stopped after {received} of "
                                      f"{total} bytes")
            if sha256 is not None and h.hexdigest() != sha256:
                raise ValueError(f"download of {origin} is corrupted or not the expected file: "
                                 f"sha256 {h.hexdigest()}, expected {sha256}")
            if md5 is not None and h_md5.hexdigest() != md5:
                raise ValueError(f"download of {origin} is corrupted or not the expected file: "
                                 f"md5 {h_md5.hexdigest()}, expected {md5}")
    return path


def get_file(fname, origin, sha256=None, cache_dir=None, md5=None):
    """Return the path of `fname` in the cache, downloading it from `origin` first if needed.

    A cached file whose SHA-256 does not match `sha256` is downloaded again (as Keras does).

    Args:
        fname: file name, or path relative to the cache folder (e.g. `"fashion-mnist/x.gz"`).
        origin: URL to download from.
        sha256: expected SHA-256 hex digest of the file, or None to skip the check.
        cache_dir: cache folder; see `resolve_cache_dir()` for the default.
        md5: expected MD5 hex digest, for files published with only that (checked like sha256).
    Returns:
        Absolute path of the verified file.
    """
    path = os.path.join(resolve_cache_dir(cache_dir), fname)
    if os.path.isfile(path):
        if (sha256 is None or sha256_file(path) == sha256) and \
                (md5 is None or file_digest(path, "md5") == md5):
            return path
        expected = f"sha256 {sha256}" if sha256 is not None else f"md5 {md5}"
        warnings.warn(f"{path} does not match its {expected} (incomplete or outdated); "
                      f"downloading it again from {origin}", stacklevel=2)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return download(origin, path, sha256, md5)


def fetch(fname, origin, sha256=None, path=None, cache_dir=None, md5=None):
    """Find a dataset file locally, or else download it into the cache.

    Looks at `path` (if given), then `$MGP_DATA_DIR/fname`, then the cache; downloads only when
    none of these exists. When the download fails for lack of a network, the `FileNotFoundError`
    names the file, every place tried, and the URL, so the file can be put there by hand.

    Args:
        fname: file name, or path relative to the data and cache folders.
        origin: URL to download from.
        sha256: expected SHA-256 of the downloaded (and cached) file.
        path: an explicit local copy to use if it exists.
        cache_dir: cache folder; see `resolve_cache_dir()` for the default.
        md5: expected MD5 of the downloaded (and cached) file, where no SHA-256 is published.
    Returns:
        Path of the file.
    """
    tried = []
    candidates = [path] if path is not None else []
    data_dir = os.environ.get("MGP_DATA_DIR")
    if data_dir:
        candidates.append(os.path.join(data_dir, fname))
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
        tried.append(os.path.abspath(candidate))
    try:
        return get_file(fname, origin, sha256, cache_dir, md5)
    except (OSError, http.client.HTTPException) as e:
        tried.append(os.path.join(resolve_cache_dir(cache_dir), fname))
        where = "\n".join(f"  {p}" for p in tried)
        hint = "" if data_dir else " (MGP_DATA_DIR is not set)"
        raise FileNotFoundError(
            f"{os.path.basename(fname)} not found locally and could not be downloaded from "
            f"{origin}: {e}\nLooked in:\n{where}\nPut a copy of the file at one of these paths, "
            f"or set MGP_DATA_DIR to a folder holding {fname}{hint}.") from e
