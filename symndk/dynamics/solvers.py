"""Public solver API: mean-predictor trajectories, closed forms, equilibria, drift, correlation.

* :func:`predict` -- fbar_train(t), fbar(x, t) from the Volterra equations of docs/theory.md
  section 5 (compressed kernel + Radau IIA panel collocation), with an error estimate.
* :func:`ntk_dynamics`, :func:`ntk_equilibrium`, :func:`nngp_equilibrium` -- section 5/6
  closed forms.
* :func:`drift` -- section 7, general t0 formula; :func:`drift_equilibrium` -- the
  equilibrium-lag formula and (lag = inf) the decorrelated limit with Kbar.
* :func:`temporal_correlation` -- section 8, g(x; t_a, t_w).

Example (ReLU, L = 2: the trajectory approaches the NNGP equilibrium):
    >>> import numpy as np, symndk
    >>> X = np.eye(3) * np.sqrt(3)
    >>> y = np.array([1.0, -1.0, 1.0])
    >>> res = symndk.predict(X, y, X[:1], activation="relu", depth=2, T=0.5, times=[0.0, 1.0, 200.0])
    >>> res.train.shape, res.test.shape, res.error_estimate < 1e-9
    ((3, 3), (3, 1), True)
    >>> eq = symndk.nngp_equilibrium(X, y, X[:1], activation="relu", depth=2, T=0.5)
    >>> bool(np.allclose(res.test[-1], eq.test, atol=1e-9))
    True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from symndk.errors import SymndkError
from symndk.dynamics.compress import collinearity, compress, tabulate
from symndk.dynamics.mesh import graded_rule, panel_mesh
from symndk.runtime.recursion import prior_C
from symndk.dynamics.twotime import TwoTimeKernel
from symndk.dynamics.volterra import LagOptions, solve


@dataclass
class Prediction:
    """Mean predictor on the training set (``train``, (n, P)) and test set (``test``, (n, Q))
    at ``times`` (n,); ``error_estimate`` bounds max |error| (absolute) over both."""

    times: np.ndarray
    train: np.ndarray
    test: np.ndarray
    error_estimate: float = 0.0
    info: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- validation

def _numeric(name, a):
    try:
        return np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise SymndkError(f"{name} must be an array of numbers") from None


def _check(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, times=None):
    X = _numeric("X_train", X_train)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise SymndkError(f"X_train must be a non-empty 2-D array (P, N0), got shape {X.shape}")
    y = _numeric("y_train", y_train)
    if y.ndim != 1 or y.size != X.shape[0]:
        raise SymndkError(f"y_train must have shape ({X.shape[0]},) to match X_train, got {y.shape}")
    Xt = np.zeros((0, X.shape[1])) if X_test is None else _numeric("X_test", X_test)
    if Xt.ndim == 1:
        Xt = Xt[None, :]
    if Xt.ndim != 2 or Xt.shape[1] != X.shape[1]:
        raise SymndkError(f"X_test must have shape (Q, {X.shape[1]}) to match X_train, got {Xt.shape}")
    for name, a in (("X_train", X), ("y_train", y), ("X_test", Xt)):
        if not np.all(np.isfinite(a)):
            raise SymndkError(f"{name} contains non-finite values")
    for name, a in (("X_train", X), ("X_test", Xt)):
        norms = np.einsum("ij,ij->i", a, a)
        if np.any(norms == 0):
            raise SymndkError(f"{name} row {int(np.argmax(norms == 0))} has zero norm (the kernels need |x| > 0)")
    if int(depth) != depth or depth < 1:
        raise SymndkError(f"depth must be a positive integer, got {depth!r}")
    for name, v in (("sigma0_sq", sigma0_sq), ("sigma_sq", sigma_sq), ("T", T)):
        if not np.isfinite(v) or v < 0:
            raise SymndkError(f"{name} must be finite and >= 0, got {v!r}")
    if sigma_sq == 0:
        raise SymndkError("sigma_sq must be > 0 (gamma = T / sigma_sq)")
    if sigma0_sq == 0:
        raise SymndkError("sigma0_sq = 0 is refused: the initial kernels vanish and the gradient phase is degenerate")
    from symndk.dynamics.twotime import load_duals

    load_duals(activation)          # unknown activation -> SymndkError from the registry
    if times is None:
        return X, y, Xt, None
    tt = np.atleast_1d(np.asarray(times, dtype=float))
    if tt.ndim != 1 or tt.size == 0:
        raise SymndkError("times must be a non-empty 1-D array")
    if not np.all(np.isfinite(tt)):
        raise SymndkError("times contains non-finite values")
    if np.any(tt < 0):
        raise SymndkError(f"times must be >= 0, got min {tt.min()!r}")
    if np.any(np.diff(tt) < 0):
        raise SymndkError("times must be sorted in increasing order")
    return X, y, Xt, tt


def _kernel(X, Xt, activation, depth, sigma0_sq, sigma_sq, T):
    return TwoTimeKernel(X, Xt, activation, depth, sigma0_sq, sigma_sq, T)


# ----------------------------------------------------------------------------- closed forms

def ntk_dynamics(X_train, y_train, X_test=None, *, times, activation="relu", depth=2, sigma0_sq=0.5,
                 sigma_sq=1.0, T=0.0) -> Prediction:
    """Gradient-driven phase (docs/theory.md §5): (I - e^{-K t}) Y and k^T K^{-1} (I - e^{-K t}) Y,
    K the NTK of the initialisation (C = sigma0^2). Exact for T = 0."""
    X, y, Xt, tt = _check(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, times)
    K = _kernel(X, Xt, activation, depth, sigma0_sq, sigma_sq, 0.0).block(0.0, 0.0)
    P = X.shape[0]
    lam, V = np.linalg.eigh((K[:P] + K[:P].T) / 2)
    lam = np.maximum(lam, 0.0)
    yv = V.T @ y
    decay = -np.expm1(-np.outer(tt, lam))                                  # (n, P)
    ratio = np.where(lam > 0, decay / np.where(lam > 0, lam, 1.0), tt[:, None])   # (1 - e^{-lam t}) / lam
    train = (decay * yv) @ V.T
    test = (ratio * yv) @ (K[P:] @ V).T
    return Prediction(tt, train, test, 0.0, {"method": "ntk closed form"})


def ntk_equilibrium(X_train, y_train, X_test=None, *, activation="relu", depth=2, sigma0_sq=0.5,
                    sigma_sq=1.0, T=0.0) -> Prediction:
    """NTK equilibrium k_NTK^T K_NTK^{-1} Y (train: Y)."""
    X, y, Xt, _ = _check(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T)
    K = _kernel(X, Xt, activation, depth, sigma0_sq, sigma_sq, 0.0).block(0.0, 0.0)
    P = X.shape[0]
    alpha = np.linalg.solve(K[:P], y)
    return Prediction(np.array([np.inf]), (K[:P] @ alpha)[None], (K[P:] @ alpha)[None], 0.0,
                      {"method": "ntk equilibrium"})


def _nngp(X, Xt, activation, depth, sigma_sq):
    return _kernel(X, Xt, activation, depth, sigma_sq, sigma_sq, 1.0).with_channels("nngp")


def nngp_equilibrium(X_train, y_train, X_test=None, *, activation="relu", depth=2, sigma0_sq=0.5,
                     sigma_sq=1.0, T=0.01) -> Prediction:
    """NNGP equilibrium k_GP^T (K_GP + gamma I)^{-1} Y, gamma = T / sigma^2 (docs/theory.md §6)."""
    X, y, Xt, _ = _check(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T)
    K = _nngp(X, Xt, activation, depth, sigma_sq).block(0.0, 0.0)
    P = X.shape[0]
    alpha = np.linalg.solve(K[:P] + (T / sigma_sq) * np.eye(P), y)
    return Prediction(np.array([np.inf]), (K[:P] @ alpha)[None], (K[P:] @ alpha)[None], 0.0,
                      {"method": "nngp equilibrium"})


# ----------------------------------------------------------------------------- Volterra

def _lag_options(kernel, edges, ratio=4.0):
    """Near-field grading deep enough to resolve the branch point of the most collinear input
    pair, at lag ~ (1 - rho0) / gamma from the diagonal, in the widest near field."""
    tau_c = collinearity(kernel) / kernel.gamma
    ell = 2.0 * float(np.max(np.diff(edges)))
    levels = int(np.clip(np.ceil(np.log(ell / tau_c) / np.log(ratio)) + 1, 3, 14))
    return LagOptions(ratio=ratio, levels=levels)


def _solve_trajectory(kernel, y, t_end, rtol, atol, m, max_refine, extra_times=(), check_times=None):
    """Adaptive solve on [0, t_end]: solve with m and m - 2 Radau points on the same mesh,
    compare at the panel ends and ``check_times``, split the panels whose collocation
    values disagree by more than the tolerance. Returns (solution, m - 2 solution, info)."""
    gamma = kernel.gamma
    P = y.size
    ck = compress(kernel, t_end)
    tk = tabulate(ck, t_end)
    K0 = kernel.block(0.0, 0.0)[:P]
    lam_max = float(np.max(np.linalg.eigvalsh((K0 + K0.T) / 2)))
    edges = panel_mesh(t_end, max(lam_max, 1e-300), gamma)
    edges = np.unique(np.concatenate([edges, [t for t in extra_times if 0 < t < t_end]]))
    tol = atol + rtol * max(1.0, float(np.max(np.abs(y))))
    for it in range(max_refine + 1):
        lag = _lag_options(kernel, edges)
        sol = solve(tk, y, edges, m=m, lag=lag)
        lo = solve(tk, y, edges, m=m - 2, lag=lag)
        est = float(np.max(np.abs(sol.U[:, -1] - lo.U[:, -1])))          # panel ends (c_m = 1)
        if check_times is not None:
            est = max(est, float(np.max(np.abs(sol.predict(check_times) - lo.predict(check_times)))))
        if est <= tol or it == max_refine:
            break
        nodes = sol.nodes
        panel = np.repeat(np.arange(edges.size - 1), m)
        local = np.abs(sol.U.reshape(-1, P) - lo.r_at(nodes, panel)).max(axis=1).reshape(-1, m).max(axis=1)
        bad = local > tol
        if not np.any(bad):
            bad = local >= np.max(local)
        edges = np.sort(np.concatenate([edges, (edges[:-1] + edges[1:])[bad] / 2]))
    info = {"panels": int(edges.size - 1), "nodes": int((edges.size - 1) * m), "m": m, "rank": ck.rank,
            "compression_error": ck.error, "table_error": tk.error, "refinements": it, "estimate": est,
            "stiff": sol.stats}
    return sol, lo, info


def predict(X_train, y_train, X_test=None, activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0,
            T=0.01, times=None, rtol=1e-10, atol=1e-12, *, m=12, max_refine=2) -> Prediction:
    """Mean predictor of the infinitely wide network under Langevin training (docs/theory.md §5).

    Args:
        X_train: (P, N0) training inputs; y_train: (P,) targets; X_test: (Q, N0) or None.
        activation, depth: registered activation name and number of hidden layers L.
        sigma0_sq, sigma_sq, T: initial weight variance, prior variance, temperature (T = 0:
            pure NTK dynamics, exact closed form).
        times: sorted output times >= 0.
        rtol, atol: tolerance on the training residual (relative to max |y|, absolute).
        m: Radau IIA points per panel (the error estimate compares with m - 2 on the same mesh).

    Returns:
        :class:`Prediction` with ``times``, ``train`` (n, P), ``test`` (n, Q),
        ``error_estimate`` (max over entries and times of |f_m - f_{m-2}|, plus the kernel
        compression error times the solution scale) and ``info``.
    """
    X, y, Xt, tt = _check(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T,
                          [0.0] if times is None else times)
    if T == 0:
        return ntk_dynamics(X, y, Xt, times=tt, activation=activation, depth=depth,
                            sigma0_sq=sigma0_sq, sigma_sq=sigma_sq, T=0.0)
    t_end = float(tt[-1])
    P = X.shape[0]
    if t_end == 0:
        return Prediction(tt, np.zeros((tt.size, P)), np.zeros((tt.size, Xt.shape[0])), 0.0, {})
    kernel = _kernel(X, Xt, activation, depth, sigma0_sq, sigma_sq, T)
    sol, lo, info = _solve_trajectory(kernel, y, t_end, rtol, atol, m, max_refine, check_times=tt)
    f, f_lo = sol.predict(tt), lo.predict(tt)
    scale = float(np.max(np.abs(y)))
    est = float(np.max(np.abs(f - f_lo))) + scale * max(info["compression_error"], info["table_error"])
    return Prediction(tt, f[:, :P], f[:, P:], est, info)


# ----------------------------------------------------------------------------- drift, correlation

def _parts(kernel, t_max):
    """The drift/correlation channels (K_L, Kdot_L Theta_{L-1}) compressed over [0, t_max]."""
    return compress(kernel.with_channels("nngp", "cross"), t_max)


def _rows_integral(parts, sol, t, upper, sing, w_nngp, w_cross):
    """int_0^upper [w_nngp(s) K_L(t, s) + w_cross(s) Kdot_L Theta_{L-1}(t, s)] r(s) ds, every row.

    Quadrature follows the solution's panels, graded towards ``sing`` (the same-input cusp);
    the kernels come from the compression ``parts`` where s <= t, from full blocks otherwise.
    """
    kernel = parts.kernel
    s, w, panel = graded_rule(sol.edges, upper, sing, n=sol.m + 4, levels=sol.lag.levels)
    out = np.zeros(kernel.R)
    if s.size == 0:
        return out
    r = sol.r_at(s, np.minimum(panel, sol.edges.size - 2))
    wn = np.zeros(s.size) if w_nngp is None else w_nngp(s)
    wx = np.zeros(s.size) if w_cross is None else w_cross(s)
    low = s <= t
    if np.any(low):
        beta = parts.weights(np.full(low.sum(), t), s[low])                      # (n, r)
        Zn = (beta * (w * wn)[low, None]).T @ r[low]                             # (r, P)
        Zx = (beta * (w * wx)[low, None]).T @ r[low]
        out += np.einsum("kab,kb->a", parts.basis[:, 0], Zn) + np.einsum("kab,kb->a", parts.basis[:, 1], Zx)
    for i in np.nonzero(~low)[0]:
        Kn, Kx = kernel.block(t, s[i])
        out += w[i] * (wn[i] * Kn + wx[i] * Kx) @ r[i]
    return out


def drift(X_train, y_train, X_test=None, *, t0, times, activation="relu", depth=2, sigma0_sq=0.5,
          sigma_sq=1.0, T=0.01, m=12) -> Prediction:
    """Representational drift with the readout frozen at t0 (docs/theory.md §7), t >= t0.

    fbar_drift(x; t, t0) = int_0^{t0} [e^{-gamma (t0-s)} K_L(t,s) + e^{-gamma (t-s)} C(t0,s)
    Kdot_L Theta_{L-1}(t,s)] (Y - fbar_train(s)) ds, for every row (train and test).
    """
    X, y, Xt, tt = _check(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, times)
    if not np.isfinite(t0) or t0 <= 0 or np.any(tt < t0):
        raise SymndkError(f"drift needs 0 < t0 <= times, got t0={t0!r}, min time {tt.min()!r}")
    kernel = _kernel(X, Xt, activation, depth, sigma0_sq, sigma_sq, T)
    g, P = kernel.gamma, X.shape[0]
    sol, _, info = _solve_trajectory(kernel, y, t0, 1e-10, 1e-12, m, 1)
    parts = _parts(kernel, float(tt[-1]))
    out = [_rows_integral(parts, sol, t, t0, t, lambda s: np.exp(-g * (t0 - s)),
                          lambda s, t=t: np.exp(-g * (t - s)) * prior_C(t0, s, sigma0_sq, sigma_sq, g, np.exp, expm1=np.expm1))
           for t in tt]
    out = np.array(out)
    return Prediction(tt, out[:, :P], out[:, P:], 0.0, dict(info, t0=t0, method="drift, general t0"))


def _stationary_nngp(X, Xt, activation, depth, sigma_sq, T, tau):
    return _kernel(X, Xt, activation, depth, sigma_sq, sigma_sq, T).with_channels("nngp").block(tau, 0.0)


def drift_equilibrium(X_train, y_train, X_test=None, *, lags, activation="relu", depth=2, sigma0_sq=0.5,
                      sigma_sq=1.0, T=0.01) -> Prediction:
    """Readout frozen at equilibrium, lag tau = t - t0: k_L(tau)^T (K_GP + gamma I)^{-1} Y;
    tau = inf gives the decorrelated limit with Kbar = E[phi(u)] E[phi(v)] (docs/theory.md §7)."""
    X, y, Xt, tt = _check(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T)
    lags = np.atleast_1d(np.asarray(lags, float))
    if np.any(np.isnan(lags)) or np.any(lags < 0):
        raise SymndkError("lags must be >= 0 (inf allowed)")
    P, g = X.shape[0], T / sigma_sq
    K_GP = _stationary_nngp(X, Xt, activation, depth, sigma_sq, T, 0.0)
    alpha = np.linalg.solve(K_GP[:P] + g * np.eye(P), y)
    rows = []
    for tau in lags:
        K = _kbar(X, Xt, activation, depth, sigma_sq) if np.isinf(tau) else \
            _stationary_nngp(X, Xt, activation, depth, sigma_sq, T, tau)
        rows.append(K @ alpha)
    rows = np.array(rows)
    return Prediction(lags, rows[:, :P], rows[:, P:], 0.0, {"method": "drift, equilibrium lag"})


def _kbar(X, Xt, activation, depth, sigma_sq):
    """Kbar(x, x') = Fbar(q(x), q(x')), q = sigma^2 K_{L-1}(x, x) stationary."""
    k = _kernel(X, Xt, activation, depth, sigma_sq, sigma_sq, 1.0)
    q_rows, q_cols = k.norm_rows.copy(), k.norm_cols.copy()
    for _ in range(depth - 1):
        q_rows, q_cols = k.duals.V(sigma_sq * q_rows), k.duals.V(sigma_sq * q_cols)
    return np.broadcast_to(k.duals.Fbar(sigma_sq * q_rows[:, None], sigma_sq * q_cols[None, :]), k.gram.shape)


def temporal_correlation(X_train, y_train, X_test=None, *, t_a, t_w, activation="relu", depth=2,
                         sigma0_sq=0.5, sigma_sq=1.0, T=0.01, m=12) -> Prediction:
    """Readout/hidden temporal correlation g(x; t_a, t_w) of docs/theory.md §8 (g(x; t, t) = fbar(x, t)).

    Returns a :class:`Prediction` with one row (times = [t_a]) for train and test inputs.
    """
    X, y, Xt, _ = _check(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, [t_a, t_w] if t_a <= t_w else [t_w, t_a])
    kernel = _kernel(X, Xt, activation, depth, sigma0_sq, sigma_sq, T)
    g, P = kernel.gamma, X.shape[0]
    t_max = max(t_a, t_w)
    if t_max == 0:
        return Prediction(np.array([t_a]), np.zeros((1, P)), np.zeros((1, Xt.shape[0])))
    sol, _, info = _solve_trajectory(kernel, y, t_max, 1e-10, 1e-12, m, 1, extra_times=(t_a, t_w))
    parts = _parts(kernel, t_max)
    C_a = lambda s: prior_C(np.maximum(t_a, s), np.minimum(t_a, s), sigma0_sq, sigma_sq, g, np.exp,
                                  expm1=np.expm1)
    part1 = _rows_integral(parts, sol, t_w, t_a, t_w, lambda s: np.exp(-g * (t_a - s)), None)
    part2 = _rows_integral(parts, sol, t_w, t_w, t_w, None, lambda s: np.exp(-g * (t_w - s)) * C_a(s))
    out = (part1 + part2)[None]
    return Prediction(np.array([t_a]), out[:, :P], out[:, P:], 0.0, dict(info, t_w=t_w))
