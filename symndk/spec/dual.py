"""Dual kernels F_phi(q1, q2, c) = E[phi(u) phi(v)], derived by the code (not a table).

Derivation (generalised Price theorem): for (u, v) centred Gaussian with variances q1, q2
and covariance c,

    d^k F_phi / dc^k = E[phi^(k)(u) phi^(k)(v)].

The engine takes the smallest k for which phi^(k) is a Gaussian-class function without
Heaviside factors (:mod:`symndk.spec.gaussian`: poly * exp(quadratic) * {1, delta}), evaluates
that expectation exactly, and integrates k times in c from 0 (:mod:`symndk.spec.cint`)
with the boundary values d^jF/dc^j (c = 0) = E[phi^(j)(u)] E[phi^(j)(v)].  One-dimensional
means come from the same engine (Heaviside allowed) or, when phi is not in the class, from
the heat equation d/dq E[phi(u)] = E[phi''(u)]/2 integrated from q = 0.  ``Fdot`` is the dual
kernel of phi' derived the same way, so Price's theorem dF/dc = Fdot is an independent check.

Example:
    >>> from symndk.spec.activations import get_activation
    >>> d = dual_kernels(get_activation("relu"))
    >>> d.Fdot
    atan2(c, sqrt(-c**2 + q1*q2))/(2*pi) + 1/4
    >>> d.mean
    sqrt(2)*sqrt(q)/(2*sqrt(pi))
    >>> dual_kernels(get_activation("erf")).F
    2*atan2(2*c, sqrt(-4*c**2 + 4*q1*q2 + 2*q1 + 2*q2 + 1))/pi
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from math import factorial

import sympy as sp

from symndk.spec import kinks
from symndk.spec.activations import X, Activation
from symndk.spec.cint import integrate_from_zero, integrate_q_from_zero, to_closed_form
from symndk.spec.gaussian import NotInClass, expect_1d, expect_2d
from symndk.spec.timebox import timeboxed

Q1 = sp.Symbol("q1", positive=True)
Q2 = sp.Symbol("q2", positive=True)
C = sp.Symbol("c", real=True)
Q = sp.Symbol("q", positive=True)

#: largest derivative order tried (Price) and heat-equation order tried (means)
KMAX = 6


@dataclass(frozen=True)
class DualKernels:
    """Closed-form dual kernels of one activation (F/Fdot None when none was derived)."""

    F: sp.Expr | None
    Fdot: sp.Expr | None
    mean: sp.Expr | None
    Fbar: sp.Expr | None
    V: sp.Expr | None
    Vdot: sp.Expr | None
    method: str


def _tidy(expr):
    """Targeted rewrites (no blanket simplify): real form of complex exponentials, expanded
    bases of fractional powers, merged exponentials."""
    if expr.has(sp.I):
        expr = sp.expand(sp.expand_complex(expr))
    expr = expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer,
                        lambda e: sp.Pow(sp.expand(e.base), e.exp))
    return sp.powsimp(expr, combine="exp")


def gaussian_mean(g: sp.Expr, q: sp.Expr = Q) -> sp.Expr:
    """E[g(u)], u ~ N(0, q): directly, or by the heat equation in q from q = 0.

    >>> gaussian_mean(sp.Heaviside(X))
    1/2
    """
    qq = sp.Dummy("qq", positive=True)
    for m in range(KMAX + 1):
        try:
            E = expect_1d(sp.diff(g, X, 2 * m), qq)
        except NotInClass:
            continue
        for _ in range(m):
            E = integrate_q_from_zero(E / 2, qq)
        base = sum(sp.diff(g, X, 2 * j).subs(X, 0) * (qq / 2) ** j / factorial(j) for j in range(m))
        return sp.expand(_tidy(base + E)).subs(qq, q)
    raise NotInClass(f"no Gaussian-class even derivative of {g}")


def _price(g: sp.Expr) -> tuple[sp.Expr, str]:
    """F_g(Q1, Q2, C) by the generalised Price theorem (see module docstring)."""
    for k in range(KMAX + 1):
        try:
            pieces = expect_2d(sp.diff(g, X, k), Q1, Q2, C)
        except NotInClass:
            continue
        total = sp.Integer(0)
        for j in range(k):
            mj = gaussian_mean(sp.diff(g, X, j))
            total += mj.subs(Q, Q1) * mj.subs(Q, Q2) * C**j / factorial(j)
        A, B, W, Dd = sp.symbols("A B W D", positive=True, cls=sp.Dummy)
        for p in pieces:
            if k == 0:
                total += p.value(C)
                continue
            if p.D is not None and p.b.is_number and p.b < 0:
                raise NotInClass(f"determinant {p.a} + {-p.b} c^2 grows with c")
            e = p.expr if p.D is None else p.expr.subs(p.D, Dd)
            for _ in range(k):
                e = integrate_from_zero(e, C, Dd, W, A, B)
            total += to_closed_form(e, C, Dd, W, A, B, p.a, p.b)
        method = "direct Gaussian integral" if k == 0 else f"Price k={k}: E[phi^({k}) phi^({k})], {k}x integrated in c"
        return _tidy(total), method
    raise NotInClass(f"no Gaussian-class derivative of order <= {KMAX}")


def derive_dual(expr, timeout: float | None = None) -> DualKernels:
    """Derive all dual kernels of phi = ``expr`` (in ``X``); None where no closed form exists.

    With ``timeout`` (seconds) the derivation runs in a child process and gives up (all None)
    when it takes longer, so a hard user expression never hangs the caller.

    >>> derive_dual(sp.exp(X)).F
    exp(c + q1/2 + q2/2)
    >>> derive_dual(sp.tanh(X), timeout=30).F is None
    True
    """
    expr = sp.sympify(expr, strict=True)
    if timeout is not None:
        return _timeboxed(expr, timeout)
    first = _derive_price(expr)
    if first.F is not None and first.Fdot is not None:
        return first
    try:
        canonical = kinks.canonical(expr)     # Max(x, 0)**2 -> x**2 Heaviside(x), Piecewise -> Heaviside sums
    except NotInClass as exc:
        return replace(first, method=f"{first.method}; {exc}")
    if canonical != expr:
        again = _derive_price(canonical)
        if again.F is not None and again.Fdot is not None:
            return again
    try:
        return _derive_kinks(canonical)
    except NotInClass as exc:
        if expr.has(sp.Piecewise):
            return replace(first, method=f"{first.method}; Piecewise: {exc}")
    return first


def _derive_price(expr) -> DualKernels:
    """All dual kernels by the Price engine (None where it finds no closed form)."""
    out, notes = {}, []
    for key, g in (("F", expr), ("Fdot", sp.diff(expr, X))):
        try:
            out[key], how = _price(g)
            notes.append(f"{key}: {how}")
        except NotInClass as exc:
            out[key] = None
            notes.append(f"{key}: none ({exc})")
    try:
        mean = gaussian_mean(expr)
        Fbar = sp.expand(mean.subs(Q, Q1) * mean.subs(Q, Q2))
    except NotInClass:
        mean = Fbar = None
    diag = {Q1: Q, Q2: Q, C: Q}
    V = None if out["F"] is None else _tidy(out["F"].subs(diag))
    Vdot = None if out["Fdot"] is None else _tidy(out["Fdot"].subs(diag))
    return DualKernels(out["F"], out["Fdot"], mean, Fbar, V, Vdot, "; ".join(notes))


def _derive_kinks(expr) -> DualKernels:
    """All dual kernels by the kink engine (:mod:`symndk.spec.kinks`: bivariate normal CDF)."""
    dphi = sp.diff(expr, X)
    F = kinks.kink_dual(expr, Q1, Q2, C)
    Fdot = kinks.kink_dual(dphi, Q1, Q2, C)
    mean = sp.expand(kinks.expect_1d_kinked(expr, Q))
    V = kinks.expect_1d_square(expr, Q)
    Vdot = kinks.expect_1d_square(dphi, Q)
    Fbar = sp.expand(mean.subs(Q, Q1) * mean.subs(Q, Q2))
    method = "kinks: exponential tilt + Stein recursion to the bivariate normal CDF (F, Fdot, mean, V)"
    return DualKernels(F, Fdot, mean, Fbar, V, Vdot, method)


def _timeboxed(expr, timeout: float) -> DualKernels:
    """:func:`derive_dual` in a child process killed after ``timeout`` s (:func:`symndk.spec.timebox.timeboxed`);
    a failure or the time limit: no closed form, said in ``method``."""
    status, value = timeboxed(derive_dual, (expr,), timeout)
    if status == "ok":
        return value
    why = f"derivation failed: {value}" if status == "error" else f"no closed form within {timeout:g} s"
    return DualKernels(None, None, None, None, None, None, why)


@lru_cache(maxsize=None)
def dual_kernels(act: Activation) -> DualKernels:
    """Cached :func:`derive_dual` of a registered :class:`Activation`."""
    return derive_dual(act.expr)
