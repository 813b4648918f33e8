"""Kernels for a new activation: parse safely, derive, register, generate, load, check.

:func:`activation_kernel` is the Python API behind ``symndk kernel EXPR --name NAME``:

1. the text goes through the restricted parser (:mod:`symndk.spec.parser`);
2. phi' is derived by SymPy; the closed-form engine (:func:`symndk.spec.dual.derive_dual` with a timeout)
   is tried for F, Fdot, the mean and V;
3. the activation is registered, its numpy, mpmath and mpfr modules are generated into the cache
   (:func:`symndk.kernels.loader.cache_dir`) and loaded; what has no closed form is evaluated
   numerically (Hermite series with a Parseval error bound; mpmath polar quadrature);
4. the registry checks (:mod:`symndk.checks.kernels`) run on the result.

Example:
    >>> result = activation_kernel("x**3", "doc_cube")
    >>> result.closed_form, result.dphi
    (True, '3*x**2')
    >>> all(c.passed for c in result.checks)
    True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symndk.errors import SymndkError
from symndk.names import check_name

KINDS = ("F", "Fdot", "mean", "V", "Vdot")


@dataclass(frozen=True)
class ActivationKernel:
    """What ``symndk kernel`` reports for one activation."""

    name: str
    expr: str
    dphi: str
    closed_form: bool
    method: str
    formulas: dict = field(repr=False)  # kind -> (text, LaTeX) of the closed forms derived
    numeric: tuple[str, ...]
    error_estimate: float | None
    tol: float
    modules: tuple[str, ...]
    checks: tuple = field(repr=False)
    duals: object = field(repr=False, default=None)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks) and (self.error_estimate is None or self.error_estimate <= self.tol)

    def report(self) -> str:
        """Human-readable summary: derivative, kernels (with LaTeX), module paths, checks."""
        lines = [f"activation {self.name}: phi(x) = {self.expr}", f"  phi'(x) = {self.dphi}",
                 f"  derivation: {self.method}"]
        for kind in KINDS:
            if kind in self.formulas:
                text, latex = self.formulas[kind]
                lines += [f"  {kind} = {text}", f"      LaTeX: {latex}"]
        if "dphi" in self.numeric:
            lines.append("  phi' is a distribution: no pointwise phi' (Fdot from the closed form only)")
        kernels = [k for k in self.numeric if k != "dphi"]
        if kernels:
            lines.append(f"  numeric (no closed form): {', '.join(kernels)}"
                         + ("" if self.error_estimate is None else f"; error estimate {self.error_estimate:.1e} "
                            f"(tol {self.tol:.0e}) over q in [0.25, 4], rho in [-1, 1]"))
        lines += [f"  module: {m}" for m in self.modules]
        lines += ["  " + c.line() for c in self.checks]
        lines.append(f"  {'all checks passed' if self.passed else 'SOME CHECKS FAILED'}")
        return "\n".join(lines)


def _validate_name(name: str) -> None:
    import importlib.util

    check_name(name)
    if importlib.util.find_spec(f"symndk_generated.{name}") is not None:
        raise SymndkError(f"{name!r} is a shipped activation; choose another --name")


def _numeric_error(duals) -> float:
    """Evaluate the numeric functions on a grid (rho = +-1 included) and return their error bound."""
    q = np.array([0.25, 1.0, 4.0])
    rho = np.linspace(-1.0, 1.0, 21)
    Q1, Q2, R = np.meshgrid(q, q, rho, indexing="ij")
    duals.F(Q1, Q2, R * np.sqrt(Q1 * Q2))
    if "Fdot" in duals.NUMERIC:
        duals.Fdot(Q1, Q2, R * np.sqrt(Q1 * Q2))
    return duals.error_estimate()


def activation_kernel(expr, name: str, tol: float = 1e-10, timeout: float = 60.0) -> ActivationKernel:
    """Derive, register, generate, load and check the dual kernels of a new activation.

    Args:
        expr: activation text in ``x`` (restricted syntax) or a SymPy expression in ``x``.
        name: identifier to register it under (not a shipped activation).
        tol: error bound asked of numerically evaluated kernels.
        timeout: seconds allowed to the closed-form derivation.
    """
    from symndk.checks.kernels import run_checks
    from symndk.codegen.writer import write_activation
    from symndk.kernels import loader as duals_mod
    from symndk.spec.activations import X, register_activation
    from symndk.spec.dual import derive_dual
    from symndk.spec.parser import parse_activation

    _validate_name(name)
    if not tol > 0:
        raise SymndkError(f"--tol must be > 0, got {tol}")
    expr = parse_activation(expr) if isinstance(expr, str) else sp.sympify(expr, strict=True)
    act = register_activation(name, expr)
    dual = derive_dual(act.expr, timeout=timeout)
    paths = write_activation(name, duals_mod.cache_dir(), act.expr, dual)
    duals_mod.forget(name)
    numpy_kernels, mp_kernels = duals_mod.load(name, "numpy", tol), duals_mod.load(name, "mpmath", tol)
    error = _numeric_error(numpy_kernels) if {"F", "Fdot"} & set(numpy_kernels.NUMERIC) else None
    formulas = {k: (sp.sstr(getattr(dual, k)), sp.latex(getattr(dual, k))) for k in KINDS if getattr(dual, k) is not None}
    return ActivationKernel(
        name=name, expr=sp.sstr(act.expr), dphi=sp.sstr(sp.diff(act.expr, X)),
        closed_form=bool(numpy_kernels.CLOSED_FORM), method=dual.method, formulas=formulas,
        numeric=tuple(numpy_kernels.NUMERIC), error_estimate=error, tol=tol,
        modules=tuple(str(p) for p in paths), checks=tuple(run_checks(numpy_kernels, mp_kernels)),
        duals=numpy_kernels,
    )
