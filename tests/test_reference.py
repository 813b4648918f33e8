"""High-precision reference solver: nodes, kernels, collocation order, certificate, linear ODE check, CLI, tables."""
import json
import subprocess
import sys

import gmpy2
import mpmath
import numpy as np
import pytest

from symndk.errors import SymndkError
from symndk.kernels import loader as duals
from symndk.runtime.recursion import layer_kernels, prior_C
from symndk.certified.kernel import NDKernel
from symndk.certified.linear import linear_g
from symndk.certified.numbers import lu_solve, mpfr, to_mpf, working_digits
from symndk.certified.quadrature import bary_weights, gauss_legendre, lagrange_row, radau_iia
from symndk.certified.volterra import PanelSolver
from symndk.certified.synthetic import as_dict, reference



def test_quadrature_rules():
    with working_digits(40):
        x, w = gauss_legendre(12)
        assert all(v.precision == gmpy2.get_context().precision for v in x + w)
        for k in (0, 7, 23):  # exact to degree 2n - 1
            assert abs(gmpy2.fsum(wi * xi**k for xi, wi in zip(x, w)) - mpfr(1) / (k + 1)) < 1e-38
        c = radau_iia(6)
        assert c[-1] == 1
        # Radau IIA abscissae: zeros of P_m(2x-1) - P_{m-1}(2x-1), checked against numpy's roots
        coef = np.zeros(7)
        coef[6], coef[5] = 1, -1
        roots = np.sort((np.polynomial.legendre.legroots(coef) + 1) / 2)
        np.testing.assert_allclose([float(v) for v in c], roots, atol=1e-13)
        row = lagrange_row(c, bary_weights(c), mpfr("0.3"))
        assert abs(gmpy2.fsum(l * n**5 for l, n in zip(row, c)) - mpfr("0.3") ** 5) < 1e-37


def test_lu_solve_matches_mpmath():
    """The MPFR Gaussian elimination against mpmath's LU on a random nonsymmetric system needing pivoting."""
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((9, 9)), rng.standard_normal(9)
    A[0, 0] = 0.0
    with working_digits(40):
        mine = lu_solve([[mpfr(float(v)) for v in row] for row in A], [mpfr(float(v)) for v in b])
        ref = mpmath.lu_solve(mpmath.matrix(A.tolist()), mpmath.matrix(b.tolist()))
        assert max(abs(to_mpf(x) - y) for x, y in zip(mine, ref)) < 1e-36
    with working_digits(20), pytest.raises(ZeroDivisionError):
        lu_solve([[mpfr(1), mpfr(2)], [mpfr(2), mpfr(4)]], [mpfr(1), mpfr(1)])


@pytest.mark.parametrize("activation", ["relu", "erf", "linear"])
def test_kernel_matches_layer_recursion(activation):
    """The fused, cancellation-free evaluation equals recursion.layer_kernels (docs/theory.md §3)."""
    """(MPFR kernels through the fused cancellation-free path, vs mpmath kernels through the generic one.)"""
    mod, ref_mod = duals.load(activation, "mpfr"), duals.load(activation, "mpmath")
    rng = np.random.default_rng(3)
    with working_digits(40):
        s0, s2, g = mpmath.mpf("0.3"), mpmath.mpf(1), mpmath.mpf("0.02")
        for depth in (1, 2, 3):
            k = NDKernel(mod, depth, "0.3", 1, "0.02")
            for _ in range(3):
                t = mpmath.mpf(rng.uniform(0, 200))
                s = t * mpmath.mpf(rng.uniform())
                for a in (1, 0, mpmath.mpf("0.4")):
                    mine = to_mpf(k.thetas(mpfr(t), mpfr(s), mpfr(t - s), (k.entry(0, 0, a),))[0])
                    C = lambda u, v: prior_C(u, v, s0, s2, g, mpmath.exp)
                    ref = mpmath.exp(-g * (t - s)) * layer_kernels(1, 1, a, C(t, t), C(s, s), C(t, s), depth,
                                                                   ref_mod)[3]
                    assert abs(mine - ref) <= 1e-30 * max(1, abs(ref))


def test_relu_cusp_coefficient():
    """ReLU, L = 1, stationary: (K(t,t) - K(t,t-tau)) / sqrt(tau) -> sqrt(2 gamma)/(2 pi) (docs/numerics.md §3)."""
    mod = duals.load("relu", "mpfr")
    with working_digits(40):
        g, tau, one = mpfr("0.1"), mpfr("1e-16"), mpfr(1)
        k = NDKernel(mod, 1, 1, 1, g)
        t = mpfr(5)
        # Theta_1 = K_1 + C Kdot; the K_1 part is smooth, the cusp sits in C Kdot = C (pi - theta)/(2 pi)
        same = (k.entry(0, 0, one),)
        diff = (k.thetas(t, t, mpfr(0), same)[0] - k.thetas(t, t - tau, tau, same)[0] * gmpy2.exp(g * tau))
        diff /= gmpy2.sqrt(tau)
        assert abs(diff - gmpy2.sqrt(2 * g) / (2 * gmpy2.const_pi())) < 1e-6


