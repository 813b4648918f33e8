"""Biases keep the Gram-determinant carry (docs/numerics.md §5): the kernels near rho = 1 against an
independent 50-digit mpmath reference written out below (the ReLU arc-cosine and erf arcsin closed
forms, the bias recursion and the two-time prior by hand; nothing of symndk's recursion or generated
kernels is used).

With a bias the pre-activation covariance is q = A + B, A the weight part (whose determinant the
recursion carries) and B the bias prior; :func:`symndk.runtime.recursion.gram_sum` gives
det(A + B) without cancellation. Without it (the old route: q1 q2 - c^2 rounded in float64) ReLU's
kernels lose half the digits: 2e-9 relative at 1 - rho = 1e-15 (the foil below).
"""
import mpmath as mp
import numpy as np
import pytest

import symndk
from symndk.dynamics.twotime import TwoTimeKernel
from symndk.runtime import recursion

DPS = 50
TOL = 1e-14


# ----------------------------------------------------------------------------- the mpmath reference

def _relu(q1, q2, c):
    """(F, Fdot, V(q1), V(q2)) of ReLU: the arc-cosine kernel (Cho & Saul), angle from the exact Gram."""
    th = mp.atan2(mp.sqrt(max(q1 * q2 - c * c, 0)), c)
    F = mp.sqrt(q1 * q2) * (mp.sin(th) + (mp.pi - th) * mp.cos(th)) / (2 * mp.pi)
    return F, (mp.pi - th) / (2 * mp.pi), q1 / 2, q2 / 2


def _erf(q1, q2, c):
    """(F, Fdot, V(q1), V(q2)) of erf: (2/pi) arcsin(2c / sqrt((1 + 2 q1)(1 + 2 q2))) (Williams)."""
    n = (1 + 2 * q1) * (1 + 2 * q2)
    V = lambda q: 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q))  # noqa: E731
    return 2 / mp.pi * mp.asin(2 * c / mp.sqrt(n)), 4 / mp.pi / mp.sqrt(n - 4 * c * c), V(q1), V(q2)


DUALS = {"relu": _relu, "erf": _erf}


def _C(t, s, s0, s2, g):
    """The OU prior C(t, s) = sigma^2 e^{-g (t-s)} + (sigma0^2 - sigma^2) e^{-g (t+s)} (docs/theory.md §2)."""
    return s2 * mp.exp(-g * (t - s)) + (s0 - s2) * mp.exp(-g * (t + s))


def reference(act, x, y, groups, t=0, s=0):
    """(K_L, Theta_L) at (x, t; y, s) for per-group priors: ``groups`` is one (sigma0^2, sigma^2, bias)
    per group W_1..W_L, readout, bias None or (sigma_b0^2, sigma_b^2); T = 1 (rates 1 / sigma^2), so at
    t = s = 0 the covariances are the sigma0^2 (the static kernels). Theta_0 = p_1 K_0 + pb_1,
    Theta_l = p_{l+1} K_l + pb_{l+1} + C_{l+1}(t,s) Kdot_l Theta_{l-1}, p = e^{-g (t-s)}."""
    x, y = [mp.mpf(float(v)) for v in x], [mp.mpf(float(v)) for v in y]
    n0 = len(x)
    kxx, kyy, kxy = (sum(a * b for a, b in zip(u, v)) / n0 for u, v in ((x, x), (y, y), (x, y)))
    t, s = mp.mpf(t), mp.mpf(s)

    def prior(group):        # C(t,t), C(s,s), C(t,s), propagator; the same for the bias
        s0, s2, b = group
        w = [_C(a, c, s0, s2, 1 / s2) for a, c in ((t, t), (s, s), (t, s))] + [mp.exp(-(t - s) / s2)]
        return w, None if b is None else [_C(a, c, b[0], b[1], 1 / b[1]) for a, c in ((t, t), (s, s), (t, s))] \
            + [mp.exp(-(t - s) / b[1])]

    def head(group, K):
        w, b = prior(group)
        return w[3] * K + (0 if b is None else b[3])

    theta = head(groups[0], kxy)
    for l, group in enumerate(groups[:-1]):
        w, b = prior(group)
        bb = [0, 0, 0] if b is None else b
        q1, q2, c = w[0] * kxx + bb[0], w[1] * kyy + bb[1], w[2] * kxy + bb[2]
        kxy, kdot, kxx, kyy = DUALS[act](q1, q2, c)
        theta = head(groups[l + 1], kxy) + prior(groups[l + 1])[0][2] * kdot * theta
    return kxy, theta


