"""Rewrite dual-kernel expressions into forms that stay accurate as |rho| -> 1.

The Gram determinant ``D = q1 q2 - c^2`` becomes a primary variable:

* ``acos(n/d)`` -> ``atan2(sqrt(d^2 - n^2), n)`` and ``asin(n/d)`` -> ``atan2(n, sqrt(d^2 - n^2))``
  for a provably positive ``d`` (no arccos of a clipped ratio);
* in every square root, ``q1 q2`` is replaced by ``D + c^2`` whenever that cancels terms
  (``sqrt(q1 q2 - c^2) -> sqrt(D)``, ``(1+2q1)(1+2q2) - 4c^2 -> 1 + 2q1 + 2q2 + 4D``).

For positively homogeneous kernels, F(q1, q2, c) = (q1 q2)^(n/2) J(theta) with theta =
atan2(sqrt(D), c); :func:`homogeneous_profile` returns J so that the Gram determinant of the
next layer, V(q1) V(q2) - F^2 = (q1 q2)^n (J(0) - J(theta)) (J(0) + J(theta)), can be
evaluated without cancellation (series near theta = 0 and theta = pi).

Example:
    >>> import sympy as sp
    >>> q1, q2 = sp.symbols("q1 q2", positive=True); c = sp.Symbol("c", real=True)
    >>> th = sp.acos(c / sp.sqrt(q1 * q2))
    >>> stabilise((sp.pi - th) / (2 * sp.pi), q1, q2, c)
    (pi - atan2(sqrt(D), c))/(2*pi)
    >>> stabilise(1 / sp.sqrt((1 + 2*q1) * (1 + 2*q2) - 4*c**2), q1, q2, c)
    1/sqrt(4*D + 2*q1 + 2*q2 + 1)
"""
from __future__ import annotations

import sympy as sp

#: the Gram determinant q1 q2 - c^2 (>= 0), carried as a primary variable
D = sp.Symbol("D", nonnegative=True)
#: the angle between the two Gaussian directions, theta = atan2(sqrt(D), c) in [0, pi]
THETA = sp.Symbol("theta", nonnegative=True)


def _gram_reduce(expr: sp.Expr, q1, q2, c) -> sp.Expr:
    """Replace q1 q2 by D + c^2 in ``expr`` when that shortens it (cancellation removed)."""
    num, den = sp.fraction(sp.together(expr))
    reduced = sp.expand(sp.expand(num).subs(q1 * q2, D + c**2))
    if sp.count_ops(reduced) < sp.count_ops(sp.expand(num)) or (c in num.free_symbols and c not in reduced.free_symbols):
        return reduced / den
    return expr


def _angle(fn, arg, q1, q2, c):
    num, den = sp.fraction(sp.together(arg))
    if not den.is_positive:
        return None
    rest = sp.sqrt(_gram_reduce(sp.expand(den**2 - num**2), q1, q2, c))
    return sp.atan2(rest, num) if fn is sp.acos else sp.atan2(num, rest)


def stabilise(expr: sp.Expr, q1: sp.Symbol, q2: sp.Symbol, c: sp.Symbol) -> sp.Expr:
    """Rewrite ``expr`` (in q1, q2, c) into atan2 / D forms (see module docstring)."""
    if expr is None:
        return None

    def angle(e):
        out = _angle(type(e), e.args[0], q1, q2, c)
        return e if out is None else out

    expr = expr.replace(lambda e: isinstance(e, (sp.acos, sp.asin)) and c in e.free_symbols, angle)

    def root(e):
        return sp.Pow(_gram_reduce(e.base, q1, q2, c), e.exp)

    return expr.replace(
        lambda e: isinstance(e, sp.Pow) and e.exp.is_Rational and e.exp.q == 2 and c in e.base.free_symbols, root
    )


def homogeneous_profile(expr: sp.Expr, degree, q1, q2, c) -> sp.Expr:
    """J(theta) with ``expr`` (stabilised) = (q1 q2)^(degree/2) J(theta) at q1 = q2 = 1.

    >>> q1, q2 = sp.symbols("q1 q2", positive=True); c = sp.Symbol("c", real=True)
    >>> homogeneous_profile(sp.sqrt(D) + (sp.pi - sp.atan2(sp.sqrt(D), c)) * c, 1, q1, q2, c)
    (pi - theta)*cos(theta) + sin(theta)
    """
    at_unit = expr.subs({q1: 1, q2: 1}).subs({sp.atan2(sp.sqrt(D), c): THETA, sp.atan2(c, sp.sqrt(D)): sp.pi / 2 - THETA})
    return at_unit.subs(sp.sqrt(D), sp.sin(THETA)).subs({D: sp.sin(THETA) ** 2, c: sp.cos(THETA)})


def gram_factors(profile: sp.Expr, order: int = 34):
    """Factors A = J(0) - J(theta), B = J(0) + J(theta) and, for each, a truncated series
    about the angle where it vanishes (theta = 0 for A, pi for B), or None."""
    j0 = profile.subs(THETA, 0)
    out = []
    for factor, at in ((j0 - profile, 0), (j0 + profile, sp.pi)):
        series = None
        if sp.simplify(factor.subs(THETA, at)) == 0:
            series = sp.series(factor, THETA, at, order).removeO()
        out.append((factor, series, at))
    return j0, out
