"""Derivation 2 -- dual kernels by the generalised Price theorem (docs/theory.md §3, §9).

For a centred Gaussian pair (u, v) with Var u = q1, Var v = q2, Cov = c, write
F_phi(q1, q2, c) = E[phi(u) phi(v)].  Differentiating the Gaussian density in c equals
differentiating it twice, once in u and once in v (heat equation for the covariance), so after
integrating by parts

    d^k F_phi / dc^k = E[phi^(k)(u) phi^(k)(v)]          (Price's theorem; k = 1: dF/dc = F_phi').

Choose the smallest k for which phi^(k) is a sum of poly(x) exp(quadratic) {1, delta(x)} terms.
Then the expectation is exact: a delta pins its variable to 0 (density 1/sqrt(2 pi q) times the
conditional Gaussian), everything else is a Gaussian moment from the generating function
det(I - 2 S diag(alpha))^(-1/2) exp(J^T (...)^(-1) S J / 2).  For ReLU (k = 2),
E[delta(u) delta(v)] = 1 / (2 pi sqrt(q1 q2 - c^2)).  Integrating k times in c from c = 0,
with boundary values d^jF/dc^j (c = 0) = E[phi^(j)(u)] E[phi^(j)(v)] (u, v independent there),
gives the closed form; the antiderivatives of c^m (a - b c^2)^(r/2) are found by an exact
polynomial ansatz, so atan2(sqrt(b) c, sqrt(a - b c^2)) appears with q1 q2 - c^2 as a primary
quantity (finite and real at rho = +-1).

F_phi' is derived the same way *from phi'*, not by differentiating F, so Price's theorem
(``price.*``) is a genuine check; both are compared with an independent polar 2-D quadrature at
30 digits (``quad.*``), and the means with 1-D quadrature (``mean.*``).
Run: ``python derivations/dual_kernels.py``.
"""
import sympy as sp

from symndk.identities.engine import symbolic_zero
from symndk.spec.activations import X, get_activation
from symndk.spec.dual import C, Q1, Q2, dual_kernels, gaussian_mean
from symndk.spec.gaussian import expect_2d

CITES = ["price.relu", "price.erf", "price.linear", "quad.relu.F", "quad.relu.Fdot",
         "quad.linear.F", "quad.linear.Fdot", "mean.relu", "mean.linear"]


def main():
    relu = get_activation("relu")
    print("ReLU: phi =", relu.expr, "; phi' =", relu.dphi, "; phi'' =", sp.diff(relu.expr, X, 2))
    pieces = expect_2d(sp.diff(relu.expr, X, 2), Q1, Q2, C)
    print("1. E[phi''(u) phi''(v)] =", sum(p.value(C) for p in pieces))
    print("2. boundary values: E[relu] =", gaussian_mean(relu.expr), "; E[H] =", gaussian_mean(relu.dphi))
    d = dual_kernels(relu)
    print("3. integrate twice in c:  F =", d.F)
    print("   F' (from phi' = H, k = 1):", d.Fdot)
    print("   dF/dc - F' reduces to 0 by targeted rewrites:", symbolic_zero(sp.diff(d.F, C) - d.Fdot))
    erf = dual_kernels(get_activation("erf"))
    print("erf: E[phi'(u) phi'(v)] =", erf.Fdot, " -> F =", erf.F)
    print("cites:", ", ".join(CITES))


if __name__ == "__main__":
    main()
