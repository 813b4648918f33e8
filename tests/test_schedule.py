"""Continuous-time schedules (docs/theory.md §E): T(t) annealing and a learning rate eta(t).

Independent routes:

* the prior: :func:`prior_C` at the decay clock against a numerical ODE solve of
  d/dt C(t,t) = -2 eta gamma C + 2 eta T and C(t,s) = e^{-int_s^t eta gamma} C(s,s) (scipy quad and
  solve_ivp), and symbolically (SymPy, G an undefined function);
* linear activation, L = 1: K^d is separable, the Volterra equation becomes an ODE, solved by
  solve_ivp at rtol 1e-12 with the user's callables (no Schedule, recursion, compression or collocation);
* erf, L = 2: a brute-force two-time Nystrom solve (trapezoid on a uniform grid, every kernel block
  evaluated directly, prior from the ODE) with Richardson extrapolation;
* eta(t) alone is a change of time: the scheduled two-time solver (with the weight eta(s)) equals the
  constant-rate predictor at tau(t) = int eta; the unmapped time is the foil;
* the long-time identity fails: the end point of an anneal is not the NNGP equilibrium at the final T.
"""
import math

import numpy as np
import pytest
import scipy.integrate as si

import symndk
from symndk.dynamics.schedule import Clock, Schedule
from symndk.errors import SymndkError
from symndk.kernels import loader
from symndk.runtime.recursion import layer_kernels, prior_C

DS = symndk.data.synthetic(P=3, r=0.6)
T_ANNEAL = lambda t: 0.3 * np.exp(-t / 2.0) + 0.02          # noqa: E731
ETA = lambda t: 1.0 + 0.5 * np.sin(t)                         # noqa: E731


def _rate(t, s2):
    return ETA(t) * T_ANNEAL(t) / s2


def test_prior_at_the_clock_solves_the_scheduled_ou_equations():
    s0, s2, t_end = 0.4, 1.3, 6.0
    clock = Clock(T_ANNEAL, ETA, s2, t_end)
    ode = si.solve_ivp(lambda t, v: [-2 * _rate(t, s2) * v[0] + 2 * ETA(t) * T_ANNEAL(t)], (0, t_end), [s0],
                       method="DOP853", rtol=1e-13, atol=1e-15, dense_output=True)
    for t, s in [(0.5, 0.5), (3.0, 1.0), (6.0, 0.0), (5.5, 5.0)]:
        G = lambda u: si.quad(lambda x: _rate(x, s2), 0, u, epsabs=1e-14, epsrel=1e-13, limit=200)[0]  # noqa: E731
        expected = math.exp(-(G(t) - G(s))) * ode.sol(s)[0]
        got = prior_C(clock.G(t), clock.G(s), s0, s2, 1.0, math.exp)
        assert abs(got - expected) < 1e-10, (t, s, got, expected)
        assert abs(clock.G(t) - G(t)) < 1e-13
    # foil: the constant-T prior at the mean temperature
    assert abs(prior_C(3.0, 1.0, s0, s2, float(np.mean(T_ANNEAL(np.linspace(0, 6, 99)))) / s2, math.exp)
               - math.exp(-(clock.G(3.0) - clock.G(1.0))) * ode.sol(1.0)[0]) > 1e-2


def test_prior_at_the_clock_symbolically():
    sp = pytest.importorskip("sympy")
    t, s, s0, s2 = sp.symbols("t s sigma0_sq sigma_sq", positive=True)
    G = sp.Function("G")
    Ctt = prior_C(G(t), G(t), s0, s2, 1, sp.exp)
    Cts = prior_C(G(t), G(s), s0, s2, 1, sp.exp)
    rate = sp.Derivative(G(t), t)             # eta gamma; eta T = sigma^2 eta gamma
    assert sp.simplify(sp.diff(Ctt, t) - (-2 * rate * Ctt + 2 * s2 * rate)) == 0
    assert sp.simplify(sp.diff(Cts, t) + rate * Cts) == 0
    assert sp.simplify(Cts - sp.exp(-(G(t) - G(s))) * prior_C(G(s), G(s), s0, s2, 1, sp.exp)) == 0


def _linear_ode(X, y, Xt, s0, s2, times, Tf=T_ANNEAL, etaf=ETA):
    """Linear phi, L = 1: K^d(t, s) = 2 e^{-2 (G(t) - G(s))} v(s) K0, so J = e^{-2G} int eta e^{2G} v r obeys
    J' = -2 eta gamma J + eta v (Y - 2 K0 J), v' = -2 eta gamma (v - sigma^2); f = 2 K0 J."""
    n0 = X.shape[1]
    K0, k0 = X @ X.T / n0, Xt @ X.T / n0
    P = len(y)

    def rhs(t, z):
        v, J = z[0], z[1:]
        g = etaf(t) * Tf(t) / s2
        return np.concatenate([[-2 * g * (v - s2)], -2 * g * J + etaf(t) * v * (y - 2 * K0 @ J)])

    sol = si.solve_ivp(rhs, (0, times[-1]), np.concatenate([[s0], np.zeros(P)]), method="DOP853", rtol=3e-14,
                       atol=1e-16, t_eval=times)
    J = sol.y[1:].T
    return 2 * J @ K0.T, 2 * J @ k0.T


