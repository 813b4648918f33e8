"""Identities of Markov proximal learning (docs/theory.md §D).

Symbolic (exact rewrites or ``sympy.limit``):

* ``proximal.convention`` -- with t = n/lambda, one step has drift lambda (a - 1) -> -kappa and
  variance lambda v -> 1/beta; the Langevin equation of §1 has diffusion 2T, so beta = 1/(2T);
* ``proximal.c_inf.stationary`` -- c_inf = a^2 c_inf + v at that convention;
* ``proximal.C_n.recursion`` -- C_{k+1} = a^2 C_k + v for the closed form C_k;
* ``proximal.sibling`` -- Cov(theta_m, theta'_m) = a^2 C_{m-1} = C_m - v;
* ``proximal.lambda_limit.propagator`` -- a^{lambda t} -> e^{-kappa t};
* ``proximal.lambda_limit.C`` -- C_{lambda t} -> C(t, t) of the OU prior (§2) with gamma = kappa;
* ``proximal.proximal_point`` -- the beta -> inf sums are solved by (I + K/lambda)^{-n} Y;
* ``proximal.schedule.constant`` -- the lambda_n recursion at constant lambda is the closed form.

Sampled (mpmath, 60 digits; per activation among linear, relu, erf):

* ``proximal.<act>.integral_form`` -- DeltaK by Gauss-Legendre in u (c = c_hi - w u^2) equals the
  difference G(c_hi) - G(c_hi - w) (Price: dG/dc = Theta_L[c]);
* ``proximal.<act>.lambda_limit.ndk`` -- lambda beta DeltaK(lambda t, lambda s) -> K^d(t, s), at
  lambda = 1e30, and the error halves when lambda doubles (order 1);
* ``proximal.<act>.beta_limit`` -- beta DeltaK -> Theta_NTK / lambda as T -> 0 (T = 1e-80: on the
  same-input ReLU diagonal the approach is only O(sqrt(T)), the cusp of Theta_L[c] at rho = 1);
* ``proximal.<act>.sum_rule`` -- stationary sum_k DeltaK(lag k) = G(c_inf) + G(a c_inf);
* ``proximal.<act>.psd`` -- DeltaK(n, n; X, X) is positive semidefinite (four inputs, two nearly
  collinear);
* ``proximal.<act>.equilibrium`` -- the stationary implicit sums marched to convergence give
  (k0 + k1)^T (K0 + K1 + I/beta)^{-1} Y.

Parameter groups (biases and per-layer variances, L = 2, four distinct kappa_g = T / sigma_g^2,
biases on layer 1 and the output; docs/theory.md §D):

* ``proximal.<act>.groups.integral_form`` -- the line integral over the group covariances, whose
  integrand is the recursion with the widths w_g as propagators, equals G(c_hi) - G(c_hi - w)
  computed from the output kernel alone;
* ``proximal.<act>.groups.lambda_limit.ndk`` -- lambda beta DeltaK(lambda t, lambda s) -> the Langevin NDK
  of the same network (per-layer OU priors with biases), order 1/lambda;
* ``proximal.<act>.groups.sum_rule`` -- stationary sum_k DeltaK(lag k) = G(c_inf) + G(a c_inf) with every
  group at its own c_inf,g and a_g c_inf,g (foil: one common a fails): the finite-lambda equilibrium.

Example:
    >>> [i.verify().tier for i in identities([]) if i.id == "proximal.c_inf.stationary"]
    ['symbolic']
"""
from __future__ import annotations

import mpmath as mp
import sympy as sp

from symndk.identities.engine import custom_identity, expr_identity, rng_for, sampled, symbolic_zero
from symndk.runtime import proximal as rt
from symndk.runtime.recursion import layer_kernels, layer_priors, ndk, prior_C
from symndk.spec import proximal as sx
from symndk.spec.activations import get_activation
from symndk.spec.prior import T, sigma0_sq, sigma_sq
from symndk.spec.recursion import MpDuals

