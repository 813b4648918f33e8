"""Issue 12: the certified reference for activations without a closed form (SiLU).

The mpfr dual kernels of such an activation are the Mehler series of
:mod:`symndk.kernels.hermite_mpfr` with a per-evaluation error bound. Truths are independent:
polar 2-D Gauss-Legendre quadrature (:mod:`symndk.identities.quadrature`) and 1-D mpmath
quadrature at higher precision for the kernels; the float64 predictor (its own error estimate)
and, slow, the NNGP equilibrium built from 2-D quadrature values for the certified solution.
"""
import json

import gmpy2
import mpmath
import numpy as np
import pytest
import sympy as sp

from symndk.errors import SymndkError


def _silu_mp(x):
    return x / (1 + mpmath.exp(-x))


def _dsilu_mp(x):
    e = mpmath.exp(-x)
    return (1 + e + x * e) / (1 + e) ** 2


POINTS = [("0.9", "0.9", "0.89999999"), ("0.7", "0.6", "-0.55")]


def test_mpfr_silu_kernels_within_their_bound_against_2d_quadrature(silu):
    """F, Fdot (rho up to 1 - 1e-8, negative rho), V and the mean kernel at 25 working digits vs
    polar Gauss-Legendre / tanh-sinh at 34 digits: every error below the evaluation's own bound,
    every bound below 1e-21. Foil: the series cut at a fixed 40 terms (no per-argument bound)
    misses by more than 1e3 times the bound near rho = 1."""
    from symndk.certified.numbers import to_mpf, working_digits
    from symndk.identities.quadrature import gaussian_expectation_2d
    from symndk.kernels.loader import load

    duals = load(silu, "mpfr")
    phi_k, dphi_k = duals.mehler
    worst = 0.0
    with working_digits(25):
        for q1, q2, c in POINTS:
            args = [gmpy2.mpfr(v) for v in (q1, q2, c)]
            for kern, f, g in ((phi_k, _silu_mp, duals.F), (dphi_k, _dsilu_mp, duals.Fdot)):
                kern.max_rel_error = 0.0
                value = to_mpf(g(*args))
                bound = kern.max_rel_error
                scale = to_mpf(gmpy2.sqrt(kern.V(args[0]) * kern.V(args[1])))
                with mpmath.workdps(34):
                    truth = gaussian_expectation_2d(f, f, *(mpmath.mpf(v) for v in (q1, q2, c)))
                    err = float(abs(value - truth) / scale)
                assert err <= bound <= 1e-21, (q1, q2, c, err, bound)
                worst = max(worst, err)
        q = gmpy2.mpfr("0.8")
        V, mean = to_mpf(duals.V(q)), to_mpf(duals.Fbar(q, q))
        coeffs = phi_k.expansion(gmpy2.mpfr("0.9"))[1]
        rho = gmpy2.mpfr("0.89999999") / gmpy2.mpfr("0.9")
        cut = to_mpf(gmpy2.fsum(a * a * rho ** k for k, a in enumerate(coeffs[:41])))
    with mpmath.workdps(34):
        s = mpmath.sqrt(mpmath.mpf("0.8"))
        m = mpmath.quad(lambda z: mpmath.npdf(z) * _silu_mp(s * z), [-mpmath.inf, 0, mpmath.inf])
        v = mpmath.quad(lambda z: mpmath.npdf(z) * _silu_mp(s * z) ** 2, [-mpmath.inf, 0, mpmath.inf])
        assert abs(V - v) / v < 1e-22 and abs(mean - m * m) / v < 1e-22
        truth = gaussian_expectation_2d(_silu_mp, _silu_mp, *(mpmath.mpf(x) for x in POINTS[0]))
        assert abs(cut - truth) / mpmath.mpf("0.9") > 1e-18      # foil: 1e3 times the largest bound
    assert worst < 1e-22


def test_kinked_numeric_activation_is_refused_in_one_line(tmp_path, monkeypatch):
    """softsign has a kink at 0: its Hermite coefficients converge algebraically, no certified kernel."""
    from symndk.certified.numbers import working_digits
    from symndk.codegen.writer import write_activation
    from symndk.kernels import loader
    from symndk.spec.dual import DualKernels

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    x = sp.Symbol("x", real=True)
    write_activation("t_softsign", loader.cache_dir(), x / (1 + sp.Abs(x)),
                     DualKernels(None, None, None, None, None, None, "none"))
    duals = loader.load("t_softsign", "mpfr")
    with working_digits(20), pytest.raises(SymndkError) as info:
        duals.F(gmpy2.mpfr(1), gmpy2.mpfr(1), gmpy2.mpfr("0.5"))
    assert len(str(info.value).splitlines()) == 1 and "kink" in str(info.value)
    loader.forget("t_softsign")


