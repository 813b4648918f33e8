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

import math
from dataclasses import dataclass
from functools import lru_cache

import mpmath
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


def _half_power(p) -> bool:
    return isinstance(p, sp.Pow) and p.exp.is_Rational and p.exp.q == 2


def collect_transcendental(expr: sp.Expr, max_ops: int = 2000) -> sp.Expr:
    """``expr`` as sum_j A_j R_j: each transcendental atom A_j (atan2, exp, erf, ..., and pi) times one
    cancelled algebraic coefficient R_j, every square root of a polynomial held as a symbol w with
    w^2 reduced to its radicand (and a radicand that is a perfect square taken out of its root).

    The derivations return the coefficients as long sums whose terms cancel at large variance
    (GELU's Fdot lost 2e-5 relative at q = 1e8, and ``sqrt(4q^2+4q+1)`` stood for ``2q+1``); the
    collected form has no such sums. Exact: only polynomial arithmetic. Skipped (``expr`` returned)
    above ``max_ops`` operations, where the factoring gets slow.

    >>> q = sp.Symbol("q", positive=True)
    >>> collect_transcendental(sp.atan(q) / 2 + q * sp.atan(q) / (2 + 2 * q) + 1 / sp.sqrt(4*q**2 + 4*q + 1))
    1/(2*q + 1) + (2*q + 1)*atan(q)/(2*(q + 1))
    """
    if expr is None or sp.count_ops(expr) > max_ops:
        return expr
    expr = expr.replace(_half_power, lambda p: sp.Pow(sp.factor(p.base), p.exp))   # sqrt((q+1)^2) -> q + 1
    funcs = sorted(expr.atoms(sp.Function), key=sp.default_sort_key) + ([sp.pi] if expr.has(sp.pi) else [])
    atoms = sp.symbols(f"_A0:{len(funcs)}")
    e = expr.xreplace(dict(zip(funcs, atoms)))
    roots = sorted({p.base for p in e.atoms(sp.Pow) if _half_power(p)}, key=sp.default_sort_key)
    ws = sp.symbols(f"_w0:{len(roots)}", positive=True)
    e = e.replace(_half_power, lambda p: ws[roots.index(p.base)] ** p.exp.p)
    num, den = sp.fraction(sp.together(e))

    def reduce(poly):
        poly = sp.expand(poly)
        for w, base in zip(ws, roots):
            if poly.has(w):
                poly = sp.expand(sp.rem(poly, w**2 - base, w))
        return poly

    num, den = reduce(num), reduce(den)
    out = sp.Add(*(key * sp.factor(sp.cancel(val / den)) for key, val in sp.collect(num, atoms, evaluate=False).items()))
    out = out.xreplace({w: sp.sqrt(sp.factor(base)) for w, base in zip(ws, roots)})
    return out.xreplace(dict(zip(atoms, funcs)))


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


# ----------------------------------------------------------------------------- small scale
#
# A closed form can cancel as its arguments go to 0 together: GELU's V(q) is a sum of O(1) terms
# whose total is q/4, and sin's F = (exp(c - s) - exp(-c - s))/2 is O(c).  Evaluated directly in
# float64 such a form loses about a + k log10(1/lambda) digits at scale lambda = max |argument|.
# :func:`small_scale` finds these forms for any expression: it evaluates the expression at a few
# points scaled by lambda at a fixed working precision (emulating a fixed-precision machine) and
# at a much higher one, fits (k, a), and, where digits are lost, returns the Taylor polynomial of
# the expression in lambda (a series branch for small arguments) and the scale below which float64
# should use it.

#: truncation order (in the common scale lambda of the arguments) of the small-scale series
SMALL_ORDER = 12
#: a form counts as cancelling when more than this many digits are lost at lambda = 1e-16
SMALL_LOST_DIGITS = 3.0
_LO_BITS, _HI_BITS = 200, 640


class _NotEvaluable(Exception):
    pass