SAMPLED_ACTIVATIONS = ("linear", "relu", "erf")
_t = sp.Symbol("t", positive=True)
_k = sp.Symbol("k", integer=True, nonnegative=True)


def gauss_legendre01(n: int):
    """n-point Gauss-Legendre rule on [0, 1] at the current mpmath precision (Newton-refined)."""
    nodes, weights = [], []
    for i in range(1, n + 1):
        x = mp.cos(mp.pi * (i - mp.mpf(1) / 4) / (n + mp.mpf(1) / 2))   # Tricomi's first guess
        for _ in range(100):
            p0, p1 = mp.mpf(1), x
            for j in range(2, n + 1):
                p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
            dp = n * (x * p1 - p0) / (x * x - 1)
            dx = p1 / dp
            x -= dx
            if abs(dx) < mp.mpf(10) ** (-mp.mp.dps - 5):
                break
        p0, p1 = mp.mpf(1), x
        for j in range(2, n + 1):
            p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
        dp = n * (x * p1 - p0) / (x * x - 1)
        nodes.append((x + 1) / 2)
        weights.append(1 / ((1 - x * x) * dp * dp))
    return nodes, weights


class _Chain:
    """The MPL prior chain at a parameter point, in mpmath (convention beta = 1/(2T))."""

    def __init__(self, lam, kappa, s0, s2):
        self.lam, self.kappa, self.s0, self.s2 = map(mp.mpf, (lam, kappa, s0, s2))
        self.T = self.kappa * self.s2
        self.beta = 1 / (2 * self.T)
        self.a, self.v, self.rate = rt.chain(self.lam, self.kappa, self.beta, mp.log1p)
        self.cinf = rt.stationary_variance(self.s2, self.lam, self.kappa)

    def C(self, k):
        return rt.variance(k, self.s0, self.cinf, self.rate, mp.exp, mp.expm1)

    def delta(self, duals, L, k0, nn, mm, gl):
        Cm = self.C(mm)
        c_hi = rt.covariance(nn, mm, Cm, self.rate, mp.exp)
        width = mp.exp(-self.rate * (nn - mm)) * self.v
        D_hi = rt.gram(nn, mm, Cm, self.cinf, self.rate, mp.expm1)
        return rt.delta_kernel(*k0, self.C(nn), Cm, c_hi, width, D_hi, L, duals, *gl)

    def difference(self, duals, L, k0, nn, mm):
        Cm = self.C(mm)
        c_hi = rt.covariance(nn, mm, Cm, self.rate, mp.exp)
        width = mp.exp(-self.rate * (nn - mm)) * self.v
        return rt.delta_kernel_difference(*k0, self.C(nn), Cm, c_hi, width, L, duals)


def _inputs(rng, same=False):
    r = lambda a, b: mp.mpf(a + (b - a) * rng.random())  # noqa: E731
    ktt, kss = r(0.4, 1.3), r(0.4, 1.3)
    if same:
        return ktt, ktt, ktt
    return ktt, kss, r(-0.9, 0.9) * mp.sqrt(ktt * kss)


# ----------------------------------------------------------------------------- symbolic

def _limit_identity(ident_id, title, latex, expr, want):
    def check():
        got = sp.limit(expr, sx.lam, sp.oo)
        ok = symbolic_zero(sp.simplify(got - want), 20)
        return ("symbolic", 0.0, "sympy.limit") if ok else ("failed", float("nan"), f"limit is {got}")
    return custom_identity(ident_id, title, latex, check)


