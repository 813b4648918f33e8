"""The identity families of ``symndk verify`` for an activation without closed-form dual kernels.

The kernels are the Mehler series of :mod:`symndk.kernels.hermite_mpfr` at :data:`DPS` digits,
each evaluation with a relative error bound ``eps`` (read after the evaluations). Derivatives
that the closed-form families take with ``mpmath.diff`` (at twice the precision, which would
rebuild the tables) are central differences at steps h, h/2, h/4 with Richardson extrapolation
(order h^6): error <= (truncation: the last Richardson correction) + 6.6 eps_abs / h (the
extrapolation weights times the kernel error). Every identity's tolerance is derived from these
terms, never a fixed number, and the detail line says which tolerance was used:

    tol = 10 (L + 1) eps scale + derivative error,   scale = max(|lhs|, |rhs|, kernel scale),

the factor 10 (L + 1) covering the propagation through L layers of the recursion (each layer
adds F's and C Fdot Theta's errors).

Families (as for closed forms; ``N`` random points each, plus the singular ones):
``price.<act>`` (dF/dc = F_phi', F_phi' from phi' independently), ``quad.<act>.F``/``.Fdot``
(polar 2-D quadrature, :mod:`symndk.identities.quadrature`), ``mean.<act>`` (1-D quadrature),
``ntk.<act>`` (symbolic, phi-independent: one layer of the two-time recursion at t = s = 0 is
the static NTK layer), ``longtime.<act>.L1..L5``, ``transient.<act>`` (L = 1..5),
``equilibrium.<act>.integral`` and ``drift.<act>.limit``.

Example:
    >>> [i.id for i in identities(["relu"])][:3]   # ids only; relu would take the closed-form families
    ['price.relu', 'quad.relu.F', 'quad.relu.Fdot']
"""
from __future__ import annotations

import math

import gmpy2
import mpmath as mp

from symndk.identities.engine import custom_identity, rel_residual, rng_for

#: working digits of the numeric identity checks; random points per family
DPS, POINTS = 30, 5
#: central-difference step (h^6 ~ eps / h at DPS digits)
STEP = mp.mpf("1e-4")
DEPTHS = (1, 2, 3, 4, 5)


class NumericDuals:
    """F, Fdot, V, Vdot, mean, dF/dq2, V'(q) of an activation without closed form on mpmath numbers
    (precision from ``mpmath.workdps``), with the kernel bound ``eps()``."""

    def __init__(self, name: str):
        from symndk.kernels.loader import load

        self.phi_k, self.dphi_k = load(name, "mpfr").mehler

    @staticmethod
    def _call(fn, *args):
        from symndk.certified.numbers import mpfr, to_mpf

        with gmpy2.context(gmpy2.get_context(), precision=mp.mp.prec):
            return to_mpf(fn(*[mpfr(mp.mpf(a)) for a in args]))

    def F(self, q1, q2, c):
        return self._call(self.phi_k.F, q1, q2, c)

    def Fdot(self, q1, q2, c):
        return self._call(self.dphi_k.F, q1, q2, c)

    def V(self, q):
        return self._call(self.phi_k.V, q)

    def Vdot(self, q):
        return self._call(self.dphi_k.V, q)

    def mean(self, q):
        return self._call(self.phi_k.mean, q)

    def Fq2(self, q1, q2, c):
        return richardson(lambda x: self.F(q1, x, c), q2, self.eps() * math.sqrt(float(self.V(q1) * self.V(q2))))[0]

    def dV(self, q):
        return richardson(self.V, q, self.eps() * float(self.V(q)))[0]

    def eps(self) -> float:
        """Largest relative error bound of the evaluations so far (at the current precision)."""
        with gmpy2.context(gmpy2.get_context(), precision=mp.mp.prec):
            return max(self.phi_k.max_rel_error, self.dphi_k.max_rel_error)


def richardson(f, x, eps_abs, h=STEP):
    """(f'(x), error bound): central differences at h, h/2, h/4, Richardson to order h^6; the bound
    is the last correction plus 6.6 eps_abs / h (``eps_abs``: absolute error of f).

    >>> with mp.workdps(30):
    ...     d, err = richardson(mp.sin, mp.mpf(1), 1e-30)
    ...     print(bool(abs(d - mp.cos(1)) <= err < 1e-20))
    True
    """
    D = [(f(x + k) - f(x - k)) / (2 * k) for k in (h, h / 2, h / 4)]
    R1 = [(4 * D[1] - D[0]) / 3, (4 * D[2] - D[1]) / 3]
    R2 = (16 * R1[1] - R1[0]) / 15
    return R2, float(abs(R2 - R1[1])) + 6.6 * eps_abs / float(h)


