"""Errors that mean "the user's input is wrong" (reported as one line, CLI exit code 2).

Example:
    >>> from symndk.errors import SymndkError
    >>> try:
    ...     raise SymndkError("T must be >= 0, got -1")
    ... except ValueError as e:
    ...     print(e)
    T must be >= 0, got -1
"""


class SymndkError(ValueError):
    """Bad user input (shapes, values, unknown names, unsafe expressions).

    The CLI prints ``symndk: error: <message>`` and exits with status 2.
    Library callers get an ordinary ``ValueError`` subclass.
    """