def pair(one_minus_rho, stretch=1.0):
    """Two inputs with 1 - rho = ``one_minus_rho`` (to float64 rounding of the perturbation; the reference
    uses the float64 inputs as they are), the second stretched by ``stretch``."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal(6)
    e = rng.standard_normal(6)
    e -= (e @ x) / (x @ x) * x
    e *= np.sqrt(2 * one_minus_rho) * np.linalg.norm(x) / np.linalg.norm(e)
    return np.stack([x, stretch * (x + e)])


def rel(got, want):
    return float(abs(mp.mpf(float(got)) - want) / abs(want))


RHOS = (1e-15, 1e-12, 1e-8)


# ----------------------------------------------------------------------------- static kernels

STATIC = [  # (depth + 1 groups as (sigma^2, bias_sq or None), scalar arguments or per-layer lists)
    ("scalar", dict(sigma_sq=1.3, bias_sq=0.4), [(1.3, 0.4)] * 3),
    ("lists", dict(sigma_sq=[1.3, 0.8, 1.1], bias_sq=[0.4, 0.0, 0.7]), [(1.3, 0.4), (0.8, None), (1.1, 0.7)]),
    ("lists, zero-variance bias", dict(sigma_sq=[1.3, 0.8, 1.1], bias_sq=[0.0, 0.25, 0.0], biased=True),
     [(1.3, 0.0), (0.8, 0.25), (1.1, 0.0)]),
]


def _static_reference(act, X, spec):
    groups = [(w, w, None if b is None else (b, b or 1.0)) for w, b in spec]   # (a rate for sigma_b^2 = 0; t = s = 0)
    with mp.workdps(DPS):
        K, theta = reference(act, X[0], X[1], groups)
        b_out = spec[-1][1] or 0
        return K + mp.mpf(b_out) / spec[-1][0], theta


@pytest.mark.parametrize("stretch", [1.0, 1.25])
@pytest.mark.parametrize("one_minus_rho", RHOS)
@pytest.mark.parametrize("act", ["relu", "erf"])
@pytest.mark.parametrize("label,kwargs,spec", STATIC, ids=[s[0] for s in STATIC])
def test_static_kernels_with_biases_near_rho_1(label, kwargs, spec, act, one_minus_rho, stretch):
    X = pair(one_minus_rho, stretch)
    got = symndk.static_kernels(X, activation=act, depth=2, **kwargs)
    nngp, ntk = _static_reference(act, X, spec)
    errors = rel(got.nngp.train[0, 1], nngp), rel(got.ntk.train[0, 1], ntk)
    assert max(errors) <= TOL, errors


def _old_route(monkeypatch):
    """The pre-fix recursion: with a bias the Gram determinant is not carried (F, Fdot at q1 q2 - c^2)."""
    step = recursion.step

    def no_carry(p, C_tt, C_ss, C_ts, duals, D_C=None, *args, **kw):
        bias = kw.get("bias", args[4] if len(args) > 4 else None)
        return step(p, C_tt, C_ss, C_ts, duals, None if bias is not None and bias.C_ts is not None else D_C,
                    *args, **kw)

    monkeypatch.setattr(recursion, "step", no_carry)


def test_foil_the_old_route_misses(monkeypatch):
    """The test above fails on the pre-fix route: ReLU, scalar bias, 1 - rho = 1e-15."""
    X = pair(1e-15)
    _, kwargs, spec = STATIC[0]
    nngp, ntk = _static_reference("relu", X, spec)
    _old_route(monkeypatch)
    got = symndk.static_kernels(X, activation="relu", depth=2, **kwargs)
    errors = rel(got.nngp.train[0, 1], nngp), rel(got.ntk.train[0, 1], ntk)
    assert max(errors) > 1e-10, errors


def test_static_kernels_with_biases_in_an_array_api_namespace():
    """The same carry in array_api_strict (``gram_sum``'s guard takes the namespace's ``where``)."""
    xp = pytest.importorskip("array_api_strict")
    X = pair(1e-15)
    for _, kwargs, spec in STATIC:
        got = symndk.static_kernels(xp.asarray(X), activation="relu", depth=2, **kwargs)
        nngp, ntk = _static_reference("relu", X, spec)
        errors = rel(float(got.nngp.train[0, 1]), nngp), rel(float(got.ntk.train[0, 1]), ntk)
        assert max(errors) <= TOL, errors


# ----------------------------------------------------------------------------- two-time kernels

def _exact_pair():
    """x = (1, 0), x' = (1, 2^-26): every input statistic exact in float64 (1 - rho = 2^-53 / (1 + 2^-52))."""
    return np.array([[1.0, 0.0], [1.0, 2.0 ** -26]])


