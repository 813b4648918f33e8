"""Cost of a continuous-time schedule (docs/theory.md §E) against the constant-T solve.

Run:  python benchmarks/schedule.py [--quick]

P = 100 random Gaussian inputs (+ 10 test), ReLU L = 2, sigma0^2 = 0.5, sigma^2 = 1, times to
t = 1000. Baseline: ``NDK.predict`` at constant T = 0.01 (gamma t_end = 10). Scheduled: T annealed
from 0.1 to 0.001 (table, linear over [0, 500], then constant), the same as a callable
T(t) = 0.001 + 0.099 e^{-t/100}, and a learning-rate warm-up table with constant T. Each solve
builds its own kernel (fresh NDK), so compression is included. Prints wall/CPU seconds, panels,
error estimates and the ratio to the baseline; ``--quick`` uses P = 30.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import symndk


def run(P, label, **kw):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(P, 20))
    y = np.sign(rng.normal(size=P))
    Xt = X[:10] + 0.1 * rng.normal(size=(10, 20))
    ndk = symndk.NDK(symndk.Network("relu", 2, 0.5, 1.0), X, y, T=0.01)
    times = np.geomspace(0.1, 1000.0, 30)
    w, c = time.perf_counter(), time.process_time()
    res = ndk.predict(times, Xt, **kw)
    w, c = time.perf_counter() - w, time.process_time() - c
    info = res.metadata["solver"]
    return label, w, c, info.get("panels"), info.get("rank"), res.error_estimate


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    P = 30 if ap.parse_args().quick else 100
    print(f"load average {os.getloadavg()[0]:.1f}; P = {P}")
    rows = [run(P, "constant T = 0.01 (baseline)"),
            run(P, "T table 0.1 -> 0.001", T_schedule=([0.0, 500.0], [0.1, 0.001])),
            run(P, "T callable 0.001 + 0.099 e^{-t/100}", T_schedule=lambda t: 0.001 + 0.099 * np.exp(-t / 100)),
            run(P, "eta warm-up table, T = 0.01", T_schedule=0.01, eta_schedule=([0.0, 50.0, 1000.0], [0.1, 2.0, 0.5]))]
    base = rows[0][1]
    for label, w, c, panels, rank, est in rows:
        print(f"  {label:38s} {w:7.1f} s wall ({c:6.1f} s CPU), {panels} panels, rank {rank}, estimate {est:.1e}, "
              f"ratio {w / base:4.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
