"""Method-independent reference for the linear activation: the Volterra equation is an ODE.

For phi(x) = x every dual kernel is a polynomial in C (F = c, Fdot = 1), so on the synthetic
task (docs/theory.md §10) Theta_L = (L + 1) C(t, s)^L K_0 and

    k(t, s) = e^{-gamma (t-s)} (L + 1) C(t, s)^L,
    C(t, s) = e^{-gamma t} (sigma^2 e^{gamma s} + Delta e^{-gamma s}),   Delta = sigma0^2 - sigma^2,

a finite sum of separable exponentials. With J_j(t) = e^{-gamma (L+1) t} int_0^t e^{gamma (2j+1-L) s} u ds,

    u = 1 - g = 1 - (L + 1) sum_j binom(L, j) sigma^{2j} Delta^{L-j} J_j,
    J_j' = -gamma (L + 1) J_j + e^{-2 gamma (L - j) t} u,       J_j(0) = 0,

which mpmath's Taylor-series ODE solver integrates to any precision. The test predictor is
f*(t) = r g(t) exactly (Theta_r - Theta_o = r (Theta_d - Theta_o)).

Example (L = 1, sigma0 = sigma: k = 2 sigma^2 e^{-2 gamma (t-s)}, so g = a/(a+b)(1 - e^{-(a+b) t})
with a = 2 sigma^2, b = 2 gamma):
    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     g = linear_g(1, 1, 1, 0.5, [1], dps=25)[0]
    ...     print(abs(g - mpmath.mpf(2) / 3 * (1 - mpmath.exp(-3))) < 1e-27)
    True
"""
from __future__ import annotations

import mpmath


def linear_g(depth, sigma0_sq, sigma_sq, T, times, dps=30):
    """g(t) of the synthetic task for the linear activation, by mpmath.odefun (Taylor method)."""
    L = int(depth)
    with mpmath.workdps(int(dps) + 10):
        s2, delta = mpmath.mpf(sigma_sq), mpmath.mpf(sigma0_sq) - mpmath.mpf(sigma_sq)
        gamma = mpmath.mpf(T) / s2
        coef = [(L + 1) * mpmath.binomial(L, j) * s2 ** j * delta ** (L - j) for j in range(L + 1)]

        def rhs(t, J):
            u = 1 - mpmath.fsum(c * Jj for c, Jj in zip(coef, J))
            return [-gamma * (L + 1) * J[j] + mpmath.exp(-2 * gamma * (L - j) * t) * u for j in range(L + 1)]

        sol = mpmath.odefun(rhs, 0, [mpmath.mpf(0)] * (L + 1))
        out = []
        for t in times:
            J = sol(mpmath.mpf(t))
            out.append(+mpmath.fsum(c * Jj for c, Jj in zip(coef, J)))
    return out
