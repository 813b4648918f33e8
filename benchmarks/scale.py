"""Scale benchmarks of issue 16, each printing its ratio against a baseline measured in the same run.

    python benchmarks/scale.py static   [--P 2000] [--repeat 7]     # NNGP+NTK vs neural-tangents
    python benchmarks/scale.py static   --P 500 1000 2000 4000 --plot docs/figures/static_scaling.png
    python benchmarks/scale.py predict  [--P 2000 5000]              # time and peak memory of predict
    python benchmarks/scale.py predict  --P 2000 --memory 0          # in memory vs the basis out of core
    python benchmarks/scale.py sweep    [--workers 2]                # Dask LocalCluster vs serial
    python benchmarks/scale.py float32  [--P 2000]                   # float32 vs float64 static kernels
    python benchmarks/scale.py panel    [--P 2000] [--r 12]           # Volterra panel solve vs K and threads

``static``: P random inputs in N0 = 784 dimensions, depth 2, ReLU and erf, float64, sigma^2 = 1, both
kernels (NNGP and NTK) from one call on each side. The baseline is neural-tangents 0.6.5 (jitted
``kernel_fn(x, None, ('nngp', 'ntk'))``, JAX x64) in a worker process of the venv that
``../shared/tools/install_neural_tangents.sh`` builds (found at $SYMNDK_NT_PYTHON, .ntvenv/ or
../ntvenv/); without it, the plain NumPy baseline of benchmarks/static_kernels.py. Runs are
interleaved (symndk, baseline, symndk, ...) and the best of each is compared; with compiled layer maps
(:mod:`symndk.kernels.native`) symndk with its numpy maps is timed in the same rounds too. The relative
error of both kernels at rho = 1 - 1e-8 is against mpmath at 40 digits from the same float64 inputs.

``float32``: the same static problem with ``dtype="float32"`` against float64 in the same run: CPU time
ratio, error relative to the largest entry and elementwise, and at rho = 1 - 1e-8 against mpmath.

``predict``: random inputs (N0 = 784), ReLU L = 3, gamma = 1e-3 (T = 1e-3, sigma^2 = 1), times up to
20 / gamma, rtol 1e-8; each P in a fresh process, its wall time and peak resident memory (ru_maxrss).
The baseline is P = 500 in the same run (the scaling exponent is printed). ``--memory BYTES``: instead,
each P in memory against the compressed kernel's basis out of core above BYTES (``NDK.predict(memory=)``),
interleaved: wall time, peak RSS and peak anonymous RSS, and their ratios (docs/numerics.md §7.4).

``panel``: one Radau panel solve of the Volterra solver (:class:`symndk.dynamics.volterra.StiffSolver`,
m = 12, GMRES with the block-diagonal preconditioner) on a stand-in basis of r P x P matrices (powers of
a random Gram matrix, decaying), for K = 1, 4, 16 right-hand sides on 1 and 2 threads
(``SYMNDK_THREADS``, :mod:`symndk.backend.threads`), interleaved; the baseline is K = 1 on one thread. Wall and CPU seconds per
panel and per right-hand side, and the 1 -> 2 thread wall ratio. ``--predict P`` (0: skip) then runs the
``predict`` problem above (ReLU L = 3, K = 1) at that P on 1 and 2 panel threads, twice each, interleaved.

``sweep``: the early-stopping style map (a grid of Network x T, ``symndk.sweep``) on a 2-worker
``LocalCluster`` against the serial run of the same grid: identical results and the speed-up.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: the start of every neural-tangents worker: JAX in float64, NT's stax (its experimental package, which
#: needs TensorFlow, stubbed out)
NT_PRELUDE = r"""
import sys, time, types, json
sys.modules['neural_tangents.experimental'] = types.ModuleType('neural_tangents.experimental')
import jax; jax.config.update('jax_enable_x64', True)
import numpy as np
from neural_tangents import stax
"""
NT_WORKER = NT_PRELUDE + r"""
PHI = {'relu': stax.Relu, 'erf': stax.Erf}
fns, X = {}, None
for line in sys.stdin:
    cmd, *arg = line.split()
    if cmd == 'load':
        X = jax.numpy.asarray(np.load(arg[0]))
        out = 'ok'
    else:  # run ACT DEPTH [save PATH]
        act, depth = arg[0], int(arg[1])
        if (act, depth) not in fns:
            kf = stax.serial(*[stax.Dense(512, W_std=1.0), PHI[act]()] * depth, stax.Dense(1, W_std=1.0))[2]
            fns[act, depth] = jax.jit(kf, static_argnames='get')
        t, c = time.perf_counter(), time.process_time()
        k = fns[act, depth](X, None, get=('nngp', 'ntk'))
        k[0].block_until_ready(); k[1].block_until_ready()
        out = f"{time.perf_counter() - t!r} {time.process_time() - c!r}"
        if len(arg) > 2:
            np.save(arg[3], np.stack([np.asarray(k[0]), np.asarray(k[1])]))
    print(out, flush=True)
