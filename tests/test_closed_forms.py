"""Issue 12 item 3: closed forms for kinks and thresholds away from 0 (symndk.spec.kinks).

Expected values are independent: mpmath 2-D quadrature at 20 digits in (z1, z2) split at the kink
lines (not the bivariate-normal formulas under test), 1-D mpmath quadrature on rho = +-1, SciPy's
bivariate normal CDF, and the closed forms evaluated in exact arithmetic at 40 digits (for the
numerics near rho = +-1).
"""
import mpmath
import numpy as np
import pytest
import sympy as sp

from symndk.spec.activations import X
from symndk.spec.kinks import BVN, D, canonical, kink_dual

Q1, Q2 = sp.symbols("q1 q2", positive=True)
C = sp.Symbol("c", real=True)

CASES = {
    # name: (SymPy expression, mpmath phi, kinks)
    "relu_shift": (sp.Max(X - sp.Rational(1, 2), 0), lambda x: max(x - mpmath.mpf(1) / 2, 0), [0.5]),
    "affine": (sp.Max(2 * X + 1, 0), lambda x: max(2 * x + 1, 0), [-0.5]),
    "abs_shift": (sp.Abs(X - sp.Rational(3, 10)), lambda x: abs(x - mpmath.mpf(3) / 10), [0.3]),
    "threshold": (sp.Heaviside(X - 1), lambda x: mpmath.mpf(1) if x > 1 else mpmath.mpf(0), [1.0]),
    "elu_piecewise": (sp.Piecewise((X, X >= 0), (sp.exp(X) - 1, True)),
                      lambda x: x if x > 0 else mpmath.expm1(x), [0.0]),
    "rect_square_shift": (X**2 * sp.Heaviside(X + sp.Rational(1, 4)), lambda x: x * x if x > -0.25 else 0, [-0.25]),
}


def _mp_quad2(f, kinks, q1, q2, rho, dps=20):
    with mpmath.workdps(dps):
        s1, s2 = mpmath.sqrt(q1), mpmath.sqrt(q2)
        r = mpmath.sqrt(1 - mpmath.mpf(rho) ** 2)
        outer = sorted({-12, 12} | {k / s1 for k in kinks})

        def inner(z1):
            pts = sorted({-12, 12} | {(k / s2 - rho * z1) / r for k in kinks if abs((k / s2 - rho * z1) / r) < 12})
            return mpmath.quad(lambda z2: mpmath.npdf(z2) * f(s2 * (rho * z1 + r * z2)), pts)

        return mpmath.quad(lambda z1: mpmath.npdf(z1) * f(s1 * z1) * inner(z1), outer)


def _value(F, q1, q2, rho):
    c = rho * np.sqrt(q1 * q2)
    pt = {Q1: sp.Float(q1, 30), Q2: sp.Float(q2, 30), C: sp.Float(c, 30)}
    return F.subs(pt).subs(D, sp.Float(q1 * q2 * (1 - rho) * (1 + rho), 30)).doit().evalf(25)


@pytest.mark.parametrize("name", [n if n in ("relu_shift", "threshold") else pytest.param(n, marks=pytest.mark.slow)
                                  for n in sorted(CASES)])
def test_kink_kernel_matches_2d_quadrature(name):
    expr, f, kinks = CASES[name]
    F = kink_dual(canonical(expr), Q1, Q2, C)
    for q1, q2, rho in ((1.0, 2.0, 0.3), (0.5, 0.7, -0.8)):
        ref = _mp_quad2(f, kinks, q1, q2, rho)
        assert abs(float(_value(F, q1, q2, rho) - ref)) < 1e-13 * max(1.0, abs(float(ref)))


@pytest.mark.parametrize("name", ["relu_shift", "elu_piecewise", "affine"])
def test_kink_kernel_on_rho_pm1_matches_1d_quadrature(name):
    expr, f, kinks = CASES[name]
    F = kink_dual(canonical(expr), Q1, Q2, C)
    q1, q2 = 1.3, 0.6
    for rho in (1, -1):
        lam = rho * np.sqrt(q2 / q1)
        s1 = np.sqrt(q1)
        pts = sorted({-12, 12} | {k / s1 for k in kinks} | {k / (lam * s1) for k in kinks})
        ref = mpmath.quad(lambda z: mpmath.npdf(z) * f(s1 * z) * f(lam * s1 * z), pts)
        got = F.subs({Q1: sp.Float(q1, 30), Q2: sp.Float(q2, 30), C: sp.Float(rho * np.sqrt(q1 * q2), 30)}).subs(D, 0)
        assert abs(float(got.doit().evalf(25)) - float(ref)) < 1e-13


def test_bvn_against_scipy_and_its_limits():
    from scipy.stats import multivariate_normal

    for h, k, r in ((0.3, -0.2, 0.5), (-1.0, 0.7, -0.8), (0.0, 0.0, 0.4), (0.0, 1.2, 0.9)):
        ref = multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]]).cdf([h, k])
        got = float(BVN(sp.Float(h), sp.Float(k), sp.Float(r), sp.sqrt(1 - sp.Float(r) ** 2)).evalf(20))
        assert abs(got - ref) < 1e-7          # SciPy's mvn CDF is accurate to ~1e-8
    assert BVN(sp.Rational(1, 2), -1, 1, 0) == sp.erfc(sp.sqrt(2) / 2) / 2      # Phi(min(h, k))
    assert BVN(0, 0, 0, 1) == sp.Rational(1, 4)


