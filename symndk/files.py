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
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

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
        atomic_write(folder / MANIFEST, "".join(f"{d}  {n}\n" for n, d in sorted(recorded.items())))
    return paths


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
