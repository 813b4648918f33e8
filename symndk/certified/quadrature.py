"""High-precision quadrature and interpolation nodes for the reference solver.

All rules are computed in mpmath by Newton refinement of float64 starting values at the
caller's working precision (:func:`symndk.certified.numbers.working_digits`), returned as
gmpy2 mpfr numbers, and cached per (rule, n, precision).

* :func:`gauss_legendre` -- n-point Gauss-Legendre rule on [0, 1] (exact to degree 2n - 1).
* :func:`radau_iia` -- the m Radau IIA collocation abscissae on (0, 1] (c_m = 1).
* :func:`bary_weights`, :func:`lagrange_row` -- barycentric Lagrange interpolation.

Example:
    >>> import gmpy2
    >>> from symndk.certified.numbers import working_digits
    >>> with working_digits(40):
    ...     x, w = gauss_legendre(5)
    ...     err = abs(gmpy2.fsum(wi * xi ** 9 for xi, wi in zip(x, w)) - gmpy2.mpfr(1) / 10)
    >>> err < 1e-38
    True
    >>> with working_digits(30):
    ...     c = radau_iia(3)
    >>> [f"{float(ci):.10f}" for ci in c]
    ['0.1550510257', '0.6449489743', '1.0000000000']
"""
from __future__ import annotations

from functools import lru_cache

import gmpy2
import mpmath
import numpy as np
from numpy.polynomial import legendre as npleg

from symndk.certified.numbers import mpfr


def _legendre_pair(n: int, x):
    """(P_n(x), P_n'(x)) by the three-term recurrence (|x| < 1)."""
    p0, p1 = mpmath.mpf(1), x
    for k in range(2, n + 1):
        p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
    if n == 0:
        return p0, mpmath.mpf(0)
    return p1, n * (x * p1 - p0) / (x * x - 1)


def _newton(f_df, x0, tol):
    x = x0
    for _ in range(100):
        f, df = f_df(x)
        dx = f / df
        x -= dx
        if abs(dx) < tol:
            f, df = f_df(x)
            return x - f / df
    raise RuntimeError("Newton iteration for quadrature nodes did not converge")  # pragma: no cover


@lru_cache(maxsize=None)
def _gauss_legendre(n: int, prec: int):
    with mpmath.workprec(prec + 20):
        tol = mpmath.mpf(2) ** (-prec - 10)
        xs, ws = [], []
        for i in range(1, n + 1):
            x0 = mpmath.mpf(np.cos(np.pi * (i - 0.25) / (n + 0.5)))
            x = _newton(lambda y: _legendre_pair(n, y), x0, tol)
            dp = _legendre_pair(n, x)[1]
            xs.append((1 - x) / 2)
            ws.append(1 / ((1 - x * x) * dp * dp))  # 2/((1-x^2)P'^2), halved for [0, 1]
        return _to_mpfr(xs, prec), _to_mpfr(ws, prec)


def _to_mpfr(values, prec):
    with mpmath.workprec(prec), gmpy2.context(gmpy2.get_context(), precision=prec):
        return tuple(mpfr(+v) for v in values)


def gauss_legendre(n: int):
    """Nodes (increasing) and weights (mpfr) of the n-point Gauss-Legendre rule on [0, 1]."""
    return _gauss_legendre(int(n), gmpy2.get_context().precision)


@lru_cache(maxsize=None)
def _radau(m: int, prec: int):
    if m == 1:
        return (gmpy2.mpfr(1),)
    coef = np.zeros(m + 1)
    coef[m], coef[m - 1] = 1.0, -1.0  # P_m - P_{m-1}: zeros = Radau IIA points in [-1, 1], incl. x = 1
    starts = sorted(float(r.real) for r in npleg.legroots(coef))[:-1]

    def f_df(x):
        pm, dpm = _legendre_pair(m, x)
        pk, dpk = _legendre_pair(m - 1, x)
        return pm - pk, dpm - dpk

    with mpmath.workprec(prec + 20):
        tol = mpmath.mpf(2) ** (-prec - 10)
        xs = [_newton(f_df, mpmath.mpf(x0), tol) for x0 in starts]
        return _to_mpfr([(1 + x) / 2 for x in xs] + [mpmath.mpf(1)], prec)


def radau_iia(m: int):
    """The m Radau IIA abscissae c_1 < ... < c_m = 1 (mpfr) on (0, 1]."""
    return _radau(int(m), gmpy2.get_context().precision)


def bary_weights(nodes):
    """Barycentric weights 1 / prod_{k != j} (x_j - x_k) (rescaled; only ratios matter)."""
    n = len(nodes)
    w = []
    for j in range(n):
        p = gmpy2.mpfr(1)
        for k in range(n):
            if k != j:
                p *= nodes[j] - nodes[k]
        w.append(1 / p)
    scale = max(abs(v) for v in w)
    return [v / scale for v in w]


def lagrange_row(nodes, weights, x):
    """Values at ``x`` of all Lagrange basis polynomials on ``nodes`` (barycentric form)."""
    terms = []
    for j, (xj, wj) in enumerate(zip(nodes, weights)):
        d = x - xj
        if d == 0:
            return [gmpy2.mpfr(int(k == j)) for k in range(len(nodes))]
        terms.append(wj / d)
    inv = 1 / sum(terms)
    return [v * inv for v in terms]
