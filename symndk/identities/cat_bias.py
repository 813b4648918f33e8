"""Identities of the bias terms (THEORY_NEXT §B, docs/theory.md §B), through the one runtime recursion.

Every check below runs :func:`symndk.runtime.recursion.layers` with a
:class:`~symndk.runtime.recursion.Bias` -- the code the solvers run -- on SymPy expressions (the
spec) or on the mpmath dual kernels of the spec at 60 digits. Write G_l(t, s) = C(t, s) K_l +
C_b(t, s) for the covariance of the layer-l readout (G = G_L is the prior output covariance),
T for the temperature, gamma = T/sigma^2, gamma_b = T/sigma_b^2.

* ``bias.fdt.induction_step`` (symbolic, any phi, any gamma_b): under the stationary prior, if
  Theta_{l-1} = (1/T) d/ds G_{l-1}(t, s) then Theta_l = (1/T) d/ds G_l (Price's theorem and
  d/ds C = T e^{-gamma (t-s)}, d/ds C_b = T e^{-gamma_b (t-s)}); the base case Theta_0 holds by
  the same two derivatives. This is the **long-time identity with biases, in its
  fluctuation-dissipation form** K^d(tau) = -(1/T) dG/dtau, valid for gamma_b != gamma.
* ``bias.reduction`` (symbolic, any phi, any prior): with gamma_b = gamma and the bias prior equal
  to the weight prior, one bias layer is e^{-gamma (t-s)} times the bias-free layer at
  K_l -> K_l + 1 (THEORY_NEXT: "K_l -> K_l + 1"), so the bias-free long-time identity applies;
* ``bias.transient.induction_step`` (symbolic, any phi, sigma0 != sigma, sigma_b0 != sigma_b):
  the exact extra term E_l = d/ds G_l - T Theta_l obeys :func:`transient_terms`;
* ``bias.longtime.<act>`` (gamma_b = gamma): the original long-time identity with the augmented
  kernel, e^{gamma tau} Theta_L - (K_L + 1) = (1/gamma) d/ds K_L, L = 1..3, d/ds by mpmath.diff;
* ``bias.fdt.<act>`` (gamma_b != gamma): Theta_L = (1/T) d/ds G_L, L = 1..3, plus the same-input
  limit t - s -> 0; a foil (the bias group given the weight propagator) must fail it;
* ``bias.transient.<act>``: that recursion against mpmath.diff, L = 1..5, gamma_b != gamma;
* ``bias.transient.<act>.limits``: E_L = 0 at sigma0 = sigma and sigma_b0 = sigma_b, and with
  only the bias out of equilibrium E_L e^{2 gamma_b s} / (sigma_b0^2 - sigma_b^2) tends to a constant;
* ``bias.ntk.<act>`` (symbolic): K^d(0, 0) is the NTK with biases, Theta_0 = K_0 + 1,
  Theta_l = K_l + 1 + sigma0^2 Kdot_l Theta_{l-1} at q = sigma0^2 K + sigma_b0^2;
* ``bias.equilibrium.<act>.integral``: int_0^inf K^d = G(0)/T (gamma_b != gamma), which by the
  final-value theorem puts the end point at G (G + T I)^{-1} Y, the NNGP posterior mean;
* ``bias.equilibrium.linear`` (symbolic): the same integral in closed form for linear phi, L = 1..3.

Per-layer variances (docs/theory.md §B, one OU prior and one propagator per group W_1..W_L, readout;
runtime lists of :func:`symndk.runtime.recursion.layer_priors`), with G_l = C_{l+1} K_l + C_b,l+1:

* ``layers.fdt.induction_step`` (symbolic, any phi): with layer l's pre-activation in group l and
  Theta_l in group l + 1 (distinct rates T/sigma_l^2, T/sigma_{l+1}^2, and bias rates), the FDT form
  Theta_{l-1} = (1/T) d/ds G_{l-1} implies Theta_l = (1/T) d/ds G_l: the long-time identity
  K^d = -(1/T) dG/dtau holds with per-layer rates (T is shared), hence the NNGP end point;
* ``layers.fdt.<act>``: the same through the whole per-layer recursion, L = 1, 2, biases on some
  groups, at 60 digits, plus the same-input limit; a foil (one average variance) must fail.

Example:
    >>> [i.id for i in identities(["relu"])][:3]
    ['bias.fdt.induction_step', 'bias.reduction', 'bias.transient.induction_step']
    >>> identities([])[0].verify().tier
    'symbolic'
"""
from __future__ import annotations

