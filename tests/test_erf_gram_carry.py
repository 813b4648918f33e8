"""erf's fused ``layer`` returns the next layer's Gram determinant V(q1) V(q2) - F^2 without cancellation
near rho = +-1 (docs/numerics.md §5), against an independent 50-digit mpmath reference written out below
(Williams' arcsine kernel; nothing of symndk's generated kernels is used for it).

The generated numpy ``layer`` takes it, where D < tan(0.3)^2 c^2, from ``_gram_near``: atan differences of
cancellation-free arguments (:func:`symndk.codegen.stable.angle_gram`, proved by ``codegen.gram_near.erf``).
The old route, V(q1) V(q2) - F^2 rounded in float64, is the foil: 3.5e-2 relative at 1 - rho = 1e-15.

Measured (relative error, old route -> generated layer), q1 = 0.05 / 0.7 / 30, equal norms, both signs of
c: 1 - rho = 1e-15: 1.3e-1 / 3.5e-2 / 8.1e-3 -> <= 1e-16; 1e-12: 7.4e-5 / 5.2e-6 / 2.0e-5 -> <= 1.3e-16;
1e-8: 1.8e-9 / 3.6e-9 / 3.2e-10 -> <= 3.9e-16. Unequal norms (q2 = 1.3 q1): 3.2e-13 / 6.9e-14 / 6.4e-13 ->
1.9e-13 / 1.6e-14 / 4.3e-15: what is left is the q-part th*(d1 + d2) + d1 d2, whose d1 + d2 cancels to first
order in q1 - q2 (absolute error ~ eps th* |d_i|; 0 at q1 = q2). Nearly equal norms (q2 = (1 + 1e-6) q1) at
1 - rho = 1e-15: 1.9e-2 -> 6.2e-8 (q1 = 0.05), 1.1e-2 -> 3.5e-11 (q1 = 30): better, not exact.

erf's kernels depend on D only through 1 + 2 q1 + 2 q2 + 4 D, so the static kernels were accurate before
and stay so: depth 3, sigma^2 = 1.3, 1 - rho = 1e-15 / 1e-12 / 1e-8, equal and 1.25x norms: NNGP <= 3.5e-16 and
NTK <= 3.8e-16, the same numbers before and after (the test below guards them).
"""
import mpmath as mp
import numpy as np
import pytest

import symndk
from symndk.kernels import loader

DPS = 50
RHOS = (1e-15, 1e-12, 1e-8)


def _reference_gram(q1, q2, D, sign):
    """V(q1) V(q2) - F^2 at 50 digits: V(q) = (2/pi) asin(2q / (1 + 2q)), F = (2/pi) asin(2c / sqrt((1 + 2q1)(1 + 2q2))),
    c = sign sqrt(q1 q2 - D) from the float64 arguments as they are."""
    with mp.workdps(DPS):
        q1, q2, D = mp.mpf(q1), mp.mpf(q2), mp.mpf(D)
        c = sign * mp.sqrt(q1 * q2 - D)
        V = lambda q: 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q))  # noqa: E731
        F = 2 / mp.pi * mp.asin(2 * c / mp.sqrt((1 + 2 * q1) * (1 + 2 * q2)))
        return V(q1) * V(q2) - F**2


def _arguments(q1, stretch, one_minus_rho, sign):
    """(q1, q2, c, D) in float64 with c = sign (1 - rho) sqrt(q1 q2) and D the float64 rounding of q1 q2 - c^2."""
    q2 = q1 * stretch
    with mp.workdps(60):
        c = float(sign * (1 - mp.mpf(one_minus_rho)) * mp.sqrt(mp.mpf(q1) * mp.mpf(q2)))
        D = float(mp.mpf(q1) * mp.mpf(q2) - mp.mpf(c) ** 2)
    return q1, q2, c, D


def _rel(got, want):
    return float(abs(mp.mpf(float(got)) - want) / abs(want))


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("one_minus_rho", RHOS)
@pytest.mark.parametrize("q1", [0.05, 0.7, 30.0])
def test_layer_gram_near_rho_1(q1, one_minus_rho, sign):
    erf = loader.load("erf", "numpy")
    q1, q2, c, D = _arguments(q1, 1.0, one_minus_rho, sign)
    assert _rel(erf.layer(q1, q2, c, D)[2], _reference_gram(q1, q2, D, sign)) <= 1e-15


@pytest.mark.parametrize("q1,tol", [(0.05, 5e-13), (0.7, 5e-14), (30.0, 2e-14)])
def test_layer_gram_unequal_norms(q1, tol):
    """q2 = 1.3 q1: the q-part dominates; its d1 + d2 cancels to first order in q1 - q2 (see the module doc)."""
    erf = loader.load("erf", "numpy")
    for one_minus_rho in RHOS:
        for sign in (1, -1):
            q1, q2, c, D = _arguments(q1, 1.3, one_minus_rho, sign)
            assert _rel(erf.layer(q1, q2, c, D)[2], _reference_gram(q1, q2, D, sign)) <= tol


