"""Strict code printers: SymPy's NumPy and mpmath printers and a gmpy2 (MPFR) printer, refusing anything
they cannot print exactly.

The generated NumPy modules import ``numpy`` and, where a special function is needed,
``scipy.special`` (erf, erfc, ...: SymPy's SciPy printer); the NumPy printer also prints
``Max``/``Min`` as nested ``numpy.maximum``/``numpy.minimum``, ``log(1 + exp(y))`` as
``numpy.logaddexp(0, y)`` (no overflow), ``Piecewise`` as nested ``numpy.where`` and ``Or`` as nested
``numpy.logical_or`` (operands broadcast).
The gmpy2 printer prints rationals (and Floats, by their exact binary value) as names of exact
module constants that it collects in ``constants``.
Any node without an exact translation raises :class:`UnsupportedNode`.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> NumpyPrinter().doprint(sp.Max(x, 0) + sp.erf(x))
    'scipy.special.erf(x) + numpy.maximum(0, x)'
    >>> MpmathPrinter().doprint(sp.atan2(sp.sqrt(x), x) / 3)
    '(mpmath.mpf(1)/mpmath.mpf(3))*mpmath.atan2(mpmath.sqrt(x), x)'
    >>> p = MpfrPrinter()
    >>> p.doprint(sp.atan2(sp.sqrt(x), x) / 3 - sp.pi / 2)
    '_Q1_3*gmpy2.atan2(gmpy2.sqrt(x), x) - _Q1_2*gmpy2.const_pi()'
    >>> p.constants
    {'_Q1_3': 'gmpy2.mpq(1, 3)', '_Q1_2': 'gmpy2.mpfr(gmpy2.mpq(1, 2), 2)'}
"""
from __future__ import annotations

import re

import sympy as sp
from sympy.printing.c import C99CodePrinter
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.pycode import MpmathPrinter as _SympyMpmathPrinter


class UnsupportedNode(TypeError):
    """A SymPy node the strict printers cannot translate exactly."""


class _Strict:
    _settings = {"strict": True, "fully_qualified_modules": True}

    def __init__(self, settings=None):
        super().__init__({**self._settings, **(settings or {})})
        #: module-level constants the printed code refers to (name -> code defining it)
        self.constants: dict[str, str] = {}

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

    def _print_Or(self, expr):  # nested, so that operands of different shapes broadcast
        return self._nested("numpy.logical_or", sorted(expr.args, key=sp.default_sort_key))

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"numpy.heaviside({self._print(expr.args[0])}, {self._print(h0)})"

    def _print_BVN(self, expr):  # bivariate normal CDF (symndk.spec.kinks): Owen's T in the runtime
        return f"_bvn({', '.join(self._print(a) for a in expr.args)})"

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
            out = self._select(self._print(cond), self._print(value), out)
        return out

    @staticmethod
    def _select(cond, value, other):
        return f"numpy.where({cond}, {value}, {other})"


class MpmathPrinter(_Strict, _SympyMpmathPrinter):
    """Scalar code over ``mpmath`` numbers at the caller's working precision."""

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"_heaviside({self._print(expr.args[0])}, {self._print(h0)})"

    def _print_BVN(self, expr):  # bivariate normal CDF: mpmath quadrature in the runtime
        return f"_bvn({', '.join(self._print(a) for a in expr.args)})"


_GMPY2_FUNCTIONS = {
    "Abs": "abs", "Max": "max", "Min": "min", "ceiling": "gmpy2.ceil", "Sqrt": "gmpy2.sqrt",
    **{f: f"gmpy2.{f}" for f in (
        "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cos", "cosh", "cot", "coth", "csc", "csch",
        "erf", "erfc", "exp", "expm1", "floor", "gamma", "hypot", "log", "log10", "log1p", "log2", "sec", "sech",
        "sign", "sin", "sinh", "tan", "tanh")},
}
_GMPY2_CONSTANTS = {"Pi": "gmpy2.const_pi()", "EulerGamma": "gmpy2.const_euler()", "Catalan": "gmpy2.const_catalan()",
                    "Exp1": "gmpy2.exp(1)", "Infinity": "gmpy2.inf()", "NegativeInfinity": "gmpy2.inf(-1)"}
_FOREIGN = re.compile(r"\b(?:mpmath|math|cmath|numpy|scipy)\.")


def _print_gmpy2_function(self, expr):
    return f"{self.known_functions[type(expr).__name__]}({', '.join(self._print(a) for a in expr.args)})"


def _print_gmpy2_constant(self, expr):
    return self.known_constants[type(expr).__name__]


