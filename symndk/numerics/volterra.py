"""Radau IIA panel collocation for the mean-predictor Volterra equations (THEORY.md section 5).

With r(t) = Y - fbar_train(t) the training equation is the second-kind Volterra equation

    r(t) + int_0^t K^d(t, s; X, X) r(s) ds = Y,

and the test predictor is the functional fbar(x, t) = int_0^t K^d(t, s; x, X) r(s) ds.

Discretisation (Brunner 2004): r is a discontinuous piecewise polynomial of degree m - 1,
collocated at the m Radau IIA points of each panel (c_m = 1), solved panel by panel. For
y' = -lambda y this is exactly the Radau IIA Runge-Kutta method, so stiff NTK modes are
damped (L-stable); nodal order 2m - 1. The history integral is split into

* a near part [e_{n-1}, t] (current and previous panel) integrated with :func:`lag_rule`
  (graded in the lag, variable v = sqrt(t - s)), which integrates the same-input
  sqrt(t - s) cusp of kinked activations without order loss;
* a far part (panels <= n - 2) with Gauss-Legendre points per panel, shared by all targets.

The kernel enters only through its compression K(t, s) = sum_k beta_k(t, s) B_k
(:mod:`symndk.numerics.compress`): every history sum is sum_k B_k (sum_q w_q beta_k u_q).

Example (scalar kernel K = lam: r = exp(-lam t) Y):
    >>> import numpy as np
    >>> class Const:             # a compressed-kernel stand-in: beta = lam, B = [[1]]
    ...     basis = np.ones((1, 1, 1, 1))
    ...     def weights(self, t, s):
    ...         return np.full((np.size(t), 1), 2.0)
    >>> sol = solve(Const(), np.array([1.0]), np.array([0.0, 0.5, 1.0, 2.0]), m=8)
    >>> f = sol.predict(np.array([2.0]))
    >>> bool(abs(f[0, 0] - (1 - np.exp(-4.0))) < 1e-12)
    True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from symndk.numerics.mesh import gauss, lag_rule, lagrange, radau_nodes


@dataclass
class LagOptions:
    """Near-field quadrature: ``n`` Gauss points per lag sub-interval, grading ``ratio``,
    ``levels`` geometric levels towards the diagonal."""

    n: int = 12
    ratio: float = 4.0
    levels: int = 3


@dataclass
class Solution:
    """Collocation solution r_h of one solve; :meth:`predict` evaluates the predictors."""

    ck: object
    Y: np.ndarray
    edges: np.ndarray
    m: int
    U: np.ndarray                     # (N, m, P) values of r at the collocation points
    far_s: np.ndarray                 # far-field Gauss points of all panels, their weights,
    far_w: np.ndarray                 # the panel they belong to, and r there
    far_panel: np.ndarray
    far_u: np.ndarray
    lag: LagOptions = field(default_factory=LagOptions)

    @property
    def nodes(self) -> np.ndarray:
        """All collocation times (N * m,)."""
        h = np.diff(self.edges)
        return (self.edges[:-1, None] + radau_nodes(self.m)[None, :] * h[:, None]).ravel()

    def r_at(self, s, panel) -> np.ndarray:
        """r_h(s) for points s in panels ``panel`` (arrays of the same length)."""
        a, h = self.edges[panel], np.diff(self.edges)[panel]
        L = lagrange(radau_nodes(self.m), (np.asarray(s) - a) / h)
        return np.einsum("qj,qjp->qp", L, self.U[panel])

    def predict(self, times) -> np.ndarray:
        """Iterated predictor int_0^t K^d(t, s) r_h(s) ds for every kernel row, (n, R)."""
        times = np.asarray(times, float)
        out = np.zeros((times.size, self.ck.basis.shape[2]))
        panel_of = np.searchsorted(self.edges, times, side="left") - 1
        for p in np.unique(panel_of[panel_of >= 0]):
            idx = np.nonzero(panel_of == p)[0]
            Z = _history(self, times[idx], p, with_current=True)
            out[idx] = np.einsum("kab,ikb->ia", self.ck.basis[:, 0], Z)
        return out


def _near(sol, targets, p):
    """Near-field nodes on [e_{p-1}, t] for each target t of panel p.

    Returns (target index, s, weight, panel of s) arrays.
    """
    start, lag = sol.edges[max(p - 1, 0)], sol.lag
    I, S, W = [], [], []
    for i, t in enumerate(targets):
        s, w = lag_rule(t, start, [sol.edges[p]], n=lag.n, ratio=lag.ratio, levels=lag.levels)
        I.append(np.full(s.size, i))
        S.append(s)
        W.append(w)
    I, S, W = map(np.concatenate, (I, S, W))
    return I, S, W, np.where(S >= sol.edges[p], p, p - 1)


def _history(sol, targets, p, with_current):
    """Z[i, k] = sum_q w_q beta_k(t_i, s_q) r_h(s_q) over [0, t_i] for targets t_i in panel p.

    The part in panel p itself is included only ``with_current`` (i.e. once it is solved).
    """
    ck, n_t = sol.ck, len(targets)
    r = ck.basis.shape[0]
    Z = np.zeros((n_t, r, sol.Y.size))
    far = sol.far_panel <= p - 2
    if np.any(far):
        s, w, u = sol.far_s[far], sol.far_w[far], sol.far_u[far]
        beta = ck.weights(np.repeat(targets, s.size), np.tile(s, n_t)).reshape(n_t, s.size, r)
        Z += np.einsum("iqk,qp->ikp", beta * w[None, :, None], u)
    I, S, W, panel = _near(sol, targets, p)
    use = (panel >= 0) & ((panel < p) | with_current)
    if np.any(use):
        beta = ck.weights(targets[I[use]], S[use]) * W[use, None]
        u = sol.r_at(S[use], panel[use])
        np.add.at(Z, I[use], beta[:, :, None] * u[:, None, :])
    return Z


def solve(ck, Y, edges, m: int = 12, n_far: int | None = None, lag: LagOptions | None = None) -> Solution:
    """Solve r + int K r = Y panel by panel on ``edges`` with m Radau IIA points per panel.

    Args:
        ck: compressed kernel (``basis`` (r, 1, R, P) with the training rows first,
            ``weights(t, s) -> (n, r)``).
        Y: (P,) training labels.
        edges: panel edges starting at 0.
        m: collocation points per panel.
        n_far: Gauss points per panel for far-field history sums (default m).
        lag: near-field quadrature options.
    """
    Y = np.asarray(Y, float)
    P, c = Y.size, radau_nodes(m)
    edges = np.asarray(edges, float)
    N = edges.size - 1
    xg, wg = gauss(n_far or m)
    Lg = lagrange(c, xg)
    Btr = ck.basis[:, 0, :P, :]
    sol = Solution(ck, Y, edges, m, np.zeros((N, m, P)), np.zeros(0), np.zeros(0),
                   np.zeros(0, int), np.zeros((0, P)), lag or LagOptions())
    eye = np.eye(m * P)
    for p in range(N):
        a, h = edges[p], edges[p + 1] - edges[p]
        targets = a + c * h
        H = np.einsum("kab,ikb->ia", Btr, _history(sol, targets, p, with_current=False))
        I, S, W, panel = _near(sol, targets, p)
        cur = panel == p
        beta = ck.weights(targets[I[cur]], S[cur]) * W[cur, None]           # (nq, r)
        L = lagrange(c, (S[cur] - a) / h)                                   # (nq, m)
        i_of = I[cur]
        G = np.zeros((Btr.shape[0], m, m))
        for i in range(m):
            sel = i_of == i
            G[:, i, :] = beta[sel].T @ L[sel]
        M = eye + np.einsum("kij,kab->iajb", G, Btr).reshape(m * P, m * P)
        rhs = (Y[None, :] - H).ravel()
        sol.U[p] = scipy.linalg.solve(M, rhs, check_finite=False).reshape(m, P)
        sol.far_s = np.concatenate([sol.far_s, a + xg * h])
        sol.far_w = np.concatenate([sol.far_w, wg * h])
        sol.far_panel = np.concatenate([sol.far_panel, np.full(xg.size, p)])
        sol.far_u = np.concatenate([sol.far_u, Lg @ sol.U[p]])
    return sol
