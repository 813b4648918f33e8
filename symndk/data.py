"""Data sets: the synthetic task of THEORY.md section 10, binary handwritten-digit tasks, user arrays.

Every loader returns a :class:`Dataset` with inputs as rows and labels +1 / -1.
The input kernel convention is ``K_0(x, x') = x . x' / N0``, so the loaders scale inputs to
``|x|^2 / N0 = 1``.

Example:
    >>> from symndk import data
    >>> ds = data.synthetic(3, 0.5)
    >>> ds.X_train.shape, ds.y_train.tolist(), ds.N0
    ((3, 4), [1.0, -1.0, 1.0], 4)
    >>> float(ds.X_test[0] @ ds.X_train[0]) / ds.N0
    0.5
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symndk.errors import SymndkError


@dataclass(frozen=True)
class Dataset:
    """Training and test arrays of a task.

    Attributes:
        X_train: (P, N0) training inputs.  y_train: (P,) labels.
        X_test: (Q, N0) test inputs.       y_test: (Q,) labels (NaN where unknown).
        name: a short description used in result metadata.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str

    @property
    def N0(self) -> int:
        """Input dimension."""
        return int(self.X_train.shape[1])


def synthetic(P: int, r: float) -> Dataset:
    """The synthetic task of THEORY.md section 10.

    ``N0 = P + 1``; training rows ``sqrt(N0) e_mu`` (mu = 1..P) with labels +1, -1, +1, ...;
    one test point ``sqrt(N0) (r e_1 + sqrt(1 - r^2) e_{P+1})`` with label +1 (overlap r with x_1).

    Example:
        >>> ds = synthetic(2, 0.0)
        >>> np.round(ds.X_train @ ds.X_train.T / ds.N0, 12).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
        >>> synthetic(0, 0.5)
        Traceback (most recent call last):
        ...
        symndk.errors.SymndkError: P must be a positive integer, got 0
    """
    if isinstance(P, bool) or not isinstance(P, (int, np.integer)) or P < 1:
        raise SymndkError(f"P must be a positive integer, got {P!r}")
    try:
        r = float(r)
    except (TypeError, ValueError):
        raise SymndkError(f"r must be a number in [-1, 1], got {r!r}") from None
    if not -1.0 <= r <= 1.0:
        raise SymndkError(f"r must be a number in [-1, 1], got {r!r}")
    P = int(P)
    n0 = P + 1
    scale = math.sqrt(n0)
    X = np.zeros((P, n0))
    X[np.arange(P), np.arange(P)] = scale
    y = np.where(np.arange(P) % 2 == 0, 1.0, -1.0)
    x_test = np.zeros((1, n0))
    x_test[0, 0] = scale * r
    x_test[0, P] = scale * math.sqrt(1.0 - r * r)
    return Dataset(X, y, x_test, np.array([1.0]), f"synthetic(P={P}, r={r:g})")


def _normalise(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise SymndkError("an input has zero norm and cannot be normalised to |x|^2/N0 = 1")
    return X * (math.sqrt(X.shape[1]) / norms)


def digits(a: int, b: int, n_per_class: int = 50, n_test_per_class: int = 50, seed: int = 0,
           normalise: str = "each") -> Dataset:
    """Binary task ``a`` (label +1) vs ``b`` (label -1) from scikit-learn's bundled 8x8 digits.

    No download: the data ship with scikit-learn (extra ``symndk[data]``). Examples are drawn
    without replacement with ``numpy.random.default_rng(seed)``; training and test sets are
    disjoint. Inputs (N0 = 64) are normalised to ``|x|^2 / N0 = 1`` (``normalise="each"``), or all
    scaled by one factor so that the training inputs have mean ``|x|^2 / N0 = 1``
    (``normalise="global"``: input norms, and the task information they carry, are kept; the
    representational-drift reproduction needs them). Rows are grouped by class,
    class ``a`` first.

    Example:
        >>> ds = digits(0, 1, n_per_class=5, n_test_per_class=3)
        >>> ds.X_train.shape, ds.X_test.shape, ds.y_train.tolist()
        ((10, 64), (6, 64), [1.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0])
        >>> bool(np.allclose((ds.X_train ** 2).sum(axis=1) / 64, 1.0))
        True
        >>> g = digits(0, 1, n_per_class=5, n_test_per_class=0, normalise="global")
        >>> round(float(np.mean((g.X_train ** 2).sum(axis=1) / 64)), 12)
        1.0
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - depends on the environment
        raise SymndkError("digits() needs scikit-learn: pip install 'symndk[data]'") from None
    for name, d in (("a", a), ("b", b)):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 0 <= d <= 9:
            raise SymndkError(f"digit {name} must be an integer 0..9, got {d!r}")
    if a == b:
        raise SymndkError(f"the two digits must differ, got {a} and {b}")
    for name, n in (("n_per_class", n_per_class), ("n_test_per_class", n_test_per_class)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < (1 if name == "n_per_class" else 0):
            raise SymndkError(f"{name} must be a non-negative integer (n_per_class >= 1), got {n!r}")
    bunch = load_digits()
    rng = np.random.default_rng(seed)
    parts = {"train": ([], []), "test": ([], [])}
    for digit, label in ((a, 1.0), (b, -1.0)):
        idx = np.flatnonzero(bunch.target == digit)
        need = n_per_class + n_test_per_class
        if need > idx.size:
            raise SymndkError(f"digit {digit} has only {idx.size} examples, {need} requested")
        pick = rng.permutation(idx)[:need]
        for key, sel in (("train", pick[:n_per_class]), ("test", pick[n_per_class:])):
            parts[key][0].append(bunch.data[sel].astype(float))
            parts[key][1].append(np.full(sel.size, label))
    X_train, y_train = (np.concatenate(p) for p in parts["train"])
    X_test, y_test = (np.concatenate(p) for p in parts["test"])
    if not X_test.size:
        X_test = X_test.reshape(0, X_train.shape[1])
    if normalise == "each":
        X_train, X_test = _normalise(X_train), _normalise(X_test) if X_test.size else X_test
    elif normalise == "global":
        scale = math.sqrt(X_train.shape[1] / np.mean(np.einsum("ij,ij->i", X_train, X_train)))
        X_train, X_test = X_train * scale, X_test * scale
    else:
        raise SymndkError(f"normalise must be 'each' or 'global', got {normalise!r}")
    tag = "" if normalise == "each" else ", global scale"
    return Dataset(X_train, y_train, X_test, y_test, f"digits({a} vs {b}, n={n_per_class}, seed={seed}{tag})")


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
