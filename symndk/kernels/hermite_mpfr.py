"""Dual kernels of an activation without a closed form on MPFR numbers, with an error bound.

The certified reference (:mod:`symndk.certified`) and the sampled identity checks need F, Fdot,
the mean kernel and V of such an activation at 20-60 digits, millions of times per solve.
Method (Mehler series, docs/numerics.md "numeric dual kernels"):

* F(q1, q2, c) = sum_k a_k(q1) a_k(q2) rho^k,  a_k(q) = E[phi(sqrt(q) z) h_k(z)], rho = c / sqrt(q1 q2),
  h_k the orthonormal probabilists' Hermite polynomials; Fbar = a_0(q1) a_0(q2), V(q) = E[phi(sqrt(q) z)^2].
* Coefficients at one q: the trapezoid rule z_j = j h on [-Z, Z] (geometric convergence for phi
  analytic in a strip, e.g. SiLU: poles at x = i pi (2m + 1)); its error is estimated by the rule of
  step 2h on the same nodes (the error of a geometrically convergent rule is about the square of
  the step-2h one); the cut at Z is checked (integrand at +-Z below the target, Cramer's bound
  |h_k(z)| e^{-z^2/4} <= 1.09 for the Hermite factor).  A phi with a kink converges only
  algebraically and is refused (:class:`~symndk.errors.SymndkError`).
* Truncation per argument pair (issue 12): the smallest K with
  |rho|^(K+1) sqrt(T_K(q1) T_K(q2)) <= tol sqrt(V(q1) V(q2)),  T_K(q) = V(q) - sum_{k<=K} a_k(q)^2
  (Parseval; Cauchy-Schwarz bounds the tail), with T_K widened by the coefficient errors.
* Tabulation (speed): per half-octave of q, Chebyshev interpolation in log2 q of (V, a_0..a_K);
  interpolation error estimated from the Chebyshev tail and checked against direct evaluation
  at two points between nodes when the piece is built.

The bound of one evaluation is  |rho|^(K+1) sqrt(T1 T2) + E1 sqrt(V2) + E2 sqrt(V1) + rounding,
E = sqrt(sum_k err(a_k)^2); :attr:`MpfrMehler.max_rel_error` keeps the largest bound relative to
sqrt(V1 V2) over the evaluations at the current precision (the certified reference caps its digits with it).

Example (SiLU at 20 digits against the polar 2-D quadrature twin at 28 digits; sqrt(V1 V2) > 1/4):
    >>> import gmpy2, mpmath
    >>> from symndk.certified.numbers import working_digits, to_mpf
    >>> silu = lambda x: x / (1 + gmpy2.exp(-x))
    >>> with working_digits(20):
    ...     k = MpfrMehler(silu)
    ...     value = k.F(gmpy2.mpfr("0.8"), gmpy2.mpfr("1.1"), gmpy2.mpfr("0.6"))
    ...     bound = k.max_rel_error
    >>> from symndk.kernels.quadrature import mp_expect2
    >>> with mpmath.workdps(28):
    ...     f = lambda x: x / (1 + mpmath.exp(-x))
    ...     truth = mp_expect2(f, f, mpmath.mpf("0.8"), mpmath.mpf("1.1"), mpmath.mpf("0.6"))
    ...     print(bool(abs(to_mpf(value) - truth) < bound < 1e-18))
    True
"""
from __future__ import annotations

import math
from functools import lru_cache

import gmpy2
import numpy as np

from symndk.errors import SymndkError

#: bits carried beyond the caller's precision while building tables
EXTRA_BITS = 40
#: limits: smallest trapezoid step, largest truncation order, most Chebyshev nodes per piece
MIN_STEP, MAX_K, MAX_NODES = 1 / 256, 2048, 256
_RANGE = np.arange(2 * MAX_K + 2, dtype=float)
#: Cramer's bound: |h_k(z)| exp(-z^2/4) <= CRAMER for the orthonormal Hermite polynomials
CRAMER = 1.09


def _mp(x):
    return gmpy2.mpfr(x)


