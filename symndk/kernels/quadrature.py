"""Numeric dual kernels for activations without a closed form, with error estimates.

* float64, vectorised: the Hermite (Mehler) series
  F(q1, q2, c) = sum_k a_k(q1) a_k(q2) rho^k,  a_k(q) = E[phi(sqrt(q) z) h_k(z)],  rho = c/sqrt(q1 q2),
  h_k the orthonormal (probabilists') Hermite polynomials.  It is separable in the variances, so the
  coefficients are computed once per distinct variance (composite Gauss-Legendre on [-L, 0] and
  [0, L], split at the kink x = 0), and the sum is a Horner loop over arrays.  By Parseval,
  sum_k a_k(q)^2 = V(q), so the truncation error obeys the bound
  |tail| <= |rho|^(K+1) sqrt(T(q1) T(q2)),  T(q) = V(q) - sum_{k<=K} a_k(q)^2,
  which sets K for the requested ``tol`` (valid up to rho = +-1).
* mpmath: two-dimensional quadrature in polar coordinates, u = sqrt(q1) r cos(p),
  v = sqrt(q2) r cos(p - theta), theta = atan2(sqrt(D), c), with the angle split where u or v
  changes sign (quadrant split: each piece is smooth for kinks at 0, robust as |rho| -> 1).

Example:
    >>> import numpy as np
    >>> tanh = MehlerSeries(np.tanh, tol=1e-12)
    >>> value, err = tanh.evaluate(1.0, 1.0, 0.5)
    >>> round(float(value), 10), bool(err < 1e-12)
    (0.1863244132, True)
    >>> import mpmath
    >>> with mpmath.workdps(15):
    ...     print(mp_expect2(mpmath.tanh, mpmath.tanh, 1, 1, 0.5))
    0.186324413203448
"""
from __future__ import annotations

import math

import mpmath
import numpy as np

from symndk.errors import SymndkError

#: composite Gauss-Legendre rule on [-L, L] for E[f(z)], z ~ N(0, 1): panels per half-line, order
HALF_PANELS, ORDER, L = 28, 24, 14.0
KMAX = 400


def gauss_rule(panels: int = HALF_PANELS, order: int = ORDER, half_width: float = L):
    """Nodes and weights (Gaussian density included) with a breakpoint at 0."""
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(-half_width, half_width, 2 * panels + 1)
    a, b = edges[:-1, None], edges[1:, None]
    z = ((b - a) / 2 * x + (a + b) / 2).ravel()
    wz = ((b - a) / 2 * w).ravel() * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return z, wz


def _hermite_table(z: np.ndarray, kmax: int) -> np.ndarray:
    """Orthonormal probabilists' Hermite polynomials h_0..h_kmax at z, shape (len(z), kmax + 1)."""
    h = np.empty((z.size, kmax + 1))
    h[:, 0] = 1.0
    if kmax:
        h[:, 1] = z
    for k in range(1, kmax):
        h[:, k + 1] = (z * h[:, k] - math.sqrt(k) * h[:, k - 1]) / math.sqrt(k + 1)
    return h


class _Moments:
    """One-dimensional moments of ``self.f`` by the rule of :func:`gauss_rule`."""

    z, w = gauss_rule()

    def mean(self, q):
        """E[f(u)], u ~ N(0, q)."""
        return self.f(np.sqrt(np.asarray(q, dtype=float))[..., None] * self.z) @ self.w

    def second_moment(self, q):
        """E[f(u)^2], u ~ N(0, q)."""
        return self.f(np.sqrt(np.asarray(q, dtype=float))[..., None] * self.z) ** 2 @ self.w


