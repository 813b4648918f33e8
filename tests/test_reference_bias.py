"""The certified reference (NDK.reference) with biases and per-layer variances (issue 13, docs/theory.md §B):

* against the float64 Volterra solver (NDK.predict at rtol 1e-12): biases with gamma_b != gamma, and
  per-layer weight and bias lists (zero-initialised biases and a group without one); foil: the
  bias-free network, which must miss;
* at long time against the NNGP posterior mean G (G + T I)^{-1} Y with the bias-augmented kernel
  G = sigma^2 K_L + sigma_b^2 written here independently (the erf arcsine kernel, Williams 1997) and
  evaluated in mpmath at 40 digits, to the certified digits (slow);
* bad bias input.
"""
import mpmath
import numpy as np
import pytest

import symndk
from symndk import data
from symndk.certified.general import reference_predict
from symndk.errors import SymndkError

DS = data.synthetic(2, 0.6)
CASES = {
    # gamma_b = 2 gamma, sigma_b0^2 != sigma_b^2
    "bias": ("erf", 1, dict(sigma0_sq=0.5, sigma_sq=1.0, bias_sigma0_sq=0.2, bias_sigma_sq=0.5)),
    # per-layer weights and biases: no bias on layer 1, a zero-initialised output bias
    "layered": ("relu", 2, dict(sigma0_sq=[0.5, 0.8, 0.6], sigma_sq=[1.0, 1.5, 0.7], bias_sigma0_sq=[0.0, 0.1, 0.0],
                                bias_sigma_sq=[0.0, 0.35, 0.5])),
}


@pytest.mark.filterwarnings("ignore::symndk.errors.SymndkWarning")   # the float64 estimate is the looser side
@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_with_biases_and_layers_matches_predict(case):
    act, L, kw = CASES[case]
    ndk = symndk.NDK(symndk.Network(act, L, **kw), DS.X_train, DS.y_train, T=0.1)
    ref = ndk.reference([1.0, 4.0], DS.X_test, dps=13, jobs=1)
    assert min(ref.digits) >= 13, ref.digits
    fast = ndk.predict([1.0, 4.0], DS.X_test, rtol=1e-12, atol=1e-14)
    err = max(np.abs(ref.train - fast.train).max(), np.abs(ref.test - fast.test).max())
    assert err < 1e-12, err                         # measured 5.6e-16 (bias), 1.2e-15 (layered)
    foil = symndk.NDK(symndk.Network(act, L, **{k: v for k, v in kw.items() if "bias" not in k}), DS.X_train,
                      DS.y_train, T=0.1).predict([1.0, 4.0], DS.X_test, rtol=1e-12, atol=1e-14)
    assert np.abs(ref.test - foil.test).max() > 1e-3
    assert "bias" in ref.metadata


def _nngp_erf(X, Xt, depth, s2, b2):
    """G = sigma_{L+1}^2 K_L + sigma_b,L+1^2 on the rows [X; Xt]: q_l = sigma_l^2 K_{l-1} + sigma_bl^2 and
    K_l = (2/pi) asin(2 q / sqrt((1 + 2 q) (1 + 2 q'))), in mpmath."""
    per = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * (depth + 1)  # noqa: E731
    s2, b2 = per(s2), per(b2)
    rows = [[mpmath.mpf(float(v)) for v in x] for x in list(X) + list(Xt)]
    R = len(rows)
    K = mpmath.matrix([[mpmath.fsum(a * b for a, b in zip(u, v)) / len(u) for v in rows] for u in rows])
    for layer in range(depth):
        q = K * mpmath.mpf(s2[layer]) + mpmath.mpf(b2[layer]) * mpmath.ones(R, R)
        K = mpmath.matrix([[2 / mpmath.pi * mpmath.asin(2 * q[i, j] / mpmath.sqrt((1 + 2 * q[i, i]) * (1 + 2 * q[j, j])))
                            for j in range(R)] for i in range(R)])
    return K * mpmath.mpf(s2[-1]) + mpmath.mpf(b2[-1]) * mpmath.ones(R, R)