_MPMATH_FUNCS = {
    sp.exp: "exp", sp.log: "log", sp.erf: "erf", sp.erfc: "erfc", sp.atan: "atan", sp.asin: "asin", sp.acos: "acos",
    sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh", sp.Abs: "fabs",
    sp.atan2: "atan2", sp.sign: "sign",
}


def fixed_precision_value(expr: sp.Expr, point: dict, bits: int):
    """Value of ``expr`` with every operation rounded to ``bits`` bits (mpmath), the way a
    fixed-precision machine evaluates the printed tree; ``point`` maps symbols to numbers.

    >>> q = sp.Symbol("q", positive=True)
    >>> e = sp.Rational(1, 2) - sp.exp(-2 * q) / 2
    >>> float(fixed_precision_value(e, {q: 1e-20}, 53)), float(fixed_precision_value(e, {q: 1e-20}, 200))
    (0.0, 1e-20)
    """
    with mpmath.workprec(bits):
        values = {s: mpmath.mpf(v) for s, v in point.items()}

        def ev(e):
            if e.is_Symbol:
                return values[e]
            if e.is_Rational:
                return mpmath.mpf(e.p) / e.q
            if e.is_Float:
                return mpmath.mpf(sp.Rational(e).p) / sp.Rational(e).q
            if e is sp.pi:
                return +mpmath.pi
            if e is sp.E:
                return +mpmath.e
            if isinstance(e, sp.Add):
                out = ev(e.args[0])
                for a in e.args[1:]:
                    out += ev(a)
                return out
            if isinstance(e, sp.Mul):
                out = ev(e.args[0])
                for a in e.args[1:]:
                    out *= ev(a)
                return out
            if isinstance(e, sp.Pow):
                base = ev(e.base)
                if e.exp.is_Integer:
                    return base ** int(e.exp)
                if e.exp == sp.S.Half:
                    return mpmath.sqrt(base)
                if e.exp == -sp.S.Half:
                    return 1 / mpmath.sqrt(base)
                return mpmath.power(base, ev(e.exp))
            if isinstance(e, (sp.Max, sp.Min)):
                vals = [ev(a) for a in e.args]
                return max(vals) if isinstance(e, sp.Max) else min(vals)
            if isinstance(e, sp.Piecewise):
                for value, cond in e.args:
                    if cond is sp.true or bool(cond.func(ev(cond.lhs), ev(cond.rhs))):
                        return ev(value)
                raise _NotEvaluable(e)
            name = _MPMATH_FUNCS.get(e.func)
            if name is None:
                raise _NotEvaluable(e)
            return getattr(mpmath, name)(*(ev(a) for a in e.args))

        try:
            out = ev(expr)
        except (_NotEvaluable, ZeroDivisionError, ValueError, TypeError, KeyError) as exc:
            raise _NotEvaluable(str(exc)) from None
        if not isinstance(out, mpmath.mpf) or not mpmath.isfinite(out):
            raise _NotEvaluable(f"non-real value {out}")
        return out


@dataclass(frozen=True)
class SmallScale:
    """A closed form that cancels at small arguments and its replacement there.

    ``series``: Taylor polynomial of order ``SMALL_ORDER`` in the common scale of the arguments
    (exact coefficients; D counts as a square); ``scale``: max |argument|; ``below``: float64
    uses the series where scale < below (there its truncation error is below the unit roundoff);
    ``digits``: (k, a), the direct form loses about a + k log10(1/scale) digits.
    """

    series: sp.Expr
    scale: sp.Expr
    below: float
    digits: tuple[float, float]


def _directions(args):
    """Three fixed generic points (q's in [1/2, 2], |rho| < 1; D exact)."""
    pts = []
    for q1, q2, rho in ((sp.Rational(7, 8), sp.Rational(13, 10), sp.Rational(3, 7)),
                        (sp.Rational(3, 2), sp.Rational(5, 9), sp.Rational(-5, 8)),
                        (sp.Rational(11, 20), sp.Rational(17, 10), sp.Rational(1, 9))):
        c = rho * sp.Rational(round(float(sp.sqrt(q1 * q2)), 3))
        pt = {a: {"q1": q1, "q2": q2, "c": c, "q": q1}[a.name] for a in args}
        if len(args) == 3:
            pt[D] = q1 * q2 - c**2
        pts.append(pt)
    return pts