class MehlerSeries(_Moments):
    """E[f(u) f(v)] by the Hermite series with a Parseval tail bound (see module docstring)."""

    def __init__(self, f, tol: float = 1e-12, kmax: int = KMAX):
        self.f, self.tol, self.kmax = f, tol, kmax
        self._basis = _hermite_table(self.z, kmax) * self.w[:, None]
        self.error = 0.0  # largest error bound of the evaluations so far

    def coefficients(self, q: np.ndarray, K: int | None = None):
        """a_k(q) for k <= K (K from ``tol`` unless given), the second moment V(q) and the tails T_K(q)."""
        fz = self.f(np.sqrt(np.asarray(q, dtype=float))[:, None] * self.z[None, :])
        a = fz @ self._basis
        V = (fz * fz) @ self.w
        tails = np.maximum(V[:, None] - np.cumsum(a * a, axis=1), 0.0)
        if K is None:
            ok = np.all(tails <= self.tol * np.maximum(V, 1.0)[:, None] / 4, axis=0)
            K = int(np.argmax(ok)) if ok.any() else self.kmax
        return a[:, : K + 1], V, tails[:, K]

    def evaluate(self, q1, q2, c):
        """(value, error bound) of E[f(u) f(v)], elementwise over broadcast arrays."""
        q1, q2, c = (np.asarray(v, dtype=float) for v in (q1, q2, c))
        u1, i1 = np.unique(q1, return_inverse=True)
        u2, i2 = np.unique(q2, return_inverse=True)
        # one truncation order for both arguments: the larger of the two needed, and both tails taken
        # at that order (issue 12: cutting at the smaller order while bounding with each argument's own
        # tail understated the error, e.g. softplus 4e-11 against a claimed 3e-14)
        K = max(self.coefficients(u1)[0].shape[1], self.coefficients(u2)[0].shape[1]) - 1
        a1, _, t1 = self.coefficients(u1, K)
        a2, _, t2 = self.coefficients(u2, K)
        # gather on the (unbroadcast) argument shapes; the Horner loop broadcasts
        A1, A2 = a1[i1.reshape(q1.shape)], a2[i2.reshape(q2.shape)]
        T1, T2 = t1[i1.reshape(q1.shape)], t2[i2.reshape(q2.shape)]
        rho = np.clip(c / (np.sqrt(q1) * np.sqrt(q2)), -1.0, 1.0)
        value = A1[..., K] * A2[..., K]
        for k in range(K - 1, -1, -1):
            value *= rho
            value += A1[..., k] * A2[..., k]
        bound = np.abs(rho) ** (K + 1) * np.sqrt(T1 * T2) + 4e-16 * K * np.abs(value)
        self.error = max(self.error, float(np.max(bound, initial=0.0)))
        return value, bound

    def __call__(self, q1, q2, c, D=None):
        return self.evaluate(q1, q2, c)[0]


def polar_expect2(f, g, q1, q2, c, n_angle: int = 32, radial_panels: int = 6, n_radial: int = 24, R: float = 12.0):
    """E[f(u) g(v)] at 1-D arrays of points by quadrant-split polar Gauss-Legendre (float64).

    An independent route to the dual kernels (used by the registry checks): each angular sector
    between sign changes of u and v is smooth for activations with kinks at 0.
    """
    q1, q2, c = (np.atleast_1d(np.asarray(v, dtype=float)) for v in np.broadcast_arrays(q1, q2, c))
    th = np.arctan2(np.sqrt(np.maximum(q1 * q2 - c * c, 0.0)), c)[:, None]
    tau = 2 * np.pi
    cuts = np.sort(np.concatenate([np.zeros_like(th), np.full_like(th, np.pi / 2), np.full_like(th, 1.5 * np.pi),
                                   (th + np.pi / 2) % tau, (th + 1.5 * np.pi) % tau, np.full_like(th, tau)], axis=1), axis=1)
    xa, wa = np.polynomial.legendre.leggauss(n_angle)
    lo, hi = cuts[:, :-1, None], cuts[:, 1:, None]
    phi = ((hi - lo) / 2 * xa + (hi + lo) / 2).reshape(len(q1), -1)
    wphi = ((hi - lo) / 2 * wa).reshape(len(q1), -1)
    xr, wr = np.polynomial.legendre.leggauss(n_radial)
    edges = np.linspace(0.0, R, radial_panels + 1)
    r = ((edges[1:, None] - edges[:-1, None]) / 2 * xr + (edges[1:, None] + edges[:-1, None]) / 2).ravel()
    wrad = ((edges[1:, None] - edges[:-1, None]) / 2 * wr).ravel() * r * np.exp(-r * r / 2)
    u = np.sqrt(q1)[:, None, None] * np.cos(phi)[:, :, None] * r
    v = np.sqrt(q2)[:, None, None] * np.cos(phi - th)[:, :, None] * r
    inner = (f(u) * g(v)) @ wrad
    return np.sum(inner * wphi, axis=1) / tau


