"""Compiled fused layer maps: the generated C kernels (:mod:`symndk.codegen.native`) behind the numpy API.

:func:`accelerate` returns the numpy duals with ``kernels`` and ``layer`` dispatching to the activation's
C kernels where the arguments have the block shape the static kernels and the two-time blocks use
(``q1`` rows x 1, ``q2`` 1 x cols or scalars, ``c`` and ``D`` float64 rows x cols with contiguous rows), or
four contiguous float64 arrays of one shape (the two-time blocks' entries, the pinned diagonal), and to
the numpy functions otherwise. The C source is ``generated/<name>.c`` (or a recorded file of a
runtime-registered activation); it is compiled on first use with the system C compiler (``$CC``, else
``cc``) into ``$XDG_CACHE_HOME/symndk/native``, under a name carrying the SHA-256 of the source, the flags
and the CPU, written atomically with its own SHA-256 recorded beside it, and loaded (only while it matches) by ctypes (which releases the GIL during the call, so the
threads of the static kernels run it in parallel). Without a compiler, or with ``SYMNDK_NATIVE=0``,
everything stays on numpy.

Flags: ``-O3 -march=native -ffp-contract=off`` (vectorised for this CPU, no fused multiply-adds: each
operation rounds as numpy's does) and glibc's vector math (libmvec) where it links. Values agree with
the numpy kernels to a few units in the last place (tests/test_native.py; libmvec's ``atan`` is within
2 ulp, numpy's within 1).

Example:
    >>> import numpy as np
    >>> from symndk.kernels.loader import load
    >>> relu = load("relu")
    >>> q1, q2 = np.array([[1.0], [2.0]]), np.array([[1.0, 3.0, 0.5]])
    >>> c = np.array([[0.5, -1.0, 0.1], [1.0, 2.0, 0.2]])
    >>> F, Fdot, D = relu.layer(q1, q2, c, q1 * q2 - c * c)
    >>> F_np = relu.layer.numpy(q1, q2, c, q1 * q2 - c * c)[0]
    >>> bool(np.allclose(F, F_np, rtol=1e-14, atol=0))
    True
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import subprocess
import tempfile
import types
import warnings
from pathlib import Path

import numpy as np

from symndk.errors import SymndkError, SymndkWarning
from symndk.files import MANIFEST, file_lock, read_recorded, record

FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno", "-fopenmp-simd", "--param=max-completely-peel-times=4",
         "-fPIC", "-shared",
         "-Wl,--no-undefined")
#: tried in order: with glibc's vector math library, then without it
VARIANTS = (("-DSYMNDK_MVEC", "-lmvec", "-lm"), ("-lm",))
#: seconds a compilation may take
COMPILE_TIMEOUT = 120


def enabled() -> bool:
    """False when $SYMNDK_NATIVE is 0 (numpy only)."""
    return os.environ.get("SYMNDK_NATIVE", "1") != "0"


def cache_dir() -> Path:
    """Where compiled kernels are kept ($XDG_CACHE_HOME/symndk/native)."""
    from symndk.kernels.loader import cache_dir as generated

    return generated().parent / "native"


@functools.cache
def _cpu() -> str:
    """What -march=native compiles for: the machine and its CPU flags."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            flags = next((line for line in fh if line.startswith(("flags", "Features"))), "")
    except OSError:
        flags = ""
    return f"{platform.machine()} {flags.strip()}"


def _compile(source: bytes, name: str) -> Path | None:
    """The shared library of ``source`` in :func:`cache_dir` (compiled now if it is not there), or None.

    Libraries are recorded in the folder's manifest (:func:`symndk.files.record`) and loaded only while
    their SHA-256 matches it: a file symndk did not write there is neither loaded nor replaced."""
    compiler, folder = os.environ.get("CC", "cc"), cache_dir()
    for variant in VARIANTS:
        key = hashlib.sha256(b"\0".join([source, " ".join((compiler, *FLAGS, *variant)).encode(), _cpu().encode()]))
        target = folder / f"{name}-{key.hexdigest()[:24]}.so"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            with file_lock(folder / MANIFEST):
                if target.exists():
                    if read_recorded(folder, target.name) is None:
                        warnings.warn(f"{target} was not written by symndk; it is not loaded (the numpy kernels run "
                                      "instead)", SymndkWarning, stacklevel=5)
                        return None
                    return target
                with tempfile.TemporaryDirectory(dir=folder) as tmp:
                    src, out = Path(tmp) / f"{name}.c", Path(tmp) / f"{name}.so"
                    src.write_bytes(source)
                    done = subprocess.run([compiler, *FLAGS, str(src), "-o", str(out), *variant], capture_output=True,
                                          timeout=COMPILE_TIMEOUT, check=False)
                    if done.returncode == 0:
                        os.replace(out, target)   # atomic: a concurrent reader sees the whole file or none
                        record(folder, target.name)
                        return target
        except SymndkError as exc:              # modified after symndk wrote it
            warnings.warn(f"{exc}; the numpy kernels run instead", SymndkWarning, stacklevel=5)
            return None
        except (OSError, subprocess.SubprocessError):
            return None
    return None


