"""Tabulated Hermite (Mehler) representation of numeric dual kernels, built once per activation.

For an activation f without a closed form,

    F(q1, q2, c) = E[f(u) f(v)] = sqrt(V(q1) V(q2)) sum_k b_k(q1) b_k(q2) rho^k,   rho = c / sqrt(q1 q2),

with b_k(q) = E[f(sqrt(q) z) h_k(z)] / sqrt(V(q)) the normalised Hermite coefficients (h_k orthonormal,
sum_k b_k(q)^2 = 1 by Parseval).  :class:`MehlerTable` tabulates b_k (k <= KMAX) and log V on
Chebyshev panels in log q over [QMIN, QMAX] (panels bisected until interpolation at off-node
points matches direct quadrature), so evaluating F costs one interpolation per *distinct*
variance and a Horner loop of K terms per entry, in chunks of at most :data:`CHUNK` entries
(memory bounded at any P).

Error bound, per entry, relative to sqrt(V(q1) V(q2)) (the scale of F, by Cauchy-Schwarz):

    |F - F_K| / sqrt(V1 V2) <= |rho|^(K+1) sqrt(tau_K(q1) tau_K(q2)) + 2 e_int + 4.4e-16 sqrt(K + 1),

tau_K = 1 - sum_{k<=K} b_k^2 the Parseval tail (Cauchy-Schwarz on the tail), e_int the largest
l2 norm (over k) of the interpolation error measured between the nodes of every panel (again by
Cauchy-Schwarz, since sum_k b_k^2 <= 1), and a statistical rounding term for the Horner sum (2 eps sqrt(K + 1);
the worst case 2 K eps is never approached: benchmarks/activations.py measures errors <= 5e-15 against
30-digit quadrature where this bound says 1e-14 to 1e-13).  K is chosen per chunk as the
smallest of a few candidates meeting ``tol``; entries whose bound misses ``tol`` even at KMAX
(|rho| -> 1 with slowly decaying coefficients: kinks, large q) are evaluated by graded polar
quadrature (:func:`polar_graded`; error estimated from a coarser rule), and every call records
its worst bound in ``error`` (the largest over the object's life) and ``last_error``.

Example:
    >>> import numpy as np
    >>> table = MehlerTable(np.tanh, tol=1e-12)
    >>> value, bound = table.evaluate(np.array([1.0, 4.0]), np.array([1.0, 0.5]), np.array([0.5, 1.2]))
    >>> np.round(value, 10).tolist()                      # polar quadrature: the same to 1e-15
    [0.1863244132, 0.3346478362]
    >>> bool(bound.max() < 1e-12)
    True
"""
from __future__ import annotations

import base64
import io
import math
import warnings

import numpy as np

from symndk.errors import SymndkError, SymndkWarning

#: Hermite coefficients kept, variance domain of the table, Chebyshev degree per panel
KMAX, QMIN, QMAX, DEGREE = 256, 1e-6, 1e4, 16
#: entries per evaluation chunk (memory: a few arrays of CHUNK floats per Horner step)
CHUNK = 1 << 14
#: numbers gathered at once for the Horner sums (memory: 8 bytes each, twice)
GATHER = 1 << 19
#: largest coefficient array (numbers) kept in a table's memo of recent variances
MEMO_LIMIT = 1 << 18
#: truncation orders tried per chunk (the smallest meeting the tolerance is used)
ORDERS = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, KMAX)
FORMAT = "symndk-mehler-table 1"


def graded_rule(order: int = 24, half_width: float = 14.0, levels: int = 14):
    """Nodes and weights (Gaussian density included) of E[g(z)], z ~ N(0, 1): composite
    Gauss-Legendre on [-half_width, half_width], split at 0 and graded geometrically towards 0
    (panels [2^-j-1, 2^-j] / 2, j < ``levels``), so kinks at 0 and the steep layer of a smooth
    activation at large variance (width ~ 1/sqrt(q)) are resolved.

    >>> z, w = graded_rule()
    >>> round(float(w.sum()), 14), round(float(w @ z**2), 14)
    (1.0, 1.0)
    """
    x, w = np.polynomial.legendre.leggauss(order)
    inner = [0.0] + [0.5 * 2.0**-j for j in range(levels, 0, -1)]
    edges = np.array(inner + list(np.arange(0.5, half_width + 1e-12, 0.5)))
    a, b = edges[:-1, None], edges[1:, None]
    zp = ((b - a) / 2 * x + (a + b) / 2).ravel()
    wp = ((b - a) / 2 * w).ravel()
    z = np.concatenate([-zp[::-1], zp])
    wz = np.concatenate([wp[::-1], wp]) * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return z, wz


