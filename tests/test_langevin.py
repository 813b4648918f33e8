"""Unit tests of the Langevin simulator: backprop, one Euler-Maruyama step, the prior OU
statistics, antithetic pairs, the scenarios' exact consistency relations, and input errors."""
import math

import numpy as np
import pytest

from symndk.errors import SymndkError
from symndk.kernels import loader as duals
from symndk.langevin.simulator import simulate
from symndk.langevin.network import Ensemble


class _ZeroNoise:
    """Stands in for a Generator: the noise draws are zero, so a step is pure gradient descent."""

    def standard_normal(self, size=None, out=None):
        if out is None:
            return np.zeros(size)
        out[...] = 0.0
        return out


def _net(activation, depth, B=3, n_in=4, width=6, seed=0):
    k = duals.load(activation)
    rng = np.random.default_rng(seed)
    return Ensemble.sample(rng, n_in, [width] * depth, B, 0.7, k.phi, k.dphi)


def _energy(net, X, y, gamma):
    f = net.forward(X)[2]
    params = sum((v**2).sum(axis=(1, 2)) for v in net.V) + (net.a**2).sum(axis=1)
    return 0.5 * ((f - y) ** 2).sum(axis=1) + 0.5 * gamma * params


@pytest.mark.parametrize("activation,depth", [("erf", 1), ("erf", 3), ("relu", 2), ("linear", 2)])
def test_step_is_gradient_descent_on_the_energy(activation, depth):
    """With the noise zeroed, a step moves every parameter by -dt dE/dtheta (central differences)."""
    X = np.random.default_rng(1).standard_normal((5, 4))
    y = np.array([1.0, -1.0, 0.5, 0.0, 2.0])
    T, sigma_sq, dt = 0.3, 1.5, 1e-3
    gamma = T / sigma_sq
    net = _net(activation, depth)
    before = [v.copy() for v in (*net.V, net.a)]
    pres, acts, f = net.forward(X)
    net.step(_ZeroNoise(), dt, gamma, T, pres, acts, f - y)
    moved = [(after - b) / -dt for after, b in zip((*net.V, net.a), before)]
    probe = _net(activation, depth)
    eps = 1e-6
    rng = np.random.default_rng(2)
    for arr_idx, arr in enumerate((*probe.V, probe.a)):
        for _ in range(4):
            idx = tuple(rng.integers(0, n) for n in arr.shape[1:])
            for b in range(arr.shape[0]):
                old = arr[(b, *idx)]
                arr[(b, *idx)] = old + eps
                ep = _energy(probe, X, y, gamma)[b]
                arr[(b, *idx)] = old - eps
                em = _energy(probe, X, y, gamma)[b]
                arr[(b, *idx)] = old
                assert moved[arr_idx][(b, *idx)] == pytest.approx((ep - em) / (2 * eps), rel=1e-6, abs=1e-8)


def test_prior_only_steps_follow_the_euler_maruyama_variance_recursion():
    """Without the loss each weight is a discrete OU chain: v_n = (1 - gamma dt)^2 v_{n-1} + 2 T dt."""
    net = _net("relu", 2, B=50, width=40)
    net.V = [np.full_like(v, 0.0) + math.sqrt(0.5) * np.random.default_rng(3).standard_normal(v.shape) for v in net.V]
    T, sigma_sq, dt, n = 0.5, 1.0, 0.05, 40
    gamma = T / sigma_sq
    rng = np.random.default_rng(4)
    for _ in range(n):
        net.step(rng, dt, gamma, T)
    var = 0.5
    for _ in range(n):
        var = (1 - gamma * dt) ** 2 * var + 2 * T * dt
    sample = net.V[1].ravel()  # 50 * 40 * 40 = 80,000 i.i.d. draws
    se = var * math.sqrt(2 / (sample.size - 1))
    assert abs(sample.var() - var) < 4 * se
    assert abs(sample.mean()) < 4 * math.sqrt(var / sample.size)


def _task():
    X = math.sqrt(3.0) * np.eye(3)
    return X[:2], np.array([1.0, -1.0]), (X[0:1] + X[2:3]) / math.sqrt(2.0)


def _run(**kw):
    X, y, Xt = _task()
    args = dict(activation="relu", depth=1, width=32, T=0.2, dt=0.05, times=[0.0, 0.5, 1.0],
                n_networks=20, seed=3, progress=False)
    args.update(kw)
    return simulate(X, y, Xt, **args)


def test_seed_reproduces_and_distinguishes():
    a, b, c = _run(), _run(), _run(seed=4)
    assert np.array_equal(a.train, b.train) and np.array_equal(a.test_se, b.test_se)
    assert not np.allclose(a.train[1:], c.train[1:])


def test_antithetic_pairs_cancel_the_prior_part_and_shrink_the_standard_error():
    anti, plain = _run(n_networks=200), _run(n_networks=200, antithetic=False)
    assert np.array_equal(anti.train[0], np.zeros(2))  # f(a) + f(-a) = 0 at t = 0
    assert anti.metadata["n_units"] == 100 and plain.metadata["n_units"] == 200
    ratio = plain.train_se[1:].mean() / anti.train_se[1:].mean()
    assert ratio > 2.5, ratio


def test_batches_cover_the_whole_ensemble():
    res = _run(n_networks=22, batch_size=8)
    assert res.metadata["n_units"] == 11 and np.all(np.isfinite(res.train_se))


def test_temporal_correlation_on_the_diagonal_is_the_predictor():
    """g(x; t, t) = f(x, t) network by network, so the ensemble means agree exactly."""
    res = _run(pairs=[(0.5, 0.5), (1.0, 1.0), (1.0, 0.5)])
    np.testing.assert_allclose(res.pair_train[:2], res.train[1:], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.pair_test_se[:2], res.test_se[1:], rtol=1e-12, atol=1e-14)
    assert res.pairs.shape == (3, 2)


def test_frozen_readout_before_t0_and_at_zero_temperature():
    free, frozen = _run(), _run(freeze_readout_at=0.5)
    np.testing.assert_array_equal(free.train[:2], frozen.train[:2])
    cold = _run(freeze_readout_at=0.5, T=0.0)  # no noise: nothing moves after t0
    np.testing.assert_allclose(cold.test[2], cold.test[1], rtol=0, atol=1e-14)


@pytest.mark.parametrize("kw,match", [
    (dict(times=[0.0, 0.33]), "multiple of dt"),
    (dict(n_networks=21), "even"),
    (dict(depth=0), "depth"),
    (dict(width=[8, 8]), "width"),
    (dict(dt=-0.1), "dt"),
    (dict(T=-1.0), "T must"),
    (dict(times=None), "times"),
    (dict(activation="no-such-activation"), "no-such-activation"),
])
def test_bad_input_raises_symndk_error(kw, match):
    with pytest.raises(SymndkError, match=match):
        _run(**kw)


def test_bad_shapes_raise_symndk_error():
    X, y, Xt = _task()
    with pytest.raises(SymndkError, match="y_train"):
        simulate(X, y[:1], Xt, times=[0.0], progress=False)
    with pytest.raises(SymndkError, match="X_test"):
        simulate(X, y, Xt[:, :2], times=[0.0], progress=False)

