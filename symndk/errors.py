"""Errors that mean "the user's input is wrong" (reported as one line, CLI exit code 2).

Example:
    >>> from symndk.errors import SymndkError
    >>> try:
    ...     raise SymndkError("T must be >= 0, got -1")
    ... except ValueError as e:
    ...     print(e)
    T must be >= 0, got -1
"""


class SymndkWarning(UserWarning):
    """A result symndk computed but cannot vouch for to the tolerance asked (for example a numeric
    dual kernel whose error bound exceeds ``tol`` somewhere, or a kernel saved with ``--force``
    although it failed its checks).  Turn it into an error with
    ``warnings.simplefilter("error", SymndkWarning)``.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("kernel error 1e-8 > tol 1e-12", SymndkWarning)
    >>> caught[0].category.__name__, issubclass(SymndkWarning, UserWarning)
    ('SymndkWarning', True)
    """


class SymndkError(ValueError):
    """Bad user input (shapes, values, unknown names, unsafe expressions).

    The CLI prints ``symndk: error: <message>`` and exits with status 2.
    Library callers get an ordinary ``ValueError`` subclass.
    """


def check_finite(name: str, value):
    """Return ``value`` (an array or scalar, or None) if every entry is finite; else raise one
    :class:`SymndkError` line saying that ``name`` overflowed (inf) or is undefined (NaN).

    Public functions call it on their outputs, so a deep network or a huge variance gives a clear
    error instead of a silent inf/NaN.

    >>> check_finite("K", [1.0, 2.0])
    [1.0, 2.0]
    >>> check_finite("NNGP kernel", [1.0, float("inf")])
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: NNGP kernel overflowed: 1 of 2 values are infinite (reduce depth or sigma_sq)
    """
    if value is None:
        return value
    import numpy as np

    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.number):
        arr = np.asarray(arr, dtype=complex if np.iscomplexobj(arr) else float)
    finite = np.isfinite(arr)
    if finite.all():
        return value
    n_nan, n_inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
    what = (f"overflowed: {n_inf} of {arr.size} values are infinite" if n_inf
            else f"is undefined: {n_nan} of {arr.size} values are NaN")
    if n_inf and n_nan:
        what += f" and {n_nan} NaN"
    raise SymndkError(f"{name} {what} (reduce depth or sigma_sq)")
