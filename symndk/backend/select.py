"""Which array namespace a computation runs in.

Inputs that are not NumPy arrays (a ``torch.Tensor``, a CuPy array, an ``array_api_strict`` array)
run in their own namespace, on their device, and the results stay there. NumPy inputs run in NumPy
unless ``backend=`` (or the environment variable ``SYMNDK_BACKEND``) names another namespace:
``torch``, ``cupy`` or ``array_api_strict``; then they are moved there once, to the device named by
``SYMNDK_DEVICE`` (e.g. ``cuda``) if set.

Example:
    >>> import numpy as np
    >>> xp, (a,) = resolve([np.ones(2)])
    >>> xp.__name__, type(a).__name__
    ('numpy', 'ndarray')
    >>> xp, (a,) = resolve([np.ones(2)], "array_api_strict")
    >>> xp.__name__, float(xp.sum(a))
    ('array_api_strict', 2.0)
    >>> resolve([np.ones(2)], "tensorflow")
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: backend must be one of numpy, array_api_strict, torch, cupy; got 'tensorflow'
"""
from __future__ import annotations

import importlib
import os

import numpy as np

from symndk.errors import SymndkError

#: backend name -> the module that is its array-API namespace
NAMESPACES = {"numpy": "numpy", "array_api_strict": "array_api_strict", "torch": "array_api_compat.torch",
              "cupy": "array_api_compat.cupy"}


def namespace(name: str):
    """The array-API namespace of a backend name (a key of :data:`NAMESPACES`)."""
    if name not in NAMESPACES:
        raise SymndkError(f"backend must be one of {', '.join(NAMESPACES)}; got {name!r}")
    try:
        return importlib.import_module(NAMESPACES[name])
    except ImportError:
        raise SymndkError(f"backend {name!r} is not installed (pip install {name.replace('_', '-')} "
                          f"array-api-compat)") from None


def resolve(arrays, backend=None):
    """``(xp, arrays)``: the namespace to run in and the inputs there (None entries kept).

    ``backend``: None (the inputs' namespace; NumPy inputs follow ``SYMNDK_BACKEND``, default numpy)
    or a key of :data:`NAMESPACES`.
    """
    given = [a for a in arrays if a is not None]
    foreign = [a for a in given if not isinstance(a, (np.ndarray, list, tuple, int, float, np.generic))]
    xp = _namespace_of(foreign)
    if xp is not None:
        if len(foreign) != len(given):
            arrays = [a if a is None or not isinstance(a, (np.ndarray, list, tuple)) else
                      xp.asarray(np.asarray(a, dtype=np.float64), device=_device_of(foreign[0]))
                      for a in arrays]
        return xp, list(arrays)
    name = backend if backend is not None else os.environ.get("SYMNDK_BACKEND", "numpy")
    xp = namespace(name)
    if xp is np:
        return np, list(arrays)
    device = os.environ.get("SYMNDK_DEVICE") or None
    return xp, [None if a is None else xp.asarray(np.asarray(a, dtype=np.float64), device=device) for a in arrays]


def _namespace_of(arrays):
    """The array-API namespace of non-NumPy arrays; None for none, or for array-likes that have none
    (a pandas frame, a nested list: NumPy converts them as before)."""
    if not arrays:
        return None
    try:
        from array_api_compat import array_namespace

        xp = array_namespace(*arrays)
    except (ImportError, TypeError):
        return None
    return None if xp.__name__.endswith("numpy") and "compat" not in xp.__name__ else xp


def _device_of(x):
    from array_api_compat import device

    return device(x)


def to_numpy(x):
    """A host NumPy copy of an array of any namespace (for reports, tests and the small host steps of the
    Volterra solver: CuPy arrays by ``get``, which NumPy's conversions refuse)."""
    if isinstance(x, np.ndarray) or x is None:
        return x
    from array_api_compat import is_cupy_array, is_torch_array

    if is_torch_array(x):
        return x.detach().cpu().numpy()
    if is_cupy_array(x):
        return x.get()
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError):
        return np.from_dlpack(x)
