"""Safe file writes: atomic replacement (temp file, flush, fsync, rename) and an advisory lock.

Every file symndk writes goes through :func:`atomic_write`, so a reader sees either the old
file or the new one, never a torn one, and a killed run leaves no half-written result.
:func:`file_lock` serialises writers of the same file across processes (``fcntl.flock``).

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(d / "a.txt", "one\\n").name
    'a.txt'
    >>> with file_lock(d / "a.txt"):
    ...     _ = atomic_write(d / "a.txt", b"two\\n")
    >>> (d / "a.txt").read_text(), sorted(p.name for p in d.iterdir())
    ('two\\n', ['.a.txt.lock', 'a.txt'])

Arrays too big for memory (:func:`out_of_core`, :func:`mapped`, :func:`capped`, :func:`placed`) are
memory-mapped ``.npy`` files: in a folder the caller names, or in a private temporary folder whose files
are unlinked at once (their disk space is freed with the arrays).
"""
from __future__ import annotations

import contextlib
import contextvars
import errno
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from symndk.errors import SymndkError


def atomic_write(path, data, *, writer=None) -> Path:
    """Write ``data`` (str or bytes), or call ``writer(fileobj)``, into ``path`` atomically; returns the path.

    Missing or read-only folders give one :class:`SymndkError` line.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise SymndkError(f"cannot write {path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise SymndkError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            if writer is not None:
                writer(fh)
            else:
                fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


@contextlib.contextmanager
def file_lock(path):
    """Exclusive advisory lock on ``<folder>/.<name>.lock`` for the duration of the block."""
    path = Path(path)
    lock = path.parent / f".{path.name}.lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as exc:
        raise SymndkError(f"cannot lock {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


MANIFEST = "MANIFEST.sha256"


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _read_manifest(folder: Path) -> dict[str, str]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    entries = (line.split("  ", 1) for line in path.read_text().splitlines() if line.strip())
    return {name: digest for digest, name in entries}


def write_recorded(folder, files: dict[str, str]) -> list[Path]:
    """Write ``files`` (name -> text) atomically into ``folder`` and record their SHA-256 in its manifest.

    Only files recorded here are ever loaded back by :func:`read_recorded` or removed by symndk.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    with file_lock(folder / MANIFEST):
        recorded = _read_manifest(folder)
        for name, text in files.items():
            path = folder / name
            if not path.is_file() or path.read_text() != text:
                atomic_write(path, text)
            recorded[name] = _digest(text.encode())
            paths.append(path)
        _write_manifest(folder, recorded)
    return paths


def _write_manifest(folder: Path, recorded: dict[str, str]) -> None:
    atomic_write(Path(folder) / MANIFEST, "".join(f"{d}  {n}\n" for n, d in sorted(recorded.items())))


def record(folder, name: str) -> None:
    """Add the SHA-256 of file ``name``, which symndk has just written into ``folder`` itself (a compiled
    library), to the folder's manifest; the caller holds :func:`file_lock` on ``folder / MANIFEST``."""
    recorded = _read_manifest(folder)
    recorded[name] = _digest((Path(folder) / name).read_bytes())
    _write_manifest(folder, recorded)


def read_recorded(folder, name: str) -> bytes | None:
    """Bytes of file ``name`` in ``folder`` if symndk recorded it there (None if it did not).

    A recorded file whose content no longer matches its hash raises :class:`SymndkError`.
    """
    digest = _read_manifest(folder).get(name)
    if digest is None:
        return None
    try:
        data = (Path(folder) / name).read_bytes()
    except OSError:
        return None
    if _digest(data) != digest:
        raise SymndkError(f"{Path(folder) / name} was modified after symndk wrote it; refusing to load it "
                          f"(regenerate it with symndk kernel)")
    return data


def is_recorded(folder, name: str) -> bool:
    """True when ``name`` in ``folder`` was written by :func:`write_recorded`."""
    return name in _read_manifest(folder)


# ----------------------------------------------------------------------------- out-of-core arrays

def out_of_core(memory, folder, nbytes, prefix="symndk-kernels-"):
    """None (results in memory), or the ``(path, keep)`` of :func:`mapped` when ``nbytes`` exceed
    ``memory``: ``folder`` (kept), or a fresh private temporary folder named ``prefix``... (not kept: the
    caller removes it once its files are mapped). Bad ``memory`` or ``folder``: one :class:`SymndkError` line."""
    if memory is None:
        if folder is not None:
            raise SymndkError("folder is where results beyond the memory cap go: give memory (bytes) too")
        return None
    if isinstance(memory, bool) or not isinstance(memory, (int, float, np.integer, np.floating)) or not memory >= 0:
        raise SymndkError(f"memory must be a number of bytes >= 0, got {memory!r}")
    if folder is not None and not Path(folder).is_dir():
        raise SymndkError(f"folder must be an existing directory, got {str(folder)!r}")
    if nbytes <= memory:
        return None
    _room(tempfile.gettempdir() if folder is None else folder, nbytes)
    if folder is None:
        return tempfile.mkdtemp(prefix=prefix), False
    return Path(folder), True


