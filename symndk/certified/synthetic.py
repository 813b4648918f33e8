"""High-precision (mpmath) reference solution of the synthetic task, with an error certificate.

:func:`reference` solves the scalar reduction of docs/theory.md §10,

    g(t)  = int_0^t ds e^{-gamma (t-s)} [Theta_d - Theta_o](t, s) (1 - g(s))
    f*(t) = int_0^t ds e^{-gamma (t-s)} [Theta_r - Theta_o](t, s) (1 - g(s)),

(training predictor ``fbar_train,mu(t) = y_mu g(t)``, test predictor ``f*(t)``) by Radau IIA panel
collocation (:mod:`symndk.certified.volterra`) on gmpy2/MPFR numbers at ``dps + GUARD`` working
digits, with the generated ``mpfr`` kernels, twice: at collocation order p and p + 6 on the same
mesh (the two solves run in parallel processes when ``jobs`` > 1). The two answers must agree to the
requested number of significant digits; the agreement is the certificate, reported per time.
The same machinery (:func:`certified`, with a problem class giving the Volterra system and its
outputs) serves :func:`symndk.certified.general.reference_predict`, the full vector system on a
small data set.

Example (erf, L = 1, 8 digits; the certificate is the agreement of the two orders):
    >>> res = reference("erf", depth=1, sigma0_sq=1.0, sigma_sq=1.0, T=0.5, r=0.5, times=[1, 4], dps=8)
    >>> res.train_str[:, 0].tolist(), res.test_str[:, 0].tolist()  # g(t), f*(t): certified digits only
    (['0.41759249', '0.4813019'], ['0.19015175', '0.22409283'])
    >>> bool(min(res.digits) >= 8), res.train.shape, res.train.dtype.name  # float64 copies
    (True, (2, 1), 'float64')
"""
from __future__ import annotations

import math
import multiprocessing
import os
import time as _time
from concurrent.futures import ProcessPoolExecutor

import gmpy2
import mpmath

from symndk.errors import SymndkError
from symndk.results import Result
from symndk.certified.kernel import NDKernel
from symndk.certified.numbers import mpfr, to_mpf, working_digits
from symndk.certified.volterra import PanelSolver

#: working digits beyond the requested ones
GUARD = 10
#: digits a numeric kernel's relative error bound may lose on its way into the solution (recursion over
#: L layers and the Volterra solve; an allowance, not measured): certified digits <= -log10(bound) - margin
KERNEL_MARGIN = 2
KERNEL_METHOD = ("numeric dual kernels (no closed form): Mehler series, Chebyshev-tabulated Hermite coefficients, "
                 "per-evaluation error bound (symndk.kernels.hermite_mpfr); certified digits capped by the bound")
METHOD = ("Radau IIA panel collocation on MPFR numbers (sqrt(t) first panel, s = t - v^2 near field, "
          "interpolated far field); certificate: orders p and p + 6 on the same mesh")


def exact_str(value) -> str:
    """The exact decimal value of a parameter: a float is the binary number it holds (0.1 gives
    0.1000000000000000055511151231257827...), a string or an integer is taken as written.

    >>> exact_str("0.01"), exact_str(2), exact_str(0.5), exact_str(0.1)[:22]
    ('0.01', '2', '0.5', '0.10000000000000000555')
    """
    from decimal import Decimal

    return str(Decimal(value)) if isinstance(value, float) else str(value)


def certified_str(value, digits, dps):
    """``value`` as a positional decimal string (no exponent) with min(dps, digits), at least 1,
    significant digits: only certified digits are printed."""
    return mpmath.nstr(value, max(1, min(dps, digits)), min_fixed=-math.inf, max_fixed=math.inf)


def to_result(times, train, test, digits, meta) -> Result:
    """A certified solution as the one result type, :class:`~symndk.results.Result`.

    ``train``/``test``: per time, lists of mpf values. The float64 arrays are the values rounded
    once; ``extras`` holds ``digits`` (certified significant digits per time), ``train_str`` and
    ``test_str`` (decimal strings with min(dps, digits) significant digits: only certified digits)
    and ``times_str``. ``error_estimate`` bounds the float arrays' absolute error: the certificate
    (10^-digits relative to the largest entry) or the float64 rounding, whichever is larger.
    """
    import numpy as np

    dps = meta["dps"]
    n = len(times)
    strings = {name: np.array([[certified_str(v, d, dps) for v in row] for row, d in zip(rows, digits)],
                              dtype=str).reshape(n, -1) for name, rows in (("train_str", train), ("test_str", test))}
    floats = [np.array([[float(v) for v in row] for row in rows], dtype=float).reshape(n, -1) for rows in (train, test)]
    error = 0.0
    for k, d in enumerate(digits):
        scale = max([abs(float(v)) for v in list(train[k]) + list(test[k])] or [0.0])
        error = max(error, scale * max(10.0 ** -d, 2.0 ** -53))
    extras = dict(strings, digits=np.array(digits, dtype=int),
                  times_str=np.array([mpmath.nstr(t, 20) for t in times], dtype=str))
    return Result(np.array([float(t) for t in times]), floats[0], floats[1], error, dict(meta), extras)


