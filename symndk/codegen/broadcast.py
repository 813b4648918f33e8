"""Broadcast-aware grouping of sums and products in the numpy backend (docs/numerics.md, static kernels).

The kernels are called on a column of variances ``q1`` (rows x 1), a row ``q2`` (1 x columns) and full
blocks ``c``, ``D``. NumPy evaluates ``4*D + x1 + x2 + 1`` left to right: every term added to the full
block is one pass over it, so the constant and the two vectors cost three passes where one outer sum
``(x1 + 1) + x2`` costs one. :func:`regroup` rewrites every sum and product of a cse'd body so that the
terms that depend on no argument or on one of ``q1``/``q2`` only are combined first, in named
temporaries (vectors or scalars), before they meet the full blocks. Values are unchanged up to the
order of floating-point operations.

Example (the erf layer's denominator: the constant joins the column, one outer sum):
    >>> import sympy as sp
    >>> q1, q2, D = sp.symbols("q1 q2 D")
    >>> reps, out = regroup([], [4*D + 2*q1 + 2*q2 + 1], {q1: {0}, q2: {1}, D: {0, 1}})
    >>> reps, out
    ([(y0, 2*q1 + 1)], [4*D + 2*q2 + y0])
    >>> regroup([], [4*D + 2*q1], {q1: {0}, D: {0, 1}})  # nothing to gain: unchanged
    ([], [4*D + 2*q1])
"""
from __future__ import annotations

import sympy as sp


def _deps(expr, axes) -> frozenset:
    """The broadcast axes ``expr`` spans (empty: a scalar)."""
    out = frozenset()
    for s in expr.free_symbols:
        out |= axes.get(s, frozenset())
    return out


def regroup(reps, exprs, axes, prefix="y"):
    """``(reps, exprs)`` of a cse'd body with every Add/Mul regrouped by the axes its terms span.

    Args:
        reps: cse assignments [(symbol, expr)] in order.
        exprs: the outputs.
        axes: {argument symbol: set of axes} (e.g. q1: {0}, q2: {1}, c and D: {0, 1}); symbols not in it
            (constants) span none. The temporaries of ``reps`` get the axes of their expressions.
        prefix: name of the new temporaries (``y0``, ``y1``, ...).

    In a sum or product that spans both axes, the terms spanning at most axis 0 (with the scalars)
    and those spanning axis 1 only are each combined into one temporary when there are two or more of
    them; in one spanning a single axis the scalars are combined first. Returns the new assignments
    (the added temporaries placed before their first use) and outputs.
    """
    axes = {k: frozenset(v) for k, v in axes.items()}
    full = frozenset().union(*axes.values()) if axes else frozenset()
    names = sp.numbered_symbols(prefix)
    added: list = []

    def temp(op, terms):
        if len(terms) < 2:
            return list(terms)
        sym = next(names)
        value = op(*terms)
        axes[sym] = _deps(value, axes)
        added.append((sym, value))
        return [sym]

    def tr(e):
        if not e.args or e.is_Atom:
            return e
        args = [tr(a) for a in e.args]
        if args != list(e.args):  # rebuilt only where a term changed (Max, Piecewise, .. stay as they were)
            e = e.func(*args)
        if not isinstance(e, (sp.Add, sp.Mul)) or len(full) < 2:
            return e
        parts = {}
        for a in e.args:
            parts.setdefault(_deps(a, axes), []).append(a)
        scal = parts.pop(frozenset(), [])
        (row_key, col_key) = sorted(full)[:2]
        row, col = parts.pop(frozenset({row_key}), []), parts.pop(frozenset({col_key}), [])
        rest = [a for terms in parts.values() for a in terms]
        if row:
            row, scal = row + scal, []
        elif col:
            col, scal = col + scal, []
        if len(row) + len(col) + len(scal) == len(e.args):  # nothing spans both axes: only the scalars matter
            if not (row and col):
                return e if len(scal) < 2 or len(scal) == len(e.args) else e.func(*temp(e.func, scal), *row, *col)
        new = [*rest, *temp(e.func, row), *temp(e.func, col), *temp(e.func, scal)]
        return e if len(new) == len(e.args) else e.func(*new)

    out_reps = []
    for sym, value in reps:
        value = tr(value)
        out_reps += added
        added.clear()
        axes[sym] = _deps(value, axes)
        out_reps.append((sym, value))
    out = [tr(e) for e in exprs]
    return out_reps + added, out