def _scaled(pt, lam):
    return {s: (v * lam**2 if s is D else v * lam) for s, v in pt.items()}


def _lost_digits(expr, pt):
    """Digits lost by a _LO_BITS evaluation against a _HI_BITS one."""
    lo = fixed_precision_value(expr, pt, _LO_BITS)
    hi = fixed_precision_value(expr, pt, _HI_BITS)
    with mpmath.workprec(_HI_BITS):
        if hi == 0:
            raise _NotEvaluable("zero value")
        rel = abs((lo - hi) / hi)
        return max(float(mpmath.log10(rel)) + _LO_BITS * math.log10(2), 0.0) if rel else 0.0


@lru_cache(maxsize=None)
def small_scale(expr: sp.Expr, args: tuple) -> SmallScale | None:
    """The small-scale series branch of ``expr`` (in ``args``, and D if it has it), or None when
    the direct form does not cancel as the arguments go to 0 (or no Taylor series exists).

    >>> q = sp.Symbol("q", positive=True)
    >>> s = small_scale(sp.Rational(1, 2) - sp.exp(-2 * q) / 2, (q,))
    >>> s.series.as_poly(q).all_coeffs()[-3:], s.scale, round(s.digits[0])
    ([-1, 1, 0], q, 1)
    >>> small_scale(sp.exp(-q) + q, (q,)) is None   # no cancellation at q -> 0
    True
    """
    if expr is None or not expr.free_symbols & set(args):
        return None
    args = tuple(args)
    try:
        lost = [[_lost_digits(expr, _scaled(pt, lam)) for lam in (sp.Rational(1, 10**8), sp.Rational(1, 10**16))]
                for pt in _directions(args)]
    except _NotEvaluable:
        return None
    if max(l16 for _, l16 in lost) < SMALL_LOST_DIGITS:
        return None
    k = max(max((l16 - l8) / 8 for l8, l16 in lost), 0.0)
    a = max(max(l8 - 8 * k for l8, _ in lost), 0.0)
    lam = sp.Dummy("lam", positive=True)
    scaled = expr.xreplace({**{s: lam * s for s in args}, **({D: lam**2 * D} if expr.has(D) else {})})
    try:
        series = sp.expand(sp.series(scaled, lam, 0, SMALL_ORDER).removeO())
    except (sp.PoleError, NotImplementedError, ValueError, TypeError):
        return None
    poly = series.as_poly(lam)
    if poly is None or any(lam in co.free_symbols for co in poly.coeffs()):
        return None
    series = sp.expand(series.subs(lam, 1))
    if series.has(sp.O) or not series.free_symbols <= set(args) | {D}:
        return None
    if len(args) == 3:
        series = _gram_reduce(series, *args)
    below = 1.0
    try:
        for j in range(0, 64):
            lam_j = sp.Rational(10) ** sp.Rational(-j, 4)
            lam_j = sp.Rational(float(lam_j))
            errs = []
            for pt in _directions(args):
                p = _scaled(pt, lam_j)
                hi = fixed_precision_value(expr, p, _HI_BITS)
                ser = fixed_precision_value(series, p, _HI_BITS)
                with mpmath.workprec(_HI_BITS):
                    errs.append(abs((ser - hi) / hi))
            below = float(lam_j)
            if max(errs) < 2.0**-54:
                break
    except _NotEvaluable:
        return None
    scale = sp.Max(*(s if s.is_nonnegative else sp.Abs(s) for s in args))
    return SmallScale(series=series, scale=scale, below=below, digits=(round(k, 2), round(a, 2)))


