"""Training schedules in continuous time (docs/theory.md §E): an annealed temperature T(t) and a
learning rate eta(t).

Dynamics (weight decay tied to the temperature, gamma(t) = T(t) / sigma^2):

    dTheta = -eta(t) [grad L + gamma(t) Theta] dt + sqrt(2 eta(t) T(t)) dB.

Without the loss every parameter is an Ornstein-Uhlenbeck process with rate eta gamma and noise
2 eta T = 2 sigma^2 eta gamma, so with the *decay clock* G(t) = int_0^t eta(u) gamma(u) du

    C(t, t) = sigma^2 + (sigma0^2 - sigma^2) e^{-2 G(t)},   C(t, s) = e^{-(G(t) - G(s))} C(s, s):

the prior, and so every two-time kernel built from it (K_l, Kdot_l, Theta_l and the propagator
e^{-(G(t) - G(s))}), is the constant-gamma one read at the clock: K^d(t, s) = K^d_{gamma=1}(G(t), G(s))
(:func:`symndk.runtime.recursion.prior_C` with gamma = 1 at clock times; one source of truth).
The loss force enters with the rate eta(s), so the mean predictor solves

    r(t) + int_0^t eta(s) K^d(t, s; X, X) r(s) ds = Y,   fbar(x, t) = int_0^t eta(s) K^d(t, s; x, X) r(s) ds.

No stationary-lag form is needed: the compressed kernel is already two-time (its weights are
functions of b = e^{-G(s)} and w = sqrt(1 - e^{-(G(t) - G(s))}), :mod:`symndk.dynamics.compress`),
so :class:`OnClock` reads the gamma = 1 compression and table at the clock and multiplies by eta(s).
Cost: one compression over [0, G(t_end)] as for a constant T, plus clock evaluations.

With eta alone (constant T) this is a change of time, tau(t) = int_0^t eta: fbar_eta(t) = fbar(tau(t)).

Biases and per-layer variances (docs/theory.md §B, §E): every group g decays at gamma_g(t) = T(t) / sigma_g^2,
so C_g(t, s) = e^{-int_s^t eta gamma_g} C_g(s, s), d/dt C_g(t, t) = -2 eta gamma_g C_g + 2 eta T. Since T(t) is
shared, the clocks are proportional: G_g(t) = (sigma_ref^2 / sigma_g^2) G(t) with G = int eta T / sigma_ref^2.
So the whole network is the constant-T network at T = sigma_ref^2 (every group at its own rate
sigma_ref^2 / sigma_g^2) read at the one clock G: :meth:`symndk.model.NDK.predict` takes sigma_ref^2 = the
largest prior variance (the slowest group has rate 1, the compression's clock) for a per-layer network,
sigma^2 for a scalar one (biases then ride on the weights' clock at the rate ratio sigma^2 / sigma_b^2).

* :class:`Schedule` -- a function of time >= 0 from a callable or a (times, values) table, as
  piecewise Chebyshev polynomials with their exact antiderivative (tables: linear between knots,
  constant after the last one).
* :class:`Clock` -- G(t), eta(s), tau(t) of a (T, eta) schedule pair.
* :class:`OnClock` -- a tabulated gamma = 1 kernel read at the clock, times eta(s).

Example (T(t) = 0.2 e^{-t}, sigma^2 = 1: G(t) = 0.2 (1 - e^{-t})):
    >>> import numpy as np
    >>> c = Clock(lambda t: 0.2 * np.exp(-t), None, 1.0, 5.0)
    >>> bool(abs(c.G(3.0) - 0.2 * (1 - np.exp(-3.0))) < 1e-15)
    True
    >>> s = Schedule.from_user(([0.0, 1.0, 2.0], [1.0, 3.0, 2.0]), 4.0, "eta", positive=True)
    >>> [float(v) for v in s([0.5, 1.5, 3.0])], float(s.integral(4.0))   # 2 + 2.5 + 2 * 2
    ([2.0, 2.5, 2.0], 8.5)
"""
from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import chebyshev as cheb

from symndk.errors import SymndkError

#: Chebyshev degree of one piece of a callable schedule, the relative fit tolerance, the piece limit
DEGREE, FIT_TOL, MAX_PIECES = 24, 1e-14, 4000


