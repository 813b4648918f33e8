"""Mean predictor of Markov proximal learning (MPL, docs/theory.md §D): implicit discrete sums.

With r(n) = Y - fbar_X(n) and kh(n, m) = beta DeltaK(n, m) (the discrete NDK of
:mod:`symndk.runtime.proximal`, evaluated as an integral of Theta_L[c]), the predictor solves

    r(n) + sum_{m=1..n} kh(n, m; X, X) r(m) = Y,        fbar(x, n) = sum_{m=1..n} kh(n, m; x, X) r(m),

implicit because the m = n term is present. Methods:

* ``"direct"`` -- every term summed with exact kernel blocks, O(N^2) pairs: the brute-force
  reference, and the path for a lambda_n that changes at very many steps (:func:`direct`);
* ``"panels"`` (default for N > 400; constant lambda, or a schedule of at most MAX_STAGES runs of
  equal lambda, :class:`Stages`: the chain statistics in closed form per stage at real steps, the
  mesh restarted at every stage, the compression in the decay clock G(n) with weights fitted from
  exact entries, no table) -- :func:`panels`: the steps are cut into
  panels; the first ones (width <= p) are marched step by step, later ones (width >= 5p, growing
  geometrically like the fast solver's mesh, capped at the kernel's decay length) carry r as a
  polynomial through p integer collocation steps. For a collocation step n the history is split
  into exact lags 0..k0-1 and pieces graded geometrically in lag (cut at panel ends), each summed
  by a *discrete* Gauss rule (Gauss quadrature for the uniform measure on the piece's integers,
  from the recurrence of the discrete Chebyshev polynomials): the sums are sums, not integrals.
  The kernel is the compressed, tabulated family of :mod:`symndk.dynamics.compress`
  (kh(n, m) ~ sum_k beta_k(n/lambda, m/lambda) B_k), so a time pair costs a table look-up and the
  full P x P recursion runs at a few skeleton pairs only. ``error_estimate`` extrapolates the
  differences to solves of orders p - 1 and p - 2 on the same mesh with untabulated kernel
  weights (:func:`panels`), plus the compression error.

Closed forms: :func:`proximal_point` (T = 0: Y - fbar_X(n) = (I + K/lambda)^{-n} Y) and
:func:`equilibrium` ((k0 + k1)^T (K0 + K1 + I/beta)^{-1} Y).

Example (erf, L = 1: the panel solver against the brute-force sum):
    >>> import numpy as np
    >>> X = np.eye(3) * np.sqrt(3); y = np.array([1.0, -1.0, 1.0])
    >>> k = ProximalKernel(X, X[:1] * 0.5, "erf", 1, 2.0, 1.0, 0.05, lam=4.0)
    >>> ref = direct(k, y, 300)
    >>> out = panels(k, y, 300, p=8)
    >>> bool(np.max(np.abs(out.rows - ref.rows)) < 1e-8), bool(out.error_estimate < 1e-6)
    (True, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from symndk.dynamics.compress import compress, tabulate
from symndk.dynamics.twotime import input_kernels, load_duals
from symndk.dynamics.volterra import StiffSolver
from symndk.errors import SymndkError
from symndk.runtime import proximal as rt
from symndk.runtime.recursion import Bias, layer_kernels


def _each(v, n: int) -> list:
    """A variance as a list of n per-group floats (a number repeated)."""
    return [float(x) for x in v] if isinstance(v, (list, tuple)) else [float(v)] * n


def gauss_legendre01(n: int):
    """n-point Gauss-Legendre rule on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


@lru_cache(maxsize=4096)
def discrete_gauss(M: int, n: int):
    """Gauss rule for sums over the integers 0..M-1: sum_j w_j g(x_j) = sum_{i<M} g(i) exactly for
    polynomials g of degree <= 2n - 1 (Golub-Welsch on the discrete Chebyshev recurrence
    alpha_k = (M-1)/2, beta_k = k^2 (M^2 - k^2) / (4 (4k^2 - 1))). For M <= n: the integers.

    Example:
        >>> x, w = discrete_gauss(1000, 4)
        >>> g = lambda i: i**7 - 3.0 * i**2 + 1
        >>> bool(abs(np.dot(w, g(x)) / sum(g(float(i)) for i in range(1000)) - 1) < 1e-13)
        True
    """
    if M <= n:
        return np.arange(M, dtype=float), np.ones(M)
    k = np.arange(1, n, dtype=float)
    off = np.sqrt(k * k * (M * M - k * k) / (4 * (4 * k * k - 1)))
    J = np.diag(np.full(n, (M - 1) / 2)) + np.diag(off, 1) + np.diag(off, -1)
    x, V = np.linalg.eigh(J)
    return x, M * V[0] ** 2


#: the panel solver takes a lambda_n schedule of at most this many stages (runs of equal values)
MAX_STAGES = 64