def _convention():
    def check():
        drift = sp.limit(sx.lam * (sx.A - 1), sx.lam, sp.oo)
        diffusion = sp.limit(sx.lam * sx.V, sx.lam, sp.oo).subs(sx.beta, 1 / (2 * T))
        ok = symbolic_zero(drift + sx.kappa_sym) and symbolic_zero(diffusion - 2 * T)
        wrong = sp.limit(sx.lam * sx.V, sx.lam, sp.oo).subs(sx.beta, 1 / T)   # the other convention
        ok = ok and not symbolic_zero(wrong - 2 * T)
        return ("symbolic", 0.0, "drift -kappa, diffusion 2T only at beta = 1/(2T)") if ok else \
            ("failed", float("nan"), f"drift {drift}, diffusion {diffusion}")
    return custom_identity("proximal.convention", "t = n/lambda: MPL -> Langevin (drift -kappa theta, diffusion 2T) iff beta = 1/(2T)",
                           r"\lambda(a-1)\to-\kappa,\ \lambda v \to 1/\beta = 2T", check)


def _proximal_point():
    x = sp.Symbol("x", positive=True)
    nn = sp.Symbol("n", integer=True, positive=True)
    mm = sp.Symbol("m", integer=True, positive=True)

    def check():
        lhs = (1 + x) ** (-nn) + x * sp.summation((1 + x) ** (-mm), (mm, 1, nn))
        ok = symbolic_zero(sp.simplify(lhs - 1), 20)
        return ("symbolic", 0.0, "geometric sum, per eigenvalue x of K/lambda") if ok else ("failed", float("nan"), str(lhs))
    return custom_identity("proximal.proximal_point", "beta -> inf: Y - f(n) = (I + K/lambda)^{-n} Y solves r(n) + (K/lambda) sum_{m<=n} r(m) = Y",
                           r"(1+x)^{-n} + x\sum_{m=1}^n (1+x)^{-m} = 1", check)


def _schedule_constant():
    def check():
        a, v, C = rt.schedule([sx.lam] * 3, sx.kappa_sym, sx.beta, sigma0_sq)
        conv = sx.CONVENTION
        ok = all(symbolic_zero(sp.simplify((C[k] - sx.C_n(k)).subs(conv)), 20) for k in range(4))
        return ("symbolic", 0.0, "k = 0..3") if ok else ("failed", float("nan"), "schedule differs")
    return custom_identity("proximal.schedule.constant", "lambda_n = lambda: C_n = a_n^2 C_{n-1} + v_n is the closed form",
                           r"C_n = a_n^2 C_{n-1} + v_n", check)


def _symbolic_identities():
    conv = sx.CONVENTION
    ranges = {sx.lam: (0.3, 5), T: (0.01, 1), sigma_sq: (0.3, 3), sigma0_sq: (0.2, 3), _k: (0, 5)}
    C_lam_t = sx.C_n(sx.lam * _t).subs(conv)
    ou = prior_C(_t, _t, sigma0_sq, sigma_sq, T / sigma_sq, sp.exp)
    return [
        _convention(),
        expr_identity("proximal.c_inf.stationary", "c_inf is the stationary AR(1) variance (beta = 1/(2T))",
                      (sx.A ** 2 * sx.C_INF + sx.V).subs(conv), sx.C_INF.subs(conv), ranges,
                      latex=r"c_\infty = a^2 c_\infty + v = \sigma^2\,\frac{2(\lambda+\kappa)}{2\lambda+\kappa}"),
        expr_identity("proximal.C_n.recursion", "C_{k+1} = a^2 C_k + v",
                      sx.C_n(_k + 1).subs(conv), (sx.A ** 2 * sx.C_n(_k) + sx.V).subs(conv), ranges,
                      latex=r"C_{k+1} = a^2 C_k + v"),
        expr_identity("proximal.sibling", "Cov(theta_m, theta'_m) = a^2 C_{m-1} = C_m - v",
                      sx.sibling(_k + 1, _k + 1).subs(conv), (sx.A ** 2 * sx.C_n(_k)).subs(conv), ranges,
                      latex=r"\mathrm{Cov}(\theta_m,\theta'_m) = a^2 C_{m-1} = C_m - v"),
        _limit_identity("proximal.lambda_limit.propagator", "a^{lambda t} -> e^{-kappa t}",
                        r"a^{\lambda t}\to e^{-\kappa t}", sx.A ** (sx.lam * _t), sp.exp(-sx.kappa_sym * _t)),
        _limit_identity("proximal.lambda_limit.C", "C_{lambda t} -> C(t, t) of the OU prior (gamma = kappa = T/sigma^2)",
                        r"C_{\lambda t}\to C(t,t)", C_lam_t, ou),
        _proximal_point(),
        _schedule_constant(),
    ]


