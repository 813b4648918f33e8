"""Biases (THEORY_NEXT §B): the runtime recursion with bias terms against independent routes.

* finite-width Monte Carlo of the NDK, E[grad f . grad f'] per parameter group with its own
  propagator, sampled exactly from the OU prior (gamma_b != gamma), and a foil (one propagator
  for all groups) that must fail;
* the fluctuation-dissipation form of the long-time identity, K^d(tau) = -(1/T) dG/dtau with
  G = sigma^2 e^{-gamma tau} K_L + sigma_b^2 e^{-gamma_b tau} (central differences of G, which
  the recursion never differentiates), for gamma_b = gamma and gamma_b != gamma;
* the Volterra trajectory ends at the NNGP posterior mean G (G + T I)^{-1} Y;
* the finite-width Langevin ensemble with biases against ``predict``;
* no biases (the default) gives today's numbers exactly.
"""
import numpy as np
import pytest

import symndk
from symndk import data
from symndk.dynamics.twotime import TwoTimeKernel
from symndk.errors import SymndkError

X = np.random.default_rng(3).standard_normal((3, 4))
X[2] *= 1.5
DS = data.synthetic(3, 0.6)


@pytest.mark.parametrize("act,L", [("relu", 2), ("erf", 1)])
def test_ndk_with_biases_matches_finite_width_monte_carlo(act, L):
    from symndk.langevin.ntk import empirical_ntk

    s0, s2, T, b0, b2 = 0.7, 1.3, 0.4, 0.3, 0.6          # gamma = 0.31, gamma_b = 0.67
    pairs = [(0.0, 0.0), (1.5, 0.5), (3.0, 0.0)]
    m, se = empirical_ntk(X, act, L, 256, s0, s2, T, pairs, 800, seed=1, bias=(b0, b2))
    k = TwoTimeKernel(X, X[:0], act, L, s0, s2, T, bias=(b0, b2))
    z = np.array([(m[i] - k.block(t, s)) / se[i] for i, (t, s) in enumerate(pairs)])
    assert np.max(np.abs(z)) < 4.5, z          # width 256: O(1/N) finite-width bias is within the allowance
    foil = TwoTimeKernel(X, X[:0], act, L, s0, s2, T)   # no bias terms
    zf = np.array([(m[i] - foil.block(t, s)) / se[i] for i, (t, s) in enumerate(pairs)])
    assert np.max(np.abs(zf)) > 10


def _G(k, tau):
    return k.with_channels("prior").block(tau, 0.0)


@pytest.mark.parametrize("b2", [1.3, 0.4])            # gamma_b = gamma, gamma_b != gamma
def test_fluctuation_dissipation_form_of_the_long_time_identity(b2):
    s2, T = 1.3, 0.4
    k = TwoTimeKernel(X, X[:0], "erf", 2, s2, s2, T, bias=(b2, b2))    # stationary prior
    for tau in (0.3, 1.7, 6.0):
        h = 1e-4
        dG = (_G(k, tau + h) - _G(k, tau - h)) / (2 * h)
        assert np.max(np.abs(k.block(tau, 0.0) + dG / T)) < 1e-7
    # foil: the bias-free form -(1/gamma) d/dtau[e^{-gamma tau} K_L] misses the bias group
    g = T / s2
    kl = lambda tau: np.exp(-g * tau) * k.with_channels("nngp").block(tau, 0.0)  # noqa: E731
    foil = -(kl(1.7 + 1e-4) - kl(1.7 - 1e-4)) / (2e-4 * g)
    assert np.max(np.abs(k.block(1.7, 0.0) - foil)) > 1e-2


