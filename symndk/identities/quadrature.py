"""Independent 2-D Gaussian quadrature in polar coordinates (mpmath), for checking dual kernels.

With (u, v) = (sqrt(q1) z1, sqrt(q2) (rho z1 + sqrt(1 - rho^2) z2)) and z = r (cos th, sin th),

    E[g(u) h(v)] = 1/(2 pi) int_0^{2 pi} d th int_0^inf r exp(-r^2/2) g(u) h(v) dr.

Kinks of g and h sit at u = 0 or v = 0, i.e. on rays th = pi/2, 3 pi/2 and th = -asin(rho) (+ pi);
the angular integral is split there, so on every sector the integrand is analytic and Gauss-Legendre
converges exponentially; the radial integral is tanh-sinh on [0, inf).  Nothing here uses the
closed forms or Price's theorem.

Example:
    >>> import mpmath as mp
    >>> with mp.workdps(20):
    ...     v = gaussian_expectation_2d(lambda u: max(u, 0), lambda v: max(v, 0), 1, 1, 0)
    >>> mp.nstr(v, 12)  # E[relu u] E[relu v] = 1/(2 pi)
    '0.159154943092'
"""
from __future__ import annotations

from functools import lru_cache

import mpmath as mp
import sympy as sp
from mpmath.calculus.quadrature import GaussLegendre

from symndk.spec.activations import X

_MODULES = [{"Heaviside": lambda x, h0=0.5: mp.mpf(1) if x > 0 else (mp.mpf(0) if x < 0 else mp.mpf(h0)),
             "DiracDelta": lambda x: mp.mpf(0), "sign": mp.sign, "Max": max, "Min": min}, "mpmath"]


def numeric(expr):
    """phi(x) as an mpmath callable (Heaviside, sign, Max, Min supported)."""
    return sp.lambdify(X, expr, modules=_MODULES)


@lru_cache(maxsize=None)
def _gl_nodes(degree: int, prec: int):
    return GaussLegendre(mp.mp).calc_nodes(degree, prec)


def _rule(a, b, degree):
    """Gauss-Legendre nodes and weights (3 * 2**(degree - 1) of them) on [a, b]."""
    half, mid = (b - a) / 2, (b + a) / 2
    return [(mid + half * x, half * w) for x, w in _gl_nodes(degree, mp.mp.prec + 20)]


#: radial panels: exp(-r^2/2) r^7 < 1e-34 beyond r = 14, enough for 30 digits with cubic growth
R_PANELS = (0, 3.5, 7, 10.5, 14)


def gaussian_expectation_2d(g, h, q1, q2, c, degree: int = 5):
    """E[g(u) h(v)] for a centred Gaussian pair (Var q1, q2; Cov c), at the working precision."""
    q1, q2, c = mp.mpmathify(q1), mp.mpmathify(q2), mp.mpmathify(c)
    rho = c / mp.sqrt(q1 * q2)
    srho = mp.sqrt(1 - rho**2)
    a1, a2 = mp.sqrt(q1), mp.sqrt(q2)
    cuts = sorted({mp.pi / 2, 3 * mp.pi / 2, (-mp.asin(rho)) % (2 * mp.pi), (mp.pi - mp.asin(rho)) % (2 * mp.pi)})
    sectors = [mp.mpf(0), *[x for x in cuts if 0 < x < 2 * mp.pi], 2 * mp.pi]
    panels = [mp.mpf(r) for r in R_PANELS]
    tiny = mp.mpf(10) ** (-mp.mp.dps - 10)
    radial = [(r, w * r * mp.exp(-r * r / 2)) for a, b in zip(panels, panels[1:]) for r, w in _rule(a, b, degree)]
    radial = [(r, w) for r, w in radial if w > tiny]
    total = mp.mpf(0)
    for a, b in zip(sectors, sectors[1:]):
        for th, wt in _rule(a, b, degree):
            cu, cv = a1 * mp.cos(th), a2 * (rho * mp.cos(th) + srho * mp.sin(th))
            total += wt * mp.fsum(w * g(r * cu) * h(r * cv) for r, w in radial)
    return total / (2 * mp.pi)