# ----------------------------------------------------------------------------- sampled

def _integral_form(name, L=2):
    duals = MpDuals(get_activation(name))
    ident = f"proximal.{name}.integral_form"

    def evaluate(p):
        ch, k0 = p["chain"], p["k0"]
        gl = gauss_legendre01(48)
        return ch.delta(duals, L, k0, p["n"], p["m"], gl), ch.difference(duals, L, k0, p["n"], p["m"])

    def check():
        rng = rng_for(ident)
        with mp.workdps(70):
            ch = _Chain(mp.mpf(2) + rng.random(), mp.mpf("0.3"), mp.mpf("0.7"), mp.mpf(1))
            pts = [{"chain": ch, "k0": _inputs(rng), "n": 3, "m": 1}, {"chain": ch, "k0": _inputs(rng, True), "n": 2, "m": 2},
                   {"chain": ch, "k0": _inputs(rng), "n": 4, "m": 4}]
        return sampled(evaluate, pts, digits=40)
    return custom_identity(ident, f"{name}: DeltaK as int Theta_L[c] dc (Gauss-Legendre, c = c_hi - w u^2) = G(c_hi) - G(c_hi - w), L={L}",
                           r"\int_{c_{hi}-w}^{c_{hi}}\Theta_L[c]\,dc = G(c_{hi}) - G(c_{hi}-w)", check)


def _lambda_limit_check(ident, pair):
    """The check of a lambda -> inf limit: ``pair(lam, k0, tt, ss, gl)`` -> (lhs, rhs) at 100 digits (t = 1.3,
    s = 0.4, 12 Gauss-Legendre nodes) agrees to 1e-25 at lambda = 1e30, and its error halves when lambda doubles
    from 1000 (order 1/lambda)."""
    def check():
        rng = rng_for(ident)
        with mp.workdps(100):
            gl = gauss_legendre01(12)
            k0 = _inputs(rng)
            tt, ss = mp.mpf("1.3"), mp.mpf("0.4")
            lhs, rhs = pair(mp.mpf(10) ** 30, k0, tt, ss, gl)
            res = abs(lhs - rhs) / abs(rhs)
            e1 = abs(mp.fsub(*pair(mp.mpf(1000), k0, tt, ss, gl)))
            e2 = abs(mp.fsub(*pair(mp.mpf(2000), k0, tt, ss, gl)))
        order = float(mp.log(e1 / e2, 2))
        if not (res < mp.mpf(10) ** -25 and abs(order - 1) < 0.05):
            return "failed", float(res), f"residual {mp.nstr(res, 3)} at lambda = 1e30, order {order:.3f}"
        return "sampled", float(res), f"lambda = 1e30; measured order {order:.3f} (lambda 1000 -> 2000)"
    return check


def _lambda_limit(name, L=2):
    duals = MpDuals(get_activation(name))
    ident = f"proximal.{name}.lambda_limit.ndk"

    def pair(lam, k0, tt, ss, gl):
        kappa, s0 = mp.mpf("0.25"), mp.mpf("0.6")
        ch = _Chain(lam, kappa, s0, 1)
        lhs = lam * ch.beta * ch.delta(duals, L, k0, lam * tt, lam * ss, gl)
        C = [prior_C(a, b, ch.s0, ch.s2, kappa, mp.exp) for a, b in ((tt, tt), (ss, ss), (tt, ss))]
        rhs = ndk(layer_kernels(*k0, *C, L, duals)[3], tt, ss, kappa, mp.exp)
        return lhs, rhs
    return custom_identity(ident, f"{name}: lambda beta DeltaK(lambda t, lambda s) -> K^d(t, s), order 1/lambda, L={L}",
                           r"\lambda\beta\,\Delta K(\lambda t,\lambda s)\to K^d(t,s)", _lambda_limit_check(ident, pair))