@pytest.mark.parametrize("b", [(0.2, 1.0), (0.5, 0.25)])
def test_trajectory_ends_at_the_nngp_posterior_mean(b):
    net = symndk.Network("relu", 2, 0.5, 1.0, *b)
    T = 0.2
    ndk = symndk.NDK(net, DS.X_train, DS.y_train, T=T)
    res = ndk.predict([1.0, 400.0], DS.X_test)
    # independent end point: G = sigma^2 K_L + sigma_b^2 from the static NNGP kernel (K_L + sigma_b^2 / sigma^2)
    st = net.nngp_kernel(DS.X_train, DS.X_test)
    G, g = net.sigma_sq * st.train, net.sigma_sq * st.test
    alpha = np.linalg.solve(G + T * np.eye(3), DS.y_train)
    assert np.max(np.abs(res.test[-1] - g @ alpha)) < 1e-8
    assert np.max(np.abs(res.train[-1] - G @ alpha)) < 1e-8
    eq = ndk.equilibrium("nngp", DS.X_test)
    assert np.max(np.abs(eq.test[0] - g @ alpha)) < 1e-12
    # NDK(0, 0) = NTK with biases, and the gradient phase from it
    ntk = symndk.Network("relu", 2, 0.5, 1.0, b[0], b[1]).ntk_kernel(DS.X_train).train
    assert np.max(np.abs(ndk.kernel(None).block(0.0, 0.0) - ntk)) < 1e-14


def test_no_bias_is_todays_numbers_exactly():
    a = symndk.NDK(symndk.Network("erf", 2, 0.5, 1.0), DS.X_train, DS.y_train, T=0.1).predict([1.0, 20.0], DS.X_test)
    b = symndk.NDK(symndk.Network("erf", 2, 0.5, 1.0, 0.0, 0.0), DS.X_train, DS.y_train, T=0.1).predict(
        [1.0, 20.0], DS.X_test)
    assert np.array_equal(a.test, b.test) and np.array_equal(a.train, b.train)
    with pytest.raises(SymndkError, match="bias_sigma0_sq"):
        symndk.Network(bias_sigma0_sq=0.1)


@pytest.mark.parametrize("b", [(0.3, 0.5), (0.3, 1.0)])     # gamma_b = 2 gamma, gamma_b = gamma
def test_langevin_ensemble_with_biases_matches_predict(b):
    net = symndk.Network("erf", 1, 0.8, 1.0, *b)
    ndk = symndk.NDK(net, DS.X_train, DS.y_train, T=0.1)
    times = [0.5, 2.0]
    sim = ndk.simulate(width=256, n_networks=200, times=times, X_test=DS.X_test, seed=4, dt=0.01, progress=False)
    th = ndk.predict(times, DS.X_test)
    z = np.concatenate([((sim.train - th.train) / sim.train_se).ravel(), ((sim.test - th.test) / sim.test_se).ravel()])
    assert np.max(np.abs(z)) < 4, z
    foil = symndk.NDK(symndk.Network("erf", 1, 0.8, 1.0), DS.X_train, DS.y_train, T=0.1).predict(times, DS.X_test)
    zf = np.concatenate([((sim.train - foil.train) / sim.train_se).ravel()])
    assert np.max(np.abs(zf)) > 4


@pytest.mark.parametrize("act,L,layered", [("relu", 2, False), ("erf", 2, True)])
def test_static_ntk_counts_zero_initialised_biases(act, L, layered):
    """Regression (issue 13): with bias_sigma0^2 = 0 < bias_sigma^2 the biases start at 0 but d f / d b does
    not vanish, so Network.ntk_kernel must count their gradients. Independent route: finite-width Monte Carlo
    of E[grad f . grad f'] at t = s = 0 (biases sampled at variance 0, every parameter's gradient summed);
    foil: the bias-free NTK (the old static result, off by ~1 per entry) must fail."""
    from symndk.langevin.ntk import empirical_ntk

    s0, b0, b2 = ([0.6, 1.1, 0.8], [0.0, 0.0, 0.0], [0.5, 0.0, 0.9]) if layered else (0.7, 0.0, 0.6)
    net = symndk.Network(act, L, sigma0_sq=s0, sigma_sq=1.3, bias_sigma0_sq=b0, bias_sigma_sq=b2)
    theta = net.ntk_kernel(X).train
    ndk0 = symndk.NDK(net, X, np.ones(3), T=0.4).kernel().block(0.0, 0.0)   # NDK(0, 0) = NTK
    assert np.max(np.abs(theta - ndk0)) < 1e-13 * np.max(np.abs(theta))
    m, se = empirical_ntk(X, act, L, 256, list(s0) if layered else s0, [1.3] * (L + 1) if layered else 1.3, 0.4,
                          [(0.0, 0.0)], 400, seed=2, bias=(b0, b2))
    assert np.max(np.abs((m[0] - theta) / se[0])) < 4.5
    foil = symndk.ntk_kernel(X, None, act, L, s0, 0.0).train
    assert np.max(np.abs((m[0] - foil) / se[0])) > 10


