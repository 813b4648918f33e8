"""Panel meshes and quadrature rules for the Volterra solver (NUMERICS.md, "Discretisation").

* :func:`radau_nodes` -- Radau IIA collocation points on (0, 1] (last point 1).
* :func:`gauss` -- Gauss-Legendre rule on [0, 1].
* :func:`lagrange` -- Lagrange basis of a node set evaluated at points.
* :func:`panel_mesh` -- multi-scale mesh: geometric panels from ~1/lambda_max (graded further
  towards t = 0 for the t^{3/2} start-up term of kinked activations), then uniform panels of
  width ~ 1/gamma.
* :func:`lag_rule` -- history quadrature on [a, t] graded geometrically in the lag t - s
  towards the diagonal, in the variable v = sqrt(t - s): the same-input kernel is
  A + B sqrt(t - s) with A, B analytic, so the integrand is analytic in v (NUMERICS.md,
  property 3), and the grading resolves nearly collinear inputs (singularity at lag
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


def panel_mesh(t_end: float, lam_max: float, gamma: float, *, ratio: float = 2.0,
               start: float = 1e-4, late_width: float = 1.0, switch: float = 0.5) -> np.ndarray:
    """Panel edges 0 = e_0 < ... < e_N = t_end.

    Geometric panels (``ratio``) from ``start / lam_max`` up to ``switch / gamma``, then
    uniform panels no wider than ``late_width / gamma``.
    """
    t_end = float(t_end)
    edges = [0.0, min(start / lam_max, t_end)]
    t_switch = switch / gamma if gamma > 0 else np.inf
    while edges[-1] < min(t_switch, t_end):
        edges.append(min(edges[-1] * ratio, t_end))
    if edges[-1] < t_end:
        width = late_width / gamma
        n = int(np.ceil((t_end - edges[-1]) / width))
        edges.extend(np.linspace(edges[-1], t_end, n + 1)[1:])
    e = np.array(edges)
    if e.size > 2 and e[-1] - e[-2] < 0.25 * (e[-2] - e[-3]):   # merge a sliver at the end
        e = np.delete(e, -2)
    return e


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
