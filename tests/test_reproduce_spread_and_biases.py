"""``symndk reproduce drift-networks`` and ``bias-ablation``: their statistics by independent routes
(Monte Carlo of a Gaussian, the sample sd of paired differences), and the quick reproductions (slow)."""
import json

import numpy as np
import pytest

from symndk.reproduce import bias_ablation, drift_networks
from symndk.reproduce.runner import run_reproduction


def test_p_correct_is_the_gaussian_sign_probability():
    rng = np.random.default_rng(0)
    y, mean, var = np.array([1.0, -1.0, 1.0]), np.array([0.3, 0.5, -1.2]), np.array([0.2, 1.5, 4.0])
    draws = mean + np.sqrt(var) * rng.standard_normal((400_000, 3))
    mc = np.mean(y * draws > 0, axis=0)
    assert np.max(np.abs(drift_networks.p_correct(y, mean, var) - mc)) < 4 * 0.5 / np.sqrt(400_000)


def test_binomial_z_accepts_a_true_fraction_and_rejects_a_wrong_one():
    rng = np.random.default_rng(1)
    frac = np.mean(rng.random((2000, 50)) < 0.8, axis=0)                   # 50 points, p = 0.8, 2000 networks
    assert np.max(np.abs(drift_networks.binomial_z(frac, 0.8, 2000, 0.0))) < 4
    assert np.min(np.abs(drift_networks.binomial_z(frac, 0.9, 2000, 0.0))) > 4   # foil: p off by 0.1
    a = drift_networks.phi_allowance(1.0, 0.5, 1.0, 0.1)
    assert 0 < a < 0.01 and drift_networks.binomial_z(0.70, 0.6915, 2000, a) < drift_networks.binomial_z(0.70, 0.6915,
                                                                                                      2000, 0.0)


def test_paired_se_is_the_sample_sd_of_the_differences():
    rng = np.random.default_rng(2)
    a, b = rng.random(1500) < 0.05, rng.random(1500) < 0.08
    d = a.astype(float) - b
    assert np.isclose(bias_ablation.paired_se(a, b), np.std(d) / np.sqrt(d.size), rtol=1e-12)
    assert bias_ablation.paired_se(a, a) == 0.0


def test_ten_class_digits_split():
    X, Y, Xt, labels = bias_ablation.ten_classes(5)
    assert X.shape == (50, 64) and Y.shape == (50, 10) and np.array_equal(Y.sum(axis=0), np.full(10, 5.0))
    assert Xt.shape[0] == labels.size == 10 * (174 - 5) and np.allclose(np.sum(X ** 2, axis=1), 64, rtol=1e-13)
    assert np.array_equal(np.bincount(labels), np.full(10, 169))
    flat = {tuple(np.round(x, 12)) for x in X}
    assert not any(tuple(np.round(x, 12)) in flat for x in Xt)                   # train and test disjoint


@pytest.mark.slow
@pytest.mark.parametrize("name,stem", [("drift-networks", "drift_networks"), ("bias-ablation", "bias_ablation")])
def test_quick_reproduction(tmp_path, name, stem):
    lines = []
    run_reproduction(name, tmp_path, quick=True, jobs=2, echo=lines.append)
    meta = json.loads((tmp_path / name / f"{name}.json").read_text())
    assert (tmp_path / name / f"{stem}.png").is_file() and meta["claims"], lines
    if name == "drift-networks":       # the check and both foils must come out as stated
        assert all(c["status"] == "PASS" for c in meta["claims"]), lines