def hermite_table(z: np.ndarray, kmax: int) -> np.ndarray:
    """Orthonormal probabilists' Hermite polynomials h_0..h_kmax at z, shape (len(z), kmax + 1)."""
    h = np.empty((z.size, kmax + 1))
    h[:, 0] = 1.0
    if kmax:
        h[:, 1] = z
    for k in range(1, kmax):
        h[:, k + 1] = (z * h[:, k] - math.sqrt(k) * h[:, k - 1]) / math.sqrt(k + 1)
    return h


_RULE = graded_rule()
_BASIS: dict[int, np.ndarray] = {}


def direct_coefficients(f, q, kmax: int = KMAX):
    """(b (len(q), kmax + 1), V, e_quad) at the variances ``q`` by the graded rule; e_quad estimates
    the quadrature error of b from the rule with half the order (absolute, normalised)."""
    z, w = _RULE
    if kmax not in _BASIS:
        _BASIS[kmax] = hermite_table(z, kmax) * w[:, None]
    q = np.atleast_1d(np.asarray(q, dtype=float))
    fz = finite_values(f, np.sqrt(q)[:, None] * z[None, :])
    a = fz @ _BASIS[kmax]
    V = (fz * fz) @ w
    scale = np.sqrt(np.where(V > 0, V, 1.0))
    return a / scale[:, None], V, scale


