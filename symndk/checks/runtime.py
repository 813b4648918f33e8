"""``runtime.*`` identities: the code that runs equals the spec that was proved.

For every backend (``numpy`` float64, ``mpmath``, ``mpfr``) and activation, the runtime recursion
(:mod:`symndk.runtime.recursion`) is run through that backend's *generated* dual kernels, exactly
as the solvers run it: the prior and its cancellation-free Gram determinant in the backend's
arithmetic, the fused layer map carrying the Gram determinant, the same-input pin at t = s. The
result is compared with the SymPy spec (the SymPy dual kernels, evaluated at 60 digits) for
depths L = 1..5: K_L, Kdot_L, Theta_{L-1}, Theta_L and the NDK, at 5 random points and at the
singular ones (same input at t = s, rho = 1; opposite inputs, rho = -1; t = s; vanishing variance
C -> 0). For the scalar backends the transient term d/ds K_L - gamma (Theta_L - K_L) is also
compared with its derived recursion (:func:`symndk.identities.cat_kernels.transient_terms`).

``runtime.bias_gram.*`` (with ReLU and erf among the activations): the Gram determinant that the
recursion with biases hands to the fused layer map, :func:`symndk.runtime.recursion.gram_sum` of the
weight part and the bias prior, is proved equal to det(A + B) symbolically (``.symbolic``) and, per
backend, compared with the spec's q1 q2 - c^2 (q = C K + C_b, at 120 digits) at inputs near rho = 1
(1 - rho = 1e-15 / 1e-10 in float64, 1e-45 / 1e-30 at 60 digits), L = 1 and 3, t = s and t > s;
relative tolerance 1e-13 (float64) and 1e-40. Foil: q1 q2 - c^2 rounded in the backend must miss.

``codegen.gram_near.erf``: the arcsine-type form of the next layer's Gram determinant V(q1) V(q2) - F^2
that the generated numpy ``layer`` uses near rho = +-1 (atan differences, no subtraction of V1 V2 and F^2;
:func:`symndk.codegen.stable.angle_gram`) is proved equal to it symbolically.

Residuals are relative to the Cauchy-Schwarz scale sqrt(|a(x,x;t,t) a(x',x';s,s)|) of each
quantity a (so entries that vanish, e.g. the ReLU kernel at rho = -1, are judged on the scale
of the kernel). Tolerances: 1e-11 for float64 (depth 5 accumulates a few ulps per layer), 1e-40 for mpmath and MPFR (working precision 60
digits). One measured exception: at rho = -1 an even activation (abs) maps the pair to the same
output, i.e. to the rho = 1 square-root cusp of the next layer, where float64 keeps half the digits;
that point is held to 1e-7 in float64.

Example:
    >>> [i.id for i in identities(["relu"])][:3]
    ['runtime.numpy.relu', 'runtime.mpmath.relu', 'runtime.mpfr.relu']
    >>> [i.id for i in identities(["relu"])][3:]
    ['runtime.bias_gram.symbolic', 'runtime.bias_gram.numpy', 'runtime.bias_gram.mpmath', 'runtime.bias_gram.mpfr']
    >>> identities(["linear"])[0].verify().tier
    'sampled'
"""
from __future__ import annotations

import gmpy2
import mpmath as mp
import numpy as np

from symndk.identities.cat_kernels import Duals, transient_terms
from symndk.identities.engine import custom_identity, rng_for
from symndk.kernels import loader
from symndk.runtime import recursion as runtime
from symndk.spec.activations import get_activation

BACKENDS = ("numpy", "mpmath", "mpfr")
DEPTHS = (1, 2, 3, 4, 5)
TOL = {"numpy": 1e-11, "mpmath": 1e-40, "mpfr": 1e-40}
DPS = 60
QUANTITIES = ("K_L", "Kdot_L", "Theta_Lm1", "Theta_L", "NDK")


