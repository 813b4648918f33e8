"""Predictor covariance (THEORY_NEXT §A) at the ends: T = 0 (gradient flow, Lee et al. 2019) and the
equilibria. Expected values come from independent routes: the ReLU variance chain by hand, the
matrix exponential (scipy.linalg.expm, not the eigendecomposition the code uses), and Gaussian
conditioning written out with np.linalg.solve; a foil without the cross term must fail."""
import numpy as np
import pytest
import scipy.linalg

import symndk
from symndk import data
from symndk.errors import SymndkError

DS = data.synthetic(4, 0.6)
XT = np.vstack([DS.X_test, DS.X_train[:1] * 0.5 + DS.X_test * 0.5])


def _relu_prior_var(X, s, b, L):
    """sigma^2 K_L(x, x) + sigma_b^2 for ReLU (V(q) = q / 2), by hand."""
    q = np.einsum("ij,ij->i", X, X) / X.shape[1]
    for _ in range(L):
        q = (s * q + b) / 2
    return s * q + b


@pytest.mark.parametrize("bias", [(0.0, 0.0), (0.3, 0.7)])
def test_t0_is_the_prior_and_gradient_flow_matches_expm(bias):
    net = symndk.Network("relu", 2, 0.6, 1.0, *bias)
    ndk = symndk.NDK(net, DS.X_train, DS.y_train, T=0.0)
    tt = np.array([0.0, 0.7, 5.0])
    res = ndk.ntk_dynamics(tt, XT, cov="full")
    assert np.max(np.abs(res.test_var[0] - _relu_prior_var(XT, 0.6, bias[0], 2))) < 1e-13
    assert np.max(np.abs(res.train_var[0] - _relu_prior_var(DS.X_train, 0.6, bias[0], 2))) < 1e-13
    G = ndk.prior_covariance(XT)
    Th = ndk.kernel(XT).block(0.0, 0.0)
    P = 4
    for i, t in enumerate(tt):
        E = scipy.linalg.expm(-Th[:P] * t)
        A = Th[P:] @ np.linalg.solve(Th[:P], np.eye(P) - E)
        S_te = G[P:, P:] - A @ G[:P, P:] - G[P:, :P] @ A.T + A @ G[:P, :P] @ A.T
        S_tr = E @ G[:P, :P] @ E.T
        assert np.max(np.abs(res.test_cov[i] - S_te)) < 1e-10
        assert np.max(np.abs(res.train_var[i] - np.diag(S_tr))) < 1e-10
        if t > 1:   # foil: no cross term
            foil = G[P:, P:] + A @ G[:P, :P] @ A.T
            assert np.max(np.abs(np.diag(foil) - res.test_var[i])) > 1e-2
    # predict at T = 0 is the gradient flow, covariance included
    assert np.array_equal(ndk.predict(tt, XT, cov=True).test_var, res.test_var)


@pytest.mark.parametrize("bias", [(0.0, 0.0), (0.2, 0.5)])
def test_equilibria_are_the_posteriors(bias):
    T = 0.05
    net = symndk.Network("erf", 2, 0.6, 1.3, *bias)
    ndk = symndk.NDK(net, DS.X_train, DS.y_train, T=T)
    eq = ndk.equilibrium("nngp", XT, cov="full")
    G = net.sigma_sq * symndk.Network("erf", 2, 1.3, 1.3, bias[1], bias[1]).nngp_kernel(np.vstack([DS.X_train, XT])).train
    P = 4
    S = G[P:, P:] - G[P:, :P] @ np.linalg.solve(G[:P, :P] + T * np.eye(P), G[:P, P:])
    assert np.max(np.abs(eq.test_cov[0] - S)) < 1e-8
    assert np.max(np.abs(eq.test_var[0] - np.diag(S))) < 1e-8
    Str = G[:P, :P] - G[:P, :P] @ np.linalg.solve(G[:P, :P] + T * np.eye(P), G[:P, :P])
    assert np.max(np.abs(eq.train_var[0] - np.diag(Str))) < 1e-8
    ntk = ndk.equilibrium("ntk", XT, cov=True)
    late = symndk.NDK(net, DS.X_train, DS.y_train, T=0.0).ntk_dynamics([1e6], XT, cov=True)
    assert np.max(np.abs(ntk.test_var - late.test_var)) < 1e-8 and np.max(np.abs(ntk.train_var)) < 1e-8


