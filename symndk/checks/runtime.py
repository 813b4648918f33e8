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

Residuals are relative to the Cauchy-Schwarz scale sqrt(|a(x,x;t,t) a(x',x';s,s)|) of each
quantity a (so entries that vanish, e.g. the ReLU kernel at rho = -1, are judged on the scale
of the kernel). Tolerances: 1e-11 for float64 (depth 5 accumulates a few ulps per layer), 1e-40 for mpmath and MPFR (working precision 60
digits). One measured exception: at rho = -1 an even activation (abs) maps the pair to the same
output, i.e. to the rho = 1 square-root cusp of the next layer, where float64 keeps half the digits;
that point is held to 1e-7 in float64.

Example:
    >>> [i.id for i in identities(["relu"])]
    ['runtime.numpy.relu', 'runtime.mpmath.relu', 'runtime.mpfr.relu']
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


def identities(names) -> list:
    """One ``runtime.<backend>.<activation>`` identity per backend and closed-form activation."""
    return [_identity(b, name) for name in names for b in BACKENDS]

