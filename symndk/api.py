"""The free functions of the first release, kept as thin wrappers over :class:`symndk.model.NDK`.

Each builds ``NDK(Network(activation, depth, sigma0_sq, sigma_sq), X_train, y_train, T)`` and calls
one method, so existing code keeps working and gets the same numbers; new code should build one
``NDK`` and call several methods on it (the kernels are then built once).

Example:
    >>> import numpy as np, symndk
    >>> d = symndk.data.synthetic(P=4, r=0.6)
    >>> a = predict(d.X_train, d.y_train, d.X_test, depth=2, T=0.01, times=[5.0])
    >>> b = symndk.NDK(symndk.Network(depth=2), d.X_train, d.y_train, T=0.01).predict([5.0], d.X_test)
    >>> bool(np.array_equal(a.test, b.test))
    True
"""
from __future__ import annotations

from symndk.model import NDK, Network
from symndk.results import Result


def _ndk(X_train, y_train, activation, depth, sigma0_sq, sigma_sq, T) -> NDK:
    return NDK(Network(activation, depth, sigma0_sq, sigma_sq), X_train, y_train, T)


def predict(X_train, y_train, X_test=None, activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.01,
            times=None, rtol=1e-10, atol=1e-12, *, m=12, max_refine=2, T_schedule=None, eta_schedule=None) -> Result:
    """:meth:`NDK.predict` (times default: [0]; ``T_schedule``/``eta_schedule``: docs/theory.md §E)."""
    return _ndk(X_train, y_train, activation, depth, sigma0_sq, sigma_sq, T).predict(
        [0.0] if times is None else times, X_test, rtol, atol, m=m, max_refine=max_refine, T_schedule=T_schedule,
        eta_schedule=eta_schedule)


def ntk_dynamics(X_train, y_train, X_test=None, *, times, activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0,
                 T=0.0) -> Result:
    """:meth:`NDK.ntk_dynamics` (T does not enter)."""
    return _ndk(X_train, y_train, activation, depth, sigma0_sq, sigma_sq, T).ntk_dynamics(times, X_test)


def ntk_equilibrium(X_train, y_train, X_test=None, *, activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0,
                    T=0.0) -> Result:
    """:meth:`NDK.equilibrium` ``("ntk")`` (T does not enter)."""
    return _ndk(X_train, y_train, activation, depth, sigma0_sq, sigma_sq, T).equilibrium("ntk", X_test)


def nngp_equilibrium(X_train, y_train, X_test=None, *, activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0,
                     T=0.01) -> Result:
    """:meth:`NDK.equilibrium` ``("nngp")`` (sigma0_sq does not enter)."""
    return _ndk(X_train, y_train, activation, depth, sigma0_sq, sigma_sq, T).equilibrium("nngp", X_test)


def drift(X_train, y_train, X_test=None, *, t0, times, activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0,
          T=0.01, m=12) -> Result:
    """:meth:`NDK.drift`."""
    return _ndk(X_train, y_train, activation, depth, sigma0_sq, sigma_sq, T).drift(t0, times, X_test, m=m)


def drift_equilibrium(X_train, y_train, X_test=None, *, lags, activation="relu", depth=2, sigma0_sq=0.5,
                      sigma_sq=1.0, T=0.01) -> Result:
    """:meth:`NDK.drift_equilibrium`."""
    return _ndk(X_train, y_train, activation, depth, sigma0_sq, sigma_sq, T).drift_equilibrium(lags, X_test)


def temporal_correlation(X_train, y_train, X_test=None, *, t_a, t_w, activation="relu", depth=2, sigma0_sq=0.5,
                         sigma_sq=1.0, T=0.01, m=12) -> Result:
    """:meth:`NDK.temporal_correlation`."""
    return _ndk(X_train, y_train, activation, depth, sigma0_sq, sigma_sq, T).temporal_correlation(
        t_a, t_w, X_test, m=m)
