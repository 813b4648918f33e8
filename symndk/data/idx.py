"""IDX files (the original MNIST format), parsed with NumPy: plain or gzip-compressed.

An IDX file is a big-endian header -- two zero bytes, a type code (``0x08``: unsigned byte),
the number of dimensions ``d`` -- then ``d`` big-endian uint32 sizes, then the data. As a
32-bit magic number this is 2051 for MNIST images (``*-images-idx3-ubyte``, shape (n, 28, 28))
and 2049 for labels (``*-labels-idx1-ubyte``, shape (n,)). A wrong magic number, a size that
does not match the header, a truncated file or trailing bytes are refused with one
:class:`symndk.errors.SymndkError` line.

Example:
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "t10k-labels-idx1-ubyte")
    >>> _ = open(p, "wb").write(np.array([2049, 3], ">u4").tobytes() + bytes([7, 2, 1]))
    >>> read_idx(p, magic=LABELS).tolist()
    [7, 2, 1]
    >>> read_idx(p, magic=IMAGES)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: ...t10k-labels-idx1-ubyte: IDX magic number 2049 (labels), expected 2051 (images)
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from symndk.errors import SymndkError

IMAGES = 2051  #: magic number of an MNIST image file (uint8, 3 dimensions)
LABELS = 2049  #: magic number of an MNIST label file (uint8, 1 dimension)
_KIND = {IMAGES: "images", LABELS: "labels"}
MAX_BYTES = 1 << 31  #: larger declared payloads are refused before reading


def _name(magic):
    return f"{magic} ({_KIND[magic]})" if magic in _KIND else str(magic)


def read_idx(path, magic: int = IMAGES) -> np.ndarray:
    """The uint8 array stored in the IDX file ``path`` (``.gz`` is decompressed).

    Args:
        path: the file. Its name is used as given; nothing else is derived from it.
        magic: the expected magic number, :data:`IMAGES` (2051) or :data:`LABELS` (2049).
    """
    p = Path(path)
    if not p.is_file():
        raise SymndkError(f"no such file: {p}")
    try:
        opener = gzip.open if p.name.endswith(".gz") else open
        with opener(p, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4:
                raise SymndkError(f"{p}: truncated IDX file ({len(head)} bytes, no header)")
            got = int.from_bytes(head, "big")
            if got != magic:
                raise SymndkError(f"{p}: IDX magic number {_name(got)}, expected {_name(magic)}")
            ndim = head[3]
            raw = fh.read(4 * ndim)
            if len(raw) < 4 * ndim:
                raise SymndkError(f"{p}: truncated IDX header")
            shape = tuple(int(v) for v in np.frombuffer(raw, ">u4"))
            size = int(np.prod(shape, dtype=np.int64))
            if size > MAX_BYTES:
                raise SymndkError(f"{p}: IDX header declares {size} bytes, more than {MAX_BYTES}")
            body = fh.read(size + 1)
    except SymndkError:
        raise
    except (OSError, EOFError, zlib.error) as exc:
        raise SymndkError(f"{p}: cannot read IDX file: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if len(body) < size:
        raise SymndkError(f"{p}: truncated IDX file: header {shape} declares {size} data bytes, found {len(body)}")
    if len(body) > size:
        raise SymndkError(f"{p}: IDX file has bytes beyond the {size} its header {shape} declares")
    return np.frombuffer(body, np.uint8).reshape(shape)


def read_mnist_split(images_path, labels_path):
    """``(images (n, 784) uint8, labels (n,) uint8)`` from an IDX image file and label file."""
    X = read_idx(images_path, IMAGES)
    y = read_idx(labels_path, LABELS)
    if X.ndim != 3:
        raise SymndkError(f"{images_path}: IDX images have {X.ndim} dimensions, expected 3 (n, rows, cols)")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise SymndkError(f"{labels_path}: {y.shape} labels for {X.shape[0]} images")
    if y.size and y.max() > 9:
        raise SymndkError(f"{labels_path}: label {int(y.max())} outside 0..9")
    return X.reshape(X.shape[0], -1), y
