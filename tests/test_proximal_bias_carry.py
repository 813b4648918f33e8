"""Markov proximal learning with biases keeps the Gram-determinant carry (docs/numerics.md §5, docs/theory.md §D):
the bias chains hand their cancellation-free determinant C_b(n) C_b(m) - C_b(n, m)^2 (``runtime.proximal.gram``,
and along the segment D_b + d (2 cb_hi - d), d = width_b x) to the recursion as ``Bias.D``, as the weights do
with D_C. Without it (``Bias.D`` None) the recursion forms C_b(t,t) C_b(s,s) - C_b(t,s)^2 in float64, which cancels
where the segment's bias covariance is close to the bias variances.

Reference: an independent 50-digit mpmath evaluation written out below (the AR(1) chain statistics of every
parameter group, the arc-cosine kernel of ReLU with the Gram determinant q1 q2 - c^2 formed at 50 digits, and the
directional-derivative recursion Theta_L of docs/theory.md §D), on the same Gauss-Legendre nodes as the kernel
(so the quadrature's own error, the same on both sides, is not what is measured); nothing of symndk's recursion,
chain code or generated kernels is used. The inputs are two vectors with 1 - rho = 1e-15.
"""
import mpmath as mp
import numpy as np
import pytest

from symndk.dynamics.proximal import ProximalKernel, equilibrium_kernels
from symndk.runtime import proximal as rt

DPS = 50
DEPTH = 2
#: (T, lambda): the chain's step width v = 1 / (beta (lambda + kappa)) ~ 2T / lambda is 2.5e-3 and 2e-9; the smaller
#: it is, the closer the segment's covariances come to the variances and the more the old route cancels
REGIMES = [(0.01, 8.0), (1e-6, 1e3)]
W0, W2 = [0.7, 0.9, 1.2], [1.3, 0.8, 1.1]          # sigma0^2, sigma^2 per group W_1, W_2, readout
B0, B2 = [0.3, 0.0, 0.2], [0.6, 0.5, 0.4]          # bias sigma_b0^2, sigma_b^2 per group


def pair(one_minus_rho):
    rng = np.random.default_rng(5)
    x, e = rng.standard_normal(6), rng.standard_normal(6)
    e -= (e @ x) / (x @ x) * x
    e *= np.sqrt(2 * one_minus_rho) * np.linalg.norm(x) / np.linalg.norm(e)
    return np.stack([x, x + e])


def _relu(q1, q2, c):
    """(F, Fdot, V(q1), V(q2)) of ReLU (Cho & Saul), the angle from q1 q2 - c^2 at the working precision."""
    th = mp.atan2(mp.sqrt(max(q1 * q2 - c * c, 0)), c)
    return (mp.sqrt(q1 * q2) * (mp.sin(th) + (mp.pi - th) * mp.cos(th)) / (2 * mp.pi), (mp.pi - th) / (2 * mp.pi),
            q1 / 2, q2 / 2)


def _chain(s0, s2, n, m, T, LAM):
    """(C_n, C_m, c_hi, width) of one group's AR(1) chain: kappa = T / sigma^2, beta = 1 / (2T),
    a = lambda / (lambda + kappa), v = 1 / (beta (lambda + kappa)), C_k = a^{2k} s0 + c_inf (1 - a^{2k}),
    c_inf = v / (1 - a^2), c_hi = a^{n-m} C_m, width = a^{n-m} v."""
    s0, s2, lam, t = mp.mpf(s0), mp.mpf(s2), mp.mpf(LAM), mp.mpf(T)
    kappa, beta = t / s2, 1 / (2 * t)
    a, v = lam / (lam + kappa), 1 / (beta * (lam + kappa))
    cinf = v / (1 - a * a)
    C = lambda k: a ** (2 * k) * s0 + cinf * (1 - a ** (2 * k))  # noqa: E731
    return C(n), C(m), a ** (n - m) * C(m), a ** (n - m) * v


def reference(X, n, m, nodes, weights, T, LAM):
    """beta DeltaK(n, m) for (x, x') = X at 50 digits: sum_j w_j 2 u_j Theta_L[c(u_j)], c = c_hi - width u^2 for every
    group (weights and biases), Theta_0 = w_1 K_0 + wb_1, Theta_l = w_{l+1} K_l + wb_{l+1} + c_{l+1} Kdot_l Theta_{l-1}."""
    with mp.workdps(DPS):
        x, y = [mp.mpf(float(v)) for v in X[0]], [mp.mpf(float(v)) for v in X[1]]
        n0 = len(x)
        k0 = [sum(a * b for a, b in zip(u, v)) / n0 for u, v in ((x, x), (y, y), (x, y))]
        w = [_chain(s0, s2, n, m, T, LAM) for s0, s2 in zip(W0, W2)]
        b = [_chain(s0, s2, n, m, T, LAM) if s2 > 0 else (0, 0, 0, 0) for s0, s2 in zip(B0, B2)]
        total = mp.mpf(0)
        for u, wq in zip(nodes, weights):
            u2 = mp.mpf(float(u)) ** 2
            kxx, kyy, kxy = k0
            theta = w[0][3] * kxy + b[0][3]
            for l in range(DEPTH):
                q1 = w[l][0] * kxx + b[l][0]
                q2 = w[l][1] * kyy + b[l][1]
                c = (w[l][2] - w[l][3] * u2) * kxy + (b[l][2] - b[l][3] * u2)
                kxy, kdot, kxx, kyy = _relu(q1, q2, c)
                theta = w[l + 1][3] * kxy + b[l + 1][3] + (w[l + 1][2] - w[l + 1][3] * u2) * kdot * theta
            total += mp.mpf(float(wq)) * 2 * mp.sqrt(u2) * theta
        return total / (2 * mp.mpf(T))