_UP_DOWN = ([0.0, 3.0, 10.0], [0.0, 0.6, 0.0])              # heats from T = 0, anneals back to T = 0
_WARM = ([0.0, 1.0, 10.0], [0.2, 2.0, 0.5])                 # learning-rate warm-up, then decay


@pytest.mark.parametrize("T_s,eta_s,Tf,etaf", [
    (T_ANNEAL, ETA, T_ANNEAL, ETA),
    (_UP_DOWN, _WARM, lambda t: np.interp(t, *_UP_DOWN), lambda t: np.interp(t, *_WARM)),
    (lambda t: 0.02 + 0.1 * t, None, lambda t: 0.02 + 0.1 * t, lambda t: 1.0),
])
def test_linear_network_matches_the_ode_solution(T_s, eta_s, Tf, etaf):
    s0, s2 = 0.6, 1.3
    times = np.array([0.1, 1.0, 4.0, 10.0])
    ndk = symndk.NDK(symndk.Network("linear", 1, s0, s2), DS.X_train, DS.y_train, T=0.1)
    res = ndk.predict(times, DS.X_test, T_schedule=T_s, eta_schedule=eta_s)
    train, test = _linear_ode(DS.X_train, DS.y_train, DS.X_test, s0, s2, times, Tf, etaf)
    err = max(np.max(np.abs(res.train - train)), np.max(np.abs(res.test - test)))
    assert err < 1e-9, err
    assert res.error_estimate < 1e-8 and err < 10 * res.error_estimate + 1e-11, (err, res.error_estimate)
    # foil: constant T = T(1)
    const = ndk.predict(times, DS.X_test, T_schedule=float(Tf(1.0)), eta_schedule=eta_s)
    assert np.max(np.abs(const.test - test)) > 1e-3


def _brute_force(X, y, Xt, act, L, s0, s2, t_end, N):
    """Trapezoid Nystrom on N uniform steps, kernel blocks straight from the recursion with the ODE prior."""
    duals = loader.load(act, "numpy")
    tg = np.linspace(0.0, t_end, N + 1)
    G = np.concatenate([[0.0], np.cumsum([si.quad(lambda x: _rate(x, s2), a, b, epsabs=1e-15)[0]
                                          for a, b in zip(tg[:-1], tg[1:])])])
    v = s2 + (s0 - s2) * np.exp(-2 * G)              # the OU variance solved in closed form in G
    rows = np.vstack([X, Xt])
    n0 = X.shape[1]
    nr = np.einsum("ij,ij->i", rows, rows) / n0
    k0 = rows @ X.T / n0
    P = X.shape[0]
    h = t_end / N
    r = np.zeros((N + 1, P))
    f = np.zeros((N + 1, rows.shape[0]))
    w_eta = ETA(tg)
    for i in range(N + 1):
        j = np.arange(i + 1)
        C_ts = np.exp(-(G[i] - G[j])) * v[j]
        C = lambda c: c[:, None, None]  # noqa: E731
        th = layer_kernels(nr[None, :, None], nr[None, None, :P], k0[None], C(np.full(i + 1, v[i])), C(v[j]),
                           C(C_ts), L, duals)[3]
        Kd = np.exp(-(G[i] - G[j]))[:, None, None] * th                  # (i + 1, R, P)
        w = np.full(i + 1, h) * w_eta[j]
        w[0] *= 0.5
        w[-1] *= 0.5
        if i == 0:
            r[0] = y
            continue
        hist = np.einsum("j,jrp,jp->r", w[:-1], Kd[:-1], r[:i])
        A = np.eye(P) + w[-1] * Kd[-1][:P]
        r[i] = np.linalg.solve(A, y - hist[:P])
        f[i] = hist + w[-1] * Kd[-1] @ r[i]
    return tg, f


def test_erf_network_matches_a_brute_force_two_time_solve():
    s0, s2, L, t_end = 0.6, 1.0, 2, 4.0
    ndk = symndk.NDK(symndk.Network("erf", L, s0, s2), DS.X_train, DS.y_train, T=0.1)
    res = ndk.predict([1.0, 2.0, 4.0], DS.X_test, T_schedule=T_ANNEAL, eta_schedule=ETA)
    fs = []
    for N in (100, 200):
        tg, f = _brute_force(DS.X_train, DS.y_train, DS.X_test, "erf", L, s0, s2, t_end, N)
        fs.append(f[np.searchsorted(tg, [1.0, 2.0, 4.0])])
    rich = (4 * fs[1] - fs[0]) / 3                       # trapezoid error is even in h for a smooth kernel
    got = np.hstack([res.train, res.test])
    assert np.max(np.abs(fs[1] - fs[0])) > 1e-6           # the extrapolation has something to remove
    assert np.max(np.abs(got - rich)) < 1e-8, np.max(np.abs(got - rich))   # measured 1.4e-9 (N = 400: 9e-11)
    # foil: the constant-T solve at the initial temperature
    const = ndk.predict([1.0, 2.0, 4.0], DS.X_test, T_schedule=float(T_ANNEAL(0.0)), eta_schedule=ETA)
    assert np.max(np.abs(np.hstack([const.train, const.test]) - rich)) > 1e-3