class _Arith:
    """The numbers and elementary functions of one backend."""

    def __init__(self, backend):
        self.backend = backend

    def num(self, v):
        if self.backend == "numpy":
            return float(v)
        if self.backend == "mpfr":
            return gmpy2.mpfr(mp.nstr(v, DPS + 10, strip_zeros=False))
        return mp.mpf(v)

    @property
    def exp(self):
        return {"numpy": np.exp, "mpmath": mp.exp, "mpfr": gmpy2.exp}[self.backend]

    @property
    def expm1(self):
        return {"numpy": np.expm1, "mpmath": mp.expm1, "mpfr": gmpy2.expm1}[self.backend]


def _values(layers, t, s, g, exp):
    prev, last = layers[-2], layers[-1]
    return (last.K_ts, last.Kdot_ts, prev.Theta_ts, last.Theta_ts, runtime.ndk(last.Theta_ts, t, s, g, exp))


def spec_values(duals, L, p, kt=None, ks=None, kts=None, tt=None, ss=None):
    """The SymPy spec (dual kernels lambdified at the working precision) through the recursion.

    At |rho| = 1 exactly (same or opposite inputs) the spec's closed forms sit on a branch point
    (sqrt of q1 q2 - c^2 that rounds to either sign), so there the spec is evaluated as the limit:
    at rho (1 - 1e-100) with 120 extra digits, which moves every quantity by at most O(1e-50)
    (square-root cusps).
    """
    kt, ks, kts = p["ktt"] if kt is None else kt, p["kss"] if ks is None else ks, p["kts"] if kts is None else kts
    tt, ss = p["t"] if tt is None else tt, p["s"] if ss is None else ss
    extra = 120 if abs(kts) * abs(kts) >= kt * ks else 0
    with mp.workdps(mp.mp.dps + extra + _small_scale_digits(p, kt, ks)):
        if extra:
            kts = kts * (1 - mp.mpf(10) ** -100)
        C = [runtime.prior_C(a, b, p["s0"], p["sig"], p["g"], mp.exp) for a, b in ((tt, tt), (ss, ss), (tt, ss))]
        return _values(list(runtime.layers(kt, ks, kts, *C, L, duals)), tt, ss, p["g"], mp.exp)


def _small_scale_digits(p, kt, ks):
    """Extra digits for the spec at small variances: its closed forms cancel like the generated ones
    (about 1-2 digits per decade of the smallest layer variance, measured for GELU and sin), and the
    variances shrink by a bounded factor per layer; 3 digits per decade below 1, plus 10, cover L <= 5.

    >>> _small_scale_digits({"s0": mp.mpf("1e-8"), "sig": mp.mpf(1)}, mp.mpf(1), mp.mpf(1))
    34
    """
    smallest = min(p["s0"], p["sig"]) * min(kt, ks)
    decades = max(0, -int(mp.floor(mp.log10(smallest)))) if smallest > 0 else 0
    return 3 * decades + 10 if decades else 0


def backend_values(arith, duals, L, p):
    """The generated kernels of one backend through the runtime recursion, as the solvers call it."""
    n = {k: arith.num(v) for k, v in p.items() if k != "same"}
    t, s, lag = n["t"], n["s"], arith.num(p["t"] - p["s"])
    C = [runtime.prior_C(a, b, n["s0"], n["sig"], n["g"], arith.exp, expm1=arith.expm1) for a, b in ((t, t), (s, s))]
    C.append(runtime.prior_C(t, s, n["s0"], n["sig"], n["g"], arith.exp, lag, arith.expm1))
    D_C = runtime.prior_gram(t, s, n["s0"], n["sig"], n["g"], arith.exp, arith.expm1, lag)
    D_0 = 0 * n["ktt"] if p.get("same") else n["ktt"] * n["kss"] - n["kts"] * n["kts"]
    same = 1 if p.get("same") and p["t"] == p["s"] else None
    layers = list(runtime.layers(n["ktt"], n["kss"], n["kts"], *C, L, duals, D_C=D_C, D_0=D_0, same=same))
    return _values(layers, t, s, n["g"], arith.exp)


def _point(rng):
    r = lambda a, b: mp.mpf(a + (b - a) * rng.random())  # noqa: E731
    ktt, kss = r(0.3, 1.5), r(0.3, 1.5)
    p = {"ktt": ktt, "kss": kss, "kts": r(-0.9, 0.9) * mp.sqrt(ktt * kss), "sig": r(0.5, 1.5),
         "s0": r(0.2, 2.0), "g": r(0.1, 1.0), "s": r(0.0, 2.0)}
    p["t"] = p["s"] + r(0.0, 2.0)
    return p


