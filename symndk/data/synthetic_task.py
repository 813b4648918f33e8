"""The synthetic task of docs/theory.md §10.

Example:
    >>> ds = synthetic(3, 0.5)
    >>> ds.X_train.shape, ds.y_train.tolist(), ds.N0
    ((3, 4), [1.0, -1.0, 1.0], 4)
    >>> float(ds.X_test[0] @ ds.X_train[0]) / ds.N0
    0.5
"""
from __future__ import annotations

import math

import numpy as np

from symndk.data.core import Dataset
from symndk.errors import SymndkError


def synthetic(P: int, r: float) -> Dataset:
    """The synthetic task of docs/theory.md §10.

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
    return Dataset(X, y, x_test, np.array([1.0]), f"synthetic(P={P}, r={r:g})",
                   {"source": "synthetic", "P": P, "r": r, "N0": n0})
