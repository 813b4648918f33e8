"""Identities of the dual kernels, per registered closed-form activation.

* ``price.<act>``: Price's theorem dF_phi/dc = F_phi' (F_phi' derived independently, as the
  dual kernel of phi'), with limit checks at rho -> +-1;
* ``quad.<act>.F`` / ``quad.<act>.Fdot``: closed forms against the independent polar 2-D
  quadrature of :mod:`symndk.identities.quadrature` at 30 digits;
* ``mean.<act>``: the mean E[phi(u)] against 1-D quadrature (40 digits);
* ``drift.odd_zero.<act>`` (odd phi) and ``drift.relu.closed_form``: the drift limit Kbar.

Example:
    >>> ids = [i.id for i in identities(["relu"])]
    >>> ids[:3]
    ['price.relu', 'quad.relu.F', 'quad.relu.Fdot']
"""
from __future__ import annotations

import mpmath as mp
import sympy as sp

from symndk.identities.engine import custom_identity, expr_identity, rel_residual, rng_for, sampled
from symndk.identities.quadrature import gaussian_expectation_2d, numeric
from symndk.spec.activations import get_activation, list_activations
from symndk.spec.dual import C, Q, Q1, Q2, dual_kernels


def closed_form_activations() -> list[str]:
    """Registered activations whose F and Fdot were derived in closed form."""
    out = []
    for name in list_activations():
        d = dual_kernels(get_activation(name))
        if d.F is not None and d.Fdot is not None:
            out.append(name)
    return out


def dual_point(rng):
    """A random (q1, q2, c) with |rho| <= 0.95."""
    q1, q2 = mp.mpf(0.2 + 2.3 * rng.random()), mp.mpf(0.2 + 2.3 * rng.random())
    rho = mp.mpf(-0.95 + 1.9 * rng.random())
    return {Q1: q1, Q2: q2, C: rho * mp.sqrt(q1 * q2)}


def rho_limits():
    """Limit points rho = +-(1 - eps), eps = 1e-25 and 1e-35 (built at the caller's precision)."""
    def at(sgn, eps):
        return lambda: {Q1: mp.mpf("0.7"), Q2: mp.mpf("1.3"), C: sgn * (1 - mp.mpf(eps)) * mp.sqrt(mp.mpf("0.91"))}
    return [at(sgn, eps) for sgn in (1, -1) for eps in ("1e-25", "1e-35")]


def _quad_identity(name, key, phi_expr, kernel):
    g = numeric(phi_expr)
    f = sp.lambdify((Q1, Q2, C), kernel, "mpmath")

    def check():
        rng = rng_for(f"quad.{name}.{key}")
        with mp.workdps(34):
            p = dual_point(rng)
            q1, q2, c = p[Q1], p[Q2], p[C]
            r = rel_residual(f(q1, q2, c), gaussian_expectation_2d(g, g, q1, q2, c))
        ok = r <= mp.mpf(10) ** -30
        return ("sampled" if ok else "failed"), float(r), f"polar Gauss-Legendre at q1={mp.nstr(q1, 6)}, q2={mp.nstr(q2, 6)}, c={mp.nstr(c, 6)}; 30 digits"

    what = "F_{\\phi}" if key == "F" else "F_{\\phi'}"
    return custom_identity(f"quad.{name}.{key}", f"{name}: closed-form {key} vs 2-D quadrature",
                           rf"{what} = {sp.latex(kernel)} \;\text{{vs quadrature}}", check)


def _mean_identity(name, phi_expr, mean):
    g = numeric(phi_expr)
    f = sp.lambdify(Q, mean, "mpmath")

    def evaluate(p):
        q = p[Q]
        pdf = lambda x: mp.exp(-x * x / (2 * q)) / mp.sqrt(2 * mp.pi * q)  # noqa: E731
        return f(q), mp.quad(lambda x: g(x) * pdf(x), [-mp.inf, 0, mp.inf])

    def check():
        rng = rng_for(f"mean.{name}")
        return sampled(evaluate, [{Q: mp.mpf(0.2 + 2.3 * rng.random())} for _ in range(2)])

    return custom_identity(f"mean.{name}", f"{name}: mean E[phi(u)] vs 1-D quadrature",
                           rf"E[\phi(u)] = {sp.latex(mean)}", check)


def identities(names=None):
    """Dual-kernel identities for the given (default: all closed-form) activations."""
    out = []
    for name in names or closed_form_activations():
        act = get_activation(name)
        d = dual_kernels(act)
        out.append(expr_identity(f"price.{name}", f"{name}: Price's theorem dF/dc = F_phi'",
                                 sp.diff(d.F, C), d.Fdot, dual_point, singular=rho_limits(),
                                 latex=rf"\partial_c\left[{sp.latex(d.F)}\right] = {sp.latex(d.Fdot)}"))
        out.append(_quad_identity(name, "F", act.expr, d.F))
        out.append(_quad_identity(name, "Fdot", act.dphi, d.Fdot))
        out.append(_mean_identity(name, act.expr, d.mean))
        if act.is_odd:
            out.append(expr_identity(f"drift.odd_zero.{name}", f"{name} is odd: Kbar = E[phi(u)]E[phi(v)] = 0",
                                     d.Fbar, 0, dual_point, latex=r"\bar K = E[\phi(u)]E[\phi(v)] = 0"))
    if names is None or "relu" in names:
        relu = dual_kernels(get_activation("relu"))
        out.append(expr_identity("drift.relu.closed_form", "ReLU drift limit Kbar = sqrt(q1 q2)/(2 pi)",
                                 relu.Fbar, sp.sqrt(Q1 * Q2) / (2 * sp.pi), dual_point,
                                 latex=r"\bar K_{\mathrm{ReLU}} = \frac{\sqrt{q_1 q_2}}{2\pi}"))
    return out
