"""Derivation 3 -- the two-time layer recursion (docs/theory.md §3) and the linear special case.

At infinite width the pre-activations of layer l at times t and s are jointly Gaussian.  Their
covariance is the product of the weight covariance C(t,s) (every weight follows the prior OU
process of derivation 1) and the previous layer's kernel K_{l-1}(t,s;x,x'), so

    K_l(t,s;x,x')    = F_phi (C(t,t) K_{l-1}(t,t;x,x), C(s,s) K_{l-1}(s,s;x',x'), C(t,s) K_{l-1}(t,s;x,x'))
    Kdot_l(t,s;x,x') = F_phi'(same arguments)
    Theta_l          = K_l + C(t,s) Kdot_l Theta_{l-1},        Theta_0 = K_0 = x.x'/N0.

The tangent recursion is the chain rule for grad f(x; Theta_t) . grad f(x'; Theta_s): the readout
contributes K_L, and each earlier layer contributes C(t,s) (the two-time covariance of the
weight through which the gradient flows) times Kdot.  For linear phi, F = c and F' = 1, hence
K_l = C(t,s)^l K_0 and Theta_L = (L+1) C(t,s)^L K_0 for *any* prior (``linear.ndk_factor``).
Run: ``python derivations/recursion.py``.
"""
import sympy as sp

from symndk.spec.activations import get_activation
from symndk.spec.prior import C_ss, C_ts, C_tt, gamma, s, t
from symndk.spec.recursion import RECURSION, SymbolicDuals, layer_kernels, ndk

CITES = ["linear.ndk_factor", "prior.C00"]


def main():
    print("The recursion for symbolic depth L:")
    for eq in RECURSION:
        print("  ", eq)
    k_tt, k_ss, k_ts = sp.symbols("k_tt k_ss k_ts", positive=True)
    lay = layer_kernels(SymbolicDuals(get_activation("linear")), 3, k_tt, k_ss, k_ts, C_tt, C_ss, C_ts)
    factor = sp.factor(ndk(lay) / k_ts)
    print("linear, L = 3: K^d / (x.x'/N0) =", factor)
    assert sp.expand(factor - 4 * C_ts**3 * sp.exp(-gamma * (t - s))) == 0
    print("cites:", ", ".join(CITES))


if __name__ == "__main__":
    main()
