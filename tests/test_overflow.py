"""Overflow guard (issue 10 item 4): a deep network with a huge weight variance overflows float64;
the public functions raise one SymndkError line instead of returning inf/NaN."""
import warnings

import numpy as np
import pytest

import symndk
from symndk.errors import SymndkError, check_finite

X = 2.0 * np.eye(3)
Y = np.array([1.0, -1.0, 1.0])


def test_check_finite_passes_finite_values_through():
    a = np.arange(4.0)
    assert check_finite("x", a) is a and check_finite("x", None) is None


@pytest.mark.parametrize("bad, word", [(np.inf, "overflowed"), (np.nan, "undefined")])
def test_check_finite_names_the_output(bad, word):
    with pytest.raises(SymndkError, match=f"the NTK (is )?{word}"):
        check_finite("the NTK", np.array([[1.0, bad]]))


@pytest.mark.parametrize("fn", [symndk.nngp_kernel, symndk.ntk_kernel])
def test_static_kernels_refuse_overflow(fn):
    # ReLU: K_l = sigma^2 K_{l-1} / 2, so (5e9)^100 overflows float64 (was inf/NaN, silently)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(SymndkError) as info:
            fn(X, activation="relu", depth=100, sigma_sq=1e10)
    assert "\n" not in str(info.value) and "sigma_sq" in str(info.value)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_ntk_equilibrium_refuses_overflow():
    with pytest.raises(SymndkError):
        symndk.ntk_equilibrium(X, Y, activation="relu", depth=60, sigma0_sq=1e10, sigma_sq=1e10)


def test_predict_refuses_an_overflowing_two_time_kernel_without_warnings():
    # cube at sigma0^2 = 1e200, depth 3: the two-time kernel overflows at t = 0 (was a raw
    # "array must not contain infs or NaNs" ValueError from inside the compression)
    X2 = np.random.default_rng(0).normal(size=(4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SymndkError, match="the two-time kernel overflowed"):
            symndk.predict(X2, np.array([1.0, -1, 1, -1]), times=[0, 1], activation="cube", depth=3,
                           sigma0_sq=1e200, T=0.01)


def test_predict_at_tiny_gamma_follows_the_sqrt_limit_and_refuses_below_resolution():
    # T -> 0: the Langevin predictor tends to the NTK flow; for ReLU the kernel has a square-root
    # cusp at rho = 1, so |f_T - f_0| = O(sqrt(gamma t)): a 100x smaller T moves 10x less.
    # (A solver that loses the tiny decay would break the ratio; estimates were 2e-15 throughout.)
    X2 = np.random.default_rng(0).normal(size=(4, 3))
    y = np.array([1.0, -1, 1, -1])
    ntk = symndk.NDK(symndk.Network(depth=2), X2, y, T=0).ntk_dynamics([1.0, 10.0], X2[:2] + 0.1).test
    d = [np.abs(symndk.predict(X2, y, X2[:2] + 0.1, times=[1.0, 10.0], T=T).test - ntk).max() for T in (1e-10, 1e-12)]
    assert 8 < d[0] / d[1] < 12.5, d
    with pytest.raises(SymndkError, match="below float64 resolution; use T = 0"):
        symndk.predict(X2, y, times=[1.0], T=1e-17)
