"""Cost of K outputs against one: ``NDK.predict`` with y (P, K) against y (P,), same kernel.

    python benchmarks/multioutput.py [P] [K]

Prints the wall time of the first solve (kernel build + compression + Volterra solve) for K = 1
and for K columns, each on a fresh NDK, and the K-column time of the Volterra solve alone
(kernels cached). Digits 8x8 task, 10 classes one-hot when K = 10.
"""
import sys
import time

import numpy as np

import symndk
from symndk import data


def main(P=100, K=10):
    ds = data.digits(0, 1, n_per_class=P // 2, n_test_per_class=5)
    Y = np.random.default_rng(0).standard_normal((P, K))
    net = symndk.Network("relu", 2, 1.0, 1.0)
    times = np.geomspace(1e-2, 1e3, 10)
    out = {}
    for k in (1, K):
        y = Y[:, 0] if k == 1 else Y
        ndk = symndk.NDK(net, ds.X_train, y, T=0.01)
        t0 = time.perf_counter()
        ndk.predict(times, ds.X_test)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        ndk.predict(times, ds.X_test)
        again = time.perf_counter() - t0
        out[k] = (first, again)
        print(f"P={P} K={k}: first solve {first:.2f} s (kernel build + compression + solve), "
              f"cached-kernel solve {again:.2f} s")
    print(f"ratio K={K} / K=1: first {out[K][0] / out[1][0]:.2f}, solve only {out[K][1] / out[1][1]:.2f}")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:3]))
