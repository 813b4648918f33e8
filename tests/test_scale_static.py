"""The chunked, threaded static-kernel path (issue 16): many tasks and chunks against a textbook route."""
import numpy as np
import pytest

import symndk.kernels.static as static
from symndk.errors import SymndkError
from symndk.kernels.static import nngp_kernel, ntk_kernel, static_kernels


def _textbook(X1, X2, activation, depth, sigma_sq):
    """Arccos (ReLU) / arcsin (erf) closed forms on the full matrix (docs/theory.md §9), from the joint Gram."""
    X = X1 if X2 is None else np.vstack([X1, X2])
    K = X @ X.T / X.shape[1]
    theta = K
    for _ in range(depth):
        S = sigma_sq * K
        d = np.sqrt(np.diag(S))
        if activation == "relu":
            th = np.arccos(np.clip(S / np.outer(d, d), -1.0, 1.0))
            K = np.outer(d, d) * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)
            Kdot = (np.pi - th) / (2 * np.pi)
        else:
            den = np.sqrt(np.outer(1 + 2 * d * d, 1 + 2 * d * d))
            K = 2 / np.pi * np.arcsin(2 * S / den)
            Kdot = 4 / np.pi / np.sqrt(den**2 - 4 * S**2)
        theta = K + sigma_sq * Kdot * theta
    P = X1.shape[0]
    return (K[:P, :P], theta[:P, :P]) if X2 is None else (K[P:, :P], theta[P:, :P])


@pytest.fixture
def small_tasks(monkeypatch):
    """Tasks of 16 rows and chunks of ~500 entries: a 150-point matrix runs as many tasks and chunks."""
    monkeypatch.setattr(static, "ROWS", 16)
    monkeypatch.setattr(static, "CHUNK", 500)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_chunked_path_matches_textbook_forms(small_tasks, activation):
    rng = np.random.default_rng(11)
    X1, X2 = rng.standard_normal((150, 40)), rng.standard_normal((37, 40))
    both = static_kernels(X1, X2, activation=activation, depth=3, sigma_sq=1.3)
    for part, X2_ in (("train", None), ("test", X2)):
        K, T = _textbook(X1, X2_, activation, 3, 1.3)
        off = ~np.eye(*K.shape, dtype=bool) if X2_ is None else slice(None)  # arccos of a clipped 1: ~1e-8 off
        assert np.abs(getattr(both.nngp, part) - K)[off].max() < 1e-13 * np.abs(K).max()
        assert np.abs(getattr(both.ntk, part) - T)[off].max() < 1e-13 * np.abs(T).max()
    assert np.array_equal(both.ntk.train, both.ntk.train.T) and np.array_equal(both.nngp.train, both.nngp.train.T)


def test_one_pass_equals_the_single_kernels_and_does_not_depend_on_tasks_or_threads(small_tasks, monkeypatch):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((90, 30))
    X[10] = X[70]  # duplicated row: pinned like the diagonal
    both = static_kernels(X, activation="relu", depth=2)
    assert np.array_equal(both.nngp.train, nngp_kernel(X, activation="relu").train)
    assert np.array_equal(both.ntk.train, ntk_kernel(X, activation="relu").train)
    assert both.ntk.train[10, 70] == both.ntk.train[10, 10] == both.ntk.train[70, 70]
    monkeypatch.setenv("SYMNDK_THREADS", "1")
    assert np.array_equal(static_kernels(X, activation="relu", depth=2).ntk.train, both.ntk.train)
    monkeypatch.setattr(static, "ROWS", 64)
    monkeypatch.setattr(static, "CHUNK", 30000)
    big = static_kernels(X, activation="relu", depth=2).ntk.train
    assert np.abs(big - both.ntk.train).max() < 1e-15 * np.abs(big).max() * 10


def test_duplicates_between_test_and_train_rows_are_pinned(small_tasks):
    rng = np.random.default_rng(5)
    X1 = rng.standard_normal((40, 20))
    X2 = np.vstack([X1[[3, 17, 3]], rng.standard_normal((2, 20))])
    both = static_kernels(X1, X2, activation="erf", depth=2)
    for i, j in ((0, 3), (1, 17), (2, 3)):
        assert both.ntk.test[i, j] == both.ntk.train[j, j]
        assert both.nngp.test[i, j] == both.nngp.train[j, j]
    assert both.ntk.test[3, 3] != both.ntk.train[3, 3]  # foil: distinct inputs are not pinned