def _beta_limit(name, L=2):
    duals = MpDuals(get_activation(name))
    ident = f"proximal.{name}.beta_limit"

    def evaluate(p):
        ch = _Chain(p["lam"], p["T"] / 1, p["s0"], 1)          # sigma^2 = 1: kappa = T
        lhs = ch.beta * ch.delta(duals, L, p["k0"], 3, 1, gauss_legendre01(8))
        s0 = ch.s0
        rhs = layer_kernels(*p["k0"], s0, s0, s0, L, duals)[3] / ch.lam
        return lhs, rhs

    def check():
        rng = rng_for(ident)
        # the same-input ReLU diagonal converges like sqrt(T) (the cusp of Theta_L[c] at rho = 1): T = 1e-80
        with mp.workdps(130):
            pts = [{"lam": mp.mpf("0.7"), "T": mp.mpf(10) ** -80, "s0": mp.mpf("0.8"), "k0": _inputs(rng)},
                   {"lam": mp.mpf("3.0"), "T": mp.mpf(10) ** -80, "s0": mp.mpf("1.5"), "k0": _inputs(rng, True)}]
        return sampled(evaluate, pts, digits=35, dps=130)
    return custom_identity(ident, f"{name}: beta DeltaK -> Theta_NTK / lambda as T -> 0 (beta = 1/(2T)), L={L}",
                           r"\beta\,\Delta K(n,m)\to \Theta_{NTK}/\lambda", check)


def _stationary_lags(ch, duals, L, k0, gl, tol_digits):
    """DeltaK(lag k) in the stationary chain (sigma0^2 = c_inf), k = 0, 1, ... until a^k < 10^-tol."""
    out, k = [], 0
    while True:
        out.append(ch.delta(duals, L, k0, k, 0, gl))
        k += 1
        if ch.a ** k < mp.mpf(10) ** -tol_digits:
            return out


def _sum_rule(name, L=2):
    duals = MpDuals(get_activation(name))
    ident = f"proximal.{name}.sum_rule"

    def evaluate(p):
        ch, k0 = p["chain"], p["k0"]
        total = mp.fsum(_stationary_lags(ch, duals, L, k0, gauss_legendre01(56), 48))
        G = lambda cc: rt.output_kernel(*k0, ch.cinf, ch.cinf, cc, L, duals)  # noqa: E731
        return total, G(ch.cinf) + G(ch.a * ch.cinf)

    def check():
        rng = rng_for(ident)
        with mp.workdps(60):
            lam, kappa = mp.mpf("0.5"), mp.mpf(2)       # a = 0.2: 70 lags
            ch = _Chain(lam, kappa, 0, 1)
            ch.s0 = ch.cinf
            pts = [{"chain": ch, "k0": _inputs(rng)}, {"chain": ch, "k0": _inputs(rng, True)}]
        return sampled(evaluate, pts, digits=40)
    return custom_identity(ident, f"{name}: stationary sum_k DeltaK(lag k) = G(c_inf) + G(a c_inf), L={L}",
                           r"\sum_{k\ge0}\Delta K(k) = G(c_\infty) + G(a c_\infty)", check)


def _gram_inputs(rng):
    """Four inputs (N0 = 3, normalised to |x|^2/N0 ~ 1), two of them nearly collinear."""
    X = [[mp.mpf(rng.gauss(0, 1)) for _ in range(3)] for _ in range(3)]
    X.append([X[0][j] + mp.mpf("1e-3") * mp.mpf(rng.gauss(0, 1)) for j in range(3)])
    return [[mp.fsum(a * b for a, b in zip(x, y)) / 3 for y in X] for x in X]


