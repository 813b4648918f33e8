"""The restricted activation parser: exact SymPy results for the whitelist, one-line refusals otherwise."""
import sympy as sp
import pytest

from symndk.errors import SymndkError
from symndk.spec.parser import X, parse_activation


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tanh(x)", sp.tanh(X)),
        ("x*erf(x)", X * sp.erf(X)),
        ("0.1*x + 0.9*Max(x, 0)", X / 10 + sp.Rational(9, 10) * sp.Max(X, 0)),
        ("x**3", X**3),
        ("-x + 2.5e-1*abs(x)", -X + sp.Abs(X) / 4),
        ("exp(-x**2/2)", sp.exp(-X**2 / 2)),
        ("sigmoid(x)", 1 / (1 + sp.exp(-X))),
        ("Heaviside(x)", sp.Heaviside(X, sp.S.Half)),
        ("sin(pi*x) + E", sp.sin(sp.pi * X) + sp.E),
        ("Min(x, 1, 2*x)", sp.Min(X, 1, 2 * X)),
    ],
)
def test_whitelist_builds_exact_expressions(text, expected):
    assert sp.simplify(parse_activation(text) - expected) == 0


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("y", "unknown name 'y'"),
        ("x^2", "write x**2"),
        ("os.system('ls')", "unsupported function call"),
        ("eval('x')", "unsupported function call"),
        ("x.__class__", "unsupported syntax Attribute"),
        ("[x]", "unsupported syntax List"),
        ("lambda: x", "unsupported syntax Lambda"),
        ("'x'", "unsupported literal str"),
        ("x if x else 1", "unsupported syntax IfExp"),
        ("x**x", "only numeric exponents"),
        ("x**1000", "out of range"),
        ("((9**64)**64)**64*x", "outside the float64 range"),
        ("3", "does not depend on x"),
        ("x/0", "not a finite real function"),
        ("tanh(x, 1)", "takes 1 argument"),
        ("Max(x)", "two or more"),
        ("tanh(x=1)", "unsupported function call"),
        ("x +", "cannot parse"),
        ("x" + "+x" * 300, "longer than"),
    ],
)
def test_refusals_are_one_clear_line(text, fragment):
    with pytest.raises(SymndkError) as info:
        parse_activation(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_code_injection_is_refused_without_side_effect(tmp_path):
    target = tmp_path / "pwned"
    attacks = [
        f"__import__('os').system('touch {target}')",
        f"x + __import__('os').system('touch {target}')",
        f"Max(x, __import__('subprocess').call(['touch', '{target}']))",
        f"exec(\"open('{target}', 'w')\")",
    ]
    for attack in attacks:
        with pytest.raises(SymndkError):
            parse_activation(attack)
    assert not target.exists()


def test_no_eval_or_sympify_in_parser_source():
    import inspect

    import symndk.spec.parser as parser

    source = inspect.getsource(parser)
    for forbidden in ("sympify(", "eval(", "exec(", "parse_expr("):
        assert forbidden not in source.split('"""', 2)[2]
