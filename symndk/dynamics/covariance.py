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
same mesh, and the error estimate is their largest difference plus the compression and table
errors times the scale of G; panels are bisected while the estimate exceeds atol + rtol max G.

Cost: one adjoint solve with R right-hand sides per requested time (plus the m - 2 solve), and
the history sums of W, O(n^2 r P R) for n quadrature nodes and compression rank r.

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
from symndk.dynamics.solvers import _lag_options
from symndk.dynamics.volterra import Solution, solve
from symndk.kernels.static import nngp_kernel
from symndk.runtime.recursion import prior_C


class _Adjoint:
    """The kernel of the adjoint equation in the lag sigma = t - s: K^d(t - sigma', t - sigma; X, X)^T."""

    def __init__(self, tk, t, P):
        self.tk, self.t = tk, float(t)
        self.basis = np.ascontiguousarray(tk.basis[:, :, :P, :].transpose(0, 1, 3, 2))

    def weights(self, sig, sig_src):
        return self.tk.weights(self.t - np.asarray(sig_src, float), self.t - np.asarray(sig, float))


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

    Every row i needs only its own column of A^T, so rows are solved in independent chunks.
    ``parts``: return the diagonals of the two terms instead, (-C1 - C1^T, E + E^T)."""
    cols = np.asarray(cols)
    adj = _Adjoint(tk, t, P)
    B = tk.basis[:, 0, cols]                                                    # (r, c, P)

    def rhs(sig):                                                               # K^d(t, t - sigma; cols, X)^T
        w = tk.weights(np.full(np.size(sig), t), t - np.asarray(sig, float))   # (n, r)
        return np.einsum("nk,kip->npi", w, B)

    sol = solve(adj, rhs, edges, m=m, lag=lag)                                  # U: A^T at nodes (N, m, P, c)
    # the same piecewise polynomial in s = t - sigma, as a Solution of the prior kernel
    N = edges.size - 1
    e_s = t - edges[::-1]
    h = np.diff(e_s)
    nodes_s = e_s[:-1, None] + radau_nodes(m)[None, :] * h[:, None]            # (N, m)
    panel_sig = N - 1 - np.arange(N)
    U = sol.r_at((t - nodes_s).ravel(), np.repeat(panel_sig, m)).reshape(N, m, P, cols.size)
    xg, wg = gauss(max(m + 2, 10))
    far_s = (e_s[:-1, None] + xg[None, :] * h[:, None]).ravel()
    far_w = (wg[None, :] * h[:, None]).ravel()
    far_panel = np.repeat(np.arange(N), xg.size)
    A_far = sol.r_at(t - far_s, panel_sig[far_panel])                           # (n, P, c) = A(t, s)^T
    hist = Solution(_Rows(tg, slice(0, P)), None, e_s, m, U, far_s, far_w, far_panel, A_far, lag,
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


def _chunks(P, R, n_nodes, full, budget=4e7):
    """Row chunks with about ``budget`` numbers per (nodes x P x rows) array; the test rows form
    one chunk when their full covariance is wanted."""
    size = max(8, int(budget // max(n_nodes * P, 1)))
    rows = np.arange(P) if full else np.arange(R)
    out = [rows[i:i + size] for i in range(0, rows.size, size)]
    return out + ([np.arange(P, R)] if full and R > P else [])


def trajectory_cov(kernel, X_all, tt, rtol, atol, m=12, max_refine=1, full=False):
    """Ensemble covariance of the predictor at times ``tt`` (T > 0) on the kernel's rows.

    Args:
        kernel: :class:`~symndk.dynamics.twotime.TwoTimeKernel` (NDK channel; rows [X_train; X_test]).
        X_all: the inputs of those rows (R, N0) (for the equal-time prior G(t, t) of the test block).
        tt: increasing times >= 0.
        rtol, atol: accuracy target (relative to max |G|).
        m: collocation points per panel (the estimate compares with m - 2).
        max_refine: bisections of all panels while the estimate exceeds the target.
        full: also return ``test_cov`` (n, Q, Q).

    Returns dict: ``train_var`` (n, P), ``test_var`` (n, Q), optionally ``test_cov``; ``prior``
    G(0, 0) (R, R); ``error_estimate``; ``info``.
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
        comp = max(tk.ck.error, tk.error, tg.ck.error, tg.error)
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
            for rows in _chunks(P, R, (edges.size - 1) * (m + 2), full):
                block = full and rows[0] >= P
                hi = _one_time(tk, tg, t, edges, m, lag, P, rows, block)
                lo = _one_time(tk, tg, t, edges, m - 2, lag, P, rows, block)
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
    out = {"train_var": var[:, :P], "test_var": var[:, P:], "prior": G0, "error_estimate": est, "info": info}
    if full:
        out["test_cov"] = cov
    return out
