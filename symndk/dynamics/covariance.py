"""Predictor covariance along the Langevin trajectory, T > 0 (THEORY_NEXT §A, docs/theory.md §A).

Per realisation the infinite-width predictor obeys f(t) = f0(t) + int_0^t K^d(t,s; ., X) (Y - f_X(s)) ds,
with f0 the prior output, a centred Gaussian process of covariance G(t,s) = C(t,s) K_L + C_b(t,s).
The fluctuation is linear in f0. Writing it with the *adjoint* kernel A(t, s) (R x P, rows
[X_train; X_test]), for one time t,

    delta f(t) = f0(t) - int_0^t A(t,s) f0_X(s) ds,   A(t,s) + int_s^t A(t,u) K^d(u,s; X,X) du = K^d(t,s; ., X),

(the second equation is A (I + Kop) = K, i.e. A = K (I + Kop)^{-1}, the operator R of THEORY_NEXT), so

    Cov(t) = G(t,t) - C1 - C1^T + E + E^T,     C1 = int_0^t A(t,s) G(s,t; X, .) ds,
    E = int_0^t A(t,s) W(s) ds,                 W(s) = int_0^s G(s,s'; X,X) A(t,s')^T ds'

(E + E^T is the double integral int int A G A^T, split at s' = s so that the kink of G on the
diagonal sits at the end of the inner integral). In the lag variable sigma = t - s the adjoint
equation is a forward second-kind Volterra equation for A^T(t, t - sigma) with the kernel
K^d(t - sigma', t - sigma)^T and the right-hand side K^d(t, t - sigma; ., X)^T (R columns); it is
solved by the Radau IIA panel collocation of :mod:`symndk.dynamics.volterra` on a mesh graded
towards sigma = 0 (the same-input sqrt cusp of K^d). W and C1 are history integrals of the
compressed prior kernel against that collocation solution, computed by the solver's own
near/far-field quadrature (:meth:`~symndk.dynamics.volterra.Solution.predict`); E by Gauss
points on every panel.

The covariance does not depend on the targets Y (it is the same for every output column).

Accuracy contract as for the mean: everything is done with m and m - 2 collocation points on the
same mesh (the embedded pair of :func:`~symndk.dynamics.volterra.solve_pair`: the m - 2 adjoint is a
cheap correction of the interpolated m one), and the error estimate is their largest difference plus
the compression and table errors times the scale of G; panels are bisected while the estimate exceeds
atol + rtol max G.

Cost, per requested time: one adjoint solve with one right-hand side per wanted row (R for all rows,
Q with ``test_only``), and the history sums of W, O(n^2 r P c + n r P^2 c) for c wanted rows, n
quadrature nodes and compression rank r (so all rows cost about R times the mean solve). The rows
are independent and solved in chunks of bounded memory (:data:`CHUNK_BUDGET`).

Example (erf, L = 1: at t = 0 the variance is the prior's; at late times the NNGP posterior's):
    >>> import numpy as np
    >>> from symndk.dynamics.twotime import TwoTimeKernel
    >>> X = np.array([[1.0, 0.5], [-0.3, 1.2], [0.9, -1.0]])
    >>> k = TwoTimeKernel(X[:2], X[2:], "erf", 1, 1.0, 1.0, 0.5)
    >>> out = trajectory_cov(k, X, np.array([0.0, 80.0]), 1e-9, 1e-11)
    >>> G = out["prior"]
    >>> bool(abs(out["test_var"][0, 0] - G[2, 2]) < 1e-14)
    True
    >>> post = G[2, 2] - G[2, :2] @ np.linalg.solve(G[:2, :2] + 0.5 * np.eye(2), G[:2, 2])
    >>> bool(abs(out["test_var"][1, 0] - post) < 1e-8), out["error_estimate"] < 1e-8
    (True, True)
"""
from __future__ import annotations

import numpy as np

from symndk.dynamics.compress import tabulate
from symndk.dynamics.mesh import gauss, panel_mesh, radau_nodes
from symndk.dynamics.solvers import _lag_options, kernel_floor
from symndk.dynamics.volterra import Solution, solve, solve_pair
from symndk.kernels.static import nngp_kernel
from symndk.runtime.recursion import prior_C


