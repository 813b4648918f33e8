"""The input Gram determinant of nearly collinear pairs, without cancellation (docs/numerics.md §5).

D_0 = |x|^2 |x'|^2 / N0^2 - (x.x' / N0)^2 loses all its digits as |rho| -> 1 when computed by that
subtraction (at 1 - rho = 1e-12 only ~1e-4 of D_0 is left). With d the part of x' - x orthogonal to x,
D_0 = |x|^2 |d|^2 / N0^2 exactly, and that product has no cancellation. Pairs with
D_0 < ``NEAR`` |x|^2 |x'|^2 / N0^2 (|rho| > ~0.99995) take this route; identical inputs (x' - x = 0
exactly) are flagged, for the callers that pin them to the same-input chain.

:func:`collinear_det` is the formula, written once for every array namespace. :func:`gram_blocks` builds
whole input blocks with it in any namespace, with the standard's functions only (the near pairs gathered by
``nonzero``, written back by a gather on a cumulative sum of the flags: no boolean-mask assignment); the
static kernels' device path and the two-time kernels (:mod:`symndk.dynamics.device`) use it, and the
static kernels' NumPy chunks call :func:`collinear_det` on their own gather.

Example (1 - rho ~ 2e-26: the subtraction gives 0, the difference 2.5e-27):
    >>> import numpy as np
    >>> a, b = np.array([[1.0, 0.0]]), np.array([[1.0, 1e-13]])
    >>> D, twin = collinear_det(a, b, np)
    >>> float(D[0]), float((a @ a.T * (b @ b.T) / 4 - (a @ b.T / 2) ** 2)[0, 0]), bool(twin[0])
    (2.5e-27, 0.0, False)
"""
from __future__ import annotations

from typing import NamedTuple

#: pairs with D_0 < NEAR * q1 q2 (|rho| > ~0.99995) get D_0 from the difference of the inputs
NEAR = 1e-4


def collinear_det(a, b, xp):
    """(D_0, twin) of the row pairs (a[k], b[k]) (arrays (n, N0) of namespace ``xp``): the input Gram
    determinant |a|^2 |d|^2 / N0^2 (d = the part of b - a orthogonal to a) and whether b - a = 0 exactly."""
    n0 = a.shape[1]
    d = b - a
    twin = xp.all(d == 0, axis=1)
    aa = xp.sum(a * a, axis=1)
    d = d - (xp.sum(a * d, axis=1) / aa)[:, None] * a
    return aa * xp.sum(d * d, axis=1) / n0 ** 2, twin


#: near-collinear pairs per batch of the difference recomputation (its temporaries are BATCH x N0)
BATCH = 1 << 14


class GramBlocks(NamedTuple):
    """Input kernels in one namespace: squared norms / N0 of the rows (R,) and columns (P,), the Gram
    block K_0 (R, P), its determinants D_0 (R, P) and ``twin`` (R, P), True where the inputs are identical
    (there K_0 = |x|^2 / N0 and D_0 = 0 exactly)."""

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


def gram_blocks(rows, cols, xp) -> GramBlocks:
    """The input kernels of ``rows`` (R, N0) against ``cols`` (P, N0), float64 arrays of namespace ``xp``.

    Example (a pair at 1 - rho ~ 1e-12 and a duplicate, in ``array_api_strict``):
        >>> import numpy as np, array_api_strict as xp
        >>> X = xp.asarray(np.array([[1.0, 0.0], [1.0, 2.0 ** -20], [1.0, 0.0]]))
        >>> b = gram_blocks(X, X, xp)
        >>> float(b.det0[0, 1]), float(b.det0[0, 2]), bool(b.twin[0, 2]), bool(b.twin[0, 1])
        (2.2737367544323206e-13, 0.0, True, False)
    """
    n0 = rows.shape[1]
    norm_rows, norm_cols = xp.sum(rows * rows, axis=1) / n0, xp.sum(cols * cols, axis=1) / n0
    gram = rows @ xp.matrix_transpose(cols) / n0
    prod = norm_rows[:, None] * norm_cols[None, :]
    det0 = xp.clip(prod - gram * gram, min=0.0)
    near = det0 < NEAR * prod
    i, j = xp.nonzero(near)
    if i.shape[0] == 0:
        return GramBlocks(norm_rows, norm_cols, gram, det0, near)
    fixed, twin = [], []
    for a in range(0, i.shape[0], BATCH):
        part = slice(a, min(a + BATCH, i.shape[0]))
        D, same = collinear_det(xp.take(rows, i[part], axis=0), xp.take(cols, j[part], axis=0), xp)
        fixed.append(D)
        twin.append(same)
    fixed, twin = xp.concat(fixed), xp.concat(twin)
    det0 = xp.where(near, _gather(near, fixed, xp), det0)
    pin = near & _gather(near, twin, xp)
    gram = xp.where(pin, xp.broadcast_to(norm_rows[:, None], gram.shape), gram)
    det0 = xp.where(pin, xp.zeros_like(det0), det0)
    return GramBlocks(norm_rows, norm_cols, gram, det0, pin)
