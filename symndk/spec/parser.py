"""Restricted parser for activation expressions typed by users.

The text is parsed with :mod:`ast` (which never executes anything) and the SymPy
expression is built node by node from a whitelist: the one variable ``x``, numbers,
``+ - * / **``, the constants ``pi`` and ``E``, and the functions in :data:`FUNCTIONS`.
Anything else is refused with one clear :class:`~symndk.errors.SymndkError` line.
``sympify``/``eval`` are never applied to user text.

Decimal literals become exact rationals (``0.1`` -> ``1/10``), so closed forms stay exact.

Example:
    >>> from symndk.spec.parser import parse_activation
    >>> parse_activation("0.1*x + 0.9*Max(x, 0)")
    x/10 + 9*Max(0, x)/10
    >>> parse_activation("x*Phi(x)")
    x*(erf(sqrt(2)*x/2)/2 + 1/2)
    >>> parse_activation("Piecewise((x, x >= 0), (exp(x) - 1, True))")
    Piecewise((x, x >= 0), (exp(x) - 1, True))
    >>> parse_activation("__import__('os').system('true')")
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: unsupported function call in activation expression (allowed: Abs, E, Heaviside, Max, Min, Phi, Piecewise, abs, atan, cos, cosh, elu, erf, erfc, exp, gelu, log, mish, pi, relu, sigmoid, sign, silu, sin, sinh, softplus, sqrt, swish, tanh, x)
"""
from __future__ import annotations

import ast

import sympy as sp

from symndk.errors import SymndkError

#: the one free variable (equal to ``symndk.spec.activations.X``)
X = sp.Symbol("x", real=True)

MAX_LENGTH = 400
MAX_NODES = 200
MAX_EXPONENT = 64
#: largest polynomial degree in x anywhere in the expression (x**17, (x**4)**5 and exp(x**20) are refused:
#: the derivation of their dual kernels runs for minutes)
MAX_DEGREE = 16
#: largest magnitude of a number in the expression (float64 range, with room for arithmetic)
MAX_NUMBER = sp.Integer(10) ** 300


def _phi_cdf(z):
    return (1 + sp.erf(z / sp.sqrt(2))) / 2


def _sigmoid(z):
    return 1 / (1 + sp.exp(-z))


def _softplus(z):
    return sp.log(1 + sp.exp(z))


#: name -> (arity, builder); arity None means "two or more" (Max/Min)
FUNCTIONS = {
    "exp": (1, sp.exp), "log": (1, sp.log), "sqrt": (1, sp.sqrt),
    "erf": (1, sp.erf), "erfc": (1, sp.erfc), "tanh": (1, sp.tanh),
    "sinh": (1, sp.sinh), "cosh": (1, sp.cosh), "atan": (1, sp.atan),
    "sin": (1, sp.sin), "cos": (1, sp.cos),
    "abs": (1, sp.Abs), "Abs": (1, sp.Abs), "sign": (1, sp.sign),
    "Heaviside": (1, lambda z: sp.Heaviside(z, sp.S.Half)),
    "Max": (None, sp.Max), "Min": (None, sp.Min),
    "sigmoid": (1, _sigmoid), "softplus": (1, _softplus),
    "relu": (1, lambda z: sp.Max(z, 0)),
    "Phi": (1, _phi_cdf),
    "gelu": (1, lambda z: z * _phi_cdf(z)),
    "silu": (1, lambda z: z * _sigmoid(z)), "swish": (1, lambda z: z * _sigmoid(z)),
    "elu": (1, lambda z: sp.Piecewise((z, z >= 0), (sp.exp(z) - 1, True))),
    "mish": (1, lambda z: z * sp.tanh(_softplus(z))),
}
CONSTANTS = {"pi": sp.pi, "E": sp.E, "x": X}
_ALLOWED = ", ".join(sorted(set(FUNCTIONS) | set(CONSTANTS) | {"Piecewise"}))

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def _fail(what: str) -> SymndkError:
    return SymndkError(f"{what} in activation expression (allowed: {_ALLOWED})")


def _number(node: ast.Constant, text: str) -> sp.Expr:
    if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
        raise _fail(f"unsupported literal {type(node.value).__name__}")
    literal = ast.get_source_segment(text, node) or repr(node.value)
    return sp.Rational(literal.replace("_", ""))