class _Adjoint:
    """The kernel of the adjoint equation in the lag sigma = t - s: K^d(t - sigma', t - sigma; X, X)^T."""

    def __init__(self, tk, t, P):
        self.tk, self.t = tk, float(t)
        self.basis = np.ascontiguousarray(tk.basis[:, :, :P, :].transpose(0, 1, 3, 2))

    def weights(self, sig, sig_src):
        return self.tk.weights(self.t - np.asarray(sig_src, float), self.t - np.asarray(sig, float))

    def source_table(self, sig_src):
        """What the far field keeps per source point: only its lag. The table's slow variable
        b = e^{-gamma s} belongs here to the *target* (s = t - sigma), so :meth:`weights_grid`
        contracts it once per target instead of once per pair."""
        return np.asarray(sig_src, float)

    def weights_grid(self, sig, sig_src, src=None):
        """(n_t, n_s, r) weights at all pairs (sigma_i, sigma'_q): the table's own grid evaluation with
        the roles of target and source exchanged (lag sigma_i - sigma'_q, b at the target)."""
        sig, sig_src = np.asarray(sig, float), np.asarray(sig_src, float)
        return self.tk.weights_grid(-sig_src, -sig, self.tk.source_table(self.t - sig)).transpose(1, 0, 2)


class _Rows:
    """A view of a tabulated kernel restricted to some rows (same weights)."""

    def __init__(self, tk, rows):
        self.tk, self.basis = tk, tk.basis[:, :, rows, :]

    def weights(self, t, s):
        return self.tk.weights(t, s)

    def weights_grid(self, t, s, src):
        return self.tk.weights_grid(t, s, src)


def sigma_mesh(t, lam_max, gamma, depth=1e-9):
    """Panel edges on [0, t] in sigma = t - s: the solver's mesh plus geometric panels (ratio 4) down to
    ``depth`` times its first panel (the sqrt(sigma) cusp of the right-hand side at sigma = 0)."""
    edges = panel_mesh(t, max(lam_max, 1e-300), gamma)
    h0 = edges[1]
    fine = h0 * 4.0 ** -np.arange(1, int(np.ceil(np.log(1 / depth) / np.log(4))) + 1)
    return np.unique(np.concatenate([edges, fine[fine > 0]]))


def _equal_time_prior(kernel, X_all, t):
    """G(t, t) on all rows (R, R) from the static NNGP at the variances C(t, t), C_b(t, t)."""
    if kernel.layered:                                     # per-layer variances: lists, normalised by the readout's
        c, cb = kernel.equal_time_variances(t)
        return c[-1] * nngp_kernel(X_all, None, kernel.activation, kernel.depth, c, cb).train
    c = prior_C(t, t, kernel.sigma0_sq, kernel.sigma_sq, kernel.gamma, np.exp, expm1=np.expm1)
    cb = 0.0
    if kernel.bias is not None:
        b0, b2 = kernel.bias
        cb = prior_C(t, t, b0, b2, kernel.T / b2, np.exp, expm1=np.expm1)
    return c * nngp_kernel(X_all, None, kernel.activation, kernel.depth, c, cb).train   # K_L + C_b / C


def _one_time(tk, tg, t, edges, m, lag, P, cols, block=False, parts=False):
    """The rows ``cols`` of Cov(t) - G(t, t) at time t > 0 with m collocation points: the diagonal
    (len(cols),) and, with ``block``, the whole (len(cols), len(cols)) block (else None).
    ``parts``: return the diagonals of the two terms instead, (-C1 - C1^T, E + E^T)."""
    sol = solve(_Adjoint(tk, t, P), _rhs(tk, t, cols), edges, m=m, lag=lag)
    return _terms(tg, t, sol, P, np.asarray(cols), block, parts)


