"""Finite-width Langevin simulation of an ensemble of networks (docs/theory.md §1, §7, §8, §13).

:func:`simulate` integrates dTheta = -grad E dt + sqrt(2 T dt) xi by Euler-Maruyama for
``n_networks`` independent networks, vectorised over the ensemble (batched matrix products,
hand-written backprop in :mod:`symndk.langevin.network`), in batches that keep memory
bounded, and returns the ensemble mean and standard error of the predictor at the requested
times. phi and phi' come from the generated kernels (:func:`symndk.kernels.loader.load`).

Scenarios:
    * ``freeze_readout_at=t0`` -- representational drift (section 7): after t0 the readout is
      fixed and the hidden weights follow the prior-only (Ornstein-Uhlenbeck) dynamics.
    * ``pairs=[(t_a, t_w), ...]`` -- temporal correlation (section 8):
      g(x; t_a, t_w) = a(t_a) . phi(h_L(x; Theta_{t_w})) / sqrt(N_L) (+ the output bias of t_a).
    * ``T_schedule``, ``eta_schedule`` -- an annealed temperature T(t) (weight decay T(t)/sigma^2)
      and a learning rate eta(t) (docs/theory.md §E): step n (from t_n = n dt) integrates
      dTheta = -eta [grad L + gamma Theta] dt + sqrt(2 eta T) dB with eta, T at the step's midpoint.

Variance reduction: ``antithetic=True`` (default) simulates pairs (a, W), (-a, W) with the
readout noise flipped; the O(1) prior part of f cancels within a pair, and the standard error
is computed over the pair means.

Reproducibility: batch ``b`` draws from ``numpy.random.Generator(SFC64(SeedSequence(seed).spawn(n)[b]))``;
the result is a function of (inputs, parameters, seed, batch_size).

Example (ReLU, L = 1, 8 networks, two recorded times):
    >>> import numpy as np, symndk
    >>> ds = symndk.data.synthetic(2, 0.5)
    >>> res = simulate(ds.X_train, ds.y_train, ds.X_test, "relu", depth=1, width=32, T=0.1,
    ...                dt=0.05, times=[0.0, 0.5], n_networks=8, seed=1, progress=False)
    >>> res.train.shape, res.test.shape, res.train_se.shape
    ((2, 2), (2, 1), (2, 2))
    >>> bool(np.allclose(res.train[0], 0.0))  # antithetic pairs cancel f exactly at t = 0
    True
"""
from __future__ import annotations

import math
import time

import numpy as np

from symndk.errors import SymndkError
from symndk.validation import MAX_DEPTH
from symndk.results import Result
from symndk.langevin.network import Ensemble
from symndk.langevin.stats import Moments, Variance, check_inputs, time_steps


