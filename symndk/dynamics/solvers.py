"""Solvers on a prebuilt two-time kernel: trajectories, closed forms, equilibria, drift, correlation.

Inputs are validated once upstream (:class:`symndk.model.NDK`); here every function takes a
:class:`~symndk.dynamics.twotime.TwoTimeKernel` (rows [X_train; X_test] x columns X_train) and the
targets, and returns arrays over all rows.

* :func:`trajectory` -- fbar_train(t), fbar(x, t) from the Volterra equations of docs/theory.md §5
  (compressed kernel + Radau IIA panel collocation), with an error estimate.
* :func:`ntk_flow`, :func:`equilibrium` -- the closed forms of §5/§6; :func:`psd_solve` refuses
  singular kernel matrices with one clear error.
* :func:`drift` -- §7, general t0; :func:`drift_equilibrium` -- the equilibrium-lag formula and
  (lag = inf) the decorrelated limit with :func:`kbar`.
* :func:`temporal_correlation` -- §8, g(x; t_a, t_w).

Example (ReLU, L = 2: the trajectory approaches the NNGP equilibrium):
    >>> import numpy as np
    >>> X = np.eye(3) * np.sqrt(3)
    >>> y = np.array([1.0, -1.0, 1.0])
    >>> k = TwoTimeKernel(X, X[:1], "relu", 2, 0.5, 1.0, 0.5)
    >>> train, test, est, info = trajectory(k, y, np.array([0.0, 1.0, 200.0]), 1e-10, 1e-12)
    >>> train.shape, test.shape, est < 1e-9
    ((3, 3), (3, 1), True)
    >>> stationary = TwoTimeKernel(X, X[:1], "relu", 2, 1.0, 1.0, 0.5).with_channels("nngp")
    >>> eq_train, eq_test = equilibrium(stationary.block(0.0, 0.0), y, 0.5, "NNGP kernel")
    >>> bool(np.allclose(test[-1], eq_test, atol=1e-9))
    True
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from symndk.errors import SymndkError, check_finite
from symndk.dynamics.compress import collinearity, tabulate
from symndk.dynamics.mesh import graded_rule, panel_mesh
from symndk.runtime.recursion import prior_C
from symndk.dynamics.twotime import TwoTimeKernel
from symndk.dynamics.volterra import LagOptions, solve_pair


# ----------------------------------------------------------------------------- closed forms

def psd_solve(A, b, what: str, ridge: float = 0.0):
    """Solve (A + ridge I) x = b for a symmetric PSD kernel matrix A (eigendecomposition).

    Refuses, with one :class:`SymndkError` line, a matrix that is singular to double precision
    (duplicated or nearly collinear training inputs) instead of returning garbage.
    """
    A = check_finite(f"the {what}", (A + A.T) / 2)
    w, V = np.linalg.eigh(A)
    w = w + ridge
    scale = max(float(np.max(np.abs(w))), 1e-300)
    if float(np.min(w)) <= 1e-13 * scale:
        cond = np.inf if float(np.min(w)) <= 0 else scale / float(np.min(w))
        raise SymndkError(f"the {what} of the training inputs is singular to double precision (condition "
                          f"number {cond:.1e}): remove duplicated or nearly collinear training inputs"
                          + ("" if ridge else ", or use T > 0 (the NNGP equilibrium is regularised by gamma)"))
    return V @ ((V.T @ b) / (w if b.ndim == 1 else w[:, None]))


def ntk_flow(K, y, tt):
    """Gradient-driven phase (docs/theory.md §5) from the NTK block K = [K_train; K_test] (R, P):
    train (I - e^{-K t}) Y and test k^T K^{-1} (I - e^{-K t}) Y at times ``tt``; y (P,) gives
    (n, P), (n, Q), y (P, K) gives (n, P, K), (n, Q, K) (one eigendecomposition for all columns)."""
    P = K.shape[1]
    check_finite("the NTK", K)
    lam, V = np.linalg.eigh((K[:P] + K[:P].T) / 2)
    lam = np.maximum(lam, 0.0)
    decay = -np.expm1(-np.outer(tt, lam))                                  # (n, P)
    ratio = np.where(lam > 0, decay / np.where(lam > 0, lam, 1.0), tt[:, None])   # (1 - e^{-lam t}) / lam
    KV = K[P:] @ V
    if y.ndim == 2:
        cols = [ntk_flow_columns(decay, ratio, V, KV, V.T @ y[:, k]) for k in range(y.shape[1])]
        return np.stack([c[0] for c in cols], axis=-1), np.stack([c[1] for c in cols], axis=-1)
    return ntk_flow_columns(decay, ratio, V, KV, V.T @ y)


def ntk_flow_columns(decay, ratio, V, KV, yv):
    """One target column of :func:`ntk_flow` in the NTK eigenbasis."""
    return (decay * yv) @ V.T, (ratio * yv) @ KV.T


def equilibrium(K, y, ridge, what):
    """k^T (K + ridge I)^{-1} Y for the block K = [K_train; K_test]: (train, test)."""
    P = K.shape[1]
    alpha = psd_solve(K[:P], y, what, ridge)
    return K[:P] @ alpha, K[P:] @ alpha


# ----------------------------------------------------------------------------- Volterra

def _lag_options(kernel, edges, ratio=4.0, gamma=None):
    """Near-field grading deep enough, in the widest near field, to resolve both the branch point
    of the most collinear input pair, at lag ~ (1 - rho0) / gamma from the diagonal, and the decay
    e^{-gamma (t - s)} of the kernel itself (lag 1/gamma): on long horizons the late panels are
    many times 1/gamma wide, and a grading capped short of that scale integrated the decay with
    too few nodes (t = 1e8, gamma = 100: error 4.6e-10 against an estimate of 4e-16)."""
    tau_c = min(collinearity(kernel), 0.25) / (kernel.gamma if gamma is None else gamma)
    ell = 2.0 * float(np.max(np.diff(edges)))
    levels = int(np.clip(np.ceil(np.log(ell / tau_c) / np.log(ratio)) + 1, 3, 60))
    return LagOptions(ratio=ratio, levels=levels)


def ntk_eigh(kernel):
    """Eigenvalues and eigenvectors of the symmetric part of the training NTK block K(0, 0):
    the stiffest rate of the mesh, the panel solver's preconditioner basis and the plateau
    coefficients of :func:`_coefficient_scale`, from one decomposition. Returns (eigenvalues,
    eigenvectors, max |K(0, 0)|)."""
    K0 = check_finite("the NTK", kernel.block(0.0, 0.0)[:kernel.P])
    big = float(np.max(np.abs(K0)))
    K0 += K0.T
    K0 /= 2
    return np.linalg.eigh(K0) + (big,)


def solve_trajectory(kernel, y, t_end, rtol, atol, m, max_refine, extra_times=(), check_times=None, clock=None,
                     eig=None):
    """Adaptive solve on [0, t_end]: solve with m and (embedded, :func:`solve_pair`) m - 2 Radau
    points on the same mesh, compare at the panel ends and ``check_times``, split the panels whose
    collocation values disagree by more than the tolerance. Returns (solution, m - 2 solution, info,
    both solutions' predictors at ``check_times`` (None without them)).

    ``clock`` (:class:`~symndk.dynamics.schedule.Clock`): a T(t) / eta(t) schedule; ``kernel`` is
    then the kernel of the reference network (gamma = kernel.gamma), compressed over the clock
    range [0, G(t_end) / kernel.gamma] and read at the clock with the weight eta(s) (docs/theory.md §E);
    the mesh resolves the fastest rate max(eta gamma), the stiffest mode max(eta) lambda_max, the
    schedule's knots and equal steps of the clock. ``eig``: :func:`ntk_eigh` if the caller has it."""
    gamma = kernel.gamma if clock is None else clock.rate_max
    P = y.shape[0]
    u_end = t_end if clock is None else clock.G_end / kernel.gamma         # the end in kernel time
    ck = kernel.compressed(u_end)
    tk = tabulate(ck, u_end)
    if clock is not None:
        from symndk.dynamics.schedule import OnClock

        tk = OnClock(tk, clock, kernel.gamma)
    lam, V, _ = ntk_eigh(kernel) if eig is None else eig
    lam_max = float(lam[-1]) * (1.0 if clock is None else clock.eta_max)
    edges = panel_mesh(t_end, max(lam_max, 1e-300), max(gamma, 1e-300))
    edges = np.unique(np.concatenate([edges, [t for t in extra_times if 0 < t < t_end]]))
    if clock is not None:
        edges = clock.mesh(edges, t_end)
    tol = atol + rtol * max(1.0, float(np.max(np.abs(y))))
    for it in range(max_refine + 1):
        lag = _lag_options(kernel, edges, gamma=None if clock is None else max(gamma, 1e-300))
        sol, lo = solve_pair(tk, y, edges, m=m, lag=lag, basis=V)
        est = float(np.max(np.abs(sol.U[:, -1] - lo.U[:, -1])))          # panel ends (c_m = 1)
        checked = None if check_times is None else (sol.predict(check_times), lo.predict(check_times))
        if checked is not None:
            est = max(est, float(np.max(np.abs(checked[0] - checked[1]))))
        if est <= tol or it == max_refine:
            break
        nodes = sol.nodes
        panel = np.repeat(np.arange(edges.size - 1), m)
        diff = sol.U.reshape(nodes.size, -1) - lo.r_at(nodes, panel).reshape(nodes.size, -1)
        local = np.abs(diff).max(axis=1).reshape(-1, m).max(axis=1)
        bad = local > tol
        if not np.any(bad):
            bad = local >= np.max(local)
        edges = np.sort(np.concatenate([edges, (edges[:-1] + edges[1:])[bad] / 2]))
    info = {"panels": int(edges.size - 1), "nodes": int((edges.size - 1) * m), "m": m, "rank": ck.rank,
            "compression_error": ck.error, "table_error": tk.error, "refinements": it, "estimate": est,
            "stiff": sol.stats}
    return sol, lo, info, checked


def _coefficient_scale(kernel, y, t_end, eig):
    """max_k max|K| sum_j |alpha_jk| over the NTK plateau (K_0 alpha = y, from its eigendecomposition
    ``eig``) and the equilibrium ((G + T) alpha = y): how much a relative kernel error moves the
    outputs (pseudo-inverse below eps lambda_max, so a near-singular Gram gives a large, honest scale).
    The equilibrium matrix is Cholesky-solved when T is above that cut-off (it then keeps every
    mode, and gives the same coefficients at a fraction of an eigendecomposition's cost)."""
    P, ys = kernel.P, y.reshape(kernel.P, -1)
    eps = np.finfo(float).eps

    def pinv(w, V):                       # pseudo-inverse coefficients, modes below eps P lambda_max dropped
        keep = w > eps * max(w[-1], 1e-300) * P
        return V[:, keep] @ ((V[:, keep].T @ ys) / w[keep, None])

    out = eig[2] * float(np.max(np.abs(pinv(*eig[:2])).sum(axis=0)))
    K = kernel.with_channels("prior").block(t_end, t_end)[:P]
    K[np.diag_indices(P)] += kernel.T
    big = float(np.max(np.abs(K)))
    K += K.T
    K /= 2
    try:
        if kernel.T <= eps * P * float(np.max(np.abs(K).sum(axis=1))):     # lambda_max <= max row sum
            raise np.linalg.LinAlgError
        alpha = scipy.linalg.cho_solve(scipy.linalg.cho_factor(K, check_finite=False), ys, check_finite=False)
    except np.linalg.LinAlgError:
        alpha = pinv(*np.linalg.eigh(K))
    return max(out, big * float(np.max(np.abs(alpha).sum(axis=0))))


def trajectory(kernel, y, tt, rtol, atol, m=12, max_refine=2, clock=None):
    """Mean predictor of docs/theory.md §5 on the kernel's rows at times ``tt`` (T > 0).

    Returns ``(train (n, P), test (n, Q), error_estimate, info)``; the estimate is the largest
    |f_m - f_{m-2}| over entries and times plus the kernel compression error times the scale of y.
    Targets y (P, K) give (n, P, K), (n, Q, K): the K columns share the kernel, its compression,
    the mesh and every panel factorisation (one solve with K right-hand sides).
    ``clock``: a T(t) / eta(t) schedule (:func:`solve_trajectory`, docs/theory.md §E).
    """
    P = kernel.P
    t_end = float(tt[-1])
    if t_end == 0:
        return (np.zeros((tt.size, P) + y.shape[1:]), np.zeros((tt.size, kernel.R - P) + y.shape[1:]), 0.0,
                {"method": "volterra"})
    eig = ntk_eigh(kernel)
    _, _, info, (f, f_lo) = solve_trajectory(kernel, y, t_end, rtol, atol, m, max_refine, check_times=tt,
                                             clock=clock, eig=eig)
    # a kernel error dK moves an output by about |dK| |alpha|_1, alpha the coefficients of the plateau
    # and the equilibrium; |y| and |f| are floors (measured: abs L=1, P=4, |alpha|_1 = 17 made the
    # table error 4.6e-14 an output error 1.4e-13 against 3.4e-14 scaled by |y|)
    scale = max(float(np.max(np.abs(y))), float(np.max(np.abs(f))), _coefficient_scale(kernel, y, t_end, eig))
    # float64 times resolve lags t - s only to eps t: the kernel e^{-gamma (t - s)} ... then carries a
    # relative error up to gamma eps t_end, which the m vs m - 2 comparison cannot see (measured at
    # gamma t = 1e10: true error 2e-11 against an m vs m - 2 difference of 4e-16); with a schedule the
    # clock G(t_end) = int eta gamma plays the part of gamma t_end, and its fit error enters alike
    decay = kernel.gamma * t_end if clock is None else clock.G_end
    rounding = decay * (np.finfo(float).eps + (0.0 if clock is None else clock.error))
    # numerically evaluated dual kernels (issue 12): their error bound propagated through the recursion
    numeric = kernel.numeric_error(t_end) if hasattr(kernel, "numeric_error") else 0.0
    est = float(np.max(np.abs(f - f_lo)) + scale * (max(info["compression_error"], info["table_error"]) + rounding
                                                     + numeric))
    return f[:, :P], f[:, P:], est, dict(info, method="volterra, radau iia", numeric_kernel_error=numeric)


# ----------------------------------------------------------------------------- drift, correlation

def _parts(kernel, t_max):
    """The drift/correlation channels (K_L, Kdot_L Theta_{L-1}) compressed over [0, t_max]."""
    return kernel.with_channels("nngp", "cross").compressed(t_max)


def _rows_integral(parts, sol, t, upper, sing, w_nngp, w_cross):
    """int_0^upper [w_nngp(s) K_L(t, s) + w_cross(s) Kdot_L Theta_{L-1}(t, s)] r(s) ds, every row.

    Quadrature follows the solution's panels, graded towards ``sing`` (the same-input cusp);
    the kernels come from the compression ``parts`` where s <= t, from full blocks otherwise.
    """
    kernel = parts.kernel
    s, w, panel = graded_rule(sol.edges, upper, sing, n=sol.m + 4, levels=sol.lag.levels)
    out = np.zeros((kernel.R, sol.U.shape[-1]))
    if s.size == 0:
        return out[:, 0] if sol.vector else out
    r = sol.r_at(s, np.minimum(panel, sol.edges.size - 2))                       # (q, P, K)
    wn = np.zeros(s.size) if w_nngp is None else w_nngp(s)
    wx = np.zeros(s.size) if w_cross is None else w_cross(s)
    low = s <= t
    if np.any(low):
        beta = parts.weights(np.full(low.sum(), t), s[low])                      # (n, r)
        Zn = np.tensordot((beta * (w * wn)[low, None]).T, r[low], 1)             # (r, P, K)
        Zx = np.tensordot((beta * (w * wx)[low, None]).T, r[low], 1)
        out += np.einsum("kab,kbc->ac", parts.basis[:, 0], Zn) + np.einsum("kab,kbc->ac", parts.basis[:, 1], Zx)
    for i in np.nonzero(~low)[0]:
        Kn, Kx = kernel.block(t, s[i])
        out += w[i] * (wn[i] * Kn + wx[i] * Kx) @ r[i]
    return out[:, 0] if sol.vector else out


def drift(kernel, y, t0, tt, m=12):
    """Representational drift with the readout frozen at t0 (docs/theory.md §7), t >= t0:

    fbar_drift(x; t, t0) = int_0^{t0} [e^{-gamma (t0-s)} K_L(t,s) + e^{-gamma (t-s)} C(t0,s)
    Kdot_L Theta_{L-1}(t,s)] (Y - fbar_train(s)) ds, for every row (train and test): (n, R), info.
    """
    g = kernel.gamma
    sol, lo, info, _ = solve_trajectory(kernel, y, t0, 1e-10, 1e-12, m, 1)
    parts = _parts(kernel, float(tt[-1]))
    C = lambda s: prior_C(t0, s, kernel.sigma0_sq, kernel.sigma_sq, g, np.exp, expm1=np.expm1)  # noqa: E731
    out, est = _estimated(lambda sl: np.array([_rows_integral(parts, sl, t, t0, t, lambda s: np.exp(-g * (t0 - s)),
                                                                lambda s, t=t: np.exp(-g * (t - s)) * C(s))
                                                for t in tt]), sol, lo, parts, info, y)
    return out, dict(info, t0=t0, method="drift, general t0", estimate=est)


def _estimated(rows_of, sol, lo, parts, info, y):
    """``rows_of(sol)`` and its error estimate: the difference from the m - 2 solution ``lo`` (same
    mesh and quadrature) plus the compressions' relative errors times max(|y|, |rows|)."""
    out, out_lo = rows_of(sol), rows_of(lo)
    scale = max(float(np.max(np.abs(y))), float(np.max(np.abs(out))))
    kernel_error = max(parts.error, info["compression_error"], info["table_error"])
    return out, float(np.max(np.abs(out - out_lo)) + scale * kernel_error)


def drift_equilibrium(stationary, y, lags, T):
    """Readout frozen at equilibrium, lag tau = t - t0: k_L(tau)^T (K_GP + gamma I)^{-1} Y; tau = inf
    gives the decorrelated limit with Kbar = E[phi(u)] E[phi(v)] (docs/theory.md §7). ``stationary`` is
    the two-time kernel with sigma0 = sigma. Returns (n, R)."""
    P, g = stationary.P, T / stationary.sigma_sq
    nngp = stationary.with_channels("nngp")
    K_GP = nngp.block(0.0, 0.0)
    alpha = psd_solve(K_GP[:P], y, "NNGP kernel", g)
    return np.array([(kbar(stationary) if np.isinf(tau) else nngp.block(tau, 0.0)) @ alpha for tau in lags])


def kbar(kernel):
    """Kbar(x, x') = Fbar(q(x), q(x')), q = sigma^2 K_{L-1}(x, x) at the stationary variances."""
    s2 = kernel.sigma_sq
    q_rows, q_cols = kernel.norm_rows.copy(), kernel.norm_cols.copy()
    for _ in range(kernel.depth - 1):
        q_rows, q_cols = kernel.duals.V(s2 * q_rows), kernel.duals.V(s2 * q_cols)
    return np.broadcast_to(kernel.duals.Fbar(s2 * q_rows[:, None], s2 * q_cols[None, :]), kernel.gram.shape)


def temporal_correlation(kernel, y, t_a, t_w, m=12):
    """Readout/hidden temporal correlation g(x; t_a, t_w) of docs/theory.md §8 (g(x; t, t) = fbar(x, t)),
    for every row: (R,), info."""
    g = kernel.gamma
    t_max = max(t_a, t_w)
    if t_max == 0:
        return np.zeros((kernel.R,) + y.shape[1:]), {}
    sol, lo, info, _ = solve_trajectory(kernel, y, t_max, 1e-10, 1e-12, m, 1, extra_times=(t_a, t_w))
    parts = _parts(kernel, t_max)
    C_a = lambda s: prior_C(np.maximum(t_a, s), np.minimum(t_a, s), kernel.sigma0_sq, kernel.sigma_sq, g,  # noqa: E731
                            np.exp, expm1=np.expm1)

    def rows_of(sl):
        return (_rows_integral(parts, sl, t_w, t_a, t_w, lambda s: np.exp(-g * (t_a - s)), None)
                + _rows_integral(parts, sl, t_w, t_w, t_w, None, lambda s: np.exp(-g * (t_w - s)) * C_a(s)))

    out, est = _estimated(rows_of, sol, lo, parts, info, y)
    return out, dict(info, t_w=t_w, estimate=est)


# ----------------------------------------------------------------------------- covariance (THEORY_NEXT §A)

def _cov_out(S_train, S_test, full):
    """Marginal variances (and the full test covariance) from covariance matrices per time."""
    out = {"train_var": np.einsum("npp->np", S_train), "test_var": np.einsum("nqq->nq", S_test)}
    if full:
        out["test_cov"] = S_test
    return out


def ntk_flow_cov(K, G, tt, full=False):
    """Ensemble covariance of the gradient-flow predictor (T = 0; Lee et al. 2019), THEORY_NEXT §A.

    With f0 ~ N(0, G) at initialisation (G (R, R) on the rows [X_train; X_test], R = P + Q) and the
    NTK block K = [Theta_XX; Theta_xX] (R, P): delta f_X(t) = e^{-Theta t} f0_X and
    delta f_x(t) = f0_x - Theta_xX Theta^{-1} (I - e^{-Theta t}) f0_X, so
    Cov(t) = M(t) G M(t)^T with M = [[e^{-Theta t}, 0], [-A(t), I]], A = Theta_xX Theta^{-1} (I - e^{-Theta t}).
    Returns dict ``train_var`` (n, P), ``test_var`` (n, Q) and, with ``full``, ``test_cov`` (n, Q, Q).
    """
    P = K.shape[1]
    R = G.shape[0]
    lam, V = np.linalg.eigh((K[:P] + K[:P].T) / 2)
    lam = np.maximum(lam, 0.0)
    KV = K[P:] @ V
    S_tr, S_te = [], []
    for t in tt:
        e = np.exp(-lam * t)
        ratio = np.where(lam > 0, -np.expm1(-lam * t) / np.where(lam > 0, lam, 1.0), t)
        M = np.zeros((R, R))
        M[:P, :P] = (V * e) @ V.T
        M[P:, :P] = -(KV * ratio) @ V.T
        M[P:, P:] = np.eye(R - P)
        S = M @ G @ M.T
        S_tr.append(S[:P, :P])
        S_te.append(S[P:, P:])
    return _cov_out(np.array(S_tr).reshape(len(tt), P, P), np.array(S_te).reshape(len(tt), R - P, R - P), full)


def conditional_cov(G, P, ridge, full=False, what="NNGP kernel"):
    """G - G_{.X} (G_XX + ridge I)^{-1} G_{X.} on the rows [X_train; X_test] of G (R, R), one time."""
    B = psd_solve(G[:P, :P], G[:P], what, ridge)                         # (P, R)
    S = G - G[:, :P] @ B
    S = (S + S.T) / 2
    return _cov_out(S[None, :P, :P], S[None, P:, P:], full)
