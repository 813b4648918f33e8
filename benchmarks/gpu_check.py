"""GPU check (issue 16): symndk's static NNGP+NTK on a CUDA device vs a plain PyTorch prototype, one run.

Not run in CI (no GPU). On a machine with an NVIDIA GPU, PyTorch (CUDA) and this checkout installed:

    python benchmarks/gpu_check.py [--P 2000 10000 30000] [--repeat 5] [--out gpu_check.json]

For each P (random inputs, N0 = 784, depth 2, ReLU and erf, float64, sigma^2 = 1) it prints the best
wall time of
* symndk: ``static_kernels(torch_tensor_on_cuda, ...)`` (the generated kernels rebound to PyTorch, the
  Gram-determinant carry, row blocks of ``XP_BLOCK`` entries), both kernels from one call;
* the prototype of the issue: arccos (ReLU) / arcsin (erf) of a clipped ratio, full matrices, float64;
and their ratio (target: symndk / prototype <= 2 at P = 30,000), the peak device memory of each, and
the relative error of both at rho = 1 - 1e-8 against mpmath at 40 digits (target <= 1e-14 for symndk;
the prototype is expected near 1e-9 there). It also checks that symndk on the GPU equals symndk's
NumPy path at P = 500 to 1e-13. Then ``NDK.predict(backend="torch")`` at ``--predict-P`` (default
2000 and 20,000; the problem of ``benchmarks/scale.py predict``): wall time and peak device memory,
at the first size against the NumPy predict on the CPU (target: <= 5 minutes at P = 20,000).
It also times the NumPy path at P = 2000 on 1, 2, 4, ... threads up to the machine's cores
(the issue saw 0.43 s on 16 cores: the old thread pool did not scale).

Exit status 0 when every target is met, 1 otherwise, 2 when no CUDA device is available.

On the lent machines (PyTorch, CuPy, NumPy, SciPy, mpmath there; no array-api-compat, nothing
downloadable), from the repository root here: ``echo /.whl/ >> .git/info/exclude; python3 -m pip
download --no-deps --only-binary=:all: --python-version 3.12 -d .whl array-api-compat==1.16.0``, then
run with ``carry: [".whl"]`` and the command ``python3 -m pip install -q --no-index --no-deps --target
/tmp/site .whl/*.whl && PYTHONPATH=/tmp/site:. PYTHONUNBUFFERED=1 python3 benchmarks/gpu_check.py
--out $OUT/gpu_check.json`` (static rows about 2 minutes of device time; the predict rows add the
P = 2000 CPU run and up to 5 minutes at P = 20,000: give ``--predict-P`` fewer sizes when time is short).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def prototype(X, activation, depth, torch):
    """The 25-line PyTorch prototype: textbook closed forms on full matrices (float64)."""
    K = X @ X.T / X.shape[1]
    theta = K
    for _ in range(depth):
        d = torch.sqrt(torch.diagonal(K))
        if activation == "relu":
            norm = d[:, None] * d[None, :]
            th = torch.arccos(torch.clamp(K / norm, -1.0, 1.0))
            Kn = norm * (torch.sin(th) + (torch.pi - th) * torch.cos(th)) / (2 * torch.pi)
            Kdot = (torch.pi - th) / (2 * torch.pi)
        else:
            a = 1 + 2 * d * d
            den = torch.sqrt(a[:, None] * a[None, :])
            Kn = 2 / torch.pi * torch.arcsin(torch.clamp(2 * K / den, -1.0, 1.0))
            Kdot = 4 / torch.pi / torch.sqrt(torch.clamp(den**2 - 4 * K**2, min=0.0))
        theta = Kn + Kdot * theta
        K = Kn
    return K, theta


def _best(fn, repeat, torch):
    times = []
    for _ in range(repeat):
        torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return min(times)


def _wall(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _peak(fn, torch):
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**30


def _predict_rows(args, torch, rows, backend="torch"):
    """``NDK.predict(backend="torch")`` on the GPU: the problem of ``benchmarks/scale.py predict`` (random
    inputs, ReLU L = 3, T = 1e-3, sigma^2 = 1, 11 times up to 20 / gamma, rtol 1e-8). At the smallest P
    also the NumPy predict on this machine's CPU (agreement within the error estimates); the target is
    <= 5 minutes at P = 20,000. Returns whether the targets were met."""
    import symndk
    ok = True
    for i, P in enumerate(args.predict_P):
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((P, args.N0)), rng.standard_normal(P)
        times = np.linspace(0.0, 20 / 1e-3, 11)
        ndk = symndk.NDK(symndk.Network("relu", 3, 1.0, 1.0), X, y, T=1e-3)
        try:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            t = time.perf_counter()
            res = ndk.predict(times, rtol=1e-8, backend=backend)
            torch.cuda.synchronize()
            wall = time.perf_counter() - t
        except torch.cuda.OutOfMemoryError as exc:
            print(f"predict P = {P}: out of device memory ({exc})")
            ok = False
            continue
        peak = torch.cuda.max_memory_allocated() / 2**30
        row = {"what": "predict", "P": P, "gpu_s": wall, "gpu_peak_GiB": peak, "error_estimate": res.error_estimate,
               "rank": res.metadata["solver"]["rank"]}
        line = f"predict P = {P:6d} on the GPU: {wall:7.1f} s, peak {peak:5.1f} GiB, estimate {res.error_estimate:.1e}"
        if i == 0:
            t = time.perf_counter()
            host = symndk.NDK(symndk.Network("relu", 3, 1.0, 1.0), X, y, T=1e-3).predict(times, rtol=1e-8)
            row["cpu_s"] = time.perf_counter() - t
            row["gpu_vs_cpu"] = float(np.max(np.abs(res.train - host.train)))
            line += f"; NumPy on the CPU {row['cpu_s']:.1f} s, max difference {row['gpu_vs_cpu']:.1e}"
            ok &= row["gpu_vs_cpu"] <= res.error_estimate + host.error_estimate
        if P >= 20000:
            ok &= wall <= 300
        rows.append(row)
        print(line)
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--P", type=int, nargs="+", default=[2000, 10000, 30000])
    ap.add_argument("--N0", type=int, default=784)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--predict-P", type=int, nargs="*", default=[2000, 20000],
                    help="sizes of the predict rows (NDK.predict(backend='torch')); none: skip them")
    ap.add_argument("--out", default=None, help="also write the rows as JSON")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: nothing to check")
        return 2
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 2
    from static_kernels import collinear_pair, reference

    from symndk.backend.select import to_numpy
    from symndk.kernels.static import static_kernels

    dev = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, float64, N0 = {args.N0}, "
          f"depth = {args.depth}, best of {args.repeat}")
    rows, ok = [], True
    Xs = np.random.default_rng(0).standard_normal((500, args.N0))
    for act in ("relu", "erf"):
        host = static_kernels(Xs, activation=act, depth=args.depth)
        gpu = static_kernels(torch.asarray(Xs, device=dev), activation=act, depth=args.depth)
        diff = max(float(np.abs(to_numpy(getattr(gpu, k).train) - getattr(host, k).train).max()
                         / np.abs(getattr(host, k).train).max()) for k in ("nngp", "ntk"))
        print(f"{act}: GPU vs NumPy path at P = 500: max relative difference {diff:.1e}")
        ok &= diff <= 1e-13
        pair = collinear_pair(args.N0)
        K_ref, T_ref = reference(pair, act, args.depth)
        both = static_kernels(torch.asarray(pair, device=dev), activation=act, depth=args.depth)
        Kp, Tp = prototype(torch.asarray(pair, device=dev), act, args.depth, torch)
        import mpmath

        def rel(m, ref):
            m = to_numpy(m)
            return max(float(abs((mpmath.mpf(float(m[i][j])) - ref[i][j]) / ref[i][j])) for i in range(2) for j in range(2))

        acc = {"symndk": (rel(both.nngp.train, K_ref), rel(both.ntk.train, T_ref)),
               "prototype": (rel(Kp, K_ref), rel(Tp, T_ref))}
        print(f"{act}: rel. error at rho = 1 - 1e-8 (NNGP / NTK): symndk {acc['symndk'][0]:.1e} / {acc['symndk'][1]:.1e}, "
              f"prototype {acc['prototype'][0]:.1e} / {acc['prototype'][1]:.1e}")
        ok &= max(acc["symndk"]) <= 1e-14
        for P in args.P:
            X = torch.asarray(np.random.default_rng(1).standard_normal((P, args.N0)), device=dev)
            ours = lambda: static_kernels(X, activation=act, depth=args.depth)  # noqa: E731
            theirs = lambda: prototype(X, act, args.depth, torch)  # noqa: E731
            try:
                ours(), theirs()  # warm up
                t_s, t_p = _best(ours, args.repeat, torch), _best(theirs, args.repeat, torch)
                m_s, m_p = _peak(ours, torch), _peak(theirs, torch)
            except torch.cuda.OutOfMemoryError as exc:
                print(f"{act} P = {P}: out of device memory ({exc})")
                ok = False
                continue
            row = {"activation": act, "P": P, "symndk_s": t_s, "prototype_s": t_p, "ratio": t_s / t_p,
                   "symndk_peak_GiB": m_s, "prototype_peak_GiB": m_p, "relerr_symndk": acc["symndk"],
                   "relerr_prototype": acc["prototype"]}
            rows.append(row)
            print(f"{act} P = {P:6d}: symndk {t_s * 1e3:9.1f} ms ({m_s:5.1f} GiB), prototype {t_p * 1e3:9.1f} ms "
                  f"({m_p:5.1f} GiB), symndk/prototype = {t_s / t_p:.2f}")
            if P >= 30000:
                ok &= t_s / t_p <= 2
            del X
            torch.cuda.empty_cache()
    ok &= _predict_rows(args, torch, rows)
    import os

    import symndk.kernels.static as static
    from symndk.backend import threads as pool
    Xc = np.random.default_rng(0).standard_normal((2000, args.N0))
    threads, n, base = [], 1, None
    while n <= pool.cores():
        threads.append(n)
        n *= 2
    for n in threads + ([pool.cores()] if pool.cores() not in threads else []):
        static.static_kernels(Xc[:100])
        with pool.limited(n):
            best = min(_wall(lambda: static.static_kernels(Xc, activation="relu", depth=args.depth)) for _ in range(args.repeat))
        base = base or best
        print(f"CPU NumPy path, P = 2000 ReLU NNGP+NTK, {n:3d} threads: {best:.3f} s (speed-up {base / best:.1f}; "
              f"{os.cpu_count()} cores)")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
