"""The input Gram blocks of the two-time kernels in an array-API namespace (issue 16).

:func:`input_blocks` is :func:`symndk.dynamics.twotime.input_kernels` for arrays that live in a
namespace ``xp`` (PyTorch, CuPy, ``array_api_strict``): the norms, the Gram block K_0 and its
determinants D_0 of the rows ``[X_train; X_test]`` against the columns ``X_train`` are computed once, on
the inputs' device, with the standard's functions only (no ``np.unique``, no boolean-mask assignment):

* near-collinear pairs (D_0 < ``NEAR`` |x|^2 |x'|^2, the threshold of the static kernels) are gathered by
  ``nonzero`` and their D_0 recomputed from the difference of the inputs, |x|^2 |d|^2 with d the part of
  x' - x orthogonal to x (the subtraction |x|^2 |x'|^2 - (x.x')^2 keeps only ~1e-4 of D_0 at
  1 - rho = 1e-12);
* identical inputs (x' - x = 0 exactly) are pinned: K_0 = |x|^2 / N0 and D_0 = 0; ``twin`` marks them (the
  recursion's ``same`` at t = s).

The recomputed values go back through a gather, not a scatter: the k-th flagged entry (row-major, the
order of ``nonzero``) reads the k-th value, found by a cumulative sum of the flags.
:func:`max_abs` and :func:`finite` reduce on the device and bring back one number.

Example (two inputs at 1 - rho ~ 1e-12 and a duplicate, in ``array_api_strict``):
    >>> import numpy as np, array_api_strict as xp
    >>> X = xp.asarray(np.array([[1.0, 0.0], [1.0, 2.0 ** -20], [1.0, 0.0]]))
    >>> b = input_blocks(X, X[:0, :], xp)
    >>> float(b.det0[0, 1]), float(b.det0[0, 2]), float(b.gram[0, 2]) == float(b.norm_rows[0])
    (2.2737367544323206e-13, 0.0, True)
"""
from __future__ import annotations

from typing import NamedTuple

from symndk.errors import check_finite
from symndk.kernels.static import NEAR

#: near-collinear pairs per batch of the difference recomputation (its temporaries are BATCH x N0)
BATCH = 1 << 14


class InputBlocks(NamedTuple):
    """Input kernels in one namespace: squared norms / N0 of the rows (R,) and columns (P,), the Gram
    block K_0 (R, P), its determinants D_0 (R, P) and ``twin`` (R, P), True where the inputs are identical."""

    norm_rows: object
    norm_cols: object
    gram: object
    det0: object
    twin: object


def _gather(flags, values, xp):
    """An array shaped like ``flags`` holding ``values[k]`` at the k-th True entry (row-major order, that of
    ``nonzero``); elsewhere some entry of ``values`` (the caller selects with ``where``)."""
    pos = xp.cumulative_sum(xp.astype(xp.reshape(flags, (-1,)), xp.int64)) - 1
    return xp.reshape(xp.take(values, xp.clip(pos, min=0), axis=0), flags.shape)


def input_blocks(X_train, X_test, xp) -> InputBlocks:
    """The input kernels of rows [X_train; X_test] x columns X_train in namespace ``xp`` (arrays of ``xp``;
    see the module docstring)."""
    X_train = xp.astype(X_train, xp.float64)
    n0 = X_train.shape[1]
    rows = xp.concat([X_train, xp.reshape(xp.astype(X_test, xp.float64), (-1, n0))], axis=0)
    norm_rows = xp.sum(rows * rows, axis=1) / n0
    norm_cols = norm_rows[: X_train.shape[0]]
    gram = rows @ xp.matrix_transpose(X_train) / n0
    prod = norm_rows[:, None] * norm_cols[None, :]
    det0 = xp.clip(prod - gram * gram, min=0.0)
    near = det0 < NEAR * prod
    i, j = xp.nonzero(near)
    if i.shape[0] == 0:
        return InputBlocks(norm_rows, norm_cols, gram, det0, near)
    fixed, twin = [], []
    for a in range(0, i.shape[0], BATCH):
        part = slice(a, min(a + BATCH, i.shape[0]))
        x = xp.take(rows, i[part], axis=0)
        d = xp.take(X_train, j[part], axis=0) - x
        twin.append(xp.all(d == 0, axis=1))
        xx = xp.sum(x * x, axis=1)
        d = d - (xp.sum(x * d, axis=1) / xx)[:, None] * x
        fixed.append(xx * xp.sum(d * d, axis=1) / n0 ** 2)
    fixed, twin = xp.concat(fixed), xp.concat(twin)
    det0 = xp.where(near, _gather(near, fixed, xp), det0)
    pin = near & _gather(near, twin, xp)
    gram = xp.where(pin, xp.broadcast_to(norm_rows[:, None], gram.shape), gram)
    det0 = xp.where(pin, xp.zeros_like(det0), det0)
    return InputBlocks(norm_rows, norm_cols, gram, det0, pin)


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
