"""symndk: the Neural Dynamical Kernel as SymPy objects, verified identities, generated
kernels, fast and high-precision solvers, and a finite-width Langevin simulator.

The public API is resolved lazily so that ``import symndk`` stays cheap and the numerics
never pull in SymPy.

Example:
    >>> import symndk
    >>> sorted(n for n in ("predict", "verify") if n in symndk.__all__)
    ['predict', 'verify']
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

__version__ = "0.1.0"


def _source_checkout_generated() -> None:
    """Make ``generated/`` importable as ``symndk_generated`` when running from an uninstalled checkout."""
    if "symndk_generated" in sys.modules or importlib.util.find_spec("symndk_generated") is not None:
        return
    folder = Path(__file__).resolve().parent.parent / "generated"
    if (folder / "__init__.py").is_file():
        spec = importlib.util.spec_from_file_location(
            "symndk_generated", folder / "__init__.py", submodule_search_locations=[str(folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["symndk_generated"] = module
        spec.loader.exec_module(module)


_source_checkout_generated()

#: public name -> "module:attribute"
_LAZY = {
    # symbolic layer / identities
    "get_activation": "symndk.spec.activations:get_activation",
    "register_activation": "symndk.spec.activations:register_activation",
    "dual_kernels": "symndk.spec.dual:dual_kernels",
    "verify": "symndk.checks:verify",
    # new activations + codegen
    "activation_kernel": "symndk.checks.activation:activation_kernel",
    "load_kernels": "symndk.kernels.loader:load",
    # static kernels
    "nngp_kernel": "symndk.kernels.static:nngp_kernel",
    "ntk_kernel": "symndk.kernels.static:ntk_kernel",
    "static_kernels": "symndk.kernels.static:static_kernels",
    # the model and its results
    "Network": "symndk.model:Network",
    "NDK": "symndk.model:NDK",
    "Result": "symndk.results:Result",
    "save_result": "symndk.results:save",
    "load_result": "symndk.results:load",
    # solvers (thin wrappers over NDK)
    "predict": "symndk.api:predict",
    "ntk_dynamics": "symndk.api:ntk_dynamics",
    "ntk_equilibrium": "symndk.api:ntk_equilibrium",
    "nngp_equilibrium": "symndk.api:nngp_equilibrium",
    "drift": "symndk.api:drift",
    "drift_equilibrium": "symndk.api:drift_equilibrium",
    "temporal_correlation": "symndk.api:temporal_correlation",
    "reference": "symndk.certified.synthetic:reference",
    "reference_predict": "symndk.certified.general:reference_predict",
    # simulation
    "simulate": "symndk.langevin.simulator:simulate",
    # data
    "data": "symndk.data",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    try:
        target = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'symndk' has no attribute {name!r}") from None
    modname, _, attr = target.partition(":")
    mod = importlib.import_module(modname)
    value = getattr(mod, attr) if attr else mod
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
