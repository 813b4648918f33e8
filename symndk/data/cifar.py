"""CIFAR-10 from its python batches (``data_batch_1`` ... ``data_batch_5``, ``test_batch``).

**These batches are Python pickles, and unpickling a file can run code.** They are therefore
read only from a folder the user names (``data_dir``; never a URL or a path derived from
anything else), joined with the fixed CIFAR file names. As a second line of defence the
unpickler admits only the globals a CIFAR batch needs (NumPy array and scalar reconstruction
and the latin-1 codec of Python 2 pickles); anything else is refused with one
:class:`symndk.errors.SymndkError` line. Only open batches you trust.

A batch is a dict with ``b'data'`` (10000, 3072) uint8 (the red, green, blue 32x32 planes of
each image) and ``b'labels'`` (10000 ints; cat = 3, dog = 5).

Example:
    >>> import os, pickle, tempfile
    >>> d = tempfile.mkdtemp()
    >>> batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 5]}
    >>> with open(os.path.join(d, "data_batch_1"), "wb") as fh:
    ...     pickle.dump(batch, fh, protocol=2)
    >>> X, y = read_batch(os.path.join(d, "data_batch_1"))
    >>> X.shape, y.tolist()
    ((2, 3072), [3, 5])
    >>> with open(os.path.join(d, "data_batch_2"), "wb") as fh:
    ...     pickle.dump({b"data": os.system}, fh)
    >>> read_batch(os.path.join(d, "data_batch_2"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: ...data_batch_2: refusing to unpickle posix.system (not part of a CIFAR batch)
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from symndk.errors import SymndkError

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
SUBDIR = "cifar-10-batches-py"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise SymndkError(f"refusing to unpickle {module}.{name} (not part of a CIFAR batch)")
        return super().find_class(module, name)


def read_batch(path):
    """``(data (n, 3072) uint8, labels (n,) int64)`` from one CIFAR-10 python batch file.

    The file is a pickle (see the module docstring): pass only files you trust.
    """
    p = Path(path)
    if not p.is_file():
        raise SymndkError(f"no such file: {p}")
    try:
        with open(p, "rb") as fh:
            obj = _BatchUnpickler(fh, encoding="bytes").load()
    except SymndkError as exc:
        raise SymndkError(f"{p}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError,
            KeyError, OSError) as exc:
        raise SymndkError(f"{p}: not a CIFAR-10 python batch ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(obj, dict) or b"data" not in obj or b"labels" not in obj:
        raise SymndkError(f"{p}: not a CIFAR-10 python batch (expected a dict with b'data' and b'labels')")
    data, labels = obj[b"data"], obj[b"labels"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise SymndkError(f"{p}: b'data' must be a (n, 3072) uint8 array, got "
                          f"{getattr(data, 'shape', type(data).__name__)} {getattr(data, 'dtype', '')}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise SymndkError(f"{p}: b'labels' must be integers 0..9") from None
    if labels.shape != (data.shape[0],) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise SymndkError(f"{p}: b'labels' must be {data.shape[0]} integers 0..9")
    return data, labels


def batch_folder(data_dir):
    """The folder holding the batches: ``data_dir`` or ``data_dir/cifar-10-batches-py``; None if neither."""
    base = Path(data_dir)
    for d in (base, base / SUBDIR):
        if (d / TRAIN_FILES[0]).is_file():
            return d
    return None


def read_cifar10(data_dir):
    """``(X_train, y_train, X_test, y_test)`` from the batches in ``data_dir`` (test arrays None without ``test_batch``)."""
    folder = batch_folder(data_dir)
    if folder is None:
        raise SymndkError(f"no CIFAR-10 python batches in {data_dir} (expected {TRAIN_FILES[0]} there or in "
                          f"{SUBDIR}/)")
    parts = [read_batch(folder / n) for n in TRAIN_FILES if (folder / n).is_file()]
    X, y = np.concatenate([d for d, _ in parts]), np.concatenate([lab for _, lab in parts])
    if (folder / TEST_FILE).is_file():
        return (X, y, *read_batch(folder / TEST_FILE))
    return X, y, None, None