@pytest.mark.slow
@pytest.mark.parametrize("kw", [dict(sigma0_sq=0.5, sigma_sq=1.0, bias_sigma0_sq=0.2, bias_sigma_sq=0.8),
                                dict(sigma0_sq=[0.5, 0.7], sigma_sq=[1.0, 0.8], bias_sigma0_sq=[0.0, 0.3],
                                     bias_sigma_sq=[0.9, 0.6])])
def test_reference_ends_at_the_bias_augmented_nngp_posterior(kw):
    """erf, L = 1, T = 0.5: at t = 60 (slowest rate gamma t >= 30) the certified reference is the NNGP
    posterior mean to its certified digits (measured: 17 and 18 certified digits, float64 values equal to
    the posterior to the last bit; 60-100 s CPU each)."""
    T, P = 0.5, 2
    net = symndk.Network("erf", 1, **kw)
    ref = symndk.NDK(net, DS.X_train, DS.y_train, T=T).reference([60.0], DS.X_test, dps=10)
    assert min(ref.digits) >= 10
    with mpmath.workdps(40):
        G = _nngp_erf(DS.X_train, DS.X_test, 1, net.sigma_sq, net.bias_sigma_sq)
        y = mpmath.matrix([mpmath.mpf(float(v)) for v in DS.y_train])
        post = G[:, :P] * mpmath.lu_solve(G[:P, :P] + T * mpmath.eye(P), y)
        post = np.array([float(post[i]) for i in range(post.rows)])
    got = np.r_[ref.train[0], ref.test[0]]                  # the certified value rounded once to float64
    worst = np.abs(got - post).max() / np.abs(post).max()
    assert worst <= 4 * max(10.0 ** -min(ref.digits), 2.0 ** -53), worst     # measured 0.0 for both
    foil = symndk.NDK(net, DS.X_train, DS.y_train, T=T).equilibrium("ntk", DS.X_test).test[0, 0]
    assert abs(foil - got[-1]) > 1e-3


def test_bad_bias_input_is_one_line():
    with pytest.raises(SymndkError, match="bias_sigma_sq must be one number or depth"):
        reference_predict(DS.X_train, DS.y_train, None, "erf", 1, bias=(0.1, [0.5]), times=[1.0], dps=8)
    with pytest.raises(SymndkError, match="needs bias_sigma_sq > 0"):
        reference_predict(DS.X_train, DS.y_train, None, "erf", 1, bias=(0.1, 0.0), times=[1.0], dps=8)


@pytest.mark.filterwarnings("ignore::symndk.errors.SymndkWarning")
def test_numeric_activation_reference_with_biases_and_layers_matches_predict(silu):
    """SiLU (no closed form: Mehler series of symndk.kernels.hermite_mpfr, digits capped by its bound) with
    per-layer weights and a scalar bias: the certified reference against the float64 predictor (measured: 13
    certified digits, kernel bound 2.1e-16, float64 within 6.7e-16; ~9 s CPU)."""
    net = symndk.Network(silu, 1, sigma0_sq=[0.5, 0.7], sigma_sq=[1.0, 0.8], bias_sigma0_sq=0.1, bias_sigma_sq=0.5)
    ndk = symndk.NDK(net, DS.X_train, DS.y_train, T=0.1)
    ref = ndk.reference([1.0, 3.0], DS.X_test, dps=8, jobs=1)
    assert min(ref.digits) >= 8 and "kernel_error_bound" in ref.metadata, (ref.digits, ref.metadata)
    fast = ndk.predict([1.0, 3.0], DS.X_test, rtol=1e-10)
    err = max(np.abs(ref.train - fast.train).max(), np.abs(ref.test - fast.test).max())
    assert err < max(fast.error_estimate, ref.error_estimate), (err, fast.error_estimate, ref.error_estimate)


