"""The Keras ``mnist.npz`` file (``x_train``, ``y_train``, ``x_test``, ``y_test``), loaded without pickles.

Example:
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "mnist.npz")
    >>> z = np.zeros((2, 28, 28), np.uint8)
    >>> np.savez(p, x_train=z, y_train=np.array([0, 1], np.uint8), x_test=z[:1], y_test=np.array([1], np.uint8))
    >>> [a.shape for a in read_keras_mnist(p)]
    [(2, 784), (2,), (1, 784), (1,)]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from symndk.errors import SymndkError

KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_keras_mnist(path):
    """``(x_train (n, 784), y_train (n,), x_test (m, 784), y_test (m,))`` from a Keras ``mnist.npz``.

    Read with ``numpy.load(allow_pickle=False)``: object arrays are refused, nothing is unpickled.
    """
    p = Path(path)
    if not p.is_file():
        raise SymndkError(f"no such file: {p}")
    try:
        with np.load(p, allow_pickle=False) as z:
            missing = [k for k in KEYS if k not in z.files]
            if missing:
                raise SymndkError(f"{p}: not a Keras mnist.npz (missing {', '.join(missing)})")
            arrs = {k: z[k] for k in KEYS}
    except SymndkError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise SymndkError(f"cannot read {p}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    out = []
    for split in ("train", "test"):
        X, y = arrs[f"x_{split}"], arrs[f"y_{split}"]
        if X.dtype.kind not in "uif" or y.dtype.kind not in "ui":
            raise SymndkError(f"{p}: x_{split}/y_{split} hold {X.dtype}/{y.dtype}, expected numbers/integers")
        if X.ndim != 3 or y.ndim != 1 or X.shape[0] != y.shape[0]:
            raise SymndkError(f"{p}: x_{split} {X.shape} and y_{split} {y.shape} are not (n, rows, cols) and (n,)")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise SymndkError(f"{p}: y_{split} has labels outside 0..9")
        out += [X.reshape(X.shape[0], -1), y]
    return tuple(out)
