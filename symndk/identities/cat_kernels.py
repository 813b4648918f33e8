"""Identities of the two-time kernels (docs/theory.md §3-4, §6-7).

* ``longtime.induction_step`` (symbolic, any phi): if d/ds K_{l-1} = gamma (Theta_{l-1} - K_{l-1})
  then the same holds at layer l, using only Price's theorem and d/ds C(t,s) = gamma C(t,s);
* ``longtime.<act>.L<n>``: Theta_L - K_L = (1/gamma) d/ds K_L under the stationary prior,
  with d/ds taken numerically (mpmath.diff) through the whole recursion -- independent of the
  induction argument; limit point: same input, t - s -> 0 (the ReLU cusp);
* ``transient.induction_step`` (symbolic): for sigma0 != sigma the exact extra term E_l of
  d/ds K_l - gamma (Theta_l - K_l) obeys the derived recursion (:func:`transient_terms`);
* ``transient.<act>``: that recursion against mpmath.diff, L = 1..5, and same input at t - s -> 0;
* ``transient.<act>.limits``: E_L = 0 at sigma0 = sigma, E_L / (sigma0^2 - sigma^2) finite as
  sigma0 -> sigma, and E_L exp(2 gamma s) / (sigma0^2 - sigma^2) tends to a constant as s grows;
* ``ntk.<act>``: K^d(0,0) equals the NTK (static recursion with weight variance sigma0^2);
* ``drift.<act>.limit``: K_L(t,s) -> E[phi(u)]E[phi(v)] (independent u, v) as t - s -> infinity;
* ``linear.ndk_factor``: linear phi, K^d = (L+1) C(t,s)^L exp(-gamma (t-s)) x.x'/N0 for any prior.

Example:
    >>> [i.id for i in identities(["relu"])][:3]
    ['longtime.induction_step', 'transient.induction_step', 'linear.ndk_factor']
"""
from __future__ import annotations

import mpmath as mp
import sympy as sp

from symndk.identities.engine import custom_identity, rel_residual, rng_for, sampled, symbolic_zero
from symndk.spec.activations import get_activation
from symndk.spec.dual import C, Q, Q1, Q2, dual_kernels
from symndk.spec.prior import C_ss, C_ts, C_tt, gamma, s, sigma0_sq, sigma_sq, t
from symndk.spec.recursion import MpDuals, SymbolicDuals, layer_kernels, ndk

DEPTHS = (1, 2, 3, 4, 5)
_PRIOR = [sp.lambdify((t, s, sigma0_sq, sigma_sq, gamma), e, "mpmath", cse=True) for e in (C_tt, C_ss, C_ts)]


class Duals(MpDuals):
    """mpmath dual kernels plus the partial derivative dF/dq2 and V'(q) (for the transient)."""

    def __init__(self, act):
        super().__init__(act)
        k = self.kernels
        self._Fq2 = sp.lambdify((Q1, Q2, C), sp.diff(k.F, Q2), "mpmath", cse=True)
        self._dV = sp.lambdify((Q,), sp.diff(k.V, Q), "mpmath", cse=True)

    def Fq2(self, q1, q2, c):
        return mp.mpmathify(self._Fq2(q1, q2, c))

    def dV(self, q):
        return mp.mpmathify(self._dV(q))


def kernels(duals, L, p, tt, ss):
    """Layers 0..L at times (tt, ss), tt >= ss, for a parameter point ``p`` (dict of mpf)."""
    Cs = [f(tt, ss, p["s0"], p["sig"], p["g"]) for f in _PRIOR]
    return layer_kernels(duals, L, p["ktt"], p["kss"], p["kts"], *Cs)