def _one_time_pair(tk, tg, t, edges, m, lag, P, cols, block=False):
    """:func:`_one_time` with m and the embedded m - 2 points in one adjoint pass
    (:func:`~symndk.dynamics.volterra.solve_pair`, the mean solve's estimate): two results."""
    pair = solve_pair(_Adjoint(tk, t, P), _rhs(tk, t, cols), edges, m=m, lag=lag)
    return [_terms(tg, t, sol, P, np.asarray(cols), block, False) for sol in pair]


def _rhs(tk, t, cols):
    """The adjoint right-hand side K^d(t, t - sigma; cols, X)^T, (n, P, len(cols))."""
    B = tk.basis[:, 0, cols]                                                    # (r, c, P)

    def rhs(sig):
        w = tk.weights(np.full(np.size(sig), t), t - np.asarray(sig, float))   # (n, r)
        return np.einsum("nk,kip->npi", w, B)
    return rhs


def _terms(tg, t, sol, P, cols, block, parts):
    """The covariance terms -C1 - C1^T + E + E^T of the rows ``cols`` from one adjoint solution ``sol``
    (A^T in the lag sigma; its own collocation order and far-field rule).

    Every row i needs only its own column of A^T, so rows are solved in independent chunks."""
    m, edges = sol.m, sol.edges
    N = edges.size - 1
    e_s = t - edges[::-1]                   # the same piecewise polynomial in s = t - sigma, as a
    h = np.diff(e_s)                        # Solution of the prior kernel
    nodes_s = e_s[:-1, None] + radau_nodes(m)[None, :] * h[:, None]            # (N, m)
    panel_sig = N - 1 - np.arange(N)
    U = sol.r_at((t - nodes_s).ravel(), np.repeat(panel_sig, m)).reshape(N, m, P, cols.size)
    xg, wg = gauss(max(m + 2, 10))
    far_s = (e_s[:-1, None] + xg[None, :] * h[:, None]).ravel()
    far_w = (wg[None, :] * h[:, None]).ravel()
    far_panel = np.repeat(np.arange(N), xg.size)
    A_far = sol.r_at(t - far_s, panel_sig[far_panel])                           # (n, P, c) = A(t, s)^T
    hist = Solution(_Rows(tg, slice(0, P)), None, e_s, m, U, far_s, far_w, far_panel, A_far, sol.lag,
                    far_src=tg.source_table(far_s))
    W = hist.predict(far_s)                                                     # (n, P, c)
    hist.ck = _Rows(tg, cols)
    C1 = hist.predict(np.array([t]))[0].T                                       # (c, c): int A G(s, t; X, cols)
    E_diag = np.einsum("q,qpi,qpi->i", far_w, A_far, W)
    if parts:
        return -2 * np.diag(C1), 2 * E_diag
    if not block:
        return -2 * np.diag(C1) + 2 * E_diag, None
    E = np.einsum("q,qpi,qpj->ij", far_w, A_far, W)
    cov = -C1 - C1.T + E + E.T
    return np.diag(cov).copy(), cov


#: numbers per (quadrature nodes x P x rows) array of one row chunk (8 bytes each: 100 MB), so that the
#: memory of a covariance solve is bounded whatever P. Measured at P = 1000 (56 panels, one time): 16-row
#: chunks cost 12.5 CPU s a row at 1.5 GiB peak, 51-row chunks 14.6 s at 3.3 GiB (the temporaries of a
#: big chunk page-fault); benchmarks/covariance.py.
CHUNK_BUDGET = 1.25e7