def finite_values(f, x):
    """f(x) as float64, with entries that overflow in float64 (x*exp(-x)/(1 + exp(-x))**2 at x = -800:
    inf/inf) recomputed in extended precision (np.longdouble); raises SymndkError if any stays non-finite.

    >>> finite_values(lambda x: x * np.exp(-x) / (1 + np.exp(-x)) ** 2, np.array([-800.0, 0.0])).tolist()
    [-0.0, 0.0]
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        y = np.array(np.broadcast_to(f(x), x.shape), dtype=float)
        bad = ~np.isfinite(y)
        if bad.any():
            try:
                y[bad] = np.asarray(np.broadcast_to(f(x[bad].astype(np.longdouble)), (int(bad.sum()),)), dtype=float)
            except (TypeError, AttributeError):  # functions without a long double loop (special functions)
                pass
            bad = ~np.isfinite(y)
    if bad.any():
        raise SymndkError(f"the activation (or its derivative) is not finite at x = {float(x[bad].flat[0]):g} "
                          f"(reached by the Gaussian quadrature at the variances of the table)")
    return y


def _cheb_nodes(n):
    return np.cos(np.pi * np.arange(n + 1) / n)  # second kind, [1, -1]


def _bary_weights(n):
    w = np.ones(n + 1)
    w[1::2] = -1.0
    w[[0, -1]] *= 0.5
    return w


class MehlerTable:
    """Normalised Hermite coefficients of ``f`` tabulated in log q (see the module docstring).

    Args:
        f: vectorised activation (or its derivative), float64 in and out.
        tol: error asked of F, relative to sqrt(V(q1) V(q2)).
        kmax, qmin, qmax, degree: table size (defaults :data:`KMAX`, :data:`QMIN`, :data:`QMAX`, :data:`DEGREE`).
        data: a dict from :meth:`to_text` (skip the build).
    """

    def __init__(self, f, tol: float = 1e-12, kmax: int = KMAX, qmin: float = QMIN, qmax: float = QMAX,
                 degree: int = DEGREE, data=None):
        self.f, self.tol = f, float(tol)
        self.error = 0.0       # largest error bound returned so far
        self.last_error = 0.0  # largest error bound of the last call
        self.fallbacks = 0     # entries evaluated by polar quadrature so far
        self.rel_error = 0.0   # largest bound relative to sqrt(V(q1) V(q2)) so far
        if data is not None:
            self.__dict__.update(data)
            return
        self.kmax, self.degree = kmax, degree
        self.lo, self.hi = math.log(qmin), math.log(qmax)
        self._build()

    # ---- construction -------------------------------------------------------------------------------
    def _panel_values(self, a, b):
        x = (a + b) / 2 + (b - a) / 2 * _cheb_nodes(self.degree)
        coef, V, _ = direct_coefficients(self.f, np.exp(x), self.kmax)
        return coef, np.log(np.maximum(V, 1e-300))

    def _build(self):
        n_start = 32
        todo = list(zip(np.linspace(self.lo, self.hi, n_start + 1)[:-1], np.linspace(self.lo, self.hi, n_start + 1)[1:]))
        done = []
        probe = np.cos(np.pi * (np.arange(self.degree) + 0.5) / self.degree)  # between the nodes
        while todo:
            a, b = todo.pop()
            coef, logV = self._panel_values(a, b)
            xs = (a + b) / 2 + (b - a) / 2 * probe
            ref, refV, _ = direct_coefficients(self.f, np.exp(xs), self.kmax)
            got, gotV = self._interp(coef, logV, a, b, xs)
            err = float(np.max(np.sqrt(np.sum((got - ref) ** 2, axis=1)), initial=0.0))  # l2 over k
            errV = float(np.max(np.abs(gotV - np.log(np.maximum(refV, 1e-300))), initial=0.0))
            if max(err, errV) > self.tol / 8 and b - a > 1e-2:
                m = (a + b) / 2
                todo += [(a, m), (m, b)]
            else:
                done.append((a, b, coef, logV, max(err, errV)))
        done.sort(key=lambda p: p[0])
        self.edges = np.array([p[0] for p in done] + [done[-1][1]])
        self.values = np.stack([p[2] for p in done])   # (panels, degree + 1, kmax + 1)
        self.logV = np.stack([p[3] for p in done])     # (panels, degree + 1)
        self.e_int = max(p[4] for p in done)

    def _interp(self, coef, logV, a, b, xs):
        """Barycentric interpolation on one panel at points xs."""
        t = (2 * xs - a - b) / (b - a)
        nodes, w = _cheb_nodes(self.degree), _bary_weights(self.degree)
        diff = t[:, None] - nodes[None, :]
        exact = diff == 0.0
        hit = exact.any(axis=1)
        diff[exact] = 1.0
        lam = w[None, :] / diff
        if hit.any():
            lam[hit] = exact[hit]
        lam /= lam.sum(axis=1, keepdims=True)
        return lam @ coef, lam @ logV

    # ---- evaluation ---------------------------------------------------------------------------------
    def coefficients(self, q):
        """(b (n, kmax + 1), V (n,)) at 1-D variances q: interpolated inside the table, direct outside.

        The last few results are kept (keyed by the bytes of q): one recursion step asks for the
        coefficients of the same variances for F, V(q1), V(q2) and the diagonal pins.
        """
        q = np.asarray(q, dtype=float).ravel()
        key = q.tobytes()
        memo = self.__dict__.setdefault("_memo", {})
        if key in memo:
            return memo[key]
        out = self._coefficients(q)
        if q.size * (self.kmax + 1) <= MEMO_LIMIT:
            if len(memo) >= 4:
                memo.pop(next(iter(memo)))
            memo[key] = out
        return out

    def _coefficients(self, q):
        b = np.empty((q.size, self.kmax + 1))
        V = np.empty(q.size)
        with np.errstate(divide="ignore"):
            x = np.log(q)
        inside = (x >= self.lo) & (x <= self.hi)
        if (~inside).any():
            b[~inside], V[~inside], _ = direct_coefficients(self.f, q[~inside], self.kmax)
        idx = np.flatnonzero(inside)
        if idx.size:
            panel = np.clip(np.searchsorted(self.edges, x[idx], side="right") - 1, 0, len(self.edges) - 2)
            for p in np.unique(panel):
                sel = idx[panel == p]
                got, logV = self._interp(self.values[p], self.logV[p], self.edges[p], self.edges[p + 1], x[sel])
                b[sel], V[sel] = got, np.exp(logV)
        return b, V

    def moments(self, q):
        """(mean E[f(u)], second moment V = E[f(u)^2]) at variances q (any shape)."""
        q = np.asarray(q, dtype=float)
        u, inv = unique_inverse(q)
        b, V = self.coefficients(u)
        mean = b[:, 0] * np.sqrt(V)
        return mean[inv].reshape(q.shape), V[inv].reshape(q.shape)

    def evaluate(self, q1, q2, c, D=None):
        """(F, error bound) elementwise over broadcast arrays (``D`` = q1 q2 - c^2 when known accurately).

        Coefficients are interpolated once per distinct variance (per call, or per chunk when a
        call has too many distinct variances to hold their coefficients), and the entries are
        summed in chunks of at most :data:`CHUNK`, each entry to the order its own bound needs:
        memory stays bounded whatever the size of the arrays.
        """
        q1, q2, c = (np.asarray(v, dtype=float) for v in (q1, q2, c))
        Dv = None if D is None else np.asarray(D, dtype=float)
        shape = np.broadcast_shapes(q1.shape, q2.shape, c.shape, () if Dv is None else Dv.shape)
        value, bound = np.empty(shape), np.empty(shape)
        side1, side2 = self._side(q1), self._side(q2)
        rel = 0.0
        for sl in _chunks(shape):
            a, b, cc = (_slice(v, sl, shape) for v in (q1, q2, c))
            d = None if Dv is None else _slice(Dv, sl, shape)
            # per chunk (at most CHUNK entries, so at most CHUNK distinct variances): no limit
            s1 = self._side(a, None) if side1 is None else side1[:3] + (_slice(side1[3], sl, shape),)
            s2 = self._side(b, None) if side2 is None else side2[:3] + (_slice(side2[3], sl, shape),)
            v, e, r = self._evaluate_chunk(a, b, cc, d, s1, s2)
            value[sl], bound[sl] = v, e
            rel = max(rel, r)
        self.last_error = float(np.max(bound, initial=0.0))
        self.error = max(self.error, self.last_error)
        self.rel_error = max(self.rel_error, rel)
        if rel > self.tol:
            warnings.warn(f"numeric dual kernel error bound {rel:.1e} (relative to sqrt(V1 V2)) exceeds the "
                          f"tolerance {self.tol:.0e} at some arguments (graded polar quadrature did not converge)",
                          SymndkWarning, stacklevel=2)
        return value, bound

    def _side(self, q, limit: int = 1 << 19):
        """Per distinct variance of ``q``: coefficients (one row per order), tails at ORDERS, sqrt(V),
        and the index of every entry (None when the coefficients would exceed ``limit`` numbers)."""
        q = _reduce(q)
        u, inv = unique_inverse(q)
        if limit is not None and u.size * (self.kmax + 1) > limit:
            return None
        b, V = self.coefficients(u)
        orders = [min(k, self.kmax) for k in ORDERS]
        B = np.ascontiguousarray(b.T)
        starts = [0] + [k + 1 for k in orders[:-1]]
        partial = np.add.reduceat(B * B, starts, axis=0)          # sum of b_k^2 between successive orders
        tails = np.maximum(1.0 - np.cumsum(partial, axis=0), 0.0) + 1e-15
        return B, 0.5 * np.log(tails), np.sqrt(V), inv.reshape(q.shape)

    def _evaluate_chunk(self, q1, q2, c, D, side1, side2):
        (B1, tail1, S1, i1), (B2, tail2, S2, i2) = side1, side2
        shape = np.broadcast_shapes(np.shape(q1), np.shape(q2), np.shape(c))
        i1, i2 = (np.broadcast_to(i, shape).ravel() for i in (i1, i2))
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.clip(c / (np.sqrt(q1) * np.sqrt(q2)), -1.0, 1.0)
        rho = np.nan_to_num(np.broadcast_to(rho, shape).ravel())
        arho = np.abs(rho)
        scale = S1[i1] * S2[i2]
        floor = 2 * self.e_int
        # the order each entry needs: the first of ORDERS whose truncation bound |rho|^(K+1) sqrt(tau1 tau2)
        # is 1000x below tol (or at the rounding floor of the tails), the last if none is; compared in
        # logs (tail1, tail2 hold log sqrt(tau)).  The values then vary smoothly with the arguments
        # (the solver compresses kernels by low rank).
        with np.errstate(divide="ignore"):
            lr = np.log(arho)
        log_target = math.log(max(self.tol * 1e-3, 2e-15))
        Ks = np.array([min(k, self.kmax) for k in ORDERS])
        order = np.full(rho.size, len(ORDERS) - 1)
        for j in range(len(ORDERS) - 2, -1, -1):
            ok = (Ks[j] + 1) * lr + tail1[j][i1] + tail2[j][i2] <= log_target
            order[ok] = j
        with np.errstate(invalid="ignore"):
            trunc = np.exp(np.nan_to_num((Ks[order] + 1) * lr, nan=-np.inf) + tail1[order, i1] + tail2[order, i2])
        need = trunc + floor + 4.4e-16 * np.sqrt(Ks[order] + 1)
        value = np.empty(rho.size)
        for j in np.flatnonzero(np.bincount(order, minlength=len(ORDERS))):
            sel = np.flatnonzero(order == j)
            K = min(ORDERS[j], self.kmax)
            for part in np.array_split(sel, -(-sel.size * (K + 1) // GATHER)):
                a1, a2, r = i1[part], i2[part], rho[part]
                G = np.take(B1[: K + 1], a1, axis=1)   # (K + 1, n): one gather per side
                G *= np.take(B2[: K + 1], a2, axis=1)
                acc = G[K].copy()
                for k in range(K - 1, -1, -1):  # Horner in rho
                    acc *= r
                    acc += G[k]
                value[part] = acc
        value *= scale
        bound = need * scale
        bad = need > self.tol
        worst = float(np.max(np.where(bad, 0.0, need), initial=0.0))
        if bad.any():  # graded polar quadrature where the series cannot meet tol
            a, b_, cc = (np.broadcast_to(v, shape).ravel()[bad] for v in (q1, q2, c))
            dd = None if D is None else np.broadcast_to(D, shape).ravel()[bad]
            fine, err = polar_graded(self.f, a, b_, cc, dd)
            # |fine - coarse| can fall below the rounding of the fine sum itself (softsign Fdot: error
            # 4.6e-14 against 4.3e-14): add 2 eps sqrt(nodes) of the Cauchy-Schwarz scale
            value[bad], bound[bad] = fine, err + POLAR_ROUNDING * scale[bad]
            self.fallbacks += int(bad.sum())
            with np.errstate(divide="ignore", invalid="ignore"):
                worst = max(worst, float(np.max(np.nan_to_num(err / scale[bad], nan=0.0), initial=0.0)))
        return value.reshape(shape), bound.reshape(shape), worst

    # ---- storage ------------------------------------------------------------------------------------
    def to_text(self) -> str:
        """The table as text (base64 of an npz; stored by the loader in the hash-recorded cache)."""
        buf = io.BytesIO()
        np.savez(buf, edges=self.edges, values=self.values, logV=self.logV,
                 meta=np.array([self.kmax, self.degree, self.lo, self.hi, self.e_int, self.tol]))
        return FORMAT + "\n" + base64.b64encode(buf.getvalue()).decode() + "\n"

    @classmethod
    def from_text(cls, f, text: str, tol: float):
        head, body = text.split("\n", 1)
        if head != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        with np.load(io.BytesIO(base64.b64decode(body)), allow_pickle=False) as npz:
            kmax, degree, lo, hi, e_int, built_tol = npz["meta"]
            data = dict(edges=npz["edges"], values=npz["values"], logV=npz["logV"], kmax=int(kmax),
                        degree=int(degree), lo=float(lo), hi=float(hi), e_int=float(e_int))
        if built_tol > tol:
            raise ValueError(f"table built for tol {built_tol:g} > {tol:g}")
        return cls(f, tol, data=data)


_UNIQUE: dict = {}


def unique_inverse(q):
    """``np.unique(q, return_inverse=True)`` with the inverse shaped like ``q``, remembered for the last
    few arrays (keyed by their bytes: hashing is ~15x cheaper than the sort, and one recursion step
    asks for the same variances up to six times: F, Fdot, V(q1), V(q2) and the diagonal pins).

    >>> u, inv = unique_inverse(np.array([[2.0, 1.0], [2.0, 2.0]]))
    >>> u.tolist(), inv.tolist()
    ([1.0, 2.0], [[1, 0], [1, 1]])
    """
    q = np.ascontiguousarray(q, dtype=float)
    key = (q.shape, q.tobytes())
    if key in _UNIQUE:
        return _UNIQUE[key]
    u, inv = np.unique(q, return_inverse=True)
    out = (u, inv.reshape(q.shape))
    if q.size <= MEMO_LIMIT:
        if len(_UNIQUE) >= 4:
            _UNIQUE.pop(next(iter(_UNIQUE)))
        _UNIQUE[key] = out
    return out


def _reduce(q):
    """``q`` with axes along which it is constant collapsed to length 1 (cheap to check, and it
    saves sorting a full array when a variance depends on the row or the column only)."""
    for axis in range(q.ndim):
        if q.shape[axis] > 1:
            first = q.take([0], axis=axis)
            if np.array_equal(q, np.broadcast_to(first, q.shape)):
                q = first
    return q


def _chunks(shape):
    """Slices along axis 0 so that each piece holds at most CHUNK entries (whole array if 0-d)."""
    if not shape:
        return [()]
    n0, rest = shape[0], int(np.prod(shape[1:], dtype=np.int64))
    step = max(1, CHUNK // max(rest, 1))
    return [(slice(s, min(s + step, n0)),) for s in range(0, n0, step)]


def _slice(a, sl, shape):
    """The piece of ``a`` (broadcastable to ``shape``) that lands in ``sl`` of the broadcast."""
    a = np.asarray(a)
    if not sl:
        return a
    full = (1,) * (len(shape) - a.ndim) + a.shape
    a = a.reshape(full)
    return a if full[0] == 1 else a[sl[0]]


def polar_graded(f, q1, q2, c, D=None, n: int = 20, levels: int = 6, R: float = 12.0, chunk: int = 32):
    """E[f(u) f(v)] at 1-D arrays by quadrant-split polar Gauss-Legendre with panels graded towards
    every cut angle and towards r = 0; returns (value, |value - coarser rule|).

    >>> import numpy as np
    >>> v, e = polar_graded(lambda x: np.maximum(x, 0), np.array([1.0]), np.array([1.0]), np.array([1.0]))
    >>> round(float(v[0]), 13), bool(e[0] < 1e-13)   # ReLU at rho = 1: V(1) = 1/2
    (0.5, True)
    """
    q1, q2, c = (np.atleast_1d(np.asarray(v, dtype=float)) for v in np.broadcast_arrays(q1, q2, c))
    D = np.maximum(q1 * q2 - c * c, 0.0) if D is None else np.maximum(np.broadcast_to(D, q1.shape), 0.0)
    out, err = np.empty(q1.size), np.empty(q1.size)
    for s in range(0, q1.size, chunk):
        p = slice(s, s + chunk)
        fine = _polar(f, q1[p], q2[p], c[p], D[p], n, levels, R)
        coarse = _polar(f, q1[p], q2[p], c[p], D[p], n - 6, levels - 1, R)
        out[p], err[p] = fine, np.abs(fine - coarse)
    return out, err


def _polar_nodes(n: int = 20, levels: int = 6) -> int:
    """Quadrature nodes of :func:`polar_graded`: 4 quadrants x (graded panels x n)^2."""
    return 4 * ((len(_graded_unit(levels)) - 1) * n) ** 2


def _graded_unit(levels):
    """Panel edges on [0, 1] graded geometrically towards both ends."""
    g = [0.5 * 4.0**-j for j in range(levels, 0, -1)]
    return np.array([0.0] + g + [0.5] + [1 - x for x in reversed(g)] + [1.0])


def _polar(f, q1, q2, c, D, n, levels, R):
    th = np.arctan2(np.sqrt(D), c)[:, None]
    tau = 2 * np.pi
    cuts = np.sort(np.concatenate([np.zeros_like(th), np.full_like(th, np.pi / 2), np.full_like(th, 1.5 * np.pi),
                                   (th + np.pi / 2) % tau, (th + 1.5 * np.pi) % tau, np.full_like(th, tau)], axis=1), axis=1)
    x, w = np.polynomial.legendre.leggauss(n)
    unit = _graded_unit(levels)
    ua, ub = unit[:-1], unit[1:]
    un = ((ub - ua)[:, None] / 2 * x + (ub + ua)[:, None] / 2).ravel()   # nodes on [0, 1]
    uw = ((ub - ua)[:, None] / 2 * w).ravel()
    lo, hi = cuts[:, :-1, None], cuts[:, 1:, None]
    phi = (lo + (hi - lo) * un).reshape(len(q1), -1)
    wphi = ((hi - lo) * uw).reshape(len(q1), -1)
    redges = np.array([0.0] + [R * 2.0**-j for j in range(2 * levels, 0, -1)] + list(np.linspace(R / 2, R, 4)[1:]))
    redges = np.unique(np.concatenate([redges, np.linspace(0, R, 9)]))
    ra, rb = redges[:-1, None], redges[1:, None]
    r = ((rb - ra) / 2 * x + (rb + ra) / 2).ravel()
    wrad = ((rb - ra) / 2 * w).ravel() * r * np.exp(-r * r / 2)
    u = np.sqrt(q1)[:, None, None] * np.cos(phi)[:, :, None] * r
    v = np.sqrt(q2)[:, None, None] * np.cos(phi - th)[:, :, None] * r
    inner = (finite_values(f, u) * finite_values(f, v)) @ wrad
    return np.sum(inner * wphi, axis=1) / tau


#: rounding allowance of the polar fallback, relative to sqrt(V1 V2): 2 eps sqrt(nodes)
POLAR_ROUNDING = 2 * np.finfo(float).eps * math.sqrt(_polar_nodes())
