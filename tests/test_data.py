"""symndk.data: synthetic task (docs/theory.md §10), digits tasks, user arrays."""
import doctest

import numpy as np
import pytest

import symndk
from symndk import data
from symndk.errors import SymndkError


def test_doctests():
    import importlib
    import pkgutil

    attempted = 0
    for info in pkgutil.iter_modules(data.__path__):
        res = doctest.testmod(importlib.import_module(f"symndk.data.{info.name}"), optionflags=doctest.ELLIPSIS)
        assert res.failed == 0, info.name
        attempted += res.attempted
    assert attempted > 15


@pytest.mark.parametrize("P", [1, 2, 5, 10])
@pytest.mark.parametrize("r", [-1.0, 0.0, 0.3, 1.0])
def test_synthetic_geometry(P, r):
    ds = data.synthetic(P, r)
    n0 = P + 1
    assert ds.X_train.shape == (P, n0) and ds.X_test.shape == (1, n0) and ds.N0 == n0
    K = ds.X_train @ ds.X_train.T / n0
    np.testing.assert_allclose(K, np.eye(P), atol=1e-14)
    k = ds.X_test @ ds.X_train.T / n0
    expect = np.zeros(P)
    expect[0] = r
    np.testing.assert_allclose(k[0], expect, atol=1e-14)
    np.testing.assert_allclose(ds.X_test @ ds.X_test.T / n0, [[1.0]], atol=1e-14)
    assert ds.y_train.tolist() == [1.0 if i % 2 == 0 else -1.0 for i in range(P)]
    assert ds.y_test.tolist() == [1.0]


@pytest.mark.parametrize("P, r", [(0, 0.5), (-1, 0.5), (2.5, 0.5), (True, 0.5), (3, 1.5), (3, "x"), (3, float("nan"))])
def test_synthetic_rejects_bad_input(P, r):
    with pytest.raises(SymndkError):
        data.synthetic(P, r)


def test_digits_task():
    ds = data.digits(4, 9)
    assert ds.X_train.shape == (100, 64) and ds.X_test.shape == (100, 64)
    assert (ds.y_train == 1).sum() == 50 and (ds.y_train == -1).sum() == 50
    assert set(ds.y_test.tolist()) == {1.0, -1.0}
    np.testing.assert_allclose((ds.X_train**2).sum(1) / 64, 1.0, rtol=1e-13)
    np.testing.assert_allclose((ds.X_test**2).sum(1) / 64, 1.0, rtol=1e-13)
    # held out: no test row equals a training row (images are distinct samples)
    from sklearn.datasets import load_digits

    raw = load_digits()
    raw_n = raw.data / np.linalg.norm(raw.data, axis=1, keepdims=True) * 8.0
    def index_of(row):
        hits = np.flatnonzero(np.all(np.abs(raw_n - row) < 1e-12, axis=1))
        assert hits.size >= 1
        return set(hits.tolist())
    train_idx = set().union(*(index_of(x) for x in ds.X_train))
    test_idx = set().union(*(index_of(x) for x in ds.X_test))
    assert not (train_idx & test_idx)
    # labels match the digit classes of the source rows
    for x, y in zip(ds.X_train, ds.y_train):
        assert set(raw.target[list(index_of(x))]) == {4 if y > 0 else 9}
    # deterministic in the seed, different across seeds
    np.testing.assert_array_equal(data.digits(4, 9).X_train, ds.X_train)
    assert not np.array_equal(data.digits(4, 9, seed=1).X_train, ds.X_train)


@pytest.mark.parametrize("kw", [dict(a=3, b=3), dict(a=10, b=1), dict(a=0, b=1, n_per_class=0),
                                dict(a=0, b=1, n_per_class=500)])
def test_digits_rejects_bad_input(kw):
    with pytest.raises(SymndkError):
        data.digits(**kw)


def test_load_array_roundtrip(tmp_path):
    a = np.arange(6.0).reshape(2, 3) / 7
    np.save(tmp_path / "a.npy", a)
    np.savetxt(tmp_path / "a.csv", a, delimiter=",")
    np.testing.assert_array_equal(data.load_array(tmp_path / "a.npy"), a)
    np.testing.assert_allclose(data.load_array(str(tmp_path / "a.csv")), a, rtol=1e-15)
    np.save(tmp_path / "i.npy", np.arange(3))
    assert data.load_array(tmp_path / "i.npy").dtype == np.float64


@pytest.mark.parametrize("name, content, match", [
    ("missing.npy", None, "no such file"),
    ("a.txt", "1,2\n", "unsupported"),
    ("bad.csv", "1,2\n3,abc\n", "cannot read"),
    ("ragged.csv", "1,2\n3\n", "cannot read"),
    ("nan.csv", "1,nan\n3,4\n", "non-finite"),
    ("inf.csv", "1,inf\n3,4\n", "non-finite"),
    ("empty.csv", "", "empty"),
    ("junk.npy", "not an npy file", "cannot read"),
])
def test_load_array_errors(tmp_path, name, content, match):
    p = tmp_path / name
    if content is not None:
        p.write_text(content)
    with pytest.raises(SymndkError, match=match):
        data.load_array(p)


def test_load_array_rejects_strings_npy(tmp_path):
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(SymndkError, match="expected real numbers"):
        data.load_array(tmp_path / "s.npy")


def test_public_name():
    assert symndk.data is data
