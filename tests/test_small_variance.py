"""Small-variance accuracy of every built-in closed form (issue 10, item 4): the generated kernels
of every backend against the SymPy dual kernels evaluated independently at 50 digits, for variances
from 1e-20 to 1e3.  Before the codegen's small-scale branch, GELU's V(1e-20) came out as 5.6e-17
(true 2.5e-21) and sin's/cos's kernels lost every digit below q ~ 1e-16."""
import gmpy2
import mpmath
import numpy as np
import pytest
import sympy as sp

import symndk
from symndk.kernels.loader import load
from symndk.spec.activations import BUILTIN, get_activation
from symndk.spec.dual import C, Q, Q1, Q2, dual_kernels

SCALES = ["1e-20", "1e-12", "3e-8", "1e-4", "0.01", "0.3", "1", "7", "100", "1e3"]
#: (a1, a2, rho): F is evaluated at q1 = s a1, q2 = s a2, c = rho sqrt(q1 q2) for every scale s
DIRECTIONS = [("1", "1", "3/5"), ("5/4", "4/5", "-1/3")]
RTOL = {"numpy": 1e-12, "mpmath": 1e-27, "mpfr": 1e-27}


def _names():
    return sorted(n for n in BUILTIN if load(n).CLOSED_FORM)


def _truth(expr, point):
    """The SymPy dual kernel at exact rational arguments, to 50 significant digits (SymPy's evalf)."""
    return mpmath.mpf(str(sp.N(expr.subs(point), 50, maxn=2000)))


def _points(fn):
    out = []
    for s in SCALES:
        s = sp.Rational(s)
        if fn in ("V", "Vdot"):
            out.append({Q: s})
            continue
        for a1, a2, rho in DIRECTIONS:
            q1, q2 = s * sp.Rational(a1), s * sp.Rational(a2)
            pt = {Q1: q1, Q2: q2}
            if fn in ("F", "Fdot"):
                pt[C] = sp.Rational(rho) * sp.sqrt(q1 * q2)
            out.append(pt)
    return out


def _exact(v):
    """The exact binary value of a float, mpf or mpfr as a SymPy rational."""
    if isinstance(v, mpmath.mpf):
        man, exp = v.man_exp
        return (-1 if v < 0 else 1) * sp.Integer(man) * sp.Integer(2) ** exp
    return sp.Rational(*v.as_integer_ratio())


def _call(duals, fn, point, backend):
    """Evaluate the generated function at the point rounded to the backend's numbers."""
    with mpmath.workdps(60):
        vals = [mpmath.mpf(str(sp.N(point[s], 60))) for s in {"V": [Q], "Vdot": [Q], "Fbar": [Q1, Q2]}.get(fn, [Q1, Q2, C])]
    if backend == "numpy":
        vals = [float(v) for v in vals]
        return mpmath.mpf(float(getattr(duals, fn)(*vals))), vals
    if backend == "mpmath":
        with mpmath.workdps(30):
            return getattr(duals, fn)(*vals), vals
    with gmpy2.context(gmpy2.get_context(), precision=100):
        vals = [gmpy2.mpfr(mpmath.nstr(v, 60)) for v in vals]
        got = sp.Rational(*getattr(duals, fn)(*vals).as_integer_ratio())
    with mpmath.workdps(60):
        return mpmath.mpf(got.p) / got.q, vals


@pytest.mark.parametrize("backend", ["numpy", "mpmath", "mpfr"])
@pytest.mark.parametrize("name", _names())
def test_small_and_large_variance_against_50_digits(name, backend):
    dual = dual_kernels(get_activation(name))
    duals = load(name, backend)
    worst = []
    for fn in ("V", "Vdot", "F", "Fdot", "Fbar"):
        expr = getattr(dual, fn)
        for point in _points(fn):
            got, vals = _call(duals, fn, point, backend)
            # truth at the arguments the backend actually received (rounded inputs)
            exact = {s: _exact(v) for s, v in zip(point, vals)}
            with mpmath.workdps(50):
                true = _truth(expr, exact)
                # float64 cannot hold a value below ~1e-300 (cos F at q ~ 1e3 is exp(-800)): absolute there
                scale = max(abs(true), mpmath.mpf(10) ** (-300 if backend == "numpy" else -1000))
                err = abs(mpmath.mpf(got) - true) / scale
            worst.append((float(err), fn, {str(k): str(v) for k, v in point.items()}))
    err, fn, point = max(worst, key=lambda w: w[0])
    assert err < RTOL[backend], f"{name} {backend}: {fn}{point} relative error {err:.2e}"


@pytest.mark.parametrize("activation", ["gelu", "sin"])
def test_ntk_equilibrium_at_small_variance(activation):
    """At sigma0_sq = 1e-8 GELU (x/2 + x^2/sqrt(2 pi) + ...) and sin (x - x^3/6 + ...) act linearly to
    relative O(1e-8), and the equilibrium k^T K^-1 y does not depend on the kernel's scale: it is the
    linear regression on K0 = X X^T / N0 (computed here directly).  Before the fix GELU gave -1.961
    for the first test point (exact -1.756) and sin -2.98."""
    rng = np.random.default_rng(0)
    X, y, Xt = rng.normal(size=(5, 8)), rng.choice([-1.0, 1.0], 5), rng.normal(size=(3, 8))
    exact = Xt @ X.T @ np.linalg.solve(X @ X.T, y)
    res = symndk.ntk_equilibrium(X, y, Xt, activation=activation, depth=2, sigma0_sq=1e-8)
    np.testing.assert_allclose(res.test.ravel(), exact, rtol=1e-6, atol=1e-7)
