"""Per-layer variances (docs/theory.md §B, "Per-layer variances"): lists of depth + 1 values, one per
parameter group W_1, .., W_L, readout (biases b_1, .., b_L, output), each group with its own prior and
its own rate gamma_l = T / sigma_l^2, against independent routes:

* static NNGP/NTK against neural-tangents with per-layer W_std/b_std (optional oracle, skipped without
  its venv; benchmarks/nt_layers.py maps the parameterisation) and against finite-width Monte Carlo of
  E[f f'] and E[grad f . grad f'] at initialisation;
* the two-time NDK against the exact-OU Monte Carlo of sum_l e^{-gamma_l |t-s|} E[grad_l f . grad_l f'];
* the fluctuation-dissipation form of the long-time identity with per-layer rates (central differences
  of G, which the recursion never differentiates): K^d(tau) = -(1/T) dG/dtau;
* t = 0: the NDK is the static NTK at the initial variances, the covariance the prior; t -> inf: the NNGP
  posterior mean and variance with G = sigma_{L+1}^2 K_L + sigma_b,L+1^2;
* the finite-width Langevin ensemble against ``predict`` within 4 SE;
* every check has a foil (one average variance for all layers, or one propagator) that must fail;
* validation (one SymndkError line, CLI exit 2) and scalars unchanged.
"""
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import symndk
from symndk import data
from symndk.dynamics.twotime import TwoTimeKernel
from symndk.errors import SymndkError, SymndkWarning
from symndk.validation import parse_variances

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
from scale import nt_python  # noqa: E402
X = np.random.default_rng(3).standard_normal((3, 4))
X[2] *= 1.5
DS = data.synthetic(3, 0.6)
W0, W2, T = [0.4, 1.6, 0.9], [1.0, 2.5, 0.6], 0.3        # L = 2: rates 0.3, 0.12, 0.5


def test_bad_lists_are_one_line_errors():
    for kwargs, match in [
        (dict(sigma_sq=[1.0, 2.0]), "depth \\+ 1 = 3 numbers"),
        (dict(sigma_sq=[1.0, 0.0, 2.0]), "sigma_sq\\[1\\] must be finite and > 0"),
        (dict(sigma0_sq=[1.0, float("nan"), 2.0]), "sigma0_sq\\[1\\] must be finite"),
        (dict(sigma_sq=[[1.0], [2.0], [3.0]]), "one number or depth \\+ 1"),
        (dict(bias_sigma_sq=[0.5, -1.0, 0.5]), "bias_sigma_sq\\[1\\] must be finite and >= 0"),
        (dict(bias_sigma0_sq=[0.1, 0.1, 0.1], bias_sigma_sq=[0.5, 0.0, 0.5]), "needs bias_sigma_sq > 0"),
        (dict(sigma_sq=[1.0, True, 2.0]), "must be a number"),
    ]:
        with pytest.raises(SymndkError, match=match) as e:
            symndk.Network("relu", 2, **kwargs)
        assert "\n" not in str(e.value)
    assert parse_variances("1,2,0.5") == (1.0, 2.0, 0.5) and parse_variances("2") == 2.0
    with pytest.raises(SymndkError, match="comma list of numbers"):
        parse_variances("1,__import__('os').system('true')")


