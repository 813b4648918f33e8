"""Activation registry: each activation is a SymPy expression in ``X``; phi' is derived.

``dphi`` is always ``sympy.diff(expr, X)`` (never typed by hand).  Kinks use SymPy's
conventions: ``Max(x, 0)`` differentiates to ``Heaviside(x)`` and ``Heaviside(0) = 1/2``
(SymPy >= 1.9), so the ReLU derivative at the kink is 1/2; the value at a single point never
changes a Gaussian expectation.

Example:
    >>> from symndk.spec.activations import get_activation, X
    >>> relu = get_activation("relu")
    >>> relu.dphi
    Heaviside(x)
    >>> get_activation("erf").is_odd, relu.is_odd
    (True, False)
    >>> get_activation("nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: unknown activation 'nope'; known: ...
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from symndk.errors import SymndkError
from symndk.names import check_name

X = sp.Symbol("x", real=True)


@dataclass(frozen=True)
class Activation:
    """A named activation phi(x) given as a SymPy expression in :data:`X`."""

    name: str
    expr: sp.Expr

    @cached_property
    def dphi(self) -> sp.Expr:
        """phi'(x), derived by ``sympy.diff``."""
        return sp.diff(self.expr, X)

    @cached_property
    def is_odd(self) -> bool:
        """True when phi(-x) = -phi(x) (checked by a targeted expand, not simplify)."""
        return sp.expand(self.expr.subs(X, -X) + self.expr) == 0


_REGISTRY: dict[str, Activation] = {}


def register_activation(name: str, expr) -> Activation:
    """Register (or replace) activation ``name`` with ``expr``: a SymPy expression in ``X`` or text.

    Text goes through the restricted parser (:func:`symndk.spec.parser.parse_activation`); it is
    never evaluated as Python.

    >>> register_activation("tmp_square", X**2).dphi
    2*x
    >>> register_activation("tmp_square", "x**2").dphi
    2*x
    >>> unregister_activation("tmp_square")
    """
    from symndk.spec.parser import parse_activation

    check_name(name)
    if isinstance(expr, str):
        expr = parse_activation(expr)
    elif not isinstance(expr, sp.Basic):
        raise SymndkError(f"activation {name!r} must be text or a SymPy expression, got {type(expr).__name__}")
    extra = expr.free_symbols - {X}
    if extra:
        raise SymndkError(f"activation {name!r} has free symbols {sorted(map(str, extra))}; only x is allowed")
    act = Activation(name, expr)
    _REGISTRY[name] = act
    return act


def unregister_activation(name: str) -> None:
    """Remove a registered activation (used by tests and temporary registrations)."""
    _REGISTRY.pop(name, None)


def get_activation(name: str) -> Activation:
    """Look up a registered activation; unknown names raise :class:`SymndkError`."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise SymndkError(f"unknown activation {name!r}; known: {', '.join(list_activations())}") from None


def list_activations() -> list[str]:
    """Names of the registered activations, sorted."""
    return sorted(_REGISTRY)


_half = sp.Rational(1, 2)
#: built-in activations (a modest list: CODEGEN generates one module per entry).  Each has a
#: closed-form dual kernel derived by :mod:`symndk.spec.dual` whose derivative kernel is finite
#: at rho = +-1 (so "step" and "sign", whose Fdot = E[delta delta] diverges there, and the
#: doubly exponential "exp" are left to :func:`symndk.spec.dual.derive_dual` on request).
BUILTIN = {
    "linear": X,
    "relu": sp.Max(X, 0),
    "erf": sp.erf(X),
    "leaky_relu": sp.Max(X, 0) + sp.Min(X, 0) / 10,
    "abs": sp.Abs(X),
    "gelu": X * (1 + sp.erf(X / sp.sqrt(2))) / 2,
    "sin": sp.sin(X),
    "cos": sp.cos(X),
    "gauss": sp.exp(-X**2 / 2),
    "cube": X**3,
}
for _name, _expr in BUILTIN.items():
    register_activation(_name, _expr)
