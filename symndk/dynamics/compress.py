"""Low-rank separable compression of a two-time kernel family (docs/numerics.md §4).

The matrices {K(t, s)} over all time pairs have low numerical rank (~10-30 at 1e-13), and
K depends on time only through the slow analytic variables ``b = exp(-gamma s)`` and
``w = sqrt(1 - exp(-gamma (t - s)))``. :func:`compress` builds

    K(t, s) ~= sum_k beta_k(t, s) B_k,       B_k = K(t_k, s_k)  (full blocks, r of them)

by pivoted QR on a sample of entries over a Chebyshev (plus geometric-in-w) grid of (b, w)
training pairs, and empirical interpolation (DEIM, oversampled): beta(t, s) is the least
squares fit of a few *exactly evaluated* skeleton entries. So the same-input sqrt cusp, and
any other time feature, is carried exactly by the skeleton entries; the full P x P recursion
runs only at r skeleton time pairs.

Example (ReLU, L = 2, 30 random inputs: 960 kernel entries carried by a few matrices):
    >>> import numpy as np
    >>> from symndk.dynamics.twotime import TwoTimeKernel
    >>> X = np.random.default_rng(0).normal(size=(30, 5))
    >>> k = TwoTimeKernel(X, X[:2] + 0.1, "relu", 2, 2.0, 1.0, 0.01)
    >>> ck = compress(k, t_end=1000.0)
    >>> ck.rank < 60, ck.error < 1e-11
    (True, True)
    >>> beta = ck.weights([500.0], [250.0])
    >>> bool(np.allclose(np.tensordot(beta[0], ck.basis[:, 0], 1), k.block(500.0, 250.0), atol=1e-11))
    True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from symndk.backend.namespace import _device
from symndk.dynamics.device import max_abs
from symndk.files import placed


def chebyshev_lobatto(n: int, lo: float, hi: float) -> np.ndarray:
    """n Chebyshev extreme points mapped to [lo, hi] (both ends included)."""
    x = np.cos(np.pi * np.arange(n) / (n - 1))[::-1]
    return lo + (hi - lo) * (x + 1) / 2


def training_pairs(gamma: float, t_end: float, n_b: int = 16, n_w: int = 24, n_geo: int = 16):
    """(t, s) pairs on a tensor grid in (b, w) covering 0 <= s <= t <= t_end (about)."""
    gt = gamma * t_end
    b = chebyshev_lobatto(n_b, np.exp(-min(gt, 40.0)), 1.0)     # beyond gamma s = 40: stationary
    w_max = np.sqrt(-np.expm1(-min(gt, 30.0)))       # beyond gamma tau = 30, e^{-gamma tau} < 1e-13
    w = np.concatenate([chebyshev_lobatto(n_w, 0.0, w_max), w_max * 2.0 ** -np.arange(2, n_geo + 2)])
    B, W = np.meshgrid(b, w, indexing="ij")
    s = -np.log(B.ravel()) / gamma
    lag = -np.log1p(-W.ravel() ** 2) / gamma
    return s + lag, s, lag


def sample_entries(kernel, n_random: int = 256, n_diag: int = 256, n_close: int = 64, seed: int = 0):
    """Entries (rows, cols) that represent the family: diagonal, most collinear, each row's
    nearest column, random."""
    rng = np.random.default_rng(seed)
    P, R = kernel.P, kernel.R
    diag = np.arange(P) if P <= n_diag else rng.choice(P, n_diag, replace=False)
    rho = np.abs(kernel.gram) / np.sqrt(np.outer(kernel.norm_rows, kernel.norm_cols))
    rho[np.arange(P), np.arange(P)] = -1.0
    flat = np.argsort(rho, axis=None)[::-1][:n_close]
    close_r, close_c = np.unravel_index(flat, rho.shape)
    nearest = np.argmax(rho, axis=1)                                       # each row's most collinear column
    rand = rng.integers(0, R * P, size=n_random)
    rows = np.concatenate([diag, close_r, np.arange(R), rand // P])
    cols = np.concatenate([diag, close_c, nearest, rand % P])
    keys = np.unique(rows * P + cols)
    return keys // P, keys % P


@dataclass
class CompressedKernel:
    """K(t, s) ~= sum_k weights(t, s)[k] basis[k] for every channel of ``kernel``.

    Attributes:
        basis: (r, n_channels, R, P) full blocks at the skeleton time pairs.
        skeleton: (r, 2) skeleton (t, s) pairs.
        rows, cols: the entries evaluated exactly to get the weights.
        pinv: (r, n_channels * n_entries) least-squares map from entry values to weights.
        error: max relative reconstruction error measured on fresh full blocks.
    """

    kernel: object
    basis: np.ndarray
    skeleton: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    pinv: np.ndarray
    error: float

    @property
    def rank(self) -> int:
        return self.basis.shape[0]

    def weights(self, t, s, lag=None) -> np.ndarray:
        """(n, r) weights beta(t_i, s_i) (``lag``: t - s if known more accurately)."""
        vals = self.kernel.entries(self.rows, self.cols, t, s, lag)      # (n_ch, n, n_e)
        vals = np.moveaxis(vals, 0, 1).reshape(vals.shape[1], -1)
        return vals @ self.pinv.T


def compress(kernel, t_end: float, tol: float = 1e-15, oversample: int = 3, n_check: int = 2, seed: int = 0) -> CompressedKernel:
    """Compress the channels of ``kernel`` over 0 <= s <= t <= t_end (see module docstring)."""
    t, s, lag = training_pairs(kernel.gamma, t_end)
    rows, cols = sample_entries(kernel, seed=seed)
    A = kernel.entries(rows, cols, t, s, lag)                                   # (n_ch, n_pairs, n_e)
    n_ch, n_e = A.shape[0], rows.size
    A = np.moveaxis(A, 1, 2).reshape(n_ch * n_e, -1)                       # rows: (channel, entry)
    rng = np.random.default_rng(seed)
    if A.shape[0] > 200:                                                   # randomized column ID
        A_sk = rng.standard_normal((200, A.shape[0])) @ A
    else:
        A_sk = A
    _, Rf, piv = scipy.linalg.qr(A_sk, mode="economic", pivoting=True)
    diag = np.abs(np.diag(Rf))
    r = max(1, int(np.sum(diag > tol * diag[0])))
    J = piv[:r]
    xp = getattr(kernel, "xp", np)
    if xp is np:
        # the r blocks as the columns of one Fortran array, orthonormalised in place: column k is then
        # basis[k] (a view), so the basis costs its own r R P numbers and no copy (peak memory, P = 5000);
        # in a files.capped block above its cap, a memory-mapped file (out of core, docs/numerics.md §7.4)
        Q = placed(r, n_ch * kernel.R * kernel.P, "basis", "symndk-basis-").T
        for i, j in enumerate(J):
            Q[:, i] = np.reshape(kernel.block(t[j], s[j], lag[j]), -1)
            Q[:, i] /= np.max(np.abs(Q[:, i]))
        Q[...] = scipy.linalg.qr(Q, mode="economic", overwrite_a=True)[0]    # LAPACK works in place: a no-op copy
        basis = Q.T.reshape(r, n_ch, kernel.R, kernel.P)
        Qs = basis.reshape(r, n_ch, -1)[:, :, rows * kernel.P + cols]
    else:
        basis, Qs = _basis_xp(kernel, t[J], s[J], lag[J], rows * kernel.P + cols, xp)
    Qs = Qs.transpose(1, 2, 0).reshape(n_ch * n_e, r)
    _, _, rpiv = scipy.linalg.qr(Qs.T, mode="economic", pivoting=True)
    lever = np.einsum("ij,ij->i", Qs, Qs)
    lever[rpiv[:r]] = -1.0
    picked = np.concatenate([rpiv[:r], np.argsort(lever)[::-1][: min((oversample - 1) * r, Qs.shape[0] - r)]])
    for _ in range(3):                           # greedy: add the sampled entries fitted worst
        ent = np.unique(picked % n_e)
        sel = (np.arange(n_ch)[:, None] * n_e + ent[None, :]).ravel()     # all channels of those entries
        pinv = np.linalg.pinv(Qs[sel])
        scale = np.max(np.abs(A), axis=0)
        worst = np.max(np.abs(A - Qs @ (pinv @ A[sel])) / scale, axis=1)
        worst[sel] = 0.0
        picked = np.concatenate([picked, np.argsort(worst)[::-1][: max(1, r // 4)]])
    ck = CompressedKernel(kernel, basis, np.column_stack([t[J], s[J]]), rows[ent], cols[ent], pinv, 0.0)
    err = 0.0
    scale = max(max_abs(kernel.block(0.0, 0.0), xp), 1e-300)
    for _ in range(n_check):
        sc = rng.uniform(0.0, t_end)
        tc = sc + (t_end - sc) * rng.uniform() ** 4
        beta = ck.weights([tc], [sc])[0]
        if xp is np:
            diff = np.reshape(kernel.block(tc, sc), (n_ch, kernel.R, kernel.P))
            diff -= np.tensordot(beta, basis, 1)                               # in place: two blocks' memory
            worst = float(np.max(np.abs(diff, out=diff)))
        else:
            worst = max_abs(xp.reshape(kernel.block(tc, sc), (n_ch, kernel.R, kernel.P))
                            - xp.tensordot(xp.asarray(beta, device=_device(basis)), basis, axes=1), xp)
        # relative to the kernel's scale at t = s (a block that has decayed to 0 is judged absolutely)
        err = max(err, worst / scale)
    ck.error = err
    return ck


def _basis_xp(kernel, t, s, lag, flat, xp):
    """The basis of :func:`compress` in the kernel's namespace ``xp``: the blocks at the skeleton pairs, each
    scaled to max 1, orthonormalised by ``xp.linalg.qr`` on the device; and its (r, n_ch, n_e) values at the
    sampled entries (flat indices ``flat``), a small host array for the interpolation set-up."""
    from symndk.backend.select import to_numpy

    cols = []
    for tj, sj, lj in zip(t, s, lag):
        block = xp.reshape(kernel.block(tj, sj, lj), (-1,))
        cols.append(block / xp.max(xp.abs(block)))
    Q = xp.linalg.qr(xp.stack(cols, axis=1)).Q
    basis = xp.reshape(xp.matrix_transpose(Q), (len(cols), -1, kernel.R, kernel.P))
    at = xp.take(xp.reshape(basis, (len(cols), basis.shape[1], -1)), xp.asarray(flat, device=_device(basis)), axis=2)
    return basis, to_numpy(at)


def _bary(nodes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(len(x), len(nodes)) barycentric Lagrange weights at Chebyshev-Lobatto ``nodes``."""
    n = nodes.size
    wts = np.ones(n)
    wts[1::2] = -1.0
    wts[[0, -1]] *= 0.5
    d = x[:, None] - nodes[None, :]
    exact = d == 0.0
    d[exact] = 1.0
    out = wts / d
    out /= out.sum(axis=1, keepdims=True)
    hit = exact.any(axis=1)
    out[hit] = exact[hit].astype(float)
    return out


