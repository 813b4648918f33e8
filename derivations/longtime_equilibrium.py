"""Derivation 5 -- the long-time identity, its transient correction, and the NNGP equilibrium
(docs/theory.md §6).

Long-time identity.  Under the stationary prior (sigma0 = sigma, or t, s >> 1/gamma),
C(t,t) = C(s,s) = sigma^2 and d/ds C(t,s) = gamma C(t,s) for s < t.  Claim:

    d/ds K_l(t,s) = gamma (Theta_l - K_l)(t,s)           for every l.

l = 0: K_0 = Theta_0 is constant.  Step: the only s-dependent argument of F_phi is
c_l = C(t,s) K_{l-1}(t,s) (the variances are stationary), and by Price's theorem dF/dc = Kdot_l, so
d/ds K_l = Kdot_l [gamma C K_{l-1} + C gamma (Theta_{l-1} - K_{l-1})] = gamma C Kdot_l Theta_{l-1}
= gamma (Theta_l - K_l).  (``longtime.induction_step``, symbolic for any phi; the concrete
kernels are checked numerically with d/ds by mpmath.diff through the whole recursion for every
registered activation and L = 1..5, ``longtime.<act>.L<n>``.)  Equivalently
K^d(t,s) = (1/gamma) d/ds [exp(-gamma (t-s)) K_L(t,s)].

Transient correction (sigma0 != sigma).  Now d/ds C(t,s) = gamma C - 2 gamma Delta e^{-gamma(t+s)}
and d/ds C(s,s) = -2 gamma Delta e^{-2 gamma s}, Delta = sigma0^2 - sigma^2, and the variance
q2 = C(s,s) K_{l-1}(s,s) moves.  The same computation gives exactly

    d/ds K_l - gamma (Theta_l - K_l) = E_l,   E_0 = 0,
    E_l = Kdot_l [C(t,s) E_{l-1} - 2 gamma Delta e^{-gamma(t+s)} K_{l-1}(t,s)] + dF/dq2 * dq2_l/ds,
    dq2_l/ds = -2 gamma Delta e^{-2 gamma s} K_{l-1}(s,s) + C(s,s) d/ds K_{l-1}(s,s),

(``transient.induction_step`` symbolic; ``transient.<act>`` numeric for L = 1..5).  Every term
carries Delta, so E_L -> 0 as sigma0 -> sigma, and E_L e^{2 gamma s} / Delta tends to a
constant as s grows at fixed t - s: the correction decays like Delta e^{-2 gamma s}
(``transient.<act>.limits``), as docs/theory.md §6 states.

Equilibrium.  In the stationary regime K^d depends on tau = t - s only, and the identity gives
int_0^inf K^d(tau) dtau = K_L(0)/gamma = K_GP/gamma (``equilibrium.<act>.integral``).  The mean
predictor solves the convolution Volterra equation f = K^d * (Y - f); by the final-value theorem
(Laplace transform, p -> 0) f(inf) = (I + K_GP/gamma)^(-1) (K_GP/gamma) Y = K_GP (K_GP + gamma I)^(-1) Y
and at a test point f(x, inf) = k_GP(x)^T (Y - f(inf))/gamma = k_GP(x)^T (K_GP + gamma I)^(-1) Y,
for any T.  For linear phi the Laplace solution is computed exactly (``equilibrium.linear.laplace``).
Run: ``python derivations/longtime_equilibrium.py``.
"""
import mpmath as mp

from symndk.identities.cat_kernels import Duals, kernels, transient_terms
from symndk.spec.activations import get_activation

CITES = ["longtime.induction_step", "longtime.relu.L1", "longtime.relu.L3", "longtime.erf.L5",
         "transient.induction_step", "transient.relu", "transient.relu.limits",
         "equilibrium.linear.laplace", "equilibrium.relu.integral"]


def main():
    duals = Duals(get_activation("relu"))
    with mp.workdps(30):
        p = {"ktt": mp.mpf(1), "kss": mp.mpf("0.8"), "kts": mp.mpf("0.3"), "sig": mp.mpf(1), "g": mp.mpf("0.5"),
             "s0": mp.mpf(1), "t": mp.mpf(2), "s": mp.mpf(1)}
        lay = kernels(duals, 3, p, p["t"], p["s"])
        dK = mp.diff(lambda x: kernels(duals, 3, p, p["t"], x)[3].K_ts, p["s"])
        print("ReLU, L=3, stationary: Theta - K =", mp.nstr(lay[3].Theta_ts - lay[3].K_ts, 20),
              "; dK/ds / gamma =", mp.nstr(dK / p["g"], 20))
        for s0 in ("2", "1.5", "1.1", "1.01"):
            q = {**p, "s0": mp.mpf(s0)}
            E = transient_terms(duals, 3, q, q["t"], q["s"])[1][3]
            print(f"sigma0^2 = {s0}: transient term E_3 = {mp.nstr(E, 12)}  (E_3/Delta = {mp.nstr(E / (q['s0'] - 1), 12)})")
    print("cites:", ", ".join(CITES))


if __name__ == "__main__":
    main()
