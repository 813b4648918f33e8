"""Radau IIA panel collocation for Volterra systems in high precision (the reference solver's core).

Solves ``u(t) = y - int_0^t k(t, s) u(s) ds`` for a vector u(t) in R^P (constant y, P x P matrix
kernel, given as a function returning a list of rows; P = 1 for the scalar synthetic task) with
entries analytic in (t, s) except for a square-root cusp k = A + B sqrt(t - s) on the diagonal, and
applies a second (Q x P) kernel to the solution, ``int_0^t k2(t, s) u(s) ds``.

Discretisation (docs/numerics.md §6.1):

* Each component of ``u`` is a polynomial of degree m - 1 on each panel, collocated at the m
  Radau IIA points (an mP x mP linear system per panel).
  The first panel [0, h0] uses the variable xi = sqrt(s): a sqrt cusp in the kernel gives the
  solution an expansion in powers of t^(1/2) (the t^(3/2) start-up term), which is a polynomial
  in xi. Later panels use xi = s.
* Near-field integrals (the current panel, and any earlier panel too close to the target) use
  Gauss-Legendre in v with s = t - v^2, which makes the cusp analytic (cut into pieces graded
  towards v = 0 when off-diagonal entries have branch points at small negative lag); on the first panel
  s = t cos^2(theta) removes both the cusp and the sqrt(s) of the solution.
* Far field: a binary tree of panel ranges. A range [a, b] whose length is at most ``eta`` times
  its distance to the target (and to the kernel's singularities near s <= 0) is integrated as
  ``sum_j k(t, sigma_j) W_j`` with Gauss-Legendre nodes sigma_j on [a, b] and (vector) moments
  ``W_j = int_a^b l_j(s) u(s) ds`` of the Lagrange basis l_j, computed once per range.

Arithmetic is on gmpy2 mpfr numbers at the precision set by
:func:`symndk.certified.numbers.working_digits`; kernels take and return mpfr.

Example (k = 1: u = e^{-t}):
    >>> import gmpy2
    >>> from symndk.certified.numbers import working_digits
    >>> with working_digits(30):
    ...     mesh = [(0, 0.1, True), (0.1, 1, False), (1, 2, False)]
    ...     sol = PanelSolver(mesh, order=12, near=16, digits=30).solve(lambda t, s, d: [[gmpy2.mpfr(1)]], [1])
    ...     err = abs(sol.value_at_end(2)[0] - gmpy2.exp(-2))
    >>> err < 1e-25
    True
"""
from __future__ import annotations

import math
from itertools import product
from operator import mul

import gmpy2

from symndk.certified.numbers import lu_solve, mpfr
from symndk.certified.quadrature import bary_weights, gauss_legendre, lagrange_row, radau_iia


def _matvec(K, v):
    """K v for a matrix given as a list of rows."""
    return [gmpy2.fsum(map(mul, row, v)) for row in K]


def _total(terms, size):
    """Componentwise sum of a list of vectors of length ``size``."""
    return [gmpy2.fsum(comp) for comp in zip(*terms)] if terms else [mpfr(0)] * size