import mpmath as mp
import sympy as sp

from symndk.identities.cat_kernels import Duals
from symndk.identities.engine import custom_identity, rel_residual, rng_for, sampled, symbolic_zero
from symndk.runtime import recursion as runtime
from symndk.runtime.recursion import Bias, Layer
from symndk.spec.activations import get_activation
from symndk.spec.prior import T, gamma, s, sigma0_sq, sigma_sq, t
from symndk.spec.recursion import SymbolicDuals

sigma_b0_sq = sp.Symbol("sigma_b0_sq", positive=True)
sigma_b_sq = sp.Symbol("sigma_b_sq", positive=True)
gamma_b = sp.Symbol("gamma_b", positive=True)


def _prior(a, b, s0, s2, g):
    return runtime.prior_C(a, b, s0, s2, g, sp.exp)


def spec_bias(s0b=sigma_b0_sq, s2b=sigma_b_sq, gb=gamma_b) -> Bias:
    """The :class:`Bias` of the spec at (t, s): the runtime :func:`bias_terms` on SymPy symbols."""
    return runtime.bias_terms(t, s, s0b, s2b, gb, gamma, sp.exp)


# ----------------------------------------------------------------------------- mpmath evaluation

def _rate_b(p):
    return p["g"] * p["sig"] / p["b2"]          # gamma_b = T / sigma_b^2, T = gamma sigma^2


def kernels(duals, L, p, tt, ss, foil=False):
    """Layers 0..L of the runtime recursion with biases at (tt, ss), tt >= ss, and (C(t,s), Bias).

    ``p``: dict of mpf (ktt, kss, kts inputs; s0, sig weight variances; b0, b2 bias variances; g =
    gamma). ``foil``: give the bias group the weight propagator (a wrong recursion)."""
    C = [runtime.prior_C(a, b, p["s0"], p["sig"], p["g"], mp.exp) for a, b in ((tt, tt), (ss, ss), (tt, ss))]
    bias = runtime.bias_terms(tt, ss, p["b0"], p["b2"], _rate_b(p), p["g"], mp.exp)
    if foil:
        bias = bias._replace(prop_b=bias.prop_w)
    return list(runtime.layers(p["ktt"], p["kss"], p["kts"], *C, L, duals, bias=bias)), C[2], bias


def output_cov(duals, L, p, tt, ss, foil=False):
    """G_L(t, s) = C(t, s) K_L + C_b(t, s), and the layers."""
    lay, Cts, bias = kernels(duals, L, p, tt, ss, foil)
    return Cts * lay[L].K_ts + bias.C_ts, lay


def transient_terms(duals, L, p, tt, ss):
    """E_l = d/ds G_l(t, s) - T Theta_l(t, s), l = 0..L, from the derived recursion.

    With Delta = sigma0^2 - sigma^2, Delta_b = sigma_b0^2 - sigma_b^2, A = -gamma Delta e^{-gamma(t+s)},
    A_b = -gamma_b Delta_b e^{-gamma_b(t+s)} (so d/ds C(t,s) = T e^{-gamma(t-s)} + A, likewise C_b):

        E_0 = A K_0 + A_b,
        E_l = A K_l + A_b + C(t,s) [Kdot_l E_{l-1} + dF/dq2 dq2_l],
        dq2_l = d/ds Sigma_l(s,s) = C'(s,s) K_{l-1}(s,s) + C(s,s) dK_{l-1}(s,s)/ds + C_b'(s,s),

    dK_l(s,s)/ds = V'(q2_l) dq2_l, C'(s,s) = -2 gamma Delta e^{-2 gamma s}, likewise C_b'."""
    lay, Cts, bias = kernels(duals, L, p, tt, ss)
    g, gb = p["g"], _rate_b(p)
    dw, db = p["s0"] - p["sig"], p["b0"] - p["b2"]
    Ctt, Css = (runtime.prior_C(a, a, p["s0"], p["sig"], g, mp.exp) for a in (tt, ss))
    A, A_b = -g * dw * mp.exp(-g * (tt + ss)), -gb * db * mp.exp(-gb * (tt + ss))
    dCss, dCbss = -2 * g * dw * mp.exp(-2 * g * ss), -2 * gb * db * mp.exp(-2 * gb * ss)
    E, dKss = A * lay[0].K_ts + A_b, mp.mpf(0)
    out = [E]
    for prev, cur in zip(lay, lay[1:]):
        q1, q2 = Ctt * prev.K_tt + bias.C_tt, Css * prev.K_ss + bias.C_ss
        c = Cts * prev.K_ts + bias.C_ts
        dq2 = dCss * prev.K_ss + Css * dKss + dCbss
        E = A * cur.K_ts + A_b + Cts * (cur.Kdot_ts * E + duals.Fq2(q1, q2, c) * dq2)
        dKss = duals.dV(q2) * dq2
        out.append(E)
    return lay, out