def transient_terms(duals, L, p, tt, ss):
    """E_l = d/ds K_l - gamma (Theta_l - K_l), l = 0..L, from the derived recursion.

    E_0 = 0 and, with Delta = sigma0^2 - sigma^2, args (q1, q2, c) of layer l,
        dq2_l = C'(s,s) K_{l-1}(s,s) + C(s,s) dK_{l-1}(s,s)/ds,  C'(s,s) = -2 gamma Delta e^{-2 gamma s},
        dK_l(s,s)/ds = V'(q2_l) dq2_l,
        E_l = Kdot_l [C(t,s) E_{l-1} - 2 gamma Delta e^{-gamma(t+s)} K_{l-1}(t,s)] + dF/dq2 dq2_l.
    """
    lay = kernels(duals, L, p, tt, ss)
    g, delta = p["g"], p["s0"] - p["sig"]
    Ctt, Css, Cts = (f(tt, ss, p["s0"], p["sig"], g) for f in _PRIOR)
    dCss = -2 * g * delta * mp.exp(-2 * g * ss)
    E, dKss, out = mp.mpf(0), mp.mpf(0), [mp.mpf(0)]
    for prev, cur in zip(lay, lay[1:]):
        q1, q2, c = Ctt * prev.K_tt, Css * prev.K_ss, Cts * prev.K_ts
        dq2 = dCss * prev.K_ss + Css * dKss
        E = cur.Kdot_ts * (Cts * E - 2 * g * delta * mp.exp(-g * (tt + ss)) * prev.K_ts) + duals.Fq2(q1, q2, c) * dq2
        dKss = duals.dV(q2) * dq2
        out.append(E)
    return lay, out


def _point(rng, stationary):
    """Random inputs (|rho0| <= 0.9), prior parameters and times t > s."""
    r = lambda a, b: mp.mpf(a + (b - a) * rng.random())  # noqa: E731
    ktt, kss = r(0.3, 1.2), r(0.3, 1.2)
    sig = r(0.5, 1.2)
    p = {"ktt": ktt, "kss": kss, "kts": r(-0.9, 0.9) * mp.sqrt(ktt * kss), "sig": sig,
         "s0": sig if stationary else r(0.2, 2.0), "g": r(0.2, 1.0), "s": r(0.1, 1.5)}
    p["t"] = p["s"] + r(0.1, 1.5)
    return p


def _dKds(duals, L, p):
    return mp.diff(lambda x: kernels(duals, L, p, p["t"], x)[L].K_ts, p["s"])


def _longtime(name, duals, L):
    def evaluate(p):
        lay = kernels(duals, L, p, p["t"], p["s"])
        return lay[L].Theta_ts - lay[L].K_ts, _dKds(duals, L, p) / p["g"]

    def check():
        rng = rng_for(f"longtime.{name}.L{L}")
        pts = [_point(rng, True) for _ in range(3)]
        def same_input(tau):  # x = x', t - s = tau -> 0: the ReLU cusp in Kdot
            return lambda: {**pts[0], "kss": pts[0]["ktt"], "kts": pts[0]["ktt"], "t": pts[0]["s"] + mp.mpf(tau)}
        return sampled(evaluate, pts, [same_input("1e-12"), same_input("1e-20")])

    return custom_identity(f"longtime.{name}.L{L}", f"{name}, L={L}: long-time identity (stationary prior)",
                           rf"\Theta_{L}(t,s) - K_{L}(t,s) = \frac{{1}}{{\gamma}}\partial_s K_{L}(t,s)", check)


def _transient(name, duals):
    def evaluate(pL):
        p, L = pL
        lay, E = transient_terms(duals, L, p, p["t"], p["s"])
        return _dKds(duals, L, p) - p["g"] * (lay[L].Theta_ts - lay[L].K_ts), E[L]

    def check():
        rng = rng_for(f"transient.{name}")
        pts = [(_point(rng, False), L) for L in DEPTHS]
        p0 = pts[0][0]
        same = lambda: ({**p0, "kss": p0["ktt"], "kts": p0["ktt"], "t": p0["s"] + mp.mpf("1e-12")}, 3)  # noqa: E731
        return sampled(evaluate, pts, [same])

    return custom_identity(f"transient.{name}", f"{name}: exact transient term of d/ds K_L, L=1..5",
                           r"\partial_s K_L - \gamma(\Theta_L - K_L) = E_L", check)