@dataclass
class TabulatedKernel:
    """The weights beta(t, s) of a :class:`CompressedKernel` tabulated in the slow variables.

    beta depends on time only through b = exp(-gamma s) (entire in b) and
    w = sqrt(1 - exp(-gamma (t - s))) (analytic in w, the same-input sqrt cusp becomes linear
    in w; nearly collinear inputs put a branch point at w ~ i sqrt(1 - rho0)). The table is a
    Chebyshev grid in b times geometric panels in w (finer towards w = 0), each panel with a
    Chebyshev grid. ``error`` is the max deviation from the exact weights at random pairs,
    relative to the largest weight.
    """

    ck: CompressedKernel
    gamma: float
    b_nodes: np.ndarray
    w_edges: np.ndarray
    w_nodes: np.ndarray          # (n_panels, n_w)
    table: np.ndarray            # (n_b, n_panels, n_w * r)
    error: float = 0.0

    @property
    def basis(self) -> np.ndarray:
        return self.ck.basis

    @property
    def rank(self) -> int:
        return self.ck.rank

    def source_table(self, s) -> np.ndarray:
        """The table contracted in b for source times s: (n_s, n_panels, n_w, r)."""
        Lb = _bary(self.b_nodes, np.exp(-self.gamma * np.asarray(s, float)))
        n_p, n_w = self.w_nodes.shape
        return (Lb @ self.table.reshape(self.b_nodes.size, -1)).reshape(-1, n_p, n_w, self.rank)

    def weights_grid(self, t, s, src) -> np.ndarray:
        """(n_t, n_s, r) weights at all pairs (t_i, s_q), from ``src = source_table(s)``."""
        tau = np.asarray(t, float)[:, None] - np.asarray(s, float)[None, :]
        w = np.sqrt(-np.expm1(-self.gamma * tau))
        j = np.clip(np.searchsorted(self.w_edges, w, side="right") - 1, 0, self.w_nodes.shape[0] - 1)
        nodes = self.w_nodes[j]                                                   # (n_t, n_s, n_w)
        d = w[..., None] - nodes
        hit = d == 0.0
        d[hit] = 1.0
        L = self._bw / d
        L /= L.sum(axis=-1, keepdims=True)
        rows = hit.any(axis=-1)
        L[rows] = hit[rows]
        G = src[np.arange(src.shape[0])[None, :], j]                              # (n_t, n_s, n_w, r)
        return np.einsum("iqc,iqck->iqk", L, G)

    @property
    def _bw(self):
        n = self.w_nodes.shape[1]
        wts = np.ones(n)
        wts[1::2] = -1.0
        wts[[0, -1]] *= 0.5
        return wts

    def weights(self, t, s) -> np.ndarray:
        """(n, r) weights beta(t_i, s_i) by tensor interpolation."""
        t, s = np.broadcast_arrays(np.asarray(t, float).ravel(), np.asarray(s, float).ravel())
        b = np.exp(-self.gamma * s)
        w = np.sqrt(-np.expm1(-self.gamma * (t - s)))
        j = np.clip(np.searchsorted(self.w_edges, w, side="right") - 1, 0, self.w_nodes.shape[0] - 1)
        Lb = _bary(self.b_nodes, b)
        r = self.rank
        out = np.empty((t.size, r))
        for p in np.unique(j):
            idx = np.nonzero(j == p)[0]
            Lw = _bary(self.w_nodes[p], w[idx])                                   # (n, n_w)
            tmp = (Lb[idx] @ self.table[:, p]).reshape(idx.size, -1, r)           # (n, n_w, r)
            out[idx] = np.einsum("nc,nck->nk", Lw, tmp)
        return out


