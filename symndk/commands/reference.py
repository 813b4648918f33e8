"""``symndk reference``: certified high-precision values of the synthetic task (mpmath).

One configuration:  ``symndk reference --activation relu --depth 2 --times 1,10,100 --dps 30 -o ref.json``
writes g(t) (training predictor factor), f*(t) (test predictor) and the certificate digits with full
metadata as JSON. ``--table DIR`` computes the published grid (see
``symndk/reference_tables/README.md``) into DIR as CSV + JSON.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> a = p.parse_args(["--times", "1,2", "--dps", "12"])
    >>> a.times, a.dps, a.activation
    ('1,2', 12, 'relu')
"""
from __future__ import annotations

import json
import os
import sys

HELP = "certified mpmath reference values of the synthetic task (g, f*) with metadata; --table for the published grid"


def add_arguments(parser):
    parser.add_argument("--activation", default="relu", help="activation name (default relu)")
    parser.add_argument("--depth", type=int, default=2, help="hidden layers L (default 2)")
    parser.add_argument("--sigma0-sq", dest="sigma0_sq", default="0.5", help="initial weight variance (default 0.5)")
    parser.add_argument("--sigma-sq", dest="sigma_sq", default="1.0", help="prior variance (default 1.0)")
    parser.add_argument("--T", dest="T", default="0.01", help="temperature T > 0 (default 0.01)")
    parser.add_argument("--r", dest="r", default="0.5", help="test-point overlap r with x_1 (default 0.5)")
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
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SymndkError(f"--times must be comma-separated numbers, got {text!r}") from None


def run(args) -> int:
    from symndk.errors import SymndkError

    if args.table is not None:
        from symndk.numerics.ref_tables import write_tables

        write_tables(args.table, jobs=args.jobs or min(2, os.cpu_count() or 1), progress=args.progress)
        return 0
    from symndk.numerics.reference import reference

    for name in ("sigma0_sq", "sigma_sq", "T", "r"):
        try:
            float(getattr(args, name))
        except ValueError:
            raise SymndkError(f"--{name.replace('_', '-')} must be a number, got {getattr(args, name)!r}") from None
    res = reference(args.activation, args.depth, args.sigma0_sq, args.sigma_sq, args.T, args.r,
                    _times(args.times), args.dps, order=args.order, progress=args.progress, jobs=args.jobs)
    text = json.dumps(res.to_dict(), indent=2)
    if args.output == "-":
        sys.stdout.write(text + "\n")
    else:
        try:
            with open(args.output, "w") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            raise SymndkError(f"cannot write {args.output}: {exc.strerror}") from None
    return 0
