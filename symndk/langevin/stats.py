"""Helpers of the Langevin simulator: input checks, the time grid, streaming ensemble moments.

Example:
    >>> import numpy as np
    >>> m = Moments()
    >>> m.add(np.array([[1.0], [2.0]])); m.add(np.array([[3.0], [4.0]]))
    >>> mean, se = m.result()
    >>> float(mean[0]), round(float(se[0]), 6)  # se = std(ddof=1) / sqrt(n)
    (2.5, 0.645497)
    >>> time_steps([0.0, 0.3], 0.1, "times")[1].tolist()
    [0, 3]
"""
from __future__ import annotations

import numpy as np

from symndk import validation
from symndk.errors import SymndkError


class Moments:
    """Mean and standard error over samples added in batches (Chan et al. pairwise update)."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, None, None

    def add(self, x):
        """Add samples ``x`` of shape (k, ...) (axis 0 runs over independent samples)."""
        k = x.shape[0]
        mean_b = x.mean(axis=0)
        m2_b = ((x - mean_b) ** 2).sum(axis=0)
        if self.n == 0:
            self.n, self.mean, self.m2 = k, mean_b, m2_b
            return
        n = self.n + k
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (k / n)
        self.m2 = self.m2 + m2_b + delta**2 * (self.n * k / n)
        self.n = n

    def result(self):
        """``(mean, standard error)``; the standard error is NaN with fewer than two samples."""
        if self.n < 2:
            return self.mean, np.full_like(self.mean, np.nan)
        return self.mean, np.sqrt(self.m2 / (self.n - 1) / self.n)


class Variance:
    """Variance of one network's output across the ensemble, streamed over batches, with its standard error.

    Each independent unit (a network, or an antithetic pair) contributes u1 = its mean of f and
    u2 = its mean of f^2 (a pair's two networks each have the marginal law of one network, but they
    are dependent, so the pair is the unit). With m1, m2 the means over units,
    Var f = m2 - m1^2 + se(m1)^2 (the last term removes the O(1/n) bias of m1^2), and by the delta
    method se^2 = (c22 - 4 m1 c12 + 4 m1^2 c11) / (n (n - 1)) with c the centred (co)moment sums
    (Chan et al. pairwise update).

    Example (four networks, no pairing):
        >>> import numpy as np
        >>> v = Variance()
        >>> x = np.array([[1.0], [2.0], [4.0], [7.0]])
        >>> v.add(x[:2], x[:2] ** 2); v.add(x[2:], x[2:] ** 2)
        >>> var, se = v.result()
        >>> bool(np.isclose(var[0], np.var(x, ddof=1)))
        True
    """

    def __init__(self):
        self.n, self.m1, self.m2, self.c11, self.c22, self.c12 = 0, None, None, None, None, None

    def add(self, u1, u2):
        """Add units: u1 (k, ...) the unit means of f, u2 (k, ...) the unit means of f^2."""
        k = u1.shape[0]
        a1, a2 = u1.mean(axis=0), u2.mean(axis=0)
        d1, d2 = u1 - a1, u2 - a2
        b11, b22, b12 = (d1 * d1).sum(axis=0), (d2 * d2).sum(axis=0), (d1 * d2).sum(axis=0)
        if self.n == 0:
            self.n, self.m1, self.m2, self.c11, self.c22, self.c12 = k, a1, a2, b11, b22, b12
            return
        n = self.n + k
        e1, e2, f = a1 - self.m1, a2 - self.m2, self.n * k / n
        self.c11 = self.c11 + b11 + e1 * e1 * f
        self.c22 = self.c22 + b22 + e2 * e2 * f
        self.c12 = self.c12 + b12 + e1 * e2 * f
        self.m1, self.m2, self.n = self.m1 + e1 * (k / n), self.m2 + e2 * (k / n), n

    def result(self):
        """``(variance, standard error)``; NaN with fewer than two units."""
        if self.n < 2:
            nan = np.full_like(self.m1, np.nan)
            return nan, nan
        norm = self.n * (self.n - 1)
        var = self.m2 - self.m1 ** 2 + self.c11 / norm
        se2 = (self.c22 - 4 * self.m1 * self.c12 + 4 * self.m1 ** 2 * self.c11) / norm
        return var, np.sqrt(np.maximum(se2, 0.0))


def time_steps(times, dt, name, ordered=True):
    """Times as float array and as step indices; each must be a non-negative multiple of dt
    (and, if ``ordered``, sorted and at most :data:`symndk.validation.MAX_TIME`)."""
    try:
        t = np.atleast_1d(np.asarray(times, dtype=float))
    except (TypeError, ValueError):
        raise SymndkError(f"{name} must be numbers, got {times!r}") from None
    if times is None or t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise SymndkError(f"{name} must be a non-empty list of finite times >= 0, got {times!r}")
    if ordered:
        t = validation.times(t, name)
    steps = np.rint(t / dt)
    if np.any(np.abs(steps * dt - t) > 1e-6 * np.maximum(dt, np.abs(t))):
        bad = t[np.argmax(np.abs(steps * dt - t))]
        raise SymndkError(f"{name}: {bad:g} is not a multiple of dt = {dt:g}")
    return steps * dt, steps.astype(np.int64)


def check_inputs(X_train, y_train, X_test):
    """Float arrays (P, N0), (P,) or (P, K), (Q, N0) with finite entries; X_test None means Q = 0."""
    try:
        Xtr = np.asarray(X_train, dtype=float)
        ytr = np.asarray(y_train, dtype=float)
        n0 = Xtr.shape[-1] if Xtr.ndim == 2 else 0
        Xte = np.empty((0, n0)) if X_test is None else np.asarray(X_test, dtype=float)
    except (TypeError, ValueError):
        raise SymndkError("X_train, y_train and X_test must be numeric arrays") from None
    if Xtr.ndim != 2 or Xtr.shape[0] == 0 or Xtr.shape[1] == 0:
        raise SymndkError(f"X_train must be a non-empty (P, N0) array, got shape {Xtr.shape}")
    if ytr.shape[:1] != (Xtr.shape[0],) or ytr.ndim > 2 or 0 in ytr.shape:
        raise SymndkError(f"y_train must have shape ({Xtr.shape[0]},) or ({Xtr.shape[0]}, K), got {ytr.shape}")
    if Xte.ndim != 2 or Xte.shape[1] != Xtr.shape[1]:
        raise SymndkError(f"X_test must have shape (Q, {Xtr.shape[1]}), got {Xte.shape}")
    if not all(np.all(np.isfinite(a)) for a in (Xtr, ytr, Xte)):
        raise SymndkError("inputs and targets must be finite (no NaN or inf)")
    return Xtr, ytr, Xte
