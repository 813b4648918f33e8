"""trajectory_cov's error estimate bounds the error of numerically evaluated dual kernels (issue 16 review:
the mean's estimate carried it, the covariance's did not).

Independent route: the linear activation's dual kernels (F = c, Fdot = 1, V = q) are exact; the same kernels
moved by a declared bound eps (F + eps sqrt(q1 q2), Fdot + eps, what a quadrature table within its bound may
return) stand in for a numeric activation. The covariance with the exact kernels is the truth; the moved
run's estimate must cover its distance from it. Measured (P = 3, Q = 1, T = 0.5, t <= 40, eps = 1e-6):
true error 6.9e-7 / 1.37e-6 (L = 1 / 2) against estimates 9.0e-7 / 1.81e-6; foil: without the numeric
term the estimate was 3.7e-15 / 3.3e-15.
"""
import types

import numpy as np
import pytest

from symndk.dynamics.covariance import trajectory_cov
from symndk.dynamics.twotime import TwoTimeKernel

EPS = 1e-6
X = np.array([[1.0, 0.5], [-0.3, 1.2], [0.9, -1.0], [0.2, 0.7]])
TIMES = np.array([0.0, 1.0, 5.0, 40.0])


def _linear(eps):
    """Linear dual kernels moved by eps of their scale, declaring the bound eps (none when eps = 0)."""
    bound = types.SimpleNamespace(rel_error=eps)
    return types.SimpleNamespace(F=lambda q1, q2, c, D=None: c + eps * np.sqrt(q1 * q2),
                                 Fdot=lambda q1, q2, c, D=None: 1.0 + eps + 0.0 * c, V=lambda q: q,
                                 Vdot=lambda q: 1.0 + 0.0 * q, tables={"F": bound, "Fdot": bound} if eps else {})


def _cov(depth, eps):
    k = TwoTimeKernel(X[:3], X[3:], "linear", depth, 1.0, 1.0, 0.5)
    k.duals = _linear(eps)
    return trajectory_cov(k, X, TIMES, 1e-10, 1e-12)


@pytest.mark.parametrize("depth", [1, 2])
def test_estimate_bounds_a_numeric_kernel_error(depth):
    exact, moved = _cov(depth, 0.0), _cov(depth, EPS)
    err = max(float(np.max(np.abs(moved[n] - exact[n]))) for n in ("train_var", "test_var"))
    assert err > 1e-7                                         # the moved kernels do move the covariance
    assert moved["error_estimate"] >= err, (moved["error_estimate"], err)
    assert moved["error_estimate"] <= 10 * err                # and not by an empty margin
    assert moved["info"]["numeric_kernel_error"] > 0 and not moved["info"]["met"]
    assert exact["error_estimate"] < 1e-13 and exact["info"]["numeric_kernel_error"] == 0.0
