"""Panel meshes and quadrature rules for the Volterra solver (docs/numerics.md §6.1).

* :func:`radau_nodes` -- Radau IIA collocation points on (0, 1] (last point 1).
* :func:`gauss` -- Gauss-Legendre rule on [0, 1].
* :func:`lagrange` -- Lagrange basis of a node set evaluated at points.
* :func:`panel_mesh` -- multi-scale mesh: geometric panels from ~1e-3/lambda_max (this also
  grades towards t = 0 for the t^{3/2} start-up term of kinked activations), uniform panels of
  width ~ 1/gamma, then slowly growing panels while the predictor relaxes to equilibrium.
* :func:`lag_rule` -- history quadrature on [a, t] graded geometrically in the lag t - s
  towards the diagonal, in the variable v = sqrt(t - s): the same-input kernel is
  A + B sqrt(t - s) with A, B analytic, so the integrand is analytic in v (docs/numerics.md
  §3), and the grading resolves nearly collinear inputs (singularity at lag
  ~ (1 - rho0) / gamma).

Example:
    >>> import numpy as np
    >>> c = radau_nodes(3)
    >>> bool(np.isclose(c[-1], 1.0)), bool(np.allclose(c, [(4 - 6**0.5) / 10, (4 + 6**0.5) / 10, 1]))
    (True, True)
    >>> s, w = lag_rule(2.0, 0.0, [], n=8, ratio=4.0, levels=3)
    >>> round(float(np.sum(w * np.sqrt(2.0 - s))), 13)   # int_0^2 sqrt(2 - s) ds = (2/3) 2^{3/2}
    1.8856180831641
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=None)
def radau_nodes(m: int) -> np.ndarray:
    """Radau IIA points c_1 < ... < c_m = 1: zeros of P_m(2c - 1) - P_{m-1}(2c - 1)."""
    coef = np.zeros(m + 1)
    coef[m], coef[m - 1] = 1.0, -1.0
    x = np.sort(np.real(np.polynomial.legendre.legroots(coef)))
    x[-1] = 1.0
    return (x + 1) / 2


@lru_cache(maxsize=None)
def gauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


def lagrange(nodes: np.ndarray, x) -> np.ndarray:
    """(len(x), len(nodes)) values L_j(x_i) of the Lagrange basis on ``nodes``."""
    x = np.asarray(x, float).reshape(-1, 1)
    nodes = np.asarray(nodes, float)
    diff = x - nodes[None, :]
    out = np.ones((x.shape[0], nodes.size))
    for j in range(nodes.size):
        others = np.delete(np.arange(nodes.size), j)
        out[:, j] = np.prod(diff[:, others] / (nodes[j] - nodes[others]), axis=1)
    return out


def panel_mesh(t_end: float, lam_max: float, gamma: float, *, ratio: float = 1.7,
               start: float = 1e-3, late_width: float = 1.0, grow_after: float = 4.0,
               late_ratio: float = 1.3) -> np.ndarray:
    """Panel edges 0 = e_0 < ... < e_N = t_end.

    Geometric panels (``ratio``) from ``start / lam_max`` until they are ``late_width / gamma``
    wide; then panels of that width up to ``grow_after / gamma``; beyond, where the predictor
    relaxes to equilibrium, widths grow by ``late_ratio`` per panel.

    Example:
        >>> e = panel_mesh(3000.0, 1.5, 0.01)
        >>> len(e) - 1, float(e[1] * 1.5), float(e[-1])
        (35, 0.001, 3000.0)
    """
    t_end = float(t_end)
    edges = [0.0, min(start / lam_max, t_end)]
    cap = late_width / gamma if gamma > 0 else np.inf
    width = edges[-1]
    while edges[-1] < t_end:
        if width < cap:
            width = min(edges[-1] * (ratio - 1), cap)
        elif edges[-1] >= grow_after / gamma:
            width *= late_ratio
        nxt = edges[-1] + width
        edges.append(t_end if nxt > t_end - 0.25 * width else nxt)
    return np.array(edges)


def lag_rule(t: float, a: float, breaks, *, n: int, ratio: float, levels: int):
    """Quadrature nodes s and weights on [a, t] for integrands analytic in sqrt(t - s).

    Sub-intervals in the lag tau = t - s: geometric ``tau_max / ratio^k`` (k = 1..levels)
    and the lags of the interior ``breaks`` (panel edges where the integrand jumps); on each,
    ``n``-point Gauss-Legendre in v = sqrt(tau).
    """
    ell = t - a
    lags = [ell * ratio ** -k for k in range(1, levels + 1)]
    lags += [t - b for b in breaks if a < b < t]
    lags = np.unique(np.concatenate([[0.0, ell], np.clip(lags, 0.0, ell)]))
    x, w = gauss(n)
    lo, hi = np.sqrt(lags[:-1])[:, None], np.sqrt(lags[1:])[:, None]
    v = lo + (hi - lo) * x[None, :]
    weights = 2 * v * (hi - lo) * w[None, :]
    return (t - v * v).ravel(), weights.ravel()


def graded_rule(edges, upper: float, sing: float, *, n: int = 12, ratio: float = 4.0, levels: int = 3):
    """Quadrature on [0, upper] following the panels ``edges``, graded towards ``sing``.

    Panels at least one width away from ``sing`` get ``n``-point Gauss-Legendre; the others
    are split at ``sing`` and graded geometrically in the distance |s - sing|, with Gauss in
    v = sqrt(|s - sing|) (integrands analytic in sqrt|s - sing|, e.g. K(t_w, s) at s = t_w).

    Returns (s, weights, panel index).

    Example:
        >>> import numpy as np
        >>> s, w, _ = graded_rule(np.array([0.0, 1.0, 3.0]), 2.5, 2.0)
        >>> round(float(np.sum(w * np.sqrt(np.abs(s - 2.0)))), 12)  # (2/3)(2^{3/2} + 0.5^{3/2})
        2.12132034356
    """
    x, wg = gauss(n)
    S, W, Pn = [], [], []
    for p, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        if a >= upper:
            break
        b = min(b, upper)
        pieces = [(a, b)]
        if a < sing < b:
            pieces = [(a, sing), (sing, b)]
        for lo, hi in pieces:
            d_lo, d_hi = abs(sing - lo), abs(sing - hi)
            near, far = min(d_lo, d_hi), max(d_lo, d_hi)
            if near >= hi - lo:
                s, w = lo + (hi - lo) * x, (hi - lo) * wg
            else:
                lags = np.unique(np.concatenate([[near, far], near + (far - near) * ratio ** -np.arange(1, levels + 1.0)]))
                vlo, vhi = np.sqrt(lags[:-1])[:, None], np.sqrt(lags[1:])[:, None]
                v = vlo + (vhi - vlo) * x[None, :]
                w = (2 * v * (vhi - vlo) * wg[None, :]).ravel()
                sign = 1.0 if hi <= sing else -1.0
                s = (sing - sign * v * v).ravel()
            S.append(s)
            W.append(w)
            Pn.append(np.full(s.size, p))
    if not S:
        return np.zeros(0), np.zeros(0), np.zeros(0, int)
    return np.concatenate(S), np.concatenate(W), np.concatenate(Pn)
