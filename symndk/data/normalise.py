"""Input scalings of real-image tasks; every loader takes ``normalise=`` and records it.

The input kernel convention is ``K_0(x, x') = x . x' / N0``. Pixels are first scaled to [0, 1]
by the loader; then one of:

* ``"global"``: one factor for all inputs, so that the *training* inputs have mean
  ``|x|^2 / N0 = 1``. Input norms, and the task information they carry, are kept (the
  representational-drift reproduction needs them; docs/theory.md §F).
* ``"each"``: every input scaled to ``|x|^2 / N0 = 1`` (norms removed).
* ``"center"``: the mean training image is subtracted, then the global scale.
* ``"standardize"``: each pixel centred and divided by its training standard deviation (pixels
  constant over the training set are left at 0), then the global scale.

Statistics (mean image, pixel spread, global factor) come from the training inputs only and are
applied unchanged to the test inputs.

Example:
    >>> import numpy as np
    >>> X = np.array([[3.0, 4.0], [0.0, 1.0]])
    >>> Xt, _ = apply(X, X[:0], "global")
    >>> round(float(np.mean((Xt ** 2).sum(axis=1) / 2)), 12)
    1.0
    >>> apply(X, X[:0], "each")[0].round(6).tolist()
    [[0.848528, 1.131371], [0.0, 1.414214]]
    >>> apply(X, X, "l2")
    Traceback (most recent call last):
    ...
    symndk.errors.SymndkError: normalise must be one of 'global', 'each', 'center', 'standardize', got 'l2'
"""
from __future__ import annotations

import math

import numpy as np

from symndk.errors import SymndkError

#: the accepted ``normalise=`` values, in the order the documentation lists them.
MODES = ("global", "each", "center", "standardize")


def check_mode(normalise) -> str:
    """``normalise`` if it is one of :data:`MODES`, else one :class:`SymndkError` line."""
    if not isinstance(normalise, str) or normalise not in MODES:
        raise SymndkError(f"normalise must be one of {', '.join(repr(m) for m in MODES)}, got {normalise!r}")
    return normalise


def _each(X: np.ndarray) -> np.ndarray:
    if not X.size:
        return X
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise SymndkError("an input has zero norm and cannot be normalised to |x|^2/N0 = 1")
    return X * (math.sqrt(X.shape[1]) / norms)


def apply(X_train, X_test, normalise: str):
    """``(X_train, X_test)`` scaled by ``normalise`` (statistics from ``X_train`` only)."""
    check_mode(normalise)
    X_train = np.asarray(X_train, float)
    X_test = np.asarray(X_test, float).reshape(-1, X_train.shape[1])
    if normalise == "each":
        return _each(X_train), _each(X_test)
    if normalise in ("center", "standardize"):
        mean = X_train.mean(axis=0)
        X_train, X_test = X_train - mean, X_test - mean
        if normalise == "standardize":
            sd = X_train.std(axis=0)
            sd = np.where(sd > 0, sd, 1.0)
            X_train, X_test = X_train / sd, X_test / sd
    msq = float(np.mean(np.einsum("ij,ij->i", X_train, X_train)))
    if not msq > 0:
        raise SymndkError("the training inputs are all zero and cannot be scaled to mean |x|^2/N0 = 1")
    scale = math.sqrt(X_train.shape[1] / msq)
    return X_train * scale, X_test * scale
