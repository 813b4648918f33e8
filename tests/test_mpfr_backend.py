"""The mpfr (gmpy2) backend: agrees with the mpmath twin at 50 digits, keeps the caller's precision, refuses
NaN results, numeric activations and nodes gmpy2 cannot print exactly."""
import importlib
import importlib.util

import gmpy2
import mpmath
import pytest
import sympy as sp

from symndk.codegen.printers import MpfrPrinter, UnsupportedNode
from symndk.codegen.writer import GENERATED_DIR
from symndk.errors import SymndkError
from symndk.kernels import loader as duals
from symndk.spec.activations import BUILTIN, list_activations

DPS = 50
TOL = mpmath.mpf(10) ** -45
TINY = mpmath.mpf(10) ** -80  # values that vanish exactly (the Gram determinant at D = 0): compared absolutely
# (q1, q2, rho = sum of the strings, D): generic, rho = +-1 -+ 1e-12, rho = 1 - 1e-30 (the Gram determinant
# loses 30 digits to cancellation: the layer map needs its doubled precision), and rho = +-1 with D = 0 given
POINTS = [("1.5", "0.7", ("0.3",), None), ("1", "2", ("1", "-1e-12"), None), ("0.8", "1.3", ("-1", "1e-12"), None),
          ("1.1", "0.6", ("1", "-1e-30"), None), ("1.2", "0.9", ("1",), 0), ("1.2", "0.9", ("-1",), 0)]
XS = ("0.7", "-1.3", "0")


@pytest.fixture
def prec():
    """The binary precision of mpmath at DPS digits, made the caller's gmpy2 precision."""
    with mpmath.workdps(DPS):
        bits = mpmath.mp.prec
    with gmpy2.context(gmpy2.get_context(), precision=bits):
        yield bits


def _inputs(q1, q2, rho, prec):
    """The same binary values as gmpy2.mpfr (at ``prec``) and as mpmath.mpf (exactly)."""
    with mpmath.workdps(DPS + 20):
        c = mpmath.fsum(mpmath.mpf(r) for r in rho) * mpmath.sqrt(mpmath.mpf(q1) * mpmath.mpf(q2))
    g = [gmpy2.mpfr(v, prec) for v in (q1, q2, mpmath.nstr(c, DPS + 20))]
    with mpmath.workdps(DPS):
        m = [mpmath.mpf(p) / q for p, q in (v.as_integer_ratio() for v in g)]
    return g, m


def _close(a, b, what):
    assert isinstance(b, gmpy2.mpfr), (what, type(b))
    num, den = b.as_integer_ratio()
    with mpmath.workdps(2 * DPS):
        a, b = mpmath.mpf(a), mpmath.mpf(num) / den
        assert abs(a - b) <= max(TOL * abs(a), TINY), (what, a, b)


@pytest.mark.parametrize("name", list_activations())
def test_mpfr_agrees_with_mpmath_at_50_digits(name, prec):
    mp, fr = duals.load(name, "mpmath"), duals.load(name, "mpfr")
    for q1, q2, rho, D in POINTS:
        g, m = _inputs(q1, q2, rho, prec)
        with mpmath.workdps(DPS):
            expected = {"F": mp.F(*m, D), "Fdot": mp.Fdot(*m, D), "kernels": mp.kernels(*m, D),
                        "layer": mp.layer(*m, D), "V": mp.V(m[0]), "Vdot": mp.Vdot(m[1]), "Fbar": mp.Fbar(m[0], m[1])}
        got = {"F": fr.F(*g, D), "Fdot": fr.Fdot(*g, D), "kernels": fr.kernels(*g, D),
               "layer": fr.layer(*g, D), "V": fr.V(g[0]), "Vdot": fr.Vdot(g[1]), "Fbar": fr.Fbar(g[0], g[1])}
        for key, value in expected.items():
            pairs = zip(value, got[key], strict=True) if isinstance(value, tuple) else [(value, got[key])]
            for a, b in pairs:
                _close(a, b, (name, key, rho))
    for x in XS:
        with mpmath.workdps(DPS):
            expected = mp.phi(x), mp.dphi(x)
        for a, b in zip(expected, (fr.phi(x), fr.dphi(x)), strict=True):
            _close(a, b, (name, "phi/dphi", x))


@pytest.mark.parametrize("bits", [24, 53, 133, 300])
def test_results_have_the_callers_precision_and_the_context_is_restored(bits):
    erf = duals.load("erf", "mpfr")
    with gmpy2.context(gmpy2.get_context(), precision=bits):
        outs = erf.layer(gmpy2.mpfr("1.5"), 1, "0.25") + (erf.V(2.0), erf.Vdot(1), erf.phi("0.5"))
        assert all(isinstance(v, gmpy2.mpfr) and v.precision == bits for v in outs)
        assert gmpy2.get_context().precision == bits
        with gmpy2.context(gmpy2.get_context(), precision=bits + 100):  # F = (2/pi) asin(2c / sqrt((1 + 2 q1)(1 + 2 q2)))
            exact = 2 / gmpy2.const_pi() * gmpy2.asin(gmpy2.mpfr("0.5") / 3)
        assert erf.F(1, 1, "0.25") == gmpy2.mpfr(exact, bits)


