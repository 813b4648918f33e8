"""Reference-solver benchmark: the issue's 30-digit target and the kernel-arithmetic speed-up.

Run:  python benchmarks/reference.py [--dps 30] [--jobs 2]

1. Target: the synthetic ReLU L = 2 task (sigma0^2 = 0.5, sigma^2 = 1, T = 0.01, r = 0.5) at the
   5 probe times t = 1, 10, 100, 1000, 3000 to 30 certified significant digits in <= 120 s.
   Prints wall time, certified digits per time (agreement of orders p and p + 6), kernel
   evaluations and panels.
2. Baseline measured in the same run: one evaluation of the same scalar kernel (two depth-2
   NDKs through the generated fused layer maps) on mpmath numbers (the previous arithmetic)
   versus gmpy2/MPFR numbers (the current one), on 400 random (t, s) pairs at the same working
   precision; the ratio, and the mpmath cost extrapolated to the run's kernel evaluations.
"""
from __future__ import annotations

import argparse
import os
import time

import mpmath
import numpy as np

import symndk
from symndk.kernels import loader as duals
from symndk.certified.kernel import NDKernel
from symndk.certified.numbers import mpfr, working_digits
from symndk.certified.synthetic import GUARD

TASK = dict(activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.01, r=0.5)
TIMES = [1.0, 10.0, 100.0, 1000.0, 3000.0]


def kernel_cost(backend, pairs, dps):
    """Seconds per evaluation of the g-kernel (Theta_d - Theta_o at one (t, s)) on ``backend``."""
    mod = duals.load(TASK["activation"], backend)
    with working_digits(dps):
        conv = mpfr if backend == "mpfr" else mpmath.mpf
        if backend == "mpmath":  # the kernel class only does arithmetic, exp and expm1 on its numbers
            import symndk.certified.kernel as rk

            saved, rk.mpfr, rk.gmpy2 = (rk.mpfr, rk.gmpy2), mpmath.mpf, mpmath
        try:
            k = NDKernel(mod, TASK["depth"], conv(TASK["sigma0_sq"]), conv(TASK["sigma_sq"]), conv("0.01"))
            kg = k(1, 0)
            args = [(conv(t), conv(s), conv(t) - conv(s)) for t, s in pairs]
            start = time.perf_counter()
            vals = [kg(*a)[0][0] for a in args]
            elapsed = (time.perf_counter() - start) / len(pairs)
        finally:
            if backend == "mpmath":
                rk.mpfr, rk.gmpy2 = saved
    return elapsed, vals


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dps", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 3000, 400)
    pairs = [(float(a), float(a * u)) for a, u in zip(t, rng.uniform(0, 1, 400))]
    working = args.dps + GUARD
    c_mp, v_mp = kernel_cost("mpmath", pairs, working)
    c_fr, v_fr = kernel_cost("mpfr", pairs, working)
    with mpmath.workdps(working):
        diff = max(abs(mpmath.mpf(a) - mpmath.mpf(b)) / max(1, abs(mpmath.mpf(a))) for a, b in zip(v_mp, v_fr))
    start = time.perf_counter()
    res = symndk.reference(times=TIMES, dps=args.dps, jobs=args.jobs, **TASK)
    wall = time.perf_counter() - start
    n = res.metadata["kernel_evaluations"]
    print(f"\n[1] synthetic ReLU L=2 reference, {args.dps} digits at t = {TIMES}")
    print(f"    wall time        {wall:8.1f} s      (target <= 120 s)")
    print(f"    certified digits {res.digits}   (target >= {args.dps} at every time)")
    print(f"    orders p, p+6    {res.metadata['order']}, {res.metadata['certificate_order']};  panels {res.metadata['panels']};"
          f"  kernel evaluations {n}")
    for tt, g, f in zip(TIMES, res.train_str[:, 0], res.test_str[:, 0]):
        print(f"    t = {tt:6g}  g = {g}   f* = {f}")
    print(f"\n[2] kernel evaluation at {working} working digits (400 pairs; same values to {float(diff):.1e} rel.)")
    print(f"    mpmath (baseline) {c_mp * 1e6:8.1f} us   mpfr {c_fr * 1e6:8.1f} us   ratio {c_mp / c_fr:5.1f}x")
    print(f"    the run's {n} evaluations on mpmath alone: {n * c_mp:8.1f} s CPU (vs {n * c_fr:.1f} s on mpfr)")


if __name__ == "__main__":
    main()
