"""Langevin simulator throughput: network-steps per second (width 512, L = 2, P = 10, 1000 networks).

Compares, in the same run:

* ``simulate`` -- the batched ensemble (antithetic pairs: half the hidden-weight noise draws);
* ``simulate, plain`` -- the batched ensemble without antithetic pairs;
* ``per-network loop`` -- the baseline: a Python loop over networks, each integrated on its own
  (2-D products, its own noise), the same arithmetic without the ensemble axis.

Run:  python benchmarks/langevin.py [--steps 4] [--networks 1000] [--baseline-networks 40]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def _task(P, N0=16, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, N0))
    return X, np.where(np.arange(P) % 2 == 0, 1.0, -1.0)


def batched(X, y, width, depth, n_networks, steps, antithetic):
    from symndk.langevin.simulator import simulate

    dt = 0.01
    res = simulate(X, y, None, "relu", depth, width, 0.5, 1.0, 0.1, dt, [0.0, steps * dt], n_networks, seed=1,
                   antithetic=antithetic, progress=False)
    return n_networks * steps / res.metadata["elapsed_s"]


def per_network_loop(X, y, width, depth, n_networks, steps):
    """Baseline: one network at a time (ensemble axis of length 1), same step arithmetic."""
    from symndk.kernels import loader as duals
    from symndk.langevin.simulator import _one_blas_thread
    from symndk.langevin.network import Ensemble

    kern = duals.load("relu")
    dt, T, gamma = 0.01, 0.1, 0.1
    with _one_blas_thread():
        start = time.perf_counter()
        for k in range(n_networks):
            rng = np.random.default_rng(k)
            net = Ensemble.sample(rng, X.shape[1], [width] * depth, 1, 0.5, kern.phi, kern.dphi)
            for _ in range(steps):
                pres, acts, f = net.forward(X)
                net.step(rng, dt, gamma, T, pres, acts, f - y)
        return n_networks * steps / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--P", type=int, default=10)
    ap.add_argument("--networks", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--baseline-networks", type=int, default=40)
    a = ap.parse_args()
    X, y = _task(a.P)
    print(f"width {a.width}, L = {a.depth}, P = {a.P}, {a.networks} networks x {a.steps} steps (relu)")
    base = per_network_loop(X, y, a.width, a.depth, a.baseline_networks, a.steps)
    plain = batched(X, y, a.width, a.depth, a.networks, a.steps, antithetic=False)
    anti = batched(X, y, a.width, a.depth, a.networks, a.steps, antithetic=True)
    print(f"per-network loop (baseline, {a.baseline_networks} networks): {base:10.1f} network-steps/s")
    print(f"simulate, plain ensemble:                 {plain:10.1f} network-steps/s  ratio {plain / base:5.2f}x")
    print(f"simulate, antithetic pairs (default):     {anti:10.1f} network-steps/s  ratio {anti / base:5.2f}x")


if __name__ == "__main__":
    main()