def test_reference_cli_passes_biases_and_per_layer_lists(tmp_path):
    """`symndk reference --task` with --bias-* and comma lists solves that network (it used to drop them):
    against float64 NDK.predict; foil: the bias-free network misses. Without --task: one error line."""
    import argparse
    import json

    from symndk.cli import main
    from symndk.commands import reference as cmd

    flags = ["--activation", "erf", "--depth", "1", "--sigma0-sq", "0.5", "--sigma-sq", "1,0.5",
             "--bias-sigma0-sq", "0.2", "--bias-sigma-sq", "0.5", "--T", "0.1", "--times", "1,3", "--dps", "12"]
    out = tmp_path / "ref.json"
    assert main(["reference", "--task", "synthetic:2,0.5", "--n-test", "1", *flags, "-o", str(out)]) == 0
    got = json.loads(out.read_text())
    X, y, Xt, _ = cmd._load(argparse.Namespace(task="synthetic:2,0.5", n_per_class=2, n_test=1))
    net = symndk.Network("erf", 1, 0.5, [1.0, 0.5], 0.2, 0.5)
    want = symndk.NDK(net, X, y, T=0.1).predict([1.0, 3.0], Xt, rtol=1e-12, atol=1e-14)
    train, test = np.array(got["train"], dtype=float), np.array(got["test"], dtype=float)
    assert np.max(np.abs(train - want.train)) < 1e-10 and np.max(np.abs(test - want.test)) < 1e-10
    plain = symndk.NDK(symndk.Network("erf", 1, 0.5, [1.0, 0.5]), X, y, T=0.1).predict([1.0, 3.0], Xt, rtol=1e-12)
    assert np.max(np.abs(test - plain.test)) > 1e-3
    assert main(["reference", *flags]) == 2


@pytest.mark.filterwarnings("ignore::symndk.errors.SymndkWarning")
def test_reference_with_per_layer_initial_variances_only():
    """A network whose only list is sigma0_sq (scalar sigma_sq, no biases) is layered: the reference must run
    the per-group recursion (it raised TypeError: mpfr() of the list). Against the float64 predictor (measured
    2.2e-16); foil: the scalar network at the mean initial variance misses by 2.8e-2."""
    s0 = [0.3, 1.2, 0.6]
    ndk = symndk.NDK(symndk.Network("erf", 2, sigma0_sq=s0, sigma_sq=1.0), DS.X_train, DS.y_train, T=0.1)
    ref = ndk.reference([1.0, 4.0], DS.X_test, dps=13, jobs=1)
    assert min(ref.digits) >= 13, ref.digits
    fast = ndk.predict([1.0, 4.0], DS.X_test, rtol=1e-12, atol=1e-14)
    err = max(np.abs(ref.train - fast.train).max(), np.abs(ref.test - fast.test).max())
    assert err < 1e-12, err
    foil = symndk.NDK(symndk.Network("erf", 2, sigma0_sq=float(np.mean(s0)), sigma_sq=1.0), DS.X_train, DS.y_train,
                      T=0.1).predict([1.0, 4.0], DS.X_test, rtol=1e-12, atol=1e-14)
    assert np.abs(ref.test - foil.test).max() > 1e-3, np.abs(ref.test - foil.test).max()


def test_bad_variance_and_bias_shapes_are_one_line():
    """Before: bias=(0.1,) raised IndexError, bias=0.1 TypeError, a non-number (in a list or a bias)
    ValueError/TypeError, and a numpy array of per-layer variances TypeError (mpf of an array)."""
    run = lambda **kw: reference_predict(DS.X_train, DS.y_train, None, "erf", 1, times=[1.0], dps=8, **kw)  # noqa: E731
    for kw, msg in ((dict(bias=(0.1,)), "bias must be None or a pair"), (dict(bias=0.1), "bias must be None or a pair"),
                    (dict(bias=("q", 0.1)), "bias_sigma0_sq must be a number"),
                    (dict(sigma_sq=[1.0, None]), "sigma_sq must be a number"),
                    (dict(sigma_sq="1; import os"), "sigma_sq must be a number")):
        with pytest.raises(SymndkError, match=msg):
            run(**kw)
    as_list = run(sigma_sq=[1.0, 0.8], bias=([0.0, 0.2], [0.5, 0.4]))
    as_array = run(sigma_sq=np.array([1.0, 0.8]), bias=(np.array([0.0, 0.2]), np.array([0.5, 0.4])))
    assert np.array_equal(as_list.train, as_array.train) and as_array.metadata["sigma_sq"] == as_list.metadata["sigma_sq"]
