"""Two-time NDK entries e^{-gamma (t-s)} Theta_L(t, s; x, x') in high precision, for the reference solver.

:class:`NDKernel` evaluates the recursion of docs/theory.md §3 (it calls
:func:`symndk.runtime.recursion.layer_kernels`, the code every backend runs) for inputs given by
their squared norms ``|x|^2 / N0`` and overlaps ``K_0 = x.x'/N0``, through the generated fused layer
map ``duals.layer(q1, q2, c, D)`` of the ``mpfr`` backend (gmpy2 numbers at the working precision of
:func:`symndk.certified.numbers.working_digits`). The Gram determinant D = q1 q2 - c^2 is carried
from layer to layer without cancellation, starting from the exact first-layer form

    D_1 = n n' (C_tt C_ss - C_ts^2) + C_ts^2 (n n' - K_0^2)      (n = |x|^2/N0, n' = |x'|^2/N0),

whose first term is computed without cancellation at s -> t (docs/numerics.md §5) and whose second vanishes
exactly for x = x'; the lag ``d = t - s`` is passed separately: the ReLU cusp on the same-input
diagonal keeps full relative precision.

Two uses: the synthetic task of docs/theory.md §10 (unit-norm inputs at overlaps 1, 0, r; the scalar
difference kernels ``kernel(1, 0)``, ``kernel(r, 0)``) and general small data sets (:meth:`NDKernel.matrix`:
all entries of K^d(t, s; X_rows, X_cols) at once).

Example (linear activation, L = 1: Theta = 2 C(t,s) K_0, so the g-kernel at t = s = 0 is 2 sigma0^2):
    >>> import gmpy2
    >>> from symndk.certified.numbers import working_digits
    >>> class Linear:  # stand-in with the generated module's names: layer -> (F, Fdot, V V - F^2)
    ...     V = staticmethod(lambda q: q)
    ...     layer = staticmethod(lambda q1, q2, c, D: (c, gmpy2.mpfr(1), D))
    >>> with working_digits(30):
    ...     k = NDKernel(Linear, 1, 0.5, 1.0, 0.1)
    ...     print(float(k(1, 0)(0, 0, 0)[0][0]))
    ...     k2 = NDKernel(Linear, 1, 0.5, 1.0, 0.1, norms=[1, 2])
    ...     print([[float(v) for v in row] for row in k2.matrix([[(0, 0, 1), (0, 1, 1)]])(0, 0, 0)])
    1.0
    [[1.0, 1.0]]
"""
from __future__ import annotations

import math

import gmpy2

from symndk.certified.numbers import mpfr
from symndk.runtime.recursion import layer_kernels, layer_priors, prior_C, prior_gram


