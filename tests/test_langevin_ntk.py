"""Empirical two-time tangent kernel (finite-width Monte Carlo over the prior OU process) against
Theta_L(t, s) of the layer recursion (docs/theory.md §3), and a wrong recursion rejected."""
import numpy as np
import pytest

from symndk.kernels import loader as duals
from symndk.langevin.ntk import empirical_ntk
from symndk.runtime.recursion import layer_kernels, prior_C

SIGMA0_SQ, SIGMA_SQ, T = 0.5, 1.0, 0.5
PAIRS = [(0.0, 0.0), (1.0, 0.0), (2.0, 1.0), (3.0, 3.0), (6.0, 1.0)]


def _inputs():
    X = np.random.default_rng(3).standard_normal((3, 3))
    X[2] *= 1.7  # unequal norms
    return X


def _theory(X, activation, depth, C_ts):
    """Theta_L at every pair, from the recursion; ``C_ts(t, s)`` supplies the cross statistic."""
    k = duals.load(activation)
    K0 = X @ X.T / X.shape[1]
    n = np.diag(K0)
    gamma = T / SIGMA_SQ
    out = []
    for t, s in PAIRS:
        Ctt, Css = (prior_C(u, u, SIGMA0_SQ, SIGMA_SQ, gamma, np.exp) for u in (t, s))
        out.append(layer_kernels(n[:, None], n[None, :], K0, Ctt, Css, C_ts(t, s, Ctt, Css), depth, k)[3])
    return np.array(out)


def _right_C(t, s, Ctt, Css):
    return prior_C(t, s, SIGMA0_SQ, SIGMA_SQ, T / SIGMA_SQ, np.exp)


def _wrong_C(t, s, Ctt, Css):
    return np.sqrt(Ctt * Css)  # equal-time correlation: ignores the decorrelation in time


@pytest.mark.parametrize("activation,depth,width", [("relu", 1, 256), ("erf", 1, 256), ("relu", 2, 128)])
def test_monte_carlo_tangent_kernel_matches_recursion_and_rejects_wrong_C(activation, depth, width):
    X = _inputs()
    mean, se = empirical_ntk(X, activation, depth, width, SIGMA0_SQ, SIGMA_SQ, T, PAIRS, 1200, seed=5)
    z = (mean - _theory(X, activation, depth, _right_C)) / se
    assert np.abs(z).max() < 4.0, np.round(z, 2)
    z_foil = (mean - _theory(X, activation, depth, _wrong_C)) / se
    assert np.abs(z_foil).max() > 10.0, np.abs(z_foil).max()


def test_bad_pairs_raise():
    from symndk.errors import SymndkError

    with pytest.raises(SymndkError, match="pairs"):
        empirical_ntk(_inputs(), "relu", 1, 8, 0.5, 1.0, 0.1, [(-1.0, 0.0)], 4)
