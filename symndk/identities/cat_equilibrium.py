"""Identities behind the NNGP equilibrium (docs/theory.md §6).

Under the stationary prior the NDK depends on tau = t - s only and, by the long-time identity,
K^d(tau) = -(1/gamma) d/dtau [exp(-gamma tau) K_L(tau)].  Hence

    int_0^inf K^d(tau) dtau = K_L(0) / gamma = K_GP / gamma,

and the final-value theorem for the convolution Volterra equation f = K^d * (Y - f) gives
f(inf) = (I + K_GP/gamma)^(-1) (K_GP/gamma) Y = K_GP (K_GP + gamma I)^(-1) Y; at a test point
f(x, inf) = k_GP(x)^T (Y - f(inf)) / gamma = k_GP(x)^T (K_GP + gamma I)^(-1) Y.

* ``equilibrium.<act>.integral`` checks the integral by mpmath quadrature (L = 2; L = 1 for the
  costly GELU closed form), for a pair of
  distinct inputs and for one input with itself (the ReLU cusp at tau = 0);
* ``equilibrium.linear.laplace`` solves the Volterra equation exactly by Laplace transform for
  linear phi (P = 2, symbolic Gram matrix, L = 2) and takes the final value: symbolic.

Example:
    >>> [i.id for i in identities(["relu"])]
    ['equilibrium.linear.laplace', 'equilibrium.relu.integral']
"""
from __future__ import annotations

import mpmath as mp
import sympy as sp

from symndk.identities.cat_kernels import kernels
from symndk.identities.engine import custom_identity, rng_for, sampled, symbolic_zero
from symndk.spec.activations import get_activation
from symndk.spec.prior import C_ss, C_ts, C_tt, gamma, s, sigma0_sq, sigma_sq, t
from symndk.spec.recursion import MpDuals, SymbolicDuals, layer_kernels, ndk


def _integral(name, L):
    duals = MpDuals(get_activation(name))

    def evaluate(p):
        g = p["g"]
        Kd = lambda tau: mp.exp(-g * tau) * kernels(duals, L, p, tau, mp.mpf(0))[L].Theta_ts  # noqa: E731
        lhs = mp.quad(Kd, [0, 1 / g, 4 / g, 16 / g, 64 / g, mp.inf])
        return lhs, kernels(duals, L, p, mp.mpf(0), mp.mpf(0))[L].K_ts / g

    def check():
        rng = rng_for(f"equilibrium.{name}.integral")
        r = lambda a, b: mp.mpf(a + (b - a) * rng.random())  # noqa: E731
        sig = r(0.5, 1.2)
        base = {"ktt": r(0.3, 1.2), "kss": r(0.3, 1.2), "sig": sig, "s0": sig, "g": r(0.2, 1.0)}
        pair = {**base, "kts": r(-0.9, 0.9) * mp.sqrt(base["ktt"] * base["kss"])}
        same = {**base, "kss": base["ktt"], "kts": base["ktt"]}
        return sampled(evaluate, [pair, same])

    return custom_identity(f"equilibrium.{name}.integral", f"{name}: int_0^inf K^d = K_GP / gamma (stationary, L={L})",
                           r"\int_0^\infty K^d(\tau)\,d\tau = \frac{1}{\gamma} K_{GP}", check)


def _laplace(L=2):
    a, b, d, k1, k2, y1, y2 = sp.symbols("a b d k1 k2 y1 y2", real=True)
    tau, p = sp.symbols("tau p", positive=True)
    duals = SymbolicDuals(get_activation("linear"))
    stat = {sigma0_sq: sigma_sq}
    Cs = [e.subs(stat) for e in (C_tt, C_ss, C_ts)]

    def Kd(kxx, kyy, kxy):  # NDK from the spec recursion, as a function of tau = t - s
        return ndk(layer_kernels(duals, L, kxx, kyy, kxy, *Cs)).subs(t, s + tau)

    def K_gp(kxx, kyy, kxy):
        return layer_kernels(duals, L, kxx, kyy, kxy, *[e.subs(t, s) for e in Cs])[L].K_ts

    def lap(e):
        """Laplace transform of a sum of exponentials c exp(-lam tau): sum c / (p + lam)."""
        out = 0
        for term in sp.Add.make_args(sp.powsimp(sp.expand(e), combine="exp")):
            coef, dep = term.as_independent(tau, as_Add=False)
            lam = 0 if dep == 1 else -sp.expand(dep.args[0] / tau)
            if dep != 1 and (not isinstance(dep, sp.exp) or lam.has(tau)):
                raise ValueError(f"not an exponential in tau: {dep}")
            out += coef / (p + lam)
        return out

    def check():
        G = sp.Matrix([[a, b], [b, d]])
        Y = sp.Matrix([y1, y2])
        kx = sp.Matrix([k1, k2])
        # final value: lim_{p->0} p fhat(p) with fhat = (I + Khat)^(-1) Khat Y / p, Khat analytic at 0
        Khat0 = G.applyfunc(lambda e: lap(Kd(G[0, 0], G[1, 1], e)).subs(p, 0))
        khat0 = sp.Matrix([lap(Kd(1, G[i, i], kx[i])).subs(p, 0) for i in range(2)])
        f_inf = (sp.eye(2) + Khat0).LUsolve(Khat0 * Y)
        fx_inf = (khat0.T * (Y - f_inf))[0]
        Kgp = G.applyfunc(lambda e: K_gp(G[0, 0], G[1, 1], e))
        kgp = sp.Matrix([K_gp(1, G[i, i], kx[i]) for i in range(2)])
        want = (Kgp + gamma * sp.eye(2)).LUsolve(Y)
        ok = all(symbolic_zero(e, seconds=30) for e in [*(f_inf - Kgp * want), (kgp.T * want)[0] - fx_inf])
        return ("symbolic" if ok else "failed"), 0.0, f"Laplace transform + final value, P=2, L={L}"

    return custom_identity("equilibrium.linear.laplace", "linear phi: Volterra solution tends to the NNGP predictor",
                           r"\bar f(x,\infty) = k_{GP}(x)^T (K_{GP} + \gamma I)^{-1} Y", check)


def identities(names):
    """Equilibrium identities for the given closed-form activations."""
    return [_laplace()] + [_integral(n, 1 if n == "gelu" else 2) for n in names]
