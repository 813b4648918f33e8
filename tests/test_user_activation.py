"""Issue 12 item 4: a user activation (SiLU, numeric dual kernels) through the rest of symndk.

Truths are independent: the finite-width Langevin ensemble (simulate) and the Monte Carlo tangent
kernel of finite networks against the infinite-width theory, with a wrong-recursion foil; the
identity catalogue on a user closed-form activation.
"""
import numpy as np
import pytest

from symndk.errors import SymndkError


@pytest.fixture(scope="module")
def silu(tmp_path_factory):
    import os

    from symndk.checks.activation import activation_kernel

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    result = activation_kernel("silu(x)", "u_silu")
    assert result.passed and "F" in result.numeric
    yield "u_silu"
    if old is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = old


def _data(P=5, Q=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P + Q, 4))
    return X[:P], np.sign(X[:P, 0]) + 0.1, X[P:]


def test_silu_predict_is_fast_and_counts_its_kernel_error(silu):
    import time

    import symndk

    X, y, Xt = _data()
    t0 = time.perf_counter()
    res = symndk.predict(X, y, Xt, activation=silu, depth=2, T=0.1, times=[0.5, 5.0])
    assert time.perf_counter() - t0 < 60
    assert np.all(np.isfinite(res.test)) and 0 < res.error_estimate < 1e-9
    assert res.metadata["solver"]["numeric_kernel_error"] > 0      # the tables' bound is counted


def test_verify_runs_the_phi_independent_ntk_identity_on_a_numeric_activation(silu, capsys):
    """A numeric activation takes the numeric identity families (tests/test_verify_numeric.py runs
    the sampled ones); the NTK identity holds for any phi, symbolically."""
    from symndk.cli import main

    assert main(["verify", "--activation", silu, "--only", "ntk.*", "--quiet", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert f"ntk.{silu}" in out and "symbolic" in out and " 0 failed" in out


def test_verify_runs_the_catalogue_on_a_user_closed_form_activation(silu, capsys):
    """A user activation registered by `symndk kernel` (another process: here the registry entry is
    dropped first, so it must come back from the cache) runs the identity families."""
    from symndk.checks.activation import activation_kernel
    from symndk.cli import main
    from symndk.spec.activations import unregister_activation

    activation_kernel("x**3 + x", "u_cubic")
    unregister_activation("u_cubic")
    assert main(["verify", "--activation", "u_cubic", "--only", "price*", "--quiet", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "u_cubic" in out and " 0 failed" in out


@pytest.mark.slow
def test_silu_langevin_ensemble_matches_predict_within_4_se(silu):
    """Finite-width Langevin ensemble (width 512, L = 2) against the infinite-width mean predictor
    with SiLU; foil: the ReLU predictor is many standard errors away."""
    import symndk

    X, y, Xt = _data(P=4, Q=2, seed=1)
    kw = dict(depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.1)
    times = [0.5, 2.0]
    sim = symndk.simulate(X, y, Xt, activation=silu, width=512, times=times, n_networks=400, dt=0.01, seed=7,
                          progress=False, **kw)
    theory = symndk.predict(X, y, Xt, activation=silu, times=times, **kw)
    foil = symndk.predict(X, y, Xt, activation="relu", times=times, **kw)
    sim_rows = np.hstack([sim.train, sim.test])[-len(times):]
    se = np.hstack([sim.extras["train_se"], sim.extras["test_se"]])[-len(times):]
    z = (sim_rows - np.hstack([theory.train, theory.test])) / se
    z_foil = (sim_rows - np.hstack([foil.train, foil.test])) / se
    print("SiLU L=2 Langevin: max |z| =", np.abs(z).max(), "foil max |z| =", np.abs(z_foil).max(),
          "se range", se.min(), se.max())
    assert np.abs(z).max() < 4.0, np.round(z, 2)
    assert np.abs(z_foil).max() > 6.0


@pytest.mark.slow
def test_silu_tangent_kernel_monte_carlo_matches_recursion(silu):
    """Empirical two-time tangent kernel of finite SiLU networks (L = 2) against Theta_L of the
    recursion with the tabulated numeric kernels, within 4 SE; foil: ReLU kernels."""
    from symndk.kernels import loader
    from symndk.langevin.ntk import empirical_ntk
    from symndk.runtime.recursion import layer_kernels, prior_C

    X = np.random.default_rng(3).standard_normal((3, 3))
    X[2] *= 1.7
    pairs = [(0.0, 0.0), (1.0, 0.0), (3.0, 3.0)]
    s0, s2, T = 0.5, 1.0, 0.5
    mean, se = empirical_ntk(X, silu, 2, 256, s0, s2, T, pairs, 1200, seed=5)

    def theory(name):
        k = loader.load(name)
        K0 = X @ X.T / X.shape[1]
        n = np.diag(K0)
        out = []
        for t, s in pairs:
            Ctt, Css, Cts = (prior_C(a, b, s0, s2, T / s2, np.exp) for a, b in ((t, t), (s, s), (t, s)))
            out.append(layer_kernels(n[:, None], n[None, :], K0, Ctt, Css, Cts, 2, k)[3])
        return np.array(out)

    z = (mean - theory(silu)) / se
    assert np.abs(z).max() < 4.0, np.round(z, 2)
    assert np.abs((mean - theory("relu")) / se).max() > 10.0
