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

import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from symndk.codegen.stable import collect_transcendental
from symndk.errors import SymndkError, SymndkWarning
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
        if not self.modules:
            lines.append("  NOT WRITTEN and not registered: the kernels failed (symndk kernel --force keeps them, marked)")
        elif not self.passed:
            lines.append("  kept with --force: loading these kernels warns (SymndkWarning)")
        return "\n".join(lines)


def _readable(expr):
    """The kernel as printed: each transcendental atom times one cancelled coefficient, where that is
    shorter (GELU's F_phi' 297 -> 182 operations; sqrt(q^2 + 2q + 1) becomes q + 1).

    >>> q = sp.Symbol("q", positive=True)
    >>> _readable(q**2 / sp.sqrt(q**2 + 2*q + 1) + q / sp.sqrt(q**2 + 2*q + 1))
    q
    """
    new = collect_transcendental(expr)
    return new if sp.count_ops(new) < sp.count_ops(expr) else expr

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


def check_integrable(expr) -> None:
    """Refuse, in well under a second, an activation whose Gaussian moments do not exist: not
    real or not finite somewhere on the real line (log(x) for x <= 0, 1/x at 0), or growing so fast
    that E[phi(u)^2] diverges at Var u = 1 (exp(x**2)).

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> check_integrable(sp.tanh(x))
    >>> check_integrable(1 / x)
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: phi(x) = 1/x is not integrable against the Gaussian: not finite at x = 0
    """
    from symndk.spec.activations import X

    text = f"phi(x) = {sp.sstr(expr)} is not integrable against the Gaussian"
    try:
        free = expr.free_symbols
        sym = next(iter(free)) if free else X
        f = sp.lambdify(sym, expr, modules="numpy")
    except Exception:  # noqa: BLE001 - functions lambdify cannot print: the checks judge them
        return
    grid = np.concatenate([np.linspace(-40.0, 40.0, 80001), [0.0], np.geomspace(1e-12, 1.0, 25), -np.geomspace(1e-12, 1.0, 25)])
    with np.errstate(all="ignore"):
        try:
            y = np.asarray(np.broadcast_to(f(grid), grid.shape))
        except Exception:  # noqa: BLE001
            return
        if np.iscomplexobj(y) and np.any(np.abs(y.imag) > 0):
            y = np.where(np.abs(y.imag) > 0, np.nan, y.real)
        y = y.astype(float)
        bad = ~np.isfinite(y)
        if bad.any():
            where = grid[bad]
            lo, hi = float(where.min()), float(where.max())
            span = f"x = {lo:g}" if lo == hi else f"x in [{lo:g}, {hi:g}]"
            kind = "not real or not defined" if np.isnan(y[bad]).any() else "not finite"
            raise SymndkError(f"{text}: {kind} at {span}")
        small = np.geomspace(1e-12, 1e-6, 2)
        for sign in (1.0, -1.0):
            a, b = np.abs(f(sign * small)) + 1e-300
            slope = float(np.log(b / a) / np.log(small[1] / small[0]))
            if slope <= -0.5 + 1e-3 and b > 1e3:
                raise SymndkError(f"{text}: not finite near x = 0 (|phi| grows like |x|^{slope:.1f}; E[phi(u)^2] diverges)")
        z = np.array([10.0, 20.0, 30.0, 40.0])
        for sign in (1.0, -1.0):
            g = np.log(np.abs(np.asarray(f(sign * z), dtype=float)) + 1e-300) - z * z / 4
            if np.all(np.diff(g) > 0) and g[-1] > 0:
                raise SymndkError(f"{text}: |phi(x)| grows like e^(x^2/4) or faster as x -> {'+' if sign > 0 else '-'}inf "
                                  f"(E[phi(u)^2] diverges at Var u = 1)")


def _generate(write_activation, name, staging, expr, dual, timeout):
    """(paths, dual) of the modules ``write_activation`` generates into ``staging``, in a child process
    allowed ``timeout`` seconds (:func:`symndk.spec.timebox.timeboxed`): past it, the staging folder is
    emptied and the modules are generated for numerically evaluated kernels (all closed forms dropped),
    with a warning; a failure is one error line."""
    from symndk.spec.dual import DualKernels
    from symndk.spec.timebox import timeboxed

    status, value = timeboxed(write_activation, (name, staging, expr, dual), timeout)
    if status == "ok":
        return value, dual
    if status == "error":
        raise SymndkError(f"generating the kernels of {name!r} failed: {value}")
    for path in staging.iterdir():                     # staging is symndk's own fresh folder
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    warnings.warn(f"activation {name!r}: generating code for its closed-form kernels took more than {timeout:g} s; "
                  "its kernels are evaluated numerically instead (raise --timeout to wait longer)",
                  SymndkWarning, stacklevel=3)
    numeric = DualKernels(None, None, None, None, None, None,
                          f"{dual.method}; code generation beyond {timeout:g} s: evaluated numerically")
    return write_activation(name, staging, expr, numeric), numeric


