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
from symndk.dynamics.volterra import solve, solve_pair


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


@pytest.fixture(scope="module")
def gmres_sized():
    """P = 160 random inputs: m P > 600, so the panels go through GMRES and the embedded
    order through StiffSolver.correct (the small synthetic task is solved densely)."""
    rng = np.random.default_rng(3)
    X, Y, Xt = rng.normal(size=(160, 10)), np.sign(rng.normal(size=160)), rng.normal(size=(5, 10))
    out = {}
    for act in ("erf", "relu"):
        k = TwoTimeKernel(X, Xt, act, 2, 0.5, 1.0, 0.5)
        out[act] = (Y, tabulate(compress(k, 4.0), 4.0))
    return out


@pytest.mark.parametrize("act", ["erf", "relu"])
def test_embedded_order_is_the_separate_lower_order_solve(gmres_sized, act):
    """solve_pair's m - 2 solution (a 1 % correction of the interpolated m solution per panel) equals
    the m - 2 solution solved on its own to full accuracy, to 2 % of the m vs m - 2 difference (the
    error estimate); foil: the uncorrected interpolated m solution misses it by ~100 %."""
    Y, tk = gmres_sized[act]
    edges = np.concatenate([[0.0], np.geomspace(1e-3, 0.5, 6), np.arange(1.0, 4.01, 0.5)])
    hi, lo = solve_pair(tk, Y, edges, m=8)
    alone = solve(tk, Y, edges, m=6)
    times = np.array([0.3, 1.0, 2.5, 4.0])
    gap = np.abs(hi.predict(times) - alone.predict(times)).max()             # the estimate itself
    assert gap > 1e-9
    assert np.abs(lo.predict(times) - alone.predict(times)).max() <= 0.02 * gap
    nodes = alone.nodes
    x0 = hi.r_at(nodes, np.repeat(np.arange(edges.size - 1), 6))
    assert np.abs(x0 - alone.U.reshape(x0.shape)).max() > 0.3 * np.abs(hi.U[:, -1] - alone.U[:, -1]).max()
    # cost: operator products of the pair (GMRES iterations + correction steps, one shared solver)
    # against the two separate solves
    separate = solve(tk, Y, edges, m=8).stats["iterations"] + alone.stats["iterations"]
    assert hi.stats["iterations"] <= 0.75 * separate, (hi.stats, separate)


@pytest.mark.parametrize("act", ["erf", "relu"])
def test_embedded_estimate_order_and_bound(gmres_sized, act):
    """Observed order of the embedded estimate |f_m - f_{m-2}| (m = 6: the m - 2 = 4 point solution
    has nodal order 2 * 4 - 1 = 7; measured local slopes 4.9, 5.9 (erf) and 6.9, 6.6 (relu) from
    h = 1 to 0.25, still pre-asymptotic for erf, so the window is 5-8.5) on uniform meshes. Truth: an
    m = 14 solve on a fine graded mesh (independent order and mesh). At every h the estimate bounds
    the true error of f_m and tracks the true error of f_{m-2} to 5 %."""
    Y, tk = gmres_sized[act]
    t_end = 4.0
    fine = np.concatenate([[0.0], np.geomspace(1e-8, 0.25, 30), np.arange(0.5, 4.01, 0.25)])
    ref = solve(tk, Y, fine, m=14).predict([t_end])
    hs = np.array([1.0, 0.5, 0.25])
    est = []
    for h in hs:
        hi, lo = solve_pair(tk, Y, np.arange(0.0, t_end + 1e-12, h), m=6)
        f, f_lo = hi.predict([t_end]), lo.predict([t_end])
        est.append(np.abs(f - f_lo).max())
        assert est[-1] >= np.abs(f - ref).max()
        assert abs(est[-1] - np.abs(f_lo - ref).max()) <= 0.05 * est[-1]
    slope = np.polyfit(np.log(hs), np.log(est), 1)[0]
    assert 5.0 < slope < 8.5, (act, est, slope)


