"""Input validation, written once: data arrays, targets, times. Every public entry point calls these.

Each check returns clean float64 arrays or raises one :class:`SymndkError` line.

Example:
    >>> import numpy as np
    >>> X, y = inputs("X_train", [[1.0, 0.0], [0.0, 2.0]]), targets([1, -1], 2)
    >>> X.shape, y.tolist()
    ((2, 2), [1.0, -1.0])
    >>> inputs("X_train", [[1.0, float("nan")]])
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: X_train contains non-finite values
"""
from __future__ import annotations

import numpy as np

from symndk.errors import SymndkError

#: largest accepted time (in units of 1/gamma the solvers' cost is logarithmic; beyond this the
#: double-precision times themselves stop resolving the dynamics)
MAX_TIME = 1e15
#: deepest network any solver or the simulator accepts
MAX_DEPTH = 100


def _numeric(name, a):
    try:
        out = np.asarray(a, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise SymndkError(f"{name} must be an array of numbers") from None
    return out


def inputs(name, X, n0=None, allow_empty=False):
    """A (rows, N0) float array: finite, no zero rows (the kernels need |x| > 0)."""
    X = _numeric(name, X)
    if X.ndim == 1 and n0 is not None and X.size == n0:
        X = X[None, :]
    if X.ndim != 2 or (X.shape[0] == 0 and not allow_empty) or X.shape[1] == 0:
        raise SymndkError(f"{name} must be a non-empty 2-D array (rows, N0), got shape {X.shape}")
    if n0 is not None and X.shape[1] != n0:
        raise SymndkError(f"{name} must have {n0} columns (N0 of the training inputs), got shape {X.shape}")
    norms = np.einsum("ij,ij->i", X, X)   # non-finite wherever X is (one pass over X instead of two)
    if not np.all(np.isfinite(norms)):
        if not np.all(np.isfinite(X)):
            raise SymndkError(f"{name} contains non-finite values")
        raise SymndkError(f"{name} has rows too large to square in float64")
    if np.any(norms == 0):
        raise SymndkError(f"{name} row {int(np.argmax(norms == 0))} has zero norm (the kernels need |x| > 0)")
    return X


def optional_inputs(X_test, n0):
    """X_test as a (Q, N0) array; None gives Q = 0."""
    if X_test is None:
        return np.zeros((0, n0))
    return inputs("X_test", X_test, n0, allow_empty=True)


def targets(y, P):
    """Targets of shape (P,) or (P, K) (K outputs, e.g. one-hot classes) as float64, finite.

    Example:
        >>> targets([[1, 0], [0, 1], [1, 0]], 3).shape
        (3, 2)
        >>> targets(np.zeros((3, 0)), 3)
        Traceback (most recent call last):
        ...
        symndk.errors.SymndkError: y_train must have shape (3,) or (3, K) with K >= 1 to match X_train, got (3, 0)
    """
    y = _numeric("y_train", y)
    if y.ndim not in (1, 2) or y.shape[0] != P or (y.ndim == 2 and y.shape[1] == 0):
        raise SymndkError(f"y_train must have shape ({P},) or ({P}, K) with K >= 1 to match X_train, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise SymndkError("y_train contains non-finite values")
    return y


def times(t, name="times"):
    """A non-empty, sorted 1-D array of finite times in [0, MAX_TIME]."""
    tt = np.atleast_1d(_numeric(name, t))
    if tt.ndim != 1 or tt.size == 0:
        raise SymndkError(f"{name} must be a non-empty 1-D array")
    if not np.all(np.isfinite(tt)):
        raise SymndkError(f"{name} contains non-finite values")
    if np.any(tt < 0) or np.any(tt > MAX_TIME):
        raise SymndkError(f"{name} must lie in [0, {MAX_TIME:g}], got [{tt.min():g}, {tt.max():g}]")
    if np.any(np.diff(tt) < 0):
        raise SymndkError(f"{name} must be sorted in increasing order")
    return tt


def temperature(T):
    """T as a finite float >= 0."""
    try:
        T = float(T)
    except (TypeError, ValueError):
        raise SymndkError(f"T must be a number, got {T!r}") from None
    if not np.isfinite(T) or T < 0:
        raise SymndkError(f"T must be finite and >= 0, got {T!r}")
    return T


def variance(name, v, zero_ok=False):
    """One variance as a float: finite and > 0 (>= 0 with ``zero_ok``).

    Example:
        >>> variance("sigma_sq", 2), variance("bias_sigma_sq", 0, zero_ok=True)
        (2.0, 0.0)
    """
    if isinstance(v, bool):
        raise SymndkError(f"{name} must be a number, got {v!r}")
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise SymndkError(f"{name} must be a number, got {v!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not zero_ok):
        raise SymndkError(f"{name} must be finite and {'>=' if zero_ok else '>'} 0, got {v!r}")
    return v


def layer_variances(name, v, depth, zero_ok=False):
    """A variance, or per-layer variances: one number (float), or a sequence of ``depth + 1`` numbers
    (tuple of floats), one per parameter group W_1, .., W_L, readout (for biases b_1, .., b_L, output
    bias); docs/theory.md §B.

    Example:
        >>> layer_variances("sigma_sq", [1, 2, 0.5], 2)
        (1.0, 2.0, 0.5)
        >>> layer_variances("sigma_sq", [1, 2], 2)
        Traceback (most recent call last):
        ...
        symndk.errors.SymndkError: sigma_sq must be one number or depth + 1 = 3 numbers (W_1..W_L, readout), got 2
    """
    if isinstance(v, (str, bytes)) or np.ndim(v) == 0:
        return variance(name, v, zero_ok)
    if np.ndim(v) != 1 or len(v) != depth + 1:
        raise SymndkError(f"{name} must be one number or depth + 1 = {depth + 1} numbers (W_1..W_L, readout), "
                          f"got {np.size(v) if np.ndim(v) == 1 else np.shape(v)}")
    return tuple(variance(f"{name}[{i}]", x, zero_ok) for i, x in enumerate(v))


def parse_variances(text):
    """A command-line variance: ``"0.5"`` -> 0.5, ``"1,2,0.5"`` -> (1.0, 2.0, 0.5) (per layer); parsed
    with ``float``, never evaluated. Lengths and signs are checked by :func:`layer_variances`.

    Example:
        >>> parse_variances("1,2,0.5"), parse_variances("0.5")
        ((1.0, 2.0, 0.5), 0.5)
        >>> parse_variances("1,__import__('os')")
        Traceback (most recent call last):
        ...
        symndk.errors.SymndkError: a variance must be a number or a comma list of numbers, got "1,__import__('os')"
    """
    parts = str(text).split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise SymndkError(f'a variance must be a number or a comma list of numbers, got "{str(text)[:80]}"') from None
    return values[0] if len(values) == 1 else values
