"""Quantitative claim checks: a paper statement, a measured number, a criterion, PASS or FAIL.

A :class:`Claim` is what every reproduction reports: it carries the numbers it measured so a
FAIL is never silent about *how far* it missed.

Example:
    >>> c = Claim.check("slope", "diffusive time scales as 1/T", -0.98 > -1.1 and -0.98 < -0.9,
    ...                 {"slope": -0.98}, "slope in [-1.1, -0.9]")
    >>> print(c.line())
    PASS  slope: diffusive time scales as 1/T  [slope=-0.98; criterion: slope in [-1.1, -0.9]]
    >>> c.to_dict()["passed"]
    True
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


def fmt(value) -> str:
    """Compact number formatting for claim lines (4 significant digits).

    Example:
        >>> fmt(0.000123456), fmt(12345.678), fmt(3), fmt(True), fmt("x")
        ('0.0001235', '1.235e+04', '3', 'True', 'x')
    """
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    return f"{v:.4g}"


@dataclass(frozen=True)
class Claim:
    """One checked statement.

    Attributes:
        name: short stable id (unique within a reproduction).
        statement: what the paper (docs/theory.md §11) says, in words.
        passed: whether the measured numbers meet ``criterion``.
        measured: the numbers the decision was made from.
        criterion: the test applied, in words.
        note: optional explanation (e.g. why an honest FAIL is expected).
    """

    name: str
    statement: str
    passed: bool
    measured: dict = field(default_factory=dict)
    criterion: str = ""
    note: str = ""

    @classmethod
    def check(cls, name, statement, passed, measured, criterion, note="") -> "Claim":
        """Build a claim, coercing numpy scalars to plain Python numbers (JSON-safe)."""
        clean = {}
        for k, v in dict(measured).items():
            if hasattr(v, "tolist"):
                v = v.tolist()
            clean[str(k)] = v
        return cls(str(name), str(statement), bool(passed), clean, str(criterion), str(note))

    @property
    def status(self) -> str:
        """``"PASS"`` or ``"FAIL"``."""
        return "PASS" if self.passed else "FAIL"

    def line(self) -> str:
        """One human-readable line with the measured numbers."""
        nums = "; ".join(f"{k}={_fmt_any(v)}" for k, v in self.measured.items())
        tail = f"{nums}; criterion: {self.criterion}" if nums else f"criterion: {self.criterion}"
        note = f"  ({self.note})" if self.note else ""
        return f"{self.status}  {self.name}: {self.statement}  [{tail}]{note}"

    def to_dict(self) -> dict:
        """JSON-ready dictionary (``status`` included)."""
        d = asdict(self)
        d["status"] = self.status
        return d


def _fmt_any(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_any(x) for x in v) + "]"
    return fmt(v)