class Stages:
    """A lambda_n schedule as stages (runs of equal lambda), with the AR(1) chain statistics in
    closed form per stage, so they extend to real steps n (the discrete Gauss nodes of the panel
    solver): in stage s (steps start_s..end_s, a_s, v_s, rate_s = -log a_s, c_inf_s = v_s/(1 - a_s^2))
    and j = n - (start_s - 1),

        C(n) = C(start_s - 1) a_s^{2j} + c_inf_s (1 - a_s^{2j}),   G(n) = G(start_s - 1) + rate_s j,

    C(n, m) = e^{-(G(n) - G(m))} C(m), the width of DeltaK is e^{-(G(n) - G(m))} v_m, and
    C(n) C(m) - C(n, m)^2 = C(m) E(n, m) with E = sum over the stages met between m and n of
    c_inf_s (1 - a_s^{2 len}) e^{-2 (G(n) - G(end of the piece))} (no cancellation). At integer
    steps this is the recurrence of :func:`symndk.runtime.proximal.schedule`. G is the decay clock:
    the kernel time of the compression (gamma = 1).

    Example (two stages; the closed form at integer steps is the recurrence):
        >>> st = Stages([1.0, 1.0, 4.0, 4.0, 4.0], 0.5, 10.0, 2.0)
        >>> _, _, C = rt.schedule([1.0, 1.0, 4.0, 4.0, 4.0], 0.5, 10.0, 2.0)
        >>> bool(np.allclose(st.C(np.arange(6.0)), C, rtol=1e-14)), st.start.tolist(), st.end.tolist()
        (True, [1, 3], [2, 5])
    """

    def __init__(self, lams, kappa, beta, sigma0_sq):
        lams = np.asarray(lams, float)
        first = np.concatenate([[0], np.nonzero(np.diff(lams))[0] + 1])          # 0-based first index
        self.start = first + 1
        self.end = np.concatenate([first[1:], [lams.size]])
        self.lam = lams[first]
        self.a, self.v, self.rate = (np.asarray(x, float) for x in rt.chain(self.lam, kappa, beta, np.log1p))
        self.cinf = self.v / -np.expm1(-2 * self.rate)                            # v / (1 - a^2)
        n = self.end - self.start + 1
        C0, G0 = [float(sigma0_sq)], [0.0]
        for s in range(self.lam.size):
            C0.append(C0[-1] * np.exp(-2 * self.rate[s] * n[s]) - self.cinf[s] * np.expm1(-2 * self.rate[s] * n[s]))
            G0.append(G0[-1] + self.rate[s] * n[s])
        self.C0, self.G0 = np.array(C0), np.array(G0)

    @property
    def count(self) -> int:
        return int(self.lam.size)

    def _loc(self, n):
        n = np.asarray(n, float)
        s = np.clip(np.searchsorted(self.end, n, side="left"), 0, self.count - 1)
        return n, s, n - (self.start[s] - 1)

    def C(self, n):
        n, s, j = self._loc(n)
        return self.C0[s] * np.exp(-2 * self.rate[s] * j) - self.cinf[s] * np.expm1(-2 * self.rate[s] * j)

    def G(self, n):
        n, s, j = self._loc(n)
        return self.G0[s] + self.rate[s] * j

    def v_at(self, m):
        """v of the step m (the stage holding m; steps end_s belong to stage s). v jumps at a stage
        change, so m within 1e-9 of an integer is taken as that integer: kernel times round-trip
        m -> G(m) -> m only to rounding (500 came back as 500 + 1e-13, the next stage's v)."""
        m = np.asarray(m, float)
        r = np.rint(m)
        return self.v[self._loc(np.where(np.abs(m - r) <= 1e-9 * np.maximum(1.0, r), r, m))[1]]

    def steps_at(self, u):
        """The real step n with G(n) = u (G is piecewise linear and increasing)."""
        u = np.asarray(u, float)
        s = np.clip(np.searchsorted(self.G0[1:], u, side="left"), 0, self.count - 1)
        return self.start[s] - 1 + (u - self.G0[s]) / self.rate[s]

    def E(self, n, m):
        """C(n) - C(n, m)^2 / C(m), n >= m, as a sum of positive terms."""
        n, m = np.broadcast_arrays(np.asarray(n, float), np.asarray(m, float))
        Gn = self.G(n)
        out = np.zeros(n.shape)
        for s in range(self.count):
            lo, hi = np.maximum(m, self.start[s] - 1), np.minimum(n, self.end[s])
            ln = np.maximum(hi - lo, 0.0)
            if not np.any(ln > 0):
                continue
            out += np.where(ln > 0, -self.cinf[s] * np.expm1(-2 * self.rate[s] * ln)
                            * np.exp(-2 * (Gn - self.G(np.maximum(hi, lo)))), 0.0)
        return out

    def mesh(self, n_end: int, p: int):
        """:func:`step_mesh` per stage, restarted at each stage start (the panels never straddle a
        change of lambda, where the chain statistics kink)."""
        out = []
        for a, b, rate in zip(self.start, self.end, self.rate):
            if a > n_end:
                break
            b = min(int(b), n_end)
            out += [(int(a) - 1 + x, int(a) - 1 + y) for x, y in step_mesh(b - int(a) + 1, p, float(rate))]
        return out


class _StepChain:
    """One parameter group's AR(1) chain under a lambda_n schedule at integer steps
    (:func:`symndk.runtime.proximal.schedule`)."""

    def __init__(self, lams, kappa, beta, sigma0_sq):
        a, v, C = rt.schedule(list(lams), kappa, beta, sigma0_sq)
        self.a_n, self.v_n, self.C_n = np.array(a), np.array(v), np.array(C)
        self.log_a = np.concatenate([[0.0], np.cumsum(np.log(self.a_n[1:]))])      # sum_{k<=n} log a_k

    def stats(self, n: int, ms):
        """(C_n, C_m, c_hi, width, D_hi) of the pairs (n, m), m in ``ms`` (shaped (len, 1, 1))."""
        C_n, C_m = self.C_n[n], self.C_n[ms].reshape(-1, 1, 1)
        A = np.exp(self.log_a[n] - self.log_a[ms]).reshape(-1, 1, 1)
        # C_n - A^2 C_m = sum_{k=m+1..n} (prod_{j>k} a_j^2) v_k >= 0, summed without cancellation
        E = np.zeros(n + 1)
        for k in range(1, n + 1):
            E[:k] = self.a_n[k] ** 2 * E[:k] + self.v_n[k]
        return C_n, C_m, A * C_m, A * self.v_n[ms].reshape(-1, 1, 1), C_m * E[ms].reshape(-1, 1, 1)


class _Exact:
    """The compressed kernel with weights fitted from exact entries (no table): the schedule's
    chain statistics kink at stage changes, which a Chebyshev table would interpolate badly."""

    def __init__(self, ck):
        self.ck, self.basis, self.rank, self.error = ck, ck.basis, ck.rank, 0.0
        self.weights = ck.weights


