"""``symndk generate``: regenerate ``generated/`` (--update) or check it is up to date (--check).

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> p.parse_args(["--check"]).check
    True
"""
from __future__ import annotations

HELP = "Generate the numpy/mpmath/mpfr dual-kernel modules and C kernels in generated/ (--update) or diff them (--check)."


def add_arguments(parser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--update", action="store_true", help="rewrite generated/ from the activation registry")
    mode.add_argument("--check", action="store_true", help="regenerate into a temporary folder and diff; exit 1 on any difference")
    parser.add_argument("--out", default=None, help="target folder (default: the package's generated/)")


def run(args) -> int:
    import tempfile
    from pathlib import Path

    from symndk.codegen.writer import GENERATED_DIR, generate_all, remove_stale

    from symndk.errors import SymndkError

    target = Path(args.out) if args.out else GENERATED_DIR
    if args.check and not target.is_dir():
        raise SymndkError(f"generate --check: {target} is not a folder")
    if args.update and target.exists() and not target.is_dir():
        raise SymndkError(f"generate --update: {target} exists and is not a folder")
    if args.update:
        paths = generate_all(target)
        stale = remove_stale(target, paths)  # only files carrying symndk's generated-file header
        print(f"wrote {len(paths)} modules to {target}" + (f"; removed {len(stale)} stale" if stale else ""))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p.read_text() for p in generate_all(Path(tmp))}
    bad, report = compare(target, fresh)
    print(report, end="")
    print(f"generate --check: {len(fresh)} modules, {bad} differ" + ("" if not bad else " (run: symndk generate --update)"))
    return 1 if bad else 0


def compare(target, fresh: dict[str, str]) -> tuple[int, str]:
    r"""Number of modules in folder ``target`` that differ from ``fresh`` (name -> text), and a diff excerpt.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (pathlib.Path(d) / "a.py").write_text("x = 1\n")
    ...     compare(d, {"a.py": "x = 1\n"})[0], compare(d, {"a.py": "x = 2\n"})[0], compare(d, {})[0]
    (0, 1, 1)
    """
    import difflib
    from pathlib import Path

    from symndk.codegen.writer import PATTERNS

    shipped = {p.name: p.read_text() for pattern in PATTERNS for p in Path(target).glob(pattern) if p.name != "__init__.py"}
    bad, out = 0, []
    for name in sorted(set(fresh) | set(shipped)):
        a, b = shipped.get(name, ""), fresh.get(name, "")
        if a != b:
            bad += 1
            out += list(difflib.unified_diff(a.splitlines(True), b.splitlines(True), f"generated/{name}", f"fresh/{name}"))[:40]
    return bad, "".join(out)