def _psd(name, L=2):
    duals = MpDuals(get_activation(name))
    ident = f"proximal.{name}.psd"

    def check():
        rng = rng_for(ident)
        worst = mp.inf
        with mp.workdps(60):
            gl = gauss_legendre01(32)
            K0 = _gram_inputs(rng)
            for lam, nn in ((mp.mpf("0.5"), 1), (mp.mpf(4), 7)):
                ch = _Chain(lam, mp.mpf("0.2"), mp.mpf("0.5"), 1)
                M = mp.matrix(4, 4)
                for i in range(4):
                    for j in range(4):
                        M[i, j] = ch.delta(duals, L, (K0[i][i], K0[j][j], K0[i][j]), nn, nn, gl)
                asym = max(abs(M[i, j] - M[j, i]) for i in range(4) for j in range(4))
                ev = mp.eigsy(M, eigvals_only=True)
                lo = min(ev) / max(ev)
                worst = min(worst, lo)
                if lo < -mp.mpf(10) ** -40 or asym > mp.mpf(10) ** -40:
                    return "failed", float(lo), f"min eigenvalue / max {mp.nstr(lo, 3)}, asymmetry {mp.nstr(asym, 3)}"
        return "sampled", 0.0, f"min eigenvalue / max eigenvalue {mp.nstr(worst, 3)} (4 inputs, two at 1e-3)"
    return custom_identity(ident, f"{name}: DeltaK(n, n; X, X) is positive semidefinite, L={L}",
                           r"\Delta K(n,n;X,X)\succeq 0", check)


def _equilibrium(name, L=1):
    duals = MpDuals(get_activation(name))
    ident = f"proximal.{name}.equilibrium"

    def check():
        rng = rng_for(ident)
        with mp.workdps(50):
            gl = gauss_legendre01(30)
            ch = _Chain(mp.mpf("0.5"), mp.mpf("0.5"), 0, 1)     # a = 1/2, beta = 1
            ch.s0 = ch.cinf                                       # stationary from step 0
            K0 = _gram_inputs(rng)[:3]                            # inputs 0, 1 train; 2 test
            Y = mp.matrix([1, -1])
            lags = {}
            for i in range(3):
                for j in range(2):
                    lags[i, j] = _stationary_lags(ch, duals, L, (K0[i][i], K0[j][j], K0[i][j]), gl, 45)
            nl = len(lags[0, 0])
            M = lambda k: mp.matrix([[ch.beta * lags[i, j][k] for j in range(2)] for i in range(3)])  # noqa: E731
            Ms = [M(k) for k in range(nl)]
            A0 = mp.eye(2) + Ms[0][0:2, 0:2]
            r, f_test = [], None
            for n in range(1, 400):
                hist = mp.matrix(3, 1)
                for k in range(1, min(n, nl)):
                    hist += Ms[k] * r[n - 1 - k]
                rn = mp.lu_solve(A0, Y - hist[0:2, 0])
                r.append(rn)
                f_test = (hist + Ms[0] * rn)[2]
            G = lambda i, j, cc: rt.output_kernel(K0[i][i], K0[j][j], K0[i][j], ch.cinf, ch.cinf, cc, L, duals)  # noqa: E731
            Ssum = lambda i, j: G(i, j, ch.cinf) + G(i, j, ch.a * ch.cinf)  # noqa: E731
            Kt = mp.matrix([[Ssum(i, j) for j in range(2)] for i in range(2)]) + mp.eye(2) / ch.beta
            want = sum(Ssum(2, j) * mp.lu_solve(Kt, Y)[j] for j in range(2))
            step = abs(r[-1][0] - r[-2][0])
        res = abs(f_test - want) / abs(want)
        if not (res < mp.mpf(10) ** -30):
            return "failed", float(res), f"marched {mp.nstr(f_test, 20)} vs closed form {mp.nstr(want, 20)} (last step {mp.nstr(step, 3)})"
        return "sampled", float(res), f"400 steps of the stationary sums (P = 2, one test input), last step change {mp.nstr(step, 3)}"
    return custom_identity(ident, f"{name}: finite-lambda equilibrium (k0 + k1)^T (K0 + K1 + I/beta)^{{-1}} Y, L={L}",
                           r"\bar f(x,\infty) = (k_0+k_1)^T (K_0+K_1+I/\beta)^{-1} Y", check)