def _synthetic_predict(silu, r, t, depth):
    """float64 predict on the synthetic task (P = 2: orthonormal inputs, labels +1, -1)."""
    import symndk
    from symndk import data

    ds = data.synthetic(2, r)
    res = symndk.predict(ds.X_train, ds.y_train, ds.X_test, activation=silu, depth=depth, sigma0_sq=1.0,
                         sigma_sq=1.0, T=1.0, times=[t])
    return res.train[0, 0] / ds.y_train[0], res.test[0, 0], res.error_estimate


def test_silu_reference_cli_twenty_digits_against_float64_predict(silu, tmp_path):
    """`symndk reference --activation t_silu` at 20 digits: certificate >= 20 digits, the kernel bound in
    the metadata caps them, and g, f* agree with the float64 predictor within its error estimate.
    Foil: the ReLU predictor differs by far more."""
    from symndk.cli import main

    out = tmp_path / "ref.json"
    assert main(["reference", "--activation", silu, "--depth", "1", "--sigma0-sq", "1", "--sigma-sq", "1", "--T", "1",
                 "--r", "0.5", "--times", "1", "--dps", "20", "--jobs", "1", "-o", str(out)]) == 0
    ref = json.loads(out.read_text())
    meta = ref["meta"]
    assert ref["certified_digits"][0] >= 20
    assert 0 < meta["kernel_error_bound"] < 1e-24 and meta["kernel_digits"] >= 20
    assert "Mehler" in meta["kernel_method"]
    g, f, est = _synthetic_predict(silu, 0.5, 1.0, 1)
    assert abs(float(ref["g"][0]) - g) <= est and abs(float(ref["f_test"][0]) - f) <= est
    assert est < 1e-9
    g_relu, f_relu, _ = _synthetic_predict("relu", 0.5, 1.0, 1)
    assert abs(float(ref["g"][0]) - g_relu) > 1e3 * est    # foil


@pytest.mark.slow
def test_silu_reference_twenty_digits_reaches_the_nngp_equilibrium(silu):
    """Stationary prior (sigma0 = sigma = 1, gamma = 1), L = 1, gamma t = 60 (transient < 1e-25):
    g and f* equal the NNGP equilibrium A / (1 + A), B / (1 + A) with A = V(1) - m^2,
    B = F(1, 1, r) - m^2 (m = E[silu(z)]), built from 1-D and polar 2-D quadrature at 40 digits,
    to 20 significant digits. Foil: the same truth with the transient ignored at gamma t = 5."""
    from symndk.certified.synthetic import reference
    from symndk.identities.quadrature import gaussian_expectation_2d

    res = reference(silu, depth=1, sigma0_sq="1", sigma_sq="1", T="1", r="0.5", times=[5, 60], dps=20, jobs=2)
    with mpmath.workdps(40):
        quad = lambda f: mpmath.quad(lambda z: mpmath.npdf(z) * f(z), [-mpmath.inf, 0, mpmath.inf])  # noqa: E731
        m, V = quad(_silu_mp), quad(lambda z: _silu_mp(z) ** 2)
        Fr = gaussian_expectation_2d(_silu_mp, _silu_mp, 1, 1, mpmath.mpf("0.5"), degree=6)
        A, B = V - m * m, Fr - m * m
        g, f = A / (1 + A), B / (1 + A)
        got_g, got_f = mpmath.mpf(str(res.train_str[1, 0])), mpmath.mpf(str(res.test_str[1, 0]))
        assert res.digits[1] >= 20
        unit = lambda v: mpmath.mpf(10) ** (mpmath.floor(mpmath.log10(abs(v))) - 19)  # noqa: E731  20th digit
        assert abs(got_g - g) <= unit(g) and abs(got_f - f) <= unit(f)    # printed to 20 digits: rounding only
        assert abs(mpmath.mpf(str(res.train_str[0, 0])) - g) / g > 1e-5       # foil


@pytest.mark.slow
def test_silu_reference_predict_p4_depth2_against_float64_predict(silu):
    """P = 4 digits inputs, one test input, L = 2, dps = 20 (about 1 min): certificate >= 20 digits and the
    float64 predictor within its error estimate (measured: 4e-17 against an estimate of 3e-13)."""
    import symndk
    from symndk import data
    from symndk.certified.general import reference_predict

    ds = data.digits(0, 1, n_per_class=2, n_test_per_class=1)
    res = reference_predict(ds.X_train, ds.y_train, ds.X_test[:1], activation=silu, depth=2, T=0.01, times=[1],
                            dps=20, jobs=1)
    assert min(res.digits) >= 20 and 0 < res.metadata["kernel_error_bound"] < 1e-24
    p = symndk.predict(ds.X_train, ds.y_train, ds.X_test[:1], activation=silu, depth=2, sigma0_sq=0.5, sigma_sq=1.0,
                       T=0.01, times=[1])
    assert np.abs(p.train - res.train).max() <= p.error_estimate
    assert np.abs(p.test - res.test).max() <= p.error_estimate