def _default_batch(widths, n_in, antithetic, memory_mb):
    dims = (n_in, *widths)
    n_params = sum(dims[i] * dims[i + 1] for i in range(len(widths))) + widths[-1]
    per_net = 8 * n_params * (2.5 if antithetic else 3.0)
    b = max(2, int(memory_mb * 2**20 // per_net))
    return b - b % 2 if antithetic else b


def simulate(X_train, y_train, X_test=None, activation="relu", depth=2, width=256, sigma0_sq=0.5,
             sigma_sq=1.0, T=0.01, dt=0.01, times=None, n_networks=200, seed=0, *, antithetic=True,
             freeze_readout_at=None, pairs=None, batch_size=None, memory_mb=512, progress=True, bias=None,
             T_schedule=None, eta_schedule=None):
    """Mean predictor of a finite-width network ensemble under Langevin dynamics.

    Args:
        X_train: (P, N0) training inputs.  y_train: (P,) targets, or (P, K): K readouts on shared
            hidden layers (outputs then carry a last axis K).  X_test: (Q, N0) or None.
        activation: a registered activation name (phi, phi' from the generated kernels).
        depth: number of hidden layers L.  width: N_1 = .. = N_L, or a sequence of L widths.
        sigma0_sq, sigma_sq, T: initial variance, prior variance, temperature (gamma = T/sigma^2).
        dt: Euler-Maruyama step.  times: recorded times, each a multiple of dt.
        n_networks: ensemble size (even when antithetic).  seed: integer seed.
        antithetic: simulate antithetic pairs (docs/theory.md §13).
        freeze_readout_at: t0 of the drift scenario (section 7), or None.
        pairs: (t_a, t_w) time pairs of the temporal-correlation output (section 8), or None.
        batch_size: networks per batch (default: what fits in ``memory_mb``).
        progress: show a tqdm progress bar over network-steps.
        bias: None, or (sigma_b0_sq, sigma_b_sq): biases on every hidden layer and the output,
            initial variance sigma_b0^2, weight decay gamma_b = T / sigma_b^2 (THEORY_NEXT §B).

        Per-layer variances (docs/theory.md §B): ``sigma0_sq``, ``sigma_sq`` and the two entries of
        ``bias`` may be lists of depth + 1 values (W_1..W_L, readout; b_1..b_L, output bias, 0: no bias
        in that group); group l is drawn N(0, sigma0_l^2) and decays at gamma_l = T / sigma_l^2.
        T_schedule: the temperature T(t) >= 0 instead of the constant T (a number, a callable or a
            table (times, values), linear in between, constant after; :class:`symndk.dynamics.schedule.Schedule`).
        eta_schedule: a learning rate eta(t) > 0 (same forms; default 1).

    Returns:
        :class:`~symndk.results.Result`: ensemble means in ``train``/``test``; ``extras`` holds ``train_se``,
        ``test_se`` (standard errors), ``train_var``/``test_var`` (the variance of one network's output
        across the ensemble, :class:`~symndk.langevin.stats.Variance`) with ``train_var_se``/``test_var_se``,
        and, with ``pairs``, ``pairs``, ``pair_train[_se]``, ``pair_test[_se]``
        (mean and standard error of a(t_a) . phi(h_L(x; t_w)) / sqrt(N_L) + b_out(t_a)); ``error_estimate`` is the
        largest standard error.
    """
    from tqdm import tqdm

    from symndk.kernels import loader as duals

    Xtr, ytr, Xte = check_inputs(X_train, y_train, X_test)
    layered = any(isinstance(v, (list, tuple)) for v in (sigma0_sq, sigma_sq, *(() if bias is None else bias)))
    if layered:
        sigma0_sq, sigma_sq, bias, gamma, gamma_b = _layered(depth, sigma0_sq, sigma_sq, bias, T, dt)
        widths = _check_config(depth, width, min(sigma0_sq), max(sigma_sq), T, dt, n_networks, antithetic)
    else:
        widths = _check_config(depth, width, sigma0_sq, sigma_sq, T, dt, n_networks, antithetic)
        gamma = T / sigma_sq
        gamma_b = None
    if bias is not None and not layered:
        if bias[0] < 0 or not bias[1] > 0 or not all(map(math.isfinite, bias)):
            raise SymndkError(f"bias must be (sigma_b0_sq >= 0, sigma_b_sq > 0), got {bias!r}")
        gamma_b = T / bias[1]
        if gamma_b * dt >= 1:
            raise SymndkError(f"dt = {dt} is too large for gamma_b = {gamma_b} (need gamma_b dt < 1)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SymndkError(f"seed must be an integer >= 0, got {seed!r}")
    times_arr, rec = time_steps(times, dt, "times")
    if rec[-1] > MAX_STEPS:
        raise SymndkError(f"times up to {times_arr[-1]:g} with dt {dt:g} is {float(rec[-1]):.3g} Langevin steps, "
                          f"more than the cap {MAX_STEPS:.0e}")
    check_memory(widths, Xtr.shape[1], Xtr.shape[0] + Xte.shape[0], batch_size)
    steps_of = None
    pair_arr, steps_a, steps_w = None, [], []
    if pairs is not None:
        pair_arr, both = time_steps(np.asarray(pairs, dtype=float).reshape(-1), dt, "pairs", ordered=False)
        pair_arr = pair_arr.reshape(-1, 2)
        steps_a, steps_w = both[0::2], both[1::2]
    n_freeze = None
    if freeze_readout_at is not None:
        n_freeze = int(time_steps([freeze_readout_at], dt, "freeze_readout_at")[1][0])
    n_steps = int(max([*rec, *steps_a, *steps_w]))
    if T_schedule is not None or eta_schedule is not None:
        steps_of = _scheduled_steps(n_steps, dt, T if T_schedule is None else T_schedule, eta_schedule, sigma_sq, bias)
    kern = duals.load(activation)
    if batch_size is None:
        batch_size = _default_batch(widths, Xtr.shape[1], antithetic, memory_mb)
    if int(batch_size) != batch_size or batch_size < 1 or (antithetic and batch_size % 2):
        raise SymndkError(f"batch_size must be a positive (even, when antithetic) integer, got {batch_size!r}")
    batch_size = int(batch_size)
    sizes = [min(batch_size, n_networks - s) for s in range(0, n_networks, batch_size)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    X_all, P = np.vstack([Xtr, Xte]), Xtr.shape[0]
    sched = _Schedule(rec, steps_a, steps_w, n_steps, n_freeze)
    stats = {k: Moments() for k in ("f", "pair")}
    second = Variance()                  # per-network second moments: the ensemble variance
    start = time.perf_counter()
    with _one_blas_thread(), tqdm(total=n_networks * n_steps, unit="net-step", unit_scale=True,
                                  disable=not progress, desc=f"simulate {activation} L={depth}") as bar:
        for B, ss in zip(sizes, seeds):
            rng = np.random.Generator(np.random.SFC64(ss))
            net = Ensemble.sample(rng, Xtr.shape[1], widths, B, sigma0_sq, kern.phi, kern.dphi, antithetic,
                                  n_out=None if ytr.ndim == 1 else ytr.shape[1],
                                  bias_var=None if bias is None else bias[0])
            out, g = _run_batch(net, rng, sched, Xtr, ytr, X_all, dt, gamma, T, bar, gamma_b, steps_of)
            stats["f"].add(_units(out, antithetic))
            second.add(_units(out, antithetic), _units(out * out, antithetic))
            if pair_arr is not None:
                stats["pair"].add(_units(g, antithetic))
    mean, se = stats["f"].result()
    num = (lambda v: [float(x) for x in v]) if layered else float  # noqa: E731
    meta = dict(activation=activation, depth=int(depth), widths=list(widths), sigma0_sq=num(sigma0_sq),
                sigma_sq=num(sigma_sq), T=float(T), gamma=gamma, dt=float(dt), n_networks=int(n_networks),
                seed=int(seed), antithetic=bool(antithetic), batch_size=batch_size, n_units=stats["f"].n,
                bias=None if bias is None else [num(bias[0]), num(bias[1])],
                freeze_readout_at=None if freeze_readout_at is None else float(freeze_readout_at),
                n_steps=n_steps, elapsed_s=time.perf_counter() - start)
    if steps_of is not None:
        meta.update(T=None, gamma=None, schedule=steps_of.record)
    var, var_se = second.result()
    extras = {"train_se": se[:, :P], "test_se": se[:, P:], "train_var": var[:, :P], "test_var": var[:, P:],
              "train_var_se": var_se[:, :P], "test_var_se": var_se[:, P:]}
    if pair_arr is not None:
        pm, ps = stats["pair"].result()
        extras.update(pairs=pair_arr, pair_train=pm[:, :P], pair_train_se=ps[:, :P], pair_test=pm[:, P:],
                      pair_test_se=ps[:, P:])
    meta["method"] = "langevin ensemble"
    # the estimate of a simulation is statistical: one standard error of the ensemble mean
    largest_se = float(np.nanmax(se)) if se.size and np.isfinite(se).any() else float("nan")
    return Result(times_arr, mean[:, :P], mean[:, P:], largest_se, meta, extras)


class _Schedule:
    """What happens at each step index: recordings, the frozen-readout phase, the last step."""

    def __init__(self, rec, steps_a, steps_w, n_steps, n_freeze):
        self.record = {}
        for j, n in enumerate(rec):
            self.record.setdefault(int(n), []).append(j)
        self.n_rec = len(rec)
        self.steps_a, self.steps_w = [int(n) for n in steps_a], [int(n) for n in steps_w]
        self.want_a, self.want_h = set(self.steps_a), set(self.steps_w)
        self.n_steps, self.n_freeze = n_steps, n_freeze

    def learning(self, n):
        return n < self.n_steps and (self.n_freeze is None or n < self.n_freeze)


class _ScheduledSteps:
    """Per-step (dt_n, gamma_n, T_n, gamma_b_n) of a T(t) / eta(t) schedule, at the step midpoints:
    the step of dTheta = -eta [grad L + gamma Theta] dt + sqrt(2 eta T) dB is the constant-rate step
    with dt -> eta dt. Per-layer variances (lists) give per-group rates T(t) / sigma_l^2 (None: no bias
    in that group)."""

    def __init__(self, dt, T, eta, sigma_sq, sigma_b_sq, record):
        self.dt, self.T, self.gamma = eta * dt, T, _rates(T, sigma_sq)
        self.gamma_b = None if sigma_b_sq is None else _rates(T, sigma_b_sq)
        self.record = record

    def __call__(self, n):
        return self.dt[n], _at(self.gamma, n), self.T[n], _at(self.gamma_b, n)

    def fastest(self):
        """The largest per-step rate times step over every group."""
        rates = list(self.gamma) if isinstance(self.gamma, list) else [self.gamma]
        if self.gamma_b is not None:
            rates += [g for g in (self.gamma_b if isinstance(self.gamma_b, list) else [self.gamma_b]) if g is not None]
        return max(float(np.max(g * self.dt, initial=0.0)) for g in rates)


def _rates(T, variance):
    """T(t_n) / sigma^2 per step, or a list of them per group (None where sigma^2 = 0: no bias there)."""
    if isinstance(variance, list):
        return [T / v if v else None for v in variance]
    return T / variance


def _at(rates, n):
    """Step n of :func:`_rates`."""
    if isinstance(rates, list):
        return [None if g is None else g[n] for g in rates]
    return None if rates is None else rates[n]


def _scheduled_steps(n_steps, dt, T_schedule, eta_schedule, sigma_sq, bias):
    from symndk.dynamics.schedule import Schedule

    t_end = n_steps * dt
    Ts = Schedule.from_user(T_schedule, t_end, "T_schedule")
    eta = Schedule.from_user(1.0 if eta_schedule is None else eta_schedule, t_end, "eta_schedule", positive=True)
    mid = (np.arange(n_steps) + 0.5) * dt
    st = _ScheduledSteps(dt, Ts(mid), eta(mid), sigma_sq, None if bias is None else bias[1],
                         {"T_schedule": Ts.record, "eta_schedule": eta.record})
    worst = st.fastest()
    if worst >= 1:
        raise SymndkError(f"dt = {dt} is too large for the schedule (need eta(t) gamma(t) dt < 1, got {worst:.3g})")
    return st


def _run_batch(net, rng, sched, Xtr, ytr, X_all, dt, gamma, T, bar, gamma_b=None, steps_of=None):
    """Integrate one batch; returns f at the recorded times (B, n_rec, P + Q) and the
    temporal-correlation outputs (B, n_pairs, P + Q) (None without pairs). ``steps_of``: per-step
    (dt, gamma, T, gamma_b) of a schedule (:class:`_ScheduledSteps`)."""
    P = Xtr.shape[0]
    out = np.empty((net.n_networks, sched.n_rec, X_all.shape[0]) + net.a.shape[2:])
    a_rec, h_rec = {}, {}
    for n in range(sched.n_steps + 1):
        learning = sched.learning(n)
        full = n in sched.record or n in sched.want_h
        if full or learning:
            pres, acts = net.hidden(X_all if full else Xtr)
            if n in sched.record:
                out[:, sched.record[n]] = net.readout(acts[-1])[:, None]
            if n in sched.want_h:
                h_rec[n] = acts[-1].copy()
        if n in sched.want_a:                     # the readout group of t_a: a and the output bias
            a_rec[n] = (net.a.copy(), None if net.c is None else net.c.copy())
        if n == sched.n_steps:
            break
        if steps_of is not None:
            dt, gamma, T, gamma_b = steps_of(n)
        if learning:
            pres_tr, acts_tr = [h[:, :P] for h in pres], [Xtr] + [h[:, :P] for h in acts[1:]]
            net.step(rng, dt, gamma, T, pres_tr, acts_tr, net.readout(acts_tr[-1]) - ytr, gamma_b=gamma_b)
        else:
            net.step(rng, dt, gamma, T, move_readout=sched.n_freeze is None or n < sched.n_freeze, gamma_b=gamma_b)
        bar.update(net.n_networks)
    if not sched.steps_a:
        return out, None
    g = [net.readout(h_rec[w], *a_rec[a]) for a, w in zip(sched.steps_a, sched.steps_w)]
    return out, np.stack(g, axis=1)


def _one_blas_thread():
    """Context limiting BLAS to one thread while simulating.

    The per-network products are small; multi-threaded BLAS on them mostly spins, badly so on a
    loaded machine (measured: 5-10x slower at width 512).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _units(values, antithetic):
    """Independent samples: the networks, or the means of antithetic pairs (networks k, k + B/2)."""
    if not antithetic:
        return values
    m = values.shape[0] // 2
    return 0.5 * (values[:m] + values[m:])


#: caps on one simulation: networks, Euler-Maruyama steps
MAX_NETWORKS, MAX_STEPS = 1_000_000, 1e8


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable on Linux, else physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(widths, n0, points, batch_size=None) -> None:
    """Refuse, in one line, widths whose weights, activations and gradients (float64) for one batch
    of networks cannot fit in the available memory (estimated before anything is allocated)."""
    per_network = 8 * 4 * (widths[0] * (n0 + 1) + sum(a * b for a, b in zip(widths, widths[1:]))
                           + 4 * points * sum(widths))
    need, have = per_network * (batch_size or 1), available_memory()
    if need > have:
        raise SymndkError(f"width {max(widths)} needs about {need / 2**30:.1f} GiB per batch of networks, "
                          f"more than the {have / 2**30:.1f} GiB available")


def _layered(depth, sigma0_sq, sigma_sq, bias, T, dt):
    """Per-layer variances as lists of depth + 1 (a number repeated) with their rates: (sigma0_sq, sigma_sq,
    bias, gamma, gamma_b); gamma_b None without biases, a None entry for a group without a bias."""
    from symndk.validation import layer_variances

    if isinstance(depth, bool) or int(depth) != depth or not 1 <= depth <= MAX_DEPTH:
        raise SymndkError(f"depth must be an integer in 1..{MAX_DEPTH}, got {depth!r}")
    n = int(depth) + 1

    def full(name, v, zero_ok):
        v = layer_variances(name, v, int(depth), zero_ok)
        return list(v) if isinstance(v, tuple) else [v] * n

    s0, s2 = full("sigma0_sq", sigma0_sq, True), full("sigma_sq", sigma_sq, False)
    gamma, gamma_b = [T / v for v in s2], None
    if bias is not None:
        bias = full("bias sigma_b0_sq", bias[0], True), full("bias sigma_b_sq", bias[1], True)
        if any(b0 and not b2 for b0, b2 in zip(*bias)):
            raise SymndkError("a bias with sigma_b0_sq > 0 needs sigma_b_sq > 0 in the same group")
        gamma_b = [T / v if v else None for v in bias[1]]
    fastest = max(gamma + [g for g in gamma_b or [] if g is not None])
    if fastest * dt >= 1:
        raise SymndkError(f"dt = {dt} is too large for the fastest rate T / sigma_l^2 = {fastest} (need rate dt < 1)")
    return s0, s2, bias, gamma, gamma_b


def _check_config(depth, width, sigma0_sq, sigma_sq, T, dt, n_networks, antithetic):
    if isinstance(depth, bool) or int(depth) != depth or not 1 <= depth <= MAX_DEPTH:
        raise SymndkError(f"depth must be an integer in 1..{MAX_DEPTH}, got {depth!r}")
    widths = [width] * int(depth) if np.ndim(width) == 0 else list(width)
    if len(widths) != depth or any(isinstance(w, bool) or int(w) != w or w < 1 for w in widths):
        raise SymndkError(f"width must be a positive integer or {depth} of them, got {width!r}")
    for name, v, lo in (("sigma0_sq", sigma0_sq, 0.0), ("T", T, 0.0)):
        if not (math.isfinite(v) and v >= lo):
            raise SymndkError(f"{name} must be finite and >= 0, got {v!r}")
    for name, v in (("sigma_sq", sigma_sq), ("dt", dt)):
        if not (math.isfinite(v) and v > 0):
            raise SymndkError(f"{name} must be finite and > 0, got {v!r}")
    if T / sigma_sq * dt >= 1:
        raise SymndkError(f"dt = {dt} is too large for gamma = {T / sigma_sq} (need gamma dt < 1)")
    if isinstance(n_networks, bool) or int(n_networks) != n_networks or n_networks < (2 if antithetic else 1):
        raise SymndkError(f"n_networks must be a positive integer, got {n_networks!r}")
    if n_networks > MAX_NETWORKS:
        raise SymndkError(f"n_networks must be <= {MAX_NETWORKS}, got {n_networks}")
    if antithetic and n_networks % 2:
        raise SymndkError(f"n_networks must be even with antithetic pairs, got {n_networks}")
    return [int(w) for w in widths]
