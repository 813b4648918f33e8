"""``symndk verify``: machine-check every identity of docs/theory.md and report the tier reached.

Prints a table (id, tier, residual, seconds) with a progress bar; exits 0 only if every
selected identity passes.  ``--json FILE`` writes ``[{id, status, tier, residual}, ...]``
(status ``proved`` or ``failed``), ``--report FILE.md`` a Markdown report with the equations
in LaTeX, ``--only PATTERN`` selects ids (glob or substring), ``--activation NAME`` restricts
the per-activation identities, ``--jobs N`` runs N worker processes.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> p.parse_args(["--only", "prior.*"]).only
    'prior.*'
"""
from __future__ import annotations

import json
import os

HELP = "verify the identities of the theory (symbolic proof or 50-digit sampling) and report tiers"


def add_arguments(parser) -> None:
    parser.add_argument("--only", metavar="PATTERN", help="run only ids matching PATTERN (glob or substring)")
    parser.add_argument("--activation", action="append", metavar="NAME",
                        help="restrict per-activation identities to NAME (repeatable)")
    parser.add_argument("--json", metavar="FILE", help="write machine-readable results to FILE")
    parser.add_argument("--report", metavar="FILE.md", help="write a Markdown report with LaTeX equations")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="worker processes (default: min(2, cores))")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


_IDENTS: list = []


def _run_one(k: int):
    return _IDENTS[k].verify()


def run(args) -> int:
    import multiprocessing

    from tqdm import tqdm

    from pathlib import Path

    from symndk.checks import catalogue
    from symndk.errors import SymndkError

    for path in filter(None, (args.json, args.report)):  # before the run, not after it
        if not Path(path).parent.is_dir() or Path(path).is_dir():
            raise SymndkError(f"cannot write {path}: its folder does not exist, or it is a folder")
    from symndk.identities import select

    if args.jobs < 1:
        raise SymndkError(f"--jobs must be >= 1, got {args.jobs}")
    if args.activation:   # user activations from `symndk kernel` (cached) are registered here
        from symndk.checks.activation import register_cached

        from symndk.spec.activations import get_activation
        from symndk.spec.dual import dual_kernels
        from symndk.spec.kinks import BVN

        for name in args.activation:
            d = dual_kernels(register_cached(name))
            if any(k is not None and k.has(BVN) for k in (d.F, d.Fdot)):
                raise SymndkError(f"activation {name!r}: the identity catalogue does not take kernels with a bivariate "
                                  "normal CDF (kinks away from 0) yet; `symndk kernel` checked them (quadrature, "
                                  "Monte Carlo, Price, PSD, extremes, mpmath twin)")
            get_activation(name)
    idents = select(catalogue(args.activation), args.only)
    if not idents:
        raise SymndkError(f"no identity matches {args.only!r}")
    _IDENTS[:] = idents
    bar = dict(total=len(idents), desc="verify", unit="id", disable=args.quiet)
    if args.jobs == 1:
        results = [_run_one(k) for k in tqdm(range(len(idents)), **bar)]
    else:  # fork: workers inherit the built catalogue (closures are not picklable)
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            results = list(tqdm(pool.imap(_run_one, range(len(idents))), **bar))
    print(format_table(results))
    from symndk.files import atomic_write

    if args.json:
        atomic_write(args.json, json.dumps([{"id": r.id, "status": "proved" if r.passed else "failed", "tier": r.tier,
                                             "residual": r.residual, "seconds": round(r.seconds, 3)}
                                            for r in results], indent=1))
    if args.report:
        atomic_write(args.report, format_report(idents, results))
    return 0 if all(r.passed for r in results) else 1


def format_table(results) -> str:
    """Plain-text table of the results with a one-line summary."""
    w = max(len(r.id) for r in results)
    lines = [f"{'id':<{w}}  {'tier':<8}  {'residual':>9}  {'seconds':>7}"]
    for r in results:
        lines.append(f"{r.id:<{w}}  {r.tier:<8}  {r.residual:9.2e}  {r.seconds:7.2f}")
    n_sym = sum(r.tier == "symbolic" for r in results)
    n_fail = sum(not r.passed for r in results)
    total = sum(r.seconds for r in results)
    lines.append(f"{len(results)} identities: {n_sym} symbolic, {len(results) - n_sym - n_fail} sampled, "
                 f"{n_fail} failed; {total:.1f} s of checks")
    lines += [f"FAILED {r.id}: {r.detail}" for r in results if not r.passed]
    # numeric kernels: how many points, and the tolerance derived from the kernel's error bound
    lines += [f"{r.id}: {r.detail}" for r in results if r.passed and "kernel bound" in r.detail]
    return "\n".join(lines)


def format_report(idents, results) -> str:
    """Markdown report: summary table, then each identity with its equation in LaTeX."""
    out = ["# symndk verify report", "",
           "Tiers: **symbolic** = residual reduced to 0 by targeted rewrites (time-boxed); "
           "**sampled** = residual below the stated digits at random points in mpmath at >= 50 digits "
           "plus limit checks at singular points; **failed** = with the offending value.", "",
           "| id | tier | residual | seconds |", "|---|---|---|---|"]
    out += [f"| `{r.id}` | {r.tier} | {r.residual:.2e} | {r.seconds:.2f} |" for r in results]
    out.append("")
    for ident, r in zip(idents, results):
        out += [f"## `{r.id}`", "", ident.title, "", f"$$ {ident.latex} $$", "",
                f"- tier: **{r.tier}**, residual {r.residual:.2e}, {r.seconds:.2f} s", f"- {r.detail}", ""]
    return "\n".join(out)