def _pow(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    if not exponent.is_number:
        raise SymndkError("only numeric exponents are supported (write exp(x*log(a)) for a**x)")
    if not exponent.is_real or abs(exponent) > MAX_EXPONENT:
        raise SymndkError(f"exponent {exponent} out of range (|exponent| <= {MAX_EXPONENT})")
    if base.is_number and base != 0 and abs(float(sp.log(abs(base), 10)) * float(exponent)) > 300:
        raise SymndkError("numeric power outside the float64 range")
    return base**exponent


def _build(node: ast.AST, text: str) -> sp.Expr:
    if isinstance(node, ast.Expression):
        return _build(node.body, text)
    if isinstance(node, ast.Constant):
        return _number(node, text)
    if isinstance(node, ast.Name):
        if node.id not in CONSTANTS:
            raise _fail(f"unknown name {node.id!r}")
        return CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _build(node.operand, text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.BitXor):
            raise SymndkError("'^' is not a power in activation expressions; write x**2")
        left, right = _build(node.left, text), _build(node.right, text)
        if isinstance(node.op, ast.Pow):
            return _pow(left, right)
        if type(node.op) not in _BINOPS:
            raise _fail(f"unsupported operator {type(node.op).__name__}")
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Piecewise":
        return _piecewise(node, text)
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords:
            raise _fail("unsupported function call")
        arity, builder = FUNCTIONS[name]
        if (arity is None and len(node.args) < 2) or (arity is not None and len(node.args) != arity):
            raise SymndkError(f"{name}() takes {'two or more arguments' if arity is None else f'{arity} argument'}")
        return builder(*[_build(a, text) for a in node.args])
    raise _fail(f"unsupported syntax {type(node).__name__}")


_COMPARE = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge}


def _condition(node: ast.AST, text: str):
    """A Piecewise condition: True, a comparison chain of expressions, or and/or of conditions."""
    if isinstance(node, ast.Constant) and node.value is True:
        return sp.true
    if isinstance(node, ast.BoolOp):
        parts = [_condition(v, text) for v in node.values]
        return sp.And(*parts) if isinstance(node.op, ast.And) else sp.Or(*parts)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        sides = [_build(node.left, text)] + [_build(c, text) for c in node.comparators]
        return sp.And(*[_COMPARE[type(op)](a, b) for op, a, b in zip(node.ops, sides[:-1], sides[1:])])
    raise SymndkError("Piecewise conditions must be True, comparisons (<, <=, >, >=) of expressions in x, "
                      "or and/or of them")


def _piecewise(node: ast.Call, text: str) -> sp.Expr:
    """``Piecewise((expr, cond), ..., (expr, True))``: pieces in order, the first whose condition holds."""
    if node.keywords or not node.args or not all(isinstance(a, ast.Tuple) and len(a.elts) == 2 for a in node.args):
        raise SymndkError("Piecewise takes pairs (expression, condition), e.g. Piecewise((x, x >= 0), (exp(x) - 1, True))")
    pieces = [(_build(a.elts[0], text), _condition(a.elts[1], text)) for a in node.args]
    if pieces[-1][1] is not sp.true:
        raise SymndkError("the last Piecewise condition must be True (phi must be defined for every x)")
    return sp.Piecewise(*pieces)


def _degree(expr: sp.Expr):
    """Polynomial degree in x of ``expr``, counting through function arguments (exp(x**3): 3).

    >>> _degree(sp.exp(X**3) + X**2 * sp.tanh(X)), _degree((X**4)**5)
    (3, 20)
    """
    if expr == X:
        return 1
    if not expr.args or X not in expr.free_symbols:
        return 0
    if isinstance(expr, sp.Mul):
        return sum(_degree(a) for a in expr.args)
    if isinstance(expr, sp.Pow) and expr.exp.is_number:
        return _degree(expr.base) * abs(expr.exp)
    return max(_degree(a) for a in expr.args)


def parse_activation(text: str) -> sp.Expr:
    """Parse ``text`` into a SymPy expression in ``x`` (see module docstring).

    Raises:
        SymndkError: for anything outside the whitelist, with one explanatory line.
    """
    if not isinstance(text, str):
        raise SymndkError(f"activation expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise SymndkError(f"activation expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SymndkError(f"cannot parse activation expression {text!r}: {exc.msg}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise SymndkError(f"activation expression has more than {MAX_NODES} syntax nodes")
    expr = _build(tree, text.strip())
    if X not in expr.free_symbols:
        raise SymndkError(f"activation expression {text!r} does not depend on x")
    degree = _degree(expr)
    if degree > MAX_DEGREE:
        raise SymndkError(f"activation expression {text!r} has degree {degree} in x (at most {MAX_DEGREE})")
    if any(abs(n) > MAX_NUMBER for n in expr.atoms(sp.Number) if n.is_finite):
        raise SymndkError(f"activation expression {text!r} has a number outside the float64 range")
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan, sp.I):
        raise SymndkError(f"activation expression {text!r} is not a finite real function")
    return expr