def _point(rng, stationary=True, equal_rates=False):
    """Random inputs (|rho0| <= 0.9), variances, gamma and times t > s; gamma_b != gamma unless
    ``equal_rates`` (then the bias prior is the weight prior)."""
    r = lambda a, b: mp.mpf(a + (b - a) * rng.random())  # noqa: E731
    ktt, kss = r(0.3, 1.2), r(0.3, 1.2)
    sig = r(0.5, 1.2)
    b2 = sig if equal_rates else sig * r(0.25, 0.6)      # gamma_b / gamma = sig / b2 in 1.7..4
    p = {"ktt": ktt, "kss": kss, "kts": r(-0.9, 0.9) * mp.sqrt(ktt * kss), "sig": sig, "b2": b2,
         "s0": sig if stationary or equal_rates else r(0.2, 2.0), "g": r(0.2, 1.0), "s": r(0.1, 1.5)}
    p["b0"] = p["s0"] if equal_rates else (b2 if stationary else r(0.0, 1.5))
    p["t"] = p["s"] + r(0.1, 1.5)
    return p


def _same_input(p, tau):
    return lambda: {**p, "kss": p["ktt"], "kts": p["ktt"], "t": p["s"] + mp.mpf(tau)}


def _dGds(duals, L, p, foil=False):
    return mp.diff(lambda x: output_cov(duals, L, p, p["t"], x, foil)[0], p["s"])


def _sampled_with_foil(evaluate, pts, limits, foil_what, detail_extra):
    """:func:`sampled` at ``pts`` and ``limits``; then the foil, ``evaluate(pts[2], foil=True)``, must fail."""
    tier, res, detail = sampled(evaluate, pts, limits)
    with mp.workdps(30):
        foil = rel_residual(*evaluate(pts[2], foil=True))
    if tier == "sampled" and not foil > mp.mpf("1e-4"):
        return "failed", float(foil), f"the foil ({foil_what}) passes too: {mp.nstr(foil, 3)}"
    return tier, res, f"{detail}, {detail_extra}; foil residual {mp.nstr(foil, 3)}"


def _fdt(name, duals, depths=(1, 2, 3)):
    def evaluate(pL, foil=False):
        p, L = pL
        lay = kernels(duals, L, p, p["t"], p["s"], foil)[0]
        return lay[L].Theta_ts, _dGds(duals, L, p, foil) / (p["g"] * p["sig"])

    def check():
        rng = rng_for(f"bias.fdt.{name}")
        pts = [(_point(rng), L) for L in depths for _ in range(2)]
        p0 = pts[0][0]
        limits = [lambda tau=tau: (_same_input(p0, tau)(), 2) for tau in ("1e-12", "1e-20")]
        return _sampled_with_foil(evaluate, pts, limits, "one propagator for both groups",
                                  f"gamma_b/gamma in 1.7..4, L = {depths}")

    return custom_identity(f"bias.fdt.{name}", f"{name}: long-time identity with biases, gamma_b != gamma "
                           "(fluctuation-dissipation form)",
                           r"K^d(t,s) = \Theta_L(t,s) = \frac{1}{T}\partial_s G(t,s),\ G = C K_L + C_b", check)