def singular_points(p):
    """Same input at t = s (rho = 1), opposite inputs (rho = -1), t = s, and C -> 0 (tiny sigma0^2 at t = 0)."""
    k = p["ktt"]
    return {
        "same input, t = s": {**p, "kss": k, "kts": k, "t": p["s"], "same": True},
        "rho = -1, t = s": {**p, "kss": k, "kts": -k, "t": p["s"]},
        "t = s": {**p, "t": p["s"]},
        "C -> 0": {**p, "s0": mp.mpf("1e-8"), "t": mp.mpf(0), "s": mp.mpf(0)},
    }


def _residual(a, b, scale):
    a = mp.mpf(str(a)) if not isinstance(a, (mp.mpf, float, int)) else mp.mpf(a)
    if not (mp.isfinite(a) and mp.isfinite(b)):
        return mp.inf
    return abs(a - b) / max(abs(b), scale, mp.mpf(10) ** -300)


def _scales(spec, L, p):
    """Cauchy-Schwarz scales sqrt(|a(x,x;t,t) a(x',x';s,s)|) of each quantity."""
    at_t = spec_values(spec, L, p, p["ktt"], p["ktt"], p["ktt"], p["t"], p["t"])
    at_s = spec_values(spec, L, p, p["kss"], p["kss"], p["kss"], p["s"], p["s"])
    return [mp.sqrt(abs(a * b)) for a, b in zip(at_t, at_s)]



def _transient(arith, duals, spec, L, p):
    """d/ds K_L - gamma (Theta_L - K_L) of the backend (central difference at high precision) vs E_L."""
    h = mp.mpf(10) ** -20

    def K_at(ss):
        return mp.mpf(str(backend_values(arith, duals, L, {**p, "s": ss})[0]))

    dK = (K_at(p["s"] + h) - K_at(p["s"] - h)) / (2 * h)
    K, _, _, theta, _ = backend_values(arith, duals, L, p)
    lay, E = transient_terms(spec, L, p, p["t"], p["s"])
    scale = max(abs(E[L]), p["g"] * abs(mp.mpf(str(theta))), mp.mpf(10) ** -300)
    return abs(dK - p["g"] * (mp.mpf(str(theta)) - mp.mpf(str(K))) - E[L]) / scale


def _identity(backend, name):
    ident_id = f"runtime.{backend}.{name}"

    def check():
        tol = mp.mpf(TOL[backend])
        arith = _Arith(backend)
        with mp.workdps(DPS), gmpy2.context(precision=int(DPS * 3.33) + 16):
            duals = loader.load(name, backend)
            spec = Duals(get_activation(name))
            rng = rng_for(ident_id)
            randoms = [_point(rng) for _ in range(5)]
            points = [(f"random {i}", q) for i, q in enumerate(randoms)]
            points += list(singular_points(randoms[0]).items())
            worst, count = mp.mpf(0), 0
            for label, q in points:
                for L in DEPTHS:
                    got = backend_values(arith, duals, L, q)
                    want = spec_values(spec, L, q)
                    tol_here = mp.mpf("1e-7") if backend == "numpy" and label.startswith("rho = -1") else tol
                    for qty, a, b, sc in zip(QUANTITIES, got, want, _scales(spec, L, q)):
                        r = _residual(a, b, sc)
                        count += 1
                        worst = max(worst, r)
                        if not r <= tol_here:
                            return "failed", float(r), f"{qty} at L={L}, {label}: residual {mp.nstr(r, 3)} > {float(tol_here):g}"
            if backend != "numpy":
                for L in DEPTHS:
                    q = {**randoms[L - 1], "s": randoms[L - 1]["s"] + mp.mpf("0.1")}
                    r = _transient(arith, duals, spec, L, q)
                    count += 1
                    worst = max(worst, r)
                    if not r <= mp.mpf(10) ** -30:
                        return "failed", float(r), f"transient term at L={L}: residual {mp.nstr(r, 3)} > 1e-30"
        return "sampled", float(worst), (f"{count} comparisons: {len(randoms)} random + {len(points) - len(randoms)} "
                                         f"singular points x L=1..5 x {', '.join(QUANTITIES)}"
                                         + ("" if backend == "numpy" else " + transient term"))

    return custom_identity(ident_id, f"{name}: {backend} runtime recursion equals the SymPy spec (L = 1..5)",
                           rf"\mathrm{{{backend}}}(K_L, \dot K_L, \Theta_{{L-1}}, \Theta_L, K^d) = \mathrm{{spec}}", check)


