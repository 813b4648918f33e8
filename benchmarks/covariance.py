"""Cost of ``predict(cov="test")`` and ``predict(cov=True)`` against the mean-only solve, same kernel, same times.

    python benchmarks/covariance.py [P] [n_times] [Q] [rows]

Digits (:func:`_task`), ReLU L = 2, sigma0^2 = sigma^2 = 1, T = 0.01, Q = 2 test points, times
gamma t = 1 and 10 (n_times log-spaced). Every variant runs in its own fresh process (kernel build,
compression and solves included), which reports its CPU seconds (the machine may be shared; CPU
time is the fairer ratio), wall seconds and peak RSS (ru_maxrss):

* ``mean``: the mean-only solve, the baseline of the ratios;
* ``test``: mean + ``cov="test"`` (the Q test rows' variance only);
* ``all``: mean + ``cov=True`` (all P + Q rows), run in full when ``rows`` is 0 (the default for
  P <= 300). Otherwise *extrapolated*: one row chunk of ``rows`` rows (default -1: the chunk the
  solver itself uses, :data:`symndk.dynamics.covariance.CHUNK_BUDGET`) is timed at the last time (m
  and the embedded m - 2, as the solver does) and scaled by (P + Q) / rows and by n_times, plus the
  measured set-up (compression and tabulation of the prior kernel): every row needs only its own
  column of the adjoint, so the cost is linear in the number of rows. The output says so.

The covariance part is the variant's CPU time minus the mean-only one; ratios are against the
mean-only solve of the same run. Each wanted row costs one adjoint right-hand side and its history
sums, O(n r P^2) for n quadrature nodes and compression rank r: about one mean solve a row.

Measured 2026-12-05 before issue 13's changes (shared 2-core machine, one BLAS thread):
P = 100: mean-only 0.8 s, covariance 59.1 s (72x), peak RSS 559 MiB, var estimate 1.1e-13.
P = 1000: mean-only 27.7 s; one chunk of 51 of the 1002 rows at one time (56 panels, m = 12 and 10)
745 s (a fifth of it system time: page faults of the ~3 GB of chunk temporaries), extrapolating to
29,300 s = 8.1 h (1,060x), peak RSS 3.3 GiB; a 16-row chunk 12.5 s a row, 1.5 GiB.
After (this version, 2026-12-05, the same machine under a load of ~8, CPU s of each fresh process):
P = 100: mean-only 1.4 s (214 MiB); covariance part of cov="test" 11.1 s (7.7x, 256 MiB), of cov=True
99.1 s (69x, 646 MiB), estimates 1.5e-13 and 1.6e-13, the same test_var.
P = 1000: mean-only 18.6 s (450 MiB); cov="test" 155 s (8.3x, 961 MiB), measured in full, estimate
2.0e-13; cov=True EXTRAPOLATED from one 15-row chunk at the last time (229.7 s, 15.3 s a row):
30,700 s = 8.5 h (1,650x; the mean solve itself got faster), peak RSS 1.6 GiB (was 3.3 GiB).
cov="test" / cov=True: 9x at P = 100, 198x at P = 1000 (a row-independent part, the kernel
weights of the history sums, keeps it from the row ratio (P + Q) / Q).
"""
import json
import resource
import subprocess
import sys
import time

import numpy as np

import symndk
from symndk import data


