"""``symndk sweep``: the early-stopping map over a grid of networks and temperatures, serial or on Dask.

Each network flag takes a comma list; the grid is their product with ``--T``. For every point the
mean-predictor trajectory on the task's test set gives the test error e(t), its optimum t_opt and
e at both equilibria. Writes PREFIX.csv (one row per point) and PREFIX.npz (``times`` and the
curves e(t), one row per point), atomically.

``--scheduler``: ``serial`` (default), ``local`` (a Dask LocalCluster of ``--workers`` processes) or
``tcp://host:port`` (an existing Dask scheduler). The results are the serial run's, bit for bit.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> a = p.parse_args(["--depth", "1,2", "--T", "0.01,0.1", "--scheduler", "local"])
    >>> a.depth, a.T, a.scheduler, a.task
    ('1,2', '0.01,0.1', 'local', 'digits:0,1,10')
    >>> _values("--depth", "1,2,3", int)
    [1, 2, 3]
"""
from __future__ import annotations

HELP = "early-stopping map (test error along the trajectory) over a grid of networks x T, serial or on Dask"

#: CLI cap on the grid size (the library allows more)
MAX_POINTS = 10_000


def add_arguments(parser) -> None:
    import dataclasses

    from symndk.commands._task import TASK_HELP
    from symndk.model import OPTIONS, Network

    defaults = {f.name: f.default for f in dataclasses.fields(Network)}
    parser.add_argument("--task", "--data", dest="task", default="digits:0,1,10", metavar="SPEC",
                        help=TASK_HELP.replace(" | files (with --x-train/--y-train)", "") + " (default digits:0,1,10)")
    parser.add_argument("--data-dir", metavar="DIR", help="folder with MNIST / CIFAR-10 files (as for symndk solve)")
    for opt in OPTIONS:
        parser.add_argument(opt.flag, dest=opt.field, default=str(defaults[opt.field]), metavar="LIST",
                            help=f"{opt.help}; a comma list (default: {defaults[opt.field]})")
    parser.add_argument("--T", default="0.01", metavar="LIST", help="temperatures, a comma list (default 0.01)")
    parser.add_argument("--times", default="0.001:30:40", metavar="SPEC",
                        help="t_min:horizon:num: num log-spaced times from t_min to horizon/gamma of each point "
                             "(default 0.001:30:40), or a comma list of times")
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--scheduler", default="serial", metavar="WHERE",
                        help="serial (default), local (a Dask LocalCluster here) or tcp://host:port (a Dask scheduler)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="worker processes of --scheduler local (default: all cores)")
    parser.add_argument("--out", default="symndk-sweep", metavar="PREFIX", help="writes PREFIX.csv and PREFIX.npz")


def _values(flag, text, kind):
    from symndk.errors import SymndkError

    try:
        values = [kind(v.strip()) for v in str(text).split(",")]
    except ValueError:
        raise SymndkError(f"{flag} must be a comma list of {kind.__name__} values, got {text!r}") from None
    if not values or len(values) > MAX_POINTS:
        raise SymndkError(f"{flag} needs 1..{MAX_POINTS} values, got {len(values)}")
    return values


def _times(text, gamma):
    """The time grid of one point: log-spaced to horizon / gamma, or the given list."""
    import numpy as np

    from symndk import validation
    from symndk.errors import SymndkError

    if ":" not in text:
        return validation.times(np.array(_values("--times", text, float)), "--times")
    try:
        t_min, horizon, num = text.split(":")
        t_min, horizon, num = float(t_min), float(horizon), int(num)
    except ValueError:
        raise SymndkError(f"--times must be t_min:horizon:num or a comma list, got {text!r}") from None
    if not (0 < t_min and 0 < horizon and 2 <= num <= 10_000 and gamma > 0 and t_min < horizon / gamma <= 1e12):
        raise SymndkError(f"--times {text}: needs 0 < t_min < horizon/gamma <= 1e12, 2 <= num <= 10000 and T > 0 "
                          "(or give a comma list of times)")
    return np.geomspace(t_min, horizon / gamma, num)


def run(args) -> int:
    import contextlib
    import csv
    import io

    import numpy as np

    from symndk import sweep
    from symndk.commands._task import load_dataset
    from symndk.errors import SymndkError
    from symndk.files import atomic_write
    from symndk.model import OPTIONS
    from symndk.sweep.scheduler import check_scheduler, client

    if args.task.partition(":")[0] == "files":
        raise SymndkError("symndk sweep needs a task with test targets (synthetic, digits, mnist, cifar10)")
    if not args.rtol > 0:
        raise SymndkError(f"--rtol must be > 0, got {args.rtol}")
    if args.workers is not None and not 1 <= args.workers <= 1024:
        raise SymndkError(f"--workers must be in 1..1024, got {args.workers}")
    scheduler = check_scheduler(args.scheduler)
    fields = {o.field: _values(o.flag, getattr(args, o.field), o.type) for o in OPTIONS}
    Ts = _values("--T", args.T, float)
    if np.prod([len(v) for v in fields.values()] + [len(Ts)], dtype=float) > MAX_POINTS:
        raise SymndkError(f"the grid has more than {MAX_POINTS} points")
    points = sweep.grid(T=Ts, **fields)
    ds = load_dataset(argparse_namespace(args))
    groups: dict = {}  # one time grid per gamma
    for i, p in enumerate(points):
        groups.setdefault(p.T / p.network.sigma_sq, []).append(i)
    rows, curves, grids = [None] * len(points), [None] * len(points), [None] * len(points)
    with (client(scheduler, args.workers) if scheduler != "serial" else contextlib.nullcontext()) as where:
        for gamma, idx in groups.items():
            times = _times(args.times, gamma)
            for i, r in zip(idx, sweep.sweep([points[i] for i in idx], ds, times, args.rtol, where or "serial")):
                curves[i], grids[i] = r.pop("curve"), times
                rows[i] = r
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    csv_path = atomic_write(f"{args.out}.csv", buf.getvalue())
    npz_path = atomic_write(f"{args.out}.npz", None, writer=lambda fh: np.savez_compressed(
        fh, times=np.array(grids), curves=np.array(curves)))
    best = min(rows, key=lambda r: r["err_opt"])
    print(f"{len(points)} points on {ds.name} ({args.scheduler}); best: "
          f"{', '.join(f'{k}={best[k]}' for k in ('activation', 'depth', 'sigma0_sq', 'T'))}, "
          f"e(t_opt)={best['err_opt']:.4g} at gamma t = {best['gamma_t_opt']:.3g}; wrote {csv_path} and {npz_path}")
    return 0


def argparse_namespace(args):
    """The fields ``load_dataset`` reads (``data``, ``data_dir``)."""
    import argparse

    return argparse.Namespace(data=args.task, data_dir=args.data_dir)
