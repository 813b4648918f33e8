"""symndk.Network / symndk.NDK: one validated description, kernels built once, the same numbers as
the first release's free functions (whose code paths are checked here against closed forms)."""
import numpy as np
import pytest

import symndk
from symndk import data
from symndk.errors import SymndkError

DS = data.synthetic(4, 0.6)


def test_network_is_immutable_and_validated():
    net = symndk.Network("erf", 3, 0.25, 2.0)
    with pytest.raises(Exception):
        net.depth = 4
    for bad, match in [(dict(activation="/tmp/x"), "activation name"), (dict(depth=True), "depth"),
                       (dict(sigma_sq=float("nan")), "sigma_sq"), (dict(sigma0_sq="a"), "sigma0_sq"),
                       (dict(activation="nope"), "no generated kernels")]:
        with pytest.raises(SymndkError, match=match):
            symndk.Network(**bad)


def test_second_method_reuses_the_kernels():
    ndk = symndk.NDK(symndk.Network("relu", 2), DS.X_train, DS.y_train, T=0.05)
    ndk.predict([1.0, 50.0], DS.X_test)
    first = dict(ndk.builds)
    ndk.predict([2.0, 50.0], DS.X_test)          # same horizon: nothing rebuilt
    ndk.ntk_dynamics([1.0], DS.X_test)
    ndk.equilibrium("ntk", DS.X_test)
    assert ndk.builds == first == {"kernels": 1, "compressions": 1}
    ndk.equilibrium("nngp", DS.X_test)            # the stationary kernel (sigma0 = sigma) is a new build
    assert ndk.builds["kernels"] == 2


def test_model_equals_free_functions():
    kw = dict(activation="erf", depth=2, sigma0_sq=0.5, sigma_sq=1.5)
    ndk = symndk.NDK(symndk.Network(**kw), DS.X_train, DS.y_train, T=0.2)
    times = [0.5, 10.0]
    pairs = [(ndk.predict(times, DS.X_test), symndk.predict(DS.X_train, DS.y_train, DS.X_test, T=0.2, times=times, **kw)),
             (ndk.equilibrium("nngp", DS.X_test), symndk.nngp_equilibrium(DS.X_train, DS.y_train, DS.X_test, T=0.2, **kw)),
             (ndk.drift(2.0, [2.0, 4.0], DS.X_test),
              symndk.drift(DS.X_train, DS.y_train, DS.X_test, t0=2.0, times=[2.0, 4.0], T=0.2, **kw))]
    for a, b in pairs:
        np.testing.assert_array_equal(a.train, b.train)
        np.testing.assert_array_equal(a.test, b.test)


def test_linear_network_matches_closed_forms():
    """Linear activation, L = 1: NTK = 2 sigma0^2 K_0 and NNGP = sigma^2 K_0 (independent closed forms)."""
    X, y, Xt = DS.X_train, DS.y_train, DS.X_test
    K0, k0 = X @ X.T / X.shape[1], Xt @ X.T / X.shape[1]
    ndk = symndk.NDK(symndk.Network("linear", 1, 0.5, 2.0), X[:2], y[:2], T=0.3)
    K0, k0 = K0[:2, :2], k0[:, :2]
    ntk = ndk.equilibrium("ntk", Xt)
    np.testing.assert_allclose(ntk.test[0], k0 @ np.linalg.solve(K0, y[:2]), rtol=1e-12)
    nngp = ndk.equilibrium("nngp", Xt)
    gamma = 0.3 / 2.0
    np.testing.assert_allclose(nngp.test[0], 2.0 * k0 @ np.linalg.solve(2.0 * K0 + gamma * np.eye(2), y[:2]),
                               rtol=1e-12)
    t = np.array([0.0, 0.7, 5.0])
    lam, V = np.linalg.eigh(2 * 0.5 * K0)
    flow = (V * -np.expm1(-np.outer(t, lam))[:, None, :]) @ (V.T @ y[:2])
    np.testing.assert_allclose(ndk.ntk_dynamics(t).train, flow, atol=1e-14)


