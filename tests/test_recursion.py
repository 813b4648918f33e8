"""Two-time prior statistics and layer recursion (symndk.runtime.recursion).

Expected values come from independent routes: closed forms (linear activation), mpmath at
50 digits with the mpmath kernels, finite differences of the prior, and the long-time
identity of docs/theory.md §6.
"""
import math

import mpmath
import numpy as np
import pytest

from symndk.kernels import loader as duals
from symndk.runtime.recursion import layer_kernels, prior_C, prior_gram, two_time_ndk


def _mp_ndk(name, depth, k0, t, s, s0, s2, g, dps=50):
    """NDK of one input with itself in mpmath (naive C_tt C_ss - C_ts^2 at 2x digits)."""
    mod = duals.load(name, "mpmath")
    with mpmath.workdps(dps):
        t, s, s0, s2, g, k0 = map(mpmath.mpf, (t, s, s0, s2, g, k0))
        C = lambda a, b: prior_C(a, b, s0, s2, g, mpmath.exp)
        out = layer_kernels(k0, k0, k0, C(t, t), C(s, s), C(t, s), depth, mod)
        return out[3] * mpmath.exp(-g * (t - s))


def test_prior_C_basic_properties():
    s0, s2, g = 2.0, 0.7, 0.3
    C = lambda t, s: prior_C(t, s, s0, s2, g, math.exp)
    assert C(0, 0) == pytest.approx(s0, rel=1e-15)
    assert C(1e4, 1e4) == pytest.approx(s2, rel=1e-12)
    h = 1e-6
    t, s = 2.0, 0.5
    assert (C(t + h, s) - C(t - h, s)) / (2 * h) == pytest.approx(-g * C(t, s), rel=1e-8)
    dCtt = (C(t + h, t + h) - C(t - h, t - h)) / (2 * h)
    assert dCtt == pytest.approx(-2 * g * C(t, t) + 2 * g * s2, rel=1e-8)   # 2T = 2 gamma sigma^2
    assert prior_C(3.0, 1.0, s2, s2, g, math.exp) == pytest.approx(s2 * math.exp(-2 * g), rel=1e-15)


@pytest.mark.parametrize("lag", [1e-14, 1e-9, 1e-3, 2.0])
def test_prior_gram_keeps_digits(lag):
    s0, s2, g, s = 1.7, 0.9, 0.05, 3.0
    with mpmath.workdps(60):
        C = lambda a, b: prior_C(mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(s0), mpmath.mpf(s2), mpmath.mpf(g), mpmath.exp)
        t_mp = mpmath.mpf(s) + mpmath.mpf(lag)
        exact = C(t_mp, t_mp) * C(s, s) - C(t_mp, s) ** 2
    got = prior_gram(s + lag, s, s0, s2, g, math.exp, math.expm1, lag=lag)
    assert got == pytest.approx(float(exact), rel=1e-13)


def test_linear_closed_form_any_times():
    lin = duals.load("linear", "numpy")
    s0, s2, g, t, s = 1.5, 1.0, 0.2, 3.0, 1.0
    C = lambda a, b: prior_C(a, b, s0, s2, g, np.exp)
    k0 = np.array([0.3, -0.7, 1.2])
    for L in (1, 2, 3):
        K, Kdot, th_prev, th = layer_kernels(2.0, 1.5, k0, C(t, t), C(s, s), C(t, s), L, lin)
        np.testing.assert_allclose(K, C(t, s) ** L * k0, rtol=1e-14)
        np.testing.assert_allclose(th, (L + 1) * C(t, s) ** L * k0, rtol=1e-14)
        np.testing.assert_allclose(th_prev, L * C(t, s) ** (L - 1) * k0, rtol=1e-14)


