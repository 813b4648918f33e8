"""Identities of the prior statistics C(t, s) (docs/theory.md §2): OU moment equations and limits.

Example:
    >>> [i.id for i in identities()][:2]
    ['prior.C00', 'prior.equal_time_limit']
"""
from __future__ import annotations

import sympy as sp

from symndk.identities.engine import custom_identity, expr_identity, symbolic_zero
from symndk.spec.prior import C_ts, C_tt, T, gamma, prior_C, s, sigma0_sq, sigma_sq, t

_RANGES = {t: (1, 3), s: (0, 1), gamma: (0.1, 2), sigma0_sq: (0.2, 3), sigma_sq: (0.2, 3), T: (0.01, 1)}


def _limit_check():
    lim = sp.limit(C_tt, t, sp.oo)
    ok = symbolic_zero(lim - sigma_sq)
    return ("symbolic", 0.0, "sympy.limit") if ok else ("failed", float("nan"), f"limit is {lim}")


def identities():
    """Prior identities: C(0,0), the equal-time limit, the OU moment ODEs, stationarity."""
    on_gamma = {gamma: T / sigma_sq}
    return [
        expr_identity("prior.C00", "initial variance", prior_C(0, 0), sigma0_sq, _RANGES,
                      latex=r"C(0,0) = \sigma_0^2"),
        custom_identity("prior.equal_time_limit", "equal-time variance relaxes to the prior variance",
                        r"\lim_{t\to\infty} C(t,t) = \sigma^2", _limit_check),
        expr_identity("prior.ou_two_time", "two-time OU moment equation (t > s)",
                      sp.diff(C_ts, t), -gamma * C_ts, _RANGES,
                      latex=r"\partial_t C(t,s) = -\gamma C(t,s),\quad t > s"),
        expr_identity("prior.ou_equal_time", "equal-time OU moment equation, gamma = T / sigma^2",
                      sp.diff(C_tt, t).subs(on_gamma), (-2 * gamma * C_tt + 2 * T).subs(on_gamma), _RANGES,
                      latex=r"\frac{d}{dt} C(t,t) = -2\gamma C(t,t) + 2T,\quad \gamma = T/\sigma^2"),
        expr_identity("prior.stationary", "sigma0 = sigma: C depends on t - s only",
                      (sp.diff(C_ts, t) + sp.diff(C_ts, s)).subs(sigma0_sq, sigma_sq), 0, _RANGES,
                      latex=r"\sigma_0=\sigma \Rightarrow (\partial_t + \partial_s) C(t,s) = 0"),
        expr_identity("prior.ou_source_s", "d/ds C(t,s) = gamma C - 2 gamma (sigma0^2 - sigma^2) e^{-gamma(t+s)} (t > s)",
                      sp.diff(C_ts, s), gamma * C_ts - 2 * gamma * (sigma0_sq - sigma_sq) * sp.exp(-gamma * (t + s)),
                      _RANGES, latex=r"\partial_s C(t,s) = \gamma C(t,s) - 2\gamma(\sigma_0^2-\sigma^2)e^{-\gamma(t+s)}"),
    ]