def _evaluate(fn, t, name):
    """fn at the points t (vectorised when fn takes arrays, else point by point), as checked floats."""
    t = np.asarray(t, float)
    try:
        try:
            v = np.asarray(fn(t), float)
            if v.shape != t.shape:
                v = np.broadcast_to(v, t.shape) if v.size == 1 else None
        except (TypeError, ValueError):
            v = None
        if v is None:
            v = np.array([float(fn(float(x))) for x in t.ravel()]).reshape(t.shape)
    except Exception as exc:          # a user callable: any failure is bad input, said in one line
        raise SymndkError(f"{name} schedule failed at t in [{t.min():g}, {t.max():g}]: "
                          f"{type(exc).__name__}: {exc}") from None
    return np.array(v, float)


class Schedule:
    """A function f(t) >= 0 on [0, t_end]: pieces ``edges`` with Chebyshev coefficients ``coef``
    (each piece mapped to [-1, 1]) and the exact antiderivative.

    Attributes: ``kind`` ('constant', 'table', 'callable'), ``knots`` (where f may kink: the interior
    times of a table; a fitted callable is smooth across its piece edges), ``error`` (fit error of a
    callable relative to max |f|; 0 for tables).
    """

    def __init__(self, edges, coef, kind, name, error=0.0, record=None, knots=None):
        self.edges, self.kind, self.name, self.error = np.asarray(edges, float), kind, name, float(error)
        self.knots = self.edges[1:-1] if knots is None else np.asarray(knots, float)
        self.coef = [np.asarray(c, float) for c in coef]
        h = np.diff(self.edges)
        # antiderivative of each piece from its left end (in t), and the integral up to each edge
        self.icoef = [cheb.chebint(c, lbnd=-1) * (hk / 2) for c, hk in zip(self.coef, h)]
        self.cum = np.concatenate([[0.0], np.cumsum([cheb.chebval(1.0, ic) for ic in self.icoef])])
        self.record = record or {"kind": kind}
        vals = np.concatenate([cheb.chebval(np.linspace(-1, 1, 9), c) for c in self.coef])
        self.max = float(np.max(vals))

    @classmethod
    def from_user(cls, spec, t_end, name, positive=False):
        """From a number, a callable f(t) or a table (times, values) (times from 0, increasing;
        linear in between, constant after the last time). ``positive``: values must be > 0."""
        t_end = float(t_end)
        lo = "> 0" if positive else ">= 0"
        if callable(spec):
            s = cls.fit(lambda t: _evaluate(spec, t, name), t_end, name, positive=positive)
            s.kind = s.record["kind"] = "callable"
            return s
        if isinstance(spec, (int, float, np.floating, np.integer)) and not isinstance(spec, bool):
            v = float(spec)
            if not math.isfinite(v) or v < 0 or (positive and v == 0):
                raise SymndkError(f"{name} must be finite and {lo}, got {spec!r}")
            return cls([0.0, max(t_end, 1e-300)], [[v]], "constant", name, record={"kind": "constant", "value": v})
        try:
            times, values = (np.asarray(a, float) for a in spec)
        except (TypeError, ValueError):
            raise SymndkError(f"{name} schedule must be a number, a callable f(t) or a table (times, values), "
                              f"got {type(spec).__name__}") from None
        if times.ndim != 1 or times.shape != values.shape or times.size < 1:
            raise SymndkError(f"{name} table: times and values must be 1-D arrays of the same length >= 1")
        if not (np.all(np.isfinite(times)) and np.all(np.isfinite(values))):
            raise SymndkError(f"{name} table: times and values must be finite")
        if times[0] != 0 or np.any(np.diff(times) <= 0):
            raise SymndkError(f"{name} table: times must start at 0 and increase strictly, got {times.tolist()!r}"[:300])
        if np.any(values < 0) or (positive and np.any(values == 0)):
            raise SymndkError(f"{name} table: values must be {lo}")
        edges = list(times)
        coef = [[(a + b) / 2, (b - a) / 2] for a, b in zip(values[:-1], values[1:])]
        if t_end > times[-1] or times.size == 1:         # constant after the last knot
            edges.append(max(t_end, times[-1] + 1.0))
            coef.append([float(values[-1])])
        return cls(edges, coef, "table", name, record={"kind": "table", "times": times.tolist(),
                                                        "values": values.tolist()})

    @classmethod
    def fit(cls, fn, t_end, name, knots=(), positive=False):
        """Adaptive piecewise Chebyshev interpolation of a vectorised ``fn`` on [0, t_end] (pieces
        split at ``knots`` and bisected until the trailing coefficients are below FIT_TOL max |f|)."""
        t_end = float(t_end)
        if not t_end > 0:
            return cls([0.0, 1e-300], [[float(fn(np.zeros(1))[0])]], "callable", name)
        x = cheb.chebpts2(DEGREE + 1)
        todo = sorted({0.0, t_end, *[float(k) for k in knots if 0 < k < t_end]})
        todo = list(zip(todo[:-1], todo[1:]))[::-1]
        done, scale = [], 0.0
        while todo:
            a, b = todo.pop()
            v = fn(a + (b - a) * (x + 1) / 2)
            if not np.all(np.isfinite(v)) or np.any(v < 0) or (positive and np.any(v <= 0)):
                raise SymndkError(f"{name} schedule must be finite and {'> 0' if positive else '>= 0'} on "
                                  f"[0, {t_end:g}]; it is not on [{a:g}, {b:g}]")
            c = cheb.chebfit(x, v, DEGREE)
            scale = max(scale, float(np.max(np.abs(v))))
            tail = float(np.max(np.abs(c[-3:])))
            if tail > FIT_TOL * max(scale, 1e-300) and b - a > 1e-9 * t_end:
                m = (a + b) / 2
                todo += [(m, b), (a, m)]
                if len(done) + len(todo) > MAX_PIECES:
                    raise SymndkError(f"{name} schedule is too rough to represent on [0, {t_end:g}] with "
                                      f"{MAX_PIECES} smooth pieces; give it as a table (times, values) instead")
                continue
            done.append((a, b, c, tail))
        done.sort(key=lambda p: p[0])
        err = max(p[3] for p in done) / max(scale, 1e-300)
        return cls([done[0][0]] + [p[1] for p in done], [p[2] for p in done], "fit", name, err,
                   {"kind": "callable", "pieces": len(done), "fit_error": err},
                   knots=[k for k in knots if 0 < k < t_end])

    def _locate(self, t):
        t = np.asarray(t, float)
        k = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, len(self.coef) - 1)
        a, h = self.edges[k], np.diff(self.edges)[k]
        return t, k, 2 * (t - a) / h - 1

    def __call__(self, t):
        """f(t) (arrays broadcast; beyond the last edge the last piece's end value)."""
        t, k, x = self._locate(t)
        x = np.clip(x, -1.0, 1.0)
        out = np.empty(t.shape)
        for j in np.unique(k):
            sel = k == j
            out[sel] = cheb.chebval(x[sel], self.coef[j])
        return out

    def integral(self, t):
        """int_0^t f (beyond the last edge f is continued by its end value)."""
        t, k, x = self._locate(t)
        over = np.maximum(t - self.edges[-1], 0.0)
        x = np.clip(x, -1.0, 1.0)
        out = np.empty(t.shape)
        for j in np.unique(k):
            sel = k == j
            out[sel] = self.cum[j] + cheb.chebval(x[sel], self.icoef[j])
        end = cheb.chebval(1.0, self.coef[-1])
        return out + over * end


