"""Radau IIA panel collocation for the mean-predictor Volterra equations (docs/theory.md §5).

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
(:mod:`symndk.dynamics.compress`): every history sum is sum_k B_k (sum_q w_q beta_k u_q).

Array namespaces (issue 16): the solver runs in the namespace of the basis (NumPy, or a device basis of
``TwoTimeKernel(..., backend=)``: array_api_strict, PyTorch, CuPy; :func:`_namespace`). The basis, the
solution U, the far-field values and every history sum and panel operator product stay there; the
weights beta (r numbers per time pair), the quadrature rules and the own-panel matrices G (r, m, m) are
computed on the host and copied in, and the small GMRES least squares runs on the host.

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

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from symndk.backend import threads
from symndk.backend.namespace import _device
from symndk.backend.select import _namespace_of, to_numpy
from symndk.dynamics.mesh import gauss, lag_rule, lagrange, radau_nodes


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
    U: np.ndarray                     # (N, m, P, K) values of r at the collocation points (K targets)
    far_s: np.ndarray                 # far-field Gauss points of all panels, their weights,
    far_w: np.ndarray                 # the panel they belong to, and r there
    far_panel: np.ndarray
    far_u: np.ndarray
    lag: LagOptions = field(default_factory=LagOptions)
    far_src: np.ndarray | None = None  # per far point: the tabulated kernel contracted in b
    vector: bool = False               # Y was 1-D: :meth:`predict` drops the K axis

    @property
    def nodes(self) -> np.ndarray:
        """All collocation times (N * m,)."""
        h = np.diff(self.edges)
        return (self.edges[:-1, None] + radau_nodes(self.m)[None, :] * h[:, None]).ravel()

    def r_at(self, s, panel) -> np.ndarray:
        """r_h(s) for points s in panels ``panel`` (arrays of the same length): (q, P, K)."""
        panel = np.asarray(panel)
        a, h = self.edges[panel], np.diff(self.edges)[panel]
        L = lagrange(radau_nodes(self.m), (np.asarray(s) - a) / h)
        xp = _namespace(self.U)                     # one product per panel: no (q, m, P, K) gather
        return _per_panel(panel, lambda p, idx: xp.tensordot(_on(xp, L[idx], self.U), self.U[p, ...], axes=1),
                          tuple(self.U.shape[2:]), self.U)

    def predict(self, times) -> np.ndarray:
        """Iterated predictor int_0^t K^d(t, s) r_h(s) ds for every kernel row, (n, R, K) ((n, R)
        for a 1-D Y)."""
        times = np.asarray(times, float)
        panel_of = np.searchsorted(self.edges, times, side="left") - 1
        out = _per_panel(panel_of, lambda p, idx: _apply(self.ck.basis[:, 0, ...], _history(self, times[idx], p)),
                         (self.ck.basis.shape[2], self.U.shape[-1]), self.U)
        return out[..., 0] if self.vector else out


def _namespace(a):
    """The array namespace of ``a``: NumPy itself for NumPy arrays (that path is unchanged) and anything
    without one, else its array-API namespace (:mod:`symndk.backend.select`).

    >>> import array_api_strict as xs
    >>> _namespace(np.ones(2)) is np, _namespace(xs.ones(2)) is xs
    (True, True)
    """
    xp = None if isinstance(a, np.ndarray) else _namespace_of([a])
    return np if xp is None else xp


def _on(xp, a, like):
    """``a`` (host NumPy, or already of ``xp``) as a float64 array of ``xp`` on the device of ``like``; for
    NumPy ``numpy.asarray(a, float)`` (``a`` itself, no copy).

    >>> import array_api_strict as xs
    >>> a = np.ones(2)
    >>> _on(np, a, a) is a, type(_on(xs, a, xs.ones(1))).__module__.split(".")[0]
    (True, 'array_api_strict')
    """
    if xp is np:
        return np.asarray(a, float)
    return xp.asarray(a, dtype=xp.float64, device=_device(like))


def _einsum(xp, spec, a, b):
    """``numpy.einsum(spec, a, b)`` in namespace ``xp``: NumPy's einsum itself, elsewhere one batched matmul
    (the standard has no einsum; every index of an operand is in the output or in the other operand).

    >>> import array_api_strict as xs
    >>> a, b = np.arange(24.0).reshape(2, 3, 4), np.arange(8.0).reshape(4, 2)
    >>> got = _einsum(xs, "kab,bc->cka", xs.asarray(a), xs.asarray(b))
    >>> bool(np.array_equal(np.asarray(got), np.einsum("kab,bc->cka", a, b)))
    True
    """
    if xp is np:
        return np.einsum(spec, a, b)
    (sa, sb), out = spec.split("->")[0].split(","), spec.split("->")[1]
    assert all(c in out or c in sb for c in sa) and all(c in out or c in sa for c in sb), spec
    batch = [c for c in out if c in sa and c in sb]
    free_a, free_b = [c for c in out if c not in sb], [c for c in out if c not in sa]
    summed = [c for c in sa if c in sb and c not in out]
    size = dict(zip(sa, a.shape)) | dict(zip(sb, b.shape))
    n = lambda cs: math.prod(size[c] for c in cs)  # noqa: E731
    A = xp.reshape(xp.permute_dims(a, tuple(sa.index(c) for c in batch + free_a + summed)),
                   (n(batch), n(free_a), n(summed)))
    B = xp.reshape(xp.permute_dims(b, tuple(sb.index(c) for c in batch + summed + free_b)),
                   (n(batch), n(summed), n(free_b)))
    order = batch + free_a + free_b
    C = xp.reshape(A @ B, tuple(size[c] for c in order))
    return xp.permute_dims(C, tuple(order.index(c) for c in out))


def plus_diagonal(M, c):
    """M + c I for a square M: in place in NumPy, else ``M + c xp.eye`` (the standard has no scatter into
    the diagonal; one more M-sized array).

    >>> import array_api_strict as xs
    >>> to_numpy(plus_diagonal(xs.zeros((2, 2), dtype=xs.float64), 3.0)).tolist()
    [[3.0, 0.0], [0.0, 3.0]]
    """
    xp = _namespace(M)
    if xp is not np:
        return M + c * xp.eye(M.shape[0], dtype=M.dtype, device=_device(M))
    M[np.diag_indices_from(M)] += c
    return M


def _per_panel(panel, compute, shape, like):
    """The (len(panel),) + shape array whose rows at the positions ``idx`` of each panel p >= 0 are
    ``compute(p, idx)`` and 0 at p < 0, in the namespace of ``like``: the parts are concatenated and put in
    order by one gather (no scatter into boolean or integer positions: not every namespace has it).

    >>> import array_api_strict as xs
    >>> out = _per_panel(np.array([1, -1, 0, 1]), lambda p, idx: xs.asarray(10.0 * p + idx), (), xs.ones(1))
    >>> to_numpy(out).tolist()
    [10.0, 0.0, 2.0, 13.0]
    """
    xp = _namespace(like)
    parts, at = [], []
    for p in np.unique(panel):
        idx = np.nonzero(panel == p)[0]
        parts.append(compute(p, idx) if p >= 0 else
                     xp.zeros((idx.size,) + tuple(shape), dtype=xp.float64, device=_device(like)))
        at.append(idx)
    if not parts:
        return xp.zeros((0,) + tuple(shape), dtype=xp.float64, device=_device(like))
    out = xp.concat(parts, axis=0)
    order = np.argsort(np.concatenate(at), kind="stable")
    if np.array_equal(order, np.arange(order.size)):
        return out
    return xp.take(out, xp.asarray(order, device=_device(like)), axis=0)


#: multiply-adds below which a product stays on the calling thread (not worth a hand-off to the pool)
PARALLEL_MIN = 1 << 22


def _by_columns(part, columns: int, work: int, xp=np) -> None:
    """Run ``part(j0, j1)`` over :func:`symndk.backend.threads.workers` contiguous column ranges of
    ``range(columns)`` in threads (numpy and BLAS release the GIL; each part writes its own columns), or
    once on this thread when ``work`` (multiply-adds) is small, one thread is available, this already
    is a pool thread, or the namespace ``xp`` is not NumPy (a device runs the whole product)."""
    size = threads.workers()
    n = min(size, columns, max(1, work // PARALLEL_MIN))
    if n <= 1 or threads.in_pool() or xp is not np:
        part(0, columns)
        return
    edges = np.linspace(0, columns, n + 1).astype(int)
    pool = threads.pool(size)
    for f in [pool.submit(part, a, b) for a, b in zip(edges[:-1], edges[1:])]:
        f.result()


def _apply(B, Z):
    """sum_k B[k] @ Z[i, k] for every i: (n, rows, K) from the basis B (r, rows, P) (any strides: the
    solver's training block is a strided view, never copied) and Z (n, r, P, K).

    Computed as sum_k Z_k^T B_k^T: one GEMM per k with the long side of B_k contiguous (measured
    1.5x faster than B_k @ Z_k at P = 2000), accumulated into one (n K, rows) array; the rows of B
    are split among the cores (:func:`_by_columns`), so the cost is linear in n K and divided by the
    cores."""
    xp = _namespace(Z)
    n, r, P, K = Z.shape
    Zt = xp.reshape(xp.permute_dims(Z, (1, 0, 3, 2)), (r, n * K, P))
    out = xp.empty((n * K, B.shape[1]), dtype=xp.float64, device=_device(Z))

    def part(j0, j1):
        acc = Zt[0, ...] @ B[0, j0:j1, :].T
        for k in range(1, r):
            acc += Zt[k, ...] @ B[k, j0:j1, :].T
        out[:, j0:j1] = acc

    _by_columns(part, B.shape[1], r * n * K * P * B.shape[1], xp)
    return xp.permute_dims(xp.reshape(out, (n, K, -1)), (0, 2, 1))


def _times(Y, V):
    """Y @ V for Y (n, P) and V (P, Q), its columns split among the cores (:func:`_by_columns`)."""
    xp = _namespace(V)
    out = xp.empty((Y.shape[0], V.shape[1]), dtype=xp.float64, device=_device(V))

    def part(j0, j1):
        out[:, j0:j1] = Y @ V[:, j0:j1]

    _by_columns(part, V.shape[1], Y.shape[0] * V.shape[0] * V.shape[1], xp)
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


def _template(c, ratio, lag):
    """Near-field rule of a panel in units of its width (start 0), previous panel ``ratio`` wide.

    Returns (target index, x, weight, in-previous-panel mask, Lagrange values in the own panel).
    """
    start = -ratio
    I, X, W = [], [], []
    for i, t in enumerate(c):
        x, w = lag_rule(t, start, [0.0], n=lag.n, ratio=lag.ratio, levels=lag.levels)
        I.append(np.full(x.size, i))
        X.append(x)
        W.append(w)
    I, X, W = map(np.concatenate, (I, X, W))
    prev = X < 0.0
    own = np.where(prev, X / ratio + 1.0 if ratio > 0 else X, X)
    return I, X, W, prev, lagrange(c, own)


def _far(sol, targets, p):
    """Far-field part (panels <= p - 2) of the history sums Z[i, k] for targets in panel p."""
    ck, n_t = sol.ck, len(targets)
    r = ck.basis.shape[0]
    far = slice(np.searchsorted(sol.far_panel, p - 2, side="right"))   # panels are stored in order: a prefix
    P, K = sol.U.shape[2:]
    xp = _namespace(sol.U)
    if far.stop == 0:
        return xp.zeros((n_t, r, P, K), dtype=xp.float64, device=_device(sol.U))
    s, w, u = sol.far_s[far], sol.far_w[far], sol.far_u[far, ...]
    if sol.far_src is not None:                          # tabulated kernel: b-contraction cached
        beta = ck.weights_grid(targets, s, sol.far_src[far])
    else:
        beta = ck.weights(np.repeat(targets, s.size), np.tile(s, n_t)).reshape(n_t, s.size, r)
    weights = (beta * w[None, :, None]).transpose(0, 2, 1).reshape(n_t * r, s.size)   # host, copied in
    return xp.reshape(_times(_on(xp, weights, u), xp.reshape(u, (s.size, P * K))), (n_t, r, P, K))


def _history(sol, targets, p):
    """Z[i, k] = sum_q w_q beta_k(t_i, s_q) r_h(s_q) over [0, t_i] for targets t_i in (solved) panel p."""
    ck = sol.ck
    Z = _far(sol, targets, p)
    I, S, W, panel = _near(sol, targets, p)
    use = panel >= 0
    if np.any(use):
        I, S, panel = I[use], S[use], panel[use]
        beta = ck.weights(targets[I], S) * W[use, None]                     # (q, r)
        L = lagrange(radau_nodes(sol.m), (S - sol.edges[panel]) / np.diff(sol.edges)[panel])   # (q, m)
        n_t, r, m = targets.size, beta.shape[1], sol.m
        xp = _namespace(Z)
        for pp in np.unique(panel):                 # contract the weights with the Lagrange basis first:
            sel = panel == pp                       # (n_t r, m) @ U[pp], never r_h at every near node
            BL = np.zeros((n_t, r, m))
            np.add.at(BL, I[sel], beta[sel][:, :, None] * L[sel][:, None, :])
            Z += xp.reshape(_on(xp, BL.reshape(n_t * r, m), Z) @ xp.reshape(sol.U[pp, ...], (m, -1)), Z.shape)
    return Z


class StiffSolver:
    """Solves (I + sum_k G^k (x) B_k) x = rhs for one panel (m P unknowns, stage-major, m = G's
    size, so one solver serves every collocation order); shared by this solver and the MPL panel
    solver (:mod:`symndk.dynamics.proximal`).

    GMRES, preconditioned by either (a) the LU of an earlier panel's operator (consecutive
    uniform panels differ only through the slow drift of the kernel), or (b) the block-diagonal
    operator I + sum_k G^k (x) diag(V^T B_k V) in a fixed orthonormal basis V (eigenvectors of
    the symmetric part of Kbar ~ K(t_c, t_c), or the ``basis`` given, e.g. those of K(0, 0);
    docs/numerics.md §6.3): one m x m inverse per mode, keeping the full stage coupling of every
    G^k. V and the diagonals are computed once and reused by later panels while GMRES converges
    quickly with them. A dense LU of the panel operator is the fallback, and becomes the new
    preconditioner. Small systems are solved directly.

    The basis B (r, P, P) is only read (any strides, never copied): the operator is applied as
    sum_k (G^k X)^T B_k^T, r GEMMs per application; the memory beyond B is O(m P K + P^2).

    In another array namespace (B a device array, :attr:`xp`) everything of size P runs there: the
    operator, the eigenbasis (``xp.linalg.eigh``), the P m x m inverses (``xp.linalg.inv``), the Krylov
    vectors and the dense small solve (``xp.linalg.solve``); G (host or device) is copied in once per
    :meth:`solve`. Only the GMRES least squares on the (j + 2) x (j + 1) Hessenberg matrices runs on
    the host (one copy of them per iteration). A single right-hand side runs the block GMRES (SciPy's
    GMRES is NumPy-only), and the dense fallback keeps the inverse of the operator instead of its LU
    factors (no LU in the standard): (m P)^2 numbers, as the LU; two (m P)^2 arrays while it is formed.

    Example (a device panel in ``array_api_strict``, against the dense NumPy solve):
        >>> import array_api_strict as xs
        >>> rng = np.random.default_rng(0)
        >>> B, G = rng.standard_normal((2, 5, 5)) / 5, rng.standard_normal((2, 3, 3)) / 3
        >>> rhs = rng.standard_normal((15, 2))
        >>> x = StiffSolver(xs.asarray(B)).solve(G, xs.asarray(rhs))
        >>> dense = np.einsum("kab,kpq->apbq", G, B).reshape(15, 15) + np.eye(15)
        >>> type(x).__module__.split(".")[0], bool(np.abs(to_numpy(x) - np.linalg.solve(dense, rhs)).max() < 1e-14)
        ('array_api_strict', True)
    """

    def __init__(self, B, tol=1e-13, max_iter=60, basis=None):
        self.B, self.P = B, B.shape[1]
        #: the array namespace of B, where the solver runs
        self.xp = _namespace(B)
        self.lu, self.basis, self._V0 = {}, None, None if basis is None else _on(self.xp, basis, B)
        self.tol, self.max_iter = tol, max_iter
        self.stats = {"lu": 0, "eig": 0, "iterations": 0}

    def _matmat(self, G, X):
        """The panel operator on K columns at once: X (m P, K) -> (m P, K)."""
        xp = self.xp
        r, m = G.shape[:2]
        K = X.shape[1]
        T = xp.reshape(xp.matmul(G, xp.reshape(X, (m, self.P * K))), (r, m, self.P, K))       # G^k X
        AX = _apply(self.B, xp.permute_dims(T, (1, 0, 2, 3)))                                 # (m, P, K)
        return X + xp.reshape(AX, (m * self.P, K))

    def _matvec(self, G, x):
        return self._matmat(G, x[:, None])[:, 0]

    def _dense(self, G):
        xp, m, P = self.xp, G.shape[1], self.P
        return plus_diagonal(xp.reshape(_einsum(xp, "kab,kpq->apbq", G, self.B), (m * P, m * P)), 1.0)

    def _factor(self, M):
        """Factors of the dense operator for :meth:`_factored`: SciPy's LU, or in another namespace the
        inverse (the standard has no LU).

        >>> import array_api_strict as xs
        >>> M = np.array([[2.0, 1.0], [0.0, 4.0]])
        >>> solver = StiffSolver(xs.zeros((1, 2, 2), dtype=xs.float64))
        >>> to_numpy(solver._factored(solver._factor(xs.asarray(M)), xs.asarray([3.0, 4.0]))).tolist()
        [1.0, 1.0]
        """
        return scipy.linalg.lu_factor(M, check_finite=False) if self.xp is np else self.xp.linalg.inv(M)

    def _factored(self, lu, v):
        """M^{-1} v from :meth:`_factor`'s factors (example there)."""
        return scipy.linalg.lu_solve(lu, v, check_finite=False) if self.xp is np else lu @ v

    def _basis(self, G):
        """Eigenbasis V of the symmetric part of Kbar = sum_k beta_k B_k (beta from the best
        separable approximation G^k ~ A beta_k; or the basis given to the constructor, once) and
        the diagonals D[k] = diag(V^T B_k V)."""
        xp, r = self.xp, G.shape[0]
        if self._V0 is not None:
            V, self._V0 = self._V0, None
        else:
            U, S, _ = xp.linalg.svd(xp.reshape(G, (r, -1)), full_matrices=False)
            Kbar = U[0, 0] * S[0] * self.B[0, ...]
            for k in range(1, r):
                Kbar += U[k, 0] * S[0] * self.B[k, ...]
            V = xp.linalg.eigh((Kbar + Kbar.T) / 2).eigenvectors
            self.stats["eig"] += 1
        D = xp.stack([_einsum(xp, "pi,pi->i", self.B[k, ...] @ V, V) for k in range(r)])
        return V, D

    def _blockdiag(self, G):
        """Preconditioner I + sum_k G^k (x) diag(V^T B_k V) in the basis V: one m x m inverse
        per mode (exact when the B_k share the eigenbasis V)."""
        (V, D), xp = self.basis, self.xp
        m, P = G.shape[1], self.P
        M = _einsum(xp, "kab,ki->iab", G, D)
        M += xp.eye(m, dtype=xp.float64, device=_device(M))
        Minv = xp.linalg.inv(M)
        def apply(y):                                    # y (m P,) or (m P, K): two products with V for all
            K = 1 if y.ndim == 1 else y.shape[1]         # m K columns (each reads V once)
            Yv = _times(xp.reshape(xp.permute_dims(xp.reshape(y, (m, P, K)), (0, 2, 1)), (m * K, P)), V)  # (m K, P)
            Z = _einsum(xp, "iab,bki->aki", Minv, xp.reshape(Yv, (m, K, P)))
            VZ = xp.reshape(_times(xp.reshape(Z, (m * K, P)), V.T), (m, K, P))
            return xp.reshape(xp.permute_dims(VZ, (0, 2, 1)), y.shape)
        return apply

    def _block_gmres(self, G, rhs, precond, max_iter):
        """Right-preconditioned GMRES run on the K columns of ``rhs`` side by side: K independent
        Krylov spaces, but each iteration applies the operator and the preconditioner to all K
        columns at once (matrix-matrix products), so K columns cost about one. None when a column
        has not converged to the same test as :meth:`_gmres`."""
        xp = self.xp
        n, K = rhs.shape
        x0 = precond(rhs)
        r0 = rhs - self._matmat(G, x0)
        beta = xp.linalg.vector_norm(r0, axis=0)
        target = self.tol * xp.linalg.vector_norm(rhs, axis=0)
        if bool(xp.all(beta <= target)):
            return x0
        beta, target = to_numpy(beta), to_numpy(target)  # K numbers each, for the host least squares
        safe = np.where(beta > 0, beta, 1.0)
        V = [r0 / _on(xp, safe, r0)]
        H = xp.zeros((K, max_iter + 1, max_iter), dtype=xp.float64, device=_device(rhs))
        for j in range(max_iter):
            w = self._matmat(G, precond(V[j]))
            for _ in range(2):                           # classical Gram-Schmidt, twice
                for i in range(j + 1):
                    h = _einsum(xp, "nk,nk->k", V[i], w)
                    H[:, i, j] += h
                    w -= V[i] * h
            H[:, j + 1, j] = xp.linalg.vector_norm(w, axis=0)
            V.append(w / xp.where(H[:, j + 1, j] > 0, H[:, j + 1, j], 1.0))
            Hj = to_numpy(H[:, :j + 2, :j + 1])          # the Hessenberg matrices: one copy to the host
            e1 = np.zeros((K, j + 2))
            e1[:, 0] = beta
            ys = [np.linalg.lstsq(Hj[k], e1[k], rcond=None)[0] for k in range(K)]
            res = np.array([np.linalg.norm(Hj[k] @ ys[k] - e1[k]) for k in range(K)])
            self.stats["iterations"] += 1
            if np.all(res <= target) or j == max_iter - 1:
                break
        Y = _on(xp, np.array(ys).T, rhs)                 # (j + 1, K)
        x = x0 + precond(sum(V[i] * Y[i, ...] for i in range(Y.shape[0])))
        err = xp.max(xp.abs(rhs - self._matmat(G, x)), axis=0)
        if bool(xp.all(err <= 100 * self.tol * xp.max(xp.abs(rhs), axis=0))):
            return x
        return None

    def _gmres(self, G, rhs, precond, max_iter):
        import scipy.sparse.linalg as spla

        n = rhs.size
        # dtype given: without it each operator is applied once to zeros to find it (2 wasted products)
        op = spla.LinearOperator((n, n), matvec=lambda v: self._matvec(G, v), dtype=float)
        pre = spla.LinearOperator((n, n), matvec=precond, dtype=float)
        count = [0]
        x, info = spla.gmres(op, rhs, x0=precond(rhs), M=pre, rtol=self.tol, atol=0.0,
                             restart=max_iter, maxiter=1,
                             callback=lambda _: count.__setitem__(0, count[0] + 1), callback_type="pr_norm")
        self.stats["iterations"] += count[0]
        if info == 0 or np.max(np.abs(rhs - op.matvec(x))) <= 100 * self.tol * np.max(np.abs(rhs)):
            return x
        return None

    def solve(self, G, rhs):
        """x for right-hand sides ``rhs`` (m P, K): one dense factorisation for all K columns when
        small; otherwise GMRES per column, sharing the preconditioner (LU or eigenbasis). ``G`` may be
        host NumPy; x is in :attr:`xp`."""
        G = _on(self.xp, G, self.B)
        if rhs.shape[0] <= 600:                          # small: dense direct solve is cheapest
            return self.xp.linalg.solve(self._dense(G), rhs)
        if rhs.shape[1] == 1 and self.xp is np:          # SciPy's GMRES (NumPy only)
            return self._solve1(G, rhs[:, 0])[:, None]
        return self._solve1(G, rhs)

    def _solve1(self, G, rhs):
        gmres = self._gmres if rhs.ndim == 1 else self._block_gmres
        m = G.shape[1]
        if m in self.lu:
            lu = self.lu[m]
            x = gmres(G, rhs, lambda v: self._factored(lu, v), 10)
            if x is not None:
                return x
        if self.basis is not None:                       # block-diagonal in the last basis
            x = gmres(G, rhs, self._blockdiag(G), 20)
            if x is not None:
                return x
        self.basis = self._basis(G)
        x = gmres(G, rhs, self._blockdiag(G), self.max_iter)
        if x is not None:
            self.lu.pop(m, None)
            return x
        M = self._dense(G)
        lu = self.lu[m] = self._factor(M)
        self.stats["lu"] += 1
        x = self._factored(lu, rhs)
        return x + self._factored(lu, rhs - M @ x)

    def correct(self, G, res, floor, rel=1e-2, steps=4):
        """A correction d with |res - A d| <= max(rel |res|, floor) (max norms), A the panel operator
        of G: preconditioned Richardson steps d += M^{-1} (res - A d) with the block-diagonal
        preconditioner, each checked by one product; a full :meth:`solve` when they do not get
        there. For the embedded order of :func:`solve_pair`, whose residual at the interpolated
        high-order solution is small and needed to ``rel`` only (an error estimate)."""
        xp = self.xp
        G = _on(xp, G, self.B)
        if res.shape[0] <= 600:
            return xp.linalg.solve(self._dense(G), res)
        if self.basis is None:
            self.basis = self._basis(G)
        target = max(rel * float(xp.max(xp.abs(res))), floor)
        pre, d, left = self._blockdiag(G), xp.zeros_like(res), res
        for _ in range(steps):
            if float(xp.max(xp.abs(left))) <= target:
                return d
            d = d + pre(left)
            left = res - self._matmat(G, d)
            self.stats["iterations"] += 1
        return d if float(xp.max(xp.abs(left))) <= target else self.solve(G, res)