# ----------------------------------------------------------------------------- arcsine-type kernels
#
# A kernel F = K atan(G), odd in c, with V(q) = K atan(H(q)) (erf: G = 2c / sqrt(1 + 2q1 + 2q2 + 4D),
# H = 2q / sqrt(1 + 4q), the arcsine kernel) is not homogeneous, and V(q1) V(q2) - F^2 cancels as
# rho -> +-1.  With the angles th = atan(G(|c|)), th* = atan(G*) at the collinear point (c = sqrt(q1 q2),
# D = 0) and th_i = atan(H(q_i)):
#
#     (V1 V2 - F^2) / K^2 = th* (d1 + d2) + d1 d2 + (th* - th)(th* + th),   d_i = th_i - th*,
#
# each difference an atan of a cancellation-free argument: atan x - atan y = atan((x - y) / (1 + x y))
# for x, y >= 0 (x = H_i may be below y: x y >= 0 still), and x - y = (x^2 - y^2) / (x + y) with x^2 - y^2
# a rational function whose numerator carries the factor D (th* - th: q1 q2 -> D + c^2) or q1 - q2 (d_i).
# What is left: d1 + d2 cancels to first order in q1 - q2 (absolute error ~ eps th* |d_i|, 0 at q1 = q2).


@dataclass(frozen=True)
class AngleGram:
    """V(q1) V(q2) - F^2 of an arcsine-type kernel F = ``scale`` atan(G) (see above), cancellation-free.

    ``g``: G at |c|; ``g_star``: G at the collinear point; ``h``: (H(q1), H(q2)); ``gap``: (x^2 - y^2) of
    th* - th, the numerator factored with D; ``gaps``: those of d_1, d_2, factored with q1 - q2;
    ``expr``: the Gram determinant of the next layer built from them."""

    scale: sp.Expr
    g: sp.Expr
    g_star: sp.Expr
    h: tuple
    gap: sp.Expr
    gaps: tuple
    expr: sp.Expr


def _atan_diff(x, y, sq_gap):
    """atan x - atan y (x, y >= 0) from ``sq_gap`` = x^2 - y^2 computed without cancellation."""
    return sp.atan(sq_gap / ((x + y) * (1 + x * y)))


def angle_gram(F: sp.Expr, V: sp.Expr, q1, q2, c, q) -> AngleGram | None:
    """The cancellation-free next-layer Gram determinant of an arcsine-type kernel, or None when
    ``F`` (stabilised, in q1, q2, c, D) is not K atan(G) with G odd in c, or ``V`` (in q) not K atan(H).

    >>> q1, q2, q = sp.symbols("q1 q2 q", positive=True); c = sp.Symbol("c", real=True)
    >>> F = 2 * sp.atan(2 * c / sp.sqrt(4 * D + 2 * q1 + 2 * q2 + 1)) / sp.pi
    >>> ag = angle_gram(F, 2 * sp.atan(2 * q / sp.sqrt(4 * q + 1)) / sp.pi, q1, q2, c, q)
    >>> ag.gap, ag.gaps[0]
    (4*D*(4*D + 4*c**2 + 2*q1 + 2*q2 + 1)/((2*q1 + 2*q2 + 1)*(4*D + 2*q1 + 2*q2 + 1)), 4*q1*(q1 - q2)*(2*q1 + 1)/((4*q1 + 1)*(2*q1 + 2*q2 + 1)))
    """
    if F is None or V is None:
        return None
    scale, atans = sp.S.One, []
    for f in sp.Mul.make_args(F):
        if isinstance(f, sp.atan):
            atans.append(f)
        elif f.free_symbols:
            return None
        else:
            scale *= f
    if len(atans) != 1 or not scale.is_positive:
        return None
    G = atans[0].args[0]
    if sp.simplify(G.subs(c, -c) + G) != 0:
        return None
    H = sp.simplify(V / scale)
    if not isinstance(H, sp.atan):
        return None
    H = H.args[0]
    cp = sp.Symbol("c_abs", positive=True)
    g = G.subs(c, cp)
    g_star = sp.simplify(G.subs(D, 0).subs(c, sp.sqrt(q1 * q2)))
    if sp.simplify(H.subs(q, q1) - G.subs(D, 0).subs({q2: q1, c: q1})) != 0:
        return None   # V(q) = F(q, q, q): the same atan
    if not all(e.is_nonnegative for e in (g, g_star, H.subs(q, q1))):
        return None
    num, den = sp.fraction(sp.together(g_star**2 - g**2))
    num = sp.expand(sp.expand(num).subs(q1 * q2, D + cp**2))
    if num.subs(D, 0) != 0 or any(co.is_negative for co in sp.Poly(num, D, cp, q1, q2).coeffs()):
        return None   # the collinear gap must carry D, as a sum of positive terms
    gap = sp.factor(num) / sp.factor(den)
    hs = (H.subs(q, q1), H.subs(q, q2))
    gaps = []
    for i, h in enumerate(hs):
        n_h, d_h = sp.fraction(sp.together(h**2 - g_star**2))
        n_h = sp.factor(n_h)
        if sp.simplify(n_h.subs(q2 if i == 0 else q1, q1 if i == 0 else q2)) != 0 or not n_h.has(q1 - q2, q2 - q1):
            return None
        gaps.append(n_h / sp.factor(d_h))
    th, th_star = sp.atan(g), sp.atan(g_star)
    d1, d2 = (_atan_diff(h, g_star, gp) for h, gp in zip(hs, gaps))
    expr = scale**2 * (th_star * (d1 + d2) + d1 * d2 + _atan_diff(g_star, g, gap) * (th_star + th))
    expr = expr.xreplace({cp: sp.Abs(c)})
    return AngleGram(scale=scale, g=g.xreplace({cp: sp.Abs(c)}), g_star=g_star, h=hs, gap=gap.xreplace({cp: sp.Abs(c)}),
                     gaps=tuple(gaps), expr=expr)