# ----------------------------------------------------------------------------- parameter groups

#: per-layer weight variances (W_1, W_2, readout) and biases on layer 1 and the output (L = 2)
_GROUPS = {"s0": ("0.7", "0.4", "0.9"), "s2": ("1.1", "0.6", "1.5"), "b0": ("0.2", "0", "0.3"), "b2": ("0.6", "0", "0.8")}


class _Groups:
    """One :class:`_Chain` per parameter group (weights, and biases where sigma_b^2 > 0), shared T."""

    def __init__(self, lam, T, stationary=False):
        mk = lambda s0, s2: _Chain(lam, mp.mpf(T) / mp.mpf(s2), mp.mpf(s0), mp.mpf(s2))  # noqa: E731
        self.w = [mk(a, b) for a, b in zip(_GROUPS["s0"], _GROUPS["s2"])]
        self.b = [mk(a, b) if mp.mpf(b) > 0 else None for a, b in zip(_GROUPS["b0"], _GROUPS["b2"])]
        if stationary:
            for ch in self.w + [c for c in self.b if c is not None]:
                ch.s0 = ch.cinf
        self.beta = self.w[0].beta

    def stats(self, nn, mm):
        """Lists (C_n, C_m, c_hi, width, D_hi) of the weights and the bias entries of :func:`rt.delta_kernel`."""
        def one(ch):
            Cm = ch.C(mm)
            return (ch.C(nn), Cm, rt.covariance(nn, mm, Cm, ch.rate, mp.exp), mp.exp(-ch.rate * (nn - mm)) * ch.v,
                    rt.gram(nn, mm, Cm, ch.cinf, ch.rate, mp.expm1))
        w = [list(x) for x in zip(*(one(ch) for ch in self.w))]
        return w, [None if ch is None else one(ch)[:4] for ch in self.b]

    def delta(self, duals, k0, nn, mm, gl):
        w, b = self.stats(nn, mm)
        return rt.delta_kernel(*k0, *w, 2, duals, *gl, bias=b)

    def difference(self, duals, k0, nn, mm):
        w, b = self.stats(nn, mm)
        return rt.delta_kernel_difference(*k0, *w[:4], 2, duals, bias=b)

    def output(self, duals, k0, lag_factor):
        """G at the stationary variances with cross covariances a_g^lag c_inf,g (lag_factor(ch))."""
        C = [ch.cinf for ch in self.w]
        c = [lag_factor(ch) * ch.cinf for ch in self.w]
        b = [None if ch is None else (ch.cinf, ch.cinf, lag_factor(ch) * ch.cinf) for ch in self.b]
        return rt.output_kernel(*k0, C, C, c, 2, duals, b)


def _groups_integral_form(name):
    duals = MpDuals(get_activation(name))
    ident = f"proximal.{name}.groups.integral_form"

    def evaluate(p):
        g = p["groups"]
        return g.delta(duals, p["k0"], p["n"], p["m"], gauss_legendre01(48)), g.difference(duals, p["k0"], p["n"], p["m"])

    def check():
        rng = rng_for(ident)
        with mp.workdps(70):
            g = _Groups(mp.mpf(2) + rng.random(), mp.mpf("0.3"))
            pts = [{"groups": g, "k0": _inputs(rng), "n": 3, "m": 1}, {"groups": g, "k0": _inputs(rng, True), "n": 2, "m": 2},
                   {"groups": g, "k0": _inputs(rng), "n": 4, "m": 4}]
        return sampled(evaluate, pts, digits=40)
    return custom_identity(ident, f"{name}: groups: int_0^1 2u sum_g w_g dG/dc_g [c_hi - w u^2] du (the recursion with the widths as "
                           "propagators) = G(c_hi) - G(c_hi - w), L=2",
                           r"\int_0^1 2u\sum_g w_g\,\partial_{c_g}G\,du = G(c_{hi}) - G(c_{hi}-w)", check)