def cartesian_expect2(f, g, q1, q2, c, kinks=(), n: int = 24, width: float = 1.0, L: float = 12.0):
    """E[f(u) g(v)] at 1-D arrays of points (|rho| < 1) by composite Gauss-Legendre in
    u = sqrt(q1) z1, v = sqrt(q2) (rho z1 + r z2), r = sqrt(1 - rho^2): the z1 panels split where
    f(u) has a kink (u in ``kinks``), the z2 panels of every z1 node where g(v) has one, panels of at
    most ``width``; an independent route for activations with kinks away from 0, where the
    quadrant-split polar rule is not smooth piecewise.

    >>> import numpy as np
    >>> f = lambda x: np.maximum(x - 0.5, 0.0)
    >>> v = cartesian_expect2(f, f, np.array([1.0]), np.array([1.0]), np.array([0.0]), kinks=(0.5,))
    >>> round(float(v[0]), 13) == round(float(cartesian_expect2(f, f, 1.0, 1.0, 0.0, (0.5,))[0]), 13)
    True
    """
    x, w = np.polynomial.legendre.leggauss(n)
    q1, q2, c = (np.atleast_1d(np.asarray(v, dtype=float)) for v in np.broadcast_arrays(q1, q2, c))
    out = np.empty(q1.size)

    def panels(cuts):
        """Nodes and weights on [-L, L] split at ``cuts`` (array (m, k)) and into pieces <= width."""
        m = cuts.shape[0]
        base = np.linspace(-L, L, int(2 * L / width) + 1)
        edges = np.sort(np.concatenate([np.broadcast_to(base, (m, base.size)), np.clip(cuts, -L, L)], axis=1), axis=1)
        a, b = edges[:, :-1, None], edges[:, 1:, None]
        z = ((b - a) / 2 * x + (a + b) / 2).reshape(m, -1)
        wz = ((b - a) / 2 * w).reshape(m, -1) * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        return z, wz

    kinks = np.asarray(kinks, dtype=float)
    for i in range(q1.size):
        s1, s2 = math.sqrt(q1[i]), math.sqrt(q2[i])
        rho = c[i] / (s1 * s2)
        r = math.sqrt(max(1 - rho * rho, 0.0))
        z1, w1 = panels((kinks / s1)[None, :])
        z1, w1 = z1[0], w1[0]
        z2, w2 = panels((kinks[None, :] / s2 - rho * z1[:, None]) / r)
        inner = np.sum(g(s2 * (rho * z1[:, None] + r * z2)) * w2, axis=1)
        out[i] = np.sum(f(s1 * z1) * inner * w1)
    return out


class PolarKernel(_Moments):
    """E[f(u) f(v)] by :func:`polar_expect2` (robust for kinks at 0 at any rho, but ~10^4 evaluations
    of f per point); the error estimate is the difference from a coarser rule."""

    CHUNK = 256

    def __init__(self, f, tol: float = 1e-12):
        self.f, self.tol, self.error = f, tol, 0.0

    def evaluate(self, q1, q2, c):
        shape = np.broadcast(q1, q2, c).shape
        a, b, cc = (np.broadcast_to(np.asarray(v, dtype=float), shape).ravel() for v in (q1, q2, c))
        value, err = np.empty(a.size), np.empty(a.size)
        for s in range(0, a.size, self.CHUNK):
            part = slice(s, s + self.CHUNK)
            value[part] = polar_expect2(self.f, self.f, a[part], b[part], cc[part], n_angle=40, radial_panels=8)
            coarse = polar_expect2(self.f, self.f, a[part], b[part], cc[part], n_angle=28, radial_panels=6)
            err[part] = np.abs(value[part] - coarse)
        self.error = max(self.error, float(err.max(initial=0.0)))
        return value.reshape(shape), err.reshape(shape)

    def __call__(self, q1, q2, c, D=None):
        return self.evaluate(q1, q2, c)[0]


def _numeric_kernel(f, tol):
    """The Hermite series if its Parseval bound meets ``tol`` at rho = 1 for q in [1/4, 4], else polar quadrature."""
    series = MehlerSeries(f, tol)
    _, _, tails = series.coefficients(np.array([0.25, 1.0, 4.0]))
    return series if tails.max() <= tol else PolarKernel(f, tol)


