"""The input Gram blocks of the two-time kernels in an array-API namespace (issue 16).

:func:`input_blocks` is :func:`symndk.dynamics.twotime.input_kernels` for arrays of any namespace ``xp``
(NumPy, PyTorch, CuPy, ``array_api_strict``): the norms, the Gram block K_0 and its determinants D_0 of
the rows ``[X_train; X_test]`` against the columns ``X_train``, computed once on the inputs' device by
:func:`symndk.kernels.collinear.gram_blocks` (near-collinear pairs get D_0 from the difference of the
inputs, identical ones are pinned: K_0 = |x|^2 / N0, D_0 = 0, ``twin`` True; the recursion's ``same`` at
t = s). :func:`max_abs` and :func:`finite` reduce on the device and bring back one number.

Example (two inputs at 1 - rho ~ 1e-12 and a duplicate, in ``array_api_strict``):
    >>> import numpy as np, array_api_strict as xp
    >>> X = xp.asarray(np.array([[1.0, 0.0], [1.0, 2.0 ** -20], [1.0, 0.0]]))
    >>> b = input_blocks(X, X[:0, :], xp)
    >>> float(b.det0[0, 1]), float(b.det0[0, 2]), float(b.gram[0, 2]) == float(b.norm_rows[0])
    (2.2737367544323206e-13, 0.0, True)
"""
from __future__ import annotations

from symndk.errors import check_finite
from symndk.kernels.collinear import GramBlocks, gram_blocks


def input_blocks(X_train, X_test, xp) -> GramBlocks:
    """The input kernels of rows [X_train; X_test] x columns X_train in namespace ``xp`` (arrays of ``xp``;
    :func:`symndk.kernels.collinear.gram_blocks`)."""
    X_train = xp.astype(X_train, xp.float64)
    rows = xp.concat([X_train, xp.reshape(xp.astype(X_test, xp.float64), (-1, X_train.shape[1]))], axis=0)
    return gram_blocks(rows, X_train, xp)


def max_abs(x, xp) -> float:
    """max |x| (reduced on the device; one number comes back).

    >>> import array_api_strict as xp
    >>> max_abs(xp.asarray([1.0, -3.0]), xp)
    3.0
    """
    return float(xp.max(xp.abs(x)))


def finite(name: str, x, xp):
    """``x`` if every entry is finite (one reduction on the device); else the one-line error of
    :func:`symndk.errors.check_finite`, from a host copy.

    >>> import array_api_strict as xp
    >>> finite("K", xp.asarray([1.0, float("nan")]), xp)
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: K is undefined: 1 of 2 values are NaN (reduce depth or sigma_sq)
    """
    if bool(xp.all(xp.isfinite(x))):
        return x
    from symndk.backend.select import to_numpy

    return check_finite(name, to_numpy(x))