def solve(ck, Y, edges, m: int = 12, n_far: int | None = None, lag: LagOptions | None = None,
          basis=None) -> Solution:
    """Solve r + int K r = Y panel by panel on ``edges`` with m Radau IIA points per panel.

    BLAS runs on one thread here: the per-panel products have only m (or m r) columns, and
    threaded BLAS mostly spins on them, badly so on a loaded machine (measured on digits,
    P = 300: 63 s with 2 threads, 5 s with 1).

    Args:
        ck: compressed kernel (``basis`` (r, 1, R, P) with the training rows first,
            ``weights(t, s) -> (n, r)``).
        Y: (P,) training labels, or (P, K): K right-hand sides sharing the kernel, its
            quadratures and the panel factorisations (the solution then carries the K axis;
            a 1-D Y is solved as K = 1). Or a callable ``Y(times) -> (n, P, K)``: a time-dependent
            right-hand side r + int K r = Y(t), evaluated at the collocation points (the
            predictor-covariance solves of :mod:`symndk.dynamics.covariance`).
        edges: panel edges starting at 0.
        m: collocation points per panel.
        n_far: Gauss points per panel for far-field history sums (default max(m + 2, 10)).
            The sqrt cusp of the same-input kernel sits one panel away from the far field,
            so few far points would limit the order for kinked activations.
        lag: near-field quadrature options.
        basis: orthonormal (P, P) preconditioner basis for the panel solves (:class:`StiffSolver`),
            e.g. the eigenvectors of K(0, 0) when the caller has them; default: computed.
    """
    return _run(ck, Y, edges, m, None, n_far, lag, basis)[0]


