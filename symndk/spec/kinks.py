"""Closed-form dual kernels of activations with kinks and thresholds away from 0.

Class: finite sums of ``coef * x**n * exp(beta x) * S(x)`` with ``S`` one of ``1``,
``Heaviside(x - a)`` or ``DiracDelta(x - a)`` for any real thresholds ``a`` (``Max(a x + b, 0)``,
``Heaviside(x - b)``, ``Abs(x - b)``, ``Piecewise`` with intervals bounded by numbers, rectified
monomials, their sums and products with polynomials and exponentials).

For (u, v) Gaussian with variances q1, q2 and covariance c, the exponential tilt
``E[e^{b1 u + b2 v} g(u, v)] = e^{beta' S beta / 2} E_mu[g]`` (mean mu = S beta) leaves moments
``E_mu[u^m v^n S1(u) S2(v)]`` of a shifted Gaussian, which Stein's identity
``E[u g] = mu1 E[g] + q1 E[d_u g] + c E[d_v g]`` reduces to:

* the bivariate normal CDF :class:`BVN` (``P(u > a1, v > a2)``; SciPy's Owen's T in the generated
  numpy code, a one-dimensional mpmath quadrature in the mpmath twin),
* univariate normal CDFs and densities (boundary terms, where a Heaviside factor is differentiated
  into a delta and the other variable is conditioned on the threshold).

At rho = +-1 (D = q1 q2 - c^2 = 0) those boundary terms are 0/0; there the kernel is the
one-dimensional expectation E[phi(u) phi(+-sqrt(q2/q1) u)], derived the same way and selected by a
``Piecewise`` on D.

Example:
    >>> import sympy as sp
    >>> from symndk.spec.activations import X
    >>> q1, q2 = sp.symbols("q1 q2", positive=True); c = sp.Symbol("c", real=True)
    >>> F = kink_dual(sp.Heaviside(X - 1), q1, q2, c)         # P(u > 1, v > 1)
    >>> F.args[0][0]
    BVN(-1/sqrt(q1), -1/sqrt(q2), c/(sqrt(q1)*sqrt(q2)), sqrt(Max(D, q1*q2/200000000000000))/(sqrt(q1)*sqrt(q2)))
    >>> F.args[0][0].subs({q1: 1, q2: 1, c: 0}).subs(D, 1)    # independent u, v: (1 - Phi(1))^2
    erfc(sqrt(2)/2)**2/4
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from symndk.spec.activations import X
from symndk.spec.gaussian import NotInClass

#: the Gram determinant q1 q2 - c^2 (the same symbol as :data:`symndk.codegen.stable.D`)
D = sp.Symbol("D", nonnegative=True)


#: below D = DEGENERATE q1 q2 (1 - rho^2 < 1e-14) the rho = +-1 form is used: it differs from the kernel
#: by about |dF/drho| (1 - |rho|) <= 1e-14 sqrt(V1 V2), where the general form divides by D
DEGENERATE = sp.Rational(1, 10**14)
#: the switch when the rho = +-1 form is corrected to first order (see :func:`kink_dual`)
DEGENERATE_CORRECTED = sp.Rational(1, 10**8)


def Phi(z):
    """Standard normal CDF, written with erfc (accurate in the lower tail)."""
    return sp.erfc(-z / sp.sqrt(2)) / 2


def gauss_exp(exponent):
    """exp(exponent) kept as one exponential (an expansion into exp(a) exp(b) overflows where
    a -> +inf, b -> -inf as D -> 0)."""
    return sp.exp(sp.UnevaluatedExpr(exponent)) if exponent.free_symbols else sp.exp(exponent)


def normal_pdf(a, mean, var):
    return gauss_exp(-(a - mean) ** 2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)


class BVN(sp.Function):
    """BVN(h, k, r, s) = P(Z1 <= h, Z2 <= k) for standard normals with correlation r, s = sqrt(1 - r^2)
    (passed separately so that generated code takes it from D without cancellation).

    >>> BVN(0, 0, 0, 1)
    1/4
    >>> BVN(sp.Rational(1, 2), -1, 1, 0)
    erfc(sqrt(2)/2)/2
    >>> round(float(BVN(0.3, -0.2, 0.5, sp.sqrt(3) / 2).evalf(20)), 12)
    0.336198437016
    """

    nargs = 4

    @classmethod
    def eval(cls, h, k, r, s):
        if s.is_zero and r.is_number:
            if r.is_positive:
                return Phi(sp.Min(h, k))
            if r.is_negative:
                return sp.Max(Phi(h) + Phi(k) - 1, 0)
        if h.is_zero and k.is_zero:
            return sp.Rational(1, 4) + sp.atan2(r, s) / (2 * sp.pi)
        if r.is_zero and s == 1:
            return Phi(h) * Phi(k)
        return None

    def _eval_evalf(self, prec):
        try:
            args = [mpmath.mpf(sp.Float(a.evalf(prec + 20), prec + 20)) for a in self.args]
        except (TypeError, ValueError):
            return None
        with mpmath.workprec(prec + 20):
            value = bvn_mpmath(*args)
        dps = int(prec * 0.30103) + 3
        return sp.Float(mpmath.nstr(value, dps + 5), dps)


def bvn_mpmath(h, k, r, s):
    """P(Z1 <= h, Z2 <= k) for standard normals with correlation r, s = sqrt(1 - r^2), at the working
    precision: the integral over x <= h of phi(x) Phi((k - r x)/s), split where the inner CDF turns.

    The one source of this function: the generated mpmath runtime carries a copy of its text as
    ``_bvn`` (``symndk.codegen.writer.render_runtime``), since generated code imports no symndk.

    >>> with mpmath.workdps(20):
    ...     print(mpmath.nstr(bvn_mpmath(0.3, -0.2, 0.5, mpmath.sqrt(0.75)), 12))
    0.336198437016
    """
    h, k, r, s = (mpmath.mpf(v) for v in (h, k, r, s))
    cdf = lambda z: mpmath.erfc(-z / mpmath.sqrt(2)) / 2  # noqa: E731
    if s == 0:
        return cdf(min(h, k)) if r > 0 else max(cdf(h) + cdf(k) - 1, mpmath.mpf(0))
    low = -mpmath.sqrt(2 * (mpmath.mp.dps + 10) * mpmath.log(10)) - abs(k)
    if h <= low:
        return mpmath.mpf(0)
    points = {low, h}
    if r != 0:
        x0, w = k / r, s / abs(r)
        points |= {t for t in (x0 - 8 * w, x0 - w, x0, x0 + w, x0 + 8 * w) if low < t < h}
    return mpmath.quad(lambda x: mpmath.npdf(x) * cdf((k - r * x) / s), sorted(points))


# ---- parsing ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KTerm:
    """coef * x^n * exp(beta x) * S(x); kind 'one' (S = 1), 'H' (S = 1{x > a}, or 1{x < a} with side -1:
    lower tails are kept as such, never as 1 - 1{x > a}, which cancels) or 'delta' (S = delta(x - a))."""

    coef: sp.Expr
    n: int
    beta: sp.Expr
    kind: str
    a: sp.Expr = sp.S.Zero
    side: int = 1  # 'H': 1{x > a} (side 1) or 1{x < a} (side -1)


def _linear(arg):
    """(k, b) with arg = k x + b, k a non-zero number; NotInClass otherwise."""
    poly = sp.Poly(sp.expand(arg), X) if arg.has(X) else None
    if poly is None or poly.degree() != 1:
        raise NotInClass(f"{arg} is not affine in x")
    k, b = poly.coeff_monomial(X), poly.coeff_monomial(1)
    if not (k.is_number and k.is_real and k != 0 and b.is_real is not False):
        raise NotInClass(f"{arg} is not affine in x with a real slope")
    return k, b


def piecewise_to_heaviside(expr):
    """Rewrite every Piecewise in x (conditions: comparisons of affine functions of x with numbers,
    And/Or of them, True) as a sum of pieces times indicator functions of intervals; other
    Piecewise raise NotInClass naming it.

    >>> piecewise_to_heaviside(sp.Piecewise((X, X >= 0), (sp.exp(X) - 1, True)))
    x*Heaviside(x) + (exp(x) - 1)*Heaviside(-x)
    """
    def convert(pw):
        covered = sp.S.EmptySet
        total = sp.S.Zero
        for value, cond in pw.args:
            try:
                region = sp.S.Reals if cond is sp.true else cond.as_set()
            except Exception as exc:  # noqa: BLE001 - SymPy cannot solve the condition
                raise NotInClass(f"Piecewise condition {cond} is not an interval condition in x ({exc})") from None
            if cond is not sp.true and (cond.free_symbols - {X}):
                raise NotInClass(f"Piecewise condition {cond} has symbols other than x")
            piece = region - covered
            covered = covered | region
            total += value * _indicator(piece, pw)
        return total
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), convert)


def _indicator(region, pw):
    if region is sp.S.EmptySet:
        return sp.S.Zero
    parts = region.args if isinstance(region, sp.Union) else (region,)
    out = sp.S.Zero
    for part in parts:
        if isinstance(part, sp.FiniteSet):   # points: measure zero for a Gaussian expectation
            continue
        if not isinstance(part, sp.Interval):
            raise NotInClass(f"Piecewise {pw}: region {part} is not an interval")
        if part.start is sp.S.NegativeInfinity:
            out += sp.S.One if part.end is sp.S.Infinity else sp.Heaviside(part.end - X)
        else:
            out += sp.Heaviside(X - part.start) - (0 if part.end is sp.S.Infinity else sp.Heaviside(X - part.end))
    return out


def parse_kinked(expr) -> list[KTerm]:
    """Write ``expr`` (in x) as a list of :class:`KTerm` or raise NotInClass.

    >>> parse_kinked(sp.Max(X - sp.Rational(1, 2), 0))
    [KTerm(coef=-1/2, n=0, beta=0, kind='H', a=1/2, side=1), KTerm(coef=1, n=1, beta=0, kind='H', a=1/2, side=1)]
    """
    e = piecewise_to_heaviside(expr)
    if e.has(sp.Max, sp.Min, sp.Abs, sp.sign):
        e = e.rewrite(sp.Heaviside)
    if e.has(sp.sinh, sp.cosh):
        e = e.rewrite(sp.exp)
    e = e.replace(lambda f: isinstance(f, sp.Heaviside), _upper)
    e = e.replace(lambda f: isinstance(f, sp.DiracDelta), _delta)
    e = sp.expand(sp.powsimp(sp.expand(e)))
    terms = []
    for t in sp.Add.make_args(e):
        hs, ds, rest = [], [], sp.S.One
        for f in sp.Mul.make_args(t):
            base, p = f.as_base_exp()
            if isinstance(base, sp.Heaviside) and base.has(X):
                hs.append(_threshold(base.args[0]))   # Heaviside(+-(x - a))^p = Heaviside(+-(x - a))
            elif isinstance(base, sp.DiracDelta):
                if p != 1 or ds:
                    raise NotInClass(f"product of deltas in {t}")
                ds.append(base.args[0])
            else:
                rest *= f
        coef, n, beta = _smooth(rest)
        if ds:
            a = X - ds[0]
            for b, side in hs:                   # delta(x - a) H(+-(x - b)) = delta(x - a) H(+-(a - b))
                coef *= sp.Heaviside(side * (a - b), sp.S.Half)
            # f(x) delta(x - a) = f(a) delta(x - a)
            terms.append(KTerm(coef * a**n * sp.exp(beta * a), 0, sp.S.Zero, "delta", a))
        elif hs:
            terms += _interval(coef, n, beta, hs)
        else:
            terms.append(KTerm(coef, n, beta, "one"))
    deltas = {}
    for t in terms:                              # one delta per point (coefficients that cancel drop out)
        if t.kind == "delta":
            deltas[t.a] = deltas.get(t.a, 0) + t.coef
    terms = [t for t in terms if t.kind != "delta"] + [KTerm(sp.nsimplify(v) if v.is_number else v, 0, sp.S.Zero,
                                                             "delta", a) for a, v in deltas.items()]
    return [t for t in terms if t.coef != 0]


def has_delta(expr) -> bool:
    """True when ``expr`` (in the class) has a delta with a non-zero weight."""
    return any(t.kind == "delta" for t in parse_kinked(expr))


def _threshold(arg):
    """(a, side) with Heaviside(arg) = 1{x > a} (side 1) or 1{x < a} (side -1)."""
    k, b = _linear(arg)
    return -b / k, (1 if k > 0 else -1)


def _interval(coef, n, beta, hs):
    """Terms for coef x^n e^{beta x} times a product of indicators (a, side)."""
    ups = [a for a, side in hs if side > 0]
    lows = [a for a, side in hs if side < 0]
    if not lows:
        return [KTerm(coef, n, beta, "H", sp.Max(*ups))]
    if not ups:
        return [KTerm(coef, n, beta, "H", sp.Min(*lows), -1)]
    lo, hi = sp.Max(*ups), sp.Min(*lows)     # 1{lo < x < hi} = 1{x > lo} - 1{x > max(lo, hi)}
    return [KTerm(coef, n, beta, "H", lo), KTerm(-coef, n, beta, "H", sp.Max(lo, hi))]


def _upper(h):
    a, side = _threshold(h.args[0])
    return sp.Heaviside(side * (X - a))


def _delta(d):
    if len(d.args) > 1 and d.args[1] != 0:
        raise NotInClass(f"derivative of a delta: {d}")
    k, b = _linear(d.args[0])
    return sp.DiracDelta(X + b / k) / abs(k)


def _smooth(factor):
    coef, dep = factor.as_independent(X, as_Add=False)
    n, expo = 0, sp.S.Zero
    for f in sp.Mul.make_args(dep):
        base, e = f.as_base_exp()
        if base == X and e.is_Integer and e >= 0:
            n += int(e)
        elif isinstance(f, sp.exp) or base == sp.E:
            expo += f.args[0] if isinstance(f, sp.exp) else e
        elif f != 1:
            raise NotInClass(f"factor {f} is not x**n or exp(b x)")
    try:
        poly = sp.Poly(sp.expand(expo), X) if expo != 0 else sp.Poly(0, X)
    except sp.PolynomialError:
        raise NotInClass(f"exponent {expo} is not affine in x") from None
    if poly.degree() > 1:
        raise NotInClass(f"exponent {expo} is not affine in x (Gaussian factors: the Price engine)")
    b1, b0 = poly.coeff_monomial(X), poly.coeff_monomial(1)
    if not b1.is_real:
        raise NotInClass(f"complex exponent {expo}")
    return coef * sp.exp(b0), n, b1


# ---- expectations ----------------------------------------------------------------------------------

def moment_1d(n, kind, a, mean, var, side=1):
    """E[w^n S(w)], w ~ N(mean, var); S = 1 ('one'), 1{side (w - a) > 0} ('H'), delta(w - a) ('delta')."""
    if kind == "delta":
        return a**n * normal_pdf(a, mean, var)
    vals = []
    for j in range(n + 1):
        if j == 0:
            v = sp.S.One if kind == "one" else Phi(side * (mean - a) / sp.sqrt(var))
        else:
            v = mean * vals[j - 1] + var * (j - 1) * (vals[j - 2] if j >= 2 else 0)
            if kind == "H":
                v += side * var * a ** (j - 1) * normal_pdf(a, mean, var)
        vals.append(v)
    return vals[n]


def expect_1d_kinked(expr, q):
    """E[expr(u)], u ~ N(0, q), for an expression of the class (+oo for a squared delta)."""
    total = sp.S.Zero
    for t in parse_kinked(expr):
        mean = q * t.beta
        total += t.coef * sp.exp(t.beta**2 * q / 2) * moment_1d(t.n, t.kind, t.a, mean, q, t.side)
    return total


def expect_1d_square(expr, q):
    """E[expr(u)^2], u ~ N(0, q) (+oo when expr has a delta), from products of the parsed terms."""
    terms = parse_kinked(expr)
    if any(t.kind == "delta" for t in terms):
        return sp.oo
    total = sp.S.Zero
    for t1 in terms:
        for t2 in terms:
            for p in _product(t1, t2):
                total += p.coef * sp.exp(p.beta**2 * q / 2) * moment_1d(p.n, p.kind, p.a, q * p.beta, q, p.side)
    return total


def _pair(t1: KTerm, t2: KTerm, q1, q2, c, sD):
    """E[t1(u) t2(v)]; ``sD`` = sqrt(D) (the conditional variances are D/q1, D/q2)."""
    tilt = sp.exp((t1.beta**2 * q1 + 2 * t1.beta * t2.beta * c + t2.beta**2 * q2) / 2)
    m1, m2 = q1 * t1.beta + c * t2.beta, c * t1.beta + q2 * t2.beta
    coef = t1.coef * t2.coef * tilt
    if t1.kind == "delta" and t2.kind == "delta":
        quad = (q2 * (t1.a - m1) ** 2 - 2 * c * (t1.a - m1) * (t2.a - m2) + q1 * (t2.a - m2) ** 2) / sD**2
        return coef * t1.a**t1.n * t2.a**t2.n * gauss_exp(-quad / 2) / (2 * sp.pi * sD)
    if t1.kind == "delta":
        cond = moment_1d(t2.n, t2.kind, t2.a, m2 + c * (t1.a - m1) / q1, sD**2 / q1, t2.side)
        return coef * t1.a**t1.n * normal_pdf(t1.a, m1, q1) * cond
    if t2.kind == "delta":
        cond = moment_1d(t1.n, t1.kind, t1.a, m1 + c * (t2.a - m2) / q2, sD**2 / q2, t1.side)
        return coef * t2.a**t2.n * normal_pdf(t2.a, m2, q2) * cond
    H1, H2 = t1.kind == "H", t2.kind == "H"
    a1, a2 = t1.a, t2.a
    e1, e2 = t1.side, t2.side
    # d/du S1(u) = e1 delta(u - a1): the boundary terms carry the side
    pdf1 = e1 * normal_pdf(a1, m1, q1) if H1 else 0
    pdf2 = e2 * normal_pdf(a2, m2, q2) if H2 else 0

    def B_u(j):  # E[d/du S1(u) v^j S2(v)]
        return pdf1 * moment_1d(j, t2.kind, a2, m2 + c * (a1 - m1) / q1, sD**2 / q1, e2) if H1 else 0

    def B_v(j):  # E[u^j S1(u) d/dv S2(v)]
        return pdf2 * moment_1d(j, t1.kind, a1, m1 + c * (a2 - m2) / q2, sD**2 / q2, e1) if H2 else 0

    s1, s2 = sp.sqrt(q1), sp.sqrt(q2)
    if H1 and H2:
        base = BVN(e1 * (m1 - a1) / s1, e2 * (m2 - a2) / s2, e1 * e2 * c / (s1 * s2), sD / (s1 * s2))
    elif H1:
        base = Phi(e1 * (m1 - a1) / s1)
    elif H2:
        base = Phi(e2 * (m2 - a2) / s2)
    else:
        base = sp.S.One
    memo = {}

    def M(m, n):
        if m < 0 or n < 0:
            return sp.S.Zero
        if (m, n) in memo:
            return memo[(m, n)]
        if m == 0 and n == 0:
            v = base
        elif m > 0:
            v = m1 * M(m - 1, n) + q1 * ((m - 1) * M(m - 2, n) + (a1 ** (m - 1) * B_u(n) if H1 else 0)) \
                + c * (n * M(m - 1, n - 1) + (a2**n * B_v(m - 1) if H2 else 0))
        else:
            v = m2 * M(0, n - 1) + q2 * ((n - 1) * M(0, n - 2) + (a2 ** (n - 1) * B_v(0) if H2 else 0)) \
                + c * (B_u(n - 1) if H1 else 0)
        memo[(m, n)] = v
        return v

    return coef * M(t1.n, t2.n)


def _scaled_terms(terms, lam, sign):
    """Terms of phi(lam x) (lam > 0 symbolic, times ``sign``), as terms in x."""
    out = []
    for t in terms:
        L = sign * lam
        coef = t.coef * L**t.n
        if t.kind == "one":
            out.append(KTerm(coef, t.n, t.beta * L, "one"))
        elif t.kind == "delta":                      # delta(L x - a) = delta(x - a/L)/lam
            out.append(KTerm(coef / lam, t.n, t.beta * L, "delta", t.a / L))
        else:                                        # 1{side (L x - a) > 0} = 1{side sign (x - a/L) > 0}
            out.append(KTerm(coef, t.n, t.beta * L, "H", t.a / L, t.side * sign))
    return out


def _product(t1: KTerm, t2: KTerm):
    n, beta, coef = t1.n + t2.n, t1.beta + t2.beta, t1.coef * t2.coef
    kinds = {t1.kind, t2.kind}
    if t1.kind == "delta" and t2.kind == "delta":
        return None                                  # E[delta delta] on a line: infinite
    if "delta" in kinds:
        d, o = (t1, t2) if t1.kind == "delta" else (t2, t1)
        if o.kind == "H":
            coef *= sp.Heaviside(o.side * (d.a - o.a), sp.S.Half)
        return [KTerm(coef, n, beta, "delta", d.a)]
    if kinds == {"one"}:
        return [KTerm(coef, n, beta, "one")]
    return _interval(coef, n, beta, [(t.a, t.side) for t in (t1, t2) if t.kind == "H"])


def _degenerate(terms, q1, q2, sign):
    """E[phi(u) phi(sign sqrt(q2/q1) u)], u ~ N(0, q1) (rho = sign): the kernel on D = 0."""
    lam = sp.sqrt(q2) / sp.sqrt(q1)
    total = sp.S.Zero
    for t1 in terms:
        for t2 in _scaled_terms(terms, lam, sign):
            ps = _product(t1, t2)
            if ps is None:
                return sp.oo
            for p in ps:
                total += p.coef * sp.exp(p.beta**2 * q1 / 2) * moment_1d(p.n, p.kind, p.a, q1 * p.beta, q1, p.side)
    return total


def canonical(expr):
    """``expr`` with Piecewise written as Heaviside sums and Max/Min/Abs/sign rewritten into
    Heaviside factors, powers of a Heaviside collapsed (recognises equivalent forms before the
    derivation: ``Max(x, 0)**2`` is ``x**2 Heaviside(x)``); unchanged when it has none of them.

    >>> canonical(sp.Max(X, 0)**2)
    x**2*Heaviside(x)
    """
    if not expr.has(sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.sign):
        return expr
    e = piecewise_to_heaviside(expr)
    e = e.rewrite(sp.Heaviside) if e.has(sp.Max, sp.Min, sp.Abs, sp.sign) else e
    e = sp.expand(e)
    return e.replace(lambda f: f.is_Pow and isinstance(f.base, sp.Heaviside) and f.exp.is_positive, lambda f: f.base)


def needs_kinks(expr) -> bool:
    """True when ``expr`` has a Piecewise, or a kink/threshold whose argument is not a multiple of x."""
    if expr.has(sp.Piecewise):
        return True
    for f in expr.atoms(sp.Heaviside, sp.DiracDelta, sp.Max, sp.Min, sp.Abs, sp.sign):
        for arg in f.args:
            if arg.has(X) and sp.expand(arg).subs(X, 0) != 0:
                return True
    return False


def kink_dual(expr, q1, q2, c):
    """F(q1, q2, c) = E[phi(u) phi(v)] in closed form (a Piecewise on D: the general form, and near
    rho = +-1 the rho = +-1 form, corrected to first order in the distance |c -+ sqrt(q1 q2)| =
    D / (sqrt(q1 q2) +- c) by the rho = +-1 form of Fdot where that is finite); NotInClass outside
    the class.

    The general form loses digits as rho -> 1 (its boundary terms divide by D; measured for
    Max(x - 1/2, 0) at q1 = q2: 2e-13 at 1 - rho = 1e-8, 1.5e-10 at 1e-14); the corrected form errs by
    O((1 - |rho|)^(3/2)) (switch at 1 - rho^2 = :data:`DEGENERATE_CORRECTED`, where both err by ~3e-13
    relative to sqrt(V1 V2) for Max(x - 1/2, 0) at q1 = q2)."""
    terms = parse_kinked(expr)
    sD = sp.sqrt(D)
    general = sp.Add(*[_pair(t1, t2, q1, q2, c, sD) for t1 in terms for t2 in terms])
    general = general.subs(sD, sp.sqrt(D))
    plus, minus = _degenerate(terms, q1, q2, 1), _degenerate(terms, q1, q2, -1)
    try:
        dterms = parse_kinked(sp.diff(canonical(expr), X))
        dplus, dminus = _degenerate(dterms, q1, q2, 1), _degenerate(dterms, q1, q2, -1)
    except NotInClass:                                  # phi' has a delta': no first-order correction
        dplus = dminus = sp.oo
    threshold = DEGENERATE
    if plus.is_finite is not False and dplus.is_finite is not False and dminus.is_finite is not False \
            and not (dplus.has(sp.oo) or dminus.has(sp.oo)):
        root = sp.sqrt(q1) * sp.sqrt(q2)
        # F(c) = F(c*) - (c* - c) Fdot(c*) + O((c* - c)^(3/2)); Max/Min keep the branch not taken finite
        plus = plus - D / (root + sp.Max(c, 0)) * dplus
        minus = minus + D / (root - sp.Min(c, 0)) * dminus
        threshold = DEGENERATE_CORRECTED
    # numpy evaluates every branch: the general one at D no smaller than where it is used (no 0/0 warnings)
    general = general.subs(D, sp.Max(D, threshold * q1 * q2 / 2))
    return sp.Piecewise((general, D > threshold * q1 * q2), (plus, c > 0), (minus, True))


def kink_points(expr) -> tuple[float, ...]:
    """The thresholds (sorted floats) where ``expr`` or its derivative jumps, when it is in the class
    (else ()): quadrature references split their integrals there.

    >>> kink_points(sp.Max(X - sp.Rational(1, 2), 0) + sp.Heaviside(X + 1))
    (-1.0, 0.5)
    """
    try:
        terms = parse_kinked(canonical(expr))
    except NotInClass:
        return ()
    return tuple(sorted({float(t.a) for t in terms if t.kind != "one" and t.a.is_number}))
