"""Two-time layer recursion (THEORY §3-4): K_l, Kdot_l, Theta_l and the NDK.

For symbolic depth ``L`` the recursion is held as equations in undefined functions
(:data:`RECURSION`, used by the identity proofs by induction and by the report); for a concrete
depth :func:`layer_kernels` unrolls it.  One implementation serves SymPy expressions and mpmath
numbers: it only calls ``duals.F``, ``duals.Fdot`` and ``duals.V``.

Example:
    >>> import sympy as sp
    >>> from symndk.spec.activations import get_activation
    >>> from symndk.spec.prior import C_ts, C_tt, C_ss
    >>> k_tt, k_ss, k_ts = sp.symbols("k_tt k_ss k_ts", positive=True)
    >>> lay = layer_kernels(SymbolicDuals(get_activation("linear")), 2, k_tt, k_ss, k_ts, C_tt, C_ss, C_ts)
    >>> sp.factor(lay[2].Theta_ts - 3 * C_ts**2 * k_ts)
    0
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath as mp
import sympy as sp

from symndk.spec.activations import Activation
from symndk.spec.dual import C, Q, Q1, Q2, dual_kernels
from symndk.spec.prior import gamma, s, t


@dataclass(frozen=True)
class Layer:
    """Kernels of one layer for the pair (x at time t, x' at time s)."""

    K_tt: object  # K_l(t, t; x, x)
    K_ss: object  # K_l(s, s; x', x')
    K_ts: object  # K_l(t, s; x, x')
    Kdot_ts: object  # Kdot_l(t, s; x, x')  (None for l = 0)
    Theta_ts: object  # Theta_l(t, s; x, x')


class SymbolicDuals:
    """F, Fdot, V of an activation as SymPy expressions substituted at given arguments."""

    def __init__(self, act: Activation):
        self.kernels = dual_kernels(act)
        if self.kernels.F is None or self.kernels.Fdot is None:
            raise ValueError(f"activation {act.name!r} has no closed-form dual kernel")

    def F(self, q1, q2, c):
        return self.kernels.F.xreplace({Q1: q1, Q2: q2, C: c})

    def Fdot(self, q1, q2, c):
        return self.kernels.Fdot.xreplace({Q1: q1, Q2: q2, C: c})

    def V(self, q):
        return self.kernels.V.xreplace({Q: q})


class MpDuals(SymbolicDuals):
    """The same kernels lambdified for mpmath scalars (precision from ``mpmath.workdps``)."""

    def __init__(self, act: Activation):
        super().__init__(act)
        k = self.kernels
        self._F = sp.lambdify((Q1, Q2, C), k.F, "mpmath", cse=True)
        self._Fdot = sp.lambdify((Q1, Q2, C), k.Fdot, "mpmath", cse=True)
        self._V = sp.lambdify((Q,), k.V, "mpmath", cse=True)

    def F(self, q1, q2, c):
        return mp.mpmathify(self._F(q1, q2, c))

    def Fdot(self, q1, q2, c):
        return mp.mpmathify(self._Fdot(q1, q2, c))

    def V(self, q):
        return mp.mpmathify(self._V(q))


def layer_kernels(duals, depth: int, k_tt, k_ss, k_ts, C_tt, C_ss, C_ts) -> list[Layer]:
    """Layers 0..depth of the two-time recursion for input kernels k = x.x'/N0 (THEORY §3)."""
    layers = [Layer(k_tt, k_ss, k_ts, None, k_ts)]
    for _ in range(depth):
        p = layers[-1]
        q1, q2, c = C_tt * p.K_tt, C_ss * p.K_ss, C_ts * p.K_ts
        K, Kdot = duals.F(q1, q2, c), duals.Fdot(q1, q2, c)
        layers.append(Layer(duals.V(q1), duals.V(q2), K, Kdot, K + C_ts * Kdot * p.Theta_ts))
    return layers


def ndk(layers: list[Layer], t1=t, t2=s, g=gamma, exp=sp.exp):
    """K^d(t, s) = exp(-g (t - s)) Theta_L(t, s) for t >= s (THEORY §4); ``exp`` picks the backend."""
    return exp(-g * (t1 - t2)) * layers[-1].Theta_ts


# --- the recursion for symbolic depth, in undefined functions (for induction and the report) ---
l = sp.Symbol("l", integer=True, positive=True)
Cf = sp.Function("C")
Kf, Kdotf, Thetaf = sp.Function("K"), sp.Function(r"\dot{K}"), sp.Function(r"\Theta")
Ff, Fdotf = sp.Function(r"F_{\phi}"), sp.Function(r"F_{\phi'}")
_q1 = Cf(t, t) * Kf(l - 1, t, t)
_q2 = Cf(s, s) * Kf(l - 1, s, s)
_c = Cf(t, s) * Kf(l - 1, t, s)
RECURSION = [
    sp.Eq(Kf(l, t, s), Ff(_q1, _q2, _c)),
    sp.Eq(Kdotf(l, t, s), Fdotf(_q1, _q2, _c)),
    sp.Eq(Thetaf(l, t, s), Kf(l, t, s) + Cf(t, s) * Kdotf(l, t, s) * Thetaf(l - 1, t, s)),
    sp.Eq(sp.Function("K^d")(t, s), sp.exp(-gamma * (t - s)) * Thetaf(sp.Symbol("L"), t, s)),
]