@pytest.mark.parametrize("name", ["relu", "erf"])
@pytest.mark.parametrize("gtau", [1e-14, 1e-8, 1e-3, 0.5])
def test_ndk_same_input_matches_mpmath(name, gtau):
    """The same-input diagonal at short lags (rho -> 1) keeps its digits in float64."""
    s0, s2, g, s, L, k0 = 2.0, 1.0, 1e-3, 500.0, 3, 1.3
    lag = gtau / g
    mod = duals.load(name, "numpy")
    C = lambda a, b, lg=None: prior_C(a, b, s0, s2, g, np.exp, lg)
    D_C = prior_gram(s + lag, s, s0, s2, g, np.exp, np.expm1, lag)
    th = layer_kernels(k0, k0, k0, C(s + lag, s + lag), C(s, s), C(s + lag, s, lag), L, mod, D_C, 0.0)[3]
    with mpmath.workdps(50):
        exact = _mp_ndk(name, L, k0, mpmath.mpf(s) + mpmath.mpf(lag), s, s0, s2, g, dps=50)
        exact = exact * mpmath.exp(g * mpmath.mpf(lag))          # Theta_L without the e^{-gamma tau}
    assert float(th) == pytest.approx(float(exact), rel=5e-15)
    cusp = float(exact) - float(_mp_ndk(name, L, k0, s, s, s0, s2, g))  # the part that varies with the lag
    th0 = layer_kernels(k0, k0, k0, C(s, s), C(s, s), C(s, s), L, mod, 0.0, 0.0)[3]
    assert float(th - th0) == pytest.approx(cusp, rel=1e-6, abs=1e-15)


@pytest.mark.parametrize("name", ["relu", "erf"])
def test_numpy_and_mpmath_backends_agree(name):
    rng = np.random.default_rng(3)
    q = rng.uniform(0.3, 2.0, size=(5, 3))
    np_mod, mp_mod = duals.load(name, "numpy"), duals.load(name, "mpmath")
    for k_tt, k_ss, rho in q:
        k_ts = (rho / 2.0 - 0.5) * math.sqrt(k_tt * k_ss)
        a = layer_kernels(k_tt, k_ss, k_ts, 1.2, 0.8, 0.6, 2, np_mod)
        b = layer_kernels(*(mpmath.mpf(v) for v in (k_tt, k_ss, k_ts, 1.2, 0.8, 0.6)), 2, mp_mod)
        np.testing.assert_allclose(np.array(a, float), np.array([float(v) for v in b]), rtol=1e-13)


@pytest.mark.parametrize("name", ["relu", "erf", "linear"])
def test_long_time_identity(name):
    """docs/theory.md §6, stationary regime: Theta_L - K_L = (1/gamma) d/ds K_L(t, s)."""
    mod = duals.load(name, "numpy")
    s2, g, t, s, L = 1.3, 0.2, 5.0, 3.0, 2
    k_tt, k_ss, k_ts = 1.1, 0.8, 0.4
    C = lambda a, b: prior_C(max(a, b), min(a, b), s2, s2, g, np.exp)
    KL = lambda ss: layer_kernels(k_tt, k_ss, k_ts, C(t, t), C(ss, ss), C(t, ss), L, mod)[0]
    K, _, _, th = layer_kernels(k_tt, k_ss, k_ts, C(t, t), C(s, s), C(t, s), L, mod)
    h = 1e-4
    dK = (KL(s + h) - KL(s - h)) / (2 * h)
    assert th - K == pytest.approx(dK / g, rel=1e-7)


def test_ndk_broadcasts_over_blocks():
    relu = duals.load("relu", "numpy")
    X = np.random.default_rng(0).normal(size=(4, 6))
    G = X @ X.T / 6
    n = np.diag(G)
    K = two_time_ndk(n[:, None], n[None, :], G, 2.0, 1.0, 0.5, 1.0, 0.1, 2, relu, np.exp)
    assert K.shape == (4, 4)
    assert K[1, 2] == pytest.approx(float(two_time_ndk(n[1], n[2], G[1, 2], 2.0, 1.0, 0.5, 1.0, 0.1, 2, relu, np.exp)), rel=1e-15)