def as_dict(result: Result, train: str = "train", test: str = "test", column: bool = False) -> dict:
    """JSON-ready dictionary of a certified result (values as certified decimal strings); ``column``:
    single-column outputs as flat lists (the synthetic task's g and f*)."""
    tr, te = result.train_str.tolist(), result.test_str.tolist()
    if column:
        tr, te = [row[0] for row in tr], [row[0] for row in te]
    return {"meta": result.metadata, "times": result.times_str.tolist(), train: tr, test: te,
            "certified_digits": result.digits.tolist()}


def _number(name, v):
    """``v`` (a number or a decimal string) as an mpmath number; anything else is one SymndkError line.

    >>> _number("T", "0.25"), _number("T", 2)
    (mpf('0.25'), mpf('2.0'))
    >>> _number("T", "1e-2; rm")
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: T must be a number or a decimal string, got '1e-2; rm'
    """
    try:
        if isinstance(v, bool):
            raise TypeError
        return mpmath.mpf(v)
    except (TypeError, ValueError):
        raise SymndkError(f"{name} must be a number or a decimal string, got {v!r}") from None


def _check(activation, depth, sigma0_sq, sigma_sq, T, r, times, dps):
    if not isinstance(activation, str):
        raise SymndkError(f"activation must be a name, got {activation!r}")
    if isinstance(depth, bool) or int(depth) != depth or not 1 <= depth <= 6:
        raise SymndkError(f"depth must be an integer in 1..6, got {depth!r}")
    for name, v in (("sigma0_sq", sigma0_sq), ("sigma_sq", sigma_sq), ("T", T)):
        for x in (v if isinstance(v, (list, tuple)) and name != "T" else [v]):   # per-layer lists: each entry
            x = _number(name, x)
            if not mpmath.isfinite(x) or x <= 0:
                raise SymndkError(f"{name} must be a positive finite number, got {v!r}")
    if not -1 <= _number("r", r) <= 1:
        raise SymndkError(f"r must lie in [-1, 1], got {r!r}")
    ts = [_number("times", t) for t in times]
    if not ts or any(not mpmath.isfinite(t) or t < 0 for t in ts):
        raise SymndkError("times must be a non-empty list of finite non-negative numbers")
    if any(b <= a for a, b in zip(ts, ts[1:])):
        raise SymndkError("times must be strictly increasing")
    if isinstance(dps, bool) or int(dps) != dps or not 5 <= dps <= 60:
        raise SymndkError(f"dps (requested significant digits) must be an integer in 5..60, got {dps!r}")


def build_mesh(gamma, lam, probes, reach):
    """Panels (a, b, sqrt_var): a sqrt(t) first panel of width ~2/lam, then widths doubling.

    Radau IIA collocation is superconvergent at panel ends (order 2m - 1) and damps the fast mode
    exp(-lam t), so geometric growth is enough early on; widths are capped by ``t/2 + reach``
    (``reach``: the distance of the kernel's nearest singularity in s <= 0, at most 1/gamma) and by
    1/gamma: longer slow panels lose digits to stiff order reduction (measured, erf L = 1 at
    gamma t = 30: 14 certified digits with panels up to 15/gamma, 23 with panels <= 1/gamma).
    Every probe time is a panel end point. The certificate (orders p and p + 6) checks the resolution.
    """
    h0 = min(2 / lam, reach / 4, probes[0])
    mesh, t, h = [(mpfr(0), h0, True)], h0, h0
    for p in probes:
        while t < p:
            hn = min(2 * h, t / 2 + reach, 1 / gamma)
            rem = p - t
            b = p if rem <= hn * (1 + mpfr("1e-6")) else (t + rem / 2 if rem < 2 * hn else t + hn)
            mesh.append((t, b, False))
            h, t = b - t, b
    return mesh


