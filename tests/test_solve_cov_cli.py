"""``symndk solve --cov``: the ensemble variances reach the NPZ/JSON, for (P,) and (P, K) targets.

Expected values by independent routes: at t = 0 the ReLU prior variance chain written out by hand
(V(q) = q / 2), at the NNGP end point Gaussian conditioning written out with np.linalg.solve on the
static NNGP kernel; along the trajectory the files must hold exactly what the API returns (plumbing).
"""
import json
import subprocess
import sys

import numpy as np

import symndk

DS = symndk.data.synthetic(3, 0.5)


def _solve(tmp_path, *extra, y=None):
    np.save(tmp_path / "X.npy", DS.X_train)
    np.save(tmp_path / "Y.npy", DS.y_train if y is None else y)
    np.save(tmp_path / "Xt.npy", DS.X_test)
    return subprocess.run([sys.executable, "-m", "symndk", "solve", "--task", "files", "--x-train", str(tmp_path / "X.npy"),
                           "--y-train", str(tmp_path / "Y.npy"), "--x-test", str(tmp_path / "Xt.npy"),
                           "--activation", "relu", "--depth", "2", "--sigma0-sq", "0.6", "--sigma-sq", "1.0",
                           "--T", "0.1", "--times", "0,2", *extra], capture_output=True, text=True)


def test_cov_flag_writes_the_variances(tmp_path):
    Y = np.column_stack([DS.y_train, 1.0 - DS.y_train])
    r = _solve(tmp_path, "--cov", "--out", str(tmp_path / "run"), y=Y)
    assert r.returncode == 0, r.stderr
    res = symndk.load_result(tmp_path / "run")
    assert res.train.shape == (2, 3, 2) and res.train_var.shape == (2, 3) and res.test_var.shape == (2, 1)
    assert "test_cov" not in res.extras and "test_var" in json.loads((tmp_path / "run.json").read_text())["extras"]
    X = np.vstack([DS.X_train, DS.X_test])
    q = np.einsum("ij,ij->i", X, X) / X.shape[1]
    prior = 0.6 * (0.6 * (0.6 * q / 2) / 2)                                 # sigma0^2 K_2(x, x), ReLU by hand
    assert np.max(np.abs(np.concatenate([res.train_var[0], res.test_var[0]]) - prior)) < 1e-13
    G = symndk.Network("relu", 2, 1.0, 1.0).nngp_kernel(X).train           # sigma^2 = 1: G = K_L
    S = G - G[:, :3] @ np.linalg.solve(G[:3, :3] + 0.1 * np.eye(3), G[:3])
    assert np.max(np.abs(res.nngp_equilibrium_test_var - np.diag(S)[3:])) < 1e-12
    assert np.max(np.abs(res.nngp_equilibrium_train_var - np.diag(S)[:3])) < 1e-12
    api = symndk.NDK(symndk.Network("relu", 2, 0.6, 1.0), DS.X_train, DS.y_train, T=0.1).predict([0.0, 2.0], DS.X_test,
                                                                                                  cov=True)
    assert np.array_equal(res.test_var, api.test_var) and np.array_equal(res.train_var, api.train_var)
    assert 0 < res.var_error_estimate < 1e-8 and np.max(np.abs(res.test_var[1] - res.test_var[0])) > 1e-2


def test_cov_full_and_bad_values(tmp_path):
    r = _solve(tmp_path, "--cov", "full", "--out", str(tmp_path / "full"))
    assert r.returncode == 0, r.stderr
    res = symndk.load_result(tmp_path / "full")
    assert res.test_cov.shape == (2, 1, 1) and np.allclose(res.test_cov[:, 0, 0], res.test_var[:, 0], rtol=0, atol=1e-15)
    bad = _solve(tmp_path, "--cov", "diag", "--out", str(tmp_path / "bad"))
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 1 and "--cov" in lines[0], bad.stderr
    assert not (tmp_path / "bad.npz").exists()
