"""Public solver API: input validation, limits (NTK, NNGP), drift, temporal correlation."""
import numpy as np
import pytest

import symndk
from symndk import data
from symndk.errors import SymndkError
from symndk import api

DS = data.synthetic(3, 0.6)
KW = dict(activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0)


def _args(**over):
    base = dict(X_train=DS.X_train, y_train=DS.y_train, X_test=DS.X_test, T=0.5, times=[0.0, 1.0], **KW)
    base.update(over)
    return base


@pytest.mark.parametrize("over, match", [
    (dict(y_train=np.ones(2)), "y_train"),
    (dict(X_test=np.ones((1, 2))), "X_test"),
    (dict(X_train=np.full((3, 4), np.nan)), "non-finite"),
    (dict(X_train=[["a", "b"], ["c", "d"]]), "X_train must be an array of numbers"),
    (dict(y_train=[None, {}, 1]), "y_train must be an array of numbers"),
    (dict(sigma_sq=-1.0), "sigma_sq"),
    (dict(sigma0_sq=-0.5), "sigma0_sq"),
    (dict(sigma0_sq=0.0), "sigma0_sq must be finite and > 0"),
    (dict(times=[0.0, 1e300]), "must lie in"),
    (dict(depth=10**6), "depth must be an integer in 1..100"),
    (dict(T=-0.1), "T must"),
    (dict(times=[1.0, 0.5]), "sorted"),
    (dict(times=[-1.0, 0.5]), "must lie in \\[0, "),
    (dict(times=[0.0, np.inf]), "non-finite"),
    (dict(X_train=np.vstack([np.zeros(4), DS.X_train[1:]])), "zero norm"),
    (dict(depth=0), "depth"),
    (dict(activation="no-such-activation"), "activation"),
])
def test_bad_input_gives_one_clear_error(over, match):
    with pytest.raises(SymndkError, match=match):
        symndk.predict(**_args(**over))


def test_T_zero_is_pure_ntk_dynamics():
    times = np.array([0.0, 0.3, 2.0, 1e4])
    res = symndk.predict(**_args(T=0.0, times=times))
    ntk = symndk.ntk_dynamics(DS.X_train, DS.y_train, DS.X_test, times=times, **KW)
    np.testing.assert_allclose(res.train, ntk.train, atol=1e-15)
    eq = symndk.ntk_equilibrium(DS.X_train, DS.y_train, DS.X_test, **KW)
    np.testing.assert_allclose(ntk.test[-1], eq.test[0], atol=1e-12)
    np.testing.assert_allclose(ntk.train[-1], DS.y_train, atol=1e-12)


def test_volterra_tends_to_ntk_dynamics_as_T_to_zero():
    """ReLU: K^d - K_NTK ~ sqrt(gamma tau) (the cusp), so the gap closes like sqrt(T)."""
    times = np.array([0.5, 2.0, 5.0])
    ntk = symndk.ntk_dynamics(DS.X_train, DS.y_train, DS.X_test, times=times, **KW)
    Ts = np.array([1e-3, 1e-5, 1e-7])
    gaps = []
    for T in Ts:
        res = symndk.predict(**_args(T=T, times=times))
        gaps.append(max(np.abs(res.train - ntk.train).max(), np.abs(res.test - ntk.test).max()))
    slope = np.polyfit(np.log(Ts), np.log(gaps), 1)[0]
    assert gaps[-1] < 1e-3 and 0.4 < slope < 0.65, (gaps, slope)


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_volterra_tends_to_nngp_equilibrium(act):
    T = 0.5
    kw = dict(KW, activation=act)
    res = symndk.predict(DS.X_train, DS.y_train, DS.X_test, T=T, times=[1.0, 80.0], **kw)
    eq = symndk.nngp_equilibrium(DS.X_train, DS.y_train, DS.X_test, T=T, **kw)
    np.testing.assert_allclose(res.train[-1], eq.train[0], atol=1e-8)
    np.testing.assert_allclose(res.test[-1], eq.test[0], atol=1e-8)
    assert res.error_estimate < 1e-8


def test_error_estimate_bounds_the_error():
    times = np.array([0.5, 5.0, 20.0])
    res = symndk.predict(**_args(T=0.05, times=times))
    fine = symndk.predict(**_args(T=0.05, times=times), m=16)
    err = max(np.abs(res.train - fine.train).max(), np.abs(res.test - fine.test).max())
    assert err <= res.error_estimate + 1e-13
    assert res.error_estimate < 1e-9


def test_drift_at_t0_is_the_predictor():
    t0 = 3.0
    dr = symndk.drift(DS.X_train, DS.y_train, DS.X_test, t0=t0, times=[t0], T=0.5, **KW)
    res = symndk.predict(**_args(times=[t0]))
    np.testing.assert_allclose(dr.test, res.test, atol=1e-9)
    np.testing.assert_allclose(dr.train, res.train, atol=1e-9)


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_drift_general_formula_at_large_t0_is_the_lag_formula(act):
    T, kw = 0.5, dict(KW, activation=act)
    t0 = 60.0                                             # gamma t0 = 30: at equilibrium
    lags = np.array([0.0, 1.0, 4.0])
    dr = symndk.drift(DS.X_train, DS.y_train, DS.X_test, t0=t0, times=t0 + lags, T=T, **kw)
    eq = api.drift_equilibrium(DS.X_train, DS.y_train, DS.X_test, lags=lags, T=T, **kw)
    np.testing.assert_allclose(dr.test, eq.test, atol=1e-8)
    np.testing.assert_allclose(dr.train, eq.train, atol=1e-8)


def test_decorrelated_limit():
    T = 0.5
    far = api.drift_equilibrium(DS.X_train, DS.y_train, DS.X_test, lags=[60.0, np.inf], T=T, **KW)
    np.testing.assert_allclose(far.test[0], far.test[1], atol=1e-10)
    assert abs(far.test[1, 0]) > 1e-3                       # ReLU: norms carry information
    odd = api.drift_equilibrium(DS.X_train, DS.y_train, DS.X_test, lags=[np.inf], T=T,
                                **dict(KW, activation="erf"))
    assert np.all(odd.test == 0.0)


def test_temporal_correlation_on_the_diagonal_is_the_predictor():
    t = 4.0
    g = symndk.temporal_correlation(DS.X_train, DS.y_train, DS.X_test, t_a=t, t_w=t, T=0.5, **KW)
    res = symndk.predict(**_args(times=[t]))
    np.testing.assert_allclose(g.test, res.test, atol=1e-9)
    ga = symndk.temporal_correlation(DS.X_train, DS.y_train, DS.X_test, t_a=6.0, t_w=t, T=0.5, **KW)
    assert np.all(np.isfinite(ga.test)) and not np.allclose(ga.test, g.test, atol=1e-6)
