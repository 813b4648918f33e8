"""``symndk reference``: certified high-precision values of the mean predictor (MPFR).

One configuration:  ``symndk reference --activation relu --depth 2 --times 1,10,100 --dps 30 -o ref.json``
writes g(t) (training predictor factor), f*(t) (test predictor) and the certificate digits with full
metadata as JSON. ``--task digits:0,1`` (or ``synthetic:P,r``) solves the full vector system on that
small data set instead (:func:`symndk.certified.general.reference_predict`; ``--n-per-class``
training points per digit, default 2, and ``--n-test`` test inputs, default 2) and writes the
training and test predictors. ``--table DIR`` computes the published grid (see
``symndk/reference_tables/README.md``) into DIR as CSV + JSON.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> a = p.parse_args(["--times", "1,2", "--dps", "12"])
    >>> a.times, a.dps, a.activation, a.task
    ('1,2', 12, 'relu', None)
    >>> X, y, Xt, name = _load(p.parse_args(["--task", "digits:0,1", "--n-test", "3"]))
    >>> X.shape, Xt.shape, name
    ((4, 64), (3, 64), 'digits(0 vs 1, n=2, seed=0)')
"""
from __future__ import annotations

import math

import json
import os
import sys

HELP = ("certified high-precision reference values of the synthetic task (g, f*) or, with --task, of a small "
        "data set, with metadata; --table for the published grid")


def add_arguments(parser):
    from symndk.commands._task import add_network_arguments

    add_network_arguments(parser, exact=True)
    parser.add_argument("--T", dest="T", default="0.01", help="temperature T > 0 (default 0.01)")
    parser.add_argument("--r", dest="r", default="0.5", help="test-point overlap r with x_1 (default 0.5)")
    parser.add_argument("--task", default=None, metavar="SPEC",
                        help="solve the full vector system on a small data set instead of the scalar synthetic "
                             "reduction: synthetic:P,r | digits:a,b[,n_per_class] (P <= 8 training points)")
    parser.add_argument("--n-per-class", type=int, default=2,
                        help="digits training points per class when SPEC gives none (default 2)")
    parser.add_argument("--n-test", type=int, default=2,
                        help="test inputs kept, evenly spread over the task's test set (default 2)")
    parser.add_argument("--times", default="1,10,100,1000,3000",
                        help="comma-separated increasing probe times (default 1,10,100,1000,3000)")
    parser.add_argument("--dps", type=int, default=30, help="requested significant digits (default 30)")
    parser.add_argument("--order", type=int, default=None, help="collocation order p (default from --dps)")
    parser.add_argument("-o", "--output", default="-", help="JSON output file (default: stdout)")
    parser.add_argument("--table", metavar="DIR", default=None,
                        help="compute the published grid into DIR (CSV + JSON); ignores the single-case options")
    parser.add_argument("--jobs", type=int, default=None,
                        help="parallel processes: the two certificate orders of one configuration, or the "
                             "configurations of --table (default: 2 on a machine with 2+ cores)")
    parser.add_argument("--progress", action="store_true", help="show progress bars")


def _times(text):
    from symndk.errors import SymndkError

    try:
        times = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SymndkError(f"--times must be comma-separated numbers, got {text!r}") from None
    if not times or not all(math.isfinite(t) and t > 0 for t in times) or any(b <= a for a, b in zip(times, times[1:])):
        raise SymndkError(f"--times must be finite, > 0 and increasing, got {text!r}")
    return times


def _variances(args) -> dict:
    """The four variances as decimal strings: one string, or a list of depth + 1 (a comma list, per layer).

    >>> import argparse
    >>> _variances(argparse.Namespace(sigma0_sq="0.5", sigma_sq="1,2,0.5", bias_sigma0_sq="0", bias_sigma_sq="0"))
    {'sigma0_sq': '0.5', 'sigma_sq': ['1', '2', '0.5'], 'bias_sigma0_sq': '0', 'bias_sigma_sq': '0'}
    """
    from symndk.errors import SymndkError
    from symndk.model import VARIANCES

    out = {}
    for name in VARIANCES:
        parts = [v.strip() for v in str(getattr(args, name)).split(",")]
        for v in parts:
            try:
                float(v)
            except ValueError:
                raise SymndkError(f"--{name.replace('_', '-')} must be a number or a comma list of numbers, "
                                  f"got {getattr(args, name)!r}") from None
        out[name] = parts[0] if len(parts) == 1 else parts
    return out