class MpfrPrinter(MpmathPrinter):
    """Scalar code over ``gmpy2.mpfr`` (MPFR) numbers at the caller's working precision.

    Functions print as their gmpy2 namesakes, ``pi`` as ``gmpy2.const_pi()``.  A rational ``p/q``
    prints as the name ``_Qp_q`` (``_Qmp_q`` when negative) of an exact module constant recorded
    in ``constants``: an mpfr where ``q`` is a power of 2 (exact, and fast to operate with), else
    the ``gmpy2.mpq``, so it is rounded only where used, at the working precision.  Powers
    ``x**2`` and ``x**(n/2)`` print as ``gmpy2.square`` and one (reciprocal) square root
    of ``x**|n|``: MPFR's general power is about ten times slower.  What gmpy2 has no exact
    counterpart for (``zeta``, Bessel functions, ``I``, ...) raises :class:`UnsupportedNode`.

    Example:
        >>> x = sp.Symbol("x", real=True)
        >>> p = MpfrPrinter()
        >>> p.doprint(sp.Heaviside(x) * sp.exp(-x**2) / 3 + sp.Float(0.25) * (1 + x)**sp.Rational(-3, 2))
        '_Q1_3*gmpy2.exp(-gmpy2.square(x))*_heaviside(x, _Q1_2) + _Q1_4/gmpy2.sqrt((x + 1)**3)'
        >>> p.constants["_Q1_3"], p.constants["_Q1_4"]
        ('gmpy2.mpq(1, 3)', 'gmpy2.mpfr(gmpy2.mpq(1, 4), 2)')
        >>> p.doprint(sp.zeta(x))
        Traceback (most recent call last):
        ...
        symndk.codegen.printers.UnsupportedNode: MpfrPrinter cannot print zeta: zeta(x)
    """

    _kf = _GMPY2_FUNCTIONS
    _print_BVN = _Strict._print_not_supported   # no MPFR bivariate normal CDF: those kernels are mpmath only
    _kc = _GMPY2_CONSTANTS

    def doprint(self, expr, assign_to=None):
        code = super().doprint(expr, assign_to)
        if _FOREIGN.search(code):  # a SymPy method that hard-codes another module
            raise UnsupportedNode(f"MpfrPrinter cannot print {expr} without leaving gmpy2: {code}")
        return code

    def _print_Rational(self, expr):
        p, q = expr.p, expr.q
        name = f"_Q{'m' if p < 0 else ''}{abs(p)}_{q}"
        dyadic = q & (q - 1) == 0
        self.constants[name] = f"gmpy2.mpfr(gmpy2.mpq({p}, {q}), {max(2, abs(p).bit_length())})" if dyadic \
            else f"gmpy2.mpq({p}, {q})"
        return name

    def _print_Float(self, expr):
        return self._print(sp.Rational(expr))  # the Float's exact binary value

    def parenthesize(self, item, level, strict=False):
        if isinstance(item, (sp.Rational, sp.Float)) and not sp.Rational(item).is_Integer:  # printed as a name
            return self._print(item)
        return super().parenthesize(item, level, strict)

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.base, expr.exp
        if exp == 2:
            return f"gmpy2.square({self._print(base)})"
        if exp.is_Rational and exp.q == 2:
            odd = base if abs(exp.p) == 1 else sp.Pow(base, abs(exp.p), evaluate=False)
            return f"gmpy2.{'sqrt' if exp > 0 else 'rec_sqrt'}({self._print(odd)})"
        return self._hprint_Pow(expr, rational=rational, sqrt="gmpy2.sqrt")


for _name in set(_SympyMpmathPrinter._kf) | set(_SympyMpmathPrinter._kc) | {
        "uppergamma", "lowergamma", "Derivative_zeta", "ImaginaryUnit", "NaN", "ComplexInfinity", "Sum"}:
    setattr(MpfrPrinter, f"_print_{_name}", _Strict._print_not_supported)
for _name in _GMPY2_FUNCTIONS:
    setattr(MpfrPrinter, f"_print_{_name}", _print_gmpy2_function)
for _name in _GMPY2_CONSTANTS:
    setattr(MpfrPrinter, f"_print_{_name}", _print_gmpy2_constant)


class CPrinter(_Strict, C99CodePrinter):
    """Scalar C99 ``double`` code for the native kernels (:mod:`symndk.codegen.native`).

    ``Max``/``Min`` print as the NaN-propagating ``symndk_max``/``symndk_min`` of the C template (as
    ``numpy.maximum`` is; C's ``fmax`` drops a NaN), ``Piecewise`` as nested conditional expressions, powers
    with integer or half-integer exponents as products and one (reciprocal) square root; functions
    without a C99 counterpart raise :class:`UnsupportedNode`.

    Example:
        >>> x = sp.Symbol("x", real=True)
        >>> CPrinter().doprint(sp.Max(x, 0) / sp.sqrt(4 * x + 1) + x**sp.Rational(3, 2))
        '(x*sqrt(x)) + symndk_max(0, x)/sqrt(4*x + 1)'
        >>> CPrinter().doprint(1 / sp.pi**2)
        '1.0/(M_PI*M_PI)'
        >>> CPrinter().doprint(sp.Piecewise((x, x < 0.5), (2 * x, True)))
        '((x < 0.5) ? (x) : (2*x))'
    """

    _settings = {"strict": True}

    def _print_Max(self, expr):
        return self._nested("symndk_max", sorted(expr.args, key=sp.default_sort_key))

    def _print_Min(self, expr):
        return self._nested("symndk_min", sorted(expr.args, key=sp.default_sort_key))

    _nested = NumpyPrinter._nested

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        h0 = self._print(expr.args[1] if len(expr.args) > 1 else sp.S.Half)
        return f"(({x}) > 0 ? 1.0 : ({x}) < 0 ? 0.0 : ({h0}))"

    _print_Piecewise = NumpyPrinter._print_Piecewise

    @staticmethod
    def _select(cond, value, other):
        return f"(({cond}) ? ({value}) : ({other}))"

    def _print_Pow(self, expr):
        base, exp = expr.base, expr.exp
        if exp.is_Rational and exp.q in (1, 2) and abs(exp.p) <= 8 * exp.q:
            b = self.parenthesize(base, 50)          # PRECEDENCE["Pow"]
            whole = [b] * (abs(exp.p) // exp.q)
            if exp.q == 2:
                whole.append(f"sqrt({self._print(base)})")
            prod = "*".join(whole) if len(whole) == 1 else f"({'*'.join(whole)})" if whole else "1.0"
            return prod if exp > 0 else f"1.0/{prod}"
        return super()._print_Pow(expr)