class _Problem:
    """What one certificate run needs, at the working precision (picklable by value): the kernel,
    the mesh, and (in subclasses) ``kernel``/``y`` of the Volterra system, the output ``sizes``
    (train, test) and ``read(solver)`` (per probe: train values, test values)."""

    def __init__(self, activation, depth, sigma0_sq, sigma_sq, T, times, norms, rho, groups=None):
        """``norms``: the distinct squared input norms; ``rho``: the largest |cosine| between distinct
        input directions (sets the near-field grading, :class:`PanelSolver` ``branch``); ``groups``:
        per-group variances and biases as :class:`NDKernel` takes them (``sigma0_sq``, ``sigma_sq`` then
        unused), ``gamma`` the fastest rate T / sigma^2 over every group (it sizes the mesh)."""
        from symndk.kernels import loader as duals

        if groups is not None:
            sigma0_sq, sigma_sq = groups[0][-1], min([*groups[1], *(() if groups[3] is None else
                                                                  (b for b in groups[3][1] if b))], key=mpfr)
        self.gamma = mpfr(T) / mpfr(sigma_sq)
        self.kern = NDKernel(duals.load(activation, "mpfr"), depth, sigma0_sq, sigma_sq, self.gamma, norms, groups)
        self.probes = [mpfr(t) for t in times if mpfr(t) > 0]
        self.singularity = self.kern.origin_singularity()
        # first-layer correlation rho e^{-gamma (t-s)} (stationary) reaches 1 at lag ln(rho) / gamma
        self.branch = gmpy2.sqrt(-gmpy2.log(rho) / self.gamma) if 0 < rho < 1 else None

    def build(self, lam):
        """The mesh for the largest decay rate ``lam`` of the gradient phase."""
        reach = 1 / self.gamma
        if self.singularity is not None:
            reach = min(mpfr(abs(self.singularity)), reach)
        self.lam = lam
        self.mesh = build_mesh(self.gamma, lam, self.probes, reach) if self.probes else []


class _Synthetic(_Problem):
    """The scalar reduction of the synthetic task: u = 1 - g, outputs ([g], [f*]) per probe."""

    sizes = (1, 1)

    def __init__(self, activation, depth, sigma0_sq, sigma_sq, T, r, times):
        super().__init__(activation, depth, sigma0_sq, sigma_sq, T, times, (1,), abs(mpfr(r)))
        self.y, self.kernel, self.test = [1], self.kern(1, 0), self.kern(r, 0)
        zero = mpfr(0)
        self.build(self.kernel(zero, zero, zero)[0][0])

    def read(self, solver):
        return [([1 - solver.value_at_end(t)[0]], solver.apply(self.test, t)) for t in self.probes]


def _solve_order(problem, args, working, order, digits, position=None):
    """Per probe (train values, test values) as decimal strings, and the kernel evaluations, at
    collocation order ``order`` for ``problem(*args)``.

    Runs in a worker process when the two orders go in parallel (``args`` rebuilds the problem
    there, at ``working`` digits); ``position`` places its progress bar.
    """
    with working_digits(working):
        prob = problem(*args)
        bar = None
        if position is not None:
            from tqdm import tqdm

            bar = tqdm(total=len(prob.mesh), desc=f"reference p={order}", position=position, leave=False)
        solver = PanelSolver(prob.mesh, order=order, near=order + 4, digits=digits, singularity=prob.singularity,
                             branch=prob.branch)
        solver.solve(prob.kernel, prob.y, progress=bar.update if bar else None)
        if bar:
            bar.close()
        out = [[[str(v) for v in vals] for vals in probe] for probe in prob.read(solver)]
        return out, prob.kern.evaluations, prob.kern.kernel_error()


def _agreement(a, b):
    """Significant digits to which the vectors a and b agree, relative to max |b| (at most the
    working precision; an empty vector agrees to it)."""
    diff = max((abs(x - y) for x, y in zip(a, b)), default=0)
    if diff == 0:
        return mpmath.mp.dps
    scale = max(max(abs(y) for y in b), mpmath.mpf(10) ** -300)
    return min(mpmath.mp.dps, int(mpmath.floor(-mpmath.log10(diff / scale))))


