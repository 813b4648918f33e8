"""Certified high-precision references: mpfr kernels and decimal parameters in, digits with a certificate out.

In: the generated ``mpfr`` dual kernels and exact (decimal-string) parameters. Out: solutions of
the Volterra equations at 20-30+ digits, certified by two collocation orders (:mod:`.synthetic` for
the synthetic task, :mod:`.general` for small data sets), the shipped tables (:mod:`.tables`), and
their building blocks (:mod:`.numbers`, :mod:`.quadrature`, :mod:`.kernel`, :mod:`.volterra`,
:mod:`.linear`).

Example:
    >>> from symndk.certified.numbers import working_digits, mpfr
    >>> with working_digits(30):
    ...     print(f"{mpfr(1) / 3:.30f}")
    0.333333333333333333333333333333
"""
