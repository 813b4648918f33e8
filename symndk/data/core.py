"""The :class:`Dataset` every loader returns, and the binary-task draw shared by the image loaders.

Example:
    >>> import numpy as np
    >>> images = np.arange(40.0).reshape(10, 4) + 1
    >>> labels = np.array([0, 1] * 5)
    >>> ds = binary_task(images, labels, 0, 1, n_per_class=2, n_test_per_class=1, seed=0,
    ...                  normalise="each", name="toy", source="arange")
    >>> ds.X_train.shape, ds.y_train.tolist(), ds.metadata["normalise"]
    ((4, 4), [1.0, 1.0, -1.0, -1.0], 'each')
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from symndk.data import normalise as _norm
from symndk.errors import SymndkError


@dataclass(frozen=True)
class Dataset:
    """Training and test arrays of a task.

    Attributes:
        X_train: (P, N0) training inputs.  y_train: (P,) labels.
        X_test: (Q, N0) test inputs.       y_test: (Q,) labels (NaN where unknown).
        name: a short description used in result metadata.
        metadata: where the data came from and how it was scaled (``source``, ``normalise``,
            classes, sizes, seed); JSON-ready.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str
    metadata: dict = field(default_factory=dict)

    @property
    def N0(self) -> int:
        """Input dimension."""
        return int(self.X_train.shape[1])


def check_count(name, n, minimum):
    """``n`` as an int if it is an integer >= ``minimum``, else one :class:`SymndkError` line."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise SymndkError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def check_classes(a, b, n_classes=10, what="digit"):
    """Validate two distinct class labels in ``0 .. n_classes - 1``."""
    for name, d in (("a", a), ("b", b)):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 0 <= d < n_classes:
            raise SymndkError(f"{what} {name} must be an integer 0..{n_classes - 1}, got {d!r}")
    if a == b:
        raise SymndkError(f"the two {what}s must differ, got {a} and {b}")
    return int(a), int(b)


def binary_task(images, labels, a, b, *, n_per_class, n_test_per_class, seed, normalise, name, source,
                scale=1.0, test_images=None, test_labels=None) -> Dataset:
    """Class ``a`` (label +1) vs class ``b`` (label -1) drawn from ``images`` (rows) and ``labels``.

    Examples are drawn without replacement with ``numpy.random.default_rng(seed)``, class ``a``
    first; training and test sets are disjoint. With ``test_images``/``test_labels`` the test
    examples come from that separate split instead. Pixels are divided by ``scale`` (255 for
    8-bit images), then scaled by ``normalise`` (:mod:`symndk.data.normalise`).
    """
    a, b = check_classes(a, b)
    n_per_class = check_count("n_per_class", n_per_class, 1)
    n_test_per_class = check_count("n_test_per_class", n_test_per_class, 0)
    _norm.check_mode(normalise)
    rng = np.random.default_rng(seed)
    separate = test_images is not None
    parts = {"train": ([], []), "test": ([], [])}
    for digit, label in ((a, 1.0), (b, -1.0)):
        idx = np.flatnonzero(labels == digit)
        need = n_per_class + (0 if separate else n_test_per_class)
        if need > idx.size:
            raise SymndkError(f"class {digit} has only {idx.size} examples in {source}, {need} requested")
        pick = rng.permutation(idx)[:need]
        parts["train"][0].append(images[pick[:n_per_class]].astype(float) / scale)
        parts["train"][1].append(np.full(n_per_class, label))
        if separate:
            tidx = np.flatnonzero(test_labels == digit)
            if n_test_per_class > tidx.size:
                raise SymndkError(f"class {digit} has only {tidx.size} test examples in {source}, "
                                  f"{n_test_per_class} requested")
            tpick = rng.permutation(tidx)[:n_test_per_class]
            parts["test"][0].append(test_images[tpick].astype(float) / scale)
        else:
            parts["test"][0].append(images[pick[n_per_class:]].astype(float) / scale)
        parts["test"][1].append(np.full(n_test_per_class, label))
    X_train, y_train = (np.concatenate(p) for p in parts["train"])
    X_test, y_test = (np.concatenate(p) for p in parts["test"])
    X_test = X_test.reshape(-1, X_train.shape[1])
    X_train, X_test = _norm.apply(X_train, X_test, normalise)
    meta = {"source": source, "classes": [a, b], "labels": [1.0, -1.0], "n_per_class": n_per_class,
            "n_test_per_class": n_test_per_class, "seed": seed, "normalise": normalise, "N0": int(X_train.shape[1])}
    return Dataset(X_train, y_train, X_test, y_test, name, meta)
