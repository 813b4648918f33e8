"""Binary tasks from scikit-learn's bundled 8x8 handwritten digits (no download; extra ``symndk[data]``).

Example:
    >>> ds = digits(0, 1, n_per_class=5, n_test_per_class=3)
    >>> ds.X_train.shape, ds.X_test.shape, ds.y_train.tolist()
    ((10, 64), (6, 64), [1.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0])
"""
from __future__ import annotations

import numpy as np

from symndk.data.core import Dataset, binary_task, check_classes, check_count
from symndk.errors import SymndkError


def digits(a: int, b: int, n_per_class: int = 50, n_test_per_class: int = 50, seed: int = 0,
           normalise: str = "each") -> Dataset:
    """Binary task ``a`` (label +1) vs ``b`` (label -1) from scikit-learn's bundled 8x8 digits.

    Examples are drawn without replacement with ``numpy.random.default_rng(seed)``; training and
    test sets are disjoint; rows are grouped by class, class ``a`` first. Pixels (0..16) are
    scaled to [0, 1], then by ``normalise`` (:mod:`symndk.data.normalise`): ``"each"`` (the
    default here) puts every input at ``|x|^2 / N0 = 1``; ``"global"`` scales all inputs by one
    factor so that the training inputs have mean ``|x|^2 / N0 = 1`` (input norms, and the task
    information they carry, are kept; the representational-drift reproduction needs them);
    ``"center"`` and ``"standardize"`` centre (and standardise) pixels first.

    Example:
        >>> ds = digits(0, 1, n_per_class=5, n_test_per_class=3)
        >>> bool(np.allclose((ds.X_train ** 2).sum(axis=1) / 64, 1.0)), ds.metadata["normalise"]
        (True, 'each')
        >>> g = digits(0, 1, n_per_class=5, n_test_per_class=0, normalise="global")
        >>> round(float(np.mean((g.X_train ** 2).sum(axis=1) / 64)), 12)
        1.0
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - depends on the environment
        raise SymndkError("digits() needs scikit-learn: pip install 'symndk[data]'") from None
    check_classes(a, b)
    check_count("n_per_class", n_per_class, 1)
    check_count("n_test_per_class", n_test_per_class, 0)
    bunch = load_digits()
    tag = "" if normalise == "each" else f", {normalise} scale"
    return binary_task(bunch.data, bunch.target, a, b, n_per_class=n_per_class, n_test_per_class=n_test_per_class,
                       seed=seed, normalise=normalise, scale=16.0, source="scikit-learn digits (8x8)",
                       name=f"digits({a} vs {b}, n={n_per_class}, seed={seed}{tag})")
