"""`get_file`: download a file into the cache once, check its hash, and unpack it, with Keras's
arguments. The download itself is mgp.datasets' (`_files.download`: streamed into a temporary
file, hash-checked, then renamed, with a progress bar). Archives are unpacked only when every
member stays inside the extraction folder: a member named `../x` or `/etc/x`, a link that
points out of it, or a device file is refused before anything is written."""
import os
import shutil
import tarfile
import tempfile
import urllib.parse
import zipfile

from mgp.datasets import _files


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """The local path of the file at `origin`, downloaded into the cache the first time.

    Args:
        fname: the file's name in the cache (no folders); None: the last part of the URL.
        origin: the URL.
        untar: unpack it as a tar archive (Keras's older spelling of `extract=True`).
        md5_hash: its expected MD5 (older spelling of `file_hash` with 'md5').
        file_hash: its expected SHA-256 (64 hex digits) or MD5; a cached file that does not
            match is downloaded again, a download that does not match is an error.
        cache_subdir: the folder under `cache_dir` to keep it in.
        hash_algorithm: 'auto' (by the hash's length), 'sha256' or 'md5'.
        extract: unpack the archive (tar, tar.gz, tar.bz2, tar.xz, zip).
        archive_format: 'auto' (tar then zip), 'tar', 'zip', or None.
        cache_dir: default `~/.mgp` (so `~/.mgp/datasets`, where mgp.datasets keeps theirs).
        force_download: download even when the file is cached.
    Returns:
        The path of the file, or of the folder it was unpacked into with `extract`.

    Example:
        >>> path = mgp.utils.get_file(origin="https://example.com/flowers.tgz", extract=True)
    """
    if origin is None:
        raise ValueError('get_file needs the "origin" argument (the URL of the file)')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if hash_algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(f"get_file: hash_algorithm must be 'auto', 'sha256' or 'md5', got "
                         f"{hash_algorithm!r}")
    base = os.path.expanduser(os.fspath(cache_dir) if cache_dir is not None else
                              os.path.join("~", ".mgp"))
    if not os.access(base, os.W_OK) and os.path.exists(base):
        base = os.path.join(tempfile.gettempdir(), ".mgp")
    folder = os.path.join(base, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    given = fname is not None and os.fspath(fname) != ""
    fname = os.fspath(fname) if given else \
        os.path.basename(urllib.parse.urlsplit(origin).path)
    if not fname:
        raise ValueError(f"get_file: cannot tell the file's name from the origin {origin!r}; "
                         f"give fname")
    if os.sep in fname or (os.altsep and os.altsep in fname) or fname in (".", ".."):
        raise ValueError(f"get_file: fname is a file name, not a path (give the folder as "
                         f"cache_dir); got {fname!r}")
    unpack = extract or untar
    target, unpacked = os.path.join(folder, fname), None
    if unpack:  # Keras's names for the archive and the folder it is unpacked into
        if given and "." in fname:
            unpacked = os.path.join(folder, fname[:fname.find(".")] + "_extracted")
        else:
            target, unpacked = os.path.join(folder, fname + "_archive"), target
    sha256 = md5 = None
    if file_hash is not None:
        use_sha256 = hash_algorithm == "sha256" or hash_algorithm == "auto" and \
            len(file_hash) == 64
        sha256, md5 = (file_hash, None) if use_sha256 else (None, file_hash)
    if force_download or not os.path.exists(target) or \
            not _matches(target, sha256, md5, hash_algorithm):
        if os.path.exists(target) and not force_download:
            print(f"A local file was found, but it does not match its hash {file_hash} "
                  f"(incomplete or outdated): downloading it again.")
        print(f"Downloading data from {origin}")
        _files.download(origin, target, sha256=sha256, md5=md5)
    if not unpack:
        return target
    if not extract_archive(target, unpacked, "tar" if untar else archive_format):
        raise ValueError(f"get_file: {target} is not an archive of the format "
                         f"{archive_format!r}; nothing was extracted")
    return unpacked


def _matches(path, sha256, md5, algorithm):
    if sha256 is not None:
        return _files.file_digest(path, "sha256") == sha256
    if md5 is not None:
        return _files.file_digest(path, "md5") == md5
    return True


def extract_archive(file_path, path=".", archive_format="auto"):
    """Unpack a tar or zip archive into the folder `path` (replacing what an earlier
    extraction left there); False when it is none of the formats asked for.

    Raises:
        ValueError: a member would land outside `path` (an absolute name, `..`, a link out
            of it) or is a device file; nothing is written then.
    """
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else \
        [archive_format] if isinstance(archive_format, str) else list(archive_format)
    file_path, path = os.fspath(file_path), os.path.abspath(os.fspath(path))
    for kind in formats:
        if kind not in ("tar", "zip"):
            raise ValueError(f"archive_format must be 'auto', 'tar', 'zip' or None, got "
                             f"{kind!r}")
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                _check_tar(archive, path, file_path)
                _into(path, lambda tmp: archive.extractall(tmp, filter="data"))
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                for name in archive.namelist():
                    _inside(path, name, file_path)
                _into(path, archive.extractall)
            return True
    return False


def _inside(root, name, archive):
    target = os.path.abspath(os.path.join(root, name))
    if os.path.isabs(name) or os.path.commonpath([root, target]) != root:
        raise ValueError(f"archive {archive} holds the member {name!r}, which would be written "
                         f"outside {root}; refusing to extract it")
    return target


def _check_tar(archive, root, file_path):
    for member in archive.getmembers():
        where = _inside(root, member.name, file_path)
        if member.issym() or member.islnk():
            link = member.linkname if member.islnk() else \
                os.path.join(os.path.dirname(where), member.linkname)
            if os.path.isabs(member.linkname) or \
                    os.path.commonpath([root, os.path.abspath(
                        os.path.join(root, link) if member.islnk() else link)]) != root:
                raise ValueError(f"archive {file_path} holds the link {member.name!r} -> "
                                 f"{member.linkname!r}, which points outside {root}; refusing "
                                 f"to extract it")
        elif not (member.isfile() or member.isdir()):
            raise ValueError(f"archive {file_path} holds {member.name!r}, which is neither a "
                             f"file, a folder nor a link; refusing to extract it")


def _into(path, extract):
    """Extract into a temporary folder beside `path`, then put it in `path`'s place, so a
    failed extraction leaves nothing half-written under the final name."""
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".extracting-", dir=parent)
    try:
        extract(tmp)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
