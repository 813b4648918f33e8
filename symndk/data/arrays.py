"""User arrays from ``.npy`` or ``.csv`` files (``--task files``)."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from symndk.errors import SymndkError


def load_array(path) -> np.ndarray:
    """Load a user array from ``.npy`` or ``.csv`` (comma separated, numbers only; ``#`` comments).

    Returns a float64 array; raises :class:`SymndkError` for a missing file, an unknown suffix,
    unreadable or non-numeric content, an empty array, or NaN/inf entries.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
        >>> _ = open(p, "w").write("1,2\\n3,4\\n")
        >>> load_array(p).tolist()
        [[1.0, 2.0], [3.0, 4.0]]
        >>> load_array(p + ".missing")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        symndk.errors.SymndkError: no such file: ...x.csv.missing
    """
    p = Path(path)
    if not p.is_file():
        raise SymndkError(f"no such file: {p}")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
        elif suffix == ".csv":
            with warnings.catch_warnings():  # an empty file is reported below, not as a warning
                warnings.simplefilter("ignore", UserWarning)
                arr = np.loadtxt(p, delimiter=",", dtype=float, comments="#")
        else:
            raise SymndkError(f"unsupported file type {p.suffix!r} for {p} (use .npy or .csv)")
    except SymndkError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise SymndkError(f"cannot read {p}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if arr.dtype.kind not in "biuf":
        raise SymndkError(f"{p} holds {arr.dtype} data, expected real numbers")
    arr = np.asarray(arr, dtype=float)
    if arr.size == 0:
        raise SymndkError(f"{p} holds an empty array")
    if not np.all(np.isfinite(arr)):
        raise SymndkError(f"{p} contains non-finite values (NaN or inf)")
    return arr
