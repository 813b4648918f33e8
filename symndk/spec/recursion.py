"""Two-time layer recursion (docs/theory.md §3-4): K_l, Kdot_l, Theta_l and the NDK.

There is one recursion: :mod:`symndk.runtime.recursion`, the code every backend runs. Here it is
evaluated on SymPy expressions. For a concrete depth :func:`layer_kernels` unrolls it with the
SymPy dual kernels; for symbolic depth ``L``, :data:`RECURSION` holds one runtime step applied to
undefined functions (used by the identity proofs by induction and by the report), so the equations
proved are the equations run.

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

import mpmath as mp
import sympy as sp

from symndk.runtime import recursion as runtime
from symndk.runtime.recursion import Layer
from symndk.spec.activations import Activation
from symndk.spec.dual import C, Q, Q1, Q2, dual_kernels
from symndk.spec.prior import gamma, s, t


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
    """Layers 0..depth of the runtime recursion for input kernels k = x.x'/N0, as SymPy/mpmath values."""
    return list(runtime.layers(k_tt, k_ss, k_ts, C_tt, C_ss, C_ts, depth, duals))


def ndk(layers: list[Layer], t1=t, t2=s, g=gamma, exp=sp.exp):
    """K^d(t, s) = exp(-g (t - s)) Theta_L(t, s) for t >= s (the runtime :func:`~symndk.runtime.recursion.ndk`)."""
    return runtime.ndk(layers[-1].Theta_ts, t1, t2, g, exp)


# --- the recursion for symbolic depth: one runtime step on undefined functions ---
l = sp.Symbol("l", integer=True, positive=True)
Cf = sp.Function("C")
Kf, Kdotf, Thetaf = sp.Function("K"), sp.Function(r"\dot{K}"), sp.Function(r"\Theta")
Ff, Fdotf = sp.Function(r"F_{\phi}"), sp.Function(r"F_{\phi'}")


class _Undefined:
    """Dual kernels as undefined functions (V is only needed for the same-input variances)."""

    F, Fdot = Ff, Fdotf
    V = staticmethod(lambda q: None)


def _symbolic_recursion():
    prev = Layer(Kf(l - 1, t, t), Kf(l - 1, s, s), Kf(l - 1, t, s), Kdotf(l - 1, t, s), Thetaf(l - 1, t, s))
    nxt = runtime.step(prev, Cf(t, t), Cf(s, s), Cf(t, s), _Undefined)
    named = {nxt.K_ts: Kf(l, t, s), nxt.Kdot_ts: Kdotf(l, t, s)}
    return [
        sp.Eq(Kf(l, t, s), nxt.K_ts),
        sp.Eq(Kdotf(l, t, s), nxt.Kdot_ts),
        sp.Eq(Thetaf(l, t, s), nxt.Theta_ts.subs(named)),
        sp.Eq(sp.Function("K^d")(t, s), runtime.ndk(Thetaf(sp.Symbol("L"), t, s), t, s, gamma, sp.exp)),
    ]


RECURSION = _symbolic_recursion()
