"""``symndk static``: the static NNGP and NTK matrices of a data set -> NPZ + JSON with metadata.

Both kernels at one weight variance sigma^2 (``--sigma-sq``, per layer with a comma list) and bias
variance sigma_b^2 (``--bias-sigma-sq``): what neural-tangents' ``kernel_fn(x1, x2, ("nngp", "ntk"))``
gives for ``W_std**2 = sigma^2``, ``b_std**2 = sigma_b^2``, from one Gram product and one layer recursion
(:func:`symndk.kernels.static.static_kernels`). Writes ``nngp_train`` (P, P), ``ntk_train`` and, with test
inputs, ``nngp_test`` (Q, P), ``ntk_test``.

``--dtype float32`` computes in single precision (half the memory, about 0.6x the CPU time). Measured
at P = 2000, N0 = 784, depth 2: error <= 3.4e-7 of the largest entry, 1.7e-7 relative at
rho = 1 - 1e-8 (``benchmarks/scale.py float32``); float64 keeps <= 1e-15 relative there.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> a = p.parse_args(["--task", "digits:0,1,20", "--activation", "erf", "--dtype", "float32"])
    >>> a.data, a.activation, a.depth, a.sigma_sq, a.dtype, a.out
    ('digits:0,1,20', 'erf', 2, 1.0, 'float32', 'symndk-kernels')
"""
from __future__ import annotations

from symndk.commands._task import add_data_arguments, add_network_arguments, load_task

HELP = "static NNGP and NTK matrices of a data set (neural-tangents' kernel_fn), float64 or --dtype float32"

#: the Network fields this command takes (the kernels at one variance: no initial/prior distinction, no T)
FIELDS = ("activation", "depth", "sigma_sq", "bias_sigma_sq")


def add_arguments(parser) -> None:
    add_data_arguments(parser)
    add_network_arguments(parser, fields=FIELDS)
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="float64 (default) or float32 (inputs rounded; error ~3e-7 of the largest entry)")
    parser.add_argument("--memory", type=float, metavar="BYTES",
                        help="cap on the kernels held in RAM (2 (P^2 + Q P) entries): above it they are written "
                             "band by band to nngp_train.npy, ntk_train.npy, nngp_test.npy, ntk_test.npy in "
                             "--memory-folder (no NPZ; PREFIX.json lists them)")
    parser.add_argument("--memory-folder", metavar="DIR",
                        help="existing folder for the .npy files of --memory (without it: in memory, or the NPZ)")
    parser.add_argument("--out", default="symndk-kernels", metavar="PREFIX",
                        help="writes PREFIX.npz and PREFIX.json (default: ./symndk-kernels)")


def run(args) -> int:
    import time
    from pathlib import Path

    import numpy as np

    import symndk
    from symndk.commands.solve import check_scales
    from symndk.errors import SymndkError
    from symndk.kernels.static import static_kernels
    from symndk.results import save_arrays

    check_scales(args)
    X, _, Xt, name = load_task(args)
    net = symndk.Network(args.activation, args.depth, sigma_sq=args.sigma_sq,
                         bias_sigma_sq=args.bias_sigma_sq)   # validated as every command does
    w, b = net.variances(stationary=True)
    if (args.memory is None) != (args.memory_folder is None):
        raise SymndkError("--memory BYTES and --memory-folder DIR go together (the folder keeps the kernels beyond "
                          "the cap)")
    started = time.perf_counter()
    k = static_kernels(X, Xt, net.activation, net.depth, w, 0.0 if b is None else b, dtype=args.dtype,
                       memory=args.memory, folder=args.memory_folder)
    seconds = time.perf_counter() - started
    arrays = {"nngp_train": k.nngp.train, "ntk_train": k.ntk.train}
    if Xt is not None:
        arrays.update(nngp_test=k.nngp.test, ntk_test=k.ntk.test)
    meta = {"command": "symndk static", "task": name, "network": {f: getattr(net, f) for f in FIELDS}, "dtype": args.dtype,
            "P": int(X.shape[0]), "Q": 0 if Xt is None else int(Xt.shape[0]), "N0": int(X.shape[1]),
            "seconds": seconds, "version": symndk.__version__}
    if isinstance(k.ntk.train, np.memmap):              # out of core: the .npy files in the folder are the result
        files = {n: str((Path(args.memory_folder) / f"{n}.npy").resolve()) for n in arrays}
        _, js = save_arrays(None, {"metadata": meta, "arrays": sorted(arrays), "files": files}, args.out)
        print(f"wrote {', '.join(files.values())} and {js} (P = {meta['P']}, Q = {meta['Q']}, {args.dtype}, "
              f"{seconds:.2f} s, out of core)")
        return 0
    npz, js = save_arrays(arrays, {"metadata": meta, "arrays": sorted(arrays)}, args.out)
    print(f"wrote {npz} and {js} (P = {meta['P']}, Q = {meta['Q']}, {args.dtype}, {seconds:.2f} s)")
    return 0