def test_coefficient_scale_cholesky_route_matches_the_explicit_solve():
    """The equilibrium coefficients of the error-estimate scale (Cholesky when T clears the cut-off)
    against numpy's dense solve of (G + T I) alpha = y and the plateau's against K_0^{-1} y; foil: the
    scale without the equilibrium term is smaller (the term matters here)."""
    from symndk.dynamics.solvers import _coefficient_scale, ntk_eigh

    ds = data.synthetic(2, 0.5)
    k = TwoTimeKernel(ds.X_train, ds.X_test, "relu", 2, 0.5, 1.0, 1e-3)
    P, y, t_end = k.P, ds.y_train, 50.0
    K0 = k.block(0.0, 0.0)[:P]
    G = k.with_channels("prior").block(t_end, t_end)[:P] + k.T * np.eye(P)
    plateau = np.abs(K0).max() * np.abs(np.linalg.solve(K0, y)).sum()
    equilibrium = np.abs(G).max() * np.abs(np.linalg.solve(G, y)).sum()
    got = _coefficient_scale(k, y, t_end, ntk_eigh(k))
    assert got == pytest.approx(max(plateau, equilibrium), rel=1e-10)
    assert equilibrium > plateau


def test_panel_products_split_among_threads_are_the_plain_sums(monkeypatch):
    """The history/operator product and the preconditioner, their columns split among threads, against
    einsum and against the exact inverse: with B_k = V diag(d_k) V^T the block-diagonal preconditioner
    inverts the panel operator, whose dense form is I + sum_k G^k (x) B_k."""
    from symndk.dynamics import volterra
    from symndk.dynamics.volterra import StiffSolver, _apply

    monkeypatch.setattr(volterra, "PARALLEL_MIN", 1)                # split even these small products
    rng = np.random.default_rng(3)
    r, m, P, K = 3, 4, 60, 5
    V = np.linalg.qr(rng.standard_normal((P, P)))[0]
    B = np.stack([V @ np.diag(rng.uniform(0.1, 2.0, P)) @ V.T for _ in range(r)])
    Z = rng.standard_normal((m, r, P, K))
    G = 0.3 * rng.standard_normal((r, m, m))
    x = rng.standard_normal((m * P, K))
    expected = np.einsum("kqp,ikpc->iqc", B, Z)
    dense = np.einsum("kab,kpq->apbq", G, B).reshape(m * P, m * P) + np.eye(m * P)
    for workers in (1, 2, 3):
        monkeypatch.setenv("SYMNDK_THREADS", str(workers))
        np.testing.assert_allclose(_apply(B, Z), expected, rtol=0, atol=1e-12)
        solver = StiffSolver(B, basis=V)
        solver.basis = solver._basis(G)
        Ax = solver._matmat(G, x)
        np.testing.assert_allclose(Ax, dense @ x, rtol=0, atol=1e-12)
        pre = solver._blockdiag(G)
        np.testing.assert_allclose(pre(Ax), x, rtol=0, atol=1e-10)
        np.testing.assert_allclose(pre(Ax[:, 1]), x[:, 1], rtol=0, atol=1e-10)   # one column: same map
    assert np.abs(_apply(B[:, ::-1], Z) - expected).max() > 1e-3                  # foil: the rows reversed


def test_panel_threads_work_in_a_forked_child(monkeypatch):
    """A child forked after the parent started its panel threads starts its own (the parent's executor
    would wait forever on threads that the child does not have)."""
    import multiprocessing

    from symndk.dynamics import volterra

    monkeypatch.setattr(volterra, "PARALLEL_MIN", 1)
    monkeypatch.setenv("SYMNDK_THREADS", "2")
    rng = np.random.default_rng(4)
    B, Z = rng.standard_normal((2, 30, 20)), rng.standard_normal((3, 2, 20, 1))
    expected = np.einsum("kqp,ikpc->iqc", B, Z)
    np.testing.assert_allclose(volterra._apply(B, Z), expected, rtol=0, atol=1e-12)   # the parent's threads
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(volterra._apply, (B, Z)).get(timeout=60)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