def mp_expect1(f, q):
    """E[f(u)], u ~ N(0, q), by mpmath quadrature (split at 0) at the current precision."""
    s = mpmath.sqrt(q)
    return mpmath.quad(lambda z: mpmath.npdf(z) * f(s * z), [-mpmath.inf, 0, mpmath.inf])


def mp_expect2(f, g, q1, q2, c, D=None):
    """E[f(u) g(v)] by quadrant-split polar quadrature at the current precision (see module docstring)."""
    q1, q2, c = mpmath.mpf(q1), mpmath.mpf(q2), mpmath.mpf(c)
    D = q1 * q2 - c * c if D is None else mpmath.mpf(D)
    th = mpmath.atan2(mpmath.sqrt(max(D, 0)), c)
    s1, s2, tau = mpmath.sqrt(q1), mpmath.sqrt(q2), 2 * mpmath.pi
    cuts = sorted({mpmath.mpf(0), tau, mpmath.pi / 2, 3 * mpmath.pi / 2,
                   (th + mpmath.pi / 2) % tau, (th + 3 * mpmath.pi / 2) % tau})

    def integrand(p, r):
        return r * mpmath.exp(-r * r / 2) * f(s1 * r * mpmath.cos(p)) * g(s2 * r * mpmath.cos(p - th))

    radius = mpmath.sqrt(2 * (mpmath.mp.dps + 5) * mpmath.log(10))  # Gaussian tail below 10^-(dps+5)
    radial = mpmath.linspace(0, radius, 5)
    total = mpmath.mpf(0)
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b > a:
            total += mpmath.quad(integrand, [a, b], radial, method="gauss-legendre")
    return total / tau


def _no_dphi(x):
    raise SymndkError("phi' of this activation is a distribution (no pointwise derivative)")


#: tables are built at least this strict, so that the loads at the pipeline's tol (1e-10) and at the
#: dynamics' tol (1e-12) share one cached table instead of rebuilding it in turn
BUILD_TOL = 1e-12


def _cached_table(f, module, which: str, tol: float):
    """The :class:`~symndk.kernels.mehler.MehlerTable` of ``f``: loaded from the hash-recorded cache
    (file named by the activation's spec hash) when symndk wrote it there for a tolerance at least
    as strict, else built at min(tol, :data:`BUILD_TOL`) (about a second) and written atomically (best effort: a read-only cache
    only costs the rebuild)."""
    from symndk.files import read_recorded, write_recorded
    from symndk.kernels.loader import cache_dir
    from symndk.kernels.mehler import MehlerTable

    key = f"{module.NAME}-{getattr(module, 'SPEC_HASH', 'nohash')}-{which}.mehler"
    try:
        data = read_recorded(cache_dir(), key)
    except SymndkError:
        data = None
    if data is not None:
        try:
            return MehlerTable.from_text(f, data.decode(), tol)
        except (ValueError, KeyError, OSError):
            pass
    table = MehlerTable(f, min(tol, BUILD_TOL))
    try:
        write_recorded(cache_dir(), {key: table.to_text()})
    except (SymndkError, OSError):
        pass
    table.tol = float(tol)
    return table


def relative_error_bound(duals) -> float:
    """Largest error bound of the numeric dual kernels of ``duals`` evaluated so far, relative to
    sqrt(V(q1) V(q2)) (0.0 for closed forms).  Callers that propagate kernel errors (the
    predictor's ``error_estimate``) read it after building their kernels.

    >>> from symndk.kernels.loader import load
    >>> relative_error_bound(load("relu"))
    0.0
    """
    tables = getattr(duals, "tables", None) or {}
    return max((t.rel_error for t in tables.values()), default=0.0)


