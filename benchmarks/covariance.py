"""Cost of ``predict(cov=True)`` against the mean-only solve, same kernel, same times.

    python benchmarks/covariance.py [P] [n_times] [Q] [rows]

Digits (:func:`_task`), ReLU L = 2, sigma0^2 = sigma^2 = 1, T = 0.01, Q = 2 test
points, times gamma t = 1 and 10 (n_times log-spaced). Wall and process CPU times (the machine
may be shared; CPU time is the fairer ratio), each solve on a fresh NDK:

* the mean-only first solve (kernel build + compression + Volterra solve);
* ``cov=True``: run in full when ``rows`` is 0 (the default for P <= 300). Otherwise the
  covariance is *extrapolated*: one row chunk of ``rows`` rows (default -1: the chunk size the
  solver itself uses) is timed at one time (m and m - 2,
  as the solver does) and scaled by (P + Q) / rows and by n_times, plus the measured set-up
  (compression and tabulation of the prior kernel). Every row needs only its own column of the
  adjoint, so the cost is linear in the number of rows; the extrapolation says so in its output.

The covariance costs one adjoint Volterra solve with P + Q right-hand sides (and its m - 2 twin)
per requested time, and history sums of O(n^2 r P (P + Q)) for n quadrature nodes.

Measured 2026-12-05 (shared 2-core machine, one BLAS thread; CPU seconds of this process):
P = 100: mean-only 0.8 s, covariance 59.1 s (72x), peak RSS 559 MiB, var estimate 1.1e-13.
P = 1000: mean-only 27.7 s; one chunk of 51 of the 1002 rows at one time (56 panels, m = 12 and 10)
745 s (of which about a fifth system time: page faults of the ~3 GB of chunk temporaries), so
cov=True at the two times extrapolates to 29,300 s = 8.1 h (1,060x); peak RSS 3.3 GiB.
A 16-row chunk (``rows`` = 16): 200.8 s, i.e. 12.5 s a row against 14.6 s in the solver's 51-row
chunk, with 15 s system time instead of 174 s and peak RSS 1.5 GiB: smaller chunks are cheaper here.
"""
import resource
import sys
import time

import numpy as np

import symndk
from symndk import data


def _clock():
    return time.perf_counter(), time.process_time()


def _since(start):
    w, c = _clock()
    return w - start[0], c - start[1]


def _extrapolated(ndk, Xt, times, rows):
    """Covariance cost from one chunk of ``rows`` rows at the last time (m and m - 2)."""
    from symndk.dynamics import covariance as cv
    from symndk.dynamics.compress import tabulate
    from symndk.dynamics.solvers import _lag_options

    k = ndk.kernel(Xt)
    t = float(times[-1])
    start = _clock()
    tk = tabulate(k.compressed(t), t)                               # cached from the mean solve
    tg = tabulate(k.with_channels("prior").compressed(t), t)
    K0 = k.block(0.0, 0.0)[:k.P]
    edges = cv.sigma_mesh(t, float(np.max(np.linalg.eigvalsh((K0 + K0.T) / 2))), k.gamma)
    lag = _lag_options(k, edges)
    if rows < 0:                                                    # the chunk size the solver uses
        rows = cv._chunks(k.P, k.R, (edges.size - 1) * 14, False)[0].size
    setup = _since(start)
    start = _clock()
    idx = np.arange(rows)
    cv._one_time(tk, tg, t, edges, 12, lag, k.P, idx)
    cv._one_time(tk, tg, t, edges, 10, lag, k.P, idx)
    chunk = _since(start)
    scale = k.R / rows * len(times)
    return tuple(s + scale * c for s, c in zip(setup, chunk)), chunk, edges.size - 1, rows


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


def main(P=100, n_times=2, Q=2, rows=None):
    rows = (0 if P <= 300 else -1) if rows is None else rows
    X_train, y_train, Xt = _task(P, Q)
    net = symndk.Network("relu", 2, 1.0, 1.0)
    T = 0.01
    times = np.geomspace(1.0, 10.0, n_times) / (T / net.sigma_sq)
    ndk = symndk.NDK(net, X_train, y_train, T=T)
    start = _clock()
    mean = ndk.predict(times, Xt)
    t_mean = _since(start)
    print(f"P={P} Q={Xt.shape[0]} times={n_times} (gamma t = {', '.join(f'{g:g}' for g in times * T)}):")
    print(f"  mean only, first solve        wall {t_mean[0]:8.1f} s   cpu {t_mean[1]:8.1f} s")
    if rows:
        t_cov, chunk, panels, rows = _extrapolated(ndk, Xt, times, rows)
        print(f"  covariance, EXTRAPOLATED from {rows} of {P + Xt.shape[0]} rows at one time ({panels} panels): "
              f"chunk wall {chunk[0]:.1f} s, cpu {chunk[1]:.1f} s")
    else:
        fresh = symndk.NDK(net, X_train, y_train, T=T)
        start = _clock()
        res = fresh.predict(times, Xt, cov=True)
        total = _since(start)
        t_cov = (total[0] - t_mean[0], total[1] - t_mean[1])
        assert np.array_equal(res.train, mean.train)
        print(f"  mean + cov=True, first solve  wall {total[0]:8.1f} s   cpu {total[1]:8.1f} s")
        print(f"  var error estimate {res.var_error_estimate:.1e} (mean {mean.error_estimate:.1e}), "
              f"panels {res.metadata['covariance']['panels']}, test_var {np.round(res.test_var[-1], 4).tolist()}")
    print(f"  covariance part               wall {t_cov[0]:8.1f} s   cpu {t_cov[1]:8.1f} s")
    print(f"  ratio covariance / mean-only: wall {t_cov[0] / t_mean[0]:.1f} x, cpu {t_cov[1] / t_mean[1]:.1f} x; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:5]))
