"""Theory curves for the Langevin validations (adapters over the solvers and the recursion).

Every curve comes from the project's model (:class:`symndk.model.NDK`: ``predict``, ``drift``,
``temporal_correlation``); this module only arranges their outputs as
``(n, P + Q)`` arrays in the order the simulator reports them, and builds the foils: the
deliberately wrong variants the validation statistic must reject.

Example (Theta_L at t = s = 0 for linear L = 1 is 2 sigma0^2 K_0):
    >>> import numpy as np
    >>> from symndk.checks.langevin import Case
    >>> c = Case("x", "ntk", "linear", 1, 8, 8, 0.5, (), pairs=((0.0, 0.0),))
    >>> X = np.sqrt(2.0) * np.eye(2)
    >>> np.round(tangent_kernel(c, X, equal_time_C=False)[0], 12).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
"""
from __future__ import annotations

import numpy as np


def ndk(case, X, y):
    """The :class:`~symndk.model.NDK` of a validation case."""
    from symndk.model import NDK, Network

    return NDK(Network(case.activation, case.depth, case.sigma0_sq, case.sigma_sq), X, y, case.T)


def predict(case, X, y, Xt, times):
    """Mean predictor (docs/theory.md §5) at ``times``: (n, P + Q)."""
    res = ndk(case, X, y).predict(np.asarray(times, float), Xt)
    return np.hstack([res.train, res.test])


def drift(case, X, y, Xt, times):
    """Drift predictor (section 7), readout frozen at ``case.t0``: (n, P + Q)."""
    res = ndk(case, X, y).drift(case.t0, np.asarray(times, float), Xt)
    return np.hstack([res.train, res.test])


def correlation(case, X, y, Xt):
    """Temporal correlation g(x; t_a, t_w) (section 8) at ``case.pairs``: (m, P + Q)."""
    model = ndk(case, X, y)
    rows = [model.temporal_correlation(ta, tw, Xt) for ta, tw in case.pairs]
    return np.vstack([np.hstack([r.train, r.test]) for r in rows])


class _NoPrefactor:
    """A two-time kernel with the NDK channel e^{-gamma (t-s)} Theta_L replaced by Theta_L (foil)."""

    def __init__(self, kernel):
        self._kernel = kernel

    def __getattr__(self, name):
        return getattr(self._kernel, name)

    def _growth(self, t, s, rest):
        lag = rest[0] if rest and rest[0] is not None else np.asarray(t, float) - np.asarray(s, float)
        return np.exp(self._kernel.gamma * np.asarray(lag, float))

    def entries(self, rows, cols, t, s, *rest):
        return self._kernel.entries(rows, cols, t, s, *rest) * self._growth(t, s, rest).reshape(1, -1, 1)

    def block(self, t, s, *rest):
        return self._kernel.block(t, s, *rest) * self._growth(t, s, rest)

    def compressed(self, t_end):
        from symndk.dynamics.compress import compress

        return compress(self, t_end)


def foil(case, X, y, Xt, times):
    """The deliberately wrong theory ``case.foil`` at the case's outputs: (n, P + Q).

    * ``"no-prefactor"``: the Volterra kernel Theta_L(t, s) instead of e^{-gamma (t-s)} Theta_L(t, s)
      (solved by the project's Volterra solver with the kernel swapped).
    * ``"no-drift"`` (drift cases): the predictor stays at fbar(x, t0) once the readout is frozen.
    * ``"same-time"`` (correlation cases): g(x; t_a, t_w) taken as fbar(x, t_w), ignoring that the
      readout and the hidden weights are read at different times.
    """
    from symndk.dynamics import solvers

    if case.foil == "no-prefactor":
        times = np.asarray(times, float)
        kernel = _NoPrefactor(ndk(case, X, y).kernel(Xt))
        sol = solvers.solve_trajectory(kernel, np.asarray(y, float), float(times.max()), 1e-8, 1e-10, 12, 1)[0]
        return sol.predict(times)
    if case.foil == "no-drift":
        return np.repeat(predict(case, X, y, Xt, [case.t0]), len(times), axis=0)
    if case.foil == "same-time":
        t_w, back = np.unique([tw for _, tw in case.pairs], return_inverse=True)
        return predict(case, X, y, Xt, t_w)[back]
    raise ValueError(f"unknown foil {case.foil!r}")


def ntk_inputs():
    """Three inputs in R^3 with unequal norms and generic overlaps (fixed)."""
    X = np.random.default_rng(3).standard_normal((3, 3))
    X[2] *= 1.7
    return X


def tangent_kernel(case, X, equal_time_C=False):
    """Theta_L(t, s; x_i, x_j) at ``case.pairs`` from the layer recursion: (m, n, n).

    With ``equal_time_C`` the cross statistic C(t, s) is replaced by sqrt(C(t, t) C(s, s)) (a
    foil that ignores the decorrelation of the weights in time).
    """
    from symndk.kernels import loader as duals
    from symndk.runtime.recursion import layer_kernels, prior_C

    k = duals.load(case.activation)
    K0 = X @ X.T / X.shape[1]
    n = np.diag(K0)
    gamma = case.T / case.sigma_sq
    out = []
    for t, s in case.pairs:
        t, s = max(t, s), min(t, s)
        Ctt, Css, Cts = (prior_C(a, b, case.sigma0_sq, case.sigma_sq, gamma, np.exp, expm1=np.expm1)
                         for a, b in ((t, t), (s, s), (t, s)))
        if equal_time_C:
            Cts = np.sqrt(Ctt * Css)
        out.append(layer_kernels(n[:, None], n[None, :], K0, Ctt, Css, Cts, case.depth, k)[3])
    return np.array(out)
