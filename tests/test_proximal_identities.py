"""Markov proximal learning identities (docs/theory.md §D): tiers, and that the checks can fail."""
from __future__ import annotations

import math

import mpmath as mp
import pytest

from symndk.identities import catalogue, select
from symndk.identities import cat_proximal as cp
from symndk.runtime import proximal as rt

SYMBOLIC = ["proximal.convention", "proximal.c_inf.stationary", "proximal.C_n.recursion", "proximal.sibling",
            "proximal.lambda_limit.propagator", "proximal.lambda_limit.C", "proximal.proximal_point",
            "proximal.schedule.constant"]


def test_symbolic_tiers():
    got = {i.id: i.verify() for i in cp.identities([])}
    assert sorted(got) == sorted(SYMBOLIC)
    assert all(r.tier == "symbolic" for r in got.values()), {k: r.detail for k, r in got.items()}


def test_registered_in_catalogue():
    ids = {i.id for i in select(catalogue(["relu"]), "proximal.*")}
    assert set(SYMBOLIC) <= ids and "proximal.relu.sum_rule" in ids


@pytest.mark.parametrize("suffix", ["integral_form", "lambda_limit.ndk", "beta_limit", "sum_rule", "psd", "equilibrium"])
def test_sampled_relu(suffix):
    ident = next(i for i in cp.identities(["relu"]) if i.id == f"proximal.relu.{suffix}")
    r = ident.verify()
    assert r.tier == "sampled", r.detail


def test_convention_check_rejects_beta_equal_one_over_T():
    # the Langevin diffusion per unit time is lambda v -> 1/beta: 2T only for beta = 1/(2T)
    lam = 1e9
    _, v, _ = rt.chain(lam, 0.1, 1 / (2 * 0.3), math.log1p)
    assert abs(lam * v - 2 * 0.3) < 1e-6
    _, v, _ = rt.chain(lam, 0.1, 1 / 0.3, math.log1p)
    assert abs(lam * v - 2 * 0.3) > 0.1


def test_sum_rule_fails_for_wrong_lag_one_kernel():
    """The telescoped sum is G(c_inf) + G(a c_inf); G(c_inf) + G(a^2 c_inf) (a plausible slip) must fail."""
    duals = cp.MpDuals(cp.get_activation("erf"))
    with mp.workdps(30):
        ch = cp._Chain(mp.mpf("0.5"), mp.mpf(2), 0, 1)
        ch.s0 = ch.cinf
        k0 = (mp.mpf("0.8"), mp.mpf("1.1"), mp.mpf("0.3"))
        total = mp.fsum(cp._stationary_lags(ch, duals, 1, k0, cp.gauss_legendre01(20), 25))
        G = lambda c: rt.output_kernel(*k0, ch.cinf, ch.cinf, c, 1, duals)  # noqa: E731
        assert abs(total - G(ch.cinf) - G(ch.a * ch.cinf)) < mp.mpf(10) ** -20
        assert abs(total - G(ch.cinf) - G(ch.a ** 2 * ch.cinf)) > mp.mpf(10) ** -3


def test_integral_form_keeps_digits_where_difference_cancels():
    """float64: the GL integral keeps ~15 digits at width 1e-12; the plain difference loses ~12."""
    import numpy as np
    from symndk.kernels import loader

    duals, mpd = loader.load("relu"), cp.MpDuals(cp.get_activation("relu"))
    args = (1.0, 1.0, 0.6, 1.2, 1.1, 0.9, 1e-12)
    x, w = np.polynomial.legendre.leggauss(8)
    nodes, weights = (x + 1) / 2, w / 2
    got = rt.delta_kernel(*args[:6], args[6], None, 2, duals, nodes, weights)
    diff = rt.delta_kernel_difference(*args[:6], args[6], 2, duals)
    with mp.workdps(60):
        want = rt.delta_kernel_difference(*[mp.mpf(a) for a in args[:6]], mp.mpf("1e-12"), 2, mpd)
    assert abs(got - want) / abs(want) < 1e-13
    assert abs(diff - want) / abs(want) > 1e-8


@pytest.mark.parametrize("suffix", ["groups.integral_form", "groups.lambda_limit.ndk", "groups.sum_rule"])
def test_sampled_groups_relu(suffix):
    """Biases and per-layer variances (docs/theory.md §D): measured residuals 5e-61, 3e-31 (lambda = 1e30,
    order 1.000), 2e-41; the sum rule carries its own one-rate foil."""
    ident = next(i for i in cp.identities(["relu"]) if i.id == f"proximal.relu.{suffix}")
    r = ident.verify()
    assert r.tier == "sampled", r.detail


def test_groups_integral_form_foil_one_width_fails():
    """The line integral needs each group's own width: giving every group the readout's width w
    (a scalar-network slip) misses G(c_hi) - G(c_hi - w) by far more than the 40 checked digits."""
    duals = cp.MpDuals(cp.get_activation("erf"))
    with mp.workdps(40):
        g = cp._Groups(mp.mpf("2.5"), mp.mpf("0.3"))
        k0 = (mp.mpf("0.8"), mp.mpf("1.1"), mp.mpf("0.3"))
        w, b = g.stats(3, 1)
        gl = cp.gauss_legendre01(30)
        good = rt.delta_kernel(*k0, *w, 2, duals, *gl, bias=b)
        same = [w[3][-1]] * 3
        bad = rt.delta_kernel(*k0, w[0], w[1], w[2], same, w[4], 2, duals, *gl,
                              bias=[None if x is None else (*x[:3], w[3][-1]) for x in b])
        want = g.difference(duals, k0, 3, 1)
        assert abs(good - want) < mp.mpf(10) ** -30 and abs(bad - want) > mp.mpf(10) ** -4