@pytest.mark.parametrize("b2", [0.6, 2.5])               # gamma_b / gamma = 5/3 and 2/5: not integers
def test_predict_at_a_non_integer_bias_rate_ratio_meets_its_tolerance(b2):
    """Issue 13: a scalar bias whose rate is not an integer multiple of the weights' is tabulated in the slower
    rate with the extra b-nodes and w-panels of per-layer kernels (the faster propagator b^r, (1 - w^2)^r is not
    analytic). Measured (digits P = 100, relu L = 2, T = 0.05): table error 5.6e-6 -> 1.4e-11 (5/3) and
    9.3e-3 -> 1.3e-11 (2/5), estimate at rtol 1e-8 1.6e-3 -> 4e-9 and 9.9 -> 1.4e-8; here P = 20, rtol 1e-8:
    no warning, and the late predictor is the NNGP posterior within the estimate."""
    import warnings

    d = data.digits(0, 1, n_per_class=10, n_test_per_class=3)
    net = symndk.Network("relu", 2, sigma0_sq=1.0, sigma_sq=1.0, bias_sigma0_sq=0.3, bias_sigma_sq=b2)
    ndk = symndk.NDK(net, d.X_train, d.y_train, T=0.05)
    t_end = 40.0 / (0.05 / max(1.0, b2))                    # slowest rate x t = 40
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ndk.predict([1.0, 10.0, t_end], d.X_test, rtol=1e-8)
    assert res.metadata["solver"]["table_error"] < 1e-10, res.metadata["solver"]["table_error"]
    eq = ndk.equilibrium("nngp", d.X_test)
    late = max(np.abs(res.train[-1] - eq.train[0]).max(), np.abs(res.test[-1] - eq.test[0]).max())
    assert late <= res.error_estimate, (late, res.error_estimate)


NT_ZERO_BIAS = r"""
X, out = np.load(sys.argv[1]), {}
for key in sys.argv[3].split(','):
    act, L, w2, b0 = key.split('|')
    layers, fan_in = [], X.shape[1]
    for _ in range(int(L)):
        layers += [stax.Dense(512, W_std=float(w2) ** 0.5, b_std=float(b0) ** 0.5, parameterization='standard',
                              s=(fan_in, 1)), {'relu': stax.Relu, 'erf': stax.Erf}[act]()]
        fan_in = 512
    layers.append(stax.Dense(1, W_std=float(w2) ** 0.5, b_std=float(b0) ** 0.5, parameterization='standard',
                             s=(fan_in, 1)))
    out[key] = np.asarray(stax.serial(*layers)[2](X, None, get='ntk')).tolist()
"""


def test_static_ntk_with_zero_initialised_biases_matches_neural_tangents():
    """neural-tangents' *standard* parameterisation with s = (fan_in, 1) is this one's NTK: its Dense adds
    input_width K + W_std^2 Theta + 1 with input_width = fan_in / s[0] = 1, and the bias gradient (the + 1)
    whenever a bias exists, b_std = 0 included -- a bias initialised at 0 and trained. Measured <= 6.6e-16
    relative; foil: the bias-free static NTK (the old result) misses by 0.56-0.89 relative."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from scale import nt_batch, nt_python

    if nt_python() is None:
        pytest.skip("neural-tangents venv not installed")
    Xn = np.random.default_rng(3).standard_normal((4, 5))
    cases = [("relu", 2, 0.7, 0.0), ("erf", 2, 1.3, 0.0), ("erf", 3, 0.6, 0.0), ("relu", 1, 0.8, 0.3)]
    keys = ["|".join(map(str, c)) for c in cases]
    nt = nt_batch(NT_ZERO_BIAS, Xn, ",".join(keys))
    for (act, L, w2, b0), key in zip(cases, keys):
        net = symndk.Network(act, L, sigma0_sq=w2, sigma_sq=1.0, bias_sigma0_sq=b0, bias_sigma_sq=0.5)
        ours, ref = net.ntk_kernel(Xn).train, np.array(nt[key])
        assert np.abs(ref - ours).max() < 1e-14 * np.abs(ref).max(), key
        if b0 == 0:
            foil = symndk.ntk_kernel(Xn, None, act, L, w2, 0.0).train
            assert np.abs(ref - foil).max() > 0.1 * np.abs(ref).max(), key