def _transient_limits(name, duals, L=3):
    def check():
        p = _point(rng_for(f"transient.{name}.limits"), False)
        with mp.workdps(80):
            E = lambda **kw: transient_terms(duals, L, {**p, **kw}, kw.get("t", p["t"]), kw.get("s", p["s"]))[1][L]  # noqa: E731
            zero = E(s0=p["sig"])
            if zero != 0:
                return "failed", float(abs(zero)), "E_L != 0 at sigma0 = sigma"
            d1, d2 = mp.mpf("1e-25"), mp.mpf("1e-35")
            r_small = rel_residual(E(s0=p["sig"] + d1) / d1, E(s0=p["sig"] + d2) / d2)
            tau, g = p["t"] - p["s"], p["g"]
            ratio = lambda ss: E(s=ss, t=ss + tau) * mp.exp(2 * g * ss) / (p["s0"] - p["sig"])  # noqa: E731
            r_decay = rel_residual(ratio(40 / g), ratio(80 / g))
        worst = max(r_small, r_decay)
        ok = r_small < mp.mpf(10) ** -8 and r_decay < mp.mpf(10) ** -15
        return ("sampled" if ok else "failed"), float(worst), (
            f"E_L/Delta at Delta=1e-25 vs 1e-35: {mp.nstr(r_small, 3)}; "
            f"E_L e^(2 gamma s)/Delta at gamma s = 40 vs 80: {mp.nstr(r_decay, 3)}")

    return custom_identity(f"transient.{name}.limits", f"{name}: E_L vanishes as sigma0 -> sigma, decays like e^(-2 gamma s)",
                           r"E_L = O\big((\sigma_0^2-\sigma^2)\,e^{-2\gamma s}\big)", check)


def _drift_limit(name, duals, L=2):
    def evaluate(p):
        far = p["s"] + 400 / p["g"]  # C(t,s) ~ e^-400: far below the working precision
        lay = kernels(duals, L, p, far, p["s"])
        q1, q2 = p["sig"] * lay[L - 1].K_tt, p["sig"] * lay[L - 1].K_ss
        scale = max(abs(kernels(duals, L, p, p["s"], p["s"])[L].K_tt), 1)
        return lay[L].K_ts / scale, duals.mean(q1) * duals.mean(q2) / scale

    def check():
        rng = rng_for(f"drift.{name}.limit")
        return sampled(evaluate, [_point(rng, True) for _ in range(3)])

    return custom_identity(f"drift.{name}.limit", f"{name}: K_L(t,s) -> Kbar at long lag (L={L})",
                           r"\lim_{t-s\to\infty} K_L(t,s;x,x') = E[\phi(u)]\,E[\phi(v)]", check)


def _ntk(name):
    kx, ky, k, th = sp.symbols("Kx Ky K Theta", positive=True)
    duals = SymbolicDuals(get_activation(name))

    def static_ntk_layer(Kx, Ky, K, Th):  # one layer of the NTK of the initialisation (weights ~ sigma0^2)
        q1, q2, c = sigma0_sq * Kx, sigma0_sq * Ky, sigma0_sq * K
        return duals.V(q1), duals.V(q2), duals.F(q1, q2, c), duals.F(q1, q2, c) + sigma0_sq * duals.Fdot(q1, q2, c) * Th

    def check():
        # induction on depth: Theta_0 = K_0 for both, and one layer of the two-time recursion at
        # t = s = 0 is the static NTK layer (so K^d(0,0) = exp(0) Theta_L = NTK for every L)
        at0 = {t: 0, s: 0}
        two = layer_kernels(duals, 1, kx, ky, k, *(e.subs(at0) for e in (C_tt, C_ss, C_ts)))
        lay = two[1]
        got = (lay.K_tt, lay.K_ss, lay.K_ts, lay.K_ts + C_ts.subs(at0) * lay.Kdot_ts * th)
        ok = all(symbolic_zero(a - b) for a, b in zip(got, static_ntk_layer(kx, ky, k, th)))
        ok = ok and symbolic_zero(ndk(two).subs(at0) - static_ntk_layer(kx, ky, k, k)[3])
        return ("symbolic" if ok else "failed"), 0.0, "one layer + induction on L (any depth)"

    return custom_identity(f"ntk.{name}", f"{name}: NDK(0,0) = NTK with C = sigma0^2",
                           r"K^d(0,0) = \Theta^{\mathrm{NTK}}_L\big|_{C=\sigma_0^2}", check)


def _linear_factor():
    k_tt, k_ss, k_ts = sp.symbols("k_tt k_ss k_ts", positive=True)
    duals = SymbolicDuals(get_activation("linear"))

    def check():
        for L in DEPTHS:
            lay = layer_kernels(duals, L, k_tt, k_ss, k_ts, C_tt, C_ss, C_ts)
            if not symbolic_zero(ndk(lay) - (L + 1) * C_ts**L * sp.exp(-gamma * (t - s)) * k_ts):
                return "failed", float("nan"), f"L={L}"
        # any depth, by induction: Theta_{l-1} = l C^{l-1} k  =>  Theta_l = C^l k + C * 1 * l C^{l-1} k
        l, Cs = sp.Symbol("l", positive=True, integer=True), sp.Symbol("C", positive=True)
        step = Cs**l * k_ts + Cs * 1 * l * Cs ** (l - 1) * k_ts - (l + 1) * Cs**l * k_ts
        ok = symbolic_zero(step)
        return ("symbolic" if ok else "failed"), 0.0, "L = 1..5 unrolled and any L by induction"

    return custom_identity("linear.ndk_factor", "linear phi: NDK proportional to the input kernel",
                           r"K^d(t,s;x,x') = (L+1)\,C(t,s)^L e^{-\gamma(t-s)}\,\frac{x\cdot x'}{N_0}", check)


