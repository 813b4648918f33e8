"""Prior statistics: the Ornstein-Uhlenbeck covariance C(t, s) of one parameter (docs/theory.md §2).

Without the loss each parameter obeys d theta = -gamma theta dt + sqrt(2 T) dB with
theta(0) ~ N(0, sigma0^2) and gamma = T / sigma^2, so

    C(t, s) = sigma^2 exp(-gamma (t - s)) + (sigma0^2 - sigma^2) exp(-gamma (t + s)),   t >= s.

The branch t >= s is explicit (no ``Abs``); :func:`prior_C` swaps the arguments for t < s.

Example:
    >>> prior_C(0, 0)
    sigma0_sq
    >>> sp.simplify(prior_C(t, s, stationary=True))
    sigma_sq*exp(gamma*(s - t))
    >>> prior_C(s, t, ordered=False).subs({s: 2, t: 1}) == prior_C(2, 1)
    True
"""
from __future__ import annotations

import sympy as sp

from symndk.runtime import recursion as runtime

t = sp.Symbol("t", nonnegative=True)
s = sp.Symbol("s", nonnegative=True)
sigma0_sq = sp.Symbol("sigma0_sq", positive=True)
sigma_sq = sp.Symbol("sigma_sq", positive=True)
gamma = sp.Symbol("gamma", positive=True)
T = sp.Symbol("T", positive=True)

#: gamma in terms of the temperature and the prior variance
GAMMA_DEF = sp.Eq(gamma, T / sigma_sq)


def prior_C(t1, t2, *, stationary: bool = False, ordered: bool = True) -> sp.Expr:
    """C(t1, t2) for t1 >= t2 (``ordered=True``, the default) or a Piecewise over both orders.

    ``stationary=True`` sets sigma0 = sigma (the prior is then stationary at all times).
    """
    s0 = sigma_sq if stationary else sigma0_sq

    def branch(a, b):  # a >= b: the one runtime formula, on SymPy numbers
        return runtime.prior_C(a, b, s0, sigma_sq, gamma, sp.exp)

    if ordered:
        return branch(t1, t2)
    return sp.Piecewise((branch(t1, t2), sp.Ge(t1, t2)), (branch(t2, t1), True))


#: C(t, s) on the branch t >= s, C(t, t) and C(s, s)
C_ts = prior_C(t, s)
C_tt = prior_C(t, t)
C_ss = prior_C(s, s)
