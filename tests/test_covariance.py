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