class ProximalKernel:
    """kh(n, m) = beta DeltaK(n, m) of one network on rows [X_train; X_test] x columns X_train.

    Constant lambda (``lam`` a number): the family is also exposed in the interface of
    :class:`symndk.dynamics.twotime.TwoTimeKernel` (``entries``, ``block``, ``gamma``) with times
    t = n / lambda and the channel lambda beta DeltaK (-> K^d as lambda -> inf), so it can be
    compressed. A schedule (``lam`` a sequence lambda_1..lambda_N) is served by :meth:`blocks_at`.

    Args:
        X_train, X_test, activation, depth, sigma0_sq, sigma_sq, T: as ``TwoTimeKernel``.
        lam: lambda (> 0), or the sequence lambda_1..lambda_N.
        n_gl: Gauss-Legendre nodes of the c-integral.
        bias: None, or (sigma_b0_sq, sigma_b_sq) as ``TwoTimeKernel``.

    **Parameter groups** (biases, or ``sigma0_sq``/``sigma_sq``/the bias pair as lists of depth + 1;
    a lambda schedule: :meth:`blocks_at` only, per-group :class:`_StepChain`): every group g (W_1..W_L, readout, and each bias) is its own AR(1) chain with
    kappa_g = T / sigma_g^2 (:attr:`chains`); DeltaK is the line integral of
    :func:`symndk.runtime.proximal.delta_kernel` over the group covariances, and the compression
    runs on the slowest group's rate (``grouped`` is True).
    """

    channels = ("ndk",)
    on_compress = None

    def __init__(self, X_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, lam, n_gl: int = 10, bias=None):
        input_kernels(self, X_train, X_test)
        if not T > 0:
            raise SymndkError("MPL needs T > 0 (beta = 1/(2T)); T = 0 is the proximal-point closed form")
        self.activation, self.depth = activation, int(depth)
        self.grouped = bias is not None or isinstance(sigma_sq, (list, tuple)) or isinstance(sigma0_sq, (list, tuple))
        self.T = float(T)
        self.beta = 1.0 / (2.0 * self.T)
        if not self.grouped:
            self.sigma0_sq, self.sigma_sq = float(sigma0_sq), float(sigma_sq)
            self.kappa = self.T / self.sigma_sq
        self.duals = load_duals(activation)
        self.nodes, self.weights = gauss_legendre01(n_gl)
        self.n_gl = n_gl
        lam_arr = np.atleast_1d(np.asarray(lam, float))
        if lam_arr.size == 0 or not np.all(np.isfinite(lam_arr)) or np.any(lam_arr <= 0):
            raise SymndkError(f"lam must be > 0 (a number or one value per step), got {lam!r}")
        self.schedule = np.ndim(lam) > 0
        if self.schedule and self.grouped:    # per-group chains at integer steps: the direct sums only
            self._groups(sigma0_sq, sigma_sq, bias, float(lam_arr[0]))
            self.lams, self.schedule, self.stages = lam_arr, True, None
            per = lambda ch: None if ch is None else _StepChain(lam_arr, self.T / ch[5], self.beta, ch[0])  # noqa: E731
            self.step_chains = [per(ch) for ch in self.chains]
            self.step_bias = None if self.bias_chains is None else [per(ch) for ch in self.bias_chains]
        elif self.schedule:
            self.lams = lam_arr
            self.steps_chain = _StepChain(lam_arr, self.kappa, self.beta, self.sigma0_sq)
            self.lam = float(lam_arr[0])
            self.stages = Stages(lam_arr, self.kappa, self.beta, self.sigma0_sq)
            self.rate = float(np.max(self.stages.rate))
            self.gamma, self.unit = 1.0, 1.0            # kernel time: the decay clock G(n); channel beta DeltaK
        elif self.grouped:
            self._groups(sigma0_sq, sigma_sq, bias, float(lam))
        else:
            self.lam = float(lam)
            self.a, self.v, self.rate = rt.chain(self.lam, self.kappa, self.beta, math.log1p)
            self.cinf = rt.stationary_variance(self.sigma_sq, self.lam, self.kappa)
            self.gamma = self.lam * self.rate          # decay rate per unit time t = n / lambda
            self.unit = self.lam                       # channel lambda beta DeltaK (-> K^d)
        self._compressed = {}

    def _groups(self, sigma0_sq, sigma_sq, bias, lam):
        """Per-group chains (s0, a, v, rate, c_inf): ``chains`` for the weights W_1..W_L, readout and
        ``bias_chains`` (None where a group has no bias)."""
        L1 = self.depth + 1
        each = lambda v: _each(v, L1)  # noqa: E731

        def chain(s0, s2):
            kappa = self.T / s2
            a, v, rate = rt.chain(lam, kappa, self.beta, math.log1p)
            return s0, a, v, rate, rt.stationary_variance(s2, lam, kappa), s2

        self.chains = [chain(s0, s2) for s0, s2 in zip(each(sigma0_sq), each(sigma_sq))]
        b0, b2 = ([0.0] * L1, [0.0] * L1) if bias is None else (each(bias[0]), each(bias[1]))
        self.bias_chains = [chain(x0, x2) if x2 > 0 else None for x0, x2 in zip(b0, b2)]
        if all(b is None for b in self.bias_chains):
            self.bias_chains = None
        rates = [c[3] for c in self.chains + (self.bias_chains or []) if c is not None]
        self.lam, self.schedule = lam, False
        self.rate = float(min(rates))                  # the slowest group sets the compression's clock
        self.gamma, self.unit = self.lam * self.rate, self.lam
        self.layered = max(rates) > self.rate * (1 + 1e-12)   # other rates: extra table nodes (compress.tabulate)

    # ------------------------------------------------------------------ evaluation

    def _eval(self, k_tt, k_ss, k_ts, D_0, C_n, C_m, c_hi, width, D_hi, bias, scale):
        dk = rt.delta_kernel(k_tt, k_ss, k_ts, C_n, C_m, c_hi, width, D_hi, self.depth, self.duals,
                             self.nodes, self.weights, D_0, bias)
        return scale * dk

    @staticmethod
    def _chain_stats(chain, n, m):
        """(C_n, C_m, c_hi, width, D_hi) of one constant-lambda chain (s0, a, v, rate, c_inf)."""
        s0, _, v, rate, cinf = chain[:5]
        e, x = np.exp, np.expm1
        C_n = rt.variance(n, s0, cinf, rate, e, x)
        C_m = rt.variance(m, s0, cinf, rate, e, x)
        c_hi = rt.covariance(n, m, C_m, rate, e)
        width = np.exp(-rate * (n - m)) * v
        D_hi = rt.gram(n, m, C_m, cinf, rate, x)
        return C_n, C_m, c_hi, width, D_hi

    def _stats(self, n, m):
        """(C_n, C_m, c_hi, width, D_hi, bias) at real steps n >= m (a schedule: :class:`Stages`;
        parameter groups: lists of L + 1, ``bias`` as :func:`symndk.runtime.proximal.delta_kernel`)."""
        if self.schedule:
            st = self.stages
            A = np.exp(-(st.G(n) - st.G(m)))
            C_m = st.C(m)
            return st.C(n), C_m, A * C_m, A * st.v_at(m), C_m * st.E(n, m), None
        if self.grouped:
            w = [list(x) for x in zip(*(self._chain_stats(c, n, m) for c in self.chains))]
            bias = None if self.bias_chains is None else [   # with D_hi: the bias Gram determinant carried
                None if c is None else self._chain_stats(c, n, m) for c in self.bias_chains]
            return (*w, bias)
        return (*self._chain_stats((self.sigma0_sq, self.a, self.v, self.rate, self.cinf), n, m), None)

    def blocks(self, n, m):
        """(len, R, P) blocks kh(n_i, m_i) at real steps n >= m (constant lambda)."""
        n = np.asarray(n, float).reshape(-1, 1, 1)
        m = np.asarray(m, float).reshape(-1, 1, 1)
        st = self._stats(n, m)
        return self._eval(self.norm_rows[None, :, None], self.norm_cols[None, None, :], self.gram[None],
                          self.det0[None], *st, self.beta)

    def blocks_at(self, n: int, ms):
        """(len, R, P) blocks kh(n, m) for integer steps m in ``ms`` (any lambda, schedules included)."""
        if not self.schedule:
            return self.blocks(np.full(len(ms), float(n)), np.asarray(ms, float))
        ms = np.asarray(ms, int)
        if self.grouped:
            st = [list(x) for x in zip(*(ch.stats(n, ms) for ch in self.step_chains))]
            bias = None if self.step_bias is None else [None if ch is None else ch.stats(n, ms)
                                                        for ch in self.step_bias]
        else:
            st, bias = self.steps_chain.stats(n, ms), None
        return self._eval(self.norm_rows[None, :, None], self.norm_cols[None, None, :], self.gram[None],
                          self.det0[None], *st, bias, self.beta)

    # the TwoTimeKernel interface for compression: kernel times t = n / lambda with the channel
    # lambda kh (-> K^d); for a schedule t = G(n), the decay clock, with the channel kh
    def time(self, n):
        """Kernel time of (real) steps n."""
        return self.stages.G(n) if self.schedule else np.asarray(n, float) / self.lam

    def steps(self, t, s, lag=None):
        """Steps (n, m) of kernel times (t, s) (``lag``: t - s if known more accurately)."""
        t, s = np.asarray(t, float), np.asarray(s, float)
        if lag is not None:
            t = s + np.asarray(lag, float)
        if self.schedule:
            m = self.stages.steps_at(s)
            return np.maximum(self.stages.steps_at(t), m), m
        return t * self.lam, s * self.lam

    def entries(self, rows, cols, t, s, lag=None):
        rows, cols = np.asarray(rows), np.asarray(cols)
        n, m = self.steps(np.asarray(t, float).reshape(-1, 1), np.asarray(s, float).reshape(-1, 1),
                          None if lag is None else np.asarray(lag, float).reshape(-1, 1))
        st = self._stats(n, m)
        out = self._eval(self.norm_rows[rows][None, :], self.norm_cols[cols][None, :], self.gram[rows, cols][None, :],
                         self.det0[rows, cols][None, :], *st, self.beta * self.unit)
        return out[None]

    def block(self, t, s, lag=None):
        n, m = self.steps(float(t), float(s), lag)
        return self.blocks([float(n)], [float(m)])[0][None] * self.unit

    def tabulated(self, n_end: int):
        """The compressed (:func:`~symndk.dynamics.compress.compress`) and tabulated family over
        0 <= m <= n <= n_end, computed once."""
        key = int(n_end)
        if key not in self._compressed:
            t_end = max(float(self.time(n_end)), 1e-12)
            ck = compress(self, t_end)
            self._compressed[key] = _Exact(ck) if self.schedule else tabulate(ck, t_end)
            if self.on_compress is not None:
                self.on_compress()
        return self._compressed[key]