def _run(duals, evaluate, points, limits, L=1):
    """Evaluate ``point -> (lhs, rhs, extra_error, scale)`` at points and limit points; tolerance per point
    10 (L + 1) eps scale + extra_error (eps read after the evaluation)."""
    worst, worst_ratio = 0.0, 0.0
    for kind, pts in (("point", points), ("limit", limits)):
        for p in pts:
            with mp.workdps(DPS):
                lhs, rhs, extra, scale = evaluate(p() if callable(p) else p)
                scale = max(float(abs(lhs)), float(abs(rhs)), float(scale), 1e-300)
                tol = 10 * (L + 1) * duals.eps() * scale + extra
                r = float(rel_residual(lhs, rhs))
                if not r * scale <= tol:
                    return "failed", r, f"residual {r:.3g} > tolerance {tol / scale:.3g} (kernel bound) at {kind} {p}"
                worst, worst_ratio = max(worst, r), max(worst_ratio, tol / scale)
    return "sampled", worst, (f"{len(points)} points + {len(limits)} limit points at {DPS} digits; tolerance from the "
                              f"kernel bound eps = {duals.eps():.2g}: 10 (L+1) eps scale + derivative/quadrature "
                              f"error, largest {worst_ratio:.2g}")


def _dual_points(rng):
    from symndk.identities.cat_duals import dual_point
    from symndk.spec.dual import C, Q1, Q2

    out = []
    for _ in range(POINTS):
        p = dual_point(rng)
        out.append((p[Q1], p[Q2], p[C]))
    return out


def _rho_limits():
    def at(sgn):
        return lambda: (mp.mpf("0.7"), mp.mpf("1.3"), sgn * (1 - mp.mpf("1e-12")) * mp.sqrt(mp.mpf("0.91")))
    return [at(1), at(-1)]


def _price(name, duals):
    def evaluate(p):
        q1, q2, c = p
        scale = math.sqrt(float(duals.V(q1) * duals.V(q2)))
        h = min(STEP, (mp.sqrt(q1 * q2) - abs(c)) / 8) if abs(c) < mp.sqrt(q1 * q2) else STEP
        d, err = richardson(lambda x: duals.F(q1, q2, x), c, duals.eps() * scale, h)
        return d, duals.Fdot(q1, q2, c), err, math.sqrt(float(duals.Vdot(q1) * duals.Vdot(q2)))

    def check():
        rng = rng_for(f"price.{name}")
        limits = [lambda: (mp.mpf("0.7"), mp.mpf("1.3"), mp.mpf("0.9") * mp.sqrt(mp.mpf("0.91")))]
        return _run(duals, evaluate, _dual_points(rng), limits)

    return custom_identity(f"price.{name}", f"{name}: Price's theorem dF/dc = F_phi' (numeric kernels)",
                           r"\partial_c F_{\phi} = F_{\phi'}", check)


def _quad(name, duals, key, f):
    from symndk.identities.quadrature import gaussian_expectation_2d

    kern = lambda *a: (duals.F if key == "F" else duals.Fdot)(*a)  # noqa: E731  (loaded on first use)
    var = lambda q: (duals.V if key == "F" else duals.Vdot)(q)  # noqa: E731

    def evaluate(p):
        q1, q2, c = p
        value = kern(q1, q2, c)
        with mp.workdps(DPS + 4):
            truth = gaussian_expectation_2d(f, f, q1, q2, c)
        return value, truth, 10.0 ** -(DPS + 1), math.sqrt(float(var(q1) * var(q2)))

    def check():
        rng = rng_for(f"quad.{name}.{key}")
        return _run(duals, evaluate, _dual_points(rng), _rho_limits())

    return custom_identity(f"quad.{name}.{key}", f"{name}: numeric {key} vs 2-D quadrature",
                           r"F = E[\phi(u)\phi(v)] \;\text{vs quadrature}", check)