def _longtime(name, duals, depths=(1, 2, 3)):
    def evaluate(pL):
        p, L = pL
        lay = kernels(duals, L, p, p["t"], p["s"])[0]
        dK = mp.diff(lambda x: kernels(duals, L, p, p["t"], x)[0][L].K_ts, p["s"])
        return mp.exp(p["g"] * (p["t"] - p["s"])) * lay[L].Theta_ts - (lay[L].K_ts + 1), dK / p["g"]

    def check():
        rng = rng_for(f"bias.longtime.{name}")
        pts = [(_point(rng, equal_rates=True), L) for L in depths for _ in range(2)]
        limits = [lambda tau=tau: (_same_input(pts[0][0], tau)(), 2) for tau in ("1e-12", "1e-20")]
        tier, res, detail = sampled(evaluate, pts, limits)
        return tier, res, f"{detail}, gamma_b = gamma, L = {depths}"

    return custom_identity(f"bias.longtime.{name}", f"{name}: long-time identity with biases, gamma_b = gamma "
                           "(kernel K_L + 1)",
                           r"e^{\gamma\tau}\Theta_L - (K_L + 1) = \frac{1}{\gamma}\partial_s K_L", check)


def _transient(name, duals):
    def evaluate(pL):
        p, L = pL
        lay, E = transient_terms(duals, L, p, p["t"], p["s"])
        return _dGds(duals, L, p) - p["g"] * p["sig"] * lay[L].Theta_ts, E[L]

    def check():
        rng = rng_for(f"bias.transient.{name}")
        pts = [(_point(rng, stationary=False), L) for L in (1, 2, 3, 4, 5)]
        same = lambda: (_same_input(pts[0][0], "1e-12")(), 3)  # noqa: E731
        return sampled(evaluate, pts, [same])

    return custom_identity(f"bias.transient.{name}", f"{name}: exact transient term with biases, L=1..5",
                           r"\partial_s G_L - T\,\Theta_L = E_L", check)


def _transient_limits(name, duals, L=3):
    def check():
        p = _point(rng_for(f"bias.transient.{name}.limits"), stationary=False)
        with mp.workdps(80):
            E = lambda **kw: transient_terms(duals, L, {**p, **kw}, kw.get("t", p["t"]), kw.get("s", p["s"]))[1][L]  # noqa: E731
            zero = E(s0=p["sig"], b0=p["b2"])
            if zero != 0:
                return "failed", float(abs(zero)), "E_L != 0 at sigma0 = sigma, sigma_b0 = sigma_b"
            tau, gb, db = p["t"] - p["s"], _rate_b(p), p["b0"] - p["b2"]
            ratio = lambda ss: E(s0=p["sig"], s=ss, t=ss + tau) * mp.exp(2 * gb * ss) / db  # noqa: E731
            r_decay = rel_residual(ratio(40 / gb), ratio(80 / gb))
            bias_only = abs(ratio(1 / gb))
        ok = r_decay < mp.mpf(10) ** -15 and bias_only > mp.mpf(10) ** -6
        return ("sampled" if ok else "failed"), float(r_decay), (
            f"E_L = 0 exactly in equilibrium; bias-only E_L e^(2 gamma_b s)/Delta_b at gamma_b s = 40 vs 80: "
            f"{mp.nstr(r_decay, 3)} (and {mp.nstr(bias_only, 3)} at gamma_b s = 1)")

    return custom_identity(f"bias.transient.{name}.limits", f"{name}: transient with biases vanishes in "
                           "equilibrium, bias part decays like e^(-2 gamma_b s)",
                           r"E_L = O\big((\sigma_{b0}^2-\sigma_b^2)\,e^{-2\gamma_b s}\big)", check)


def _equilibrium_integral(name, duals, L):
    def evaluate(p):
        Kd = lambda tau: kernels(duals, L, p, tau, mp.mpf(0))[0][L].Theta_ts  # noqa: E731
        g = min(p["g"], _rate_b(p))
        lhs = mp.quad(Kd, [0, 1 / _rate_b(p), 1 / p["g"], 4 / g, 16 / g, 64 / g, mp.inf])
        return lhs, output_cov(duals, L, p, mp.mpf(0), mp.mpf(0))[0] / (p["g"] * p["sig"])

    def check():
        p = _point(rng_for(f"bias.equilibrium.{name}.integral"))
        return sampled(evaluate, [p, {**p, "kss": p["ktt"], "kts": p["ktt"]}])

    return custom_identity(f"bias.equilibrium.{name}.integral", f"{name}: int_0^inf K^d = G(0)/T with biases "
                           f"(gamma_b != gamma, L={L})", r"\int_0^\infty K^d(\tau)\,d\tau = \frac{1}{T}\,G(0)", check)


