"""The generated NumPy dual kernels, run in any array-API namespace (NumPy, CuPy, PyTorch, array_api_strict).

The generated modules are plain elementwise code written against the name ``numpy`` (and three
helpers of ``symndk_generated._runtime``). :func:`namespace_duals` rebinds those functions, without
copying or re-reading their source, to a :class:`Shim` that maps each NumPy name to the standard's
(``arctan2`` -> ``atan2``, ...) on the namespace ``xp``, and to array-API versions of the helpers.
So one generated body serves every backend and the equations stay where ``symndk generate`` wrote
them; the fused ``layer`` map, and with it the Gram-determinant carry near rho = 1, comes along.

Differences from the NumPy helpers: ``_patch`` (the near-rho = 1 branch) evaluates its helper on
the whole array and selects with ``where`` (no data-dependent shapes, no host round trip).

Example:
    >>> import array_api_strict as xp
    >>> from symndk.kernels.loader import load
    >>> relu = namespace_duals(load("relu"), xp)
    >>> q = xp.asarray([1.0, 2.0])
    >>> K, Kdot, D = relu.layer(q, q, q, xp.asarray([0.0, 0.0]))
    >>> [float(v) for v in K], [float(v) for v in Kdot]
    ([0.5, 1.0], [0.5, 0.5])
"""
from __future__ import annotations

import functools
import math
import types

from symndk.errors import SymndkError

#: NumPy name -> array-API name, where they differ
RENAMES = {"arctan2": "atan2", "arctan": "atan", "arcsin": "asin", "arccos": "acos", "arctanh": "atanh",
           "arcsinh": "asinh", "arccosh": "acosh", "absolute": "abs", "power": "pow"}
#: the duals API rebound (the rest of a module is data)
FUNCTIONS = ("F", "Fdot", "Fbar", "V", "Vdot", "kernels", "layer")


def _device(x):
    from array_api_compat import device

    return device(x)


class Shim:
    """``numpy.<name>`` for generated code, on the array-API namespace ``xp``; Python numbers among the
    arguments become arrays of the other arguments' dtype and device."""

    pi = math.pi
    e = math.e

    def __init__(self, xp):
        self._xp = xp

    def _arrays(self, *args):
        xp = self._xp
        ref = next((a for a in args if hasattr(a, "dtype") and hasattr(a, "shape")), None)
        if ref is None:
            return [xp.asarray(a, dtype=xp.float64) for a in args]
        dtype = ref.dtype if xp.isdtype(ref.dtype, "real floating") else xp.float64
        return [a if hasattr(a, "dtype") and hasattr(a, "shape") else xp.asarray(a, dtype=dtype, device=_device(ref))
                for a in args]

    def __getattr__(self, name):
        xp = self._xp
        fn = getattr(xp, RENAMES.get(name, name), None)
        if fn is None:
            raise SymndkError(f"the array namespace {xp.__name__} has no {name!r} (used by a generated kernel)")
        if not callable(fn):
            return fn
        return lambda *args: fn(*self._arrays(*args))

    def where(self, cond, x, y):
        x, y = self._arrays(x, y)
        return self._xp.where(cond, x, y)

    def heaviside(self, x, h0):
        xp = self._xp
        one, half, zero = self._arrays(x, 1.0, h0, 0.0)[1:]
        return xp.where(x > 0, one, xp.where(x == 0, half, zero))


def _gram(xp):
    def _gram(q1, q2, c, D):
        """D = q1 q2 - c^2 unless given, clipped at 0."""
        D = q1 * q2 - c * c if D is None else D
        return xp.clip(D, min=0.0) if hasattr(D, "dtype") else max(D, 0.0)  # clip: scalar bounds since 2023.12
    return _gram


def _full(xp):
    def _full(value, *args):
        """Broadcast a value that does not depend on every argument to the arguments' shape."""
        arrays = [a for a in args if hasattr(a, "shape")]
        if not arrays:
            return value + 0.0 * sum(args)
        shape = xp.broadcast_arrays(*arrays)[0].shape
        return value + xp.zeros(shape, dtype=arrays[0].dtype, device=_device(arrays[0]))
    return _full


def _near(xp):
    def _near(D, c, q1, q2, k):
        """The mask D < k c^2 (no early test: that would bring a number back from the device)."""
        return D < k * c * c
    return _near


def _patch(xp):
    def _patch(value, mask, helper, *args):
        """Where ``mask`` holds, ``helper(*args)`` (computed everywhere, selected by where)."""
        return xp.where(mask, helper(*args), value)
    return _patch


class _NumpyOnly:
    """Stands for SciPy in rebound kernels: any use is refused in one line."""

    def __init__(self, activation, name, xp):
        self._refuse = _numpy_only(activation, name, xp)

    def __getattr__(self, attr):
        self._refuse()


def _numpy_only(activation, helper, xp):
    def refuse(*args, **kwargs):
        raise SymndkError(f"activation {activation!r}: its kernels use {helper}, which runs in NumPy only, "
                          f"not in {xp.__name__} (use the NumPy backend)")
    return refuse


@functools.cache
def _rebind(module, xp):
    g = dict(vars(module)) if isinstance(module, types.ModuleType) else None
    if g is None or not getattr(module, "CLOSED_FORM", False) or getattr(module, "NUMERIC", ()):
        raise SymndkError(f"activation {getattr(module, 'NAME', module)!r}: only closed-form kernels run in other "
                          f"array namespaces (numeric kernels are NumPy-only)")
    for name, value in list(g.items()):  # other shared helpers (NumPy/SciPy-only) refuse, in one line, when called
        if isinstance(value, types.FunctionType) and value.__module__.endswith("._runtime"):
            g[name] = _numpy_only(module.NAME, name, xp)
    if "scipy" in g:
        g["scipy"] = _NumpyOnly(module.NAME, "scipy", xp)
    g.update(numpy=Shim(xp), _gram=_gram(xp), _full=_full(xp), _near=_near(xp), _patch=_patch(xp), __name__=f"{module.__name__}@{xp.__name__}")
    for name, value in list(g.items()):
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            g[name] = types.FunctionType(value.__code__, g, name, value.__defaults__, value.__closure__)
    return types.SimpleNamespace(NAME=module.NAME, CLOSED_FORM=True, ODD=module.ODD,
                                 **{k: g[k] for k in FUNCTIONS if k in g}, namespace=xp)


def namespace_duals(duals, xp):
    """The dual kernels of a loaded generated module (:func:`symndk.kernels.loader.load`) on namespace ``xp``
    (an array-API namespace: ``array_api_compat.array_namespace(x)``, ``array_api_strict``, ...)."""
    import numpy

    if xp is numpy:
        return duals
    return _rebind(getattr(duals, "generated", duals), xp)   # the module behind compiled kernels (kernels.native)