def _check_scales(args, variances, times) -> None:
    """Caps of the certified solver: variances and T in (0, MAX_SCALE] (bias variances may be 0), gamma t_max <=
    MAX_GAMMA_T for the fastest group; biases and per-layer lists only with ``--task``."""
    from symndk.errors import SymndkError

    entries = {k: v if isinstance(v, list) else [v] for k, v in variances.items()}
    for name, values in [*entries.items(), ("T", [args.T])]:
        low = 0 if name.startswith("bias") else None
        if not all((float(v) >= 0 if low == 0 else float(v) > 0) and float(v) <= MAX_SCALE for v in values):
            raise SymndkError(f"--{name.replace('_', '-')} must be in {'[' if low == 0 else '('}0, {MAX_SCALE:g}] "
                              f"for the certified reference, got {getattr(args, name)}")
    biased = any(float(v) for v in entries["bias_sigma_sq"])
    if args.task is None and (biased or any(isinstance(v, list) for v in variances.values())):
        raise SymndkError("biases and per-layer variances need --task (the scalar synthetic reduction has neither)")
    slowest = min(float(v) for v in entries["sigma_sq"] + [b for b in entries["bias_sigma_sq"] if float(b)])
    gamma_t = float(args.T) / slowest * max(times)
    if gamma_t > MAX_GAMMA_T:
        raise SymndkError(f"gamma t = {gamma_t:.3g} at the last time exceeds the certified solver's cap {MAX_GAMMA_T:g} "
                          f"(gamma = T / sigma^2, fastest group)")


def _load(args):
    """(X_train, y_train, X_test, name) of ``--task`` (shared parser of ``symndk.commands._task``)."""
    import argparse

    import numpy as np

    from symndk.commands._task import load_task
    from symndk.errors import SymndkError

    kind, _, rest = args.task.partition(":")
    if kind not in ("synthetic", "digits"):
        raise SymndkError(f"--task must be synthetic:P,r or digits:a,b[,n_per_class], got {args.task!r}")
    spec = f"{args.task},{args.n_per_class}" if kind == "digits" and rest.count(",") == 1 else args.task
    if args.n_test < 0:
        raise SymndkError(f"--n-test must be >= 0, got {args.n_test}")
    X, y, Xt, name = load_task(argparse.Namespace(data=spec))
    keep = np.unique(np.linspace(0, len(Xt) - 1, min(args.n_test, len(Xt))).round().astype(int))
    return X, y, Xt[keep], name


#: caps of the certified solver's size: collocation order and requested digits
MAX_ORDER, MAX_DPS = 60, 1000
#: caps of the certified problem: variances and T, and gamma t at the last time (the tables stop at 30)
MAX_SCALE, MAX_GAMMA_T = 1e6, 1e4


def _writable(path) -> None:
    """Refuse an output path in a missing folder before the (long) computation starts."""
    from pathlib import Path

    from symndk.errors import SymndkError

    folder = Path(path).parent
    if not folder.is_dir():
        raise SymndkError(f"cannot write {path}: folder {folder} does not exist")
    if Path(path).is_dir():
        raise SymndkError(f"cannot write {path}: it is a folder")


def run(args) -> int:
    from symndk.errors import SymndkError

    if args.table is not None:
        from pathlib import Path

        from symndk.certified.tables import write_tables

        if not Path(args.table).parent.is_dir() or (Path(args.table).exists() and not Path(args.table).is_dir()):
            raise SymndkError(f"cannot write tables into {args.table}: its parent folder does not exist, or it is a file")
        write_tables(args.table, jobs=args.jobs or min(2, os.cpu_count() or 1), progress=args.progress)
        return 0
    if args.order is not None and not 1 <= args.order <= MAX_ORDER:
        raise SymndkError(f"--order must be an integer in 1..{MAX_ORDER}, got {args.order}")
    if not 1 <= args.dps <= MAX_DPS:
        raise SymndkError(f"--dps must be an integer in 1..{MAX_DPS}, got {args.dps}")
    if args.jobs is not None and args.jobs < 1:
        raise SymndkError(f"--jobs must be >= 1, got {args.jobs}")
    if args.output != "-":
        _writable(args.output)
    for name in ("T", "r"):
        try:
            float(getattr(args, name))
        except ValueError:
            raise SymndkError(f"--{name.replace('_', '-')} must be a number, got {getattr(args, name)!r}") from None
    times = _times(args.times)
    var = _variances(args)
    _check_scales(args, var, times)
    common = dict(activation=args.activation, depth=args.depth, sigma0_sq=var["sigma0_sq"], sigma_sq=var["sigma_sq"],
                  T=args.T, times=times, dps=args.dps, order=args.order, progress=args.progress,
                  jobs=args.jobs)
    if args.task is None:
        from symndk.certified.synthetic import as_dict, reference

        out = as_dict(reference(r=args.r, **common), "g", "f_test", column=True)
    else:
        from symndk.certified.general import reference_predict
        from symndk.certified.synthetic import as_dict

        X, y, Xt, name = _load(args)
        b0, b2 = var["bias_sigma0_sq"], var["bias_sigma_sq"]
        biased = any(float(v) for v in (b2 if isinstance(b2, list) else [b2]))
        out = as_dict(reference_predict(X, y, Xt, bias=(b0, b2) if biased else None, **common))
        out["meta"]["task"] = name
    text = json.dumps(out, indent=2)
    if args.output == "-":
        sys.stdout.write(text + "\n")
    else:
        from symndk.files import atomic_write

        atomic_write(args.output, text + "\n")
    return 0