@lru_cache(maxsize=8)
def _rule(prec: int, steps: int, M: int, kmax: int):
    """Nodes z_j = j h (h = 1/steps, |j| <= M, M even) and the table w_j h_k(z_j), k <= kmax, as an
    (2M + 1, kmax + 1) object array of mpfr at ``prec`` bits (w_j = h exp(-z_j^2 / 2) / sqrt(2 pi))."""
    with gmpy2.context(gmpy2.get_context(), precision=prec):
        h = _mp(1) / steps
        z = [j * h for j in range(-M, M + 1)]
        norm = h / gmpy2.sqrt(2 * gmpy2.const_pi())
        table = np.empty((len(z), kmax + 1), dtype=object)
        roots = [gmpy2.sqrt(_mp(k)) for k in range(kmax + 2)]
        for j, x in enumerate(z):
            w = norm * gmpy2.exp(-x * x / 2)
            prev, cur = _mp(0), _mp(1)
            row = table[j]
            for k in range(kmax + 1):
                row[k] = w * cur
                prev, cur = cur, (x * cur - roots[k] * prev) / roots[k + 1]
        return z, table


class _Coefficients:
    """a_k(q), V(q) of one function by the trapezoid rule, with error estimates (see module docstring)."""

    def __init__(self, f, prec: int, digits: int):
        self.f, self.prec, self.digits = f, prec, digits
        # exp(-Z^2/4) below 10^-(digits + 6): the Gaussian-times-Hermite factor past the cut
        self.Z = math.sqrt(4 * math.log(10) * (digits + 6))
        self.steps, self.kmax = 4, 0

    def at(self, q, steps=None, kmax=None):
        """(V, [a_k], quadrature error of the a_k (max), of V) at q with the current step and order."""
        steps, kmax = steps or self.steps, kmax or self.kmax
        M = 2 * int(math.ceil(self.Z * steps / 2))
        z, table = _rule(self.prec, steps, M, kmax)
        with gmpy2.context(gmpy2.get_context(), precision=self.prec):
            s = gmpy2.sqrt(_mp(q))
            fz = np.array([self.f(s * x) for x in z], dtype=object)
            # integrand past the cut: |f| CRAMER exp(-z^2/4) / sqrt(2 pi), integrated: at most (edge value) * 2 / Z
            edge = max(abs(float(fz[0])), abs(float(fz[-1]))) * CRAMER * math.exp(-self.Z ** 2 / 4)
            fine = fz @ table
            coarse = 2 * (fz[::2] @ table[::2])
            w = table[:, 0]
            V = (fz * fz) @ w
            Vc = 2 * ((fz[::2] * fz[::2]) @ w[::2])
            err = max(float(abs(x - y)) for x, y in zip(fine, coarse)) + edge
            errV = float(abs(V - Vc)) + edge * edge
        if not (math.isfinite(err) and math.isfinite(errV)):
            raise SymndkError("the Hermite coefficients are not finite: phi grows too fast for the Gaussian "
                              "expectation (certified numeric kernels)")
        return V, list(fine), err, errV

    def calibrate(self, q, tol):
        """Order K (tail T_K(q) <= tol V / 8, Parseval) and step (quadrature error of a_0..a_K below
        tol sqrt(V) / 8) for q; refuses a phi whose coefficients converge too slowly."""
        kmax = 64
        while True:
            V, a, _, _ = self.at(q, kmax=kmax)
            tails = np.cumsum(np.array([x * x for x in a], dtype=object))
            need = [k for k in range(len(a)) if float(V - tails[k]) <= tol * float(V) / 8]
            if need:
                break
            if kmax >= MAX_K:
                raise SymndkError(f"the Mehler series of phi does not reach {tol:.0e} within {MAX_K} terms at "
                                  f"q = {float(q):.3g} (certified numeric kernels)")
            kmax *= 2
        K = max(self.kmax, need[0] + need[0] // 8 + 4)
        while True:
            V, a, err, errV = self.at(q, kmax=K)
            scale = math.sqrt(max(float(V), 1e-300))
            if err <= tol * scale / 8 and errV <= tol * float(V) / 8:
                break
            if self.steps >= 1 / MIN_STEP:
                raise SymndkError(f"the Gaussian expectations of phi do not converge geometrically (quadrature "
                                  f"error {err:.1e} at step 1/{self.steps}): the certified numeric kernels need an "
                                  "activation analytic on the real line (no kink)")
            self.steps *= 2
        self.kmax = K


def _chebyshev_coefficients(values):
    """Chebyshev coefficients of the interpolant at the first-kind nodes (rows of ``values``)."""
    n = len(values)
    pi = gmpy2.const_pi()
    out = []
    for m in range(n):
        row = [gmpy2.cos(pi * m * (2 * i + 1) / (2 * n)) for i in range(n)]
        c = np.array(row, dtype=object) @ values * 2 / n
        out.append(c / 2 if m == 0 else c)
    return np.array(out, dtype=object)


class _Piece:
    """Chebyshev interpolant in x = 2 (2 log2 q - j) - 1 of (V, a_0..a_K) on the half-octave j."""

    def __init__(self, coef: _Coefficients, j: int, tol: float):
        lo, hi = 2.0 ** (j / 2), 2.0 ** ((j + 1) / 2)
        coef.calibrate(hi, tol)
        self.j, self.K = j, coef.kmax
        n = 24
        while True:
            prec = coef.prec
            with gmpy2.context(gmpy2.get_context(), precision=prec):
                pi = gmpy2.const_pi()
                xs = [gmpy2.cos(pi * (2 * i + 1) / (2 * n)) for i in range(n)]
                rows, quad_err, quad_errV = [], 0.0, 0.0
                for x in xs:
                    V, a, err, errV = coef.at(self._q(x))
                    rows.append([V] + a)
                    quad_err, quad_errV = max(quad_err, err), max(quad_errV, errV)
                C = _chebyshev_coefficients(np.array(rows, dtype=object))
                cheb = [float(sum(abs(C[m, k]) for m in range(n - 3, n))) * 2 for k in range(C.shape[1])]
                self.C = C
                # check the interpolant against direct evaluation between nodes
                seen = [0.0] * C.shape[1]
                for x in (_mp("0.37"), _mp("-0.81")):
                    V, a, _, _ = coef.at(self._q(x))
                    got = self._values(x)
                    seen = [max(s, float(abs(g - d))) for s, g, d in zip(seen, got, [V] + a)]
            scale = math.sqrt(max(float(rows[0][0]), 1e-300))
            est = [max(c, 4 * s) for c, s in zip(cheb, seen)]
            if max(est[1:]) <= tol * scale / 8 or n >= MAX_NODES:
                break
            n *= 2
        self.n = n
        # error of the interpolated a_k (interpolation + node quadrature), as E = sqrt(sum err_k^2), and of V
        self.E = math.sqrt(sum((e + quad_err) ** 2 for e in est[1:]))
        self.EV = est[0] + quad_errV

    @staticmethod
    def _x_to_q(j, x):
        return gmpy2.exp2((j + (x + 1) / 2) / 2)

    def _q(self, x):
        return self._x_to_q(self.j, x)

    def _values(self, x):
        T = [_mp(1), x]
        for _ in range(2, len(self.C)):
            T.append(2 * x * T[-1] - T[-2])
        return np.array(T[:len(self.C)], dtype=object) @ self.C


class MpfrMehler:
    """E[phi(u) phi(v)] and friends on MPFR numbers at the caller's precision (see module docstring).

    ``f``: phi as a function of one mpfr. The relative tolerance of every evaluation is
    2^-(precision - 12), tables are built per precision at :data:`EXTRA_BITS` more bits and per
    half-octave of q on first use.
    """

    def __init__(self, f):
        self.f = f
        self._errors: dict[int, float] = {}
        self._tables: dict[int, dict] = {}
        self._memo: dict = {}

    @property
    def max_rel_error(self) -> float:
        """Largest relative error bound of the evaluations so far at the current precision."""
        return self._errors.get(gmpy2.get_context().precision, 0.0)

    @max_rel_error.setter
    def max_rel_error(self, value: float) -> None:
        self._errors[gmpy2.get_context().precision] = float(value)

    def _state(self):
        prec = gmpy2.get_context().precision
        st = self._tables.get(prec)
        if st is None:
            digits = int((prec + EXTRA_BITS) * math.log10(2))
            st = self._tables[prec] = {"coef": _Coefficients(self.f, prec + EXTRA_BITS, digits), "pieces": {},
                                       "tol": 2.0 ** -(prec - 12)}
        return prec, st

    def expansion(self, q):
        """(V, [a_k], E, EV, log(T_K) / 2 as float64 array: T_K the tail bounds) at q (memoised per
        value and precision)."""
        prec, st = self._state()
        key = (prec, q)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        qf = float(q)
        if not qf > 0 or not math.isfinite(qf):
            raise SymndkError(f"variance q must be positive and finite, got {qf!r}")
        j = math.floor(2 * math.log2(qf))
        with gmpy2.context(gmpy2.get_context(), precision=prec + EXTRA_BITS):
            x = 2 * (2 * gmpy2.log2(_mp(q)) - j) - 1
        if x > 1:  # log2 rounding at a piece boundary
            j, x = j + 1, x - 2
        piece = st["pieces"].get(j)
        if piece is None:
            piece = st["pieces"][j] = _Piece(st["coef"], j, st["tol"])
        with gmpy2.context(gmpy2.get_context(), precision=prec + EXTRA_BITS):
            vals = piece._values(x)
            V, a = vals[0], list(vals[1:])
            part = np.array([max(float(V - t), 0.0) for t in np.cumsum(np.array([t * t for t in a], dtype=object))])
        Vf = float(V)
        tails = part + piece.EV + 2 * math.sqrt(max(Vf, 0.0)) * piece.E \
            + 4 * Vf * 2.0 ** -(prec + EXTRA_BITS) * np.arange(1, len(a) + 1)
        with gmpy2.context(gmpy2.get_context(), precision=prec):
            out = (+V, [+t for t in a], piece.E, piece.EV, 0.5 * np.log(np.maximum(tails, 1e-300)))
        if len(self._memo) > 200_000:
            self._memo.clear()
        self._memo[key] = out
        return out

    def F(self, q1, q2, c, D=None):
        """E[phi(u) phi(v)], (u, v) centred Gaussian with variances q1, q2 and covariance c."""
        V1, a1, E1, _, T1 = self.expansion(q1)
        V2, a2, E2, _, T2 = self.expansion(q2)
        prec = gmpy2.get_context().precision
        rho = c / gmpy2.sqrt(q1 * q2)
        rho = max(min(rho, _mp(1)), _mp(-1))
        K = min(len(a1), len(a2)) - 1
        scale = math.sqrt(max(float(V1) * float(V2), 1e-300))
        r = abs(float(rho))
        logs = T1[:K + 1] + T2[:K + 1]
        if r > 0:
            logs = logs + math.log(r) * _RANGE[1:K + 2]
        ok = np.nonzero(logs <= math.log(self._state()[1]["tol"] * scale / 4))[0]
        k_cut = int(ok[0]) if ok.size else K
        value = a1[k_cut] * a2[k_cut]
        for k in range(k_cut - 1, -1, -1):
            value = value * rho + a1[k] * a2[k]
        bound = math.exp(float(logs[k_cut])) + E1 * math.sqrt(float(V2)) + E2 * math.sqrt(float(V1)) \
            + 4 * (k_cut + 2) * 2.0 ** -prec * scale
        self.max_rel_error = max(self.max_rel_error, bound / scale)
        return value

    def V(self, q):
        """E[phi(u)^2], u ~ N(0, q)."""
        V, _, _, EV, _ = self.expansion(q)
        self.max_rel_error = max(self.max_rel_error, (EV + 4 * 2.0 ** -gmpy2.get_context().precision * float(V))
                                 / max(float(V), 1e-300))
        return V

    def mean(self, q):
        """E[phi(u)], u ~ N(0, q) (= a_0(q))."""
        return self.expansion(q)[1][0]


def mpfr_duals(module) -> dict:
    """F, Fdot, Fbar, V, Vdot, ``layer``, ``kernels`` and ``error_bound`` of a generated ``mpfr``
    module whose kernels have no closed form (its ``phi``, ``dphi``), by :class:`MpfrMehler`.

    ``error_bound()`` is the largest relative error bound of the evaluations so far at the current
    precision (F and Fdot relative to sqrt(V V'), V relative to V)."""
    kphi = MpfrMehler(module.phi)
    kd = MpfrMehler(module.dphi) if hasattr(module, "dphi") else None
    out = {"F": kphi.F, "V": kphi.V, "Fbar": lambda q1, q2: kphi.mean(q1) * kphi.mean(q2),
           "error_bound": lambda: max(kphi.max_rel_error, kd.max_rel_error if kd else 0.0),
           "mehler": (kphi, kd)}
    if kd is not None:
        out["Fdot"], out["Vdot"] = kd.F, kd.V
    return out