"""


def nt_python():
    """The neural-tangents venv's python, or None."""
    for cand in (os.environ.get("SYMNDK_NT_PYTHON"), HERE.parent / ".ntvenv/bin/python",
                 HERE.parent.parent / "ntvenv/bin/python"):
        if cand and Path(cand).is_file():
            return str(cand)
    return None


def nt_batch(body: str, X, request: str) -> dict:
    """Run :data:`NT_PRELUDE` + ``body`` once in the neural-tangents venv and return the dict ``out`` that
    ``body`` fills (as JSON): ``body`` finds the inputs at ``np.load(sys.argv[1])`` and ``request`` in
    ``sys.argv[3]``. Raises RuntimeError (with NT's last error line) if the worker fails."""
    python = nt_python()
    if python is None:
        raise RuntimeError("neural-tangents venv not found (../shared/tools/install_neural_tangents.sh, or $SYMNDK_NT_PYTHON)")
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "X.npy", X)
        code = NT_PRELUDE + body + "\njson.dump(out, open(sys.argv[2], 'w'))\n"
        p = subprocess.run([python, "-c", code, str(Path(tmp) / "X.npy"), str(Path(tmp) / "nt.json"), request],
                           cwd=tmp, capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError(f"neural-tangents worker failed: {(p.stderr.strip().splitlines() or ['?'])[-1]}")
        return json.loads((Path(tmp) / "nt.json").read_text())


class NTWorker:
    """neural-tangents in its own venv, driven line by line (so runs interleave with symndk's)."""

    def __init__(self, python, folder):
        self.folder = folder
        self.proc = subprocess.Popen([python, "-c", NT_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, cwd=folder)

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def load(self, X):
        path = os.path.join(self.folder, "X.npy")
        np.save(path, X)
        self.ask(f"load {path}")

    def run(self, act, depth):
        """(wall, CPU) seconds of one call."""
        return tuple(float(v) for v in self.ask(f"run {act} {depth}").split())

    def kernels(self, act, depth):
        path = os.path.join(self.folder, "K.npy")
        self.ask(f"run {act} {depth} save {path}")
        return np.load(path)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def _relerr(approx, ref):
    import mpmath
    n = len(ref)
    return max(float(abs((mpmath.mpf(float(approx[i][j])) - ref[i][j]) / ref[i][j])) for i in range(n) for j in range(n))


def static(args):
    from static_kernels import collinear_pair

    pair = collinear_pair(args.N0)
    python = nt_python()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        nt = NTWorker(python, tmp) if python else None
        name = "neural-tangents (jit)" if nt else "NumPy textbook"
        print(f"static NNGP+NTK: N0 = {args.N0}, depth = {args.depth}, float64, {os.cpu_count()} cores, "
              f"interleaved, best of {args.repeat}; baseline: {name}")
        for P in args.P:
            X = np.random.default_rng(0).standard_normal((P, args.N0))
            print(f"P = {P}")
            print(f"{'activation':10s} {'symndk [s]':>10s} {'baseline [s]':>12s} {'symndk/baseline':>16s}   "
                  f"{'rel.err NNGP / NTK at rho = 1-1e-8':>34s}   {'baseline rel.err':>17s}")
            for act in ("relu", "erf"):
                rows.append((P, act, *_static_one(X, pair, act, args, nt)))
        if nt:
            nt.close()
    if args.plot:
        _static_plot(rows, name, args)


def _static_one(X, pair, act, args, nt):
    """One interleaved comparison (printed); returns (best symndk wall, best baseline wall)."""
    from static_kernels import baseline, reference

    from symndk.kernels.loader import load
    from symndk.kernels.static import static_kernels
    duals = load(act)
    ours = lambda: static_kernels(X, activation=act, depth=args.depth)  # noqa: E731
    plain = getattr(duals, "generated", None)  # the numpy layer maps, where compiled ones run by default
    numpy_only = None if plain is None else lambda: static_kernels(X, activation=plain, depth=args.depth)  # noqa: E731
    if nt:
        nt.load(X)
        nt.run(act, args.depth)  # compile
        theirs = lambda: nt.run(act, args.depth)  # noqa: E731
    else:
        theirs = lambda: _timed(lambda: baseline(X, act, args.depth))  # noqa: E731
    ours()
    t_s, t_b, c_s, c_b, t_n = [], [], [], [], []
    for _ in range(args.repeat):
        for times, cpus, (wall, cpu) in ((t_s, c_s, _timed(ours)), (t_b, c_b, theirs())):
            times.append(wall)
            cpus.append(cpu)
        if numpy_only:
            t_n.append(_timed(numpy_only)[0])
    K_ref, T_ref = reference(pair, act, args.depth)
    both = static_kernels(pair, activation=act, depth=args.depth)
    if nt:
        nt.load(pair)
        Kb, Tb = nt.kernels(act, args.depth)
    else:
        Kb, Tb = baseline(pair, act, args.depth)
    print(f"{act:10s} {min(t_s):10.3f} {min(t_b):12.3f} {min(t_s) / min(t_b):16.2f}   "
          f"{_relerr(both.nngp.train, K_ref):15.1e} / {_relerr(both.ntk.train, T_ref):.1e}   "
          f"{_relerr(Kb, K_ref):8.1e} / {_relerr(Tb, T_ref):.1e}")
    print(f"{'':10s} medians: symndk {np.median(t_s):.3f} s, baseline {np.median(t_b):.3f} s; CPU seconds "
          f"(all threads, best): symndk {min(c_s):.3f}, baseline {min(c_b):.3f}, ratio {min(c_s) / min(c_b):.2f}")
    if t_n:
        print(f"{'':10s} layer maps compiled (symndk.kernels.native) vs numpy: {min(t_s):.3f} s vs {min(t_n):.3f} s "
              f"(ratio {min(t_s) / min(t_n):.2f}); numpy maps / baseline {min(t_n) / min(t_b):.2f}")
    else:
        print(f"{'':10s} layer maps: numpy (no compiled kernels: no C compiler, or SYMNDK_NATIVE=0)")
    return min(t_s), min(t_b)


def _static_plot(rows, name, args):
    """Wall time against P, symndk and the baseline per activation (log-log), the ratio on a second panel."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from symndk.files import atomic_write
    fig, (ax, ar) = plt.subplots(1, 2, figsize=(9, 3.6))
    for act, colour in (("relu", "C0"), ("erf", "C1")):
        P = np.array([r[0] for r in rows if r[1] == act])
        ours, theirs = (np.array([r[k] for r in rows if r[1] == act]) for k in (2, 3))
        ax.loglog(P, ours, "o-", color=colour, label=f"symndk {act}")
        ax.loglog(P, theirs, "s--", color=colour, label=f"{name} {act}")
        ar.semilogx(P, ours / theirs, "o-", color=colour, label=act)
    ax.set(xlabel="P (inputs, N0 = %d)" % args.N0, ylabel="wall seconds (best of %d)" % args.repeat,
           title=f"static NNGP + NTK, depth {args.depth}, {os.cpu_count()} cores")
    ar.axhline(0.5, color="grey", lw=0.8, ls=":")
    ar.set(xlabel="P", ylabel="symndk / baseline", ylim=(0, 1), title="ratio (target <= 0.5 at P = 2000)")
    sizes = sorted({r[0] for r in rows})
    for a in (ax, ar):
        a.set_xticks(sizes, [str(n) for n in sizes])
        a.minorticks_off()
    ax.legend(fontsize=7)
    ar.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    print(f"wrote {atomic_write(args.plot, buf.getvalue())}")


def _timed(fn):
    """(wall, CPU) seconds of ``fn()`` (CPU: this process, all threads)."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


PREDICT_CHILD = r"""
import json, resource, sys, threading, time
import numpy as np
import symndk
P, N0, rtol = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
memory = None if sys.argv[4] == "none" else float(sys.argv[4])
anon = [0]


def sample():  # peak anonymous resident memory: ru_maxrss also counts the page cache of a memory-mapped basis
    while True:
        with open("/proc/self/status") as fh:
            anon[0] = max([anon[0]] + [int(line.split()[1]) for line in fh if line.startswith("RssAnon:")])
        time.sleep(0.005)


threading.Thread(target=sample, daemon=True).start()
rng = np.random.default_rng(0)
X, y = rng.standard_normal((P, N0)), rng.standard_normal(P)
ndk = symndk.NDK(symndk.Network("relu", 3, 1.0, 1.0), X, y, T=1e-3)
t = time.perf_counter()
res = ndk.predict(np.linspace(0.0, 20 / 1e-3, 11), rtol=rtol, memory=memory)
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"P": P, "wall_s": wall, "maxrss_GB": ru.ru_maxrss / 1e6, "cpu_s": ru.ru_utime + ru.ru_stime,
                  "anon_GB": anon[0] / 1e6, "rank": res.metadata["solver"]["rank"], "train": res.train.tolist(),
                  "error_estimate": float(np.max(getattr(res, "error_estimate", np.nan)))}))
"""


def predict(args):
    print(f"predict: ReLU L = 3, gamma = 1e-3, t <= 20/gamma, rtol {args.rtol}, N0 = {args.N0}, "
          f"{os.cpu_count()} cores, one fresh process per P")
    if args.memory is not None:
        return predict_memory(args)
    rows = []
    for P in dict.fromkeys([args.base] + args.P):  # in order, once each
        r = _predict_child(P, args)
        if r is None:
            continue
        rows.append(r)
        base = rows[0]
        expo = np.log(r["wall_s"] / base["wall_s"]) / np.log(P / base["P"]) if P != base["P"] else float("nan")
        print(f"P = {P:6d}: {r['wall_s']:8.1f} s wall ({r['cpu_s']:.1f} CPU s in the process), peak RSS {r['maxrss_GB']:.2f} GB, error estimate "
              f"{r['error_estimate']:.1e}; time / time(P = {base['P']}) = {r['wall_s'] / base['wall_s']:.1f} "
              f"(exponent {expo:.2f})")


def _predict_child(P, args, memory=None):
    """One :data:`PREDICT_CHILD` run (a fresh process): its JSON record, or None (reported) when it failed."""
    out = subprocess.run([sys.executable, "-c", PREDICT_CHILD, str(P), str(args.N0), str(args.rtol),
                          "none" if memory is None else str(memory)], capture_output=True, text=True,
                         timeout=args.timeout)
    if out.returncode:
        print(f"P = {P}: failed: {out.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def predict_memory(args):
    """``predict --memory BYTES``: each P in memory and with the basis out of core above BYTES
    (``NDK.predict(memory=)``), fresh processes, interleaved ``--repeat`` times; best wall time, peak RSS
    (ru_maxrss: it counts the resident pages of the memory-mapped basis too) and peak anonymous RSS
    (sampled every 5 ms: the memory the kernel cannot drop to the file), and the ratios out of core / in memory."""
    for P in args.P:
        runs = {"in memory": [], f"memory={args.memory:g}": []}
        for _ in range(args.repeat):
            for label, cap in zip(runs, (None, args.memory)):
                r = _predict_child(P, args, cap)
                if r is not None:
                    runs[label].append(r)
        if not all(runs.values()):
            continue
        best = {label: min(rs, key=lambda r: r["wall_s"]) for label, rs in runs.items()}
        for label, r in best.items():
            print(f"P = {P:6d} {label:>12s}: {min(x['wall_s'] for x in runs[label]):7.1f} s wall (best of "
                  f"{len(runs[label])}), peak RSS {r['maxrss_GB']:.3f} GB, peak anonymous RSS {r['anon_GB']:.3f} GB, "
                  f"rank {r['rank']}")
        a, b = best.values()
        diff = np.abs(np.array(b["train"]) - np.array(a["train"])).max() / np.abs(np.array(a["train"])).max()
        print(f"P = {P:6d} out of core / in memory: wall {b['wall_s'] / a['wall_s']:.2f}, peak RSS "
              f"{b['maxrss_GB'] / a['maxrss_GB']:.2f}, peak anonymous RSS {b['anon_GB'] / a['anon_GB']:.2f}; "
              f"max |train difference| / max |train| = {diff:.1e}")


def float32(args):
    import mpmath
    from static_kernels import collinear_pair, reference

    from symndk.kernels.static import static_kernels
    X = np.random.default_rng(0).standard_normal((args.P, args.N0))
    print(f"float32 vs float64 static NNGP+NTK: P = {args.P}, N0 = {args.N0}, depth 2, interleaved, best of {args.repeat}")
    for act in ("relu", "erf"):
        runs = {d: lambda d=d: static_kernels(X, activation=act, dtype=d) for d in ("float64", "float32")}
        cpu = {d: [] for d in runs}
        for _ in range(args.repeat):
            for d, fn in runs.items():
                cpu[d].append(_timed(fn)[1])
        a, b = runs["float64"](), runs["float32"]()
        pair = collinear_pair(args.N0)
        refs = reference(pair, act, 2)
        near = static_kernels(pair, activation=act, dtype="float32")
        for k, ref in zip(("nngp", "ntk"), refs):
            A, B = getattr(a, k).train, getattr(b, k).train.astype(np.float64)
            m = getattr(near, k).train
            e_near = max(float(abs((mpmath.mpf(float(m[i][j])) - ref[i][j]) / ref[i][j])) for i in range(2) for j in range(2))
            print(f"{act:5s} {k:5s}: CPU float32/float64 = {min(cpu['float32']):.3f}/{min(cpu['float64']):.3f} s "
                  f"= {min(cpu['float32']) / min(cpu['float64']):.2f}; max|K32 - K64| / max|K64| = "
                  f"{np.abs(A - B).max() / np.abs(A).max():.1e}, max elementwise relative {(np.abs(A - B) / np.abs(A)).max():.1e}; "
                  f"rel. error at rho = 1-1e-8 {e_near:.1e}")


def panel(args):
    from threadpoolctl import threadpool_limits

    from symndk.backend import threads
    from symndk.dynamics import volterra
    rng = np.random.default_rng(0)
    m, P, r = 12, args.P, args.r
    X = rng.standard_normal((P, 50))
    gram = X @ X.T / 50 + 0.1 * np.eye(P)
    B = np.stack([np.exp(-0.3 * k) * np.linalg.matrix_power(gram / P, k % 3 + 1) for k in range(r)])
    G = 0.01 * rng.standard_normal((r, m, m)) + 0.05 * np.eye(m)
    print(f"panel solve: P = {P}, r = {r}, m = {m} (m P = {m * P} unknowns per right-hand side), "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, best and median of {args.repeat}")
    runs = {}
    with threadpool_limits(1, "blas"):
        solver = volterra.StiffSolver(B)
        solver.solve(G, rng.standard_normal((m * P, 2)))            # eigenbasis of the preconditioner, once
        for _ in range(args.repeat):
            for K in (1, 4, 16):
                rhs = rng.standard_normal((m * P, K))
                for workers in (1, 2):
                    with threads.limited(workers):
                        runs.setdefault((K, workers), []).append(_timed(lambda: solver.solve(G, rhs)))
    base = min(w for w, _ in runs[1, 1])
    for (K, workers), v in sorted(runs.items()):
        wall, cpu = (np.array(x) for x in zip(*v))
        print(f"K = {K:2d}, {workers} thread(s): {wall.min() * 1e3:7.1f} ms wall (median {np.median(wall) * 1e3:7.1f}), "
              f"{cpu.min() * 1e3:7.1f} ms CPU; per right-hand side {wall.min() / K * 1e3:6.1f} ms = "
              f"{wall.min() / K / base:.2f} x (K = 1, 1 thread)" +
              (f"; 2 / 1 threads {wall.min() / min(w for w, _ in runs[K, 1]):.2f}" if workers == 2 else ""))
    if args.predict:
        import symndk
        X, y = rng.standard_normal((args.predict, 784)), rng.standard_normal(args.predict)
        ndk = symndk.NDK(symndk.Network("relu", 3, 1.0, 1.0), X, y, T=1e-3)
        times = {1: [], 2: []}
        for _ in range(2):
            for workers in (1, 2):
                with threads.limited(workers):
                    times[workers].append(_timed(lambda: ndk.predict(np.linspace(0.0, 20 / 1e-3, 11), rtol=1e-8)))
        for workers, v in times.items():
            print(f"predict P = {args.predict}, {workers} panel thread(s): wall {', '.join(f'{w:.1f}' for w, _ in v)} s, "
                  f"CPU {', '.join(f'{c:.1f}' for _, c in v)} s (load average {os.getloadavg()[0]:.1f})")


def _warm():
    """One tiny trajectory per activation (imports, generated kernels, solver set-up), untimed."""
    import symndk
    d = symndk.data.synthetic(4, 0.5)
    for act in ("relu", "erf"):
        symndk.NDK(symndk.Network(act, 2), d.X_train, d.y_train, T=0.01).predict([1.0, 10.0], d.X_test)


def sweep(args):
    import symndk
    from symndk.sweep import grid
    from symndk.sweep import sweep as run_sweep
    from symndk.sweep.scheduler import client

    ds = symndk.data.digits(0, 1, n_per_class=args.n, n_test_per_class=5)
    points = grid(activation=["relu", "erf"], depth=[1, 2, 3], sigma0_sq=[0.5, 2.0], T=[1e-2])
    times = np.geomspace(1e-3, 3e3, 40)
    print(f"early-stopping map: {len(points)} points on {ds.name}, 40 times each; serial vs a {args.workers}-worker "
          f"LocalCluster ({os.cpu_count()} cores)")
    _warm()
    t, cpu = time.perf_counter(), time.process_time()
    serial = run_sweep(points, ds, times)
    t_serial, cpu_serial = time.perf_counter() - t, time.process_time() - cpu
    t = time.perf_counter()
    with client("local", args.workers) as c:
        t_start = time.perf_counter() - t
        c.run(_warm)  # imports and kernel loads once per worker, outside the timing
        cpu = c.run(time.process_time)
        t = time.perf_counter()
        dask = run_sweep(points, ds, times, scheduler=c)
        t_dask = time.perf_counter() - t
        per_worker = {w: v - cpu[w] for w, v in c.run(time.process_time).items()}
        cpu_dask = sum(per_worker.values())
    same = all(a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a) for a, b in zip(serial, dask))
    print(f"serial {t_serial:.1f} s; cluster {t_dask:.1f} s (+ {t_start:.1f} s to start it); speed-up "
          f"{t_serial / t_dask:.2f} ({t_serial / (t_dask + t_start):.2f} with the start); identical results: {same}")
    print(f"CPU seconds: serial {cpu_serial:.1f}, workers together {cpu_dask:.1f}, busiest worker "
          f"{max(per_worker.values()):.1f}: with a free core per worker the speed-up would be about "
          f"{cpu_serial / max(per_worker.values()):.2f} (load average now {os.getloadavg()[0]:.1f})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("static")
    s.add_argument("--P", type=int, nargs="+", default=[2000])
    s.add_argument("--N0", type=int, default=784)
    s.add_argument("--depth", type=int, default=2)
    s.add_argument("--repeat", type=int, default=7)
    s.add_argument("--plot", metavar="PNG", help="also plot wall time and ratio against P (give several --P)")
    p = sub.add_parser("predict")
    p.add_argument("--P", type=int, nargs="+", default=[2000, 5000])
    p.add_argument("--base", type=int, default=500)
    p.add_argument("--N0", type=int, default=784)
    p.add_argument("--rtol", type=float, default=1e-8)
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--memory", type=float, metavar="BYTES",
                   help="compare each P in memory with NDK.predict(memory=BYTES) (the basis out of core above it)")
    p.add_argument("--repeat", type=int, default=2, help="with --memory: interleaved runs of each")
    f = sub.add_parser("float32")
    f.add_argument("--P", type=int, default=2000)
    f.add_argument("--N0", type=int, default=784)
    f.add_argument("--repeat", type=int, default=3)
    n = sub.add_parser("panel")
    n.add_argument("--P", type=int, default=2000)
    n.add_argument("--r", type=int, default=12)
    n.add_argument("--repeat", type=int, default=3)
    n.add_argument("--predict", type=int, default=1000)
    w = sub.add_parser("sweep")
    w.add_argument("--workers", type=int, default=2)
    w.add_argument("--n", type=int, default=15, help="training examples per class (digits 0 vs 1)")
    args = ap.parse_args(argv)
    {"static": static, "predict": predict, "sweep": sweep, "float32": float32, "panel": panel}[args.what](args)


if __name__ == "__main__":
    main()