def test_a_nan_result_raises_and_restores_the_precision():
    relu = duals.load("relu", "mpfr")
    with gmpy2.context(gmpy2.get_context(), precision=100):
        for call in (lambda: relu.F(gmpy2.nan(), 1, 0), lambda: relu.layer(1, 1, gmpy2.nan()), lambda: relu.V("nan")):
            with pytest.raises(ArithmeticError, match="NaN"):
                call()
            assert gmpy2.get_context().precision == 100
        with pytest.raises(ValueError):  # an error while computing restores it too
            relu.F("not a number", 1, 0)
        assert gmpy2.get_context().precision == 100


def test_numeric_activation_on_the_mpfr_backend_is_the_mehler_series(tmp_path, monkeypatch):
    """A kernel without closed form loads on the mpfr backend (the certified reference's Mehler series,
    symndk.kernels.hermite_mpfr); V and the mean kernel against 1-D mpmath quadrature at 30 digits."""
    import mpmath

    from symndk.certified.numbers import to_mpf, working_digits
    from symndk.codegen.writer import write_activation
    from symndk.spec.dual import DualKernels

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    x = sp.Symbol("x", real=True)
    paths = write_activation("t_mpfr_sig", duals.cache_dir(), 1 / (1 + sp.exp(-x)),
                             DualKernels(None, None, None, None, None, None, "none"))
    assert {p.name for p in paths} == {"t_mpfr_sig.py", "t_mpfr_sig_mpmath.py", "t_mpfr_sig_mpfr.py"}
    sig = duals.load("t_mpfr_sig", "mpfr")
    with working_digits(20):
        V, mean = to_mpf(sig.V(gmpy2.mpfr(1))), to_mpf(sig.Fbar(1, 1))
        assert sig.error_bound() < 1e-18
    with mpmath.workdps(30):
        f = lambda z: mpmath.npdf(z) / (1 + mpmath.exp(-z))  # noqa: E731
        assert abs(V - mpmath.quad(lambda z: f(z) / (1 + mpmath.exp(-z)), [-mpmath.inf, mpmath.inf])) < 1e-19
        assert abs(mean - mpmath.mpf(1) / 4) < 1e-19      # E[sigmoid] = 1/2
    duals.forget("t_mpfr_sig")
    spec = importlib.util.spec_from_file_location("t_mpfr_sig_mpfr", duals.cache_dir() / "t_mpfr_sig_mpfr.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.NUMERIC and module.phi(0) == 0.5  # the closed-form part is generated all the same


def test_unknown_activation_lists_activations_not_backend_modules():
    with pytest.raises(SymndkError) as info:
        duals.load("no_such_activation", "mpfr")
    assert "relu" in str(info.value) and "_mpfr" not in str(info.value) and "_mpmath" not in str(info.value)


@pytest.mark.parametrize("expr", [sp.zeta(sp.Symbol("x")), sp.besselj(0, sp.Symbol("x")), sp.I * sp.Symbol("x"),
                                  sp.Function("f")(sp.Symbol("x")), sp.loggamma(sp.Symbol("x"))])
def test_printer_refuses_what_gmpy2_cannot_compute(expr):
    with pytest.raises(UnsupportedNode):
        MpfrPrinter().doprint(expr)


def test_printer_constants_are_exact():
    printer = MpfrPrinter()
    x = sp.Symbol("x", real=True)
    values = {"_Q1_10": sp.Rational(1, 10), "_Qm3_2": sp.Rational(-3, 2)}
    code = printer.doprint(x / 10 + x ** sp.Rational(-3, 2) * sp.Float("0.1") + sp.Rational(-3, 2))
    float_name = next(n for n in printer.constants if n not in values)
    values[float_name] = sp.Rational(sp.Float("0.1"))  # the binary value, not 1/10
    assert all(n in code for n in values)
    for name, value in values.items():
        constant = eval(printer.constants[name], {"gmpy2": gmpy2})
        assert gmpy2.mpq(constant) == gmpy2.mpq(value.p, value.q)


def test_generated_mpfr_modules_use_only_gmpy2():
    texts = {p.name: p.read_text() for p in GENERATED_DIR.glob("*_mpfr.py")}
    assert len(texts) == len(BUILTIN) + 1  # and _runtime_mpfr.py (user activations registered by other tests live in the cache)
    for name, text in texts.items():
        assert "mpmath" not in text and "numpy" not in text and "import gmpy2" in text, name


def test_user_activation_names_cannot_shadow_backend_modules():
    from symndk.checks.activation import activation_kernel

    with pytest.raises(SymndkError, match="_mpfr"):
        activation_kernel("x", "relu_mpfr")