def test_cov_arguments():
    ndk = symndk.NDK(symndk.Network(), DS.X_train, DS.y_train, T=0.1)
    with pytest.raises(SymndkError, match="cov must be"):
        ndk.equilibrium("nngp", DS.X_test, cov="diag")
    with pytest.raises(SymndkError, match="cov must be"):
        ndk.predict([1.0], DS.X_test, cov="diag")
    with pytest.raises(SymndkError, match="T_schedule is not implemented"):
        ndk.predict([1.0], DS.X_test, cov=True, T_schedule=0.1)


# ----------------------------------------------------------------------------- along the T > 0 trajectory

def _brute_force_cov(Xtr, Xte, act, L, s0, s2, T, bias, t_end, n):
    """Cov f(., t_end) on all rows by an independent route: Nystrom with the trapezoid rule on a uniform
    grid, dense matrices: delta f_X = (I + Kmat)^{-1} f0_X, delta f = f0(t) - Krow delta f_X."""
    from symndk.dynamics.twotime import TwoTimeKernel

    P, X = Xtr.shape[0], np.vstack([Xtr, Xte])
    R = X.shape[0]
    dt = t_end / n
    s = np.arange(n + 1) * dt
    kd = TwoTimeKernel(Xtr, Xte, act, L, s0, s2, T, bias)
    kg = TwoTimeKernel(X, X[:0], act, L, s0, s2, T, bias).with_channels("prior")
    I, J = np.tril_indices(n + 1)
    r1, c1 = np.meshgrid(np.arange(R), np.arange(P), indexing="ij")
    Kd = kd.entries(r1.ravel(), c1.ravel(), s[I], s[J])[0].reshape(-1, R, P)
    r2, c2 = np.meshgrid(np.arange(R), np.arange(R), indexing="ij")
    Gv = kg.entries(r2.ravel(), c2.ravel(), s[I], s[J])[0].reshape(-1, R, R)
    N = (n + 1) * P
    Kmat, Gxx = np.zeros((n + 1, P, n + 1, P)), np.zeros((n + 1, P, n + 1, P))
    Krow, Gxe = np.zeros((R, n + 1, P)), np.zeros((n + 1, P, R))
    for q, (i, j) in enumerate(zip(I, J)):
        Kmat[i, :, j, :] = (0.0 if i == 0 else dt / 2 if j in (0, i) else dt) * Kd[q, :P]
        Gxx[i, :, j, :], Gxx[j, :, i, :] = Gv[q, :P, :P], Gv[q, :P, :P].T
        if i == n:
            Krow[:, j, :] = (dt / 2 if j in (0, n) else dt) * Kd[q]
            Gxe[j] = Gv[q, :, :P].T
    a = np.linalg.solve((np.eye(N) + Kmat.reshape(N, N)).T, Krow.reshape(R, N).T).T
    C1 = a @ Gxe.reshape(N, R)
    return Gv[-1] - C1 - C1.T + a @ Gxx.reshape(N, N) @ a.T


def test_trajectory_covariance_matches_brute_force_nystrom():
    ds = data.synthetic(3, 0.6)
    args = (ds.X_train, ds.X_test, "erf", 2, 0.6, 1.3, 0.3, (0.2, 0.5), 2.0)
    b1, b2 = _brute_force_cov(*args, 150), _brute_force_cov(*args, 300)
    rich = (4 * b2 - b1) / 3                                        # trapezoid: O(dt^2), Richardson
    net = symndk.Network("erf", 2, 0.6, 1.3, 0.2, 0.5)
    res = symndk.NDK(net, ds.X_train, ds.y_train, T=0.3).predict([2.0], ds.X_test, cov="full")
    var = np.concatenate([res.train_var[0], res.test_var[0]])
    assert np.max(np.abs(np.diag(b1) - np.diag(b2))) > 1e-6          # the grids do differ
    assert np.max(np.abs(np.diag(rich) - var)) < 1e-7               # measured 1e-9
    assert np.max(np.abs(rich[3:, 3:] - res.test_cov[0])) < 1e-7
    assert res.var_error_estimate < 1e-9 and np.isclose(res.test_cov[0, 0, 0], res.test_var[0, 0], rtol=0, atol=1e-15)


