"""NDK.predict(backend=...): the whole constant-T mean predictor in an array-API namespace (array_api_strict
here; torch/cupy on a GPU), results back as NumPy. Against the NumPy predict, and at late times against the
NNGP posterior mean computed here from the static kernel (an independent route)."""
import numpy as np
import pytest

import symndk
from symndk.errors import SymndkError

pytest.importorskip("array_api_strict")


@pytest.fixture(scope="module")
def case():
    ds = symndk.data.synthetic(6, 0.5)
    return ds, symndk.NDK(symndk.Network("erf", 2, 0.5, 1.0), ds.X_train, ds.y_train, T=0.1)


def test_predict_in_a_namespace_equals_numpy_and_reaches_the_nngp_posterior(case):
    ds, ndk = case
    times = [0.0, 1.0, 10.0, 400.0]                          # gamma t = 40 at the end: the equilibrium
    a = ndk.predict(times, ds.X_test)
    b = ndk.predict(times, ds.X_test, backend="array_api_strict")
    assert type(b.test) is np.ndarray and b.metadata["backend"] == "array_api_strict"
    assert np.max(np.abs(b.test - a.test)) <= 1e-12 and np.max(np.abs(b.train - a.train)) <= 1e-12
    assert abs(b.error_estimate - a.error_estimate) <= 0.1 * a.error_estimate
    k = symndk.nngp_kernel(ds.X_train, ds.X_test, activation="erf", depth=2, sigma_sq=1.0)
    post = k.test @ np.linalg.solve(k.train + ndk.gamma * np.eye(len(k.train)), ds.y_train)
    assert np.max(np.abs(b.test[-1] - post)) <= max(b.error_estimate, 1e-12)
    assert np.max(np.abs(b.test[1] - post)) > 1e-3                   # foil: t = 1 is far from it
    c = ndk.predict(times, ds.X_test, backend="numpy", cov=True)      # "numpy" is the default path, cov and all
    assert np.array_equal(c.test, a.test) and "backend" not in c.metadata


@pytest.mark.parametrize("options, message", [({"cov": True}, "cov runs in NumPy"),
                                              ({"memory": 0}, "memory runs in NumPy"),
                                              ({"backend": "tensorflow"}, "backend must be one of")])
def test_what_a_namespace_does_not_run_is_one_line(case, options, message):
    ds, ndk = case
    with pytest.raises(SymndkError, match=message) as err:
        ndk.predict([1.0], ds.X_test, **{"backend": "array_api_strict", **options})
    assert "\n" not in str(err.value)


def test_solve_cli_backend_writes_the_numpy_numbers(tmp_path):
    import subprocess
    import sys

    base = [sys.executable, "-m", "symndk", "solve", "--task", "synthetic:4,0.5", "--times", "0,1,10", "--T", "0.1"]
    for stem, extra in (("np", []), ("xp", ["--backend", "array_api_strict"])):
        r = subprocess.run(base + extra + ["--out", str(tmp_path / stem)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    a, b = symndk.load_result(tmp_path / "np"), symndk.load_result(tmp_path / "xp")
    assert np.max(np.abs(a.test - b.test)) <= 1e-12 and b.metadata["backend"] == "array_api_strict"
    r = subprocess.run(base + ["--backend", "array_api_strict", "--cov", "--out", str(tmp_path / "c")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "cov runs in NumPy" in r.stderr and len(r.stderr.splitlines()) == 1
