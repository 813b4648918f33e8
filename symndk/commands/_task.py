"""Options shared by the commands that run on a data set (``solve``, ``simulate``).

One place defines the task and network flags, parses ``--times`` and loads the task, so the
commands cannot drift apart.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_task_arguments(p, T=0.01)
    >>> a = p.parse_args(["--data", "synthetic:4,0.5", "--depth", "1"])
    >>> a.data, a.depth, a.T, a.activation
    ('synthetic:4,0.5', 1, 0.01, 'relu')
    >>> parse_times("0:2:5").tolist(), parse_times("0,0.5,3").tolist()
    ([0.0, 0.5, 1.0, 1.5, 2.0], [0.0, 0.5, 3.0])
"""
from __future__ import annotations


def add_task_arguments(parser, *, T: float) -> None:
    """``--task/--data``, the array files, and the network flags (activation, depth, variances, T)."""
    parser.add_argument("--task", "--data", dest="data", default="synthetic:4,0.5", metavar="SPEC",
                        help="synthetic:P,r | digits:a,b[,n_per_class] | files (with --x-train/--y-train)")
    parser.add_argument("--x-train", metavar="FILE", help="training inputs (.npy/.csv), with --task files")
    parser.add_argument("--y-train", metavar="FILE", help="training targets (.npy/.csv)")
    parser.add_argument("--x-test", metavar="FILE", help="test inputs (.npy/.csv), optional")
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--sigma0-sq", type=float, default=0.5)
    parser.add_argument("--sigma-sq", type=float, default=1.0)
    parser.add_argument("--T", type=float, default=T, help="temperature (gamma = T / sigma^2)")


def parse_times(text):
    """``start:stop:num`` -> evenly spaced times; ``a,b,c`` -> those times."""
    import numpy as np

    from symndk.errors import SymndkError

    try:
        if ":" in text:
            start, stop, num = text.split(":")
            return np.linspace(float(start), float(stop), int(num))
        return np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise SymndkError(f"--times must be start:stop:num or a comma list of numbers, got {text!r}") from None


def load_task(args):
    """The task named by ``--task``/``--data`` (or the array files) as (X_train, y_train, X_test, name)."""
    from symndk import data
    from symndk.errors import SymndkError

    kind, _, rest = args.data.partition(":")
    try:
        nums = [float(v) for v in rest.split(",")] if rest else []
    except ValueError:
        raise SymndkError(f"--task/--data: bad numbers in {args.data!r}") from None
    if kind == "synthetic" and len(nums) == 2:
        ds = data.synthetic(int(nums[0]), nums[1])
    elif kind == "digits" and len(nums) in (2, 3):
        ds = data.digits(*(int(v) for v in nums))
    elif kind == "files" and not rest:
        if not (args.x_train and args.y_train):
            raise SymndkError("--task/--data files needs --x-train and --y-train")
        X = data.load_array(args.x_train)
        Xt = data.load_array(args.x_test) if args.x_test else None
        return X, data.load_array(args.y_train), Xt, f"files({args.x_train})"
    else:
        raise SymndkError(f"--task/--data must be synthetic:P,r, digits:a,b[,n] or files, got {args.data!r}")
    return ds.X_train, ds.y_train, ds.X_test, ds.name
