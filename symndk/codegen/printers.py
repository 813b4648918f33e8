"""Strict code printers: SymPy's NumPy and mpmath printers, refusing anything they cannot print exactly.

The generated NumPy modules import ``numpy`` and, where a special function is needed,
``scipy.special`` (erf, erfc, ...: SymPy's SciPy printer); the NumPy printer also prints
``Max``/``Min`` as nested ``numpy.maximum``/``numpy.minimum``, ``log(1 + exp(y))`` as
``numpy.logaddexp(0, y)`` (no overflow), and ``Piecewise`` as nested ``numpy.where``.
Any node without an exact translation raises :class:`UnsupportedNode`.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> NumpyPrinter().doprint(sp.Max(x, 0) + sp.erf(x))
    'scipy.special.erf(x) + numpy.maximum(0, x)'
    >>> MpmathPrinter().doprint(sp.atan2(sp.sqrt(x), x) / 3)
    '(mpmath.mpf(1)/mpmath.mpf(3))*mpmath.atan2(mpmath.sqrt(x), x)'
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.pycode import MpmathPrinter as _SympyMpmathPrinter


class UnsupportedNode(TypeError):
    """A SymPy node the strict printers cannot translate exactly."""


class _Strict:
    def __init__(self, settings=None):
        super().__init__({"strict": True, "fully_qualified_modules": True, **(settings or {})})

    def doprint(self, expr, assign_to=None):
        try:
            return super().doprint(expr, assign_to)
        except (PrintMethodNotImplementedError, KeyError) as exc:
            raise UnsupportedNode(str(exc).splitlines()[0]) from None

    def _print_not_supported(self, expr):
        raise UnsupportedNode(f"{type(self).__name__} cannot print {type(expr).__name__}: {expr}")

    emptyPrinter = _print_not_supported

    def _print_Function(self, expr):  # undefined functions are never printable
        return self._print_not_supported(expr)

    def _print_Integral(self, expr):
        return self._print_not_supported(expr)


class NumpyPrinter(_Strict, SciPyPrinter):
    """Vectorised float64 code over ``numpy`` arrays (see module docstring)."""

    def _print_Pi(self, expr):
        return "numpy.pi"

    def _nested(self, fn, args):
        out = self._print(args[0])
        for a in args[1:]:
            out = f"{fn}({out}, {self._print(a)})"
        return out

    def _print_Max(self, expr):
        return self._nested("numpy.maximum", sorted(expr.args, key=sp.default_sort_key))

    def _print_Min(self, expr):
        return self._nested("numpy.minimum", sorted(expr.args, key=sp.default_sort_key))

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"numpy.heaviside({self._print(expr.args[0])}, {self._print(h0)})"

    def _print_log(self, expr):
        arg = expr.args[0]
        terms = sp.Add.make_args(arg)
        if len(terms) == 2 and sp.S.One in terms:
            other = terms[0] if terms[1] == 1 else terms[1]
            if isinstance(other, sp.exp):
                return f"numpy.logaddexp(0, {self._print(other.args[0])})"
        return f"numpy.log({self._print(arg)})"

    def _print_Piecewise(self, expr):
        *pieces, (last, cond) = expr.args
        if cond != sp.true:
            return self._print_not_supported(expr)
        out = self._print(last)
        for value, cond in reversed(pieces):
            out = f"numpy.where({self._print(cond)}, {self._print(value)}, {out})"
        return out


class MpmathPrinter(_Strict, _SympyMpmathPrinter):
    """Scalar code over ``mpmath`` numbers at the caller's working precision."""

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"_heaviside({self._print(expr.args[0])}, {self._print(h0)})"