class Panel:
    """One mesh panel [a, b] with its collocation points and (after solving) values (m vectors)."""

    def __init__(self, a, b, order, sqrt_var, branch=None):
        self.a, self.b, self.m, self.sqrt_var, self.branch = mpfr(a), mpfr(b), order, sqrt_var, branch
        lo, hi = (mpfr(0), gmpy2.sqrt(self.b)) if sqrt_var else (self.a, self.b)
        self.xi = [lo + (hi - lo) * c for c in radau_iia(order)]
        self.bw = bary_weights(self.xi)
        self.times = [x * x for x in self.xi] if sqrt_var else list(self.xi)
        self.values = None

    def basis(self, xi):
        return lagrange_row(self.xi, self.bw, xi)

    def value(self, xi):
        row = self.basis(xi)
        return [gmpy2.fsum(map(mul, row, comp)) for comp in zip(*self.values)]

    def quad(self, t, n):
        """Nodes (s, d = t - s, weight, xi) integrating over [a, min(b, t)] for target t >= a."""
        x, w = gauss_legendre(n)
        if not self.sqrt_var:
            return [(s, d, wk, s) for s, d, wk in self._lag_nodes(t, t - min(self.b, t), t - self.a, x, w)]
        out = []
        if t <= self.b:  # s = t cos^2(theta): both the cusp and sqrt(s) become analytic
            rt, half_pi = gmpy2.sqrt(t), gmpy2.const_pi() / 2
            for xk, wk in zip(x, w):
                s_, c = gmpy2.sin_cos(half_pi * xk)
                out.append((t * c * c, t * s_ * s_, 2 * t * s_ * c * half_pi * wk, rt * c))
            return out
        mid = self.b / 2  # [0, b/2] in xi = sqrt(s); [b/2, b] in v = sqrt(t - s)
        r = gmpy2.sqrt(mid)
        for xk, wk in zip(x, w):
            xi = r * xk
            out.append((xi * xi, t - xi * xi, 2 * xi * r * wk, xi))
        return out + [(s, d, wk, gmpy2.sqrt(s)) for s, d, wk in self._lag_nodes(t, t - self.b, t - mid, x, w)]

    def _lag_nodes(self, t, d0, d1, x, w):
        """(s, d, weight) over lags d0 <= d <= d1 in v = sqrt(d) (analytic across the diagonal cusp).

        With a branch point at v = +-i w_c (``self.branch``), the v-range is cut into pieces
        [lo, lo + 2 max(lo, w_c)], each at least half its length away from it in the complex plane.
        """
        v0, v1 = gmpy2.sqrt(d0), gmpy2.sqrt(d1)
        edges = [v0]
        while self.branch is not None and edges[-1] + 2 * max(edges[-1], self.branch) < v1:
            edges.append(edges[-1] + 2 * max(edges[-1], self.branch))
        edges.append(v1)
        out = []
        for lo, hi in zip(edges, edges[1:]):
            for xk, wk in zip(x, w):
                v = lo + (hi - lo) * xk
                out.append((t - v * v, v * v, 2 * v * (hi - lo) * wk))
        return out