# ----------------------------------------------------------------------------- the Gram carry with biases

def _bias_gram_symbolic():
    """:func:`~symndk.runtime.recursion.gram_sum` on SymPy symbols is det(A + B) = (a11 + b11)(a22 + b22) -
    (a12 + b12)^2 for every sign of a12, b12 (the two branches of |a12 b12|), and at A = 0 (its guard)."""
    import sympy as sp

    a11, a22, b11, b22, p, q = sp.symbols("a11 a22 b11 b22 p q", positive=True)

    def check():
        cases = [(x, y) for x in (p, -p) for y in (q, -q)]
        for a12, b12 in cases:
            got = runtime.gram_sum(a11, a22, a12, a11 * a22 - a12 ** 2, b11, b22, b12, b11 * b22 - b12 ** 2)
            if sp.simplify(got - ((a11 + b11) * (a22 + b22) - (a12 + b12) ** 2)) != 0:
                return "failed", float("nan"), f"a12 = {a12}, b12 = {b12}"
        zero = runtime.gram_sum(sp.S.Zero, sp.S.Zero, sp.S.Zero, sp.S.Zero, b11, b22, q, b11 * b22 - q ** 2)
        if sp.simplify(zero - (b11 * b22 - q ** 2)) != 0:
            return "failed", float("nan"), "A = 0"
        return "symbolic", 0.0, "4 sign cases of (a12, b12) and A = 0"

    return custom_identity("runtime.bias_gram.symbolic", "the Gram determinant with biases: gram_sum = det(A + B)",
                           r"D_A + D_B + \frac{(u-v)^2 + 4(a_{11}a_{22}D_B + b_{12}^2 D_A)}{u+v+2|m|} + 2(|m|-m)"
                           r" = \det(A+B)", check)


class _Recorder:
    """Dual kernels that record the (q1, q2, c, D) the recursion hands to the fused layer map."""

    def __init__(self, duals):
        self._duals, self.calls = duals, []

    def __getattr__(self, name):
        return getattr(self._duals, name)

    def layer(self, q1, q2, c, D=None):
        self.calls.append((q1, q2, c, D))
        return self._duals.layer(q1, q2, c, D)

    def kernels(self, q1, q2, c, D=None):
        self.calls.append((q1, q2, c, D))
        return self._duals.kernels(q1, q2, c, D)


#: 1 - rho of the inputs at the Gram-carry points, per backend (float64 / 60 digits)
BIAS_GRAM_GAPS = {"numpy": ("1e-15", "1e-10"), "mpmath": ("1e-45", "1e-30"), "mpfr": ("1e-45", "1e-30")}
BIAS_GRAM_TOL = {"numpy": 1e-13, "mpmath": 1e-40, "mpfr": 1e-40}


def _bias_gram_points(rng, backend):
    """Inputs near rho = 1 (equal and unequal norms), biases, t = s and t - s = 1e-12 / 0.3."""
    r = lambda a, b: mp.mpf(a + (b - a) * rng.random())  # noqa: E731
    out = []   # (label, point, whether the rounded q1 q2 - c^2 must miss there: the foil)
    for gap in BIAS_GRAM_GAPS[backend]:
        for stretch, lag in ((1, "0"), (r(1.0, 1.3), "0"), (1, "1e-12"), (1, "0.3")):
            ktt = r(0.3, 1.5)
            kss = ktt * stretch ** 2
            p = {"ktt": ktt, "kss": kss, "kts": (1 - mp.mpf(gap)) * mp.sqrt(ktt * kss), "sig": r(0.5, 1.5),
                 "s0": r(0.2, 2.0), "g": r(0.1, 1.0), "s": r(0.0, 2.0), "b0": r(0.1, 1.0), "b2": r(0.2, 1.2),
                 "gb": r(0.1, 1.0)}
            p["t"] = p["s"] + mp.mpf(lag)
            foil = gap == BIAS_GRAM_GAPS[backend][0] and stretch == 1 and lag == "0"
            out.append((f"1 - rho = {gap}, |x'|/|x| = {mp.nstr(stretch, 3)}, t - s = {lag}", p, foil))
    return out