def perturbed_duals(duals, eps: float):
    """``duals`` with every numerically evaluated F and Fdot moved by ``eps`` times its scale
    sqrt(V(q1) V(q2)) (resp. sqrt(Vdot(q1) Vdot(q2))), for propagating the numeric kernel error
    through the recursion (first order: run the recursion with the perturbed kernels, compare).
    Closed-form kernels are returned as they are.

    >>> from symndk.kernels.loader import load
    >>> relu = load("relu")
    >>> perturbed_duals(relu, 1e-3) is relu
    True
    """
    tables = getattr(duals, "tables", None) or {}
    if not tables or eps == 0:
        return duals
    import types

    out = {k: getattr(duals, k) for k in ("F", "Fdot", "V", "Vdot", "Fbar", "phi", "dphi", "NAME")
           if hasattr(duals, k)}
    F, Fdot, V, Vdot = duals.F, duals.Fdot, duals.V, duals.Vdot
    if "F" in tables:
        out["F"] = lambda q1, q2, c, D=None: F(q1, q2, c, D) + eps * np.sqrt(V(q1) * V(q2))
    if "Fdot" in tables:
        out["Fdot"] = lambda q1, q2, c, D=None: Fdot(q1, q2, c, D) + eps * np.sqrt(Vdot(q1) * Vdot(q2))
    return types.SimpleNamespace(**out)


def numeric_duals(module, backend: str, tol: float) -> dict:
    """The functions ``module`` lists in NUMERIC (plus ``layer``), by quadrature.

    numpy: tabulated Hermite series (:mod:`symndk.kernels.mehler`) with a per-entry error bound,
    graded polar quadrature where the series cannot meet ``tol``; mpmath: 2-D quadrature at the
    working precision; mpfr: the Mehler series of :mod:`symndk.kernels.hermite_mpfr` (tabulated
    coefficients, per-evaluation error bound; ``error_bound()`` reports the largest so far).
    """
    phi = module.phi
    dphi = getattr(module, "dphi", None) or _no_dphi
    out = {} if hasattr(module, "dphi") else {"dphi": _no_dphi}
    if backend == "numpy":
        tables = {"F": _cached_table(phi, module, "phi", tol)}
        if "Fdot" in module.NUMERIC and hasattr(module, "dphi"):
            tables["Fdot"] = _cached_table(dphi, module, "dphi", tol)

        def kernel(table):
            def call(q1, q2, c, D=None):
                value, _ = table.evaluate(q1, q2, c, D)
                return value
            return call

        out["F"] = kernel(tables["F"])
        out["Fdot"] = kernel(tables["Fdot"]) if "Fdot" in tables else _no_dphi
        out["Fbar"] = lambda q1, q2: tables["F"].moments(q1)[0] * tables["F"].moments(q2)[0]
        out["V"] = lambda q: tables["F"].moments(q)[1]
        out["Vdot"] = (lambda q: tables["Fdot"].moments(q)[1]) if "Fdot" in tables else _no_dphi
        out["error_estimate"] = lambda: max(t.error for t in tables.values())
        out["tables"] = tables
    elif backend == "mpfr":
        from symndk.kernels.hermite_mpfr import mpfr_duals

        out.update(mpfr_duals(module))
    else:
        def wrap(fn):
            def call(*args, D=None):
                with mpmath.workdps(mpmath.mp.dps + 5):
                    value = fn(*args, D) if D is not None else fn(*args)
                return +value
            return call
        out["F"] = wrap(lambda q1, q2, c, D=None: mp_expect2(phi, phi, q1, q2, c, D))
        out["Fdot"] = wrap(lambda q1, q2, c, D=None: mp_expect2(dphi, dphi, q1, q2, c, D))
        out["Fbar"] = wrap(lambda q1, q2: mp_expect1(phi, q1) * mp_expect1(phi, q2))
        out["V"] = wrap(lambda q: mp_expect1(lambda x: phi(x) ** 2, q))
        out["Vdot"] = wrap(lambda q: mp_expect1(lambda x: dphi(x) ** 2, q))
    out = {k: v for k, v in out.items() if k in module.NUMERIC or k in ("error_estimate", "error_bound", "mehler", "dphi", "tables")}
    F = out.get("F", getattr(module, "F", None))
    Fdot = out.get("Fdot", getattr(module, "Fdot", None))
    V = out.get("V", getattr(module, "V", None))

    def layer(q1, q2, c, D=None):
        """Fused layer map (F, Fdot, V(q1) V(q2) - F^2), by quadrature."""
        value = F(q1, q2, c, D=D)
        gram = V(q1) * V(q2) - value * value
        return value, Fdot(q1, q2, c, D=D), (np.maximum(gram, 0.0) if backend == "numpy" else max(gram, 0))

    out["layer"] = layer
    out["kernels"] = lambda q1, q2, c, D=None: (F(q1, q2, c, D=D), Fdot(q1, q2, c, D=D))
    return out
