"""``symndk kernel EXPR --name NAME [--tol 1e-10]``: dual kernels for a new activation.

Prints phi', the kernels (closed form with LaTeX, or numeric with an error estimate), the
generated module paths and the registry checks; exit status 1 if a check fails.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> p.parse_args(["tanh(x)", "--name", "mytanh"]).tol
    1e-10
"""
from __future__ import annotations

HELP = "Derive, generate and check the dual kernels of a new activation EXPR (restricted syntax in x)."


def add_arguments(parser) -> None:
    parser.add_argument("expr", metavar="EXPR", help='activation in x, e.g. "tanh(x)", "x*erf(x)", "0.1*x + 0.9*Max(x, 0)"')
    parser.add_argument("--name", required=True, help="identifier to register the activation under")
    parser.add_argument("--tol", type=float, default=1e-10, help="error bound for numerically evaluated kernels (default 1e-10)")
    parser.add_argument("--force", action="store_true", help="keep kernels that fail a check or miss --tol (marked; loading them warns)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds allowed to the closed-form derivation, and again to its code generation "
                             "(past that: numerically evaluated kernels, with a warning)")


def run(args) -> int:
    from symndk.checks.activation import activation_kernel

    import math

    from symndk.errors import SymndkError

    if not (math.isfinite(args.tol) and args.tol > 0):
        raise SymndkError(f"--tol must be finite and > 0, got {args.tol}")
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= 3600):
        raise SymndkError(f"--timeout must be in (0, 3600] seconds, got {args.timeout}")
    result = activation_kernel(args.expr, args.name, tol=args.tol, timeout=args.timeout, force=args.force)
    print(result.report())
    return 0 if result.passed else 1