def _groups_lambda_limit(name):
    duals = MpDuals(get_activation(name))
    ident = f"proximal.{name}.groups.lambda_limit.ndk"
    T_ = mp.mpf("0.3")

    def pair(lam, k0, tt, ss, gl):
        g = _Groups(lam, T_)
        lhs = lam * g.beta * g.delta(duals, k0, lam * tt, lam * ss, gl)
        s0, s2 = [ch.s0 for ch in g.w], [ch.s2 for ch in g.w]
        bias = ([ch.s0 if ch else 0 for ch in g.b], [ch.s2 if ch else 0 for ch in g.b])
        C_tt, C_ss, C_ts, D_C, groups = layer_priors(tt, ss, s0, s2, T_, mp.exp, mp.expm1, bias=bias)
        rhs = layer_kernels(*k0, C_tt, C_ss, C_ts, 2, duals, bias=groups)[3]
        return lhs, rhs
    return custom_identity(ident, f"{name}: groups: lambda beta DeltaK(lambda t, lambda s) -> K^d(t, s) with biases and per-layer "
                           "variances, order 1/lambda, L=2",
                           r"\lambda\beta\,\Delta K(\lambda t,\lambda s)\to K^d(t,s)", _lambda_limit_check(ident, pair))


def _groups_sum_rule(name):
    duals = MpDuals(get_activation(name))
    ident = f"proximal.{name}.groups.sum_rule"

    def lags(g, k0, gl, tol):
        out, k = [], 0
        slow = max(ch.a for ch in g.w + [c for c in g.b if c is not None])
        while True:
            out.append(g.delta(duals, k0, k, 0, gl))
            k += 1
            if slow ** k < mp.mpf(10) ** -tol:
                return out

    def evaluate(p):
        g, k0 = p["groups"], p["k0"]
        total = mp.fsum(lags(g, k0, gauss_legendre01(56), 48))
        return total, g.output(duals, k0, lambda ch: 1) + g.output(duals, k0, lambda ch: ch.a)

    def check():
        rng = rng_for(ident)
        with mp.workdps(60):
            g = _Groups(mp.mpf("0.5"), mp.mpf(2), stationary=True)    # kappa_g >= 1.3: a_g <= 0.28
            pts = [{"groups": g, "k0": _inputs(rng)}, {"groups": g, "k0": _inputs(rng, True)}]
            tier = sampled(evaluate, pts, digits=40)
            # foil: one common lag-one factor (the readout's) for every group
            k0 = pts[0]["k0"]
            foil = g.output(duals, k0, lambda ch: 1) + g.output(duals, k0, lambda ch: g.w[-1].a)
            miss = abs(mp.fsum(lags(g, k0, gauss_legendre01(56), 48)) - foil)
        if miss < mp.mpf(10) ** -6:
            return "failed", float(miss), "the one-rate foil passes"
        return tier
    return custom_identity(ident, f"{name}: groups: stationary sum_k DeltaK(lag k) = G(c_inf) + G(a c_inf), each group at its own "
                           "c_inf,g and a_g c_inf,g, L=2",
                           r"\sum_{k\ge0}\Delta K(k) = G(c_\infty) + G(a\circ c_\infty)", check)


def identities(names):
    """MPL identities: the symbolic ones, and the sampled ones for ``names`` among linear, relu, erf."""
    out = _symbolic_identities()
    for name in [n for n in SAMPLED_ACTIVATIONS if n in names]:
        out += [_integral_form(name), _lambda_limit(name), _beta_limit(name), _sum_rule(name), _psd(name),
                _equilibrium(name), _groups_integral_form(name), _groups_lambda_limit(name), _groups_sum_rule(name)]
    return out