def test_learning_rate_is_a_change_of_time():
    ndk = symndk.NDK(symndk.Network("relu", 2, 0.5, 1.0), DS.X_train, DS.y_train, T=0.05)
    eta = ([0.0, 10.0, 50.0], [1.0, 3.0, 0.5])
    tt = np.array([0.5, 3.0, 30.0, 200.0])
    tau = Schedule.from_user(eta, 200.0, "eta", True).integral(tt)
    # tau by adaptive quadrature of the piecewise-linear rate (constant after t = 50)
    by_hand = np.array([si.quad(lambda t: np.interp(t, *eta), 0, x, points=[10.0, 50.0], epsabs=1e-13)[0] for x in tt])
    assert np.max(np.abs(tau - by_hand)) < 1e-9
    mapped = ndk.predict(by_hand, DS.X_test)                          # constant rate at tau(t)
    direct = ndk.predict(tt, DS.X_test, T_schedule=0.05, eta_schedule=eta)   # two-time solve with eta(s)
    err = np.max(np.abs(direct.test - mapped.test)) + np.max(np.abs(direct.train - mapped.train))
    assert err < 1e-9, err
    via = ndk.predict(tt, DS.X_test, eta_schedule=eta)                # the time change itself
    assert np.max(np.abs(via.test - mapped.test)) < 1e-12 and np.allclose(via.tau, by_hand, atol=1e-9)
    foil = ndk.predict(tt, DS.X_test)
    assert np.max(np.abs(foil.test - direct.test)) > 1e-2


def test_constant_schedule_is_predict_and_biases_carry_over():
    tt = [0.5, 5.0, 50.0]
    for net in (symndk.Network("relu", 2, 0.5, 1.0), symndk.Network("erf", 1, 0.8, 1.0, 0.3, 0.5)):
        ndk = symndk.NDK(net, DS.X_train, DS.y_train, T=0.1)
        a, b = ndk.predict(tt, DS.X_test), ndk.predict(tt, DS.X_test, T_schedule=0.1)
        c = ndk.predict(tt, DS.X_test, T_schedule=([0.0, 50.0], [0.1, 0.1]))
        for x in (b, c):
            assert np.max(np.abs(a.test - x.test)) < 1e-9 and np.max(np.abs(a.train - x.train)) < 1e-9


def test_long_time_identity_fails_at_the_end_of_an_anneal():
    """Anneal T from 0.2 to 0.005 over t = 40: the end point is not the NNGP equilibrium at the final T;
    held at that T for long (gamma_final t = 20) the trajectory does relax to it."""
    net = symndk.Network("erf", 1, 2.0, 1.0)
    table = ([0.0, 40.0], [0.2, 0.005])
    ndk = symndk.NDK(net, DS.X_train, DS.y_train, T=0.005)
    res = ndk.predict([40.0, 4000.0], DS.X_test, T_schedule=table)
    nngp = ndk.equilibrium("nngp", DS.X_test).test[0]
    gap = np.abs(res.test - nngp)[:, 0]
    assert gap[0] > 1e-3 and gap[0] > 1e6 * res.error_estimate, (gap, res.error_estimate)
    assert gap[1] < 1e-8, gap


@pytest.mark.parametrize("kw,match", [
    (dict(T_schedule=([1.0, 2.0], [0.1, 0.1])), "start at 0"),
    (dict(T_schedule=([0.0, 2.0], [0.1, -0.1])), ">= 0"),
    (dict(T_schedule=lambda t: 1 / 0), "ZeroDivisionError"),
    (dict(T_schedule=lambda t: -1.0 + 0 * t), "finite and >= 0"),
    (dict(T_schedule=0.0), "gradient flow"),
    (dict(eta_schedule=([0.0, 1.0], [1.0, 0.0])), "> 0"),
    (dict(T_schedule="0.1"), "table"),
    (dict(T_schedule=([0.0, 1.0], [0.1])), "same length"),
])
def test_bad_schedules_raise_one_clear_error(kw, match):
    ndk = symndk.NDK(symndk.Network("relu", 1), DS.X_train, DS.y_train, T=0.1)
    with pytest.raises(SymndkError, match=match):
        ndk.predict([1.0], **kw)