class Clock:
    """The clocks of a schedule pair on [0, t_end] (module docstring): G(t) = int eta T / sigma^2,
    tau(t) = int eta, and the force weight eta(s).

    Args:
        T_schedule: temperature: a number, a callable T(t) or a table (times, values).
        eta_schedule: learning rate (same forms, values > 0), or None for eta = 1.
        sigma_sq: prior variance sigma^2.
        t_end: the last time needed.
    """

    def __init__(self, T_schedule, eta_schedule, sigma_sq, t_end):
        self.sigma_sq, self.t_end = float(sigma_sq), float(t_end)
        self.T = Schedule.from_user(T_schedule, t_end, "T_schedule")
        self.eta = Schedule.from_user(1.0 if eta_schedule is None else eta_schedule, t_end, "eta_schedule", True)
        knots = np.union1d(self.T.knots, self.eta.knots)
        if self.T.kind == "constant" and self.eta.kind == "constant":
            self.rate = Schedule([0.0, max(self.t_end, 1e-300)], [[self.T.max * self.eta.max / self.sigma_sq]],
                                 "constant", "rate")
        else:
            self.rate = Schedule.fit(lambda t: self.eta(t) * self.T(t) / self.sigma_sq, t_end, "eta T / sigma^2", knots)
        self.knots = knots
        self.error = max(self.T.error, self.eta.error, self.rate.error)
        self.rate_max, self.eta_max = self.rate.max, self.eta.max
        self.G_end = float(self.G(self.t_end))

    def G(self, t):
        """The decay clock int_0^t eta gamma (dimensionless)."""
        return self.rate.integral(t)

    def tau(self, t):
        """The learning-rate clock int_0^t eta (the time of the constant-rate dynamics)."""
        return self.eta.integral(t)

    def weight(self, s):
        """eta(s), the weight of the loss force at time s."""
        return self.eta(s)

    def record(self) -> dict:
        """The schedules for metadata."""
        return {"T_schedule": self.T.record, "eta_schedule": self.eta.record, "G_end": self.G_end}

    def edges(self, grow_after: float = 4.0, ratio: float = 1.3) -> np.ndarray:
        """Times where the clock G reaches 1, 2, .., ``grow_after``, then steps growing by ``ratio``: the
        constant-T mesh's relaxation panels (width 1/gamma, then growing) in clock units, so panels stay
        within a few 1/(eta gamma) wherever the schedule heats up."""
        marks, step = [], 1.0
        while True:
            nxt = (marks[-1] if marks else 0.0) + step
            if nxt >= self.G_end:
                break
            marks.append(nxt)
            if nxt >= grow_after:
                step *= ratio
        if not marks:
            return np.zeros(0)
        grid = np.unique(np.concatenate([np.linspace(0, self.t_end, 4001), self.knots]))
        return np.interp(marks, self.G(grid), grid)


    def mesh(self, edges, t_end, ratio: float = 2.0) -> np.ndarray:
        """The constant-T panel ``edges`` on [0, t_end] with the schedule's knots (kinks: always kept)
        and the clock steps of :meth:`edges` (those not within a quarter panel of an edge) added, then
        graded so that neighbouring panels differ in width by at most ``ratio``: the far-field Gauss
        rule of :mod:`symndk.dynamics.volterra` needs the same-input cusp at s = t at least about a
        panel away, which a tiny panel after a wide one breaks (measured: 1e-8 errors in r next to
        a 0.66-wide panel after a 28-wide one)."""
        edges = np.asarray(edges, float)
        for extra, always in ((self.knots, True), (self.edges(), False)):
            extra = extra[(extra > 0) & (extra < t_end)]
            if not always and extra.size:
                j = np.clip(np.searchsorted(edges, extra), 1, edges.size - 1)
                width = edges[j] - edges[j - 1]
                near = np.minimum(extra - edges[j - 1], edges[j] - extra) < 0.25 * width
                extra = extra[~near]
            edges = np.unique(np.concatenate([edges, extra]))
        for _ in range(200):
            w = np.diff(edges)
            big = np.zeros(w.size, bool)
            big[1:] |= w[1:] > ratio * w[:-1]
            big[:-1] |= w[:-1] > ratio * w[1:]
            if not np.any(big):
                break
            edges = np.unique(np.concatenate([edges, (edges[:-1] + w / 2)[big]]))
        return edges


