"""``symndk generate``: regenerate ``generated/`` (--update) or check it is up to date (--check).

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> p.parse_args(["--check"]).check
    True
"""
from __future__ import annotations

HELP = "Generate the numpy/mpmath dual-kernel modules in generated/ (--update) or diff them (--check)."


def add_arguments(parser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--update", action="store_true", help="rewrite generated/ from the activation registry")
    mode.add_argument("--check", action="store_true", help="regenerate into a temporary folder and diff; exit 1 on any difference")
    parser.add_argument("--out", default=None, help="target folder (default: the package's generated/)")


def run(args) -> int:
    import difflib
    import tempfile
    from pathlib import Path

    from symndk.codegen.writer import GENERATED_DIR, generate_all

    target = Path(args.out) if args.out else GENERATED_DIR
    if args.update:
        paths = generate_all(target)
        stale = sorted(p for p in target.glob("*.py") if not p.name.startswith("_") and p not in paths)
        for p in stale:
            p.unlink()
        print(f"wrote {len(paths)} modules to {target}" + (f"; removed {len(stale)} stale" if stale else ""))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p.read_text() for p in generate_all(Path(tmp))}
    shipped = {p.name: p.read_text() for p in target.glob("*.py") if not p.name.startswith("_")}
    bad = 0
    for name in sorted(set(fresh) | set(shipped)):
        a, b = shipped.get(name, ""), fresh.get(name, "")
        if a != b:
            bad += 1
            diff = difflib.unified_diff(a.splitlines(True), b.splitlines(True), f"generated/{name}", f"fresh/{name}")
            print("".join(list(diff)[:40]), end="")
    print(f"generate --check: {len(fresh)} modules, {bad} differ" + ("" if not bad else " (run: symndk generate --update)"))
    return 1 if bad else 0
