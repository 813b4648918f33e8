"""Activation names: identifiers, never paths.

A name is looked up in a registry or in the manifest of files symndk wrote; it is never
joined onto a folder before it has passed :func:`check_name`.

Example:
    >>> check_name("my_act2")
    'my_act2'
    >>> check_name("/tmp/evil")
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: activation name must match [A-Za-z][A-Za-z0-9_]{0,47} (no '_mpmath'/'_mpfr' suffix), got '/tmp/evil'
"""
from __future__ import annotations

import re

from symndk.errors import SymndkError

PATTERN = r"[A-Za-z][A-Za-z0-9_]{0,47}"
_NAME = re.compile(PATTERN + r"\Z")
RESERVED_SUFFIXES = ("_mpmath", "_mpfr")


def check_name(name) -> str:
    """Return ``name`` if it is a valid activation name, else raise one :class:`SymndkError` line."""
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith(RESERVED_SUFFIXES):
        raise SymndkError(f"activation name must match {PATTERN} (no '_mpmath'/'_mpfr' suffix), got {name!r}")
    return name
