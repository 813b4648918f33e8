"""High-precision reference of the full vector Volterra system on small data sets (symndk.reference_predict):
the matrix path against the scalar synthetic reduction, the fast float64 solver on digits, the linear
activation against the NNGP equilibrium, the certificate, bad input and the CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest

import symndk
from symndk import data
from symndk.errors import SymndkError
from symndk.certified.general import reference_predict
from symndk.certified.synthetic import reference


def test_synthetic_matrix_path_matches_scalar_reduction():
    """General inputs (the synthetic task rotated by a random orthogonal matrix: the Gram matrix of the
    float64 rows, non-unit norms to rounding, 2 x 2 matrix kernel) against the scalar overlap reduction."""
    ds = data.synthetic(2, 0.5)
    rot, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))
    kw = dict(activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.1, times=[0.5, 5.0, 20.0], dps=12)
    gen = reference_predict(ds.X_train @ rot, ds.y_train, ds.X_test @ rot, **kw)
    ref = reference(r=0.5, **kw)
    assert min(gen.digits) >= 12 and min(ref.digits) >= 12, (gen.digits, ref.digits)
    for train, test, g, f in zip(gen.train, gen.test, ref.train[:, 0], ref.test[:, 0]):
        assert max(abs(v - y * g) for v, y in zip(train, ds.y_train)) < 1e-12
        assert abs(test[0] - f) < 1e-12


def test_digits_fast_solver_agrees():
    """P = 4 digits, Q = 2, ReLU L = 2: float64 predict(rtol=1e-10) against the reference from the
    gradient phase (t = 1 < 1/lambda_max) to the diffusive one (t = 1/gamma, 5/gamma)."""
    ds = data.digits(0, 1, n_per_class=2, n_test_per_class=1)
    kw = dict(activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.1)
    times = [1.0, 10.0, 50.0]
    res = reference_predict(ds.X_train, ds.y_train, ds.X_test, times=times, dps=12, **kw)
    assert min(res.digits) >= 12 and "warning" not in res.metadata, res.digits
    assert (res.metadata["P"], res.metadata["Q"], res.metadata["N0"]) == (4, 2, 64)
    train, test = res.train, res.test
    assert train.shape == (3, 4) and test.shape == (3, 2)
    fast = symndk.predict(ds.X_train, ds.y_train, ds.X_test, times=times, rtol=1e-10, **kw)
    assert np.abs(fast.train - train).max() < 1e-9
    assert np.abs(fast.test - test).max() < 1e-9


def test_linear_matches_nngp_equilibrium():
    """Linear activation at gamma t = 30 against the closed form k^T (K + gamma I)^{-1} Y."""
    ds = data.digits(2, 3, n_per_class=1, n_test_per_class=1, normalise="global")  # unequal norms
    kw = dict(activation="linear", depth=1, sigma0_sq=0.5, sigma_sq=1.0, T=0.5)
    res = reference_predict(ds.X_train, ds.y_train, ds.X_test, times=[0.0, 60.0], dps=14, **kw)
    assert min(res.digits) >= 14, res.digits
    eq = symndk.nngp_equilibrium(ds.X_train, ds.y_train, ds.X_test, **kw)
    train, test = res.train, res.test
    assert not train[0].any() and not test[0].any()  # t = 0
    assert np.abs(train[1] - eq.train[0]).max() < 1e-12
    assert np.abs(test[1] - eq.test[0]).max() < 1e-12


@pytest.mark.parametrize("kw", [dict(X_train=np.ones(4)), dict(y_train=np.ones(3)),
                                dict(X_train=np.full((2, 3), np.nan)), dict(y_train=np.array([1.0, np.inf])),
                                dict(X_train=np.array([[1.0, 0, 0], [0, 0, 0]])),
                                dict(X_test=np.zeros((1, 3))), dict(X_test=np.ones((1, 4))),
                                dict(X_train=np.eye(9), y_train=np.ones(9)), dict(sigma_sq=-1.0), dict(sigma0_sq=0.0),
                                dict(T=0.0), dict(times=[2.0, 1.0]), dict(times=[-1.0]), dict(dps=3), dict(depth=0),
                                dict(jobs=0), dict(activation="nosuch")])
def test_bad_input(kw):
    ds = data.synthetic(2, 0.5)
    args = dict(X_train=ds.X_train, y_train=ds.y_train, X_test=ds.X_test, times=[1.0], dps=8)
    with pytest.raises(SymndkError) as info:
        reference_predict(**{**args, **kw})
    assert "\n" not in str(info.value)


def test_cli_digits(tmp_path):
    out = tmp_path / "ref.json"
    cmd = [sys.executable, "-m", "symndk", "reference", "--task", "digits:0,1", "--n-per-class", "1", "--n-test", "1",
           "--activation", "erf", "--depth", "1", "--T", "0.5", "--times", "1,2", "--dps", "6", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert res["meta"]["task"].startswith("digits(0 vs 1, n=1") and res["meta"]["P"] == 2
    assert np.array(res["train"]).shape == (2, 2) and np.array(res["test"]).shape == (2, 1)
    assert min(res["certified_digits"]) >= 6


@pytest.mark.parametrize("args", [["--task", "files"], ["--task", "digits:0,1,20"], ["--task", "digits:0,0"],
                                  ["--task", "digits:0,1", "--n-test", "-1"], ["--task", "synthetic:2,x"]])
def test_cli_bad_task(args):
    proc = subprocess.run([sys.executable, "-m", "symndk", "reference", "--times", "1", "--dps", "6", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symndk: error:")
