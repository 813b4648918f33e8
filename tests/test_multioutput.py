"""Multiple outputs (THEORY_NEXT §C): y_train (P, K). Every column must equal the single-output
solve on that column (the kernels act as kernel x I_K), to 1e-12, for every NDK method, the
simulator (K readouts on shared hidden layers) and the files."""
import subprocess
import sys

import numpy as np
import pytest

import symndk
from symndk import data
from symndk.errors import SymndkError

DS = data.synthetic(4, 0.6)
Y = np.column_stack([DS.y_train, np.random.default_rng(1).standard_normal(4), np.ones(4)])


@pytest.fixture(scope="module")
def models():
    net = symndk.Network("erf", 2, 0.5, 1.5)
    return symndk.NDK(net, DS.X_train, Y, T=0.05), [symndk.NDK(net, DS.X_train, Y[:, k], T=0.05) for k in range(3)]


CALLS = [("predict", (np.geomspace(1e-2, 500, 6), DS.X_test)), ("ntk_dynamics", ([0.0, 1.0, 30.0], DS.X_test)),
         ("drift", (5.0, [5.0, 40.0], DS.X_test)), ("drift_equilibrium", ([0.0, 3.0, np.inf], DS.X_test)),
         ("temporal_correlation", (4.0, 9.0, DS.X_test)), ("equilibrium", ("ntk", DS.X_test)),
         ("equilibrium", ("nngp", DS.X_test))]


@pytest.mark.parametrize("method,args", CALLS, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CALLS)])
def test_column_k_is_the_single_output_solve(models, method, args):
    multi, singles = models
    res = getattr(multi, method)(*args)
    assert res.train.shape[-1] == 3 and res.test.shape[-1] == 3 and res.train.ndim == 3
    for k, single in enumerate(singles):
        one = getattr(single, method)(*args)
        assert one.train.ndim == 2
        assert np.max(np.abs(res.train[..., k] - one.train)) <= 1e-12
        assert np.max(np.abs(res.test[..., k] - one.test)) <= 1e-12


def test_k_outputs_share_one_kernel_build():
    multi = symndk.NDK(symndk.Network("erf", 2, 0.5, 1.5), DS.X_train, Y, T=0.05)
    res = multi.predict([1.0, 500.0], DS.X_test)
    assert multi.builds == {"kernels": 1, "compressions": 1} and res.metadata["data"]["outputs"] == 3


def test_targets_validation():
    with pytest.raises(SymndkError, match=r"shape \(4,\) or \(4, K\)"):
        symndk.NDK(symndk.Network(), DS.X_train, np.zeros((4, 2, 1)))
    with pytest.raises(SymndkError, match="non-finite"):
        symndk.NDK(symndk.Network(), DS.X_train, np.array([[0.0, np.nan]] * 4))


def test_simulator_k_readouts_match_one_readout_draw_for_draw():
    """(P, 1) targets draw exactly the same random numbers as (P,) targets: same ensemble."""
    kw = dict(activation="relu", depth=1, width=16, T=0.1, dt=0.05, times=[0.0, 0.5], n_networks=6, seed=3,
              progress=False)
    from symndk.langevin.simulator import simulate

    one = simulate(DS.X_train, DS.y_train, DS.X_test, **kw)
    col = simulate(DS.X_train, DS.y_train[:, None], DS.X_test, **kw)
    assert col.train.shape == (2, 4, 1) and col.test_se.shape == (2, 1, 1)
    assert np.allclose(col.train[..., 0], one.train, atol=1e-13, rtol=0)
    two = simulate(DS.X_train, Y[:, :2], DS.X_test, **kw)
    assert two.train.shape == (2, 4, 2)


def test_cli_solve_writes_k_columns(tmp_path):
    np.save(tmp_path / "X.npy", DS.X_train)
    np.save(tmp_path / "Y.npy", Y[:, :2])
    np.save(tmp_path / "Xt.npy", DS.X_test)
    out = tmp_path / "run"
    subprocess.run([sys.executable, "-m", "symndk", "solve", "--task", "files", "--x-train", str(tmp_path / "X.npy"),
                    "--y-train", str(tmp_path / "Y.npy"), "--x-test", str(tmp_path / "Xt.npy"), "--times", "1,10",
                    "--out", str(out)], check=True, capture_output=True)
    res = symndk.load_result(out)
    assert res.train.shape == (2, 4, 2) and res.test.shape == (2, 1, 2)
    assert res.metadata["data"]["outputs"] == 2
    single = symndk.NDK(symndk.Network(), DS.X_train, Y[:, 1], T=0.01).predict([1.0, 10.0], DS.X_test)
    assert np.max(np.abs(res.test[..., 1] - single.test)) <= 1e-12