@pytest.mark.parametrize("act,L,bias", [("relu", 2, (0.2, 0.5)), ("erf", 1, (0.0, 0.0))])
def test_trajectory_starts_at_the_prior_and_ends_at_the_nngp_posterior(act, L, bias):
    from symndk.dynamics import covariance
    from symndk.dynamics.solvers import _lag_options
    from symndk.dynamics.compress import tabulate

    T, P = 0.1, 4
    net = symndk.Network(act, L, 0.6, 1.0, *bias)
    ndk = symndk.NDK(net, DS.X_train, DS.y_train, T=T)
    res = ndk.predict([0.0, 400.0], XT, rtol=1e-9, cov="full")
    G0 = ndk.prior_covariance(XT)
    assert np.array_equal(res.test_var[0], np.diag(G0)[P:]) and np.array_equal(res.train_var[0], np.diag(G0)[:P])
    if act == "relu":
        assert np.max(np.abs(res.test_var[0] - _relu_prior_var(XT, 0.6, bias[0], 2))) < 1e-13
    G = ndk.prior_covariance(XT, stationary=True)                   # sigma^2 K_L + sigma_b^2
    S = G - G[:, :P] @ np.linalg.solve(G[:P, :P] + T * np.eye(P), G[:P])
    assert np.max(np.abs(res.train_var[-1] - np.diag(S)[:P])) < 1e-8
    assert np.max(np.abs(res.test_var[-1] - np.diag(S)[P:])) < 1e-8
    assert np.max(np.abs(res.test_cov[-1] - S[P:, P:])) < 1e-8
    # foil: without the correction term int int A G A^T the end point is not the posterior
    k = ndk.kernel(XT)
    t = 400.0
    tk, tg = (tabulate(kk.compressed(t), t) for kk in (k, k.with_channels("prior")))
    K0 = k.block(0.0, 0.0)[:P]
    edges = covariance.sigma_mesh(t, float(np.max(np.linalg.eigvalsh(K0))), k.gamma)
    cross, double = covariance._one_time(tk, tg, t, edges, 12, _lag_options(k, edges), P, np.arange(k.R), parts=True)
    foil = np.diag(G) + cross
    assert np.max(np.abs(foil - np.diag(S))) > 1e-2
    assert np.max(np.abs(foil + double - np.diag(S))) < 1e-8


@pytest.mark.parametrize("act,Ts,ratio", [("erf", (1e-4, 1e-5), (8.0, 12.0)), ("relu", (1e-4, 1e-6), (7.0, 13.0))])
def test_small_temperature_is_the_gradient_flow_covariance(act, Ts, ratio):
    """T -> 0: the gap to the closed-form gradient-flow covariance shrinks like T (erf) and like sqrt(T)
    (ReLU: the same-input sqrt cusp of K^d in the lag, as for the mean)."""
    net = symndk.Network(act, 2, 0.6, 1.0, 0.3, 0.7)
    flow = symndk.NDK(net, DS.X_train, DS.y_train, T=0.0).ntk_dynamics([2.0], XT, cov="full")
    gaps = []
    for T in Ts:
        r = symndk.NDK(net, DS.X_train, DS.y_train, T=T).predict([2.0], XT, rtol=1e-9, cov="full")
        gaps.append(max(np.max(np.abs(r.train_var - flow.train_var)), np.max(np.abs(r.test_cov - flow.test_cov))))
    assert gaps[0] < 1e-3 and ratio[0] < gaps[0] / gaps[1] < ratio[1], gaps


def test_trajectory_covariance_is_one_for_all_outputs():
    ds = data.synthetic(3, 0.6)
    y2 = np.stack([ds.y_train, 0.3 - ds.y_train], axis=1)
    net = symndk.Network("erf", 1, 0.5, 1.0)
    one = symndk.NDK(net, ds.X_train, ds.y_train, T=0.1).predict([0.5, 3.0], ds.X_test, cov=True)
    two = symndk.NDK(net, ds.X_train, y2, T=0.1).predict([0.5, 3.0], ds.X_test, cov=True)
    assert two.train.shape == (2, 3, 2) and two.train_var.shape == (2, 3) and two.test_var.shape == (2, 1)
    assert np.array_equal(one.test_var, two.test_var) and "test_cov" not in two.extras