def _mean(name, duals, f):
    def evaluate(p):
        q = p
        s = mp.sqrt(q)
        with mp.workdps(DPS + 4):
            truth = mp.quad(lambda z: mp.npdf(z) * f(s * z), [-mp.inf, 0, mp.inf])
        return duals.mean(q), truth, 10.0 ** -(DPS + 1), math.sqrt(float(duals.V(q)))

    def check():
        rng = rng_for(f"mean.{name}")
        return _run(duals, evaluate, [mp.mpf(0.2 + 2.3 * rng.random()) for _ in range(POINTS)], [])

    return custom_identity(f"mean.{name}", f"{name}: mean E[phi(u)] vs 1-D quadrature", r"E[\phi(u)]", check)


def _longtime(name, duals, L):
    from symndk.identities.cat_kernels import _point, kernels

    def evaluate(p):
        lay = kernels(duals, L, p, p["t"], p["s"])
        scale = float(abs(kernels(duals, L, p, p["t"], p["t"])[L].Theta_ts))
        d, err = richardson(lambda x: kernels(duals, L, p, p["t"], x)[L].K_ts, p["s"],
                            10 * (L + 1) * duals.eps() * scale)
        return lay[L].Theta_ts - lay[L].K_ts, d / p["g"], err / float(p["g"]), scale

    def check():
        rng = rng_for(f"longtime.{name}.L{L}")
        pts = [_point(rng, True) for _ in range(POINTS)]
        same = lambda: {**pts[0], "kss": pts[0]["ktt"], "kts": pts[0]["ktt"], "t": pts[0]["s"] + mp.mpf("1e-3")}  # noqa: E731
        return _run(duals, evaluate, pts, [same], L)

    return custom_identity(f"longtime.{name}.L{L}", f"{name}, L={L}: long-time identity (numeric kernels)",
                           rf"\Theta_{L} - K_{L} = \frac{{1}}{{\gamma}}\partial_s K_{L}", check)


def _transient(name, duals):
    from symndk.identities.cat_kernels import _point, kernels, transient_terms

    def evaluate(pL):
        p, L = pL
        lay, E = transient_terms(duals, L, p, p["t"], p["s"])
        scale = float(abs(kernels(duals, L, p, p["t"], p["t"])[L].Theta_ts))
        d, err = richardson(lambda x: kernels(duals, L, p, p["t"], x)[L].K_ts, p["s"],
                            10 * (L + 1) * duals.eps() * scale)
        # E_L carries L Richardson derivatives (dF/dq2, V') of the kernels: each bounded as above
        return d - p["g"] * (lay[L].Theta_ts - lay[L].K_ts), E[L], 2 * (L + 1) * err, scale

    def check():
        rng = rng_for(f"transient.{name}")
        pts = [(_point(rng, False), L) for L in DEPTHS]
        return _run(duals, evaluate, pts, [], max(DEPTHS))

    return custom_identity(f"transient.{name}", f"{name}: exact transient term of d/ds K_L, L=1..5 (numeric kernels)",
                           r"\partial_s K_L - \gamma(\Theta_L - K_L) = E_L", check)


def _equilibrium(name, duals, L=2):
    from symndk.identities.cat_kernels import kernels

    def evaluate(p):
        g = p["g"]
        Kd = lambda tau: mp.exp(-g * tau) * kernels(duals, L, p, tau, mp.mpf(0))[L].Theta_ts  # noqa: E731
        # cut at gamma tau = 200: the rest is below e^-200 |Theta| (C(tau, 0) <= e^-200 K's scale), far
        # below the kernel bound; mp.quad's points near infinity would underflow the mpfr exponent
        lhs, qerr = mp.quad(Kd, [0, 1 / g, 4 / g, 16 / g, 64 / g, 200 / g], error=True)
        rhs = kernels(duals, L, p, mp.mpf(0), mp.mpf(0))[L].K_ts / g
        return lhs, rhs, float(qerr) + 1e-80 * float(abs(rhs)), float(abs(rhs))

    def check():
        rng = rng_for(f"equilibrium.{name}.integral")
        r = lambda a, b: mp.mpf(a + (b - a) * rng.random())  # noqa: E731
        pts = []
        for _ in range(POINTS):
            sig = r(0.5, 1.2)
            base = {"ktt": r(0.3, 1.2), "kss": r(0.3, 1.2), "sig": sig, "s0": sig, "g": r(0.2, 1.0)}
            pts.append({**base, "kts": r(-0.9, 0.9) * mp.sqrt(base["ktt"] * base["kss"])})
        same = {**pts[0], "kss": pts[0]["ktt"], "kts": pts[0]["ktt"]}
        return _run(duals, evaluate, pts, [same], L)

    return custom_identity(f"equilibrium.{name}.integral", f"{name}: int_0^inf K^d = K_GP / gamma (L={L}, numeric kernels)",
                           r"\int_0^\infty K^d(\tau)\,d\tau = \frac{1}{\gamma} K_{GP}", check)