def _library(name: str, source: bytes):
    """The loaded C kernels of ``source``, or None (no compiler, or compilation failed)."""
    path = _compile(source, name)
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(str(path))
    except OSError:
        return None
    for fn, n_out in (("symndk_kernels", 2), ("symndk_layer", 3)):
        getattr(lib, fn).argtypes = [ctypes.c_ssize_t] * 2 + [ctypes.c_void_p] * 3 + [ctypes.c_ssize_t, ctypes.c_void_p,
                                                                                   ctypes.c_ssize_t] + [ctypes.c_void_p] * n_out
        getattr(lib, f"{fn}_flat").argtypes = [ctypes.c_ssize_t] + [ctypes.c_void_p] * (4 + n_out)
        for f in (fn, f"{fn}_flat"):
            getattr(lib, f).restype = ctypes.c_int
    return lib


def _vector(q, n, axis):
    """``q`` as a contiguous float64 vector of length ``n`` (one value per row for axis 0, per column for
    axis 1), or None when it is not one value per row/column (or a scalar)."""
    if isinstance(q, np.ndarray):
        if q.dtype != np.float64 or q.ndim > 2:
            return None
        if q.size == 1:
            return np.full(n, q.reshape(()))
        if q.ndim != 2 or q.shape[axis] != n or q.shape[1 - axis] != 1:
            return None
        return np.ascontiguousarray(q.reshape(n))
    if isinstance(q, (float, int)) and not isinstance(q, bool):
        return np.full(n, float(q))
    return None


def _rows(a) -> bool:
    """True for a 2-D float64 array of contiguous rows (any row stride: a column slice of a block)."""
    return isinstance(a, np.ndarray) and a.dtype == np.float64 and a.ndim == 2 and (a.shape[1] == 1 or a.strides[1] == 8) \
        and a.strides[0] % 8 == 0 and a.strides[0] >= 0


def _block(q1, q2, c, D):
    """The C kernels' arguments (rows, cols, q1, q2, c, row stride of c, D, row stride of D), or None (the numpy
    function then runs)."""
    if D is None or not (_rows(c) and _rows(D)) or c.shape != D.shape or not c.size:
        return None
    rows, cols = c.shape
    v1, v2 = _vector(q1, rows, 0), _vector(q2, cols, 1)
    if v1 is None or v2 is None:
        return None
    return rows, cols, v1.ctypes.data, v2.ctypes.data, c.ctypes.data, c.strides[0] // 8, D.ctypes.data, D.strides[0] // 8, \
        (v1, v2)


def _flat(q1, q2, c, D) -> bool:
    """True for four C-contiguous float64 arrays of one shape (one independent entry each)."""
    arrays = (q1, q2, c, D)
    return all(isinstance(a, np.ndarray) and a.dtype == np.float64 and a.flags.c_contiguous and a.shape == c.shape
               for a in arrays) and c.size > 0


def _fused(fn, flat_fn, numpy_fn, n_out):
    """``numpy_fn``'s signature, computed by the C function ``fn`` on blocks (:func:`_block`), by ``flat_fn`` on
    arrays of one shape (:func:`_flat`), else by ``numpy_fn``."""
    def call(q1, q2, c, D=None):
        block = _block(q1, q2, c, D)
        if block is not None:
            compiled, (*args, _keep) = fn, block       # _keep: the vectors the pointers point into
        elif D is not None and _flat(q1, q2, c, D):
            compiled, args = flat_fn, (c.size, q1.ctypes.data, q2.ctypes.data, c.ctypes.data, D.ctypes.data)
        else:
            return numpy_fn(q1, q2, c, D)
        outs = tuple(np.empty(c.shape) for _ in range(n_out))
        if compiled(*args, *(o.ctypes.data for o in outs)) != 0:
            return numpy_fn(q1, q2, c, D)
        return outs

    call.numpy = numpy_fn
    call.__doc__ = f"{numpy_fn.__doc__}\n\n    Compiled (symndk.kernels.native) for blocks; ``.numpy``: the numpy function."
    return call


def accelerate(module, name: str, source: bytes | None):
    """``module`` with ``kernels`` and ``layer`` compiled from the C ``source`` (None, disabled, or no
    compiler: ``module`` itself); ``generated`` is the generated module (the other array namespaces rebind
    its functions, :func:`symndk.backend.namespace.namespace_duals`)."""
    lib = _library(name, source) if source is not None and enabled() else None
    if lib is None:
        return module
    fields = {k: getattr(module, k) for k in dir(module) if not k.startswith("__")}
    fields.update(kernels=_fused(lib.symndk_kernels, lib.symndk_kernels_flat, module.kernels, 2),
                  layer=_fused(lib.symndk_layer, lib.symndk_layer_flat, module.layer, 3),
                  generated=module, library=lib)
    return types.SimpleNamespace(**fields)