def solve_pair(ck, Y, edges, m: int = 12, m_lo: int | None = None, n_far: int | None = None,
               lag: LagOptions | None = None, basis=None) -> tuple[Solution, Solution]:
    """The m-point solution and the embedded ``m_lo``-point one (default m - 2) on the same panels,
    in one pass: the error estimate of :func:`symndk.dynamics.solvers.solve_trajectory`.

    The m_lo solution is the Radau IIA collocation solution of that order (its own nodes, far
    field and history), but each panel is solved as a correction to the m solution interpolated
    at its nodes: the residual there is the small difference of the two orders, so the
    correction is needed to 1 % only (:meth:`StiffSolver.correct`: usually one preconditioned
    step and one check product, with the preconditioner of the m solve), where a separate solve
    to full accuracy cost as much as the m solve itself. Arguments as for :func:`solve`.

    Example (the same scalar stand-in as the module example):
        >>> import numpy as np
        >>> class Const:
        ...     basis = np.ones((1, 1, 1, 1))
        ...     def weights(self, t, s):
        ...         return np.full((np.size(t), 1), 2.0)
        >>> hi, lo = solve_pair(Const(), np.array([1.0]), np.array([0.0, 1.0, 2.0]), m=6)
        >>> exact = 1 - np.exp(-4.0)
        >>> e_hi, e_lo = (abs(s.predict(np.array([2.0]))[0, 0] - exact) for s in (hi, lo))
        >>> bool(e_hi < e_lo < 1e-5), lo.m
        (True, 4)
    """
    return _run(ck, Y, edges, m, m - 2 if m_lo is None else m_lo, n_far, lag, basis)