def _room(folder, nbytes) -> None:
    """Refuse, in one line, results of ``nbytes`` bytes that the file system of ``folder`` has no room for
    (before anything is written; :func:`mapped` then reserves each file's blocks)."""
    free = shutil.disk_usage(folder).free
    if nbytes > free:
        raise SymndkError(f"the results need {nbytes / 1e9:.2f} GB on disk and {folder} has {free / 1e9:.2f} GB free: "
                          f"give a folder on a larger disk, or more memory")


def unclaimed(folder, names) -> None:
    """Refuse, in one line, to write ``name``.npy into ``folder`` where such a file exists already: symndk
    does not overwrite a file it may not have written (checked for every name before any is written).

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); _ = (d / "ntk_train.npy").write_bytes(b"mine")
        >>> unclaimed(d, ["nngp_train", "ntk_train"])
        Traceback (most recent call last):
        ...
        symndk.errors.SymndkError: ntk_train.npy exists in the results folder; symndk does not overwrite it: give an empty folder
    """
    taken = [f"{n}.npy" for n in names if (Path(folder) / f"{n}.npy").exists()]
    if taken:
        one = len(taken) == 1
        raise SymndkError(f"{', '.join(taken)} exist{'s' if one else ''} in the results folder; symndk does not "
                          f"overwrite {'it' if one else 'them'}: give an empty folder")


def mapped(P, Q, dtype, folder, name):
    """A (P, Q) result array: in memory when ``folder`` is None; else ``(path, keep)``: a memory-mapped
    ``name``.npy there (np.load reads it back), unlinked at once unless ``keep`` (the pages then live as
    long as the array, and the disk space is freed with it). The caller makes sure ``name`` is its own
    (:func:`unclaimed`, or a name ``mkstemp`` made)."""
    if folder is None:
        return np.empty((P, Q), dtype)
    path = Path(folder[0]) / f"{name}.npy"
    arr = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(P, Q))
    _reserve(path)
    if not folder[1]:
        path.unlink()
    return arr


def _reserve(path: Path) -> None:
    """Allocate the blocks of the file symndk has just created at ``path`` (a sparse memory-mapped file on a
    full disk would end the process by SIGBUS at the first page written); no room: the file is removed and
    one :class:`SymndkError` line says so. File systems without ``posix_fallocate`` keep the sparse file."""
    if not hasattr(os, "posix_fallocate"):
        return
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            return                                   # not supported here (EOPNOTSUPP, EINVAL): left sparse
        path.unlink()
        raise SymndkError(f"no room on disk for {path.name} ({os.fstat(fd).st_size / 1e9:.2f} GB) in {path.parent}: "
                          f"give a folder on a larger disk, or more memory") from None
    finally:
        os.close(fd)


#: (memory, folder) of the innermost :func:`capped` block
_CAP: contextvars.ContextVar[tuple] = contextvars.ContextVar("symndk_memory_cap", default=(None, None))


@contextlib.contextmanager
def capped(memory=None, folder=None):
    """Within the block (this thread or task), :func:`placed` arrays of more than ``memory`` bytes are
    memory-mapped files, kept in ``folder`` if given; the pair is checked on entry (:func:`out_of_core`).

    Example:
        >>> with capped(memory=0):
        ...     a = placed(2, 3, "demo")
        >>> type(a).__name__, a.shape, type(placed(2, 3, "demo")).__name__
        ('memmap', (2, 3), 'ndarray')
    """
    out_of_core(memory, folder, 0)
    token = _CAP.set((memory, folder))
    try:
        yield
    finally:
        _CAP.reset(token)


def placed(P, Q, name, prefix="symndk-arrays-"):
    """An uninitialised float64 (P, Q) array: in memory, or, above the cap of the :func:`capped` block, a
    memory-mapped ``name-XXXXXXXX.npy`` (:func:`mapped`) under a fresh name that no other file has, kept in
    the block's folder or unlinked at once in a private temporary folder (``prefix``), removed at once."""
    where = out_of_core(*_CAP.get(), 8 * P * Q, prefix)
    if where is None:
        return np.empty((P, Q))
    fd, path = tempfile.mkstemp(prefix=f"{name}-", suffix=".npy", dir=where[0])
    os.close(fd)
    try:
        return mapped(P, Q, float, where, Path(path).stem)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)                      # the name mkstemp made for us: no other file is removed
        raise
    finally:
        if not where[1]:
            os.rmdir(where[0])                   # empty: its one file is unlinked (the array keeps its pages)
