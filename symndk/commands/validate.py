"""``symndk validate``: finite-width Langevin ensembles against the theory, as z-scores.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> a = p.parse_args(["ci", "drift-relu", "--json", "z.json"])
    >>> a.names, a.json
    (['ci', 'drift-relu'], 'z.json')
"""
from __future__ import annotations

HELP = "validate theory against finite-width Langevin simulation (z-scores; 'ci', 'all' or case names)"


def add_arguments(parser):
    parser.add_argument("names", nargs="*", default=["ci"], metavar="CASE",
                        help="case names, 'ci' (the fast cases, default) or 'all'; --list shows them")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--n-networks", type=int, default=None, help="override every case's ensemble size")
    parser.add_argument("--seed", type=int, default=None, help="override every case's seed")
    parser.add_argument("--json", metavar="FILE", help="also write the reports (z-scores, settings) as JSON")
    parser.add_argument("--progress", action="store_true", help="show the simulator's progress bars")


def select(names):
    """Case names for ``names`` ('ci' = the fast cases, 'all' = every case)."""
    from symndk.errors import SymndkError
    from symndk.checks.langevin import CASES

    out = []
    for name in names:
        if name == "all":
            out += list(CASES)
        elif name == "ci":
            out += [n for n, c in CASES.items() if not c.slow]
        elif name in CASES:
            out.append(name)
        else:
            raise SymndkError(f"unknown validation case {name!r}; known: ci, all, {', '.join(CASES)}")
    return list(dict.fromkeys(out))


#: cap of --n-networks (each validation case holds its ensemble in memory)
MAX_NETWORKS = 100_000


def run(args) -> int:
    import dataclasses
    import json

    from symndk.checks.langevin import CASES, run_case
    from symndk.errors import SymndkError
    from symndk.files import atomic_write

    if args.list:
        for name, c in CASES.items():
            print(f"{name:18s} {c.kind:11s} {c.activation:6s} L={c.depth} N={c.width} networks={c.n_networks} "
                  f"T={c.T:g} dt={c.dt:g}{'' if c.slow else '  (ci)'}")
        return 0
    overrides = {k: v for k, v in (("n_networks", args.n_networks), ("seed", args.seed)) if v is not None}
    if args.n_networks is not None and not (2 <= args.n_networks <= MAX_NETWORKS and args.n_networks % 2 == 0):
        raise SymndkError(f"--n-networks must be an even integer in 2..{MAX_NETWORKS}, got {args.n_networks}")
    if args.seed is not None and args.seed < 0:
        raise SymndkError(f"--seed must be >= 0, got {args.seed}")
    if args.json:  # refuse an unwritable report path before the (long) validations run
        from pathlib import Path

        if not Path(args.json).parent.is_dir() or Path(args.json).is_dir():
            raise SymndkError(f"cannot write {args.json}: no such folder, or it is a folder")
    reports = []
    for name in select(args.names):
        rep = run_case(CASES[name], progress=args.progress, **overrides)
        print(rep.line(), flush=True)
        reports.append(rep)
    failed = [r.case.name for r in reports if not r.passed]
    tail = f"; FAIL: {', '.join(failed)}" if failed else ""
    print(f"{len(reports) - len(failed)}/{len(reports)} validations pass{tail}")
    if args.json:
        rows = [dict(case=dataclasses.asdict(r.case), passed=bool(r.passed), max_z=r.max_z, rms_z=r.rms_z,
                     foil_max_z=r.foil_max_z, seconds=r.seconds, z=r.z.tolist()) for r in reports]
        atomic_write(args.json, json.dumps(rows, indent=1))
    return 1 if failed else 0
