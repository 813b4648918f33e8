"""Numbers of the reference solver: gmpy2 (MPFR) scalars at a fixed working precision.

The reference solver does all its arithmetic on ``gmpy2.mpfr`` (about 15x faster than mpmath's
Python-level mpf at 40 digits) inside :func:`working_digits`, which sets the gmpy2 context *and*
mpmath to the same binary precision; mpmath is used only where gmpy2 has no routine (dense
linear solves, quadrature-node generation, printing).

Example:
    >>> import gmpy2, mpmath
    >>> with working_digits(30):
    ...     third = mpfr(1) / 3
    ...     back, zero = to_mpf(third), to_mpf(mpfr(0))
    ...     x = lu_solve([[mpfr(2), mpfr(1)], [mpfr(1), mpfr(3)]], [mpfr(3), mpfr(4)])
    >>> mpmath.nstr(back, 12), mpmath.nstr(zero), [float(v) for v in x]
    ('0.333333333333', '0.0', [1.0, 1.0])
    >>> isinstance(third, type(gmpy2.mpfr(0))), third.precision
    (True, 103)
"""
from __future__ import annotations

import contextlib
import math

import gmpy2
import mpmath


def bits(dps: int) -> int:
    """Binary precision carrying ``dps`` decimal digits."""
    return int(math.ceil(dps * math.log2(10))) + 3


@contextlib.contextmanager
def working_digits(dps: int):
    """gmpy2 context and mpmath both at :func:`bits` (dps) bits for the duration of the block."""
    prec = bits(dps)
    with gmpy2.context(gmpy2.get_context(), precision=prec), mpmath.workprec(prec):
        yield


def mpfr(x):
    """``x`` (int, float, decimal string, mpmath mpf or gmpy2 mpfr) as an mpfr at the context precision.

    Floats convert exactly (0.01 means the double nearest 0.01); strings round once.
    """
    if isinstance(x, mpmath.mpf):
        sign, man, exp, _ = x._mpf_
        return gmpy2.mul_2exp(gmpy2.mpfr(gmpy2.mpz(-man if sign else man)), exp)
    return gmpy2.mpfr(x)


def to_mpf(x):
    """An mpfr as an mpmath mpf (exact when mpmath's precision is at least the mpfr's)."""
    man, exp = x.as_mantissa_exp()
    return mpmath.mpf((int(man), int(exp)))


def lu_solve(rows, rhs):
    """Solve the dense system ``rows @ x = rhs`` (lists of mpfr) by Gaussian elimination with
    partial pivoting; returns a list of mpfr.

    Written out because mpmath's ``lu_solve`` spends most of its time in matrix indexing (10% of
    a reference run); the systems are small (the collocation order, at most ~60).
    """
    A = [list(row) + [b] for row, b in zip(rows, rhs)]
    n = len(A)
    for k in range(n):
        piv = max(range(k, n), key=lambda i: abs(A[i][k]))
        if A[piv][k] == 0:
            raise ZeroDivisionError("singular collocation system")
        A[k], A[piv] = A[piv], A[k]
        pivot_row = A[k]
        inv = 1 / pivot_row[k]
        for i in range(k + 1, n):
            row = A[i]
            f = row[k] * inv
            if f:
                for j in range(k + 1, n + 1):
                    row[j] -= f * pivot_row[j]
    x = [mpfr(0)] * n
    for k in range(n - 1, -1, -1):
        x[k] = (A[k][n] - gmpy2.fsum(A[k][j] * x[j] for j in range(k + 1, n))) / A[k][k]
    return x