# ----------------------------------------------------------------------------- symbolic

class _Undefined:
    F, Fdot = sp.Function("F"), sp.Function("Fdot")
    V = staticmethod(lambda q: None)


def _price(e, Fq2):
    """dF/dc -> Fdot (Price's theorem), dF/dq2 -> Fq2, then evaluate the Subs."""
    F, Fd = _Undefined.F, _Undefined.Fdot

    def partial(d, k):
        return isinstance(d, sp.Derivative) and d.expr.func == F and d.variables == (d.expr.args[k],)

    e = e.replace(lambda d: partial(d, 2), lambda d: Fd(*d.expr.args))
    e = e.replace(lambda d: partial(d, 1), lambda d: Fq2(*d.expr.args))
    return e.replace(lambda x: isinstance(x, sp.Subs), lambda x: x.doit())


def _step_of_G(Ctt, Css, Cts, bias, Kss_prev):
    """One runtime step from an undefined layer l - 1 (K_{l-1}(t,s) = K(s), Theta_{l-1} = Theta(s)):
    returns (d/ds G_l, Theta_l, the new layer, d/ds G_{l-1} as a symbol to substitute)."""
    Kp, Tp = sp.Function("K_prev")(s), sp.Function("Theta_prev")(s)
    prev = Layer(sp.Symbol("Ktt_prev", positive=True), Kss_prev, Kp, None, Tp)
    cur = runtime.step(prev, Ctt, Css, Cts, _Undefined, bias=bias)
    G = Cts * cur.K_ts + bias.C_ts
    return sp.diff(G, s), cur, Kp, Tp


def _fdt_induction(foil=False):
    """``foil``: the bias group carries the weight propagator (the check must then fail)."""
    stat = {sigma0_sq: sigma_sq, sigma_b0_sq: sigma_b_sq}
    rates = {gamma: T / sigma_sq, gamma_b: T / sigma_b_sq}

    def check():
        Cs = [_prior(a, b, sigma_sq, sigma_sq, gamma) for a, b in ((t, t), (s, s), (t, s))]
        bias = Bias(*(e.subs(stat) for e in spec_bias()))
        if foil:
            bias = bias._replace(prop_b=bias.prop_w)
        dG, cur, Kp, Tp = _step_of_G(*Cs, bias, sp.Symbol("Kss_prev", positive=True))
        # hypothesis: d/ds G_{l-1} = T Theta_{l-1}, G_{l-1} = C K_{l-1} + C_b
        dKp = sp.solve(sp.Eq(sp.diff(Cs[2] * Kp + bias.C_ts, s), T * Tp), sp.Derivative(Kp, s))[0]
        step = _price(dG, sp.Function("Fq2")).subs(sp.Derivative(Kp, s), dKp) - T * cur.Theta_ts
        k0 = sp.Symbol("k0", positive=True)
        base = sp.diff(Cs[2] * k0 + bias.C_ts, s) - T * (bias.prop_w * k0 + bias.prop_b)
        ok = all(symbolic_zero(e.subs(rates)) for e in (step, base))
        return ("symbolic" if ok else "failed"), 0.0, "base case + induction step in l (Price; stationary; any gamma_b)"

    return custom_identity("bias.fdt.induction_step", "long-time identity with biases: induction in l (any phi, "
                           "any gamma_b)", r"\Theta_{l-1} = \tfrac{1}{T}\partial_s G_{l-1} \Rightarrow "
                           r"\Theta_l = \tfrac{1}{T}\partial_s G_l", check)


