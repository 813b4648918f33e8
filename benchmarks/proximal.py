"""MPL solver benchmark (docs/theory.md §D): speed targets and the error estimate.

Run:  python benchmarks/proximal.py [--quick]

1. 10^4 MPL steps at P = 100 (+ 10 test inputs; random Gaussian inputs, ReLU L = 2,
   sigma0^2 = 0.5, sigma^2 = 1, T = 0.01, lambda = 10, so t = 1000 = 10/gamma). Target <= 30 s.
2. 10^6 MPL steps at P = 10 (+ 3 test inputs, lambda = 1000, t = 1000). Target <= 60 s.
3. Error estimate against the brute-force sum of every term (``method="direct"``) on a short
   horizon (700 steps, P = 5 + 2 test, ReLU and erf, three orders p): the estimate must lie within
   10x of the true error (and not under it by more than 2x); float64 rounding (~5e-14) is the floor.
4. A staged lambda_n schedule (0.5, 2, 8 over 2000, 3000, 5000 steps; P = 20 + 2 test, ReLU L = 2,
   T = 0.05) through the panel solver (:class:`Stages`, exact-entry kernel weights: no table),
   against the constant-lambda panel solve (baseline, same run) and the O(N^2) direct sums timed at
   1000 steps and scaled by N^2 (no target: the direct sums are what a schedule used before).

Times are wall clock and process CPU time of the whole call (kernel compression included);
the load average is printed because the machine may be shared. ``--quick`` runs 10^5 steps in [2].
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from symndk.dynamics import proximal as px


def timed(fn, *a, **k):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*a, **k)
    return out, time.perf_counter() - w, time.process_time() - c


def speed(P, n_end, lam, n_test, target):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(P, 20))
    y = np.sign(rng.normal(size=P))
    Xt = X[:n_test] + 0.1 * rng.normal(size=(n_test, 20))
    steps = np.unique(np.geomspace(1, n_end, 40).astype(int))
    res, wall, cpu = timed(px.predict_proximal, X, y, steps, lam, Xt, activation="relu", depth=2, sigma0_sq=0.5,
                           sigma_sq=1.0, T=0.01)
    info = res.metadata["solver"]
    ok = wall <= target
    print(f"  {n_end:.0e} steps, P = {P}: {wall:.1f} s wall ({cpu:.1f} s CPU), {info['panels']} panels, "
          f"{info['pairs']} time pairs/solve, rank {info['rank']}, error estimate {res.error_estimate:.1e}  "
          f"[target <= {target} s: {'PASS' if ok else 'FAIL'}]")
    return ok


def estimate():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 6))
    y = np.sign(rng.normal(size=5))
    Xt = X[:2] + 0.3 * rng.normal(size=(2, 6))
    ok = True
    for act, lam in (("relu", 3.0), ("erf", 0.7), ("relu", 50.0)):
        k = px.ProximalKernel(X, Xt, act, 2, 0.5, 1.0, 0.05, lam)
        ref = px.direct(k, y, 700)
        for p, n_g, k0 in ((12, 10, 16), (8, 6, 8), (6, 4, 4)):
            out = px.panels(k, y, 700, p=p, n_g=n_g, k0=k0)
            err = float(np.max(np.abs(out.rows - ref.rows)))
            good = err / 2 <= out.error_estimate <= 10 * max(err, 5e-14)
            ok &= good
            print(f"  {act:4s} lambda = {lam:4g}, p = {p:2d}: true error {err:.2e}, estimate {out.error_estimate:.2e}, "
                  f"ratio {out.error_estimate / err:5.2f}  [{'PASS' if good else 'FAIL'}]")
    return ok


def schedule_speed(quick):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 10))
    y = np.sign(rng.normal(size=20))
    Xt = rng.normal(size=(2, 10))
    n_end = 2000 if quick else 10 ** 4
    lams = np.concatenate([np.full(n_end // 5, 0.5), np.full(3 * n_end // 10, 2.0), np.full(n_end // 2, 8.0)])
    kw = dict(activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.05)
    const, w0, _ = timed(px.predict_proximal, X, y, [n_end], 2.0, Xt, **kw)
    sched, w1, c1 = timed(px.predict_proximal, X, y, [10, n_end // 2, n_end], lams, Xt, **kw)
    _, wd, _ = timed(px.predict_proximal, X, y, [1000], lams[:1000], Xt, method="direct", **kw)
    direct = wd * (n_end / 1000) ** 2
    print(f"  {n_end:.0e} steps, 3 stages: {w1:.1f} s wall ({c1:.1f} s CPU), {sched.metadata['solver']['panels']} panels, "
          f"estimate {sched.error_estimate:.1e}; constant lambda {w0:.1f} s (ratio {w1 / w0:.1f}); "
          f"direct sums ~{direct:.0f} s (1000 steps: {wd:.1f} s, x N^2; ratio {direct / w1:.1f})")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("[1] 10^4 steps at P = 100")
    ok = speed(100, 10 ** 4, 10.0, 10, 30)
    print("[2] 10^6 steps at P = 10" + (" (--quick: 10^5)" if args.quick else ""))
    ok &= speed(10, 10 ** 5 if args.quick else 10 ** 6, 1000.0, 3, 60)
    print("[3] error estimate vs brute force")
    ok &= estimate()
    print("[4] staged lambda_n schedule" + (" (--quick: 2000 steps)" if args.quick else ""))
    ok &= schedule_speed(args.quick)
    print("ALL PASS" if ok else "SOME FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