def test_static_kernels_set_no_allocator_option(monkeypatch):
    """No process-wide mallopt on a call (glibc's own adaptive thresholds, raised by one allocate/free)."""
    def refuse():
        raise AssertionError("static_kernels called mallopt")

    monkeypatch.setattr(static, "reuse_heap", refuse)
    X = np.random.default_rng(8).standard_normal((40, 10))
    assert np.isfinite(static_kernels(X, X[:5], activation="erf").ntk.test).all()


def test_heap_setting_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("SYMNDK_MALLOPT", "0")
    static.reuse_heap.cache_clear()
    try:
        assert static.reuse_heap() is False
    finally:
        static.reuse_heap.cache_clear()


def test_float32_path_within_its_stated_accuracy(small_tasks):
    rng = np.random.default_rng(9)
    X = rng.standard_normal((120, 50))
    for activation in ("relu", "erf"):
        ref = static_kernels(X, activation=activation, depth=2)
        got = static_kernels(X, activation=activation, depth=2, dtype="float32")
        for k in ("nngp", "ntk"):
            A, B = getattr(ref, k).train, getattr(got, k).train
            assert B.dtype == np.float32 and np.array_equal(B, B.T)
            err = np.abs(A - B).max() / np.abs(A).max()
            assert 1e-9 < err < 2e-6, err  # single precision: not float64 (foil), within the stated 1e-6 scale
    with pytest.raises(SymndkError, match="dtype must be"):
        static_kernels(X, dtype="float16")


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_out_of_core_results_equal_the_in_memory_ones(small_tasks, monkeypatch, tmp_path, activation):
    """Over the memory cap the results are written band by band to memory-mapped .npy files: the same
    values as in memory, both within the textbook closed forms (an independent route)."""
    rng = np.random.default_rng(13)
    X1, X2 = rng.standard_normal((150, 30)), rng.standard_normal((40, 30))
    ref = static_kernels(X1, X2, activation=activation, depth=2)
    monkeypatch.setattr(static, "BAND", 64)                      # several Gram bands per task
    got = static_kernels(X1, X2, activation=activation, depth=2, memory=1e5, folder=tmp_path)
    for part, X2_ in (("train", None), ("test", X2)):
        textbook = dict(zip(("nngp", "ntk"), _textbook(X1, X2_, activation, 2, 1.0)))
        off = ~np.eye(*textbook["ntk"].shape, dtype=bool) if X2_ is None else slice(None)
        for k in ("nngp", "ntk"):
            a, b = getattr(getattr(got, k), part), getattr(getattr(ref, k), part)
            assert isinstance(a, np.memmap) and not isinstance(b, np.memmap)
            assert np.abs(a - b).max() <= 1e-15 * np.abs(b).max()
            assert np.abs(a - textbook[k])[off].max() < 1e-13 * np.abs(textbook[k]).max()
            assert np.array_equal(np.load(tmp_path / f"{k}_{part}.npy", mmap_mode="r"), a)
    assert not isinstance(static_kernels(X1, activation=activation, memory=1e9).ntk.train, np.memmap)  # under the cap
    private = static_kernels(X1, activation=activation, memory=0).ntk.train     # no folder: unlinked temporary file
    assert isinstance(private, np.memmap) and np.array_equal(private, ref.ntk.train)
    for bad in (-1, "1GB", True):
        with pytest.raises(SymndkError, match="memory must be"):
            static_kernels(X1, memory=bad)
    with pytest.raises(SymndkError, match="give memory"):
        static_kernels(X1, folder=tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}   # the kept files of the first call
    with pytest.raises(SymndkError, match="ntk_test.npy exist.*does not overwrite them"):
        (tmp_path / "nngp_train.npy").unlink()                       # one name free, the others taken
        static_kernels(X1, X2, activation=activation, memory=0, folder=tmp_path)
    assert not (tmp_path / "nngp_train.npy").exists()                # refused before any file was written
    assert all((tmp_path / n).read_bytes() == b for n, b in before.items() if n != "nngp_train.npy")