def prove_angle_gram(ag: AngleGram, F: sp.Expr, V: sp.Expr, q1, q2, c, q) -> str | None:
    """Symbolic proof that ``ag.expr`` = V(q1) V(q2) - F^2 (None) or what failed (a message).

    Steps: (i) each gap numerator / denominator equals x^2 - y^2 as a rational function (D = q1 q2 - c^2,
    c > 0); then x - y = gap / (x + y) and atan x - atan y = atan((x - y)/(1 + x y)) for x, y >= 0, x y > -1;
    (ii) with the angles as free symbols, the assembled polynomial in them equals th1 th2 - th^2;
    (iii) F is odd in c, so F^2 is F(|c|)^2."""
    cp = sp.Symbol("c_pos", positive=True)
    at = {D: q1 * q2 - cp**2}
    pos = lambda e: e.subs(c, cp)   # noqa: E731  (c > 0: Abs(c) = c)
    pieces = [(pos(ag.gap).xreplace(at), pos(ag.g_star**2 - ag.g**2).xreplace(at))]
    pieces += [(gp, h**2 - ag.g_star**2) for gp, h in zip(ag.gaps, ag.h)]
    for k, (ours, want) in enumerate(pieces):
        if sp.cancel(sp.together(ours - want)) != 0:
            return f"gap {k}: not x^2 - y^2"
    if not all(e.is_nonnegative for e in (pos(ag.g), ag.g_star, *ag.h)):
        return "an atan argument is not provably >= 0"
    t, ts, t1, t2 = sp.symbols("t ts t1 t2")
    d1, d2 = t1 - ts, t2 - ts
    if sp.expand(ts * (d1 + d2) + d1 * d2 + (ts - t) * (ts + t) - (t1 * t2 - t**2)) != 0:
        return "angle polynomial"
    if sp.simplify(F.subs(c, -c) + F) != 0:
        return "F is not odd in c"
    scale = ag.scale
    if sp.simplify(pos(F - scale * sp.atan(ag.g))) != 0 or \
            any(sp.simplify(V.subs(q, qi) - scale * sp.atan(h)) != 0 for qi, h in zip((q1, q2), ag.h)):
        return "F or V is not scale * atan(.)"
    return None