def _reduction():
    def check():
        Cs = [_prior(a, b, sigma0_sq, sigma_sq, gamma) for a, b in ((t, t), (s, s), (t, s))]
        bias = spec_bias(sigma0_sq, sigma_sq, gamma)          # gamma_b = gamma, C_b = C
        Ktt, Kss, Kts, Kd, Th = sp.symbols("Ktt Kss Kts Kdot Theta", positive=True)
        prop = sp.exp(-gamma * (t - s))
        with_b = runtime.step(Layer(Ktt, Kss, Kts, Kd, prop * Th), *Cs, _Undefined, bias=bias)
        aug = runtime.step(Layer(Ktt + 1, Kss + 1, Kts + 1, Kd, Th), *Cs, _Undefined)
        k0 = sp.Symbol("k0", positive=True)
        base = bias.prop_w * k0 + bias.prop_b - prop * (k0 + 1)
        same_args = [x - y for f, g in ((with_b.K_ts, aug.K_ts), (with_b.Kdot_ts, aug.Kdot_ts))
                     for x, y in zip(f.args, g.args)]                      # F, Fdot at the same (q1, q2, c)
        ok = with_b.K_ts.func == aug.K_ts.func and all(symbolic_zero(e) for e in (
            *same_args, with_b.Theta_ts - prop * (aug.Theta_ts + 1), base, bias.C_ts - Cs[2]))
        return ("symbolic" if ok else "failed"), 0.0, "one layer + induction on l, any prior"

    return custom_identity("bias.reduction", "gamma_b = gamma: biases are the bias-free recursion at K_l -> K_l + 1",
                           r"\Theta_l = e^{-\gamma\tau}\,\Theta_l^{\mathrm{no\,bias}}[K_l \to K_l + 1]", check)


def _transient_induction():
    rates = {T: gamma * sigma_sq, gamma_b: gamma * sigma_sq / sigma_b_sq}

    def check():
        Cs = [_prior(a, b, sigma0_sq, sigma_sq, gamma) for a, b in ((t, t), (s, s), (t, s))]
        bias = spec_bias()
        Kss, Ep, Fq2 = sp.Function("Kss_prev")(s), sp.Function("E_prev")(s), sp.Function("Fq2")
        dG, cur, Kp, Tp = _step_of_G(*Cs, bias, Kss)
        dKp = sp.solve(sp.Eq(sp.diff(Cs[2] * Kp + bias.C_ts, s), T * Tp + Ep), sp.Derivative(Kp, s))[0]
        lhs = _price(dG, Fq2).subs(sp.Derivative(Kp, s), dKp) - T * cur.Theta_ts
        A = -gamma * (sigma0_sq - sigma_sq) * sp.exp(-gamma * (t + s))
        A_b = -gamma_b * (sigma_b0_sq - sigma_b_sq) * sp.exp(-gamma_b * (t + s))
        q1 = Cs[0] * sp.Symbol("Ktt_prev", positive=True) + bias.C_tt
        q2 = Cs[1] * Kss + bias.C_ss
        c = Cs[2] * Kp + bias.C_ts
        E = A * cur.K_ts + A_b + Cs[2] * (cur.Kdot_ts * Ep + Fq2(q1, q2, c) * sp.diff(q2, s))
        k0 = sp.Symbol("k0", positive=True)
        base = sp.diff(Cs[2] * k0 + bias.C_ts, s) - T * (bias.prop_w * k0 + bias.prop_b) - (A * k0 + A_b)
        ok = all(symbolic_zero(sp.expand((e).subs(rates)), seconds=20) for e in (lhs - E, base))
        return ("symbolic" if ok else "failed"), 0.0, "base case + induction step in l (any phi, any prior)"

    return custom_identity("bias.transient.induction_step", "transient term with biases: induction in l",
                           r"E_l = A K_l + A_b + C(t,s)[\dot K_l E_{l-1} + \partial_{q_2}F\,\dot q_2]", check)


def _ntk(name):
    kx, ky, k, th = sp.symbols("Kx Ky K Theta", positive=True)
    duals = SymbolicDuals(get_activation(name))

    def static_ntk_layer(Kx, Ky, K, Th):  # the NTK with biases at initialisation, one layer
        q1, q2, c = sigma0_sq * Kx + sigma_b0_sq, sigma0_sq * Ky + sigma_b0_sq, sigma0_sq * K + sigma_b0_sq
        F = duals.F(q1, q2, c)
        return duals.V(q1), duals.V(q2), F, F + 1 + sigma0_sq * duals.Fdot(q1, q2, c) * Th

    def check():
        at0 = {t: 0, s: 0}
        Cs = [_prior(a, b, sigma0_sq, sigma_sq, gamma).subs(at0) for a, b in ((t, t), (s, s), (t, s))]
        bias = Bias(*(e.subs(at0) for e in spec_bias()))
        lay = list(runtime.layers(kx, ky, k, *Cs, 1, duals, bias=bias))
        prev = runtime.step(Layer(kx, ky, k, None, th), *Cs, duals, bias=bias)
        ok = symbolic_zero(lay[0].Theta_ts - (k + 1)) and symbolic_zero(lay[1].Theta_ts - static_ntk_layer(kx, ky, k, k + 1)[3])
        ok = ok and all(symbolic_zero(a - b) for a, b in zip(prev[:3] + (prev.Theta_ts,), static_ntk_layer(kx, ky, k, th)))
        return ("symbolic" if ok else "failed"), 0.0, "Theta_0 = K_0 + 1, one layer + induction on L"

    return custom_identity(f"bias.ntk.{name}", f"{name}: NDK(0,0) = NTK with biases",
                           r"K^d(0,0) = \Theta^{\mathrm{NTK}}_L\big|_{C=\sigma_0^2,\ C_b=\sigma_{b0}^2}", check)