class OnClock:
    """The tabulated compressed kernel ``tk`` of the gamma = ``gamma_ref`` network read at the clock
    (kernel time u = G(t) / gamma_ref), its weights multiplied by eta(s): the interface of
    :class:`~symndk.dynamics.compress.TabulatedKernel` that :func:`symndk.dynamics.volterra.solve` uses."""

    def __init__(self, tk, clock: Clock, gamma_ref: float):
        self.tk, self.clock, self.gamma_ref = tk, clock, float(gamma_ref)
        self.error = tk.error

    @property
    def basis(self):
        return self.tk.basis

    @property
    def rank(self):
        return self.tk.rank

    def _u(self, t):
        return np.maximum(self.clock.G(np.asarray(t, float).ravel()), 0.0) / self.gamma_ref

    # The clock is monotone, its float64 evaluation only to rounding: where eta gamma ~ 0 (T(t) = 0 at
    # the start or end of a schedule) G(t) < G(s) by 1e-17 for t > s would give a negative lag, so
    # the lags are clamped at 0 (t >= s in every call of the solver).
    def weights(self, t, s):
        t, s = np.broadcast_arrays(np.asarray(t, float).ravel(), np.asarray(s, float).ravel())
        us = self._u(s)
        return self.tk.weights(np.maximum(self._u(t), us), us) * self.clock.weight(s)[:, None]

    def source_table(self, s):
        s = np.asarray(s, float).ravel()
        return self.tk.source_table(self._u(s)) * self.clock.weight(s)[:, None, None, None]

    def weights_grid(self, t, s, src):
        """(n_t, n_s, r) weights at all pairs, for far-field sources s that precede every target t."""
        ut = self._u(t)
        return self.tk.weights_grid(ut, np.minimum(self._u(s), np.min(ut)), src)