def _induction_steps():
    """Symbolic induction steps of the long-time identity and of the transient term (any phi)."""
    q1, q2 = sp.symbols("q1 q2", positive=True)
    F, Fd, Fq2 = sp.Function("F"), sp.Function("Fdot"), sp.Function("F_q2")
    Kp, Tp, Kss = sp.Function("K_prev"), sp.Function("Theta_prev"), sp.Function("Kss_prev")
    Ep = sp.Function("E_prev")

    def partials(e):
        """dF/dc -> Fdot (Price's theorem), dF/dq2 -> F_q2, then evaluate the Subs."""
        def is_partial(d, k):
            return isinstance(d, sp.Derivative) and d.expr.func == F and d.variables == (d.expr.args[k],)
        e = e.replace(lambda d: is_partial(d, 2), lambda d: Fd(*d.expr.args))
        e = e.replace(lambda d: is_partial(d, 1), lambda d: Fq2(*d.expr.args))
        return e.replace(lambda x: isinstance(x, sp.Subs), lambda x: x.doit())

    def residual(Cts, Css_val, kss_s, hyp_E):
        c = Cts * Kp(s)
        K = F(q1, Css_val * kss_s, c)
        Theta = K + Cts * Fd(q1, Css_val * kss_s, c) * Tp(s)
        dK = partials(sp.diff(K, s))
        dK = dK.subs(sp.Derivative(Kp(s), s), gamma * (Tp(s) - Kp(s)) + hyp_E)
        return dK, Theta, K

    stat = sigma_sq * sp.exp(-gamma * (t - s))

    def longtime():
        dK, Theta, K = residual(stat, sigma_sq, sp.Symbol("kss", positive=True), 0)
        ok = symbolic_zero(dK - gamma * (Theta - K))
        return ("symbolic" if ok else "failed"), 0.0, "Price + d/ds C = gamma C (stationary)"

    def transient():
        dK, Theta, K = residual(C_ts, C_ss, Kss(s), Ep(s))
        delta = sigma0_sq - sigma_sq
        c2 = C_ss * Kss(s)
        dq2 = sp.diff(C_ss, s) * Kss(s) + C_ss * sp.Derivative(Kss(s), s)
        E = Fd(q1, c2, C_ts * Kp(s)) * (C_ts * Ep(s) - 2 * gamma * delta * sp.exp(-gamma * (t + s)) * Kp(s))
        E += Fq2(q1, c2, C_ts * Kp(s)) * dq2
        ok = symbolic_zero(dK - gamma * (Theta - K) - E)
        return ("symbolic" if ok else "failed"), 0.0, "Price + d/ds C(t,s) = gamma C - 2 gamma Delta e^{-gamma(t+s)}"

    return [
        custom_identity("longtime.induction_step", "long-time identity: induction step in l (any phi)",
                        r"\partial_s K_{l-1} = \gamma(\Theta_{l-1}-K_{l-1}) \Rightarrow \partial_s K_l = \gamma(\Theta_l-K_l)", longtime),
        custom_identity("transient.induction_step", "transient term E_l: induction step in l (any phi, sigma0 != sigma)",
                        r"\partial_s K_l - \gamma(\Theta_l-K_l) = \dot K_l\,[C E_{l-1} - 2\gamma\Delta e^{-\gamma(t+s)}K_{l-1}] + \partial_{q_2}F\,\dot q_2", transient),
    ]


def identities(names):
    """Kernel identities for the given closed-form activations."""
    out = _induction_steps() + [_linear_factor()]
    for name in names:
        duals = Duals(get_activation(name))
        duals.mean = sp.lambdify((Q,), dual_kernels(get_activation(name)).mean, "mpmath", cse=True)
        out.append(_ntk(name))
        out += [_longtime(name, duals, L) for L in DEPTHS]
        out.append(_transient(name, duals))
        out.append(_transient_limits(name, duals))
        out.append(_drift_limit(name, duals))
    return out