# ----------------------------------------------------------------------------- cov="test": the test rows only

def test_test_rows_only_match_all_rows_and_brute_force():
    """cov="test" solves the adjoint for the Q test rows only: the same test_var as cov=True within the
    two estimates, and the independent Nystrom + Richardson reference within 1e-7 (as cov="full")."""
    ds = data.synthetic(3, 0.6)
    args = (ds.X_train, ds.X_test, "erf", 2, 0.6, 1.3, 0.3, (0.2, 0.5), 2.0)
    rich = (4 * _brute_force_cov(*args, 300) - _brute_force_cov(*args, 150)) / 3
    net = symndk.Network("erf", 2, 0.6, 1.3, 0.2, 0.5)
    ndk = symndk.NDK(net, ds.X_train, ds.y_train, T=0.3)
    test = ndk.predict([0.0, 2.0], ds.X_test, cov="test")
    both = ndk.predict([0.0, 2.0], ds.X_test, cov=True)
    assert "train_var" not in test.extras and test.test_var.shape == (2, 1)
    assert np.array_equal(test.train, both.train)
    assert np.max(np.abs(test.test_var - both.test_var)) <= test.var_error_estimate + both.var_error_estimate
    assert np.max(np.abs(test.test_var[1] - np.diag(rich)[3:])) < 1e-7 and test.var_error_estimate < 1e-9
    assert np.array_equal(test.test_var[0], np.diag(ndk.prior_covariance(ds.X_test))[3:])


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_test_rows_estimate_bounds_the_error_of_a_loose_solve(act):
    """The estimate of the test-rows path (m = 4 against its embedded m = 2, no refinement) bounds its
    true error against a tight solve (m = 14, rtol 1e-13), with the tight solve's own estimate added.
    Measured: error 1.3e-8 (relu), 1.4e-8 (erf), estimates 6.5e-5, 6.9e-5 (m - 2 = 2 is pessimistic);
    the tight estimate is 2.5e-9 (compression)."""
    from symndk.dynamics.covariance import trajectory_cov

    net = symndk.Network(act, 2, 0.6, 1.0, 0.3, 0.7)
    k = symndk.NDK(net, DS.X_train, DS.y_train, T=0.1).kernel(XT)
    X_all, tt = np.vstack([DS.X_train, XT]), np.array([0.5, 3.0, 20.0])
    tight = trajectory_cov(k, X_all, tt, 1e-13, 1e-15, m=14, test_only=True)
    loose = trajectory_cov(k, X_all, tt, 1e-3, 0.0, m=4, max_refine=0, test_only=True)
    err = np.max(np.abs(loose["test_var"] - tight["test_var"]))
    assert "train_var" not in loose and err > 2 * tight["error_estimate"]          # the error is visible
    assert err + tight["error_estimate"] <= loose["error_estimate"] < 1e-3, (err, loose["error_estimate"])


def test_cli_cov_test(tmp_path):
    import subprocess
    import sys

    ds = data.synthetic(3, 0.5)
    for name, a in (("X", ds.X_train), ("Y", ds.y_train), ("Xt", ds.X_test)):
        np.save(tmp_path / f"{name}.npy", a)
    r = subprocess.run([sys.executable, "-m", "symndk", "solve", "--task", "files", "--x-train", str(tmp_path / "X.npy"),
                        "--y-train", str(tmp_path / "Y.npy"), "--x-test", str(tmp_path / "Xt.npy"), "--activation",
                        "relu", "--depth", "2", "--sigma0-sq", "0.6", "--sigma-sq", "1.0", "--T", "0.1",
                        "--times", "0,2", "--cov", "test", "--out", str(tmp_path / "run")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    res = symndk.load_result(tmp_path / "run")
    api = symndk.NDK(symndk.Network("relu", 2, 0.6, 1.0), ds.X_train, ds.y_train, T=0.1).predict([0.0, 2.0], ds.X_test,
                                                                                                  cov="test")
    assert np.array_equal(res.test_var, api.test_var) and "train_var" not in res.extras