def _integral_of_exponentials(e, tau):
    """int_0^inf of a sum of terms c e^{-lam tau} (lam > 0): sum c / lam."""
    out = 0
    for term in sp.Add.make_args(sp.powsimp(sp.expand(e), combine="exp")):
        coef, dep = term.as_independent(tau, as_Add=False)
        if dep == 1 or not isinstance(dep, sp.exp):
            raise ValueError(f"not a decaying exponential in tau: {term}")
        out += coef / -sp.expand(dep.args[0] / tau)
    return out


def _linear_equilibrium(depths=(1, 2, 3)):
    tau = sp.Symbol("tau", positive=True)
    duals = SymbolicDuals(get_activation("linear"))
    k_tt, k_ss, k_ts = sp.symbols("k_tt k_ss k_ts", positive=True)
    stat = {sigma0_sq: sigma_sq, sigma_b0_sq: sigma_b_sq}

    def check():
        Cs = [_prior(a, b, sigma_sq, sigma_sq, gamma) for a, b in ((t, t), (s, s), (t, s))]
        bias = Bias(*(e.subs(stat) for e in spec_bias()))
        for L in depths:
            lay = list(runtime.layers(k_tt, k_ss, k_ts, *Cs, L, duals, bias=bias))
            lhs = _integral_of_exponentials(lay[L].Theta_ts.subs(t, s + tau), tau)
            G0 = (Cs[2] * lay[L].K_ts + bias.C_ts).subs(t, s)
            if not symbolic_zero((lhs - G0 / T).subs({gamma: T / sigma_sq, gamma_b: T / sigma_b_sq}), seconds=20):
                return "failed", float("nan"), f"L={L}"
        return "symbolic", 0.0, f"closed-form integral of the sum of exponentials, L = {depths}"

    return custom_identity("bias.equilibrium.linear", "linear phi with biases: int_0^inf K^d = G(0)/T (any gamma_b)",
                           r"\int_0^\infty K^d(\tau)\,d\tau = \frac{1}{T}\,G(0)", check)


# ----------------------------------------------------------------------------- per-layer variances

def _layers_fdt_induction():
    """Per-layer variances: layer l's pre-activation carries group l (C_l, C_bl), Theta_l group l + 1's
    covariance and propagators (rates T / sigma_{l+1}^2, T / sigma_b,l+1^2), each group its own rate."""
    s1, s2, b1, b2 = sp.symbols("sigma_l_sq sigma_next_sq sigma_bl_sq sigma_bnext_sq", positive=True)
    g1, g2, h1, h2 = sp.symbols("gamma_l gamma_next gamma_bl gamma_bnext", positive=True)
    rates = {g1: T / s1, g2: T / s2, h1: T / b1, h2: T / b2}

    def check():
        C1 = [_prior(a, b, s1, s1, g1) for a, b in ((t, t), (s, s), (t, s))]
        C2 = _prior(t, s, s2, s2, g2)
        own = runtime.bias_terms(t, s, b1, b1, h1, g1, sp.exp)
        nxt = runtime.bias_terms(t, s, b2, b2, h2, g2, sp.exp)
        Kp, Tp = sp.Function("K_prev")(s), sp.Function("Theta_prev")(s)
        prev = Layer(sp.Symbol("Ktt_prev", positive=True), sp.Symbol("Kss_prev", positive=True), Kp, None, Tp)
        cur = runtime.step(prev, *C1, _Undefined, bias=own, C_next=C2, bias_next=nxt)
        # hypothesis: d/ds G_{l-1} = T Theta_{l-1} with G_{l-1} = C_l K_{l-1} + C_bl (the pre-activation of layer l)
        dKp = sp.solve(sp.Eq(sp.diff(C1[2] * Kp + own.C_ts, s), T * Tp), sp.Derivative(Kp, s))[0]
        dG = sp.diff(C2 * cur.K_ts + nxt.C_ts, s)
        step = _price(dG, sp.Function("Fq2")).subs(sp.Derivative(Kp, s), dKp) - T * cur.Theta_ts
        ok = symbolic_zero(step.subs(rates), seconds=20)
        return ("symbolic" if ok else "failed"), 0.0, "induction step in l with two groups of distinct rates " \
            "(the base case is bias.fdt's with group 1)"

    return custom_identity("layers.fdt.induction_step", "per-layer variances: long-time identity, induction in l "
                           "(any phi, each group its own rate)", r"\Theta_{l-1} = \tfrac{1}{T}\partial_s G_{l-1} "
                           r"\Rightarrow \Theta_l = \tfrac{1}{T}\partial_s G_l,\ G_l = C_{l+1} K_l + C_{b,l+1}", check)


