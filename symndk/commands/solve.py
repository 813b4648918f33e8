"""``symndk solve``: mean-predictor trajectory (docs/theory.md §5) -> NPZ + JSON with metadata.

Also writes the NTK and NNGP equilibria, so one file has the whole story.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> a = p.parse_args(["--task", "synthetic:4,0.5", "--times", "0:100:5", "--out", "run"])
    >>> a.data, a.times, a.depth, a.rtol
    ('synthetic:4,0.5', '0:100:5', 2, 1e-10)
"""
from __future__ import annotations

from symndk.commands._task import add_task_arguments, load_task, parse_times

HELP = "solve for the mean predictor of the infinitely wide network (NDK Volterra equations)"


def add_arguments(parser):
    add_task_arguments(parser, T=0.01)
    parser.add_argument("--times", default="0:3000:31", metavar="LIST",
                        help="start:stop:num (evenly spaced) or a comma list, sorted, >= 0")
    parser.add_argument("--rtol", type=float, default=1e-10)
    parser.add_argument("--atol", type=float, default=1e-12)
    parser.add_argument("--out", default="symndk-solution", metavar="PREFIX",
                        help="writes PREFIX.npz and PREFIX.json (default: ./symndk-solution)")


def run(args) -> int:
    import json
    import time

    import numpy as np

    import symndk
    from symndk.errors import SymndkError

    if not (args.rtol > 0 and args.atol >= 0):
        raise SymndkError(f"--rtol must be > 0 and --atol >= 0, got {args.rtol}, {args.atol}")
    X, y, Xt, name = load_task(args)
    times = parse_times(args.times)
    kw = dict(activation=args.activation, depth=args.depth, sigma0_sq=args.sigma0_sq, sigma_sq=args.sigma_sq)
    t0 = time.perf_counter()
    res = symndk.predict(X, y, Xt, T=args.T, times=times, rtol=args.rtol, atol=args.atol, **kw)
    elapsed = time.perf_counter() - t0
    nngp = symndk.nngp_equilibrium(X, y, Xt, T=args.T, **kw)
    ntk = symndk.ntk_equilibrium(X, y, Xt, T=args.T, **kw)
    arrays = dict(times=res.times, train=res.train, test=res.test, y_train=np.asarray(y, float),
                  nngp_equilibrium_train=nngp.train[0], nngp_equilibrium_test=nngp.test[0],
                  ntk_equilibrium_train=ntk.train[0], ntk_equilibrium_test=ntk.test[0])
    meta = dict(command="symndk solve", symndk_version=symndk.__version__, task=name, T=args.T,
                gamma=args.T / args.sigma_sq, rtol=args.rtol, atol=args.atol, P=int(X.shape[0]),
                Q=int(res.test.shape[1]), N0=int(X.shape[1]), error_estimate=res.error_estimate,
                elapsed_s=elapsed, solver={k: v for k, v in res.info.items() if k != "stiff"}, **kw)
    np.savez(f"{args.out}.npz", **arrays, metadata=json.dumps(meta))
    with open(f"{args.out}.json", "w") as fh:
        json.dump(dict(metadata=meta, **{k: np.asarray(v).tolist() for k, v in arrays.items()}), fh, indent=1)
    print(f"wrote {args.out}.npz and {args.out}.json (error estimate {res.error_estimate:.1e}, "
          f"{elapsed:.2f} s)")
    return 0