def test_generated_bvn_runtime_matches_mpmath():
    """The numpy runtime (Owen's T) against the mpmath runtime (quadrature) at 30 digits, incl. h = 0,
    k = 0, negative zero, s = 0 and s -> 0."""
    from symndk_generated._runtime import _bvn as bvn_np
    from symndk_generated._runtime_mpmath import _bvn as bvn_mp

    cases = [(0.3, -0.2, 0.5), (-2.0, -3.0, 0.9), (0.0, 1.5, -0.3), (-0.0, 1.5, -0.3), (1.2, 0.0, 0.7),
             (0.0, 0.0, 0.6), (0.5, 0.5, 1.0), (0.5, -0.2, -1.0), (-1.0, -1.0, 1 - 1e-12)]
    for h, k, r in cases:
        s = float(np.sqrt((1 - r) * (1 + r)))
        with mpmath.workdps(30):
            ref = bvn_mp(h, k, r, s)
        assert abs(float(bvn_np(h, k, r, s)) - float(ref)) < 2e-15, (h, k, r)


def test_numpy_kernel_near_rho_one_keeps_its_digits(tmp_path, monkeypatch):
    """Max(x - 1/2, 0) at q1 = q2 = 1, rho = 1 - 10^-k: generated numpy F against the closed form in
    40-digit arithmetic (the general branch, validated against quadrature above): the rho = +-1 branch
    with its first-order correction takes over where the general form loses digits."""
    from symndk.checks.activation import activation_kernel
    from symndk.spec.dual import derive_dual

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    duals = activation_kernel("Max(x - 0.5, 0)", "t_kink_rho").duals
    F = derive_dual(canonical(sp.Max(X - sp.Rational(1, 2), 0))).F.args[0][0]
    F = F.replace(lambda e: isinstance(e, sp.Max) and e.has(D), lambda e: D)   # the general form, unclamped
    scale = float(duals.V(1.0))
    for k in range(2, 16):
        rho = 1 - mpmath.mpf(10) ** -k
        with mpmath.workdps(40):
            exact = F.subs({Q1: 1, Q2: 1, C: sp.Float(str(rho), 40)}).subs(D, sp.Float(str(1 - rho**2), 40)).doit().evalf(35)
        got = duals.F(1.0, 1.0, float(rho), float(1 - rho**2))
        assert abs(float(got) - float(exact)) / scale < 5e-13, k


@pytest.mark.slow
@pytest.mark.parametrize("text", ["Max(x - 0.5, 0)", "Max(2*x + 1, 0)", "Abs(x - 0.3)", "Heaviside(x - 1)",
                                  "Max(x, 0)**2", "elu(x)"])
def test_symndk_kernel_gives_closed_forms_that_pass_every_check(tmp_path, monkeypatch, text):
    from symndk.checks.activation import activation_kernel

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    result = activation_kernel(text, "t_closed")
    # every kernel in closed form; only a distributional phi' (delta: Heaviside) has no pointwise code
    assert not [k for k in result.numeric if k != "dphi"], result.numeric
    assert result.closed_form or (result.numeric == ("dphi",) and "DiracDelta" in result.dphi)
    assert all(c.passed for c in result.checks), [c.line() for c in result.checks if not c.passed]
    assert result.modules


def test_piecewise_outside_the_class_is_refused_naming_it():
    from symndk.spec.kinks import piecewise_to_heaviside
    from symndk.spec.gaussian import NotInClass

    with pytest.raises(NotInClass, match="Piecewise"):
        piecewise_to_heaviside(sp.Piecewise((X, sp.sin(X) > 0), (0, True)))


def test_piecewise_text_is_parsed_and_derived_in_closed_form():
    from symndk.spec.dual import derive_dual
    from symndk.spec.parser import parse_activation

    expr = parse_activation("Piecewise((x, x >= 0), (exp(x) - 1, True))")
    dual = derive_dual(expr)
    assert dual.method.startswith("kinks") and dual.F is not None and dual.Fdot is not None
    q = 0.7      # V(q) = E[phi(u)^2] against 1-D mpmath quadrature
    ref = mpmath.quad(lambda z: mpmath.npdf(z) * (mpmath.sqrt(q) * z if z > 0 else mpmath.expm1(mpmath.sqrt(q) * z)) ** 2,
                      [-mpmath.inf, 0, mpmath.inf])
    assert abs(float(dual.V.subs(sp.Symbol("q", positive=True), sp.Float(q, 30)).doit().evalf(25)) - float(ref)) < 1e-14
    other = derive_dual(parse_activation("Piecewise((x, sin(x) > 0), (0, True))"))
    assert other.F is None and "Piecewise" in other.method


@pytest.mark.parametrize("text, message", [("Piecewise((x, x > 0))", "last Piecewise condition must be True"),
                                           ("Piecewise(x)", "Piecewise takes pairs")])
def test_piecewise_text_errors_name_it(text, message):
    from symndk.errors import SymndkError
    from symndk.spec.parser import parse_activation

    with pytest.raises(SymndkError, match=message):
        parse_activation(text)