def _layer_point(rng, L):
    """Random inputs and stationary per-layer variances (depth + 1 groups; biases on alternate groups)."""
    r = lambda a, b: mp.mpf(a + (b - a) * rng.random())  # noqa: E731
    ktt, kss = r(0.3, 1.2), r(0.3, 1.2)
    w = [r(0.3, 2.5) for _ in range(L + 1)]
    b = [r(0.1, 1.0) if l % 2 == 0 else mp.mpf(0) for l in range(L + 1)]
    ss = r(0.1, 1.5)
    return {"ktt": ktt, "kss": kss, "kts": r(-0.9, 0.9) * mp.sqrt(ktt * kss), "w": w, "b": b, "T": r(0.1, 0.6),
            "s": ss, "t": ss + r(0.1, 1.5)}


def layer_output_cov(duals, L, p, tt, ss):
    """(G_L(t, s), Theta_L(t, s)) of the stationary per-layer prior: the runtime recursion with
    :func:`~symndk.runtime.recursion.layer_priors` lists, G_L = C_{L+1} K_L + C_b,L+1."""
    C_tt, C_ss, C_ts, _, groups = runtime.layer_priors(tt, ss, p["w"], p["w"], p["T"], mp.exp, mp.expm1,
                                                       bias=(p["b"], p["b"]))
    lay = list(runtime.layers(p["ktt"], p["kss"], p["kts"], C_tt, C_ss, C_ts, L, duals, bias=groups))
    out = groups[-1].C_ts
    return C_ts[-1] * lay[L].K_ts + (0 if out is None else out), lay[L].Theta_ts


def _layers_fdt(name, duals, depths=(1, 2)):
    def evaluate(pL, foil=False):
        p, L = pL
        q = {**p, "w": [sum(p["w"]) / len(p["w"])] * len(p["w"])} if foil else p    # foil: the average variance
        dG = mp.diff(lambda x: layer_output_cov(duals, L, q, p["t"], x)[0], p["s"])
        return layer_output_cov(duals, L, p, p["t"], p["s"])[1], dG / p["T"]

    def check():
        rng = rng_for(f"layers.fdt.{name}")
        pts = [(_layer_point(rng, L), L) for L in depths for _ in range(2)]
        p0 = pts[0][0]
        limits = [lambda: (_same_input(p0, "1e-12")(), 1)]
        return _sampled_with_foil(evaluate, pts, limits, "one average variance",
                                  f"per-layer sigma^2 in 0.3..2.5, L = {depths}")

    return custom_identity(f"layers.fdt.{name}", f"{name}: long-time identity with per-layer variances "
                           "(each group its own rate)",
                           r"K^d(t,s) = \Theta_L(t,s) = \frac{1}{T}\partial_s G(t,s),\ G = C_{L+1} K_L + C_{b,L+1}",
                           check)


def identities(names):
    """Bias and per-layer-variance identities for the given closed-form activations."""
    out = [_fdt_induction(), _reduction(), _transient_induction(), _linear_equilibrium(), _layers_fdt_induction()]
    for name in names:
        duals = Duals(get_activation(name))
        out += [_ntk(name), _longtime(name, duals), _fdt(name, duals), _transient(name, duals),
                _transient_limits(name, duals), _equilibrium_integral(name, duals, 1 if name == "gelu" else 2),
                _layers_fdt(name, duals)]
    return out
