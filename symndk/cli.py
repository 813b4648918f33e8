"""Command-line entry point: a thin dispatcher over ``symndk.commands.<name>``.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``; heavy imports happen inside ``run`` so ``--help`` is fast.
A :class:`symndk.errors.SymndkError` raised anywhere becomes one error line and exit 2; so do a
``MemoryError`` (a size beyond this machine) and an ``OSError`` (a path that cannot be read or written).

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
    "static": "symndk.commands.static",
    "reference": "symndk.commands.reference",
    "simulate": "symndk.commands.simulate",
    "validate": "symndk.commands.validate",
    "reproduce": "symndk.commands.reproduce",
    "sweep": "symndk.commands.sweep",
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


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (the CLI's contract: one stderr line per error)."""
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    if any("\0" in a for a in (sys.argv[1:] if argv is None else argv)):
        sys.stderr.write("symndk: error: arguments must not contain NUL characters\n")
        return 2
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except SymndkError as exc:
        sys.stderr.write(f"symndk: error: {_one_line(exc)}\n")
        return 2
    except MemoryError as exc:  # a size that passed the caps but not this machine's memory
        sys.stderr.write(f"symndk: error: not enough memory for this problem size ({_one_line(exc) or 'MemoryError'}); "
                         "reduce the data, width, order or number of networks\n")
        return 2
    except OSError as exc:  # an input or output path that cannot be read or written
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        sys.stderr.write(f"symndk: error: {where}{exc.strerror or _one_line(exc)}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("symndk: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
