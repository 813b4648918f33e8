"""Solvers on a prebuilt two-time kernel: trajectories, closed forms, equilibria, drift, correlation.

Inputs are validated once upstream (:class:`symndk.model.NDK`); here every function takes a
:class:`~symndk.dynamics.twotime.TwoTimeKernel` (rows [X_train; X_test] x columns X_train) and the
targets, and returns arrays over all rows.

* :func:`trajectory` -- fbar_train(t), fbar(x, t) from the Volterra equations of docs/theory.md §5
  (compressed kernel + Radau IIA panel collocation), with an error estimate.
* :func:`ntk_flow`, :func:`equilibrium` -- the closed forms of §5/§6; :func:`psd_solve` refuses
  singular kernel matrices with one clear error.
* :func:`drift` -- §7, general t0; :func:`drift_equilibrium` -- the equilibrium-lag formula and
  (lag = inf) the decorrelated limit, the same recursion at a lag where every prior correlation is 0.
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
from symndk.runtime.recursion import layer_priors
from symndk.dynamics.twotime import TwoTimeKernel
from symndk.backend.namespace import _device
from symndk.backend.select import to_numpy
from symndk.dynamics.volterra import LagOptions, _namespace, _on, plus_diagonal, solve_pair


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
    eigenvectors, max |K(0, 0)|); in the kernel's namespace (``backend``) the decomposition runs there and
    the P eigenvalues come back to the host."""
    K0 = kernel.block(0.0, 0.0)[:kernel.P, ...]
    xp = _namespace(K0)
    K0 = check_finite("the NTK", K0) if xp is np else K0            # a device block is checked by block()
    big = float(xp.max(xp.abs(K0)))
    K0 = K0 + K0.T                  # what NumPy's K0 += K0.T computes (a buffered copy of the overlap)
    K0 /= 2
    lam, V = xp.linalg.eigh(K0)
    return to_numpy(lam), V, big


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
    xp = _namespace(ck.basis)                # the basis's namespace: solutions and predictors stay there
    for it in range(max_refine + 1):
        lag = _lag_options(kernel, edges, gamma=None if clock is None else max(gamma, 1e-300))
        sol, lo = solve_pair(tk, y, edges, m=m, lag=lag, basis=V)
        est = float(xp.max(xp.abs(sol.U[:, -1, ...] - lo.U[:, -1, ...])))          # panel ends (c_m = 1)
        checked = None if check_times is None else (sol.predict(check_times), lo.predict(check_times))
        if checked is not None:
            est = max(est, float(xp.max(xp.abs(checked[0] - checked[1]))))
        if est <= tol or it == max_refine:
            break
        nodes = sol.nodes
        panel = np.repeat(np.arange(edges.size - 1), m)
        diff = xp.reshape(sol.U, (nodes.size, -1)) - xp.reshape(lo.r_at(nodes, panel), (nodes.size, -1))
        local = to_numpy(xp.max(xp.reshape(xp.max(xp.abs(diff), axis=1), (-1, m)), axis=1))   # one per panel
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
    mode, and gives the same coefficients at a fraction of an eigendecomposition's cost). In the kernel's
    namespace (``backend``) all of it runs there, a dense solve in place of Cholesky (the standard has no
    triangular solve); the eigenvalues ``eig[0]`` are host NumPy."""
    V0 = eig[1]
    xp, P = _namespace(V0), kernel.P
    ys = xp.reshape(_on(xp, y, V0), (P, -1))
    eps = np.finfo(float).eps

    def pinv(w, V):                       # pseudo-inverse coefficients, modes below eps P lambda_max dropped
        keep = np.nonzero(w > eps * max(w[-1], 1e-300) * P)[0]
        Vk = xp.take(V.T, xp.asarray(keep, device=_device(V)), axis=0).T  # NumPy: V[:, mask], F-ordered too
        return Vk @ ((Vk.T @ ys) / _on(xp, w[keep, None], V))

    def l1(a):                            # max over columns of sum |a|
        return float(xp.max(xp.sum(xp.abs(a), axis=0)))

    out = eig[2] * l1(pinv(*eig[:2]))
    K = plus_diagonal(kernel.with_channels("prior").block(t_end, t_end)[:P, ...], kernel.T)
    big = float(xp.max(xp.abs(K)))
    K = K + K.T                           # what NumPy's K += K.T computes (a buffered copy of the overlap)
    K /= 2
    try:
        if kernel.T <= eps * P * float(xp.max(xp.sum(xp.abs(K), axis=1))):     # lambda_max <= max row sum
            raise np.linalg.LinAlgError
        if xp is np:
            alpha = scipy.linalg.cho_solve(scipy.linalg.cho_factor(K, check_finite=False), ys, check_finite=False)
        else:
            alpha = xp.linalg.solve(K, ys)
    except np.linalg.LinAlgError:
        lam, V = xp.linalg.eigh(K)
        alpha = pinv(to_numpy(lam), V)
    return max(out, big * l1(alpha))


def trajectory(kernel, y, tt, rtol, atol, m=12, max_refine=2, clock=None):
    """Mean predictor of docs/theory.md §5 on the kernel's rows at times ``tt`` (T > 0).

    Returns ``(train (n, P), test (n, Q), error_estimate, info)``; the estimate is the largest
    |f_m - f_{m-2}| over entries and times plus the kernel compression error times the scale of y.
    Targets y (P, K) give (n, P, K), (n, Q, K): the K columns share the kernel, its compression,
    the mesh and every panel factorisation (one solve with K right-hand sides).
    ``clock``: a T(t) / eta(t) schedule (:func:`solve_trajectory`, docs/theory.md §E).
    A kernel of another array namespace (``TwoTimeKernel(..., backend=)``) runs all of it there (the NTK
    eigenbasis, the panel solves of :mod:`symndk.dynamics.volterra`, the predictors, the coefficient scale)
    and returns train and test as that namespace's arrays; ``y`` may be host NumPy (moved there once).
    """
    P = kernel.P
    t_end = float(tt[-1])
    if t_end == 0:
        return (np.zeros((tt.size, P) + y.shape[1:]), np.zeros((tt.size, kernel.R - P) + y.shape[1:]), 0.0,
                {"method": "volterra"})
    eig = ntk_eigh(kernel)
    xp = _namespace(eig[1])                  # the kernel's namespace (``backend``): y is moved there once
    y = _on(xp, y, eig[1])
    _, _, info, (f, f_lo) = solve_trajectory(kernel, y, t_end, rtol, atol, m, max_refine, check_times=tt,
                                             clock=clock, eig=eig)
    # a kernel error dK moves an output by about |dK| |alpha|_1, alpha the coefficients of the plateau
    # and the equilibrium; |y| and |f| are floors (measured: abs L=1, P=4, |alpha|_1 = 17 made the
    # table error 4.6e-14 an output error 1.4e-13 against 3.4e-14 scaled by |y|)
    scale = max(float(xp.max(xp.abs(y))), float(xp.max(xp.abs(f))), _coefficient_scale(kernel, y, t_end, eig))
    # float64 times resolve lags t - s only to eps t: the kernel e^{-gamma (t - s)} ... then carries a
    # relative error up to gamma eps t_end, which the m vs m - 2 comparison cannot see (measured at
    # gamma t = 1e10: true error 2e-11 against an m vs m - 2 difference of 4e-16); with a schedule the
    # clock G(t_end) = int eta gamma plays the part of gamma t_end, and its fit error enters alike
    decay = kernel.gamma * t_end if clock is None else clock.G_end
    rounding = decay * (np.finfo(float).eps + (0.0 if clock is None else clock.error))
    # numerically evaluated dual kernels (issue 12): their error bound propagated through the recursion
    numeric = kernel.numeric_error(t_end) if hasattr(kernel, "numeric_error") else 0.0
    est = float(xp.max(xp.abs(f - f_lo))) + float(scale * (max(info["compression_error"], info["table_error"])
                                                            + rounding + numeric))
    return f[:, :P, ...], f[:, P:, ...], est, dict(info, method="volterra, radau iia", numeric_kernel_error=numeric)


# ----------------------------------------------------------------------------- drift, correlation

def _parts(kernel, t_max):
    """The drift/correlation channels (K_L, Kdot_L Theta_{L-1}) compressed over [0, t_max]."""
    return kernel.with_channels("nngp", "cross").compressed(t_max)


def _readout(kernel, t, s):
    """The readout group's prior at (t, s) (either order), from the runtime prior
    (:func:`~symndk.runtime.recursion.layer_priors` on the last group, W_{L+1} = a and the output bias):
    ``(C_{L+1}(t, s), Bias)``, the Bias holding C_b,L+1 and the propagators e^{-gamma_{L+1} |t - s|},
    e^{-gamma_b,L+1 |t - s|} (its bias fields None without an output bias)."""
    last = lambda v: [v[-1] if isinstance(v, list) else v]  # noqa: E731
    bias = None if kernel.bias is None else (last(kernel.bias[0]), last(kernel.bias[1]))
    hi, lo = np.maximum(t, s), np.minimum(t, s)
    _, _, C_ts, _, groups = layer_priors(hi, lo, last(kernel.sigma0_sq), last(kernel.sigma_sq), kernel.T, np.exp,
                                         np.expm1, hi - lo, bias)
    return C_ts[0], groups[0]


def _frozen(kernel, t_a, t_w):
    """Weights (functions of s) of the integrand pairing the readout of time t_a with the hidden layers
    of time t_w (docs/theory.md §7, §8): K_L(t_w, s) takes e^{-gamma_{L+1} (t_a - s)}, the output bias
    e^{-gamma_b,L+1 (t_a - s)} (None without one), Kdot_L Theta_{L-1}(t_w, s) takes C_{L+1}(t_a, s)
    times the hidden propagator e^{-gamma (t_w - s)} where the channel does not carry it (the scalar
    bias-free recursion; with biases or per-layer variances Theta_{L-1} carries each group's own)."""
    hidden = kernel.bias is None and not kernel.layered
    w_nngp = lambda s: _readout(kernel, t_a, s)[1].prop_w  # noqa: E731
    w_bias = None if _readout(kernel, t_a, t_a)[1].prop_b is None else (lambda s: _readout(kernel, t_a, s)[1].prop_b)
    w_cross = lambda s: _readout(kernel, t_a, s)[0] * (np.exp(-kernel.gamma * (t_w - s)) if hidden else 1.0)  # noqa: E731
    return w_nngp, w_bias, w_cross


def _rows_integral(parts, sol, t, upper, sing, w_nngp, w_cross, w_bias=None):
    """int_0^upper [w_nngp(s) K_L(t, s) + w_cross(s) Kdot_L Theta_{L-1}(t, s) + w_bias(s) 1] r(s) ds, every row.

    Quadrature follows the solution's panels, graded towards ``sing`` (the same-input cusp);
    the kernels come from the compression ``parts`` where s <= t, from full blocks otherwise.
    ``w_bias``: the output bias, the same for every row (its kernel is 1).
    """
    kernel = parts.kernel
    s, w, panel = graded_rule(sol.edges, upper, sing, n=sol.m + 4, levels=sol.lag.levels)
    out = np.zeros((kernel.R, sol.U.shape[-1]))
    if s.size == 0:
        return out[:, 0] if sol.vector else out
    r = sol.r_at(s, np.minimum(panel, sol.edges.size - 2))                       # (q, P, K)
    wn = np.zeros(s.size) if w_nngp is None else w_nngp(s)
    wx = np.zeros(s.size) if w_cross is None else w_cross(s)
    if w_bias is not None:
        out += np.tensordot(w * w_bias(s), r.sum(axis=1), 1)[None, :]
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
    """Representational drift with the readout (a and the output bias) frozen at t0 (docs/theory.md §7),
    t >= t0:

    fbar_drift(x; t, t0) = int_0^{t0} [p_{L+1}(t0, s) K_L(t,s) + p_b,L+1(t0, s) + C_{L+1}(t0,s)
    Kdot_L Theta_{L-1}(t,s)] (Y - fbar_train(s)) ds, for every row (train and test): (n, R), info;
    p the readout group's propagators, Theta_{L-1} with the hidden groups' propagators over (s, t)
    (without biases and per-layer variances: p = e^{-gamma (t0-s)}, and Theta_{L-1} takes e^{-gamma (t-s)}).
    """
    sol, lo, info, _ = solve_trajectory(kernel, y, t0, 1e-10, 1e-12, m, 1)
    t_max = float(tt[-1])
    parts = _parts(kernel, t_max)

    def rows_of(sl):
        rows = []
        for t in tt:
            w_nngp, w_bias, w_cross = _frozen(kernel, t0, t)
            rows.append(_rows_integral(parts, sl, t, t0, t, w_nngp, w_cross, w_bias))
        return np.array(rows)

    out, est = _estimated(rows_of, sol, lo, parts, info, y, sum(kernel_floor(kernel, parts.kernel, t_max)))
    return out, dict(info, t0=t0, method="drift, general t0", estimate=est)


def kernel_floor(kernel, other, t_max):
    """(numeric, rounding): the relative kernel errors that an m vs m - 2 comparison cannot see, for the NDK
    ``kernel`` and the two-time kernel ``other`` of the other channels in the same estimate (drift,
    correlation, covariance): the numerically evaluated dual kernels (0 for closed forms,
    :meth:`~symndk.dynamics.twotime.TwoTimeKernel.numeric_error`), and float64 times resolving lags only to
    eps t, a relative error gamma t_max eps in e^{-gamma (t - s)} (as the mean's estimate; measured: drift
    at gamma t0 = 60 vs the equilibrium-lag formula differed by 2.9e-15 against an estimate of 2.86e-15
    without it).

    Example (closed-form ReLU: no numeric error; gamma t = 20):
        >>> k = TwoTimeKernel(np.eye(2), np.eye(2)[:0], "relu", 1, 1.0, 1.0, 0.5)
        >>> kernel_floor(k, k.with_channels("nngp"), 40.0)
        (0.0, 4.440892098500626e-15)
    """
    rounding = max(kernel.gamma, other.gamma) * t_max * float(np.finfo(float).eps)
    return max(kernel.numeric_error(t_max), other.numeric_error(t_max)), rounding


def _estimated(rows_of, sol, lo, parts, info, y, floor=0.0):
    """``rows_of(sol)`` and its error estimate: the difference from the m - 2 solution ``lo`` (same
    mesh and quadrature) plus the compressions' relative errors and ``floor`` (:func:`kernel_floor`)
    times max(|y|, |rows|)."""
    out, out_lo = rows_of(sol), rows_of(lo)
    scale = max(float(np.max(np.abs(y))), float(np.max(np.abs(out))))
    kernel_error = max(parts.error, info["compression_error"], info["table_error"]) + floor
    return out, float(np.max(np.abs(out - out_lo)) + scale * kernel_error)


#: gamma * lag at which every prior correlation e^{-gamma lag} has underflowed to exactly 0 in float64
DECORRELATED = 800.0


def drift_equilibrium(stationary, y, lags, T):
    """Readout (a and the output bias) frozen at equilibrium, lag tau = t - t0 (docs/theory.md §7):
    [sigma_{L+1}^2 k_L(tau) + sigma_b,L+1^2]^T (G + T I)^{-1} Y with G = sigma_{L+1}^2 K_L + sigma_b,L+1^2
    the stationary prior output covariance; without biases k_L(tau)^T (K_GP + gamma I)^{-1} Y. tau = inf
    gives the decorrelated limit Kbar = E[phi(u)] E[phi(v)]: the same recursion at a lag where every
    prior correlation is 0. ``stationary`` is the two-time kernel with sigma0 = sigma. Returns (n, R)."""
    P = stationary.P
    alpha = psd_solve(stationary.with_channels("prior").block(0.0, 0.0)[:P], y, "NNGP kernel", T)
    nngp = stationary.with_channels("nngp")
    C, group = _readout(stationary, 0.0, 0.0)
    Cb = 0.0 if group.C_ts is None else group.C_ts
    rates = [T / v for v in np.ravel([stationary.sigma_sq, *(() if stationary.bias is None else [stationary.bias[1]])])
             if v > 0]
    far = DECORRELATED / min(rates)
    return np.array([(C * nngp.block(far if np.isinf(tau) else tau, 0.0) + Cb) @ alpha for tau in lags])


def temporal_correlation(kernel, y, t_a, t_w, m=12):
    """Readout/hidden temporal correlation g(x; t_a, t_w) of docs/theory.md §8 (g(x; t, t) = fbar(x, t)):
    the readout group (a and the output bias) of time t_a with the hidden layers of time t_w,
    for every row: (R,), info."""
    t_max = max(t_a, t_w)
    if t_max == 0:
        return np.zeros((kernel.R,) + y.shape[1:]), {}
    sol, lo, info, _ = solve_trajectory(kernel, y, t_max, 1e-10, 1e-12, m, 1, extra_times=(t_a, t_w))
    parts = _parts(kernel, t_max)
    w_nngp, w_bias, w_cross = _frozen(kernel, t_a, t_w)

    def rows_of(sl):
        return (_rows_integral(parts, sl, t_w, t_a, t_w, w_nngp, None, w_bias)
                + _rows_integral(parts, sl, t_w, t_w, t_w, None, w_cross))

    out, est = _estimated(rows_of, sol, lo, parts, info, y, sum(kernel_floor(kernel, parts.kernel, t_max)))
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