def _chunks(P, R, n_nodes, full, test_only=False, budget=CHUNK_BUDGET):
    """Row chunks with about ``budget`` numbers per (nodes x P x rows) array; the test rows form one
    chunk when their full covariance is wanted (``full``). ``test_only``: the test rows only."""
    size = max(1, int(budget // max(n_nodes * P, 1)))

    def split(rows):
        return [rows[i:i + size] for i in range(0, rows.size, size)]
    if full:
        test = [np.arange(P, R)] if R > P else []
        return test if test_only else split(np.arange(P)) + test
    return split(np.arange(P, R) if test_only else np.arange(R))


def trajectory_cov(kernel, X_all, tt, rtol, atol, m=12, max_refine=1, full=False, test_only=False):
    """Ensemble covariance of the predictor at times ``tt`` (T > 0) on the kernel's rows.

    Args:
        kernel: :class:`~symndk.dynamics.twotime.TwoTimeKernel` (NDK channel; rows [X_train; X_test]).
        X_all: the inputs of those rows (R, N0) (for the equal-time prior G(t, t) of the test block).
        tt: increasing times >= 0.
        rtol, atol: accuracy target (relative to max |G|).
        m: collocation points per panel (the estimate compares with m - 2).
        max_refine: bisections of all panels while the estimate exceeds the target.
        full: also return ``test_cov`` (n, Q, Q).
        test_only: the test rows only (no ``train_var``): the cost is that of Q rows instead of
            P + Q (each row is one right-hand side of the adjoint solve and of its history sums).

    Returns dict: ``train_var`` (n, P) (unless ``test_only``), ``test_var`` (n, Q), optionally
    ``test_cov``; ``prior`` G(0, 0) (R, R); ``error_estimate`` (over the rows computed); ``info``.
    """
    P, R = kernel.P, kernel.R
    tt = np.asarray(tt, float)
    n = tt.size
    var = np.zeros((n, R))
    cov = np.zeros((n, R - P, R - P)) if full else None
    G0 = _equal_time_prior(kernel, X_all, 0.0)
    t_max = float(tt[-1])
    est, info = 0.0, {"method": "adjoint volterra, radau iia", "m": m, "panels": []}
    tk = tg = None
    if t_max > 0:
        tk = tabulate(kernel.compressed(t_max), t_max)
        tg = tabulate(kernel.with_channels("prior").compressed(t_max), t_max)
        K0 = kernel.block(0.0, 0.0)[:P]
        lam_max = float(np.max(np.linalg.eigvalsh((K0 + K0.T) / 2)))
        # the numeric dual kernels' error and the lag rounding, in both channels, as the mean's estimate
        # (measured: linear duals moved by a declared 1e-6, true error 6.9e-7 against 3.7e-15 without them)
        numeric, rounding = kernel_floor(kernel, tg.ck.kernel, t_max)
        comp = max(tk.ck.error, tk.error, tg.ck.error, tg.error) + numeric + rounding
        info["numeric_kernel_error"] = numeric
    for i, t in enumerate(tt):
        Gt = _equal_time_prior(kernel, X_all, t) if t > 0 else G0
        var[i] = np.diag(Gt)
        if full:
            cov[i] = Gt[P:, P:]
        if t == 0:
            continue
        scale = float(np.max(np.abs(Gt)))
        tol = atol + rtol * scale
        edges = sigma_mesh(t, lam_max, kernel.gamma)
        for it in range(max_refine + 1):
            lag = _lag_options(kernel, edges)
            d_var, d_cov, e = np.zeros(R), None, 0.0
            for rows in _chunks(P, R, (edges.size - 1) * (m + 2), full, test_only):
                block = full and rows[0] >= P
                hi, lo = _one_time_pair(tk, tg, t, edges, m, lag, P, rows, block)
                d_var[rows] = hi[0]
                e = max(e, float(np.max(np.abs(hi[0] - lo[0]))))
                if block:
                    d_cov = hi[1]
                    e = max(e, float(np.max(np.abs(hi[1] - lo[1]))))
            if e <= tol or it == max_refine:
                break
            edges = np.sort(np.concatenate([edges, (edges[:-1] + edges[1:]) / 2]))
        var[i] += d_var
        if full and d_cov is not None:
            cov[i] += d_cov
        est = max(est, e + scale * comp)
        info["panels"].append(int(edges.size - 1))
        info["tolerance"] = max(info.get("tolerance", 0.0), tol)
        info["met"] = info.get("met", True) and e + scale * comp <= tol
    out = {"test_var": var[:, P:], "prior": G0, "error_estimate": est, "info": info}
    if not test_only:
        out["train_var"] = var[:, :P]
    if full:
        out["test_cov"] = cov
    return out
