"""Radau IIA panel collocation (symndk.dynamics.volterra, mesh, compress).

Checks against closed forms (linear activation, stationary prior: the Volterra equation is an
exact linear ODE) and the observed convergence order (log-log slope) on a smooth (erf) and a
kinked (ReLU, sqrt cusp on the same-input diagonal) activation.
"""
import mpmath
import numpy as np
import pytest

from symndk import data
from symndk.dynamics.compress import compress, tabulate
from symndk.dynamics.mesh import gauss, graded_rule, lag_rule, lagrange, panel_mesh, radau_nodes
from symndk.dynamics.twotime import TwoTimeKernel
from symndk.dynamics.volterra import solve


def test_radau_and_lag_rules_are_exact_on_their_classes():
    c = radau_nodes(5)
    assert c[-1] == 1.0 and np.all(np.diff(c) > 0)
    x, w = gauss(7)
    L = lagrange(c, x)
    np.testing.assert_allclose(L.sum(axis=1), 1.0, atol=1e-14)
    # int_0^3 (2 + sqrt(3 - s) / 2) (1 + s^2) ds: polynomial in v = sqrt(3 - s) on each piece
    s, w = lag_rule(3.0, 0.0, [1.0, 2.5], n=8, ratio=4.0, levels=3)
    f = lambda x: (2.0 + 0.5 * (3.0 - x) ** 0.5) * (1 + x ** 2)
    exact = float(mpmath.quad(f, [0, 1, 2.5, 3]))
    assert np.sum(w * f(s)) == pytest.approx(exact, rel=1e-13)
    s, w, _ = graded_rule(np.array([0.0, 1.0, 2.0, 4.0]), 3.0, 2.5)
    assert np.sum(w * np.abs(s - 2.5) ** 0.5) == pytest.approx(2 / 3 * (2.5 ** 1.5 + 0.5 ** 1.5), rel=1e-13)


def test_panel_mesh_is_multiscale():
    e = panel_mesh(2e4, 4.0, 1e-3)
    h = np.diff(e)
    assert e[0] == 0 and e[-1] == 2e4 and np.all(h > 0)
    assert h[0] < 1e-3 and h.max() < 5e3 and e.size < 60
    assert np.all(h[1:] / h[:-1] <= 2.0 + 1e-12)          # no abrupt jumps in panel width


def _linear_exact(X, Xt, Y, L, s2, g, t):
    """Stationary linear network: K^d = A e^{-beta tau} K0, A = (L+1) s2^L, beta = (L+1) g."""
    N0 = X.shape[1]
    K0, k0 = X @ X.T / N0, Xt @ X.T / N0
    A, beta = (L + 1) * s2 ** L, (L + 1) * g
    lam, V = np.linalg.eigh(K0)
    a = A * lam + beta
    yv = V.T @ Y
    r = V @ (yv * (beta / a + A * lam / a * np.exp(-a * t)))
    integral = yv * beta / a * (1 - np.exp(-beta * t)) / beta + yv * A * lam / a * (np.exp(-beta * t) - np.exp(-a * t)) / (a - beta)
    return Y - r, A * k0 @ V @ integral


def test_linear_activation_matches_closed_form():
    rng = np.random.default_rng(1)
    P, Q, N0, L, s2, T = 5, 3, 8, 2, 1.3, 0.01
    g = T / s2
    X, Xt, Y = rng.normal(size=(P, N0)), rng.normal(size=(Q, N0)), np.sign(rng.normal(size=P))
    t_end = 30 / g
    k = TwoTimeKernel(X, Xt, "linear", L, s2, s2, T)
    tk = tabulate(compress(k, t_end), t_end)
    K0 = k.block(0.0, 0.0)[:P]
    sol = solve(tk, Y, panel_mesh(t_end, np.linalg.eigvalsh(K0).max(), g), m=12)
    times = np.array([0.1, 1.0, 10.0, 100.0, 1000.0, t_end])
    f = sol.predict(times)
    for i, t in enumerate(times):
        ftr, fte = _linear_exact(X, Xt, Y, L, s2, g, t)
        np.testing.assert_allclose(f[i, :P], ftr, atol=1e-10)
        np.testing.assert_allclose(f[i, P:], fte, atol=1e-10)


@pytest.fixture(scope="module")
def synthetic_kernels():
    ds = data.synthetic(2, 0.5)
    out = {}
    for act in ("erf", "relu"):
        k = TwoTimeKernel(ds.X_train, ds.X_test, act, 2, 0.5, 1.0, 0.5)
        out[act] = (ds, tabulate(compress(k, 4.0), 4.0))
    return out


@pytest.mark.parametrize("act", ["erf", "relu"])
def test_observed_order_of_convergence(synthetic_kernels, act):
    """m = 3 Radau IIA points: nodal order 2m - 1 = 5, for the smooth and for the kinked kernel
    (the lag-graded sqrt quadrature keeps the order on the same-input diagonal)."""
    ds, tk = synthetic_kernels[act]
    t_end = 4.0
    fine = np.concatenate([[0.0], np.geomspace(1e-8, 0.25, 30), np.arange(0.5, 4.01, 0.25)])
    ref = solve(tk, ds.y_train, fine, m=14).predict([t_end])
    hs = np.array([1.0, 0.5, 0.25, 0.125])
    errs = [np.abs(solve(tk, ds.y_train, np.arange(0.0, t_end + 1e-12, h), m=3).predict([t_end]) - ref).max()
            for h in hs]
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert 4.3 < slope < 5.5, (act, errs, slope)


def test_stiff_modes_are_damped():
    """A huge NTK eigenvalue with panels far wider than its time scale: L-stable, no blow-up."""
    X = np.array([[1.0, 0.0], [0.0, 1.0]]) * np.sqrt(2) * 30.0      # |x|^2/N0 = 900: stiff
    k = TwoTimeKernel(X, X[:0], "relu", 1, 1.0, 1.0, 0.1)
    tk = tabulate(compress(k, 50.0), 50.0)
    sol = solve(tk, np.array([1.0, -1.0]), np.linspace(0.0, 50.0, 11), m=6)
    f = sol.predict([50.0])
    assert np.all(np.isfinite(f)) and np.abs(f).max() < 1.5