class _Node:
    """A contiguous range of panels; far-field interpolation nodes and moments per node count."""

    def __init__(self, panels, i0, i1):
        self.i0, self.i1 = i0, i1
        self.a, self.b = panels[i0].a, panels[i1 - 1].b
        self.children = []
        if i1 - i0 > 1:
            mid = (i0 + i1) // 2
            self.children = [_Node(panels, i0, mid), _Node(panels, mid, i1)]
        self.rules = {}

    def rule(self, n, panels):
        """(sigma_j, W_j): n Gauss-Legendre nodes on [a, b] and the vectors W_j = int l_j(s) u(s) ds."""
        hit = self.rules.get(n)
        if hit is not None:
            return hit
        x, _ = gauss_legendre(n)
        sigma = [self.a + (self.b - self.a) * xk for xk in x]
        bw = bary_weights(sigma)
        total = [[mpfr(0)] * len(panels[self.i0].values[0]) for _ in range(n)]
        for p in panels[self.i0:self.i1]:
            xq, wq = gauss_legendre(n + p.m // 2 + 1)
            lo, hi = (mpfr(0), gmpy2.sqrt(p.b)) if p.sqrt_var else (p.a, p.b)
            for xk, wk in zip(xq, wq):
                xi = lo + (hi - lo) * xk
                s, jac = (xi * xi, 2 * xi * (hi - lo)) if p.sqrt_var else (xi, hi - lo)
                f = [jac * wk * v for v in p.value(xi)]
                total = [[a + fb * l for a, fb in zip(acc, f)] for acc, l in zip(total, lagrange_row(sigma, bw, s))]
        self.rules[n] = (sigma, total)
        return self.rules[n]


class PanelSolver:
    """Collocation solver on a fixed mesh.

    Args:
        mesh: sequence of (a, b, sqrt_var) panels covering [0, t_end] contiguously.
        order: collocation points per panel (a smaller order is used on panels listed in
            ``orders`` if given, one int per panel).
        near: Gauss-Legendre points of the near-field rules.
        digits: accuracy target of the far-field interpolation (sets its node counts).
        eta: admissibility ratio (range length / distance); a range at relative distance
            z = 1 + 2 dist / length gets ceil(digits ln 10 / ln(z + sqrt(z^2 - 1))) + 2 nodes.
        singularity: a complex point (Python complex) near which the kernel is singular (range
            lengths are also kept below ``eta`` times their distance to it), or None.
        branch: w_c > 0 if the kernel has branch points at lags t - s = -w_c^2 (off-diagonal entries
            of nearly collinear inputs: w_c^2 ~ (1 - rho0) / gamma): the near-field rules are graded
            towards the diagonal in v = sqrt(t - s) at that scale; None: no grading.
    """

    def __init__(self, mesh, order, near, digits, eta=2.0, singularity=None, branch=None):
        self.panels = [Panel(a, b, order, sq, branch) for a, b, sq in mesh]
        self.near, self.eta, self.singularity = near, float(eta), singularity
        self.log_eps = digits * math.log(10)
        self.root = _Node(self.panels, 0, len(self.panels))

    def _far_nodes(self, node, t):
        """Node count for interpolating k(t, .) on the range, or 0 if it is not admissible."""
        a, b = float(node.a), float(node.b)
        length, dist = b - a, float(t) - b
        if self.singularity is not None:
            z = self.singularity
            dist = min(dist, math.hypot(max(a - z.real, 0.0, z.real - b), z.imag))
        if length > self.eta * dist:
            return 0
        z = 1 + 2 * dist / length
        n = math.ceil(self.log_eps / math.log(z + math.sqrt(z * z - 1))) + 2
        return n + (-n) % 8

    def _history(self, kernel, t, n):
        """Terms (vectors) of int over panels 0..n-1 (all solved) of k(t, s) u(s) ds, for t >= panels[n-1].b."""
        terms = []

        def visit(node):
            if node.i0 >= n:
                return
            nodes = self._far_nodes(node, t) if node.i1 <= n else 0
            if nodes:
                sigma, moments = node.rule(nodes, self.panels)
                terms.extend(_matvec(kernel(t, s, t - s), w) for s, w in zip(sigma, moments))
            elif not node.children:
                p = self.panels[node.i0]
                terms.extend(_matvec(kernel(t, s, d), [w * v for v in p.value(xi)])
                             for s, d, w, xi in p.quad(t, self.near))
            else:
                for c in node.children:
                    visit(c)

        visit(self.root)
        return terms

    def solve(self, kernel, y, progress=None):
        """Solve u = y - int k u panel by panel (y: the P-vector); returns self with panel values set.

        Unknown (l, b) (collocation point l, component b) is column l P + b of the panel system.
        """
        y = [mpfr(v) for v in y]
        P = len(y)
        for n, p in enumerate(self.panels):
            rows, rhs = [], []
            for t in p.times:
                block = [[mpfr(0)] * (p.m * P) for _ in range(P)]
                for s, d, w, xi in p.quad(t, self.near):
                    basis = p.basis(xi)
                    for a, krow in enumerate(kernel(t, s, d)):
                        kw = [k * w for k in krow]
                        block[a] = [r + k * l for r, (l, k) in zip(block[a], product(basis, kw))]
                rows.extend(block)
                rhs.extend(ya - h for ya, h in zip(y, _total(self._history(kernel, t, n), P)))
            for i in range(p.m * P):
                rows[i][i] += 1
            flat = lu_solve(rows, rhs)
            p.values = [flat[k:k + P] for k in range(0, len(flat), P)]
            if progress is not None:
                progress(n)
        return self

    def panel_ending_at(self, t):
        for n, p in enumerate(self.panels):
            if p.b == t:
                return n
        raise ValueError(f"no panel ends at t = {t}")

    def value_at_end(self, t):
        """u (a P-vector) at a panel end point (the last Radau node)."""
        return self.panels[self.panel_ending_at(mpfr(t))].values[-1]

    def apply(self, kernel, t):
        """int_0^t k(t, s) u(s) ds (a vector, one entry per kernel row) at a panel end point t."""
        t = mpfr(t)
        n = self.panel_ending_at(t)
        p = self.panels[n]
        terms = [_matvec(kernel(t, s, d), [w * v for v in p.value(xi)]) for s, d, w, xi in p.quad(t, self.near)]
        return _total(terms + self._history(kernel, t, n), len(terms[0]))
