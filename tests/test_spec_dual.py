"""Derived dual kernels agree with the independent closed forms of docs/theory.md §9."""
import mpmath as mp
import pytest
import sympy as sp

from symndk.errors import SymndkError
from symndk.spec.activations import X, get_activation, list_activations
from symndk.spec.dual import C, Q, Q1, Q2, derive_dual, dual_kernels


def _theory(name, q1, q2, c):
    """docs/theory.md §9, typed independently of the engine (the point of the test)."""
    if name == "linear":
        return c, 1
    if name == "relu":
        th = mp.acos(c / mp.sqrt(q1 * q2))
        return mp.sqrt(q1 * q2) / (2 * mp.pi) * (mp.sin(th) + (mp.pi - th) * mp.cos(th)), (mp.pi - th) / (2 * mp.pi)
    if name == "erf":
        return (2 / mp.pi * mp.asin(2 * c / mp.sqrt((1 + 2 * q1) * (1 + 2 * q2))),
                4 / mp.pi / mp.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * c**2))
    raise KeyError(name)


def _ev(expr, q1, q2, c):
    return sp.lambdify((Q1, Q2, C), expr, "mpmath")(q1, q2, c)


@pytest.mark.parametrize("name", ["linear", "relu", "erf"])
@pytest.mark.parametrize("q1,q2,rho", [(0.7, 1.9, 0.3), (2.5, 0.4, -0.85), (1.1, 1.3, 0.999)])
def test_matches_theory_section9(name, q1, q2, rho):
    with mp.workdps(30):
        q1, q2 = mp.mpf(q1), mp.mpf(q2)
        c = rho * mp.sqrt(q1 * q2)
        d = dual_kernels(get_activation(name))
        F, Fd = _theory(name, q1, q2, c)
        assert abs(_ev(d.F, q1, q2, c) - F) < mp.mpf(10) ** -25
        assert abs(_ev(d.Fdot, q1, q2, c) - Fd) < mp.mpf(10) ** -25


@pytest.mark.parametrize("name", ["linear", "relu", "erf"])
@pytest.mark.parametrize("sgn", [1, -1])
def test_rho_pm1_real_and_finite(name, sgn):
    d = dual_kernels(get_activation(name))
    for q1, q2 in ((mp.mpf("0.8"), mp.mpf("0.8")), (mp.mpf(4), mp.mpf("0.25"))):
        c = sgn * mp.sqrt(q1 * q2)  # exact: rho = +-1 on the nose
        for e in (d.F, d.Fdot):
            v = mp.mpmathify(_ev(e, q1, q2, c))
            assert isinstance(v, mp.mpf) and mp.isfinite(v)


def test_means_and_diagonals():
    relu = dual_kernels(get_activation("relu"))
    assert sp.expand(relu.Fbar - sp.sqrt(Q1 * Q2) / (2 * sp.pi)) == 0
    assert relu.V == Q / 2 and relu.Vdot == sp.Rational(1, 2)
    assert dual_kernels(get_activation("erf")).mean == 0


def test_dphi_is_derived_and_registry_errors():
    assert get_activation("relu").dphi == sp.Heaviside(X)
    assert {"linear", "relu", "erf"} <= set(list_activations())
    with pytest.raises(SymndkError, match="unknown activation 'nope'"):
        get_activation("nope")


def test_no_closed_form_gives_none():
    d = derive_dual(sp.tanh(X))
    assert d.F is None and d.Fdot is None and "none" in d.method


def test_exponent_outside_the_class_is_no_closed_form():
    """ELU, written with exp(Min(0, x)): the exponent carries a Heaviside factor (once a PolynomialError
    traceback from the derivation's child process); now 'no closed form' in one line."""
    d = derive_dual(sp.Max(X, 0) + sp.exp(sp.Min(X, 0)) - 1)
    assert d.F is None and d.Fdot is None and "none" in d.method


def _numerics_table(name, q1, q2, c):
    """docs/numerics.md §6.6 closed-form table (+ Cho & Saul J_2), typed independently of the engine."""
    th = mp.acos(c / mp.sqrt(q1 * q2))
    S = q1 + q2
    if name in ("leaky", "abs"):
        a, b = (mp.mpf(1) / 10, 1) if name == "leaky" else (-1, 1)
        return (a - b) ** 2 / (2 * mp.pi) * mp.sqrt(q1 * q2 - c**2) + ((a**2 + b**2) / 2 - (a - b) ** 2 * th / (2 * mp.pi)) * c
    if name == "sign":
        return 1 - 2 * th / mp.pi
    if name == "step":
        return (mp.pi - th) / (2 * mp.pi)
    if name == "relu2":  # Cho & Saul arc-cosine kernel J_2
        return q1 * q2 / (2 * mp.pi) * (3 * mp.sin(th) * mp.cos(th) + (mp.pi - th) * (1 + 2 * mp.cos(th) ** 2))
    if name in ("sin", "cos"):  # A sin(Bx + p): A = 1, B = 2, p = 0 or pi/2
        B, p = 2, (0 if name == "sin" else mp.pi / 2)
        return (mp.exp(B**2 * (c - S / 2)) - mp.exp(-(B**2) * (c + S / 2)) * mp.cos(2 * p)) / 2
    if name == "exp":
        return mp.exp(S / 2 + c)
    if name == "gauss":  # e^(beta x^2), beta = -1/2
        beta = -mp.mpf(1) / 2
        return 1 / mp.sqrt((1 - 2 * beta * q1) * (1 - 2 * beta * q2) - 4 * beta**2 * c**2)
    raise KeyError(name)


TABLE = {"leaky": sp.Max(X, 0) + sp.Min(X, 0) / 10, "abs": sp.Abs(X), "sign": sp.sign(X), "sin": sp.sin(2 * X),
         "cos": sp.cos(2 * X), "exp": sp.exp(X), "gauss": sp.exp(-X**2 / 2), "step": sp.Heaviside(X),
         "relu2": X**2 * sp.Heaviside(X)}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_matches_numerics_table(name):
    F = derive_dual(TABLE[name]).F
    with mp.workdps(30):
        for q1, q2, rho in ((mp.mpf("0.7"), mp.mpf("1.9"), mp.mpf("0.3")), (mp.mpf("2.5"), mp.mpf("0.4"), mp.mpf("-0.85"))):
            c = rho * mp.sqrt(q1 * q2)
            assert abs(_ev(F, q1, q2, c) - _numerics_table(name, q1, q2, c)) < mp.mpf(10) ** -25