def _task(P, Q):
    """Digits 0 vs 1 (P <= 300), else P + Q digits of all ten classes (label +1 for digit < 5, each
    image scaled to |x|^2 = N0, as benchmarks/solver.py --scale)."""
    if P <= 300:
        ds = data.digits(0, 1, n_per_class=P // 2, n_test_per_class=max(Q // 2, 1))
        return ds.X_train, ds.y_train, ds.X_test[:Q]
    from sklearn.datasets import load_digits

    X, d = load_digits(return_X_y=True)
    idx = np.random.default_rng(0).permutation(len(d))[: P + Q]
    X = X[idx].astype(float) * np.sqrt(X.shape[1]) / np.linalg.norm(X[idx], axis=1, keepdims=True)
    return X[:P], np.where(d[idx[:P]] < 5, 1.0, -1.0), X[P:]


def _chunk(ndk, Xt, times, rows):
    """CPU and wall seconds of the covariance set-up and of one chunk of ``rows`` rows at the last
    time (m = 12 and the embedded 10); returns them with the panel count and the rows used."""
    from symndk.dynamics import covariance as cv
    from symndk.dynamics.compress import tabulate
    from symndk.dynamics.solvers import _lag_options

    k = ndk.kernel(Xt)
    t = float(times[-1])
    start = time.perf_counter(), time.process_time()
    tk = tabulate(k.compressed(t), t)                               # cached from the mean solve
    tg = tabulate(k.with_channels("prior").compressed(t), t)
    K0 = k.block(0.0, 0.0)[:k.P]
    edges = cv.sigma_mesh(t, float(np.max(np.linalg.eigvalsh((K0 + K0.T) / 2))), k.gamma)
    lag = _lag_options(k, edges)
    if rows < 0:
        rows = cv._chunks(k.P, k.R, (edges.size - 1) * 14, False)[0].size
    mid = time.perf_counter(), time.process_time()
    cv._one_time_pair(tk, tg, t, edges, 12, lag, k.P, np.arange(rows))
    end = time.perf_counter(), time.process_time()
    return [mid[i] - start[i] for i in (0, 1)], [end[i] - mid[i] for i in (0, 1)], edges.size - 1, rows


def child(variant, P, n_times, Q, rows):
    """One variant in this (fresh) process: prints a JSON line of its costs."""
    X_train, y_train, Xt = _task(P, Q)
    net = symndk.Network("relu", 2, 1.0, 1.0)
    T = 0.01
    times = np.geomspace(1.0, 10.0, n_times) / (T / net.sigma_sq)
    ndk = symndk.NDK(net, X_train, y_train, T=T)
    out = {}
    start = time.perf_counter(), time.process_time()
    cov = {"mean": False, "test": "test", "all": True}[variant]
    res = ndk.predict(times, Xt, cov=False if variant == "all" and rows else cov)
    out["wall"], out["cpu"] = time.perf_counter() - start[0], time.process_time() - start[1]
    if variant == "all" and rows:
        setup, chunk, panels, used = _chunk(ndk, Xt, times, rows)
        scale = (P + Xt.shape[0]) / used * n_times
        out.update(chunk=chunk, rows=used, panels=panels,
                   wall=out["wall"] + setup[0] + scale * chunk[0], cpu=out["cpu"] + setup[1] + scale * chunk[1])
    elif cov:
        out.update(estimate=res.var_error_estimate, panels=res.metadata["covariance"]["panels"],
                   test_var=res.test_var[-1].tolist())
    out["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main(P=100, n_times=2, Q=2, rows=None):
    rows = (0 if P <= 300 else -1) if rows is None else rows
    runs = {}
    for variant in ("mean", "test", "all"):
        r = subprocess.run([sys.executable, __file__, "--child", variant, str(P), str(n_times), str(Q), str(rows)],
                           capture_output=True, text=True, check=True)
        runs[variant] = json.loads(r.stdout.strip().splitlines()[-1])
    mean = runs["mean"]
    print(f"P={P} Q={Q} times={n_times} (gamma t = 1 .. 10), relu L = 2, digits; each variant a fresh process:")
    print(f"  mean only                 cpu {mean['cpu']:9.1f} s  wall {mean['wall']:9.1f} s  peak RSS {mean['rss']:6.0f} MiB")
    for variant, name in (("test", 'cov="test"'), ("all", "cov=True")):
        r = runs[variant]
        part = r["cpu"] - mean["cpu"]
        how = (f"EXTRAPOLATED from {r['rows']} of {P + Q} rows at the last time ({r['panels']} panels; chunk cpu "
               f"{r['chunk'][1]:.1f} s, wall {r['chunk'][0]:.1f} s)" if "chunk" in r else
               f"estimate {r['estimate']:.1e}, panels {r['panels']}, test_var {np.round(r['test_var'], 6).tolist()}")
        print(f"  mean + {name:<18} cpu {r['cpu']:9.1f} s  wall {r['wall']:9.1f} s  peak RSS {r['rss']:6.0f} MiB  {how}")
        print(f"    covariance part: cpu {part:.1f} s = {part / mean['cpu']:.1f} x the mean-only solve "
              f"(wall {(r['wall'] - mean['wall']) / mean['wall']:.1f} x)")
    test, full = runs["test"]["cpu"] - mean["cpu"], runs["all"]["cpu"] - mean["cpu"]
    print(f"  cov=True / cov=\"test\" (covariance parts, cpu): {full / test:.0f} x")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], *map(int, sys.argv[3:7]))
    else:
        main(*map(int, sys.argv[1:5]))