class NDKernel:
    """Entries e^{-gamma(t-s)} Theta_L(t, s; x, x') for inputs with given squared norms.

    Args:
        duals: mpfr dual-kernel module (``symndk.kernels.loader.load(name, "mpfr")``).
        depth: number of hidden layers L.
        sigma0_sq, sigma_sq, gamma: prior parameters (docs/theory.md §2): int, float, decimal
            string or mpmath/gmpy2 number.
        norms: the distinct squared input norms |x|^2/N0 (one same-input variance chain each);
            the default (1,) is the unit-norm synthetic task.
        groups: None, or per-group variances (docs/theory.md §B) ``(sigma0_sq, sigma_sq, T, bias)``:
            lists of depth + 1 (W_1..W_L, readout), the temperature, and None or the bias lists
            (sigma_b0_sq, sigma_b_sq) (0: no bias in that group). The entries are then the runtime
            recursion on :func:`symndk.runtime.recursion.layer_priors` (one prior and one propagator
            per group, biases included; K^d = Theta_L, the propagators inside), as the float64 solvers
            run it; ``sigma0_sq``, ``sigma_sq``, ``gamma`` only size the mesh.
    """

    def __init__(self, duals, depth, sigma0_sq, sigma_sq, gamma, norms=(1,), groups=None):
        self.duals, self.depth = duals, int(depth)
        self.s0, self.s2 = mpfr(sigma0_sq), mpfr(sigma_sq)
        self.gamma = mpfr(gamma)
        self.norms = [mpfr(n) for n in norms]
        self.groups = None if groups is None else (
            [mpfr(v) for v in groups[0]], [mpfr(v) for v in groups[1]], mpfr(groups[2]),
            None if groups[3] is None else tuple([mpfr(v) for v in b] for b in groups[3]))
        self.evaluations = 0
        self._cache = {}

    def entry(self, i, j, overlap):
        """(i, j, K_0, n_i n_j, n_i n_j - K_0^2): the pair of inputs with norm indices i (at time t),
        j (at time s) and overlap K_0 = x.x'/N0 (exactly zero determinant when x = x')."""
        c0 = mpfr(overlap)
        nn = self.norms[i] * self.norms[j]
        return i, j, c0, nn, nn - c0 * c0

    def _chains(self, c):
        """Same-input kernels K_l(x, x), l = 1..L, per norm, at C = C(t, t) (cached per time)."""
        out = []
        for k in self.norms:
            chain = []
            for _ in range(self.depth):
                k = self.duals.V(c * k)
                chain.append(k)
            out.append(chain)
        return out

    def _prior(self, t, s, lag=None):
        return prior_C(t, s, self.s0, self.s2, self.gamma, gmpy2.exp, lag, gmpy2.expm1)

    def _single(self, t):
        """(C(t, t), variance chains at t), cached per time."""
        hit = self._cache.get(t)
        if hit is None:
            ctt = self._prior(t, t)
            hit = self._cache[t] = (ctt, self._chains(ctt))
        return hit

    def thetas(self, t, s, d, entries):
        """e^{-gamma d} Theta_L(t, s) at each :meth:`entry`, d = t - s: the runtime recursion
        (:func:`symndk.runtime.recursion.layer_kernels`) on MPFR numbers, Gram determinant carried."""
        self.evaluations += 1
        if self.groups is not None:
            s0, s2, T, bias = self.groups
            C_tt, C_ss, C_ts, D_C, groups = layer_priors(t, s, s0, s2, T, gmpy2.exp, gmpy2.expm1, d, bias)
            return [layer_kernels(self.norms[i], self.norms[j], c0, C_tt, C_ss, C_ts, self.depth, self.duals,
                                  D_C=D_C, D_0=det0, bias=groups)[3] for i, j, c0, nn, det0 in entries]
        ctt, chains_t = self._single(t)
        css, chains_s = self._single(s)
        cts = self._prior(t, s, d)
        dC = prior_gram(t, s, self.s0, self.s2, self.gamma, gmpy2.exp, gmpy2.expm1, d)  # no cancellation at s -> t
        z = gmpy2.exp(-self.gamma * d)
        out = []
        for i, j, c0, nn, det0 in entries:
            theta = layer_kernels(self.norms[i], self.norms[j], c0, ctt, css, cts, self.depth, self.duals,
                                  D_C=dC, D_0=det0, chains=(chains_t[i], chains_s[j]))[3]
            out.append(z * theta)
        return out

    def __call__(self, a, b):
        """Synthetic task: the 1 x 1 kernel ``k(t, s, d)`` (d = t - s >= 0) of unit-norm overlaps a minus b."""
        pair = (self.entry(0, 0, a), self.entry(0, 0, b))

        def kernel(t, s, d):
            ta, tb = self.thetas(t, s, d, pair)
            return [[ta - tb]]

        return kernel

    def matrix(self, rows):
        """The matrix kernel ``k(t, s, d)``: rows of (i, j, overlap) triples -> rows of entries."""
        entries = [self.entry(*e) for row in rows for e in row]
        width = len(rows[0])

        def kernel(t, s, d):
            flat = self.thetas(t, s, d, entries)
            return [flat[k:k + width] for k in range(0, len(flat), width)]

        return kernel

    def kernel_error(self) -> float:
        """Largest relative error bound of the dual-kernel evaluations so far: 0.0 for closed forms
        (exact to the working precision), the Mehler bound for numeric kernels
        (:mod:`symndk.kernels.hermite_mpfr`)."""
        bound = getattr(self.duals, "error_bound", None)
        return float(bound()) if bound is not None else 0.0

    def origin_singularity(self):
        """Nearest complex zero of C(s, s) = sigma^2 + (sigma0^2 - sigma^2) e^{-2 gamma s}, or None.

        The kernels are analytic in s away from s = t and from these points; the solver keeps its
        far-field interpolation blocks clear of them. Returned as a Python complex (it only sizes
        the interpolation blocks).

        With ``groups``: the nearest over the groups' C_l(s, s) and over the biases' C_bl(s, s) with
        sigma_b0^2 > 0 (a bias starting at 0 adds b^2 (1 - e^{-2 gamma_b s}) >= 0 to a positive
        pre-activation variance, which stays away from 0 near the real axis).
        """
        if self.groups is None:
            return _nearest_zero(self.s0, self.s2, self.gamma)
        s0, s2, T, bias = self.groups
        pairs = list(zip(s0, s2)) + ([] if bias is None else [(a, b) for a, b in zip(*bias) if a > 0])
        zeros = [z for z in (_nearest_zero(a, b, T / b) for a, b in pairs) if z is not None]
        return min(zeros, key=abs, default=None)


def _nearest_zero(s0, s2, gamma):
    """Nearest complex zero of sigma^2 + (sigma0^2 - sigma^2) e^{-2 gamma s} (None if sigma0^2 = sigma^2)."""
    if s0 == s2:
        return None
    ratio = float(s2 / abs(s0 - s2))
    return complex(-math.log(ratio), 0 if s0 < s2 else math.pi) / (2 * float(gamma))