def _run(ck, Y, edges, m, m_lo, n_far, lag, basis):
    from threadpoolctl import threadpool_limits

    edges = np.asarray(edges, float)
    with threadpool_limits(limits=1, user_api="blas"):
        if callable(Y):
            return _solve(ck, Y, edges, m, m_lo, n_far, lag, basis)
        xp = _namespace(ck.basis)
        Y = _on(xp, Y, ck.basis)
        sols = _solve(ck, Y if Y.ndim == 2 else xp.expand_dims(Y, axis=1), edges, m, m_lo, n_far, lag, basis)
        for sol in sols:
            sol.vector = Y.ndim == 1
        return sols


class _Order:
    """One collocation order in the panel loop of :func:`_solve`: its :class:`Solution`, nodes,
    far-field rule and near-field templates."""

    def __init__(self, ck, Y, edges, m, n_far, lag, P, K, like):
        self.ck, self.m, self.c = ck, m, radau_nodes(m)
        self.xp, dev = _namespace(like), _device(like)          # the namespace and device of the basis
        self.xg, self.wg = gauss(n_far or max(m + 2, 10))
        self.Lg = _on(self.xp, lagrange(self.c, self.xg), like)
        zeros = lambda *shape: self.xp.zeros(shape, dtype=self.xp.float64, device=dev)  # noqa: E731
        self.sol = Solution(ck, Y, edges, m, zeros(edges.size - 1, m, P, K), np.zeros(0), np.zeros(0),
                            np.zeros(0, int), zeros(0, P, K), lag or LagOptions())
        self.templates = {}

    def system(self, p):
        """Panel p's collocation times, own-panel weights G (r, m, m) and the history Z (m, r, P, K)
        of the panels solved before it."""
        sol, m, edges, xp = self.sol, self.m, self.sol.edges, self.xp
        P, K = sol.U.shape[2:]
        a, h = edges[p], edges[p + 1] - edges[p]
        targets = a + self.c * h
        ratio = 0.0 if p == 0 else (edges[p] - edges[p - 1]) / h
        key = round(ratio, 10)
        if key not in self.templates:
            self.templates[key] = _template(self.c, ratio, sol.lag)
        I, x, w, prev, L = self.templates[key]
        beta = self.ck.weights(targets[I], a + h * x) * (h * w)[:, None]     # near nodes, (nq, r)
        E = (I[None, :] == np.arange(m)[:, None]).astype(float)             # (m, nq) target one-hot
        Z = _far(sol, targets, p)
        if p > 0:   # the previous panel's near nodes contracted on the host first: (m, r, m), then one product
            near = np.matmul(E[:, None, prev] * beta[prev].T[None], L[prev])
            Z += xp.reshape(xp.matmul(_on(xp, near, Z), xp.reshape(sol.U[p - 1, ...], (m, P * K))), (m, -1, P, K))
        G = np.matmul(E[:, None, ~prev] * beta[~prev].T[None], L[~prev]).transpose(1, 0, 2)
        return targets, _on(xp, G, Z), Z

    def store(self, p, U):
        """Panel p's solution values U (m, P, K) and its far-field points."""
        sol, xp = self.sol, self.xp
        a, h = sol.edges[p], sol.edges[p + 1] - sol.edges[p]
        P, K = U.shape[1:]
        sol.U[p, ...] = U
        sol.far_s = np.concatenate([sol.far_s, a + self.xg * h])
        sol.far_w = np.concatenate([sol.far_w, self.wg * h])
        sol.far_panel = np.concatenate([sol.far_panel, np.full(self.xg.size, p)])
        sol.far_u = xp.concat([sol.far_u, xp.reshape(self.Lg @ xp.reshape(U, (self.m, P * K)), (-1, P, K))], axis=0)
        if hasattr(self.ck, "source_table"):
            src = self.ck.source_table(a + self.xg * h)
            sol.far_src = src if sol.far_src is None else np.concatenate([sol.far_src, src])