def bias_gram_values(arith, duals, L, p):
    """Per layer l = 1..L of the recursion with biases: (the Gram determinant the backend hands to the
    layer map, the spec's q1 q2 - c^2, the backend's q1 q2 - c^2 rounded: the foil); None where the
    recursion does not carry it. The spec is taken at
    120 digits from the exact prior and the backend's layer l - 1 as carried: K(x,x), K(x',x') and the
    Gram determinant D_{l-1}, with K(x,x') = sqrt(K(x,x) K(x',x') - D_{l-1}) of the sign of the backend's
    (what the layer maps' own D is worth is the ``runtime.<backend>.<activation>`` identities' business)."""
    n = {k: arith.num(v) for k, v in p.items()}
    t, s, lag = n["t"], n["s"], arith.num(p["t"] - p["s"])
    C = [runtime.prior_C(a, b, n["s0"], n["sig"], n["g"], arith.exp, expm1=arith.expm1) for a, b in ((t, t), (s, s))]
    C.append(runtime.prior_C(t, s, n["s0"], n["sig"], n["g"], arith.exp, lag, arith.expm1))
    D_C = runtime.prior_gram(t, s, n["s0"], n["sig"], n["g"], arith.exp, arith.expm1, lag)
    bias = runtime.bias_terms(t, s, n["b0"], n["b2"], n["gb"], n["g"], arith.exp, lag, arith.expm1)
    exact = lambda v: mp.mpf(str(v)) if arith.backend == "mpfr" else mp.mpf(v)  # noqa: E731  (mpfr: all its digits)
    with mp.workdps(DPS + 60):   # the input Gram determinant of the (rounded) inputs, exactly
        D_0 = arith.num(exact(n["ktt"]) * exact(n["kss"]) - exact(n["kts"]) ** 2)
    rec = _Recorder(duals)
    lay = list(runtime.layers(n["ktt"], n["kss"], n["kts"], *C, L, rec, D_C=D_C, D_0=D_0, bias=bias))
    if len(rec.calls) != L or any(a.D is None for a in lay[:-1]):
        return None    # the Gram determinant is not carried
    want = []
    with mp.workdps(DPS + 60):
        tt, ss = mp.mpf(p["t"]), mp.mpf(p["s"])
        Cs = [runtime.prior_C(a, b, p["s0"], p["sig"], p["g"], mp.exp) for a, b in ((tt, tt), (ss, ss), (tt, ss))]
        sb = runtime.bias_terms(tt, ss, p["b0"], p["b2"], p["gb"], p["g"], mp.exp, tt - ss, mp.expm1)
        for a in lay[:-1]:
            ktt, kss = exact(a.K_tt), exact(a.K_ss)
            kts = mp.sign(exact(a.K_ts)) * mp.sqrt(ktt * kss - exact(a.D))
            want.append((Cs[0] * ktt + sb.C_tt) * (Cs[1] * kss + sb.C_ss) - (Cs[2] * kts + sb.C_ts) ** 2)
    naive = [q1 * q2 - c * c for q1, q2, c, _ in rec.calls]
    return [D for *_, D in rec.calls], want, naive