def activation_kernel(expr, name: str, tol: float = 1e-10, timeout: float = 60.0, force: bool = False) -> ActivationKernel:
    """Derive, register, generate, load and check the dual kernels of a new activation.

    Args:
        expr: activation text in ``x`` (restricted syntax) or a SymPy expression in ``x``.
        name: identifier to register it under (not a shipped activation).
        tol: error bound asked of numerically evaluated kernels.
        timeout: seconds allowed to the closed-form derivation, and again to the code generation of what
            it found (whose stable-form analysis expands series of the closed forms); past the second,
            the kernels are evaluated numerically instead (a warning says so).
        force: keep kernels that fail a check or miss ``tol`` (marked: loading them warns).

    The modules are generated into a staging folder and checked there; only kernels that pass
    every check and meet ``tol`` are written into the cache (and stay registered). Failing ones
    are refused: ``modules`` is empty and the activation is unregistered.
    """
    from symndk.checks.kernels import run_checks
    from symndk.codegen.writer import write_activation
    from symndk.kernels import loader as duals_mod
    from symndk.files import write_recorded
    from symndk.spec.activations import X, register_activation, unregister_activation
    from symndk.spec.dual import derive_dual
    from symndk.spec.kinks import kink_points
    from symndk.spec.parser import parse_activation

    _validate_name(name)
    if not tol > 0:
        raise SymndkError(f"--tol must be > 0, got {tol}")
    expr = parse_activation(expr) if isinstance(expr, str) else sp.sympify(expr, strict=True)
    check_integrable(expr)
    act = register_activation(name, expr)
    try:
        dual = derive_dual(act.expr, timeout=timeout)
        cache = duals_mod.cache_dir()
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".staging-{name}-", dir=cache))
        try:
            staged, dual = _generate(write_activation, name, staging, act.expr, dual, timeout)
            numpy_kernels = duals_mod.load(name, "numpy", tol, folder=staging)
            mp_kernels = duals_mod.load(name, "mpmath", tol, folder=staging)
            error = _numeric_error(numpy_kernels) if {"F", "Fdot"} & set(numpy_kernels.NUMERIC) else None
            checks = tuple(run_checks(numpy_kernels, mp_kernels, kinks=kink_points(act.expr)))
            passed = all(c.passed for c in checks) and (error is None or error <= tol)
            paths = ()
            if passed or force:
                texts = {p.name: p.read_text() for p in staged}
                if not passed:
                    failed = [c.name for c in checks if not c.passed] + ([] if error is None or error <= tol
                                                                         else [f"error {error:.1e} > tol {tol:.0e}"])
                    texts[f"{name}.forced"] = "failed: " + ", ".join(failed) + "\n"
                    warnings.warn(f"activation {name!r}: kernels failed {', '.join(failed)}; kept because of --force",
                                  SymndkWarning, stacklevel=2)
                paths = tuple(str(p) for p in write_recorded(cache, texts) if p.suffix == ".py")
            for key in [k for k in duals_mod._LOADED if k[0] == name and k[3] == str(staging)]:
                del duals_mod._LOADED[key]
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        unregister_activation(name)
        raise
    duals_mod.forget(name)
    if not (passed or force):
        unregister_activation(name)
    shown = {k: _readable(getattr(dual, k)) for k in KINDS if getattr(dual, k) is not None}
    formulas = {k: (sp.sstr(e), sp.latex(e)) for k, e in shown.items()}
    return ActivationKernel(
        name=name, expr=sp.sstr(act.expr), dphi=sp.sstr(sp.diff(act.expr, X)),
        closed_form=bool(numpy_kernels.CLOSED_FORM), method=dual.method, formulas=formulas,
        numeric=tuple(numpy_kernels.NUMERIC), error_estimate=error, tol=tol,
        modules=paths, checks=checks,
        duals=duals_mod.load(name, "numpy", tol) if paths else numpy_kernels,
    )


def register_cached(name: str):
    """Register the user activation ``name`` from the kernels ``symndk kernel`` wrote into the cache
    (the recorded expression, hash-checked, re-parsed by the restricted parser; never evaluated), so
    that other processes (``symndk verify --activation NAME``) know it; a no-op for registered names.

    >>> register_cached("relu").name
    'relu'
    """
    from symndk.files import read_recorded
    from symndk.kernels.loader import cache_dir
    from symndk.spec.activations import get_activation, list_activations, register_activation
    from symndk.spec.parser import parse_activation

    check_name(name)
    if name in list_activations():
        return get_activation(name)
    source = read_recorded(cache_dir(), f"{name}.py")
    if source is None:
        return get_activation(name)   # unknown: one SymndkError line naming the known activations
    import ast

    for node in ast.parse(source.decode()).body:   # the EXPR = "..." line of the generated module
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["EXPR"] \
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return register_activation(name, parse_activation(node.value.value))
    raise SymndkError(f"the cached kernels of {name!r} record no expression; regenerate them with symndk kernel")