def test_layer_gram_nearly_equal_norms_improves():
    """q2 = (1 + 1e-6) q1 at 1 - rho = 1e-15: not exact (what is left), but >= 1e4 better than the old route."""
    erf = loader.load("erf", "numpy")
    for q1 in (0.05, 0.7, 30.0):
        q1, q2, c, D = _arguments(q1, 1.0 + 1e-6, 1e-15, 1)
        want = _reference_gram(q1, q2, D, 1)
        old = _rel(max(erf.V(q1) * erf.V(q2) - erf.F(q1, q2, c, D) ** 2, 0.0), want)
        assert _rel(erf.layer(q1, q2, c, D)[2], want) * 1e4 <= old


def test_foil_the_old_route_misses():
    """V(q1) V(q2) - F^2 rounded in float64 (what ``layer`` returned before) misses the reference at 1 - rho = 1e-15."""
    erf = loader.load("erf", "numpy")
    q1, q2, c, D = _arguments(0.7, 1.0, 1e-15, 1)
    old = max(erf.V(q1) * erf.V(q2) - erf.F(q1, q2, c, D) ** 2, 0.0)
    assert _rel(old, _reference_gram(q1, q2, D, 1)) > 1e-3


def test_layer_gram_blocks_and_away_from_rho_1():
    """Arrays mixing masked (near rho = +-1) and unmasked entries agree with the reference entry by entry."""
    erf = loader.load("erf", "numpy")
    rng = np.random.default_rng(3)
    pts = [_arguments(float(q), float(st), float(g), int(sg))
           for q, st, g, sg in zip(rng.uniform(0.1, 5, 40), rng.choice([1.0, 1.1], 40), 10.0 ** rng.uniform(-15, -0.05, 40),
                                   rng.choice([1, -1], 40))]
    q1, q2, c, D = (np.array(v) for v in zip(*pts))
    got = erf.layer(q1, q2, c, D)[2]
    assert got.shape == (40,)
    for i, (a, b, cc, dd) in enumerate(pts):
        assert _rel(got[i], _reference_gram(a, b, dd, np.sign(cc))) <= 2e-12


# ----------------------------------------------------------------------------- depth-3 static kernels

def _pair(one_minus_rho, stretch=1.0):
    rng = np.random.default_rng(11)
    x, e = rng.standard_normal(6), rng.standard_normal(6)
    e -= (e @ x) / (x @ x) * x
    e *= np.sqrt(2 * one_minus_rho) * np.linalg.norm(x) / np.linalg.norm(e)
    return np.stack([x, stretch * (x + e)])


def _static_reference(X, depth, sigma_sq):
    """(K_L, Theta_L) at 50 digits from the float64 inputs: K_0 = x.x'/N0, q = sigma^2 K, the arcsine kernel and
    its derivative 4 / (pi sqrt((1 + 2 q1)(1 + 2 q2) - 4 c^2)), Theta_0 = K_0, Theta_l = K_l + sigma^2 Kdot_l Theta_{l-1}
    (the readout variance factored out, as ``static_kernels`` returns them)."""
    with mp.workdps(DPS):
        x, y = [mp.mpf(float(v)) for v in X[0]], [mp.mpf(float(v)) for v in X[1]]
        s2, n0 = mp.mpf(sigma_sq), len(x)
        kxx, kyy, kxy = (sum(a * b for a, b in zip(u, v)) / n0 for u, v in ((x, x), (y, y), (x, y)))
        theta = kxy
        for _ in range(depth):
            q1, q2, c = s2 * kxx, s2 * kyy, s2 * kxy
            n = (1 + 2 * q1) * (1 + 2 * q2)
            kdot = 4 / mp.pi / mp.sqrt(n - 4 * c * c)
            kxy = 2 / mp.pi * mp.asin(2 * c / mp.sqrt(n))
            kxx, kyy = (2 / mp.pi * mp.asin(2 * q / (1 + 2 * q)) for q in (q1, q2))
            theta = kxy + s2 * kdot * theta
        return kxy, theta


@pytest.mark.parametrize("stretch", [1.0, 1.25])
@pytest.mark.parametrize("one_minus_rho", RHOS)
def test_static_kernels_depth_3(one_minus_rho, stretch):
    X = _pair(one_minus_rho, stretch)
    got = symndk.static_kernels(X, activation="erf", depth=3, sigma_sq=1.3)
    K, theta = _static_reference(X, 3, 1.3)
    assert max(_rel(got.nngp.train[0, 1], K), _rel(got.ntk.train[0, 1], theta)) <= 2e-15
