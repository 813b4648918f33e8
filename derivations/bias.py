"""Derivation 7 -- biases: the long-time identity for any gamma_b, its transient, the end point and the
NTK (docs/theory.md §B; THEORY_NEXT §B).

Setting.  h_l = W_l phi(h_{l-1}) / sqrt(N_{l-1}) + b_l, f = a . phi(h_L) / sqrt(N_L) + b_out. Weights
have the OU prior C(t,s) (rate gamma = T/sigma^2), biases C_b(t,s) (rate gamma_b = T/sigma_b^2). The
pre-activation covariance of layer l is Sigma_l = C K_{l-1} + C_b, and each parameter group brings
its own propagator: Theta_0 = e^{-gamma tau} K_0 + e^{-gamma_b tau}, Theta_l = e^{-gamma tau} K_l +
e^{-gamma_b tau} + C Kdot_l Theta_{l-1}, K^d = Theta_L (tau = t - s). Write G_l = C K_l + C_b
(G = G_L is the covariance of the prior output f0).

Long-time identity, any gamma_b (the changed form).  Under the stationary prior
d/ds C(t,s) = gamma C = T e^{-gamma tau} and d/ds C_b = T e^{-gamma_b tau} (as T = gamma sigma^2 =
gamma_b sigma_b^2). Claim: Theta_l = (1/T) d/ds G_l(t,s) for every l.
l = 0: d/ds G_0 = T e^{-gamma tau} K_0 + T e^{-gamma_b tau} = T Theta_0.
Step: the only s-dependent argument of F_phi in K_l is c = G_{l-1}(t,s), so by Price's theorem
d/ds K_l = Kdot_l d/ds G_{l-1} = T Kdot_l Theta_{l-1}, and
d/ds G_l = T e^{-gamma tau} K_l + C T Kdot_l Theta_{l-1} + T e^{-gamma_b tau} = T Theta_l.
Hence K^d(tau) = -(1/T) dG/dtau (fluctuation-dissipation form). (``bias.fdt.induction_step``,
symbolic for any phi and any gamma_b; ``bias.fdt.<act>`` samples it through the recursion with
d/ds by mpmath.diff, L = 1..3, and shows that a recursion giving the bias group the weight
propagator violates it.) The bias-free form (1/gamma) d/ds K_L of derivation 5 is *not* valid
for gamma_b != gamma; it is the special case gamma_b = gamma with C_b = C, where one bias layer is
e^{-gamma tau} times the bias-free layer at K_l -> K_l + 1 (``bias.reduction``, symbolic, any prior;
``bias.longtime.<act>``: e^{gamma tau} Theta_L - (K_L + 1) = (1/gamma) d/ds K_L).

Transient.  For sigma0 != sigma or sigma_b0 != sigma_b, d/ds C(t,s) = T e^{-gamma tau} + A with
A = -gamma (sigma0^2 - sigma^2) e^{-gamma (t+s)} (likewise A_b), and the variance q2 = Sigma_l(s,s)
moves. The same computation gives exactly E_l = d/ds G_l - T Theta_l with
    E_0 = A K_0 + A_b,   E_l = A K_l + A_b + C(t,s) [Kdot_l E_{l-1} + dF/dq2 dq2_l],
    dq2_l = C'(s,s) K_{l-1}(s,s) + C(s,s) dK_{l-1}(s,s)/ds + C_b'(s,s)
(``bias.transient.induction_step`` symbolic; ``bias.transient.<act>`` numeric, L = 1..5;
``bias.transient.<act>.limits``: E_L = 0 in equilibrium, the bias part decays like e^{-2 gamma_b s}).

End point.  In the stationary regime int_0^inf K^d = -(1/T) [G]_0^inf = G(0)/T since G(inf) = 0, so
by the final-value theorem f(inf) = (I + G/T)^{-1} (G/T) Y = G (G + T I)^{-1} Y: the NNGP posterior
mean with kernel G = sigma^2 K_L + sigma_b^2 and noise T, for any gamma_b -- T is shared
(``bias.equilibrium.<act>.integral`` by quadrature; ``bias.equilibrium.linear`` in closed form).

NTK.  At t = s = 0 the propagators are 1, so Theta_0 = K_0 + 1 and Theta_l = K_l + 1 + sigma0^2
Kdot_l Theta_{l-1} at q = sigma0^2 K + sigma_b0^2: the NTK with biases in this parameterisation
(each gradient without a W_std^2 factor) (``bias.ntk.<act>``, symbolic).
Run: ``python derivations/bias.py``.
"""
import mpmath as mp

from symndk.identities.cat_bias import Duals, kernels, output_cov, transient_terms
from symndk.spec.activations import get_activation

CITES = ["bias.fdt.induction_step", "bias.reduction", "bias.transient.induction_step", "bias.equilibrium.linear",
         "bias.fdt.relu", "bias.longtime.erf", "bias.transient.relu", "bias.transient.relu.limits",
         "bias.ntk.relu", "bias.equilibrium.relu.integral"]


def main():
    duals = Duals(get_activation("relu"))
    with mp.workdps(30):
        p = {"ktt": mp.mpf(1), "kss": mp.mpf("0.8"), "kts": mp.mpf("0.3"), "sig": mp.mpf(1), "s0": mp.mpf(1),
             "b2": mp.mpf("0.4"), "b0": mp.mpf("0.4"), "g": mp.mpf("0.5"), "t": mp.mpf(2), "s": mp.mpf(1)}
        T = p["g"] * p["sig"]
        lay = kernels(duals, 3, p, p["t"], p["s"])[0]
        dG = mp.diff(lambda x: output_cov(duals, 3, p, p["t"], x)[0], p["s"])
        print(f"ReLU, L=3, gamma_b/gamma = {mp.nstr(p['sig'] / p['b2'], 3)}: Theta_L =", mp.nstr(lay[3].Theta_ts, 20),
              "; (1/T) dG/ds =", mp.nstr(dG / T, 20))
        foil = kernels(duals, 3, p, p["t"], p["s"], foil=True)[0][3].Theta_ts
        print("one propagator for both groups (wrong):", mp.nstr(foil, 20))
        for b0 in ("1.0", "0.6", "0.41"):
            q = {**p, "b0": mp.mpf(b0)}
            E = transient_terms(duals, 3, q, q["t"], q["s"])[1][3]
            print(f"sigma_b0^2 = {b0}: transient E_3 = {mp.nstr(E, 12)}")
    print("cites:", ", ".join(CITES))


if __name__ == "__main__":
    main()