def test_result_metadata_and_files(tmp_path):
    ndk = symndk.NDK(symndk.Network(), DS.X_train, DS.y_train, T=0.01)
    res = ndk.predict([1.0], DS.X_test, rtol=1e-8)
    md = res.metadata
    assert md["network"] == {"activation": "relu", "depth": 2, "sigma0_sq": 0.5, "sigma_sq": 1.0}
    assert (md["T"], md["data"]["P"], md["data"]["Q"], md["rtol"], md["version"]) == (0.01, 4, 1, 1e-8, symndk.__version__)
    assert len(md["data"]["hash"]) == 16 and md["seconds"] >= 0
    symndk.save_result(res, tmp_path / "r")
    back = symndk.load_result(tmp_path / "r")
    np.testing.assert_array_equal(back.train, res.train)
    assert back.metadata["network"] == md["network"]


def test_duplicated_training_rows_are_refused_not_garbage():
    X = np.vstack([DS.X_train, DS.X_train[:1]])
    y = np.append(DS.y_train, -DS.y_train[0])      # the same input with the opposite label
    ndk = symndk.NDK(symndk.Network(), X, y, T=0.01)
    with pytest.raises(SymndkError, match="singular to double precision"):
        ndk.equilibrium("ntk")
    eq = ndk.equilibrium("nngp")                   # regularised by gamma: a defined answer
    assert np.all(np.isfinite(eq.train))


def test_overflow_is_one_clear_error():
    ndk = symndk.NDK(symndk.Network("cube", 8, 0.5, 50.0), DS.X_train, DS.y_train, T=0.01)
    with pytest.raises(SymndkError, match="(NTK|two-time kernel) overflowed"):
        ndk.ntk_dynamics([1.0])


@pytest.mark.parametrize("command", ["solve", "simulate", "reference"])
def test_cli_flags_come_from_the_network_fields(command):
    import argparse
    import dataclasses
    import importlib

    parser = argparse.ArgumentParser()
    importlib.import_module(f"symndk.commands.{command}").add_arguments(parser)
    dests = {a.dest for a in parser._actions}
    assert {f.name for f in dataclasses.fields(symndk.Network)} <= dests
    args = parser.parse_args([])
    net = symndk.Network(**{f.name: getattr(args, f.name) for f in dataclasses.fields(symndk.Network)})
    assert net == symndk.Network()


def test_a_missed_tolerance_warns_and_a_met_one_does_not():
    import warnings

    from symndk.errors import SymndkWarning

    ndk = symndk.NDK(symndk.Network("relu", 2), DS.X_train[:6], DS.y_train[:6], T=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SymndkWarning)
        met = ndk.predict([1.0, 10.0])
    assert met.error_estimate <= 1e-12 + 1e-10 * max(1.0, np.abs(DS.y_train[:6]).max())
    with pytest.warns(SymndkWarning, match="exceeds the tolerance"):
        ndk.predict([1.0, 10.0], rtol=0.0, atol=0.0, max_refine=0)


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_drift_and_temporal_estimates_bound_independent_routes(act):
    # stationary prior (sigma0 = sigma) and t0 = 60/gamma: the drift is the equilibrium closed form
    # k_L(lag)^T (K_GP + gamma)^-1 Y, and g(t, t) is the predictor (docs/theory.md §7, §8); both
    # used to report error_estimate 0
    ndk = symndk.NDK(symndk.Network(act, 2, 1.0, 1.0), DS.X_train, DS.y_train, T=0.05)
    t0 = 60 / ndk.gamma
    lags = np.array([0.0, 0.3, 1.0, 3.0]) / ndk.gamma
    drift, eq = ndk.drift(t0, t0 + lags, DS.X_test), ndk.drift_equilibrium(lags, DS.X_test)
    assert 0 < drift.error_estimate < 1e-10
    assert max(np.abs(drift.train - eq.train).max(), np.abs(drift.test - eq.test).max()) <= drift.error_estimate
    g, f = ndk.temporal_correlation(t0, t0, DS.X_test), ndk.predict([t0], DS.X_test)
    assert 0 < g.error_estimate < 1e-10
    assert np.abs(g.test - f.test).max() <= g.error_estimate + f.error_estimate
