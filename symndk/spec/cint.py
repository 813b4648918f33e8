"""Exact integration in c of the functions that Price's theorem produces.

Class: sums of ``coef * c**m * D**(r/2) * W**j`` with ``D = A - B c**2`` (A, B > 0),
``r`` odd or 0, ``j`` in {0, 1} and ``W = asin(sqrt(B) c / sqrt(A))`` (written in the stable
form ``atan2(sqrt(B) c, sqrt(D))`` at the end).  The class is closed under integration:

* ``int c^m D^(r/2) dc = U(c) D^(h/2) + lam W / sqrt(B)``, ``h = min(r + 2, 1)``, with the
  polynomial ``U`` and constant ``lam`` found by matching coefficients of the derivative
  (a Hermite-Ostrogradsky style ansatz, solved as a linear system -- no ``integrate``);
* ``int c^m W dc`` by parts: ``c^(m+1) W/(m+1) - sqrt(B)/(m+1) int c^(m+1) D^(-1/2) dc``.

Example:
    >>> import sympy as sp
    >>> c = sp.Symbol("c", real=True)
    >>> A, B, D, W = sp.symbols("A B D W", positive=True)
    >>> integrate_from_zero(D**sp.Rational(-1, 2), c, D, W, A, B)
    W/sqrt(B)
"""
from __future__ import annotations

import sympy as sp

from symndk.spec.gaussian import NotInClass


def _split(term, c, D, W):
    coef, m, r, j = sp.Integer(1), 0, 0, 0
    for f in sp.Mul.make_args(term):
        base, e = f.as_base_exp()
        if base == c and e.is_Integer:
            m += int(e)
        elif base == D and (2 * e).is_Integer:
            r += int(2 * e)
        elif base == W and e.is_Integer:
            j += int(e)
        elif f.has(c, D, W):
            raise NotInClass(f"factor {f} outside the c-integration class")
        else:
            coef *= f
    return coef, m, r, j


def _antiderivative(m, r, j, c, D, W, A, B):
    """Antiderivative of c^m D^(r/2) W^j in the class (D = A - B c^2)."""
    if j == 0 and r == 0:
        return c ** (m + 1) / (m + 1)
    if j == 1 and r == 0:
        return c ** (m + 1) * W / (m + 1) - sp.sqrt(B) / (m + 1) * _antiderivative(m + 1, -1, 0, c, D, W, A, B)
    if j != 0 or r % 2 == 0:
        raise NotInClass(f"cannot integrate c^{m} D^({r}/2) W^{j}")
    h = min(r + 2, 1)
    e = (r - h + 2) // 2
    Dc = A - B * c**2
    target = sp.expand(c**m * Dc**e)
    deg = sp.degree(target, c) + 2 - h
    w = sp.symbols(f"w0:{deg + 1}")
    lam = sp.Symbol("lam")
    U = sum(wi * c**i for i, wi in enumerate(w))
    resid = sp.expand(sp.diff(U, c) * Dc - h * B * c * U + lam * Dc ** ((1 - h) // 2) - target)
    sol = sp.linsolve(sp.Poly(resid, c).coeffs(), [*w, lam])
    if not sol:
        raise NotInClass(f"no antiderivative ansatz for c^{m} D^({r}/2)")
    sol = dict(zip([*w, lam], next(iter(sol))))
    return U.subs(sol) * D ** sp.Rational(h, 2) + sol[lam] * W / sp.sqrt(B)


def integrate_from_zero(expr, c, D, W, A, B):
    """int_0^c expr dc' for ``expr`` in the class (symbols as in the module docstring)."""
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        coef, m, r, j = _split(term, c, D, W)
        total += coef * _antiderivative(m, r, j, c, D, W, A, B)
    at0 = total.subs({c: 0, W: 0}).subs(D, A)
    return sp.expand(total - at0)


def to_closed_form(expr, c, D, W, A, B, a, b):
    """Replace the class symbols by their meaning: D = a - b c^2, W = atan2(sqrt(b) c, sqrt(D))."""
    Dc = A - B * c**2
    out = expr.subs(D, Dc).subs(W, sp.atan2(sp.sqrt(B) * c, sp.sqrt(Dc)))
    return out.subs({A: a, B: b})


def integrate_q_from_zero(expr, q):
    """int_0^q expr dq' for sums of ``coef * q**m * (a + b q)**(r/2)`` (m >= 0 integer, or a = 0).

    Substituting w = a + b q makes every term a power of w; a logarithm (power -1) is refused.

    >>> q = sp.Symbol("q", positive=True)
    >>> integrate_q_from_zero((1 + q)**sp.Rational(-3, 2), q)
    2 - 2/sqrt(q + 1)
    """
    w = sp.Dummy("w", positive=True)
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr, multinomial=False)):
        if term == 0:
            continue
        coef, dep = term.as_independent(q, as_Mul=True)
        m, base, r = 0, None, sp.Integer(0)
        for f in sp.Mul.make_args(dep):
            b_, e_ = f.as_base_exp()
            if b_ == q and e_.is_Integer and e_ >= 0:
                m += int(e_)
            elif base is None and b_.is_polynomial(q) and sp.degree(b_, q) == 1 and e_.is_Rational:
                base, r = b_, e_
            elif f != 1:
                raise NotInClass(f"factor {f} outside the q-integration class")
        if base is None:
            total += coef * q ** (m + 1) / (m + 1)
            continue
        b1 = base.coeff(q, 1)
        a0 = base.coeff(q, 0)
        poly = sp.expand(((w - a0) / b1) ** m * w**r / b1)
        anti = sp.Integer(0)
        for t in sp.Add.make_args(poly):
            c_, p_ = t.as_coeff_exponent(w)
            if p_ == -1:
                raise NotInClass("logarithmic q-integral")
            anti += c_ * w ** (p_ + 1) / (p_ + 1)
        total += coef * (anti.subs(w, base) - anti.subs(w, a0))
    return sp.expand(total)