def _bias_gram(backend, names=("relu", "erf")):
    ident_id = f"runtime.bias_gram.{backend}"

    def check():
        tol, arith = mp.mpf(BIAS_GRAM_TOL[backend]), _Arith(backend)
        worst, foil, count = mp.mpf(0), mp.inf, 0
        with mp.workdps(DPS), gmpy2.context(precision=int(DPS * 3.33) + 16):
            for name in names:
                duals = loader.load(name, backend)
                for label, p, at_foil in _bias_gram_points(rng_for(ident_id), backend):
                    for L in (1, 3):
                        values = bias_gram_values(arith, duals, L, p)
                        if values is None:
                            return "failed", float("inf"), f"{name}, L = {L}, {label}: the Gram determinant is not carried"
                        got, want, naive = values
                        for l, (a, b, c) in enumerate(zip(got, want, naive), 1):
                            r = _residual(a, b, mp.mpf(0))
                            count += 1
                            worst = max(worst, r)
                            if not r <= tol:
                                return "failed", float(r), f"{name}, layer {l} of {L}, {label}: {mp.nstr(r, 3)} > {float(tol):g}"
                            if at_foil:
                                foil = min(foil, _residual(c, b, mp.mpf(0)))
        if not foil > 1e3 * tol:
            return "failed", float(foil), f"the foil (q1 q2 - c^2 rounded) passes too: {mp.nstr(foil, 3)}"
        return "sampled", float(worst), (f"{count} layer Gram determinants ({', '.join(names)}, L = 1, 3, 1 - rho = "
                                         f"{' and '.join(BIAS_GRAM_GAPS[backend])}, equal/unequal norms, t - s = 0, "
                                         f"1e-12, 0.3); foil q1 q2 - c^2: {mp.nstr(foil, 3)}")

    return custom_identity(ident_id, f"{backend}: the Gram determinant carried with biases equals the spec's "
                           "q1 q2 - c^2", r"\mathrm{gram}_l = q_1 q_2 - c^2\ (q = C K + C_b)", check)


# ----------------------------------------------------------------------------- the next layer's Gram determinant

#: activations whose numpy ``layer`` takes the next Gram determinant near rho = +-1 from atan differences
#: (arcsine-type kernels, :func:`symndk.codegen.stable.angle_gram`)
ANGLE_GRAM = ("erf",)


def _angle_gram(name):
    """``codegen.gram_near.<name>``: the arcsine-type form of V(q1) V(q2) - F^2 that the generated numpy
    ``_gram_near`` evaluates (:func:`symndk.codegen.stable.angle_gram`) equals it, symbolically
    (:func:`symndk.codegen.stable.prove_angle_gram`), and the generated module has that helper."""
    def check():
        from symndk.codegen.kernelspec import stabilised
        from symndk.codegen.stable import angle_gram, prove_angle_gram
        from symndk.spec.dual import Q, Q1, Q2, C, dual_kernels

        stab = stabilised(dual_kernels(get_activation(name)))
        ag = angle_gram(stab["F"], stab["V"], Q1, Q2, C, Q)
        if ag is None:
            return "failed", float("inf"), "not an arcsine-type kernel"
        why = prove_angle_gram(ag, stab["F"], stab["V"], Q1, Q2, C, Q)
        if why is not None:
            return "failed", float("inf"), why
        if not hasattr(loader.load(name, "numpy"), "_gram_near"):
            return "failed", float("inf"), "the generated numpy module has no _gram_near"
        return "symbolic", 0.0, ("gaps x^2 - y^2 as rational functions (factors D and q1 - q2), atan differences "
                                 "of non-negative arguments, the angle polynomial, F odd in c")

    return custom_identity(f"codegen.gram_near.{name}", f"{name}: the next layer's Gram determinant from atan "
                           "differences equals V(q1) V(q2) - F^2",
                           r"K^2[\theta^*(d_1 + d_2) + d_1 d_2 + (\theta^* - \theta)(\theta^* + \theta)] = V_1 V_2 - F^2",
                           check)


def identities(names) -> list:
    """One ``runtime.<backend>.<activation>`` identity per backend and closed-form activation, the
    ``runtime.bias_gram.*`` checks of the Gram-determinant carry with biases and the ``codegen.gram_near.*``
    proofs of the arcsine-type next-layer Gram determinant."""
    gram = [n for n in ("relu", "erf") if n in names]
    return [_identity(b, name) for name in names for b in BACKENDS] + \
        ([_bias_gram_symbolic()] + [_bias_gram(b, gram) for b in BACKENDS] if gram else []) + \
        [_angle_gram(n) for n in ANGLE_GRAM if n in names]

