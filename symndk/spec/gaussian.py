"""Exact Gaussian expectations of "Gaussian-class" functions, done by the code.

The class: finite sums of terms ``coef * x**n * exp(alpha x**2 + beta x) * S(x)`` with
``S`` one of ``1``, ``Heaviside(x)`` or ``DiracDelta(x)``.  Products with ``DiracDelta`` are
reduced exactly (``f(x) delta(x) = f(0) delta(x)``, ``f(x) delta'(x) = f(0) delta' - f'(0) delta``).
Expectations use the moment generating function

    E[prod x_i^n_i exp(alpha_i x_i^2 + J_i x_i)] = d^n/dJ^n  det(I - 2 S diag(alpha))^(-1/2)
                                                   * exp(J^T (I - 2 S diag(alpha))^(-1) S J / 2)

and a delta pins its variable to 0 (Gaussian density at 0 times the conditional law).
The two-variable result is returned as an :class:`Piece`: an expression in ``C`` and a
positive symbol ``D`` standing for the c-dependent determinant ``a - b C**2``; that form is
what :mod:`symndk.spec.cint` integrates exactly in ``C``.

Example:
    >>> import sympy as sp
    >>> from symndk.spec.activations import X
    >>> q = sp.Symbol("q", positive=True)
    >>> expect_1d(sp.Max(X, 0), q)
    sqrt(2)*sqrt(q)/(2*sqrt(pi))
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb

import sympy as sp

from symndk.spec.activations import X


class NotInClass(Exception):
    """The expression is not a finite sum of Gaussian-class terms."""


@dataclass(frozen=True)
class Term:
    coef: sp.Expr
    n: int
    alpha: sp.Expr
    beta: sp.Expr
    kind: str  # "one" | "H" | "delta"


def _rewrite(expr: sp.Expr) -> sp.Expr:
    expr = expr.rewrite(sp.Heaviside) if expr.has(sp.Max, sp.Min, sp.Abs, sp.sign, sp.Piecewise) else expr
    if expr.has(sp.sin, sp.cos, sp.sinh, sp.cosh):
        expr = expr.rewrite(sp.exp)
    expr = expr.replace(lambda e: isinstance(e, sp.Heaviside), _normal_heaviside)
    return sp.expand(sp.powsimp(sp.expand(expr)))


def _normal_heaviside(h):
    arg = h.args[0]
    k = sp.expand(arg / X)
    if k.has(X) or not k.is_number or k == 0:
        raise NotInClass(f"Heaviside argument {arg} is not a multiple of x")
    return sp.Heaviside(X) if k > 0 else 1 - sp.Heaviside(X)


def _smooth(factor: sp.Expr):
    """Split a smooth factor into (coef, n, alpha, beta); raise NotInClass otherwise."""
    coef, dep = factor.as_independent(X, as_Add=False)
    n, exps = 0, sp.Integer(0)
    for f in sp.Mul.make_args(dep):
        base, e = f.as_base_exp()
        if base == X and e.is_Integer and e >= 0:
            n += int(e)
        elif isinstance(f, sp.exp) or (base == sp.E):
            exps += f.args[0] if isinstance(f, sp.exp) else e
        elif f != 1:
            raise NotInClass(f"factor {f} is not x**n or exp(quadratic)")
    try:
        poly = sp.Poly(sp.expand(exps), X) if exps != 0 else sp.Poly(0, X)
    except sp.PolynomialError:  # e.g. exp(Min(0, x)) -> an exponent with Heaviside(x) in it
        raise NotInClass(f"exponent {exps} is not a polynomial in x") from None
    if poly.degree() > 2:
        raise NotInClass(f"exponent {exps} is not quadratic in x")
    a2, a1, a0 = (poly.coeff_monomial(X**k) for k in (2, 1, 0))
    return coef * sp.exp(a0), n, a2, a1


def parse(expr: sp.Expr) -> list[Term]:
    """Write ``expr`` (in ``X``) as a list of Gaussian-class terms or raise NotInClass.

    >>> parse(sp.Max(X, 0))
    [Term(coef=1, n=1, alpha=0, beta=0, kind='H')]
    """
    terms: list[Term] = []
    for t in sp.Add.make_args(_rewrite(expr)):
        sing = [f for f in sp.Mul.make_args(t) if isinstance(f, (sp.Heaviside, sp.DiracDelta))
                or (f.is_Pow and isinstance(f.base, (sp.Heaviside, sp.DiracDelta)))]
        if len(sing) > 1 or (sing and sing[0].is_Pow and not isinstance(sing[0].base, sp.Heaviside)):
            raise NotInClass(f"product of singular factors in {t}")
        rest = t / sing[0] if sing else t
        coef, n, al, be = _smooth(rest)
        if not sing:
            terms.append(Term(coef, n, al, be, "one"))
        elif isinstance(sing[0], sp.Heaviside) or sing[0].is_Pow:
            terms.append(Term(coef, n, al, be, "H"))
        else:
            terms.extend(_reduce_delta(coef, n, al, be, sing[0]))
    return [t for t in terms if t.coef != 0]


def _reduce_delta(coef, n, al, be, delta) -> list[Term]:
    """f(x) delta^(m)(x) = sum_j (-1)^j C(m,j) f^(j)(0) delta^(m-j)(x); keep delta^(0) only."""
    m = int(delta.args[1]) if len(delta.args) > 1 else 0
    if delta.args[0] != X:
        raise NotInClass(f"shifted delta {delta}")
    f = X**n * sp.exp(al * X**2 + be * X)
    out = []
    for j in range(m + 1):
        val = sp.diff(f, X, j).subs(X, 0)
        if val == 0:
            continue
        if m - j:
            raise NotInClass(f"derivative of delta survives in {delta}")
        out.append(Term(sp.expand(coef * (-1) ** j * comb(m, j) * val), 0, sp.Integer(0), sp.Integer(0), "delta"))
    return out


def _moment(Sigma: sp.Matrix, terms, D: sp.Expr | None):
    """E[prod x_i^n_i exp(alpha_i x_i^2 + beta_i x_i)] for x ~ N(0, Sigma), via the MGF.

    With ``D`` given, ``det(I - 2 Sigma diag(alpha))`` is replaced by the symbol ``D``.
    """
    k = Sigma.shape[0]
    J = sp.symbols(f"J0:{k}")
    Mm = sp.eye(k) - 2 * Sigma * sp.diag(*[t.alpha for t in terms])
    det = sp.expand(Mm.det())
    den = det if D is None else D
    M = sp.expand(Mm.adjugate() * Sigma) / den
    Jv = sp.Matrix(J)
    Z = den ** sp.Rational(-1, 2) * sp.exp((Jv.T * M * Jv)[0] / 2)
    for j, t in zip(J, terms):
        Z = sp.diff(Z, j, t.n)
    Z = Z.subs({j: t.beta for j, t in zip(J, terms)})
    # multinomial=False keeps (a + b q)**(-3/2) intact (full expand would split it)
    return sp.expand(Z * sp.prod(t.coef for t in terms), multinomial=D is not None), det


def expect_1d(expr: sp.Expr, q: sp.Expr) -> sp.Expr:
    """E[expr(u)], u ~ N(0, q), for a Gaussian-class expression (Heaviside allowed)."""
    total = sp.Integer(0)
    for t in parse(expr):
        if t.kind == "one":
            total += _moment(sp.Matrix([[q]]), [t], None)[0]
        elif t.kind == "delta":
            total += t.coef / sp.sqrt(2 * sp.pi * q)
        else:
            total += t.coef * _half_line(t, q)
    return sp.expand(total, multinomial=False)


def _half_line(t: Term, q):
    y = sp.Dummy("y", positive=True)
    rate = 1 / (2 * q) - t.alpha
    if t.beta == 0:
        val = sp.gamma(sp.Rational(t.n + 1, 2)) / 2 * rate ** sp.Rational(-(t.n + 1), 2)
    else:
        val = sp.integrate(y**t.n * sp.exp(-rate * y**2 + t.beta * y), (y, 0, sp.oo), conds="none")
    return val / sp.sqrt(2 * sp.pi * q)


@dataclass(frozen=True)
class Piece:
    """One term pair of a two-variable expectation: ``expr`` in ``C`` and ``D = a - b C**2``."""

    expr: sp.Expr
    D: sp.Symbol | None
    a: sp.Expr
    b: sp.Expr

    def value(self, c: sp.Symbol) -> sp.Expr:
        return self.expr if self.D is None else self.expr.subs(self.D, self.a - self.b * c**2)


def expect_2d(g: sp.Expr, q1, q2, c) -> list[Piece]:
    """E[g(u) g(v)] for (u, v) centred Gaussian with Var q1, q2 and Cov c (no Heaviside in g).

    Returned as a list of :class:`Piece` whose values sum to the expectation.
    """
    terms = parse(g)
    if any(t.kind == "H" for t in terms):
        raise NotInClass("Heaviside terms: differentiate further")
    pieces = []
    for t1 in terms:
        for t2 in terms:
            pieces.append(_pair(t1, t2, q1, q2, c))
    return pieces


def _pair(t1: Term, t2: Term, q1, q2, c) -> Piece:
    D = sp.Dummy("D", positive=True)
    Sigma = sp.Matrix([[q1, c], [c, q2]])
    if t1.kind == "delta" and t2.kind == "delta":
        return Piece(t1.coef * t2.coef / (2 * sp.pi) * D ** sp.Rational(-1, 2), D, q1 * q2, sp.Integer(1))
    if t2.kind == "delta":
        t1, t2, q1, q2 = t2, t1, q2, q1
    if t1.kind == "delta":  # pin u = 0: density 1/sqrt(2 pi q1), v | u=0 ~ N(0, (q1 q2 - c^2)/q1)
        s2 = (q1 * q2 - c**2) / q1
        val, det = _moment(sp.Matrix([[s2]]), [t2], D * q1 ** -1)
        val = sp.expand(val * t1.coef / sp.sqrt(2 * sp.pi * q1))
        det = sp.expand(det * q1)
    else:
        val, det = _moment(Sigma, [t1, t2], D)
    b = -det.coeff(c, 2)
    a = det.coeff(c, 0)
    if sp.expand(det - a + b * c**2) != 0:
        raise NotInClass(f"determinant {det} is not a - b c^2")
    if b == 0:
        return Piece(sp.expand(val.subs(D, a)), None, a, b)
    return Piece(val, D, a, b)
