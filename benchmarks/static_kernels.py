"""Static NNGP/NTK benchmark: symndk vs a plain NumPy baseline (arccos of a clipped ratio).

P = 2000 random inputs in 784 dimensions, depth 2, ReLU and erf, float64, sigma^2 = 1.
Prints the best-of-N wall time of each, their ratio, and the relative error of the NTK and
NNGP at rho = 1 - 1e-8 against mpmath at 40 digits (from the same float64 inputs).

    python benchmarks/static_kernels.py [--repeat 5] [--P 2000]
"""
from __future__ import annotations

import argparse
import time

import mpmath
import numpy as np

from symndk.kernels.loader import load
from symndk.kernels.static import nngp_kernel, ntk_kernel


def baseline(X, activation, depth, sigma_sq=1.0):
    """Textbook NNGP/NTK: arccos (ReLU) / arcsin (erf) of a clipped ratio, full matrices."""
    K = X @ X.T / X.shape[1]
    theta = K
    for _ in range(depth):
        S = sigma_sq * K
        d = np.sqrt(np.diag(S))
        norm = np.outer(d, d)
        if activation == "relu":
            rho = np.clip(S / norm, -1.0, 1.0)
            th = np.arccos(rho)
            K = norm * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)
            Kdot = (np.pi - th) / (2 * np.pi)
        else:
            a = 1 + 2 * np.diag(S)
            den = np.sqrt(np.outer(a, a))
            K = 2 / np.pi * np.arcsin(np.clip(2 * S / den, -1.0, 1.0))
            Kdot = 4 / np.pi / np.sqrt(np.maximum(den**2 - 4 * S**2, 0.0))
        theta = K + sigma_sq * Kdot * theta
    return K, theta


def reference(X, activation, depth, sigma_sq=1, dps=40):
    """mpmath NNGP/NTK of the rows of X (float64 values taken exactly)."""
    mp = load(activation, "mpmath")
    with mpmath.workdps(dps):
        rows = [[mpmath.mpf(float(v)) for v in x] for x in X]
        n = len(rows)
        K = [[mpmath.fdot(rows[i], rows[j]) / X.shape[1] for j in range(n)] for i in range(n)]
        theta = [r[:] for r in K]
        for _ in range(depth):
            new = [[None] * n for _ in range(n)]
            for i in range(n):
                for j in range(n):
                    q1, q2, c = sigma_sq * K[i][i], sigma_sq * K[j][j], sigma_sq * K[i][j]
                    F, Fdot = mp.F(q1, q2, c), mp.Fdot(q1, q2, c)
                    new[i][j] = (F, F + sigma_sq * Fdot * theta[i][j])
            K = [[v[0] for v in r] for r in new]
            theta = [[v[1] for v in r] for r in new]
        return K, theta


def collinear_pair(n0=784, delta=1e-8, seed=1):
    """Two inputs with rho = 1 - delta."""
    rng = np.random.default_rng(seed)
    x, e = rng.standard_normal(n0), rng.standard_normal(n0)
    e -= (e @ x) / (x @ x) * x
    e *= np.linalg.norm(x) / np.linalg.norm(e)
    a = np.arccos(1 - delta)
    return np.stack([x, np.cos(a) * x + np.sin(a) * e])


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _relerr(approx, ref):
    return max(float(abs((mpmath.mpf(float(approx[i][j])) - ref[i][j]) / ref[i][j])) for i in range(2) for j in range(2))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--P", type=int, default=2000)
    ap.add_argument("--N0", type=int, default=784)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    X = np.random.default_rng(0).standard_normal((args.P, args.N0))
    pair = collinear_pair(args.N0)
    print(f"P = {args.P}, N0 = {args.N0}, depth = {args.depth}, float64, best of {args.repeat}")
    print(f"{'activation':10s} {'symndk [s]':>11s} {'baseline [s]':>13s} {'ratio':>7s}   "
          f"{'rel.err NTK / NNGP at rho = 1-1e-8':>36s}   {'baseline rel.err':>18s}")
    for act in ("relu", "erf"):
        ntk_kernel(X[:50], activation=act, depth=args.depth)  # warm up (imports)
        t_s = _best(lambda: ntk_kernel(X, activation=act, depth=args.depth), args.repeat)
        t_b = _best(lambda: baseline(X, act, args.depth), args.repeat)
        K_ref, T_ref = reference(pair, act, args.depth)
        e_ntk = _relerr(ntk_kernel(pair, activation=act, depth=args.depth).train, T_ref)
        e_nngp = _relerr(nngp_kernel(pair, activation=act, depth=args.depth).train, K_ref)
        Kb, Tb = baseline(pair, act, args.depth)
        print(f"{act:10s} {t_s:11.3f} {t_b:13.3f} {t_b / t_s:6.2f}x   {e_ntk:17.1e} / {e_nngp:.1e}   "
              f"{_relerr(Tb, T_ref):8.1e} / {_relerr(Kb, K_ref):.1e}")


if __name__ == "__main__":
    main()
