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