def collinearity(kernel) -> float:
    """min over distinct inputs of 1 - |rho0| (rows x columns): sets the w-grading depth."""
    rho = np.abs(kernel.gram) / np.sqrt(np.outer(kernel.norm_rows, kernel.norm_cols))
    rho[kernel.det0 == 0.0] = 0.0                    # identical inputs: no branch point
    return float(max(1.0 - np.max(rho), 1e-300))


def tabulate(ck: CompressedKernel, t_end: float, n_b: int = 24, n_w: int = 16, levels: int | None = None,
             n_check: int = 2000, seed: int = 2) -> TabulatedKernel:
    """Tabulate the weights of ``ck`` over 0 <= s <= t <= t_end (see :class:`TabulatedKernel`).

    ``levels`` geometric w-panels towards w = 0 (default: down to a quarter of the distance
    sqrt(1 - rho0) of the branch point of the most collinear input pair).
    """
    gamma = ck.kernel.gamma
    if levels is None:
        w_c = np.sqrt(collinearity(ck.kernel))
        levels = int(np.clip(np.ceil(np.log2(1.0 / w_c)) + 2, 4, 30))
    bias, layered = getattr(ck.kernel, "bias", None), getattr(ck.kernel, "layered", False)
    if bias is not None and not layered:   # a scalar bias, rate gamma_b = r gamma: tabulate in the slower rate
        r = ck.kernel.sigma_sq / bias[1]
        gamma, r = gamma * min(r, 1.0), max(r, 1.0 / r)
        layered = abs(r - round(r)) > 1e-12 * r
    gt = gamma * t_end
    # per-layer rates (docs/theory.md §B), or a scalar bias whose rate ratio r is not an integer: the faster
    # e^{-gamma_l s} = b^r and e^{-gamma_l tau} = (1 - w^2)^r are not analytic at b = 0 and w = 1: twice the
    # b-nodes and w-panels at gamma tau = 1, 2, 3, 4, 6, 8, 12, 16 (measured: per-layer table error 2e-7 ->
    # 5e-12; scalar bias, digits P = 100, relu L = 2: gamma_b = 5/3 gamma 5.6e-6 -> 1.4e-11, gamma_b = 0.4 gamma
    # 9.3e-3 -> 1.3e-11, the first from the extra nodes, the second from tabulating in the slower rate)
    b_nodes = chebyshev_lobatto(max(n_b, 48) if layered else n_b, np.exp(-min(gt, 40.0)), 1.0)
    w_max = np.sqrt(-np.expm1(-min(gt, 30.0)))       # beyond gamma tau = 30, e^{-gamma tau} < 1e-13
    w_edges = np.concatenate([[0.0], w_max * 2.0 ** -np.arange(levels, -1, -1)])
    if layered:
        top = np.sqrt(-np.expm1(-np.array([1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0])))
        w_edges = np.unique(np.concatenate([w_edges, top[(top > w_edges[-2]) & (top < w_max)]]))
    w_nodes = np.stack([chebyshev_lobatto(n_w, lo, hi) for lo, hi in zip(w_edges[:-1], w_edges[1:])])
    B, W = np.meshgrid(b_nodes, w_nodes.ravel(), indexing="ij")
    s = -np.log(B.ravel()) / gamma
    lag = -np.log1p(-W.ravel() ** 2) / gamma
    beta = ck.weights(s + lag, s, lag)                                                        # (n_b * n_p * n_w, r)
    table = beta.reshape(b_nodes.size, w_edges.size - 1, n_w * ck.rank)
    tk = TabulatedKernel(ck, gamma, b_nodes, w_edges, w_nodes, table)
    rng = np.random.default_rng(seed)
    sc = rng.uniform(0.0, t_end, n_check)
    tc = sc + (t_end - sc) * rng.uniform(size=n_check) ** 6
    exact = ck.weights(tc, sc)
    tk.error = float(np.max(np.abs(tk.weights(tc, sc) - exact)) / np.max(np.abs(exact)))
    return tk
