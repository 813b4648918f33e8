"""``symndk solve``: mean-predictor trajectory (docs/theory.md §5) -> NPZ + JSON with metadata.

Also writes the NTK and NNGP equilibria, so one file has the whole story. ``--cov`` adds the ensemble
spread of one network's output (``NDK.predict(cov=True)``): ``train_var`` (n, P), ``test_var`` (n, Q),
``var_error_estimate`` and the end points' ``{nngp,ntk}_equilibrium_{train,test}_var``; ``--cov full``
also ``test_cov`` (n, Q, Q); ``--cov test`` only ``test_var`` along the trajectory (Q adjoint rows instead
of P + Q: at P = 1000, Q = 2 about 500 times cheaper). The covariance is the same for every output column
of a (P, K) ``y``.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> a = p.parse_args(["--task", "synthetic:4,0.5", "--times", "0:100:5", "--out", "run"])
    >>> a.data, a.times, a.depth, a.rtol, a.cov, a.memory
    ('synthetic:4,0.5', '0:100:5', 2, 1e-10, None, None)
    >>> p.parse_args(["--cov"]).cov, p.parse_args(["--cov", "full"]).cov, p.parse_args(["--cov", "test"]).cov
    ('var', 'full', 'test')
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
    parser.add_argument("--cov", nargs="?", const="var", choices=("var", "full", "test"),
                        help="also the variance of one network's output across the ensemble (train_var, test_var; "
                             "each row costs about one mean solve); 'full': the (Q, Q) test covariance too; "
                             "'test': test_var only (Q rows instead of P + Q)")
    parser.add_argument("--memory", type=float, metavar="BYTES",
                        help="cap on the compressed kernel's basis in RAM (about 8 r P^2 bytes, r ~ 10-30): above it "
                             "the basis is a memory-mapped file (NDK.predict(memory=); docs/numerics.md §7.4)")
    parser.add_argument("--memory-folder", metavar="DIR",
                        help="keep the memory-mapped basis here (an existing folder on a disk with the space); "
                             "default: a private temporary folder, removed at once")
    parser.add_argument("--backend", choices=("numpy", "torch", "cupy", "array_api_strict"), default=None,
                        help="array namespace of the mean-predictor solve (torch/cupy: on the GPU of $SYMNDK_DEVICE; "
                             "NDK.predict(backend=)); not with --cov or --memory")
    parser.add_argument("--out", default="symndk-solution", metavar="PREFIX",
                        help="writes PREFIX.npz and PREFIX.json (default: ./symndk-solution)")


#: caps: the variances and T (float64 kernels overflow beyond), and gamma t at the last time
MAX_SCALE, MAX_GAMMA_T = 1e6, 1e12


def check_scales(args) -> None:
    """Refuse, in one line, variances or a temperature outside [0, MAX_SCALE] (sigma_sq > 0)."""
    import math

    from symndk.errors import SymndkError

    for name in ("sigma0_sq", "sigma_sq", "T"):
        if not hasattr(args, name):                      # a command without that option (symndk static: no T)
            continue
        value = getattr(args, name)
        for one in value if isinstance(value, tuple) else (value,):      # per-layer lists: every entry
            try:
                v = float(one)
            except (TypeError, ValueError):
                raise SymndkError(f"--{name.replace('_', '-')} must be a number, got {value!r}") from None
            if not (math.isfinite(v) and 0 <= v <= MAX_SCALE and (v > 0 or name != "sigma_sq")):
                raise SymndkError(f"--{name.replace('_', '-')} must be in [0, {MAX_SCALE:g}]"
                                  f"{' and > 0' if name == 'sigma_sq' else ''}, got {value}")


def run(args) -> int:
    import symndk
    from symndk.errors import SymndkError
    from symndk.results import save

    if not (args.rtol > 0 and args.atol >= 0):
        raise SymndkError(f"--rtol must be > 0 and --atol >= 0, got {args.rtol}, {args.atol}")
    check_scales(args)
    X, y, Xt, name = load_task(args)
    times = parse_times(args.times)
    fastest = min(args.sigma_sq) if isinstance(args.sigma_sq, tuple) else float(args.sigma_sq)   # per layer: min
    gamma_t = float(args.T) / fastest * max(times, default=0.0)
    if gamma_t > MAX_GAMMA_T:
        raise SymndkError(f"--times up to {max(times):g} is gamma t = {gamma_t:.3g}, beyond the cap {MAX_GAMMA_T:g} "
                          f"(gamma = T / sigma^2; the solution is at equilibrium long before)")
    from symndk.model import OPTIONS

    net = symndk.Network(**{o.field: getattr(args, o.field) for o in OPTIONS})
    ndk = symndk.NDK(net, X, y, T=args.T)
    cov = {None: False, "var": True, "full": "full", "test": "test"}[args.cov]
    res = ndk.predict(times, Xt, rtol=args.rtol, atol=args.atol, cov=cov, memory=args.memory,
                      folder=args.memory_folder, backend=args.backend)
    for kind in ("nngp", "ntk"):  # the two ends, in the same files
        eq = ndk.equilibrium(kind, Xt, cov=bool(cov))
        res.extras.update({f"{kind}_equilibrium_train": eq.train[0], f"{kind}_equilibrium_test": eq.test[0]})
        if cov:
            res.extras.update({f"{kind}_equilibrium_{part}_var": eq.extras[f"{part}_var"][0] for part in ("train", "test")})
    res.extras["y_train"] = ndk.y_train
    res.metadata.update(command="symndk solve", task=name)
    res.metadata.get("solver", {}).pop("stiff", None)
    npz, js = save(res, args.out)
    var = f", variance estimate {res.extras['var_error_estimate']:.1e}" if "var_error_estimate" in res.extras else ""
    print(f"wrote {npz} and {js} (error estimate {res.error_estimate:.1e}{var}, {res.metadata['seconds']:.2f} s)")
    return 0
