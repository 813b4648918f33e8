"""Numeric dual kernels of issue 12: accuracy, build time, predict and solve cost against ReLU (one run).

    python benchmarks/activations.py [--points N] [--skip-predict] [--skip-solve] [--only NAME ...]

1. F and Fdot of SiLU, tanh, sigmoid, ELU, softplus, softsign, as the pipeline serves them
   (``symndk kernel``: generated phi and phi', :class:`symndk.kernels.mehler.MehlerTable` at
   tol 1e-12): max error relative to sqrt(V(q1) V(q2)) (the scale of F) and relative to |F|
   over q in [1e-3, 1e3] (log-uniform), rho in [-1, 1] (random points plus rho = +-1,
   +-(1 - 1e-9), -1 + 1e-6), against 30-digit mpmath 2-D quadrature of phi and of a hand-written
   phi' (target <= 1e-10).
2. Building the two tables (phi and phi') once per activation (target <= 30 s).
3. ``predict`` on sklearn digits 0 vs 1, P = 100 + 100 test, L = 3: SiLU vs ReLU wall and CPU time
   (untraced run) and peak traced memory (a second, traced run) (targets <= 3x and <= 1.5x), and the two
   error estimates.
4. ``symndk solve --activation silu`` on P = 20 user data (target: seconds), ReLU in the same run.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

import mpmath
import numpy as np


def _s(x):
    return 1 / (1 + mpmath.exp(-x))


#: name -> (symndk text, mpmath phi, hand-written mpmath phi')
ACTS = {
    "silu": ("silu(x)", lambda x: x * _s(x), lambda x: _s(x) * (1 + x * (1 - _s(x)))),
    "tanh": ("tanh(x)", mpmath.tanh, lambda x: mpmath.sech(x) ** 2),
    "sigmoid": ("sigmoid(x)", _s, lambda x: _s(x) * (1 - _s(x))),
    "elu": ("elu(x)", lambda x: x if x > 0 else mpmath.expm1(x), lambda x: mpmath.mpf(1) if x > 0 else mpmath.exp(x)),
    "softplus": ("softplus(x)", lambda x: mpmath.log1p(mpmath.exp(x)), _s),
    "softsign": ("x/(1+Abs(x))", lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2),
}


def mp_F(f, q1, q2, rho, dps=30):
    """E[f(u) f(v)] by mpmath 2-D quadrature in (z1, z2), u = sqrt(q1) z1, v = sqrt(q2)(rho z1 + r z2),
    split at the kink lines and the steep layer |u| ~ 1."""
    with mpmath.workdps(dps):
        q1, q2, rho = mpmath.mpf(q1), mpmath.mpf(q2), mpmath.mpf(rho)
        s1, s2 = mpmath.sqrt(q1), mpmath.sqrt(q2)
        r = mpmath.sqrt(max(1 - rho * rho, 0))
        lim = mpmath.sqrt(2 * (dps + 5) * mpmath.log(10))
        pts = sorted({-lim, lim, mpmath.mpf(0)} | {t for t in (-1 / s1, 1 / s1, -4 / s1, 4 / s1) if abs(t) < lim})
        if r == 0:
            return mpmath.quad(lambda z: mpmath.npdf(z) * f(s1 * z) * f(s2 * rho * z), pts)

        def inner(z1):
            m = -rho * z1 / r   # v changes sign at z2 = m; the steep layer |v| < 1 is z2 in m +- 1/(s2 r)
            w = 1 / (s2 * r)
            br = sorted({-lim, lim} | {t for t in (m, m - w, m + w, m - 4 * w, m + 4 * w) if -lim < t < lim})
            return mpmath.npdf(z1) * f(s1 * z1) * mpmath.quad(lambda z2: mpmath.npdf(z2) * f(s2 * (rho * z1 + r * z2)), br)

        return mpmath.quad(inner, pts)


def accuracy(n_points, names, seed=0):
    from symndk.checks.activation import activation_kernel
    from symndk.kernels.loader import load
    from symndk.kernels.mehler import MehlerTable

    rng = np.random.default_rng(seed)
    q1 = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), n_points))
    q2 = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), n_points))
    rho = rng.uniform(-1, 1, n_points)
    rho[:5] = [1.0, -1.0, 1 - 1e-9, -1 + 1e-9, -1 + 1e-6]
    q1[:2], q2[:2] = [1e3, 1e-3], [1e3, 1e3]
    rows = []
    for name in names:
        text, mf, mdf = ACTS[name]
        activation_kernel(text, f"bench_{name}")
        duals = load(f"bench_{name}", "numpy", 1e-12)   # the tol the dynamics load kernels at
        build = 0.0
        for which, fn, mfn in (("F", duals.phi, mf), ("Fdot", duals.dphi, mdf)):
            t0 = time.perf_counter()
            table = MehlerTable(fn, 1e-12)
            build += time.perf_counter() - t0
            tables = getattr(duals, "tables", None) or {}
            served = tables.get(which)
            if served is not None:
                assert served.tol == 1e-12 and np.array_equal(served.edges, table.edges)  # the pipeline's own table
                value, bound = served.evaluate(q1, q2, rho * np.sqrt(q1 * q2))
            else:   # a closed form (ELU since the kink engine): the generated code itself
                value = getattr(duals, which)(q1, q2, rho * np.sqrt(q1 * q2), q1 * q2 * (1 - rho) * (1 + rho))
                bound = np.zeros_like(value)
            _, V1 = table.moments(q1)
            _, V2 = table.moments(q2)
            exact = np.array([float(mp_F(mfn, a, b, r)) for a, b, r in zip(q1, q2, rho)])
            scale = np.sqrt(V1 * V2)
            err = np.abs(value - exact) / scale
            rel = np.abs(value - exact) / np.abs(exact)
            rows.append(dict(name=name, which=which, err=float(err.max()), rel=float(rel.max()),
                             bound=float((bound / scale).max()), fallbacks=getattr(served, "fallbacks", 0)))
            how = (f"bound {rows[-1]['bound']:.1e}  polar fallbacks {served.fallbacks}/{n_points}" if served is not None
                   else "closed form")
            print(f"{name:9s} {which:5s} max err/sqrt(V1V2) {err.max():.1e}  max err/|F| {rel.max():.1e}  {how}",
                  flush=True)
        print(f"{name:9s} build phi + phi' tables {build:.2f} s (target <= 30 s)", flush=True)
        rows[-1]["build"] = build
    return rows


def predict_ratio():
    import symndk
    from symndk.checks.activation import activation_kernel

    activation_kernel("silu(x)", "bench_silu")
    d = symndk.data.digits(0, 1, n_per_class=50, n_test_per_class=50)
    out = {}
    for act in ("relu", "bench_silu", "relu", "bench_silu"):   # second pass: warm caches, the one reported
        t0, c0 = time.perf_counter(), time.process_time()
        symndk.predict(d.X_train, d.y_train, d.X_test, times=np.geomspace(1e-2, 3e3, 8), activation=act,
                       depth=3, sigma0_sq=0.5, sigma_sq=1.0, T=0.01)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        tracemalloc.start()                     # memory in a separate run: tracing slows numpy-heavy code
        res = symndk.predict(d.X_train, d.y_train, d.X_test, times=np.geomspace(1e-2, 3e3, 8), activation=act,
                             depth=3, sigma0_sq=0.5, sigma_sq=1.0, T=0.01)
        out[act] = (wall, cpu, tracemalloc.get_traced_memory()[1] / 1e6, res.error_estimate)
        tracemalloc.stop()
    (tr, cr, mr, er), (ts, cs, ms, es) = out["relu"], out["bench_silu"]
    print(f"predict digits P=100+100, L=3: relu {tr:.1f} s wall {cr:.1f} s CPU {mr:.0f} MB (estimate {er:.1e}); "
          f"silu {ts:.1f} s wall {cs:.1f} s CPU {ms:.0f} MB (estimate {es:.1e}); time ratio {ts / tr:.2f} wall, "
          f"{cs / cr:.2f} CPU (target <= 3), memory ratio {ms / mr:.2f} (target <= 1.5)", flush=True)
    return out


def solve_cli():
    """``symndk solve --activation silu`` (and relu) on P = 20 random user data, as a subprocess."""
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        X = rng.standard_normal((25, 10))
        y = np.sign(X[:20, 0])
        np.savetxt(os.path.join(tmp, "X.csv"), X[:20], delimiter=",")
        np.savetxt(os.path.join(tmp, "y.csv"), y, delimiter=",")
        np.savetxt(os.path.join(tmp, "Xt.csv"), X[20:], delimiter=",")
        subprocess.run([sys.executable, "-m", "symndk", "kernel", "silu(x)", "--name", "silu"], check=True,
                       capture_output=True)
        times = {}
        for act in ("relu", "silu"):
            t0 = time.perf_counter()
            p = subprocess.run([sys.executable, "-m", "symndk", "solve", "--task", "files", "--activation", act, "--x-train",
                                os.path.join(tmp, "X.csv"), "--y-train", os.path.join(tmp, "y.csv"), "--x-test",
                                os.path.join(tmp, "Xt.csv"), "--times", "0.1,1,10,100", "--out",
                                os.path.join(tmp, f"out_{act}")], capture_output=True, text=True)
            times[act] = time.perf_counter() - t0
            print(f"symndk solve --activation {act} P=20: {times[act]:.1f} s (exit {p.returncode}) "
                  f"{(p.stdout + p.stderr).strip().splitlines()[-1] if (p.stdout + p.stderr).strip() else ''}",
                  flush=True)
    return times


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=12)
    ap.add_argument("--only", nargs="*", default=list(ACTS))
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-predict", action="store_true")
    ap.add_argument("--skip-solve", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="symndk-bench-"))
    if not args.skip_accuracy:
        accuracy(args.points, args.only)
    if not args.skip_predict:
        predict_ratio()
    if not args.skip_solve:
        solve_cli()
