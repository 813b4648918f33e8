"""Solver benchmark: accuracy and speed of ``symndk.predict`` against targets and baselines.

Run:  python benchmarks/solver.py [--quick] [--scale P] [--self-reference]   (--scale 0 skips [3])

1. Synthetic task (docs/theory.md §10; ReLU L = 2, sigma0^2 = 0.5, sigma^2 = 1, T = 0.01,
   r = 0.5), t in [0, 30/gamma]: absolute error against the independent high-precision reference
   (``symndk.reference``, 16 digits; ``--self-reference`` uses an m = 16 fast solve instead),
   number of time nodes, time.  Targets: 1e-10, <= 400 nodes, <= 0.5 s.
2. Digits 0 vs 1, P = 100 train + 100 test, L = 3, ReLU, gamma = 1e-3, t <= 20/gamma:
   relative error against an m = 16 solve (different order, finer quadrature), time, and a
   uniform-grid product-trapezoid baseline (exact kernels at every pair of grid times): its
   convergence is measured on a short horizon and its cost at 1e-8 extrapolated (optimistic
   for the baseline: the error constant over the full horizon is at least as large).
   Targets: 1e-8 relative, <= 5 s, >= 100x faster than the baseline.
3. ``--scale P`` (default 1000): P train + 100 test digits (all ten classes, label +1 for
   digit < 5), time, peak memory and relative error against an m = 16 solve.
   Target: P = 1000 in <= 120 s, <= 4 GB.

Times are wall clock and process CPU time (the machine may be shared: the load average is
printed). BLAS threads follow the environment (e.g. OPENBLAS_NUM_THREADS=2 for "2 cores").
"""
from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

import symndk
from symndk import data
from symndk.dynamics.twotime import TwoTimeKernel


def timed(fn, *a, **k):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*a, **k)
    return out, time.perf_counter() - w, time.process_time() - c


def synthetic(self_reference: bool):
    kw = dict(activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.01)
    gamma = kw["T"] / kw["sigma_sq"]
    times = np.array([1.0, 10.0, 100.0, 1000.0, 30 / gamma])
    ds = data.synthetic(2, 0.5)
    symndk.predict(ds.X_train, ds.y_train, ds.X_test, times=[1.0], **kw)          # warm imports
    res, wall, cpu = timed(symndk.predict, ds.X_train, ds.y_train, ds.X_test, times=times, rtol=1e-10, **kw)
    if self_reference:
        ref = symndk.predict(ds.X_train, ds.y_train, ds.X_test, times=times, m=16)
        g, f, how = ref.train[:, 0], ref.test[:, 0], "fast solver m=16"
    else:
        ref, rw, _ = timed(symndk.reference, r=0.5, times=times, dps=16, **kw)
        g, f = ref.train[:, 0], ref.test[:, 0]
        how = f"high-precision reference (MPFR), certified digits {ref.digits} ({rw:.0f} s)"
    err = max(np.abs(res.train - np.outer(g, ds.y_train)).max(), np.abs(res.test[:, 0] - f).max())
    print("\n[1] synthetic task, ReLU L=2, t in [0, 30/gamma]   (reference: %s)" % how)
    print(f"    abs error      {err:.2e}   (target <= 1e-10)   error estimate {res.error_estimate:.1e}")
    print(f"    time nodes     {res.metadata['solver']['nodes']}        (target <= 400; + {res.metadata['solver']['panels'] * (res.metadata['solver']['m'] - 2)}"
          f" in the embedded m-2 error estimate)")
    print(f"    time           wall {wall:.2f} s, cpu {cpu:.2f} s   (target <= 0.5 s)")


def trapezoid(kernel, y, t_end, n):
    """Product trapezoid on a uniform grid: r_n + h sum_j w_j K(t_n, t_j) r_j = Y (implicit in r_n)."""
    P = y.size
    h = t_end / n
    t = np.linspace(0.0, t_end, n + 1)
    r = np.zeros((n + 1, P))
    r[0] = y
    for i in range(1, n + 1):
        acc = np.zeros(kernel.R)
        blocks = [kernel.block(t[i], t[j]) for j in range(i + 1)]
        for j in range(i):
            acc += (0.5 if j == 0 else 1.0) * h * (blocks[j] @ r[j])
        Kii = 0.5 * h * blocks[i]
        r[i] = np.linalg.solve(np.eye(P) + Kii[:P], y - acc[:P])
        f_all = acc + Kii @ r[i]
    return f_all, (n + 1) * (n + 2) // 2