def _mittag_leffler(a, t):
    """u(t) = E_{3/2}(-a t^{3/2}) solves u = 1 - int_0^t (a / Gamma(3/2)) sqrt(t-s) u(s) ds."""
    z = -a * t ** mpmath.mpf(1.5)
    return mpmath.nsum(lambda k: z**k / mpmath.gamma(1.5 * k + 1), [0, mpmath.inf])


def test_collocation_converges_exponentially_on_sqrt_kernel():
    """Pure sqrt(t - s) kernel (the cusp plus the t^(3/2) start-up term): log error falls linearly in p."""
    with working_digits(30):
        mesh = [(0, "0.25", True), ("0.25", "0.75", False), ("0.75", 2, False)]
        exact = _mittag_leffler(mpmath.gamma(1.5), mpmath.mpf(2))
        orders, errs = (4, 8, 12), []
        for p in orders:
            sol = PanelSolver(mesh, order=p, near=p + 4, digits=25).solve(lambda t, s, d: [[gmpy2.sqrt(d)]], [1])
            errs.append(float(abs(to_mpf(sol.value_at_end(2)[0]) - exact)))
    slope = np.polyfit(orders, np.log10(errs), 1)[0]
    assert slope < -0.5, (errs, slope)
    assert errs[-1] < 1e-13


def test_linear_matches_exact_ode():
    """Linear activation: the collocation solver against mpmath.odefun on the equivalent ODE."""
    kw = dict(depth=1, sigma0_sq=0.5, sigma_sq=1.0, T=0.5)
    times = [0.5, 2.0]
    res = reference("linear", r=0.5, times=times, dps=12, **kw)
    with mpmath.workdps(30):
        exact = linear_g(times=times, dps=16, **kw)
        for g, f, e in zip(res.train[:, 0], res.test[:, 0], exact):
            assert abs(g - e) < 1e-12 * abs(e)
            assert abs(f - e / 2) < 1e-12 * abs(e)  # f* = r g for the linear activation
    assert min(res.digits) >= 12


def test_certificate_and_metadata():
    res = reference("erf", depth=1, sigma0_sq=2.0, sigma_sq=1.0, T=0.2, r=0.3, times=[0, 0.5, 2], dps=10)
    assert res.train[0, 0] == 0 and res.test[0, 0] == 0
    assert min(res.digits) >= 10 and "warning" not in res.metadata
    d = json.loads(json.dumps(as_dict(res, "g", "f_test", column=True)))
    for key in ("activation", "depth", "sigma0_sq", "sigma_sq", "T", "gamma", "r", "dps", "method",
                "order", "certificate_order", "symndk_version"):
        assert key in d["meta"]
    assert len(d["g"]) == 3 and len(d["g"][2].replace("0.", "").lstrip("0")) >= 10
    # g rises from 0 and stays below 1 (training error decreases); the test predictor is bounded
    assert 0 < res.train[1, 0] < res.train[2, 0] < 1 and abs(res.test[2, 0]) < 1


@pytest.mark.parametrize("kw", [dict(T=0), dict(T=-1), dict(sigma_sq=0), dict(depth=0), dict(depth=1.5),
                                dict(r=1.5), dict(times=[]), dict(times=[2, 1]), dict(times=[-1]),
                                dict(times=[float("nan")]), dict(dps=3), dict(activation=3)])
def test_bad_input(kw):
    with pytest.raises(SymndkError):
        reference(**{**dict(times=[1.0], dps=8), **kw})


def test_unknown_activation():
    with pytest.raises(SymndkError):
        reference("nosuch", times=[1.0], dps=8)


def test_cli_one_configuration(tmp_path):
    out = tmp_path / "ref.json"
    cmd = [sys.executable, "-m", "symndk", "reference", "--activation", "erf", "--depth", "1", "--T", "0.5",
           "--times", "0.5,1", "--dps", "6", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["meta"]["activation"] == "erf" and len(data["g"]) == 2
    assert min(data["certified_digits"]) >= 6


@pytest.mark.parametrize("args", [["--times", "1,abc"], ["--T", "-1"], ["--times", "2,1"], ["--dps", "2"],
                                  ["--activation", "nosuch"]])
def test_cli_bad_input(args):
    proc = subprocess.run([sys.executable, "-m", "symndk", "reference", *args], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symndk: error:")


def test_relu_depth2_thirty_digits_and_fast_solver():
    """Issue target: 30 certified digits for the synthetic ReLU L = 2 task at 5 probe times (about
    1 minute on 2 cores; benchmarks/reference.py times it), and the fast float64 solver agrees with
    those values to its requested tolerance."""
    import symndk
    from symndk import data

    kw = dict(activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.01)
    times = [1.0, 10.0, 100.0, 1000.0, 3000.0]
    res = reference(r=0.5, times=times, dps=30, **kw)
    assert min(res.digits) >= 30, res.digits
    assert res.metadata["order"] == 32 and res.metadata["certificate_order"] == 38
    ds = data.synthetic(4, 0.5)  # balanced labels: the scalar reduction of section 10 holds
    fast = symndk.predict(ds.X_train, ds.y_train, ds.X_test, times=times, rtol=1e-10, atol=1e-10, **kw)
    g, f = res.train[:, 0], res.test[:, 0]
    assert np.abs(fast.train - np.outer(g, ds.y_train)).max() < 1e-10
    assert np.abs(fast.test[:, 0] - f).max() < 1e-10
