"""MPL mean-predictor solver (docs/theory.md §D): panels vs brute force, closed forms, limits, schedules.

Expected values come from independent routes: the brute-force sum of every term, the
proximal-point closed form (I + K/lambda)^{-n} Y, the Langevin solver of §5, the NNGP equilibrium.
"""
from __future__ import annotations

import numpy as np
import pytest

import symndk
from symndk.dynamics import proximal as px
from symndk.errors import SymndkError

X3 = np.eye(3) * np.sqrt(3)
Y3 = np.array([1.0, -1.0, 1.0])


def _data(P=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(P, 6))
    return X, np.sign(rng.normal(size=P)), X[:2] + 0.3 * rng.normal(size=(2, 6))


@pytest.mark.parametrize("act,lam", [("relu", 3.0), ("erf", 0.7)])
def test_panels_against_brute_force_and_estimate(act, lam):
    X, y, Xt = _data()
    k = px.ProximalKernel(X, Xt, act, 2, 0.5, 1.0, 0.05, lam)
    N = 700
    ref = px.direct(k, y, N)
    for p, n_g, k0 in [(12, 10, 16), (8, 6, 8), (6, 4, 4)]:
        out = px.panels(k, y, N, p=p, n_g=n_g, k0=k0)
        err = float(np.max(np.abs(out.rows - ref.rows)))
        assert err < (1e-11 if p == 12 else 1e-5)
        # the estimate is within 10x of the true error (floor: float64 rounding, ~5e-14 here),
        # and not below it by more than 2x
        assert err / 2 <= out.error_estimate <= 10 * max(err, 5e-14), (p, err, out.error_estimate)


def test_proximal_point_closed_form_is_the_T_to_zero_limit_with_order_T():
    X, y, Xt = _data(4)
    steps = np.arange(0, 13)
    pp = px.predict_proximal(X, y, steps, 1.5, Xt, activation="erf", depth=2, sigma0_sq=0.8, T=0.0)
    # independent: iterate the implicit-Euler step on the NTK
    K = symndk.Network("erf", 2, 0.8, 1.0).ntk_kernel(X).train
    r = y.copy()
    for n in range(1, 13):
        r = np.linalg.solve(np.eye(4) + K / 1.5, r)
    assert np.allclose(pp.train[-1], y - r, atol=1e-12)
    errs = []
    Ts = [4e-3, 2e-3, 1e-3]
    for T in Ts:
        res = px.predict_proximal(X, y, steps, 1.5, Xt, activation="erf", depth=2, sigma0_sq=0.8, sigma_sq=1.0, T=T)
        errs.append(float(np.max(np.abs(res.test - pp.test))))
    order = np.polyfit(np.log(Ts), np.log(errs), 1)[0]
    assert abs(order - 1) < 0.1, (errs, order)


def test_beta_limit_is_only_sqrt_T_for_relu():
    """The same-input ReLU diagonal: Theta_L[c] has a sqrt cusp at rho = 1, so beta DeltaK(n, n; x, x)
    approaches Theta/lambda like sqrt(v) ~ sqrt(T) (docs/theory.md §D); erf above is O(T)."""
    X, y, Xt = _data(3)
    kw = dict(activation="relu", depth=1, sigma0_sq=0.7)
    pp = px.predict_proximal(X, y, [7], 1.0, Xt, T=0.0, **kw)
    Ts = [1e-4, 1e-5, 1e-6]
    errs = [float(np.max(np.abs(px.predict_proximal(X, y, [7], 1.0, Xt, T=T, **kw).train[0] - pp.train[0]))) for T in Ts]
    order = np.polyfit(np.log(Ts), np.log(errs), 1)[0]
    assert abs(order - 0.5) < 0.08, (errs, order)


def test_lambda_to_infinity_recovers_langevin_with_order_one():
    """THEORY_NEXT's first check: erf, L = 1, P = 3, sigma0^2 = 2, sigma^2 = 1, T = 0.05, t = 1."""
    ndk = symndk.NDK(symndk.Network("erf", 1, 2.0, 1.0), X3, Y3, T=0.05)
    lang = ndk.predict([1.0], X3[:1] * 0.5 + X3[1:2] * 0.5, rtol=1e-12).train[0, 0]
    lams = [8.0, 16.0, 32.0, 64.0]
    gaps = []
    for lam in lams:
        res = px.predict_proximal(X3, Y3, [int(lam)], lam, None, activation="erf", depth=1, sigma0_sq=2.0,
                                  sigma_sq=1.0, T=0.05)
        gaps.append(abs(res.train[0, 0] - lang))
    order = -np.polyfit(np.log(lams), np.log(gaps), 1)[0]
    assert abs(order - 1) < 0.1, (gaps, order)
    # the first check's number: the gap at lambda = 1 is 0.166
    res1 = px.predict_proximal(X3, Y3, [1], 1.0, None, activation="erf", depth=1, sigma0_sq=2.0, T=0.05)
    assert abs(abs(res1.train[0, 0] - lang) - 0.166) < 0.002