def digits(quick: bool):
    ds = data.digits(0, 1, n_per_class=50, n_test_per_class=50)
    kw = dict(activation="relu", depth=3, sigma0_sq=0.5, sigma_sq=1.0, T=1e-3)
    t_end = 20 / 1e-3
    times = np.array([1.0, 10.0, 100.0, 1000.0, 5000.0, t_end])
    args = (ds.X_train, ds.y_train, ds.X_test)
    res, wall, cpu = timed(symndk.predict, *args, times=times, rtol=1e-8, **kw)
    ref = symndk.predict(*args, times=times, m=16, max_refine=0, **kw)
    f, fr = np.hstack([res.train, res.test]), np.hstack([ref.train, ref.test])
    rel = np.abs(f - fr).max() / np.abs(fr).max()
    print("\n[2] digits 0 vs 1, P=100+100, ReLU L=3, gamma=1e-3, t <= 20/gamma")
    print(f"    rel error      {rel:.2e}   (target <= 1e-8)   error estimate {res.error_estimate:.1e}"
          f"   [{res.metadata['solver']['panels']} panels x m={res.metadata['solver']['m']}, kernel rank {res.metadata['solver']['rank']}]")
    print(f"    time           wall {wall:.2f} s, cpu {cpu:.2f} s   (target <= 5 s)")
    # baseline: convergence on a short horizon, cost per kernel block, extrapolated to 1e-8
    kernel = TwoTimeKernel(ds.X_train, ds.X_test, kw["activation"], kw["depth"], kw["sigma0_sq"], kw["sigma_sq"], kw["T"])
    t_s = 10.0
    f_s = symndk.predict(*args, times=[t_s], m=16, max_refine=0, **kw)
    exact = np.concatenate([f_s.train[0], f_s.test[0]])
    ns = [10, 20, 40] if quick else [20, 40, 80]
    errs, costs = [], []
    for n in ns:
        (fa, blocks), bw, bc = timed(trapezoid, kernel, ds.y_train, t_s, n)
        errs.append(np.abs(fa - exact).max() / np.abs(fr).max())
        costs.append(bc / blocks)
    hs = t_s / np.array(ns)
    p, logC = np.polyfit(np.log(hs), np.log(errs), 1)
    h_need = np.exp((np.log(1e-8) - logC) / p)
    n_need = t_end / h_need
    t_base = n_need ** 2 / 2 * np.median(costs)
    print(f"    baseline       trapezoid on [0, {t_s:g}]: rel errors {', '.join('%.1e' % e for e in errs)} at "
          f"N = {ns}; observed order {p:.2f}; {np.median(costs) * 1e3:.2f} ms cpu per kernel block")
    print(f"                   1e-8 over [0, 20/gamma] needs h ~ {h_need:.1e}: N ~ {n_need:.1e} steps, "
          f"~{n_need ** 2 / 2:.1e} blocks, ~{t_base:.1e} s cpu")
    short = (t_s / h_need) ** 2 / 2 * np.median(costs)
    print(f"    speed-up       {t_base / cpu:.1e}x  (target >= 100x); even 1e-8 on the short horizon [0, {t_s:g}] "
          f"alone would cost the baseline ~{short:.1e} s cpu ({short / cpu:.0e}x)")


def scale(P: int):
    from sklearn.datasets import load_digits

    X, d = load_digits(return_X_y=True)
    idx = np.random.default_rng(0).permutation(len(d))[: P + 100]
    X = X[idx].astype(float)
    X *= np.sqrt(X.shape[1]) / np.linalg.norm(X, axis=1, keepdims=True)
    y = np.where(d[idx] < 5, 1.0, -1.0)
    kw = dict(activation="relu", depth=3, sigma0_sq=0.5, sigma_sq=1.0, T=1e-3)
    args, times = (X[:P], y[:P], X[P:]), [10.0, 1000.0, 2e4]
    res, wall, cpu = timed(symndk.predict, *args, times=times, rtol=1e-8, **kw)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    ref, rw, _ = timed(symndk.predict, *args, times=times, m=16, max_refine=0, **kw)
    f, fr = np.hstack([res.train, res.test]), np.hstack([ref.train, ref.test])
    rel = np.abs(f - fr).max() / np.abs(fr).max()
    print(f"\n[3] scale: P={P} train + 100 test digits, ReLU L=3, gamma=1e-3, t <= 20/gamma")
    print(f"    time           wall {wall:.1f} s, cpu {cpu:.1f} s   (target <= 120 s)   "
          f"[{res.metadata['solver']['panels']} panels x m={res.metadata['solver']['m']}, stiff solves {res.metadata['solver']['stiff']}]")
    print(f"    peak memory    {peak:.2f} GB   (target <= 4 GB; process peak RSS)")
    print(f"    rel error      {rel:.2e} against an m = 16 solve ({rw:.0f} s)   error estimate {res.error_estimate:.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller baseline grids")
    ap.add_argument("--self-reference", action="store_true", help="synthetic: m=16 fast solve as reference")
    ap.add_argument("--scale", type=int, default=1000, metavar="P", help="scale test with P points (0: skip)")
    a = ap.parse_args()
    print(f"symndk {symndk.__version__}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")
    synthetic(a.self_reference)
    digits(a.quick)
    if a.scale:
        scale(a.scale)


if __name__ == "__main__":
    main()
