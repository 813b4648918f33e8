"""Derivation 4 -- the NDK at t = s = 0 is the NTK of the initialisation (docs/theory.md §4).

K^d(t,s) = exp(-gamma (t-s)) Theta_L(t,s).  At t = s = 0 the exponential is 1 and every prior
covariance C(0,0), C(t,t), C(s,s) equals sigma0^2 (``prior.C00``).  One layer of the two-time
recursion then reads

    K_l = F_phi(sigma0^2 K_{l-1}(x,x), sigma0^2 K_{l-1}(x',x'), sigma0^2 K_{l-1}(x,x')),
    Theta_l = K_l + sigma0^2 Kdot_l Theta_{l-1},

which is the NTK recursion for weights of variance sigma0^2 without per-layer multipliers.
Both start from Theta_0 = K_0, so by induction K^d(0,0) = NTK at every depth (``ntk.*``).
In the gradient-driven phase (gamma t << 1) K^d stays close to this NTK.
Run: ``python derivations/ndk_ntk.py``.
"""
from symndk.spec.activations import list_activations

CITES = ["prior.C00"] + [f"ntk.{a}" for a in ("relu", "erf", "linear")]


def main():
    print(__doc__.split("Run:")[0])
    print("ntk.<act> identities exist for:", ", ".join(list_activations()))
    print("cites:", ", ".join(CITES))


if __name__ == "__main__":
    main()