@dataclass
class Solution:
    """Predictor at integer steps: ``rows`` (n_steps, R[, K]) = [fbar_train, fbar_test]."""

    steps: np.ndarray
    rows: np.ndarray
    error_estimate: float = 0.0
    info: dict = field(default_factory=dict)


def _as2d(y):
    y = np.asarray(y, float)
    return (y[:, None], True) if y.ndim == 1 else (y, False)


# ----------------------------------------------------------------------------- direct (brute force)

def direct(kernel: ProximalKernel, y, n_end: int, steps=None) -> Solution:
    """Every term of the implicit sums with exact kernel blocks: O(n_end^2) pairs (reference;
    time-dependent lambda_n)."""
    Y, flat = _as2d(y)
    P, R = kernel.P, kernel.R
    n_end = int(n_end)
    if kernel.schedule and n_end > kernel.lams.size:
        raise SymndkError(f"the lambda schedule has {kernel.lams.size} steps, {n_end} requested")
    r = np.zeros((n_end + 1, P, Y.shape[1]))
    out = np.zeros((n_end + 1, R, Y.shape[1]))
    for n in range(1, n_end + 1):
        B = kernel.blocks_at(n, np.arange(1, n + 1))               # (n, R, P)
        hist = np.einsum("mrp,mpk->rk", B[:-1], r[1:n]) if n > 1 else np.zeros((R, Y.shape[1]))
        A = np.eye(P) + B[-1][:P]
        r[n] = np.linalg.solve(A, Y - hist[:P])
        out[n] = hist + B[-1] @ r[n]
    steps = np.arange(n_end + 1) if steps is None else np.asarray(steps, int)
    rows = out[steps]
    return Solution(steps, rows[..., 0] if flat else rows, 0.0, {"method": "direct", "pairs": n_end * (n_end + 1) // 2})


# ----------------------------------------------------------------------------- panels

def step_mesh(n_end: int, p: int, rate: float, growth: float = 0.4, late_width: float = 1.0,
              grow_after: float = 4.0, late_ratio: float = 1.3, wide: int = 5):
    """Panels [a, b] of integer steps covering 1..n_end: width p (stepped exactly) while a
    geometric width growth * (a - 1) is below ``wide`` * p, then that width, capped at
    ``late_width`` / rate steps (the kernel's decay length) until (a - 1) rate > grow_after, then
    growing by ``late_ratio`` per panel. A short last piece is stepped exactly.

    Example:
        >>> m = step_mesh(10**6, 12, 1e-4)
        >>> m[0], m[-1][1], len(m) < 80
        ((1, 12), 1000000, True)
    """
    panels, a, prev = [], 1, 0
    cap = max(late_width / rate, wide * p) if rate > 0 else np.inf
    while a <= n_end:
        W = int(growth * (a - 1))
        if (a - 1) * rate <= grow_after:
            W = min(W, int(cap))
        else:
            W = min(W, max(int(prev * late_ratio), int(cap)))
        if W < wide * p:
            W = p
        W = min(W, n_end - a + 1)
        if p < W < wide * p:                                    # short last piece: step it exactly
            W = p
        panels.append((a, a + W - 1))
        prev, a = W, a + W
    return panels


class _Panel:
    def __init__(self, a, b, p, exact):
        self.a, self.b = a, b
        W = b - a + 1
        self.exact = exact
        if self.exact:
            self.nodes = np.arange(a, b + 1, dtype=float)
        else:
            x = a + (W - 1) * (1 - np.cos(np.pi * np.arange(p) / (p - 1))) / 2
            x = np.round(x)
            for i in range(1, p):
                x[i] = max(x[i], x[i - 1] + 1)
            for i in range(p - 2, -1, -1):
                x[i] = min(x[i], x[i + 1] - 1)
            self.nodes = x
        z = self._z(self.nodes)
        d = z[:, None] - z[None, :]
        np.fill_diagonal(d, 1.0)
        self.bw = 1.0 / np.prod(d, axis=1)

    def _z(self, m):
        return (2 * np.asarray(m, float) - self.a - self.b) / max(self.b - self.a, 1)

    def basis(self, m):
        """(len(m), p) Lagrange basis at steps m (exact 0/1 rows at the nodes)."""
        z = self._z(m)
        zn = self._z(self.nodes)
        d = z[:, None] - zn[None, :]
        hit = d == 0.0
        d[hit] = 1.0
        L = self.bw / d
        L /= L.sum(axis=1, keepdims=True)
        rows = hit.any(axis=1)
        L[rows] = hit[rows]
        return L


def _segments(n, panels, owner, k0, n_g):
    """(m, weight, panel index) arrays of the history sum for target step n."""
    ms, ws, js = [], [], []

    def add(lo, hi):                       # [lo, hi] inside one panel
        J = owner(lo)
        M = hi - lo + 1
        if panels[J].exact or M <= n_g:
            x, w = np.arange(lo, hi + 1, dtype=float), np.ones(M)
        else:
            x, w = discrete_gauss(M, n_g)
            x = lo + x
        ms.append(x)
        ws.append(w)
        js.append(np.full(x.size, J))

    lo_direct = max(1, n - k0 + 1)
    for m in range(lo_direct, n + 1):
        add(m, m)
    hi, width = lo_direct - 1, k0
    while hi >= 1:
        lo = max(1, hi - width + 1)
        J = owner(hi)
        while lo <= hi:                    # cut at panel starts
            start = max(lo, panels[J].a)
            add(start, hi)
            hi, J = start - 1, J - 1
        width *= 2
    return np.concatenate(ms), np.concatenate(ws), np.concatenate(js)


def panels(kernel: ProximalKernel, y, n_end: int, steps=None, p: int = 12, n_g: int = 10, k0: int = 16,
           estimate: bool = True, mesh=None) -> Solution:
    """Panel collocation with discrete Gauss sums and the compressed kernel (module docstring).

    ``error_estimate``: from two more solves on the same mesh, orders (p - 1, n_g - 1) and
    (p - 2, n_g - 2), whose kernel weights are fitted from exact entries (not the table):
    d1 = max |f_p - f_{p-1}| over the returned steps (discretisation and table error),
    d2 = max |f_{p-1} - f_{p-2}|, estimate d1 min(1, 2 d1/d2) (geometric convergence), plus the
    compression error x max|Y| x (1 + the largest history mass of kh). When 2 d1/d2 < 1 the table's
    share of d1 must not shrink with it: a third solve (order p, exact weights) then measures it,
    ``table_share`` = |f_p - f_p(exact weights)|, added as it is (d1 from exact weights). Parts in ``info``.
    """
    if kernel.schedule and kernel.stages is None:
        raise SymndkError("a lambda schedule with biases or per-layer variances is solved by method='direct'")
    if kernel.schedule and kernel.stages.count > MAX_STAGES:
        raise SymndkError(f"the panel solver takes a lambda schedule of at most {MAX_STAGES} stages (runs of equal "
                          f"lambda), got {kernel.stages.count}; use method='direct'")
    if kernel.schedule and n_end > kernel.lams.size:
        raise SymndkError(f"the lambda schedule has {kernel.lams.size} steps, {n_end} requested")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):    # per-panel products have few columns: threaded BLAS only spins (volterra.solve)
        return _panels(kernel, y, n_end, steps, p, n_g, k0, estimate, mesh)


def _panels(kernel, y, n_end, steps, p, n_g, k0, estimate, mesh):
    n_end = int(n_end)
    tk = kernel.tabulated(n_end)
    if mesh is None:
        mesh = kernel.stages.mesh(n_end, p) if kernel.schedule else step_mesh(n_end, p, kernel.rate)
    sol = _panel_solve(kernel, tk.weights, tk.basis, y, n_end, mesh, p, n_g, k0, p)
    steps = np.arange(n_end + 1) if steps is None else np.asarray(steps, int)
    rows = _interpolate(sol, mesh, p, steps)
    info = {"method": "panels", "panels": len(mesh), "p": p, "n_g": n_g, "k0": k0, "rank": tk.rank,
            "compression_error": float(tk.ck.error), "table_error": float(tk.error), "pairs": sol["pairs"]}
    est = 0.0
    if estimate:
        # two more solves on the same mesh with exact-entry (untabulated) weights, orders p - 1 and
        # p - 2: d1 = |f_p - f_{p-1}|, d2 = |f_{p-1} - f_{p-2}|; with geometric convergence the error of
        # f_p is about d1^2 / d2 (safety factor 2); the table error shows in d1 only (then d1 stands)
        def exact(d):                # order p - d with exact-entry weights
            return _interpolate(_panel_solve(kernel, tk.ck.weights, tk.basis, y, n_end, mesh, p - d, n_g - d, k0, p),
                                mesh, p - d, steps)

        lows = [exact(d) for d in (1, 2)]
        gap = lambda a, b: float(np.max(np.abs(a - b))) if steps.size else 0.0  # noqa: E731
        d1, d2 = gap(rows, lows[0]), gap(lows[0], lows[1])
        table = 0.0
        if d2 > 2 * d1 and tk.error > 0:
            # the factor 2 d1/d2 < 1 would shrink the table's share of d1 with the discretisation (groups,
            # p = 10, 600 steps: error 6.7e-12 against an estimate of 2.0e-12): measure that share with
            # order p on exact weights and take the discretisation from exact weights alone
            top = exact(0)
            table, d1 = gap(rows, top), gap(top, lows[0])
        disc = d1 * min(1.0, 2.0 * d1 / d2) if d2 > 0 else d1
        info.update(d1=d1, d2=d2, discretisation_error=disc, table_share=table)
        kern = tk.ck.error * float(np.max(np.abs(y))) * (1.0 + sol["kernel_mass"])
        info["compression_bound"] = kern
        est = float(disc + table + kern + 16 * np.finfo(float).eps * float(np.max(np.abs(y))))
    return Solution(steps, rows, est, info)


def _panel_solve(kernel, weights, basis, y, n_end, mesh, p, n_g, k0, p_mesh):
    Y, flat = _as2d(y)
    P, R, K = kernel.P, kernel.R, Y.shape[1]
    basis = basis[:, 0]                                      # (rank, R, P)
    rank = basis.shape[0]
    pans = [_Panel(a, b, p, b - a + 1 <= p_mesh) for a, b in mesh]
    starts = np.array([pp.a for pp in pans])
    owner = lambda m: int(np.searchsorted(starts, m, side="right") - 1)  # noqa: E731
    r_nodes, f_nodes, solvers = [], [], {}
    pairs, mass = 0, 0.0
    for J, pan in enumerate(pans):
        nt = pan.nodes.size
        segs = [_segments(int(n), pans, owner, k0, n_g) for n in pan.nodes]
        tgt = np.concatenate([np.full(s[0].size, i) for i, s in enumerate(segs)])
        m = np.concatenate([s[0] for s in segs])
        w = np.concatenate([s[1] for s in segs])
        js = np.concatenate([s[2] for s in segs])
        n = pan.nodes[tgt]
        pairs += m.size
        beta_w = weights(kernel.time(n), kernel.time(m)) * (w / kernel.unit)[:, None]    # (pairs, rank)
        S = np.zeros((nt, rank, P, K))
        past = js < J
        if np.any(past):
            rm = np.empty((m.size, P, K))
            for Jp in np.unique(js[past]):
                sel = js == Jp
                rm[sel] = np.einsum("qj,jpk->qpk", pans[Jp].basis(m[sel]), r_nodes[Jp])
            for i in range(nt):
                sel = past & (tgt == i)
                S[i] = np.einsum("qk,qpc->kpc", beta_w[sel], rm[sel])
        hist = np.einsum("krp,ikpc->irc", basis, S)                          # (nt, R, K)
        cur = js == J
        Lm = pan.basis(m[cur])                                               # (q, nt)
        coef = np.zeros((nt, nt, rank))
        np.add.at(coef, tgt[cur], Lm[:, :, None] * beta_w[cur][:, None, :])
        if nt not in solvers:     # (I + sum_k G^k (x) B_k) x = rhs: GMRES with LU / eigenbasis preconditioners
            solvers[nt] = StiffSolver(np.ascontiguousarray(basis[:, :P]))
        G = np.ascontiguousarray(coef.transpose(2, 0, 1))
        rhs = (Y[None] - hist[:, :P]).reshape(nt * P, K)
        rJ = solvers[nt].solve(G, rhs).reshape(nt, P, K)
        fJ = hist + np.einsum("ijk,krp,jpc->irc", coef, basis, rJ, optimize=True)
        r_nodes.append(rJ)
        f_nodes.append(fJ)
        mass = max(mass, float(np.max(np.abs(beta_w).sum(axis=0) @ np.abs(basis).max(axis=(1, 2)))) if m.size else 0.0)
    return {"r": r_nodes, "f": f_nodes, "flat": flat, "pairs": int(pairs), "kernel_mass": mass, "pans": pans}


def _interpolate(sol, mesh, p, steps):
    pans = sol["pans"]
    starts = np.array([a for a, _ in mesh])
    R, K = sol["f"][0].shape[1], sol["f"][0].shape[2]
    out = np.zeros((steps.size, R, K))
    owner = np.searchsorted(starts, steps, side="right") - 1
    for J in np.unique(owner[steps >= 1]):
        sel = (owner == J) & (steps >= 1)
        out[sel] = np.einsum("qj,jrk->qrk", pans[J].basis(steps[sel]), sol["f"][J])
    return out[..., 0] if sol["flat"] else out


# ----------------------------------------------------------------------------- closed forms

def proximal_point(K, k_test, y, steps, lam):
    """T = 0 (beta -> inf): Y - fbar_X(n) = (I + K/lambda)^{-n} Y, fbar(x, n) = k^T K^{-1} fbar_X(n)
    with K the NTK at initialisation (implicit-Euler gradient flow). Returns (train, test)
    arrays (n_steps, P[, K]) and (n_steps, Q[, K]).

    Example:
        >>> K = np.array([[2.0, 0.5], [0.5, 1.0]]); y = np.array([1.0, -1.0])
        >>> tr, te = proximal_point(K, K[:1], y, [0, 1, 3], lam=2.0)
        >>> bool(np.allclose(tr[1], y - np.linalg.solve(np.eye(2) + K / 2, y))), bool(np.allclose(te[:, 0], tr[:, 0]))
        (True, True)
    """
    w, V = np.linalg.eigh((K + K.T) / 2)
    steps = np.asarray(steps, float)
    yv = V.T @ np.asarray(y, float)
    decay = (1.0 + w / lam)[None, :] ** (-steps[:, None])                      # (n, P)
    if yv.ndim == 1:
        fv = (1 - decay) * yv[None, :]
        train = fv @ V.T
        coef = (fv / np.where(w > 0, w, np.inf)[None, :]) @ V.T             # K^{-1} f, 0 on the null space
    else:
        fv = (1 - decay)[:, :, None] * yv[None]
        train = np.einsum("nik,ji->njk", fv, V)
        coef = np.einsum("nik,ji->njk", fv / np.where(w > 0, w, np.inf)[None, :, None], V)
    test = coef @ np.asarray(k_test, float).T if yv.ndim == 1 else np.einsum("qp,npk->nqk", k_test, coef)
    return train, test


def equilibrium_kernels(kernel: ProximalKernel):
    """(S, beta): S = K0 + K1 on rows [X_train; X_test] x X_train, K0 = G(c_inf), K1 = G(a c_inf)
    at variances c_inf (docs/theory.md §D); with parameter groups every group at its own c_inf,g and
    lag-one covariance a_g c_inf,g."""
    kt, ks, g, d0 = kernel.norm_rows[:, None], kernel.norm_cols[None, :], kernel.gram, kernel.det0
    G = lambda C, c, D_C, b=None: rt.output_kernel(kt, ks, g, C, C, c, kernel.depth, kernel.duals, b, D_C, d0)  # noqa: E731
    # c_inf^2 - (a^lag c_inf)^2 = c_inf^2 (1 - a^{2 lag}) without cancellation (rt.gram at C_m = c_inf)
    D = lambda ch, lag: rt.gram(lag, 0, ch[4], ch[4], ch[3], np.expm1)  # noqa: E731
    if not kernel.grouped:
        c, one = kernel.cinf, (None, None, None, kernel.rate, kernel.cinf)
        return sum(G(c, cc, D(one, lag)) for lag, cc in ((0, c), (1, kernel.a * c))), kernel.beta
    S = 0.0
    for lag in (0, 1):
        C = [ch[4] for ch in kernel.chains]
        c = [ch[1] ** lag * ch[4] for ch in kernel.chains]
        b = None if kernel.bias_chains is None else [
            None if ch is None else (ch[4], ch[4], ch[1] ** lag * ch[4], D(ch, lag)) for ch in kernel.bias_chains]
        S = S + G(C, c, [D(ch, lag) for ch in kernel.chains], b)
    return S, kernel.beta


def equilibrium(kernel: ProximalKernel, y):
    """Finite-lambda equilibrium fbar(x, inf) = (k0 + k1)(x)^T (K0 + K1 + I/beta)^{-1} Y on all rows."""
    S, beta = equilibrium_kernels(kernel)
    P = kernel.P
    A = (S[:P] + S[:P].T) / 2 + np.eye(P) / beta
    return S @ np.linalg.solve(A, np.asarray(y, float))


# ----------------------------------------------------------------------------- public entry point

def _steps(steps):
    st = np.atleast_1d(np.asarray(steps))
    try:
        si = st.astype(np.int64)
    except (TypeError, ValueError):
        raise SymndkError(f"steps must be integers >= 0, got {steps!r}") from None
    if st.ndim != 1 or st.size == 0 or not np.all(si == st) or np.any(si < 0) or np.any(np.diff(si) < 0):
        raise SymndkError("steps must be a non-empty, sorted 1-D array of integers >= 0")
    if si[-1] > 10 ** 8:
        raise SymndkError(f"steps must be <= 1e8, got {int(si[-1])}")
    return si


def _metadata(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, lam, method, info, started,
              bias=None):
    import hashlib
    import time

    h = hashlib.sha256()
    for arr in (X_train, y_train, X_test):
        h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
        h.update(str(np.shape(arr)).encode())
    lam_meta = float(lam) if np.ndim(lam) == 0 else {"schedule": True, "steps": int(np.size(lam)),
                                                       "min": float(np.min(lam)), "max": float(np.max(lam))}
    var = lambda v: list(map(float, v)) if isinstance(v, (list, tuple)) else float(v)  # noqa: E731
    network = {"activation": activation, "depth": int(depth), "sigma0_sq": var(sigma0_sq), "sigma_sq": var(sigma_sq)}
    if bias is not None:
        network.update(bias_sigma0_sq=var(bias[0]), bias_sigma_sq=var(bias[1]))
    readout = _each(sigma_sq, int(depth) + 1)[-1]
    return {"network": network,
            "T": float(T), "gamma": float(T) / readout, "beta": (np.inf if T == 0 else 1.0 / (2.0 * T)),
            "lam": lam_meta, "method": method,
            "data": {"P": int(X_train.shape[0]), "Q": int(X_test.shape[0]), "N0": int(X_train.shape[1]),
                     "outputs": 1 if np.ndim(y_train) == 1 else int(np.shape(y_train)[1]), "hash": h.hexdigest()[:16]},
            "solver": info, "seconds": round(time.perf_counter() - started, 6),
            "convention": "beta = 1/(2T), kappa = T/sigma^2 (per group), t = n/lambda (docs/theory.md §D)"}


def _clock(steps, lam):
    """Langevin time of each step: n / lambda, or sum_{k<=n} 1/lambda_k for a schedule."""
    if np.ndim(lam) == 0:
        return steps / float(lam)
    cum = np.concatenate([[0.0], np.cumsum(1.0 / np.asarray(lam, float))])
    return cum[steps]


def predict_proximal(X_train, y_train, steps, lam, X_test=None, *, activation: str = "relu", depth: int = 2,
                     sigma0_sq: float = 0.5, sigma_sq: float = 1.0, T: float = 0.01, method: str = "auto",
                     p: int = 12, n_g: int = 10, k0: int = 16, n_gl: int = 10, kernel=None, bias=None):
    """Mean train and test predictor of Markov proximal learning at integer ``steps`` (docs/theory.md §D).

    Args:
        X_train, y_train, X_test: data ((P, N0), (P,) or (P, K), (Q, N0) or None).
        steps: sorted integer steps n >= 0 (step 0: the predictor is 0).
        lam: lambda > 0, or a schedule lambda_1..lambda_N (one value per step, N >= max(steps)).
        activation, depth, sigma0_sq, sigma_sq, T: the network and the temperature; beta = 1/(2T),
            weight decay kappa = T/sigma^2. T = 0 gives the proximal-point NTK closed form.
        method: ``"auto"`` (``"direct"`` for max(steps) <= 400 or a schedule of more than MAX_STAGES
            stages, else ``"panels"``), ``"direct"`` (every term, O(N^2)), ``"panels"`` (constant lambda,
            or a schedule of at most MAX_STAGES runs of equal lambda).
        p, n_g, k0: collocation steps per panel, discrete Gauss nodes per piece, exact lags.
        n_gl: Gauss-Legendre nodes of the c-integral of DeltaK.
        kernel: a prebuilt :class:`ProximalKernel` of the same data (reused: its compression is cached).
        bias: None, or (bias_sigma0_sq, bias_sigma_sq) (biases on every layer and the output). With
            biases, or ``sigma0_sq``/``sigma_sq``/the bias pair as lists of depth + 1 (W_1..W_L, readout),
            every parameter group has its own kappa_g = T / sigma_g^2 (a lambda schedule: method "direct").

    Returns:
        :class:`symndk.results.Result`: ``times`` = steps, ``train`` (n, P[, K]), ``test`` (n, Q[, K]),
        ``error_estimate``, ``metadata`` and extras ``t`` (the Langevin time n/lambda of each step).

    Example (erf, L = 1; the trajectory approaches the finite-lambda equilibrium):
        >>> X = np.eye(3) * np.sqrt(3); y = np.array([1.0, -1.0, 1.0])
        >>> res = predict_proximal(X, y, [1, 10, 2000], 2.0, X[:1] * 0.5, activation="erf", depth=1,
        ...                        sigma0_sq=2.0, sigma_sq=1.0, T=0.05)
        >>> eq = proximal_equilibrium(X, y, 2.0, X[:1] * 0.5, activation="erf", depth=1, sigma0_sq=2.0,
        ...                           sigma_sq=1.0, T=0.05)
        >>> bool(abs(res.test[-1, 0] - eq.test[0, 0]) < 1e-8), res.error_estimate < 1e-8, float(res.t[-1])
        (True, True, 1000.0)
    """
    import time

    from symndk import validation as check
    from symndk.results import Result

    started = time.perf_counter()
    X_train = check.inputs("X_train", X_train)
    y_train = check.targets(y_train, X_train.shape[0])
    X_test = check.optional_inputs(X_test, X_train.shape[1])
    T = check.temperature(T)
    sigma0_sq, sigma_sq, bias = _variances(depth, sigma0_sq, sigma_sq, bias)
    st = _steps(steps)
    n_end = int(st[-1])
    lam_a = np.asarray(lam, float)
    if np.ndim(lam) > 0 and lam_a.size < n_end:
        raise SymndkError(f"the lambda schedule has {lam_a.size} values, steps go to {n_end}")
    if method not in ("auto", "direct", "panels"):
        raise SymndkError(f"method must be 'auto', 'direct' or 'panels', got {method!r}")
    if T == 0:
        rows_tr, rows_te = _proximal_point_rows(X_train, y_train, X_test, st, lam, activation, depth, sigma0_sq, bias)
        meta = _metadata(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, lam,
                         "proximal-point closed form", {}, started, bias)
        return Result(st.astype(float), rows_tr, rows_te, 0.0, meta, {"t": _clock(st, lam)})
    if kernel is None:
        kernel = ProximalKernel(X_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, lam, n_gl, bias)
    if method == "auto":
        method = "direct" if (n_end <= 400 or (kernel.schedule and (kernel.stages is None or kernel.stages.count
                                                                     > MAX_STAGES))) else "panels"
    if n_end == 0:
        sol = Solution(st, np.zeros((st.size, kernel.R) + y_train.shape[1:]), 0.0, {"method": method})
    elif method == "direct":
        sol = direct(kernel, y_train, n_end, st)
    else:
        sol = panels(kernel, y_train, n_end, st, p=p, n_g=n_g, k0=k0)
    rows = np.asarray(sol.rows, float)
    if not np.all(np.isfinite(rows)):
        raise SymndkError("the MPL predictor overflowed (non-finite values)")
    P = kernel.P
    meta = _metadata(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, lam, f"mpl {method}",
                     sol.info, started, bias)
    return Result(st.astype(float), rows[:, :P], rows[:, P:], float(sol.error_estimate), meta, {"t": _clock(st, lam)})


def _variances(depth, sigma0_sq, sigma_sq, bias):
    """Validated variances: numbers, or lists of depth + 1 per group; ``bias`` None or a pair (None
    when every bias variance is 0)."""
    from symndk import validation as check

    if isinstance(depth, bool) or int(depth) != depth or not 1 <= depth <= check.MAX_DEPTH:
        raise SymndkError(f"depth must be an integer in 1..{check.MAX_DEPTH}, got {depth!r}")
    lst = lambda v: list(v) if isinstance(v, tuple) else v  # noqa: E731
    s0, s2 = (lst(check.layer_variances(n, v, int(depth))) for n, v in (("sigma0_sq", sigma0_sq),
                                                                         ("sigma_sq", sigma_sq)))
    if bias is None:
        return s0, s2, None
    if not isinstance(bias, (list, tuple)) or len(bias) != 2:
        raise SymndkError("bias must be None or a pair (bias_sigma0_sq, bias_sigma_sq)")
    b0, b2 = (lst(check.layer_variances(n, v, int(depth), zero_ok=True))
              for n, v in (("bias_sigma0_sq", bias[0]), ("bias_sigma_sq", bias[1])))
    for x0, x2 in zip(_each(b0, int(depth) + 1), _each(b2, int(depth) + 1)):
        if x2 == 0 and x0 != 0:
            raise SymndkError(f"bias_sigma0_sq = {x0!r} needs bias_sigma_sq > 0 in the same group")
    return s0, s2, (None if not np.any(b2) else (b0, b2))


def _proximal_point_rows(X_train, y_train, X_test, st, lam, activation, depth, sigma0_sq, bias=None):
    rows = np.vstack([X_train, X_test])
    n0 = X_train.shape[1]
    nr = np.einsum("ij,ij->i", rows, rows) / n0
    g = rows @ X_train.T / n0
    d0 = np.maximum(np.outer(nr, nr[: X_train.shape[0]]) - g ** 2, 0.0)
    duals, L1 = load_duals(activation), int(depth) + 1
    if bias is None and not isinstance(sigma0_sq, (list, tuple)):
        s0 = float(sigma0_sq)
        Theta = layer_kernels(nr[:, None], nr[None, : X_train.shape[0]], g, s0, s0, s0, int(depth), duals, 0.0, d0)[3]
    else:   # the NTK with biases / per-layer variances: the recursion at t = s = 0 (propagators 1)
        s0 = _each(sigma0_sq, L1)
        b0, b2 = ([0.0] * L1, [0.0] * L1) if bias is None else (_each(bias[0], L1), _each(bias[1], L1))
        groups = [Bias(x0, x0, x0, 1.0, 1.0, 0.0) if x2 > 0 else Bias(None, None, None, 1.0, None) for x0, x2 in zip(b0, b2)]
        Theta = layer_kernels(nr[:, None], nr[None, : X_train.shape[0]], g, s0, s0, s0, int(depth), duals,
                              [0.0] * L1, d0, bias=groups)[3]
    P = X_train.shape[0]
    if np.ndim(lam) > 0:
        raise SymndkError("T = 0 with a lambda schedule: use T > 0 (method 'direct')")
    return proximal_point(Theta[:P], Theta[P:], y_train, st, float(lam))


def proximal_equilibrium(X_train, y_train, lam, X_test=None, *, activation: str = "relu", depth: int = 2,
                         sigma0_sq: float = 0.5, sigma_sq: float = 1.0, T: float = 0.01, bias=None):
    """Finite-lambda MPL equilibrium (k0 + k1)^T (K0 + K1 + I/beta)^{-1} Y (docs/theory.md §D) as a
    :class:`symndk.results.Result` with ``times = [inf]``; lambda -> inf gives the NNGP equilibrium.
    ``bias`` and per-layer lists as :func:`predict_proximal` (each group at its own c_inf,g, a_g c_inf,g)."""
    import time

    from symndk import validation as check
    from symndk.results import Result

    started = time.perf_counter()
    X_train = check.inputs("X_train", X_train)
    y_train = check.targets(y_train, X_train.shape[0])
    X_test = check.optional_inputs(X_test, X_train.shape[1])
    T = check.temperature(T)
    sigma0_sq, sigma_sq, bias = _variances(depth, sigma0_sq, sigma_sq, bias)
    if T == 0 or np.ndim(lam) > 0:
        raise SymndkError("the finite-lambda equilibrium needs T > 0 and a constant lambda")
    k = ProximalKernel(X_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, lam, bias=bias)
    rows = equilibrium(k, y_train)
    P = X_train.shape[0]
    meta = _metadata(X_train, y_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, lam,
                     "mpl finite-lambda equilibrium", {}, started, bias)
    return Result(np.array([np.inf]), rows[None, :P], rows[None, P:], 0.0, meta)
