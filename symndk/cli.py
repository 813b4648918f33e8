"""Command-line entry point: a thin dispatcher over ``symndk.commands.<name>``.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``; heavy imports happen inside ``run`` so ``--help`` is fast.
A :class:`symndk.errors.SymndkError` raised anywhere becomes one error line and exit 2.

Example:
    >>> from symndk.cli import COMMANDS
    >>> "verify" in COMMANDS
    True
"""
from __future__ import annotations

import argparse
import importlib
import sys

from symndk.errors import SymndkError

#: command name -> module implementing it (one table drives the CLI).
COMMANDS = {
    "verify": "symndk.commands.verify",
    "generate": "symndk.commands.generate",
    "kernel": "symndk.commands.kernel",
    "solve": "symndk.commands.solve",
    "reference": "symndk.commands.reference",
    "simulate": "symndk.commands.simulate",
    "validate": "symndk.commands.validate",
    "reproduce": "symndk.commands.reproduce",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symndk", description="Neural Dynamical Kernel: derive, verify, generate, solve, simulate.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, modname in COMMANDS.items():
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:  # command not built yet in this checkout
            if exc.name != modname:
                raise
            continue
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except SymndkError as exc:
        sys.stderr.write(f"symndk: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("symndk: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