TWO_TIME = [  # (weight (sigma0^2, sigma^2), bias (sigma_b0^2, sigma_b^2)) per group, T = 1
    ("lists", [(0.7, 1.3), (0.9, 0.8), (1.2, 1.1)], [(0.3, 0.6), (0.0, 0.0), (0.0, 0.5)]),
]


@pytest.mark.parametrize("lag", [0.0, 1e-12, 1e-6])
@pytest.mark.parametrize("act", ["relu", "erf"])
def test_two_time_per_layer_kernels_with_biases_near_rho_1(act, lag):
    """Per-layer variances with biases (:func:`layer_priors`): the block at (t, s), t = s + lag."""
    _, w, b = TWO_TIME[0]
    X = _exact_pair()
    k = TwoTimeKernel(X, X[:0], act, 2, [v[0] for v in w], [v[1] for v in w], 1.0,
                      bias=([v[0] for v in b], [v[1] for v in b])).with_channels("ndk", "nngp")
    s = 0.75
    ndk, nngp = k.block(s + lag, s, lag)
    groups = [(w0, w2, None if b2 == 0 else (b0, b2)) for (w0, w2), (b0, b2) in zip(w, b)]
    with mp.workdps(DPS):
        K, theta = reference(act, X[0], X[1], groups, mp.mpf(s) + mp.mpf(lag), s)
    errors = rel(nngp[0, 1], K), rel(ndk[0, 1], theta)
    assert max(errors) <= TOL, errors


@pytest.mark.parametrize("lag", [0.0, 1e-12, 0.3])
def test_two_time_scalar_bias_kernels_near_rho_1(lag):
    """Scalar variances and bias=(b0, b2) (:func:`bias_terms`); where t - s is not small the prior
    decorrelates q and nothing cancels. Measured (ndk) 5.4e-17 / 7.3e-17 / 2.3e-16 at t - s = 0 / 1e-12 / 0.3;
    before TwoTimeKernel passed D_C and D_0 with a scalar bias: 9.5e-10 / 1.2e-12 (this test failed)."""
    X = _exact_pair()
    k = TwoTimeKernel(X, X[:0], "relu", 2, 0.7, 1.3, 1.0, bias=(0.3, 0.6)).with_channels("ndk", "nngp")
    s = 0.75
    ndk, nngp = k.block(s + lag, s, lag)
    with mp.workdps(DPS):
        K, theta = reference("relu", X[0], X[1], [(0.7, 1.3, (0.3, 0.6))] * 3, mp.mpf(s) + mp.mpf(lag), s)
    errors = rel(nngp[0, 1], K), rel(ndk[0, 1], theta)
    assert max(errors) <= TOL, errors