def _drift(name, duals, L=2):
    from symndk.identities.cat_kernels import _point, kernels

    def evaluate(p):
        far = p["s"] + 80 / p["g"]  # C(t,s) ~ e^-80: below the kernel bound
        lay = kernels(duals, L, p, far, p["s"])
        q1, q2 = p["sig"] * lay[L - 1].K_tt, p["sig"] * lay[L - 1].K_ss
        return lay[L].K_ts, duals.mean(q1) * duals.mean(q2), 0.0, float(abs(lay[L].K_tt))

    def check():
        rng = rng_for(f"drift.{name}.limit")
        return _run(duals, evaluate, [_point(rng, True) for _ in range(POINTS)], [], L)

    return custom_identity(f"drift.{name}.limit", f"{name}: K_L(t,s) -> Kbar at long lag (L={L}, numeric kernels)",
                           r"\lim_{t-s\to\infty} K_L = E[\phi(u)]\,E[\phi(v)]", check)


def _ntk(name):
    import sympy as sp

    from symndk.identities.engine import symbolic_zero
    from symndk.spec.prior import C_ss, C_ts, C_tt, s, sigma0_sq, t
    from symndk.spec.recursion import layer_kernels, ndk

    class Undefined:  # any phi: F, Fdot, V undefined functions
        F, Fdot, V = sp.Function("F"), sp.Function("Fdot"), sp.Function("V")

    def check():
        kx, ky, k, th = sp.symbols("Kx Ky K Theta", positive=True)
        at0 = {t: 0, s: 0}
        lay = layer_kernels(Undefined, 1, kx, ky, k, *(e.subs(at0) for e in (C_tt, C_ss, C_ts)))[1]
        q1, q2, c = sigma0_sq * kx, sigma0_sq * ky, sigma0_sq * k
        want = (Undefined.V(q1), Undefined.V(q2), Undefined.F(q1, q2, c),
                Undefined.F(q1, q2, c) + sigma0_sq * Undefined.Fdot(q1, q2, c) * th)
        got = (lay.K_tt, lay.K_ss, lay.K_ts, lay.K_ts + C_ts.subs(at0) * lay.Kdot_ts * th)
        two = layer_kernels(Undefined, 1, kx, ky, k, *(e.subs(at0) for e in (C_tt, C_ss, C_ts)))
        ok = all(symbolic_zero(a - b) for a, b in zip(got, want))
        ok = ok and symbolic_zero(ndk(two).subs(at0) - want[3].subs(th, k))
        return ("symbolic" if ok else "failed"), 0.0, "one layer + induction on L, for any phi (F, Fdot, V undefined)"

    return custom_identity(f"ntk.{name}", f"{name}: NDK(0,0) = NTK with C = sigma0^2 (any phi)",
                           r"K^d(0,0) = \Theta^{\mathrm{NTK}}_L\big|_{C=\sigma_0^2}", check)


def identities(names):
    """The identity families for activations without closed-form kernels (see module docstring)."""
    from symndk.identities.quadrature import numeric
    from symndk.spec.activations import get_activation

    out = []
    for name in names:
        act = get_activation(name)
        duals = _Lazy(name)
        phi, dphi = numeric(act.expr), numeric(act.dphi)
        out += [_price(name, duals), _quad(name, duals, "F", phi), _quad(name, duals, "Fdot", dphi),
                _mean(name, duals, phi), _ntk(name)]
        out += [_longtime(name, duals, L) for L in DEPTHS]
        out += [_transient(name, duals), _equilibrium(name, duals), _drift(name, duals)]
    return out


class _Lazy:
    """:class:`NumericDuals` loaded on first use (building the catalogue stays cheap)."""

    def __init__(self, name):
        self.name, self._duals = name, None

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        if self._duals is None:
            self._duals = NumericDuals(self.name)
        return getattr(self._duals, attr)