def _solve(ck, Y, edges, m, m_lo, n_far, lag, basis) -> tuple[Solution, ...]:
    xp = _namespace(ck.basis)
    rhs = Y if callable(Y) else (lambda times: xp.broadcast_to(Y, (len(times),) + tuple(Y.shape)))
    P, K = Y(edges[:1]).shape[1:] if callable(Y) else Y.shape
    Btr = ck.basis[:, 0, :P, :]                               # a view: the basis is never copied
    stiff = StiffSolver(Btr, basis=basis)
    hi = _Order(ck, Y, edges, m, n_far, lag, P, K, Btr)
    lo = None if m_lo is None else _Order(ck, Y, edges, m_lo, n_far, lag, P, K, Btr)
    to_lo = None if lo is None else _on(xp, lagrange(hi.c, lo.c), Btr)
    for p in range(edges.size - 1):
        targets, G, Z = hi.system(p)
        b = xp.reshape(rhs(targets) - _apply(Btr, Z), (m * P, K))
        U = xp.reshape(stiff.solve(G, b), (m, P, K))
        hi.store(p, U)
        if lo is None:
            continue
        # embedded order: its residual at the m solution interpolated to its nodes, one product for
        # history and own panel, then a 1 % correction
        t_lo, G_lo, Z_lo = lo.system(p)
        x0 = xp.reshape(to_lo @ xp.reshape(U, (m, P * K)), (m_lo, P, K))
        Z_lo += _einsum(xp, "kab,bpc->akpc", G_lo, x0)
        b_lo = rhs(t_lo)
        res = xp.reshape(b_lo - x0 - _apply(Btr, Z_lo), (m_lo * P, K))
        d = stiff.correct(G_lo, res, stiff.tol * float(xp.max(xp.abs(b_lo))))
        lo.store(p, x0 + xp.reshape(d, (m_lo, P, K)))
    for order in (hi, lo):
        if order is not None:
            order.sol.stats = stiff.stats
    return (hi.sol,) if lo is None else (hi.sol, lo.sol)