def certified(problem, args, dps, order=None, jobs=None, progress=False, **task):
    """Solve ``problem(*args)`` at orders p and p + 6 (in parallel processes when jobs > 1).

    ``args`` = (activation, depth, sigma0_sq, sigma_sq, T, <task data>, times); ``task``: metadata
    of the task (or callables of the built problem giving it). Returns (times, values, digits, meta):
    values[k] = (train, test) lists of mpf at times[k] (the order p + 6 answer; zeros at t = 0),
    digits[k] = min over train and test of their agreement (:func:`_agreement`).
    """
    if jobs is not None and (isinstance(jobs, bool) or int(jobs) != jobs or jobs < 1):
        raise SymndkError(f"jobs must be a positive integer, got {jobs!r}")
    from symndk import __version__
    from symndk.kernels import loader as duals

    activation, depth, sigma0_sq, sigma_sq, T = args[:5]
    duals.load(activation, "mpfr")  # an unknown activation fails here, in one line
    start = _time.perf_counter()
    p = int(order) if order is not None else max(8, int(dps) + 2)
    working = int(dps) + GUARD
    runs = [(q, int(dps) + 6 + q - p) for q in (p, p + 6)]
    with working_digits(working):
        prob = problem(*args)
        if not prob.probes:
            results = [([], 0, 0.0)] * 2
        elif (jobs or min(2, os.cpu_count() or 1)) > 1:
            with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
                futures = [pool.submit(_solve_order, problem, args, working, q, d, k if progress else None)
                           for k, (q, d) in enumerate(runs)]
                results = [fut.result() for fut in futures]
        else:
            results = [_solve_order(problem, args, working, q, d, 0 if progress else None) for q, d in runs]
        lo, hi = ([[[to_mpf(mpfr(v)) for v in vals] for vals in probe] for probe in res[0]] for res in results)
        kernel_error = max(res[2] for res in results)
        kernel_digits = working if kernel_error == 0 else int(math.floor(-math.log10(kernel_error))) - KERNEL_MARGIN
        values, digits, k = [], [], 0
        for t in args[-1]:
            if mpfr(t) == 0:
                values.append(tuple([mpmath.mpf(0)] * n for n in prob.sizes))
                digits.append(working)
                continue
            values.append(tuple(hi[k]))
            digits.append(min(min(_agreement(a, b) for a, b in zip(lo[k], hi[k])), kernel_digits))
            k += 1
        times = [to_mpf(mpfr(t)) for t in args[-1]]
        exact = lambda v: [exact_str(x) for x in v] if isinstance(v, (list, tuple)) else exact_str(v)  # noqa: E731
        given = [x for v in (sigma0_sq, sigma_sq, T) for x in (v if isinstance(v, (list, tuple)) else [v])]
        meta = dict(activation=activation, depth=int(depth), sigma0_sq=exact(sigma0_sq),
                    sigma_sq=exact(sigma_sq), T=exact_str(T), gamma=format(prob.gamma, f".{min(working, 25)}g"),
                    parameters=("exact binary values of the floats given" if any(isinstance(v, float) for v in given)
                                else "the decimal numbers given"),
                    **{key: v(prob) if callable(v) else v for key, v in task.items()},
                    dps=int(dps), working_dps=working, order=p, certificate_order=p + 6, panels=len(prob.mesh),
                    kernel_evaluations=sum(res[1] for res in results),
                    **({"kernel_error_bound": float(f"{kernel_error:.3g}"), "kernel_digits": kernel_digits,
                        "kernel_method": KERNEL_METHOD} if kernel_error else {}),
                    seconds=round(_time.perf_counter() - start, 3), method=METHOD, symndk_version=__version__)
    if min(digits) < int(dps):
        meta["warning"] = f"certificate reached only {min(digits)} of {int(dps)} requested digits"
    return times, values, digits, meta


def reference(activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.01, r=0.5,
              times=(1.0, 10.0, 100.0, 1000.0, 3000.0), dps=30, order=None, progress=False, jobs=None):
    """Certified high-precision g(t) and f*(t) of the synthetic task (docs/theory.md §10).

    Args:
        activation: registered activation ("relu", "erf", "linear", ..., or a user activation from
            ``symndk kernel``); kernels without closed form use the Mehler series of
            :mod:`symndk.kernels.hermite_mpfr`, whose error bound caps the certified digits.
        depth: hidden layers L. sigma0_sq, sigma_sq, T: initial variance, prior variance, temperature
            (all > 0; gamma = T / sigma_sq); numbers or decimal strings (floats are taken exactly,
            so 0.01 means the double nearest 0.01; pass "0.01" for the decimal). r: overlap of the
            test point with x_1.
        times: strictly increasing probe times >= 0.
        dps: requested significant digits (working precision dps + GUARD).
        order: collocation order p (default from dps); the certificate run uses p + 6.
        progress: show a tqdm bar over panels per order.
        jobs: processes for the two orders (default: 2 if the machine has 2+ cores, else 1).

    Returns:
        :class:`~symndk.results.Result` with ``train`` = g(t) (fbar_train,mu = y_mu g) and ``test`` = f*(t)
        as (n, 1) columns; ``extras``: ``digits`` (agreement of orders p and p + 6 at each time),
        ``train_str``/``test_str`` (certified decimal strings); see :func:`to_result`.
        Raises SymndkError if bad input is given.
    """
    _check(activation, depth, sigma0_sq, sigma_sq, T, r, times, dps)
    args = (activation, int(depth), sigma0_sq, sigma_sq, T, r, list(times))
    ts, values, digits, meta = certified(_Synthetic, args, dps, order, jobs, progress, r=str(r))
    return to_result(ts, [v[0] for v in values], [v[1] for v in values], digits, meta)
