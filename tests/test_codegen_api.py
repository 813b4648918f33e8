"""New activations: ``symndk kernel`` / ``activation_kernel`` (safe parsing, closed form or numeric, checks)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symndk.checks.activation import activation_kernel
from symndk.errors import SymndkError
from symndk.kernels.quadrature import MehlerSeries, polar_expect2

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _cli(*args, cache):
    return subprocess.run([sys.executable, "-m", "symndk", "kernel", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "XDG_CACHE_HOME": str(cache)})


def test_injection_through_the_cli_is_refused_without_side_effect(tmp_path):
    target = tmp_path / "pwned"
    result = _cli(f"__import__('os').system('touch {target}')", "--name", "evil", cache=tmp_path / "c")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("symndk: error:")
    assert not target.exists() and not (tmp_path / "c").exists()


def test_shipped_names_cannot_be_overwritten():
    with pytest.raises(SymndkError, match="shipped activation"):
        activation_kernel("x", "relu")


def test_closed_form_activation_is_generated_loaded_and_checked(tmp_path):
    result = activation_kernel("0.1*x + 0.9*Max(x, 0)", "t_leaky")
    assert result.closed_form and not result.numeric and result.passed
    assert result.dphi == "9*Heaviside(x)/10 + 1/10"
    assert all(Path(p).parent == tmp_path / "cache" / "symndk" / "generated" for p in result.modules)
    # leaky ReLU closed form (docs/numerics.md §6.6 table) at a point, a = 0.1, b = 1
    q1, q2, c = 1.5, 0.8, 0.4
    th = np.arccos(c / np.sqrt(q1 * q2))
    expected = (0.81 / (2 * np.pi)) * np.sqrt(q1 * q2 - c * c) + ((0.01 + 1) / 2 - 0.81 * th / (2 * np.pi)) * c
    assert abs(result.duals.F(q1, q2, c) - expected) < 1e-15
    assert "\\operatorname{atan}_{2}" in result.formulas["F"][1]


def test_numeric_module_is_filled_by_quadrature_at_load(tmp_path):
    """A module with no closed form (all kernels numeric) loads with the Hermite-series kernels."""
    import sympy as sp

    from symndk.codegen.writer import write_activation
    from symndk.kernels import loader as duals
    from symndk.spec.dual import DualKernels

    x = sp.Symbol("x", real=True)
    write_activation("t_sig", duals.cache_dir(), 1 / (1 + sp.exp(-x)), DualKernels(None, None, None, None, None, None, "none"))
    mod = duals.load("t_sig", tol=1e-11)
    assert not mod.CLOSED_FORM and set(mod.NUMERIC) == {"F", "Fdot", "Fbar", "V", "Vdot"}
    q1, q2, c = np.array([0.5, 2.0]), np.array([1.5, 2.0]), np.array([0.3, 2.0])
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert np.all(np.abs(mod.F(q1, q2, c) - polar_expect2(sig, sig, q1, q2, c)) <= 1e-11)  # the requested tol
    F, Fdot, gram = mod.layer(q1, q2, c)
    np.testing.assert_allclose(gram, mod.V(q1) * mod.V(q2) - F**2, atol=1e-14)
    assert mod.error_estimate() <= 1e-11


@pytest.mark.slow
def test_numeric_activation_meets_its_error_bound():
    result = activation_kernel("tanh(x)", "t_tanh", tol=1e-10)
    assert not result.closed_form and {"F", "Fdot"} <= set(result.numeric)
    assert result.error_estimate <= 1e-10 and result.passed
    report = result.report()
    assert "error estimate" in report and "all checks passed" in report


@pytest.mark.parametrize("tol", [1e-4, 1e-8, 1e-12])
def test_mehler_error_bound_is_honest(tol):
    """The Parseval tail bound really bounds the error (independent polar quadrature), up to rho = +-1."""
    series = MehlerSeries(np.tanh, tol)
    q1, q2 = np.array([0.5, 4.0, 4.0, 1.0]), np.array([2.0, 4.0, 4.0, 1.0])
    rho = np.array([0.9, 1.0, -1.0, 0.999])
    c = rho * np.sqrt(q1 * q2)
    value, bound = series.evaluate(q1, q2, c)
    exact = polar_expect2(np.tanh, np.tanh, q1, q2, c)
    assert np.all(np.abs(value - exact) <= bound + 2e-15)
    assert bound.max() <= tol


@pytest.mark.slow
@pytest.mark.parametrize("expr", ["tanh(x)", "x*erf(x)", "0.1*x + 0.9*Max(x, 0)", "x**3"])
def test_the_four_examples_from_the_issue(expr, tmp_path):
    result = _cli(expr, "--name", "example", "--tol", "1e-10", cache=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for fragment in ("phi'(x) =", "module:", "all checks passed"):
        assert fragment in result.stdout