def _kernel(X, T, LAM):
    return ProximalKernel(X, X[:0], "relu", DEPTH, W0, W2, T, LAM, bias=(B0, B2))


def rel(got, want):
    return float(abs(mp.mpf(float(got)) - want) / abs(want))


CASES = [(5.0, 5.0), (6.0, 5.0), (9.0, 5.0), (40.0, 37.0)]


@pytest.mark.parametrize("T,LAM", REGIMES)
def test_proximal_kernel_with_biases_near_rho_1(T, LAM):
    """beta DeltaK(n, m) at n - m = 0, 1, 4, 3. Measured (max over the cases, 1 - rho = 1e-15 / 1e-12 / 1e-8):
    2.2e-16 / 1.4e-16 / 2.0e-16 (T = 0.01, lambda = 8) and 8.9e-17 / 2.2e-16 / 3.1e-16 (T = 1e-6, lambda = 1e3);
    before (bias entries without their determinant) 1.6e-16 / 6.1e-17 / 9.5e-17 and 4.3e-14 / 4.4e-14 / 3.1e-14."""
    X = pair(1e-15)
    k = _kernel(X, T, LAM)
    for n, m in CASES:
        got = k.blocks(np.array([n]), np.array([m]))[0]
        assert rel(got[0, 1], reference(X, n, m, k.nodes, k.weights, T, LAM)) <= 1e-15, (n, m)


def _old_route(monkeypatch):
    """The pre-fix route: the bias entries reach the recursion without their determinant (``Bias.D`` None)."""
    delta_kernel = rt.delta_kernel

    def old(*args, **kw):
        args = list(args)
        bias = kw.pop("bias", args.pop(13) if len(args) > 13 else None)
        bias = None if bias is None else [None if b is None else tuple(b[:4]) for b in bias]
        return delta_kernel(*args, bias=bias, **kw)

    monkeypatch.setattr(rt, "delta_kernel", old)


def test_foil_the_old_route_misses(monkeypatch):
    """The old route misses the reference in the small-width regime (4.3e-14 at n = m = 5)."""
    T, LAM = REGIMES[1]
    X = pair(1e-15)
    k = _kernel(X, T, LAM)
    want = reference(X, 5.0, 5.0, k.nodes, k.weights, T, LAM)
    _old_route(monkeypatch)
    assert rel(k.blocks(np.array([5.0]), np.array([5.0]))[0][0, 1], want) > 1e-14


def _equilibrium_reference(X, T, LAM):
    """K0 + K1 = G(c_inf) + G(a c_inf) at 50 digits: every group at its stationary variance c_inf,g, lag-one
    covariance a_g c_inf,g; G = c_{L+1} K_L + cb_{L+1}."""
    with mp.workdps(DPS):
        x, y = [mp.mpf(float(v)) for v in X[0]], [mp.mpf(float(v)) for v in X[1]]
        k0 = [sum(a * b for a, b in zip(u, v)) / len(x) for u, v in ((x, x), (y, y), (x, y))]
        lam, t = mp.mpf(LAM), mp.mpf(T)
        inf = lambda s0, s2: _chain(s0, s2, mp.inf, mp.inf, T, LAM)[0] if s2 > 0 else mp.mpf(0)  # noqa: E731
        a = lambda s2: lam / (lam + t / mp.mpf(s2)) if s2 > 0 else mp.mpf(0)  # noqa: E731
        want = 0
        for lag in (0, 1):
            kxx, kyy, kxy = k0
            for l in range(DEPTH + 1):
                cw, cb = inf(W0[l], W2[l]), inf(B0[l], B2[l])
                c = a(W2[l]) ** lag * cw * kxy + a(B2[l]) ** lag * cb
                if l == DEPTH:
                    want += c
                    break
                kxy, _, kxx, kyy = _relu(cw * kxx + cb, cw * kyy + cb, c)
        return want


@pytest.mark.parametrize("T,LAM", REGIMES)
def test_equilibrium_kernels_with_biases_near_rho_1(T, LAM):
    """K0 + K1 (the finite-lambda equilibrium's kernel) with its lag-one Gram determinants c_inf^2 (1 - a^2) carried
    (``runtime.proximal.gram``) for weights and biases. Measured 2.3e-16 / 2.4e-16 (T = 0.01, lambda = 8) and
    2.4e-16 / 2.2e-18 / 4.2e-17 (T = 1e-6, lambda = 1e3) at 1 - rho = 1e-15 / 1e-12 / 1e-8, the same numbers before
    (c_inf^2 - (a c_inf)^2 rounded, the bias one formed by the recursion): a guard, not a foil."""
    X = pair(1e-15)
    S, _ = equilibrium_kernels(_kernel(X, T, LAM))
    assert rel(S[0, 1], _equilibrium_reference(X, T, LAM)) <= 1e-15
