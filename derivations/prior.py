"""Derivation 1 -- prior statistics of one parameter (docs/theory.md §2).

Without the loss, every parameter obeys the Ornstein-Uhlenbeck equation

    d theta = -(T / sigma^2) theta dt + sqrt(2 T) dB,     theta(0) ~ N(0, sigma0^2),

because the weight-decay term T |Theta|^2 / (2 sigma^2) has gradient (T / sigma^2) theta.
Write gamma = T / sigma^2.  By Ito's formula the second moment m(t) = <theta(t)^2> obeys

    m'(t) = -2 gamma m(t) + 2 T,          m(0) = sigma0^2,

so m(t) = sigma^2 + (sigma0^2 - sigma^2) exp(-2 gamma t).  For t > s the increment after s is
independent of theta(s) and its mean decays like exp(-gamma (t - s)), so

    C(t, s) = exp(-gamma (t - s)) m(s)
            = sigma^2 exp(-gamma (t - s)) + (sigma0^2 - sigma^2) exp(-gamma (t + s)),   t >= s.

This script solves the moment ODE with SymPy and compares with the spec's C(t, s); the
identities cited below re-check the ODEs, the limits and stationarity independently.
Run: ``python derivations/prior.py``.
"""
import sympy as sp

from symndk.spec.prior import C_ts, T, gamma, prior_C, s, sigma0_sq, sigma_sq, t

CITES = ["prior.C00", "prior.equal_time_limit", "prior.ou_two_time", "prior.ou_equal_time",
         "prior.stationary", "prior.ou_source_s"]


def main():
    m = sp.Function("m")
    ode = sp.Eq(m(t).diff(t), -2 * gamma * m(t) + 2 * T)
    sol = sp.dsolve(ode, m(t), ics={m(0): sigma0_sq}).rhs.subs(T, gamma * sigma_sq)
    print("1. second moment ODE:", ode, " with m(0) = sigma0_sq")
    print("   solution m(t) =", sp.expand(sol))
    derived = sp.exp(-gamma * (t - s)) * sol.subs(t, s)
    print("2. two-time C(t,s) = exp(-gamma (t-s)) m(s) =", sp.expand(derived))
    diff = sp.expand(derived - C_ts)
    print("3. minus the spec's C(t,s):", diff)
    assert diff == 0
    print("4. C(0,0) =", prior_C(0, 0), "; stationary (sigma0 = sigma):", prior_C(t, s, stationary=True))
    print("cites:", ", ".join(CITES))


if __name__ == "__main__":
    main()
