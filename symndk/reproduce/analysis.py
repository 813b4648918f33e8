"""Measurements on predictor trajectories: phase times, overshoot, early stopping, accuracy.

Pure NumPy on sampled curves ``(times, values)``; times increase and may be log-spaced.
Crossing times are located by linear interpolation in log-time between samples.

Example (an exponential relaxation 1 - e^{-t} is half-way at t = ln 2):
    >>> import numpy as np
    >>> t = np.geomspace(1e-3, 1e2, 2000)
    >>> round(float(settle_time(t, 1 - np.exp(-t), 0.0, 1.0)), 3)
    0.693
"""
from __future__ import annotations

import numpy as np


def settle_time(times, values, start, end, fraction=0.5):
    """Last time the curve is still less than ``fraction`` of the way from ``start`` to ``end``.

    The progress ``p(t) = (values - start) / (end - start)`` is 0 at ``start`` and 1 at ``end``.
    Returns the time of the last upward crossing of ``p = fraction`` (robust to overshoot and
    wiggles: after it the curve stays past the threshold), interpolated in log-time; NaN if the
    curve never gets there, and ``times[0]`` if it is already past it at the first sample.

    Example:
        >>> import numpy as np
        >>> t = np.geomspace(0.01, 100, 4001)
        >>> v = 2 - 2 * np.exp(-t / 10)
        >>> round(float(settle_time(t, v, 0.0, 2.0, 0.5)), 2)  # 10 ln 2
        6.93
    """
    t = np.asarray(times, float)
    p = (np.asarray(values, float) - start) / (end - start)
    below = p < fraction
    if not below.any():
        return float(t[0])
    last = int(np.flatnonzero(below)[-1])
    if last == t.size - 1:
        return float("nan")
    p0, p1 = p[last], p[last + 1]
    w = (fraction - p0) / (p1 - p0)
    lt = np.log(t[last]) + w * (np.log(t[last + 1]) - np.log(t[last]))
    return float(np.exp(lt))


def overshoot(values, start, end):
    """Largest excursion past ``end`` (away from ``start``), relative to ``|end - start|``.

    Zero for a monotone approach; e.g. 0.2 means the curve went 20 % of the gap beyond its final
    value before turning back.

    Example:
        >>> overshoot([0.0, 0.5, 1.2, 1.0], 0.0, 1.0)
        0.2
        >>> overshoot([0.0, 0.5, 0.9, 1.0], 0.0, 1.0)
        0.0
    """
    v = np.asarray(values, float)
    gap = end - start
    if gap == 0:
        return 0.0
    past = (v - end) / gap
    return round(float(max(past.max(), 0.0)), 12)


def is_monotone(values, rtol=1e-3):
    """Whether a curve is monotone up to reversals smaller than ``rtol`` of its range.

    Example:
        >>> is_monotone([0, 1, 2, 3]), is_monotone([0, 2, 1, 3]), is_monotone([0, 1, 0.9999, 2])
        (True, False, True)
    """
    v = np.asarray(values, float)
    if v.size < 2:
        return True
    tol = rtol * (float(np.ptp(v)) or 1.0)
    drop = (np.maximum.accumulate(v) - v).max()  # largest fall below the running maximum
    rise = (v - np.minimum.accumulate(v)).max()  # largest rise above the running minimum
    return bool(drop <= tol or rise <= tol)


def optimal_stopping(times, errors):
    """Index and time of the minimum of an error curve (the optimal stopping point).

    Example:
        >>> optimal_stopping([1, 2, 3, 4], [0.5, 0.2, 0.3, 0.4])
        (1, 2.0)
    """
    i = int(np.argmin(np.asarray(errors, float)))
    return i, float(np.asarray(times, float)[i])


def threshold_accuracy(values, labels):
    """Training accuracy of the best 1-D linear classifier ``sign(w * value + b)``.

    This is the classifier on the predictor of the training points (paper SI sec. D): every
    threshold and both orientations are tried. Labels are +1 / -1. Returns 0.5 for a predictor
    that carries no information (all values equal).

    Example:
        >>> threshold_accuracy([0.1, 0.2, 0.9, 1.0], [-1, -1, 1, 1])
        1.0
        >>> threshold_accuracy([0.0, 0.0, 0.0, 0.0], [-1, 1, -1, 1])
        0.5
    """
    v = np.asarray(values, float)
    y = np.asarray(labels, float)
    if np.ptp(v) <= 1e-12 * max(1.0, float(np.abs(v).max())):
        return 0.5
    order = np.argsort(v, kind="stable")
    ys = y[order]
    vs = v[order]
    # predict +1 above the cut: correct = (#-1 below) + (#+1 above); cuts only between distinct values
    neg_below = np.concatenate([[0], np.cumsum(ys < 0)])
    pos_above = np.concatenate([[0], np.cumsum((ys > 0)[::-1])])[::-1]
    valid = np.concatenate([[True], vs[1:] > vs[:-1], [True]])
    correct = (neg_below + pos_above)[valid]
    n = v.size
    best = max(correct.max(), n - correct.min())
    return float(best / n)


def fit_loglog_slope(x, y):
    """Least-squares slope of log|y| against log x.

    Example:
        >>> round(fit_loglog_slope([1, 10, 100], [2, 20, 200]), 12)
        1.0
    """
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.abs(np.asarray(y, float))), 1)[0])


def class_separation(values, labels):
    """Mean of ``values`` over label +1 minus the mean over label -1 (per row for 2-D ``values``).

    Example:
        >>> class_separation([3.0, 1.0, 0.0, 2.0], [1, 1, -1, -1])
        1.0
    """
    v = np.asarray(values, float)
    y = np.asarray(labels, float)
    sep = np.mean(v[..., y > 0], axis=-1) - np.mean(v[..., y < 0], axis=-1)
    return float(sep) if v.ndim == 1 else sep


def bisect_log(fun, lo, hi, rtol=1e-9, max_iter=200):
    """Root of ``fun`` in ``[lo, hi]`` (0 < lo < hi, a sign change between them) by bisection in log x.

    Returns ``(root, evaluations)``: the geometric midpoint of the final bracket, whose width
    is below ``rtol`` relative (or where ``fun`` is exactly 0). Raises ``ValueError`` if
    ``fun(lo)`` and ``fun(hi)`` have the same sign.

    Example:
        >>> root, n = bisect_log(lambda x: np.log(x / 2.5), 0.1, 100.0)
        >>> round(root, 8), n < 60
        (2.5, True)
    """
    lo, hi = float(lo), float(hi)
    f_lo, f_hi = fun(lo), fun(hi)
    n = 2
    if f_lo == 0:
        return lo, n
    if f_hi == 0:
        return hi, n
    if np.sign(f_lo) == np.sign(f_hi):
        raise ValueError(f"no sign change in [{lo:g}, {hi:g}]: f = {f_lo:g}, {f_hi:g}")
    while hi / lo - 1 > rtol and n < max_iter:
        mid = float(np.sqrt(lo * hi))
        f_mid = fun(mid)
        n += 1
        if f_mid == 0:
            return mid, n
        if np.sign(f_mid) == np.sign(f_lo):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi)), n
