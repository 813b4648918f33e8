"""The Volterra panel solver in an array-API namespace (issue 16, "Scale" item 1), on CPU with
array_api_strict (the standard and nothing else): StiffSolver's panel solves and whole solve_pair runs
on a device basis (TwoTimeKernel(..., backend=).compressed) equal the NumPy ones, and their results stay
in the namespace."""
import numpy as np
import pytest

from symndk import data
from symndk.backend.select import to_numpy
from symndk.dynamics.twotime import TwoTimeKernel
from symndk.dynamics.volterra import StiffSolver, solve, solve_pair

xp = pytest.importorskip("array_api_strict")
STRICT = type(xp.asarray(1.0))


def _panel(P, m, r=3, seed=0):
    """A panel operator I + sum_k G^k (x) B_k of the solver's kind: B_k symmetric positive (NTK-like
    blocks, not sharing an eigenbasis), G^k of a stiff step (h lambda_max ~ 3)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((r, P, P + 5)) / np.sqrt(P)
    B = np.einsum("kpa,kqa->kpq", A, A) + 0.1 * np.eye(P)
    G = 0.5 * np.abs(rng.standard_normal((r, m, m))) / m + 0.2 * np.eye(m)
    return B, G


def _dense(B, G):
    m, P = G.shape[1], B.shape[1]
    return np.einsum("kab,kpq->apbq", G, B).reshape(m * P, m * P) + np.eye(m * P)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("P, m", [(40, 6), (90, 8)])          # m P = 240: dense; 720: GMRES
def test_stiff_solver_in_array_api_strict_equals_numpy(P, m, K):
    """Measured, relative to NumPy's: dense 2.6e-16 / 2.4e-16 (K = 1 / 3); GMRES 1.8e-14 (K = 1, where NumPy
    runs SciPy's GMRES and the namespace the block GMRES: two GMRES stopping at tol = 1e-13) / 2.7e-16
    (K = 3, the same block GMRES); against numpy.linalg.solve of the dense operator 7.4e-14 / 6.1e-14
    (NumPy's own: 6.8e-14 / 6.1e-14). Foil: the preconditioned start alone (the GMRES iterations skipped)
    misses by 8.6e-2 / 7.7e-2 (> 1e-6), so the equality is the iterations' work."""
    B, G = _panel(P, m)
    rhs = np.random.default_rng(1).standard_normal((m * P, K))
    want_solver, got_solver = StiffSolver(B), StiffSolver(xp.asarray(B))
    want, got = want_solver.solve(G, rhs), got_solver.solve(G, xp.asarray(rhs))
    assert type(got) is STRICT and got.shape == (m * P, K)
    scale = np.abs(want).max()
    assert np.abs(to_numpy(got) - want).max() <= 1e-13 * scale
    exact = np.linalg.solve(_dense(B, G), rhs)
    assert np.abs(to_numpy(got) - exact).max() <= 1e-12 * scale
    if m * P > 600:                                 # the GMRES path was taken, in the namespace
        assert got_solver.stats["eig"] == 1 and got_solver.stats["iterations"] > 0
        assert type(got_solver.basis[0]) is STRICT
        start = to_numpy(got_solver._blockdiag(xp.asarray(G))(xp.asarray(rhs)))
        assert np.abs(start - exact).max() > 1e-6 * scale                       # foil


def test_stiff_solver_dense_fallback_in_array_api_strict():
    """GMRES not converging (max_iter = 1) falls back to the dense operator: in a namespace its inverse
    (SciPy's LU in NumPy), kept as the next panel's preconditioner. Measured: 6.6e-16 (first panel, dense
    fallback) and 1.9e-16 (second panel, GMRES preconditioned by it) relative to NumPy's LU route; foil:
    the first panel's inverse alone on the second panel's right-hand side misses by 1.7e-2 (> 1e-4)."""
    B, G = _panel(90, 8, seed=2)
    G2 = 1.05 * G
    rhs = np.random.default_rng(3).standard_normal((720, 2))
    for Gi in (G, G2):
        want_solver = want_solver if Gi is G2 else StiffSolver(B, max_iter=1)
        got_solver = got_solver if Gi is G2 else StiffSolver(xp.asarray(B), max_iter=1)
        want, got = want_solver.solve(Gi, rhs), got_solver.solve(Gi, xp.asarray(rhs))
        assert np.abs(to_numpy(got) - want).max() <= 1e-13 * np.abs(want).max()
    assert got_solver.stats["lu"] == want_solver.stats["lu"] == 1 and type(got_solver.lu[8]) is STRICT
    exact = np.linalg.solve(_dense(B, G2), rhs)
    assert np.abs(to_numpy(got_solver.lu[8] @ xp.asarray(rhs)) - exact).max() > 1e-4 * np.abs(exact).max()


@pytest.fixture(scope="module")
def kernels():
    """P = 70 random inputs, 3 test inputs: m P = 700 > 600, so the panels run GMRES and the embedded
    order StiffSolver.correct; the same kernel in NumPy and in array_api_strict."""
    rng = np.random.default_rng(3)
    X, Xt = rng.normal(size=(70, 6)), rng.normal(size=(3, 6))
    Y = np.sign(rng.normal(size=(70, 2)))
    args = (X, Xt, "erf", 2, 0.5, 1.0, 0.5)
    return Y, TwoTimeKernel(*args).compressed(4.0), TwoTimeKernel(*args, backend="array_api_strict").compressed(4.0)


EDGES = np.concatenate([[0.0], np.geomspace(1e-3, 0.5, 5), np.arange(1.0, 4.01, 1.0)])
TIMES = np.array([0.0, 0.3, 1.0, 2.5, 4.0])


@pytest.mark.parametrize("K", [1, 2])
def test_solve_pair_on_a_device_basis_equals_numpy(kernels, K):
    """solve_pair on the compressed kernel of TwoTimeKernel(..., backend="array_api_strict"): U, the far
    field and the predictors stay in the namespace and equal the NumPy solve. Measured, relative:
    predictors 4.0e-13 / 2.1e-14 (K = 1 / 2), U 3.0e-13 / 9.1e-15. At K = 1 NumPy runs SciPy's GMRES:
    NumPy's own block GMRES differs from it by the same 4.0e-13, and the namespace's from that by 2.7e-14.
    The m vs m - 2 estimates (6.4e-9 / 7.5e-9) agree to 3.7e-8 of their size. Foil: a 1e-10 relative
    change of one label moves the NumPy predictors by 4.1e-11 / 2.7e-11 (> 1e-12)."""
    Y, ck, ckx = kernels
    y = Y[:, 0] if K == 1 else Y
    hi, lo = solve_pair(ck, y, EDGES, m=10)
    hx, lx = solve_pair(ckx, xp.asarray(y), EDGES, m=10)
    assert all(type(a) is STRICT for a in (hx.U, hx.far_u, lx.U)) and hx.stats["eig"] >= 1
    f, fx, fx_lo = hi.predict(TIMES), hx.predict(TIMES), lx.predict(TIMES)
    assert type(fx) is STRICT and fx.shape == f.shape == ((5, 73) if K == 1 else (5, 73, 2))
    scale = np.abs(f).max()
    assert np.abs(to_numpy(fx) - f).max() <= 1e-12 * scale
    assert np.abs(to_numpy(hx.U) - hi.U).max() <= 1e-12 * np.abs(hi.U).max()
    est, est_x = np.abs(f - lo.predict(TIMES)).max(), float(xp.max(xp.abs(fx - fx_lo)))
    assert est > 1e-12 and abs(est_x - est) <= 0.1 * est
    nodes, panel = hx.nodes, np.repeat(np.arange(EDGES.size - 1), 10)
    r, want_r = hx.r_at(nodes[::-1], panel[::-1]), hi.r_at(nodes[::-1], panel[::-1])    # not in panel order
    assert type(r) is STRICT and np.abs(to_numpy(r) - want_r).max() <= 1e-12 * np.abs(want_r).max()
    moved = y.copy()
    moved[(0, 0) if K == 2 else 0] *= 1 + 1e-10
    assert np.abs(solve(ck, moved, EDGES, m=10).predict(TIMES) - f).max() > 1e-12 * scale     # foil


def test_solve_with_a_given_basis_on_the_device(kernels):
    """The preconditioner basis given by the caller (host NumPy eigenvectors of K(0, 0)) is copied to the
    device once; the solution is the NumPy one. Measured 2.2e-14 relative."""
    Y, ck, ckx = kernels
    V = np.linalg.eigh(ck.kernel.block(0.0, 0.0)[:70])[1]
    want = solve(ck, Y, EDGES, m=10, basis=V)
    got = solve(ckx, Y, EDGES, m=10, basis=V)
    assert type(got.U) is STRICT and want.stats["eig"] == got.stats["eig"] == 0
    f = want.predict(TIMES)
    assert np.abs(to_numpy(got.predict(TIMES)) - f).max() <= 1e-12 * np.abs(f).max()


def test_trajectory_on_a_device_kernel_equals_numpy_and_the_nngp_posterior():
    """solvers.trajectory (mesh, compression, table, adaptive solve_pair, error estimate) on
    TwoTimeKernel(..., backend="array_api_strict"): outputs in the namespace, equal to the NumPy
    trajectory, and at gamma t = 30 equal to the NNGP posterior mean k^T (K + gamma I)^{-1} y from
    symndk.static_kernels and numpy.linalg.solve, within the reported estimate. m = 8: two refinement
    rounds (35 -> 70 panels; Solution.r_at and the per-panel maxima on the device). Measured: 4.8e-16 /
    5.1e-16 relative to NumPy (train / test), estimates 1.86309e-11 / 1.86305e-11; posterior 1.3e-14 (test)
    and 3.9e-15 (train) off against the estimate 1.9e-11. Foils: the ridge-free K^{-1} y misses the test
    output by 3.5e-2, and the gamma t = 0.3 output misses the posterior by 4.0e-2 (both > 1e-3)."""
    import symndk
    from symndk.dynamics.solvers import trajectory

    ds = data.synthetic(4, 0.6)
    args = (ds.X_train, ds.X_test, "relu", 2, 0.5, 1.0, 0.01)            # gamma = T / sigma^2 = 0.01
    tt = np.array([1.0, 30.0, 3000.0])
    want = trajectory(TwoTimeKernel(*args), ds.y_train, tt, 1e-10, 1e-12, m=8)
    got = trajectory(TwoTimeKernel(*args, backend="array_api_strict"), ds.y_train, tt, 1e-10, 1e-12, m=8)
    assert type(got[0]) is STRICT and type(got[1]) is STRICT
    assert got[3]["refinements"] == want[3]["refinements"] == 2 and got[3]["panels"] == want[3]["panels"]
    for g, w in zip(got[:2], want[:2]):
        assert np.abs(to_numpy(g) - w).max() <= 1e-12 * np.abs(w).max()
    assert abs(got[2] - want[2]) <= 0.1 * want[2]
    S = symndk.static_kernels(ds.X_train, ds.X_test, "relu", 2, 1.0)
    K, k = S.nngp.train, S.nngp.test
    alpha = np.linalg.solve(K + 0.01 * np.eye(4), ds.y_train)
    train, test = to_numpy(got[0]), to_numpy(got[1])
    assert np.abs(test[-1] - k @ alpha).max() <= got[2] and np.abs(train[-1] - K @ alpha).max() <= got[2]
    assert np.abs(test[-1] - k @ np.linalg.solve(K, ds.y_train)).max() > 1e-3                      # foil
    assert np.abs(test[1] - k @ alpha).max() > 1e-3                                                # foil
