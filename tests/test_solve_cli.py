"""``symndk solve``: files written with metadata; bad input is one error line, exit 2."""
import json
import subprocess
import sys

import numpy as np
import pytest

import symndk
import symndk.errors


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symndk", "solve", *args], capture_output=True, text=True, cwd=cwd)


def test_solve_writes_npz_and_json(tmp_path):
    out = tmp_path / "sol"
    r = _run("--task", "synthetic:3,0.5", "--times", "0,1,40", "--T", "0.1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    z = symndk.load_result(out)
    meta = z.metadata
    assert meta["network"]["activation"] == "relu" and meta["data"]["P"] == 3 and z.error_estimate < 1e-9
    js = json.loads((tmp_path / "sol.json").read_text())
    assert js["run_id"] == str(np.load(f"{out}.npz")["run_id"])
    ds = symndk.data.synthetic(3, 0.5)
    ref = symndk.predict(ds.X_train, ds.y_train, ds.X_test, T=0.1, times=[0.0, 1.0, 40.0])
    np.testing.assert_allclose(z.test, ref.test, atol=1e-12)
    assert z.nngp_equilibrium_test.shape == (1,)


def test_a_mixed_npz_json_pair_is_refused(tmp_path):
    for stem in ("a", "b"):
        r = _run("--task", "synthetic:2,0.5", "--times", "0,1", "--T", "0.1", "--out", str(tmp_path / stem))
        assert r.returncode == 0, r.stderr
    (tmp_path / "a.json").write_bytes((tmp_path / "b.json").read_bytes())  # a torn/stale pair
    with pytest.raises(symndk.errors.SymndkError, match="different runs"):
        symndk.load_result(tmp_path / "a")


def test_solve_reads_user_files(tmp_path):
    ds = symndk.data.synthetic(2, 0.3)
    np.save(tmp_path / "x.npy", ds.X_train)
    np.savetxt(tmp_path / "y.csv", ds.y_train[None], delimiter=",")
    r = _run("--task", "files", "--x-train", str(tmp_path / "x.npy"), "--y-train", str(tmp_path / "y.csv"),
             "--times", "0,2", "--T", "0", "--out", str(tmp_path / "f"))
    assert r.returncode == 0, r.stderr
    z = symndk.load_result(tmp_path / "f")
    assert z.train.shape == (2, 2) and z.test.shape == (2, 0)


def test_bad_input_is_one_error_line(tmp_path):
    for args in (["--times", "3,1"], ["--T", "-1"], ["--task", "nonsense:1"], ["--sigma0-sq", "-2"],
                 ["--task", "files", "--x-train", str(tmp_path / "missing.npy"), "--y-train", "y.npy"]):
        r = _run(*args, "--out", str(tmp_path / "bad"))
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("symndk: error:"), (args, r.stderr)