def test_cli_takes_a_comma_list(tmp_path):
    base = [sys.executable, "-m", "symndk", "solve", "--task", "synthetic:3,0.6", "--times", "1,5"]
    ok = subprocess.run(base + ["--sigma-sq", "1,2.5,0.6", "--out", str(tmp_path / "a")], capture_output=True,
                        text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    import json

    assert json.loads((tmp_path / "a.json").read_text())["metadata"]["network"]["sigma_sq"] == [1.0, 2.5, 0.6]
    for bad in ("1,2", "1,x,2", "1,-2,1"):
        out = subprocess.run(base + ["--sigma-sq", bad, "--out", str(tmp_path / "b")], capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.filterwarnings("ignore::symndk.errors.SymndkWarning")  # the scalar biases' table (docs/theory.md §B)
@pytest.mark.parametrize("b", [(0.0, 0.0), (0.2, 0.4)])
def test_equal_lists_are_the_scalar_network(b):
    a = symndk.NDK(symndk.Network("erf", 2, 0.5, 1.3, *b), DS.X_train, DS.y_train, T=0.1)
    b = symndk.NDK(symndk.Network("erf", 2, [0.5] * 3, [1.3] * 3, [b[0]] * 3, [b[1]] * 3), DS.X_train, DS.y_train,
                   T=0.1)
    ra, rb = (n.predict([0.5, 4.0, 40.0], DS.X_test, cov=True) for n in (a, b))
    # the same equations; the per-layer kernel is tabulated more finely (non-integer rate ratios, here
    # gamma_b / gamma = 3.25), so the two agree within the sum of their error estimates
    tol = max(1e-13, ra.error_estimate + rb.error_estimate)
    assert np.max(np.abs(ra.test - rb.test)) <= tol and np.max(np.abs(ra.train - rb.train)) <= tol
    assert np.max(np.abs(ra.extras["test_var"] - rb.extras["test_var"])) <= max(1e-12, ra.extras["var_error_estimate"]
                                                                             + rb.extras["var_error_estimate"])
    ea, eb = (n.equilibrium("nngp", DS.X_test, cov=True) for n in (a, b))
    assert np.max(np.abs(ea.test - eb.test)) < 1e-14
    for kern in ("nngp_kernel", "ntk_kernel"):
        ka, kb = (getattr(n.network, kern)(DS.X_train, DS.X_test) for n in (a, b))
        assert np.max(np.abs(ka.test - kb.test)) < 1e-15 and np.max(np.abs(ka.train - kb.train)) < 1e-15


@pytest.mark.skipif(nt_python() is None, reason="neural-tangents venv not installed")
def test_static_kernels_match_neural_tangents_with_per_layer_w_std():
    import nt_layers

    Xn = np.random.default_rng(0).standard_normal((6, 4))
    Xn[3] = 0.5 * Xn[0]
    for key, (d_gp, d_tk, d_foil) in nt_layers.run(Xn).items():
        assert d_gp < 1e-13 and d_tk < 1e-13, key
        assert d_foil > 1e-2, key                        # one average variance for every layer misses NT


def _mc_nngp(act, var, bias_var, width=256, n=2000, seed=0):
    """Monte Carlo E[f(x) f(x')] over finite-width networks drawn at the given per-layer variances."""
    from symndk.kernels import loader
    from symndk.langevin.network import Ensemble

    kern, rng, samples = loader.load(act), np.random.default_rng(seed), []
    for _ in range(n // 500):
        net = Ensemble.sample(rng, X.shape[1], [width] * (len(var) - 1), 500, var, kern.phi, kern.dphi,
                              bias_var=bias_var)
        f = net.forward(X)[2]
        samples.append(f[:, :, None] * f[:, None, :])
    s = np.concatenate(samples)
    return s.mean(0), s.std(0) / np.sqrt(len(s))


@pytest.mark.parametrize("act,bias", [("relu", None), ("erf", [0.3, 0.0, 0.5])])
def test_static_kernels_match_finite_width_monte_carlo(act, bias):
    from symndk.langevin.ntk import empirical_ntk

    b = 0.0 if bias is None else bias
    m, se = _mc_nngp(act, W2, bias)
    G = W2[-1] * symndk.static_kernels(X, None, act, 2, W2, b).nngp.train
    assert np.max(np.abs((m - G) / se)) < 4.5, (m - G) / se
    avg = float(np.mean(W2))
    foil = avg * symndk.static_kernels(X, None, act, 2, avg, b).nngp.train
    assert np.max(np.abs((m - foil) / se)) > 8
    m, se = empirical_ntk(X, act, 2, 256, W0, W2, T, [(0.0, 0.0)], 600, seed=1,
                          bias=None if bias is None else (bias, bias))
    ntk = symndk.static_kernels(X, None, act, 2, W0, b).ntk.train
    assert np.max(np.abs((m[0] - ntk) / se[0])) < 4.5
    foil = symndk.static_kernels(X, None, act, 2, float(np.mean(W0)), b).ntk.train
    assert np.max(np.abs((m[0] - foil) / se[0])) > 8


@pytest.mark.parametrize("act,bias", [("relu", None), ("erf", ([0.2, 0.0, 0.1], [0.5, 0.0, 0.25]))])
def test_two_time_ndk_matches_exact_ou_monte_carlo(act, bias):
    from symndk.langevin.ntk import empirical_ntk

    pairs = [(1.5, 0.5), (4.0, 0.0), (6.0, 3.0)]
    m, se = empirical_ntk(X, act, 2, 256, W0, W2, T, pairs, 600, seed=2, bias=bias)
    k = TwoTimeKernel(X, X[:0], act, 2, W0, W2, T, bias)
    z = np.array([(m[i] - k.block(t, s)) / se[i] for i, (t, s) in enumerate(pairs)])
    assert np.max(np.abs(z)) < 4.5, z
    # foil: one average variance for every group
    avg = TwoTimeKernel(X, X[:0], act, 2, float(np.mean(W0)), float(np.mean(W2)), T,
                        None if bias is None else (float(np.mean(bias[0])), float(np.mean(bias[1]))))
    zf = np.array([(m[i] - avg.block(t, s)) / se[i] for i, (t, s) in enumerate(pairs)])
    assert np.max(np.abs(zf)) > 8


@pytest.mark.parametrize("act,bias", [("erf", None), ("relu", ([0.3, 0.0, 0.6], [0.3, 0.0, 0.6]))])
def test_fluctuation_dissipation_identity_with_per_layer_rates(act, bias):
    k = TwoTimeKernel(X, X[:0], act, 2, W2, W2, T, bias)               # stationary prior: sigma0 = sigma per group
    G = lambda tau: k.with_channels("prior").block(tau, 0.0)         # noqa: E731
    h = 1e-4
    for tau in (0.3, 2.0, 7.0):
        dG = (G(tau + h) - G(tau - h)) / (2 * h)
        assert np.max(np.abs(k.block(tau, 0.0) + dG / T)) < 1e-7
    # the one-rate form of §6, K^d = -(1/gamma) d/dtau [e^{-gamma tau} K_L], holds with the readout's rate
    # when there is no output bias (G = sigma_{L+1}^2 e^{-gamma_{L+1} tau} K_L), and fails with another
    # layer's rate (the foil)
    for g, holds in ((T / W2[-1], bias is None), (T / W2[0], False)):
        kl = lambda tau: np.exp(-g * tau) * k.with_channels("nngp").block(tau, 0.0)   # noqa: E731
        one_rate = -(kl(2.0 + h) - kl(2.0 - h)) / (2 * h * g)
        gap = np.max(np.abs(k.block(2.0, 0.0) - one_rate))
        assert gap < 1e-7 if holds else gap > 1e-2, (g, gap)


@pytest.mark.parametrize("act,b0,b2", [("relu", 0.0, 0.0), ("erf", [0.1, 0.0, 0.2], [0.3, 0.0, 0.6])])
def test_ends_ntk_at_zero_and_nngp_posterior_at_infinity(act, b0, b2):
    net = symndk.Network(act, 2, W0, W2, b0, b2)
    ndk = symndk.NDK(net, DS.X_train, DS.y_train, T=T)
    # t = 0: the NDK is the static NTK at the initial variances, the covariance the prior
    ntk = symndk.static_kernels(DS.X_train, None, act, 2, W0, b0 if b2 else 0.0).ntk.train
    assert np.max(np.abs(ndk.kernel().block(0.0, 0.0) - ntk)) < 1e-14
    with warnings.catch_warnings():          # non-integer rate ratios (2.5, 4.2, 8.3) meet the tolerance
        warnings.simplefilter("error", SymndkWarning)
        res = ndk.predict([0.0, 2.0, 4000.0], DS.X_test, cov=True)
    prior0 = W0[-1] * symndk.static_kernels(DS.X_test, None, act, 2, W0, b0).nngp.train
    assert np.max(np.abs(res.extras["test_var"][0] - np.diag(prior0))) < 1e-14
    # t -> inf: G (G + T I)^{-1} Y with G = sigma_{L+1}^2 K_L + sigma_b,L+1^2 (static kernels, checked vs NT)
    st = symndk.static_kernels(DS.X_train, DS.X_test, act, 2, W2, b2)
    Gxx, Gtx = W2[-1] * st.nngp.train, W2[-1] * st.nngp.test
    Gtt = W2[-1] * symndk.static_kernels(DS.X_test, None, act, 2, W2, b2).nngp.train
    M = Gxx + T * np.eye(3)
    mean, var = Gtx @ np.linalg.solve(M, DS.y_train), np.diag(Gtt - Gtx @ np.linalg.solve(M, Gtx.T))
    err = np.max(np.abs(res.test[-1] - mean))
    assert err < 1e-8 and err <= max(res.error_estimate, 1e-12), (err, res.error_estimate)
    assert np.max(np.abs(res.extras["test_var"][-1] - var)) < 1e-8
    # foil: the posterior of the average-variance network
    avg = float(np.mean(W2))
    Sa = symndk.static_kernels(DS.X_train, DS.X_test, act, 2, avg, b2 if not b2 else float(np.mean(b2)))
    foil = avg * Sa.nngp.test @ np.linalg.solve(avg * Sa.nngp.train + T * np.eye(3), DS.y_train)
    assert np.max(np.abs(foil - mean)) > 1e-3


def _langevin_vs_predict(act, depth, w0, w2, width, n_networks, times, seed, bias=None):
    net = symndk.Network(act, depth, w0, w2, *(bias or (0.0, 0.0)))
    ndk = symndk.NDK(net, DS.X_train, DS.y_train, T=0.1)
    sim = ndk.simulate(width=width, n_networks=n_networks, times=times, X_test=DS.X_test, seed=seed, dt=0.01,
                       progress=False)
    th = ndk.predict(times, DS.X_test)
    z = lambda r: np.concatenate([((sim.train - r.train) / sim.train_se).ravel(),  # noqa: E731
                                  ((sim.test - r.test) / sim.test_se).ravel()])
    mean = (lambda b: (0.0, 0.0) if b is None else tuple(float(np.mean(v)) for v in b))(bias)   # noqa: E731
    avg = symndk.NDK(symndk.Network(act, depth, float(np.mean(w0)), float(np.mean(w2)), *mean), DS.X_train,
                     DS.y_train, T=0.1).predict(times, DS.X_test)
    return z(th), z(avg)


@pytest.mark.parametrize("bias", [None, ([0.1, 0.2], [0.4, 0.3])])
def test_langevin_ensemble_with_per_layer_variances_matches_predict(bias):
    z, zf = _langevin_vs_predict("erf", 1, [0.3, 2.0], [0.5, 3.0], 256, 200, [0.5, 2.0], seed=4, bias=bias)
    assert np.max(np.abs(z)) < 4, z
    assert np.max(np.abs(zf)) > 4, zf               # foil: one average variance per network


@pytest.mark.slow
def test_langevin_ensemble_deep_per_layer_matches_predict():
    z, zf = _langevin_vs_predict("relu", 2, [0.4, 1.6, 0.9], [1.0, 2.5, 0.6], 256, 1000, [0.5, 2.0, 4.0], seed=5)
    print("max |z|", np.max(np.abs(z)), "foil max |z|", np.max(np.abs(zf)))
    assert np.max(np.abs(z)) < 4, z
    assert np.max(np.abs(zf)) > 4, zf


def test_verify_proves_the_per_layer_identities(monkeypatch):
    from symndk.checks import verify
    from symndk.identities import cat_bias
    from symndk.runtime import recursion

    res = {r.id: r.tier for r in verify("layers.*", activations=["relu", "erf"])}
    assert res == {"layers.fdt.induction_step": "symbolic", "layers.fdt.relu": "sampled", "layers.fdt.erf": "sampled"}
    # foil: Theta_l with layer l's own group (the scalar recursion's indexing) fails the induction step
    step = recursion.step
    monkeypatch.setattr(recursion, "step", lambda p, *a, C_next=None, bias_next=None, **k: step(p, *a, **k))
    assert cat_bias._layers_fdt_induction().verify().tier == "failed"
