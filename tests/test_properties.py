"""Randomised properties (hypothesis): kernels are finite, PSD and pinned on the diagonal; the
predictor's error_estimate bounds its true error, measured against the closed-form NNGP equilibrium
(an independent route) at a time where every transient has decayed below 1e-26.

Default suite: 1,000 kernel configurations and 100 trajectories; ``-m slow``: 10,000 and 1,000.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symndk
from symndk.errors import SymndkError

ACTIVATIONS = ["linear", "relu", "erf", "leaky_relu", "abs", "gelu", "sin", "cos", "gauss", "cube"]


@st.composite
def kernel_case(draw):
    P = draw(st.integers(1, 6))
    N0 = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, N0)) * 10.0 ** draw(st.floats(-3, 3))
    if P > 1 and draw(st.booleans()):            # duplicated and nearly collinear rows
        X[-1] = X[0] * (1 + draw(st.sampled_from([0.0, 1e-12, 1e-6])))
    return dict(X=X, activation=draw(st.sampled_from(ACTIVATIONS)), depth=draw(st.integers(1, 10)),
                sigma_sq=10.0 ** draw(st.floats(-8, 1)))


def _check_kernel(case):
    net = symndk.Network(case["activation"], case["depth"], case["sigma_sq"], case["sigma_sq"])
    try:
        pair = [net.nngp_kernel(case["X"]).train, net.ntk_kernel(case["X"]).train]
    except SymndkError as exc:                  # refused with one line (overflow): allowed, never garbage
        assert "overflowed" in str(exc) or "undefined" in str(exc), exc
        return
    for K in pair:
        assert np.all(np.isfinite(K)) and np.isrealobj(K)
        assert np.array_equal(K, K.T)
        w = np.linalg.eigvalsh(K)
        # 1e-7, not eps: anti-collinear inputs of an even activation (abs) land on the rho = 1 cusp of
        # the next layer, where float64 keeps half the digits (docs/numerics.md §5; runtime.numpy.abs)
        assert w.min() >= -1e-7 * max(w.max(), 1e-300), (w, case)
    # the diagonal is pinned to the same-input chain K_l(x, x) = V(q): equal for equal inputs
    dup = case["X"][-1] is not case["X"][0] and np.array_equal(case["X"][-1], case["X"][0])
    if dup:
        for K in pair:
            assert K[0, 0] == K[-1, -1] == K[0, -1]


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(kernel_case())
def test_kernels_are_finite_psd_and_pinned(case):
    _check_kernel(case)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(kernel_case())
def test_kernels_are_finite_psd_and_pinned_10k(case):
    _check_kernel(case)


@st.composite
def trajectory_case(draw):
    P = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.standard_normal((P + 1, 3))
    return dict(X=X[:P], Xt=X[P:], y=rng.standard_normal(P), activation=draw(st.sampled_from(ACTIVATIONS[:5])),
                depth=draw(st.integers(1, 5)), sigma0_sq=10.0 ** draw(st.floats(-8, 0.5)),
                sigma_sq=10.0 ** draw(st.floats(-0.5, 0.5)), T=10.0 ** draw(st.floats(-3, 2)))


def _check_estimate(case):
    net = symndk.Network(case["activation"], case["depth"], case["sigma0_sq"], case["sigma_sq"])
    ndk = symndk.NDK(net, case["X"], case["y"], T=case["T"])
    try:
        eq = ndk.equilibrium("nngp", case["Xt"])
    except SymndkError:
        return
    K_gp = ndk.kernel(case["Xt"], stationary=True).with_channels("nngp").block(0.0, 0.0)[: len(case["y"])]
    K_ntk = ndk.kernel(case["Xt"]).block(0.0, 0.0)[: len(case["y"])]
    slowest = min(ndk.gamma, np.linalg.eigvalsh(K_gp).min(), np.linalg.eigvalsh(K_ntk).min())
    t_end = 60.0 / slowest
    if not 0 < t_end < 1e9:
        return
    res = ndk.predict([t_end], case["Xt"], rtol=1e-10, atol=1e-12)
    cond = np.linalg.cond(K_gp + ndk.gamma * np.eye(len(case["y"])))
    slack = 10 * np.finfo(float).eps * cond * np.abs(case["y"]).max()   # the closed form's own rounding
    err = max(np.abs(res.train[-1] - eq.train[0]).max(), np.abs(res.test[-1] - eq.test[0]).max())
    assert np.isfinite(res.error_estimate) and err <= res.error_estimate + slack, (err, res.error_estimate, case)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(trajectory_case())
def test_error_estimate_bounds_the_true_error(case):
    _check_estimate(case)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(trajectory_case())
def test_error_estimate_bounds_the_true_error_1000(case):
    _check_estimate(case)