def test_equilibrium_closed_form_and_nngp_limit():
    X, y, Xt = _data(4)
    kw = dict(activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.1)
    long = px.predict_proximal(X, y, [4000], 0.5, Xt, **kw)
    eq = px.proximal_equilibrium(X, y, 0.5, Xt, **kw)
    assert np.allclose(long.test[-1], eq.test[0], atol=1e-9)
    nngp = symndk.NDK(symndk.Network("relu", 2, 0.5, 1.0), X, y, T=0.1).equilibrium("nngp", Xt).test[0]
    far = px.proximal_equilibrium(X, y, 1e7, Xt, **kw).test[0]
    assert np.allclose(far, nngp, atol=1e-6)
    # at finite lambda the equilibrium is NOT the posterior mean (docs/theory.md §D)
    assert np.max(np.abs(eq.test[0] - nngp)) > 1e-2


def test_schedule_constant_equals_constant_and_T0_product():
    X, y, Xt = _data(3)
    kw = dict(activation="relu", depth=1, sigma0_sq=0.7, sigma_sq=1.0, T=0.05)
    a = px.predict_proximal(X, y, [5, 20], [2.0] * 20, Xt, **kw)
    b = px.predict_proximal(X, y, [5, 20], 2.0, Xt, method="direct", **kw)
    assert np.allclose(a.train, b.train, atol=1e-13) and np.allclose(a.test, b.test, atol=1e-13)
    # T -> 0 with a schedule: r(n) = prod_k (I + K/lambda_k)^{-1} Y (implicit Euler with steps 1/lambda_k)
    lams = np.array([0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 1.0])
    K = symndk.Network("erf", 1, 0.7, 1.0).ntk_kernel(X).train
    r = y.copy()
    for lk in lams:
        r = np.linalg.solve(np.eye(3) + K / lk, r)
    errs = [float(np.max(np.abs(px.predict_proximal(X, y, [7], lams, Xt, activation="erf", depth=1, sigma0_sq=0.7,
                                                     T=T).train[0] - (y - r)))) for T in (2e-4, 1e-4)]
    assert errs[1] < 1e-3 and 1.8 < errs[0] / errs[1] < 2.2, errs
    assert np.isclose(a.t[-1], 10.0)


def test_bad_input_is_one_error():
    X, y, Xt = _data(3)
    with pytest.raises(SymndkError, match="lam"):
        px.predict_proximal(X, y, [3], -1.0)
    with pytest.raises(SymndkError, match="schedule"):
        px.predict_proximal(X, y, [5], [1.0, 2.0])
    with pytest.raises(SymndkError, match="steps"):
        px.predict_proximal(X, y, [3, 1], 1.0)
    with pytest.raises(SymndkError, match="at most 64 stages"):
        px.panels(px.ProximalKernel(X, Xt, "relu", 1, 1.0, 1.0, 0.1, [1.0, 2.0] * 40), y, 80)


def test_ndk_methods_wire_the_solver():
    d = symndk.data.synthetic(P=4, r=0.6)
    ndk = symndk.NDK(symndk.Network("erf", 1, 2.0, 1.0), d.X_train, d.y_train, T=0.05)
    res = ndk.predict_proximal([1, 10, 1000], 2.0, d.X_test)
    ref = px.predict_proximal(d.X_train, d.y_train, [1, 10, 1000], 2.0, d.X_test, method="direct", activation="erf",
                              depth=1, sigma0_sq=2.0, sigma_sq=1.0, T=0.05)
    assert np.allclose(res.test, ref.test, atol=1e-10) and res.metadata["method"] == "mpl panels"
    eq = ndk.proximal_equilibrium(2.0, d.X_test)
    assert eq.times[0] == np.inf and abs(eq.test[0, 0] - res.test[-1, 0]) < 1e-8
