"""Scalar kernels of the synthetic task (THEORY.md section 10) in high precision, for the reference solver.

With P orthonormal unit-norm inputs the NDK blocks reduce to three scalar functions Theta_L at
input overlaps 1 (same input, ``d``), 0 (``o``) and r (test point, ``r``). The mean predictor obeys

    g(t)  = int_0^t ds e^{-gamma (t-s)} [Theta_d - Theta_o](t, s) (1 - g(s))
    f*(t) = int_0^t ds e^{-gamma (t-s)} [Theta_r - Theta_o](t, s) (1 - g(s)).

:class:`SyntheticKernel` evaluates ``e^{-gamma (t-s)} [Theta_a - Theta_b](t, s)`` with the recursion
of THEORY.md section 3 (the same as :func:`symndk.numerics.recursion.layer_kernels`, which a test
compares it with) through the generated fused layer map ``duals.layer(q1, q2, c, D)`` of the ``mpfr`` backend
(gmpy2 numbers at the working precision of :func:`symndk.numerics.ref_numbers.working_digits`). The Gram
determinant D = q1 q2 - c^2 is carried from layer to layer without cancellation, starting from the
exact first-layer form of NUMERICS.md, and the lag ``d = t - s`` is passed separately: the ReLU cusp
on the diagonal keeps full relative precision.

Example (linear activation, L = 1: Theta = 2 C(t,s) K_0, so the g-kernel at t = s = 0 is 2 sigma0^2):
    >>> import gmpy2
    >>> from symndk.numerics.ref_numbers import working_digits
    >>> class Linear:  # stand-in with the generated module's names: layer -> (F, Fdot, V V - F^2)
    ...     V = staticmethod(lambda q: q)
    ...     layer = staticmethod(lambda q1, q2, c, D: (c, gmpy2.mpfr(1), D))
    >>> with working_digits(30):
    ...     k = SyntheticKernel(Linear, 1, 0.5, 1.0, 0.1)
    ...     print(float(k(1, 0)(0, 0, 0)))
    1.0
"""
from __future__ import annotations

import math

import gmpy2

from symndk.numerics.ref_numbers import mpfr


class SyntheticKernel:
    """Difference kernels e^{-gamma(t-s)} [Theta_L(a) - Theta_L(b)] at unit-norm input overlaps a, b.

    Args:
        duals: mpfr dual-kernel module (``symndk.numerics.duals.load(name, "mpfr")``).
        depth: number of hidden layers L.
        sigma0_sq, sigma_sq, gamma: prior parameters (THEORY.md section 2): int, float, decimal
            string or mpmath/gmpy2 number.
    """

    def __init__(self, duals, depth, sigma0_sq, sigma_sq, gamma):
        self.duals, self.depth = duals, int(depth)
        self.s2 = mpfr(sigma_sq)
        self.delta = mpfr(sigma0_sq) - self.s2
        self.gamma = mpfr(gamma)
        self.evaluations = 0
        self._cache = {}

    def _single(self, t):
        """(e^{-gamma t}, C(t, t), same-input variances q_l(t)), cached per time."""
        hit = self._cache.get(t)
        if hit is None:
            x = gmpy2.exp(-self.gamma * t)
            ctt = self.s2 + self.delta * x * x
            chain = [ctt]
            for _ in range(self.depth - 1):
                chain.append(ctt * self.duals.V(chain[-1]))
            hit = self._cache[t] = (x, ctt, chain)
        return hit

    def thetas(self, t, s, d, overlaps):
        """e^{-gamma d} Theta_L(t, s) at each input overlap (unit-norm inputs), d = t - s."""
        self.evaluations += 1
        x, ctt, chain_t = self._single(t)
        z = gmpy2.exp(-self.gamma * d)
        y = x / z
        css = self.s2 + self.delta * y * y
        cts = self.s2 * z + self.delta * x * y
        # C_tt C_ss - C_ts^2 without cancellation at s -> t (NUMERICS.md, property 5):
        # sigma^4 (1 - z^2) + sigma^2 Delta [(x - y)^2 + 2 x y (1 - z)]
        gd = self.gamma * d
        one_z = -gmpy2.expm1(-gd) if gd < 0.25 else 1 - z
        dC = self.s2 * (self.s2 * one_z * (1 + z) + self.delta * ((x - y) ** 2 + 2 * x * y * one_z))
        chain_s = [css]
        for _ in range(self.depth - 1):
            chain_s.append(css * self.duals.V(chain_s[-1]))
        out = []
        for a in overlaps:
            q1, q2, c = ctt, css, cts * a
            D = dC + (1 - a * a) * cts * cts
            theta = a
            for layer in range(self.depth):
                F, Fdot, gram = self.duals.layer(q1, q2, c, D)
                theta = F + cts * Fdot * theta
                if layer + 1 < self.depth:
                    q1, q2, c = chain_t[layer + 1], chain_s[layer + 1], cts * F
                    D = ctt * css * gram + dC * F * F
            out.append(z * theta)
        return out

    def __call__(self, a, b):
        """The kernel function ``k(t, s, d)`` (d = t - s >= 0) for overlaps a (minus) b."""
        pair = (mpfr(a), mpfr(b))

        def kernel(t, s, d):
            ta, tb = self.thetas(t, s, d, pair)
            return ta - tb

        return kernel

    def origin_singularity(self):
        """Nearest complex zero of C(s, s) = sigma^2 + (sigma0^2 - sigma^2) e^{-2 gamma s}, or None.

        The kernels are analytic in s away from s = t and from these points; the solver keeps its
        far-field interpolation blocks clear of them. Returned as a Python complex (it only sizes
        the interpolation blocks).
        """
        if self.delta == 0:
            return None
        ratio = float(self.s2 / abs(self.delta))
        return complex(-math.log(ratio), 0 if self.delta < 0 else math.pi) / (2 * float(self.gamma))
