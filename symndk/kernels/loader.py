"""Load the generated dual kernels of an activation (numpy, mpmath or mpfr backend).

Modules shipped in ``generated/`` import as ``symndk_generated.<name>`` (numpy),
``symndk_generated.<name>_mpmath`` and ``symndk_generated.<name>_mpfr`` (gmpy2); modules generated at
runtime for user activations live in :func:`cache_dir` and are loaded from there (shipped names take
precedence).  Functions a module lists in ``NUMERIC`` (no closed form) are supplied by
:mod:`symndk.kernels.quadrature` (on the mpfr backend: the Mehler series with an error bound of
:mod:`symndk.kernels.hermite_mpfr`, for the certified reference).

Example:
    >>> from symndk.kernels.loader import load
    >>> relu = load("relu")
    >>> float(relu.F(1.0, 1.0, 1.0)), float(relu.Fdot(2.0, 3.0, 0.0))
    (0.5, 0.25)
    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     print(load("erf", "mpmath").Fdot(1, 1, 0))
    0.424413181578387562050356702327
    >>> import gmpy2
    >>> with gmpy2.context(precision=100):
    ...     print(load("erf", "mpfr").Fdot(1, 1, 0))
    0.4244131815783875620503567023268
"""
from __future__ import annotations

import importlib
import os
import types
import warnings
from pathlib import Path

from symndk.errors import SymndkError, SymndkWarning
from symndk.files import read_recorded
from symndk.names import check_name

BACKENDS = ("numpy", "mpmath", "mpfr")
API = ("NAME", "CLOSED_FORM", "ODD", "phi", "dphi", "F", "Fdot", "Fbar", "V", "Vdot", "kernels", "layer")
_LOADED: dict[tuple[str, str], object] = {}


def cache_dir() -> Path:
    """Where modules of runtime-registered activations are generated ($XDG_CACHE_HOME/symndk/generated)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "symndk" / "generated"


def module_name(name: str, backend: str) -> str:
    return name if backend == "numpy" else f"{name}_{backend}"


def shipped() -> list[str]:
    """Activations whose modules ship in the package ``symndk_generated`` (sorted)."""
    folder = Path(importlib.import_module("symndk_generated").__file__).parent
    suffixes = tuple(f"_{b}" for b in BACKENDS if b != "numpy")
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_") and not p.stem.endswith(suffixes))


def _import(name: str, backend: str, folder=None):
    """The module of a shipped activation, or one symndk generated into :func:`cache_dir` (or
    ``folder``: the staging folder of a kernel still being checked), hash-verified."""
    modname = module_name(check_name(name), backend)
    if name in shipped() and folder is None:
        return importlib.import_module(f"symndk_generated.{modname}")
    folder = cache_dir() if folder is None else Path(folder)
    source = read_recorded(folder, f"{modname}.py")
    if source is None:
        raise SymndkError(f"no generated kernels for activation {name!r}; generated: {', '.join(shipped())} "
                          f"(new activations: symndk kernel EXPR --name NAME)")
    module = types.ModuleType(f"symndk_cache.{modname}")
    module.__file__ = str(folder / f"{modname}.py")
    forced = read_recorded(folder, f"{name}.forced")
    if forced is not None:
        warnings.warn(f"kernels of activation {name!r} failed their checks and were kept with --force: "
                      f"{forced.decode().strip()}", SymndkWarning, stacklevel=4)
    # the bytes run here are exactly those symndk wrote (SHA-256 checked by read_recorded)
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102
    return module


def _c_source(name: str, folder=None) -> bytes | None:
    """The generated C kernels of an activation (shipped, or recorded where :func:`_import` reads), or None."""
    if name in shipped() and folder is None:
        path = Path(importlib.import_module("symndk_generated").__file__).parent / f"{name}.c"
        return path.read_bytes() if path.is_file() else None
    return read_recorded(cache_dir() if folder is None else Path(folder), f"{name}.c")


def load(name: str, backend: str = "numpy", tol: float = 1e-12, folder=None):
    """Module-like object with the contract API (NAME, CLOSED_FORM, ODD, phi, dphi, F, Fdot, Fbar, V, Vdot)
    plus the fused ``kernels`` (F, Fdot) and ``layer`` (F, Fdot, next Gram determinant); on numpy those two
    run compiled C on blocks where the activation has C kernels and a compiler is found
    (:mod:`symndk.kernels.native`).

    ``tol`` bounds the error of functions evaluated numerically (no closed form); ``folder``
    loads a user activation from that folder instead of :func:`cache_dir` (the new-activation
    pipeline checks kernels there before writing them where they can be loaded).
    """
    if backend not in BACKENDS:
        raise SymndkError(f"backend must be one of {BACKENDS}, got {backend!r}")
    key = (name, backend, tol, None if folder is None else str(folder))
    if key not in _LOADED:
        module = _import(name, backend, folder)
        if backend == "numpy" and not module.NUMERIC:
            from symndk.kernels.native import accelerate

            module = accelerate(module, name, _c_source(name, folder))
        if module.NUMERIC:
            from symndk.kernels.quadrature import numeric_duals

            filled = numeric_duals(module, backend, tol)
            module = types.SimpleNamespace(**{k: getattr(module, k) for k in dir(module) if not k.startswith("__")},
                                           **filled)
        _LOADED[key] = module
    return _LOADED[key]


def forget(name: str) -> None:
    """Drop cached loads of ``name`` (after regenerating its modules)."""
    for key in [k for k in _LOADED if k[0] == name]:
        del _LOADED[key]
