"""Derivation 6 -- the long-lag limit of representational drift (docs/theory.md §7).

With the readout frozen and hidden weights drifting under the prior, the predictor at lag
tau = t - t0 is k_L(tau; x, X)^T (K_GP + gamma I)^(-1) Y, with k_L the stationary two-time NNGP
kernel.  As tau -> infinity, C(t,s) = sigma^2 e^{-gamma tau} -> 0, so the first-layer covariance
argument c_1 = C(t,s) x.x'/N0 -> 0 while the variances stay sigma^2 K_0(x,x) and sigma^2 K_0(x',x').
At c = 0 a Gaussian pair is independent, so K_1 -> E[phi(u)] E[phi(v)]; at the next layer
c_2 = C(t,s) K_1 -> 0 again, hence for every L

    K_L(tau; x, x') -> Kbar(x, x') = E[phi(u)] E[phi(v)],  u ~ N(0, sigma^2 K_{L-1}(x,x)),
                                                          v ~ N(0, sigma^2 K_{L-1}(x',x'))

(``drift.<act>.limit``).  For odd phi E[phi(u)] = 0, so the decorrelated predictor is zero:
chance level (``drift.odd_zero.*``).  For ReLU E[phi(u)] = sqrt(q/(2 pi)), so
Kbar = sqrt(q1 q2)/(2 pi) depends on the input norms only (``drift.relu.closed_form``).
Run: ``python derivations/drift.py``.
"""
from symndk.spec.activations import get_activation
from symndk.spec.dual import dual_kernels

CITES = ["drift.odd_zero.erf", "drift.odd_zero.linear", "drift.relu.closed_form", "drift.relu.limit",
         "drift.erf.limit", "mean.relu"]


def main():
    for name in ("linear", "erf", "relu"):
        d = dual_kernels(get_activation(name))
        print(f"{name}: E[phi(u)] = {d.mean};  Kbar = {d.Fbar}")
    print("cites:", ", ".join(CITES))


if __name__ == "__main__":
    main()
