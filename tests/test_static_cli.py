"""``symndk static``: the NNGP and NTK matrices of a data set in float64 or float32, written atomically with
metadata; bad input is one error line, exit 2."""
import json
import subprocess
import sys

import numpy as np
import pytest

import symndk


def _run(*args):
    return subprocess.run([sys.executable, "-m", "symndk", "static", *args], capture_output=True, text=True)


def _arccos_nngp(X):
    """ReLU, L = 1, sigma^2 = 1, by hand: K_1 = sqrt(q q') (sin th + (pi - th) cos th) / (2 pi), q = |x|^2 / N0."""
    K0 = X @ X.T / X.shape[1]
    q = np.sqrt(np.diag(K0))
    th = np.arccos(np.clip(K0 / np.outer(q, q), -1, 1))
    return np.outer(q, q) * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)


def test_files_hold_the_kernels_with_metadata(tmp_path):
    ds = symndk.data.digits(0, 1, n_per_class=12)        # what the CLI loads for digits:0,1,12
    out = tmp_path / "k"
    r = _run("--task", "digits:0,1,12", "--activation", "relu", "--depth", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "k.json").read_text())
    with np.load(tmp_path / "k.npz") as z:
        assert str(z["run_id"]) == doc["run_id"]
        nngp, ntk, nngp_test = z["nngp_train"], z["ntk_train"], z["nngp_test"]
    assert doc["metadata"]["network"] == {"activation": "relu", "depth": 1, "sigma_sq": 1.0, "bias_sigma_sq": 0.0}
    assert (doc["metadata"]["P"], doc["metadata"]["dtype"]) == (24, "float64") and nngp_test.shape[1] == 24
    by_hand = _arccos_nngp(ds.X_train)                 # an independent route for the NNGP
    assert np.max(np.abs(nngp - by_hand)) <= 1e-14 * np.max(np.abs(by_hand))
    api = symndk.static_kernels(ds.X_train, ds.X_test, activation="relu", depth=1)
    assert np.array_equal(ntk, api.ntk.train) and np.array_equal(nngp_test, api.nngp.test)


def test_float32_halves_the_files_within_its_stated_error(tmp_path):
    for dtype in ("float64", "float32"):
        r = _run("--task", "digits:0,1,15", "--activation", "erf", "--sigma-sq", "1,2,0.5", "--bias-sigma-sq", "0.1",
                 "--dtype", dtype, "--out", str(tmp_path / dtype))
        assert r.returncode == 0, r.stderr
    with np.load(tmp_path / "float64.npz") as a, np.load(tmp_path / "float32.npz") as b:
        for name in ("nngp_train", "ntk_train", "nngp_test", "ntk_test"):
            assert b[name].dtype == np.float32 and a[name].dtype == np.float64
            err = np.max(np.abs(b[name] - a[name])) / np.max(np.abs(a[name]))
            assert 1e-9 < err <= 1e-6, (name, err)     # single precision, within the documented ~3e-7


def test_out_of_core_kernels_are_npy_files_named_by_the_json(tmp_path):
    folder = tmp_path / "kernels"
    folder.mkdir()
    for stem, extra in (("mem", []), ("ooc", ["--memory", "0", "--memory-folder", str(folder)])):
        r = _run("--task", "digits:0,1,12", "--activation", "erf", "--out", str(tmp_path / stem), *extra)
        assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "ooc.json").read_text())
    assert not (tmp_path / "ooc.npz").exists() and sorted(doc["files"]) == sorted(doc["arrays"])
    with np.load(tmp_path / "mem.npz") as z:
        for name, path in doc["files"].items():
            assert np.array_equal(np.load(path, mmap_mode="r"), z[name])     # the same numbers, out of core
    r = _run("--task", "digits:0,1,12", "--memory", "0", "--memory-folder", str(folder), "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "does not overwrite them" in r.stderr       # the user's (earlier) files stay


@pytest.mark.parametrize("args, message", [
    (["--dtype", "float16"], "invalid choice"),
    (["--sigma-sq", "-1"], "--sigma-sq must be in"),
    (["--sigma-sq", "1,2"], "depth + 1 = 3 numbers"),
    (["--activation", "../x"], "activation name must match"),
    (["--task", "files"], "needs --x-train and --y-train"),
    (["--memory", "0"], "go together"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    r = _run(*args, "--out", str(tmp_path / "k"))
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not list(tmp_path.iterdir())                # nothing written
