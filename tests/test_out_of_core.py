"""Out-of-core Volterra predictor (issue 16, Large P): ``NDK.predict(memory=, folder=)`` puts the compressed
kernel's r R P basis, the O(P^2 r) array of the path, in a memory-mapped .npy file above the byte cap.

The reference is the same problem in memory (the storage must not change a value); the foils are the
uncapped and the generously capped runs, whose basis is an ordinary array."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import symndk
from symndk.errors import SymndkError

TIMES = [0.0, 10.0, 50.0]


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(1)
    X, y, Xt = rng.standard_normal((60, 5)), rng.standard_normal(60), rng.standard_normal((3, 5))
    net = symndk.Network("relu", 2, 1.0, 1.0)
    ndk = symndk.NDK(net, X, y, T=0.1)
    return net, X, y, Xt, ndk.predict(TIMES, Xt), ndk.kernel(Xt).compressed(TIMES[-1]).basis


def _run(problem, **cap):
    net, X, y, Xt, _, _ = problem
    ndk = symndk.NDK(net, X, y, T=0.1)
    return ndk.predict(TIMES, Xt, **cap), ndk.kernel(Xt).compressed(TIMES[-1]).basis


def _same(got, ref):
    for part in ("train", "test"):
        a, b = getattr(got, part), getattr(ref, part)
        assert np.abs(a - b).max() <= 1e-15 * np.abs(b).max(), part


def test_private_folder_out_of_core_equals_in_memory(problem, tmp_path, monkeypatch):
    """memory=0: the basis is a memmap whose file is already unlinked and whose private folder is gone;
    the predictions equal the in-memory ones (measured: bit-identical)."""
    ref, ref_basis = problem[4], problem[5]
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))          # the private folders go here
    got, basis = _run(problem, memory=0)
    _same(got, ref)
    assert isinstance(basis, np.memmap) and not isinstance(ref_basis, np.memmap)     # foil: in memory
    assert np.abs(basis - ref_basis).max() <= 1e-15 * np.abs(ref_basis).max()
    assert os.path.dirname(basis.filename) != str(tmp_path) and not os.path.exists(basis.filename)
    assert list(tmp_path.iterdir()) == []                             # folder and file removed at once
    under, basis = _run(problem, memory=1e12)                         # foil: under the cap, in memory
    assert not isinstance(basis, np.memmap)
    _same(under, ref)


def test_kept_folder_holds_the_basis(problem, tmp_path):
    """folder=: the basis stays there as basis-*.npy (np.load reads it back); a file already there,
    even one named basis.npy, is left as it was."""
    ref, ref_basis = problem[4], problem[5]
    mine = tmp_path / "basis.npy"
    mine.write_bytes(b"not symndk's")
    got, basis = _run(problem, memory=1000, folder=tmp_path)
    _same(got, ref)
    new = sorted(p.name for p in tmp_path.iterdir() if p != mine)
    assert len(new) == 1 and new[0].startswith("basis-") and new[0].endswith(".npy")
    assert mine.read_bytes() == b"not symndk's"
    kept = np.load(tmp_path / new[0], mmap_mode="r")
    assert isinstance(basis, np.memmap) and kept.shape == (basis.shape[0], basis[0].size)
    assert np.array_equal(kept.reshape(basis.shape), basis)


def test_bad_memory_and_folder_are_one_line_errors(problem, tmp_path):
    net, X, y, Xt, _, _ = problem
    ndk = symndk.NDK(net, X, y, T=0.1)
    bad = [({"memory": -1}, "memory must be"), ({"memory": "1GB"}, "memory must be"),
           ({"memory": True}, "memory must be"), ({"memory": float("nan")}, "memory must be"),
           ({"folder": tmp_path}, "give memory"),
           ({"memory": 0, "folder": tmp_path / "missing"}, "folder must be an existing directory"),
           ({"memory": 1e12, "folder": tmp_path / "missing"}, "folder must be an existing directory")]
    for cap, message in bad:
        with pytest.raises(SymndkError, match=message) as exc:
            ndk.predict(TIMES, Xt, **cap)
        assert "\n" not in str(exc.value)
    assert ndk.builds["compressions"] == 0                            # refused before any work


def test_cli_memory_option(tmp_path):
    """``symndk solve --memory 0 --memory-folder DIR`` keeps the basis there; a negative cap is one line."""
    run = [sys.executable, "-m", "symndk", "solve", "--task", "synthetic:4,0.5", "--times", "0:20:3",
           "--out", str(tmp_path / "run")]
    keep = tmp_path / "keep"
    keep.mkdir()
    ok = subprocess.run(run + ["--memory", "0", "--memory-folder", str(keep)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert [p.suffix for p in keep.iterdir()] == [".npy"]
    bad = subprocess.run(run + ["--memory", "-5"], capture_output=True, text=True)
    assert bad.returncode != 0 and "memory must be" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_results_that_do_not_fit_on_disk_are_refused_in_one_line(tmp_path, monkeypatch):
    """Out-of-core results are checked against the free space before anything is written, and each file's
    blocks are reserved (a sparse memory-mapped file on a full disk ends the process by SIGBUS)."""
    import errno
    import shutil

    from symndk import files
    from symndk.kernels.static import static_kernels

    X = np.random.default_rng(0).standard_normal((40, 5))
    arr = files.mapped(40, 40, float, (tmp_path, True), "reserved")
    assert os.stat(tmp_path / "reserved.npy").st_blocks * 512 >= 40 * 40 * 8   # allocated, not sparse
    del arr
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(files.shutil, "disk_usage", lambda p: usage._replace(free=1000))
    with pytest.raises(SymndkError, match="need 0.00 GB on disk") as err:
        static_kernels(X, activation="relu", memory=0, folder=tmp_path)
    assert "\n" not in str(err.value) and not (tmp_path / "nngp_train.npy").exists()
    monkeypatch.undo()

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "posix_fallocate", full)       # the disk fills between the check and the write
    with pytest.raises(SymndkError, match="no room on disk for nngp_train.npy"):
        static_kernels(X, activation="relu", memory=0, folder=tmp_path)
    assert not (tmp_path / "nngp_train.npy").exists()
