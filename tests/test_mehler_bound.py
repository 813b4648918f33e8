"""The Mehler table's per-entry error bound (symndk.kernels.mehler) holds: SiLU, tol 1e-12, against an
independent extended-precision (np.longdouble, eps 1e-19) truth computed here.

* Coefficients: at 200 random variances q in [1e-3, 1e3], the interpolated b_k (k <= KMAX) and log V
  against composite Gauss-Legendre quadrature in long double: |db|_2 + |dlog V| / 2 <= e_int, the
  per-side interpolation term of the bound (measured 2026-12-05: <= 2.8e-15, median 1.3e-15, against
  e_int 7.1e-15; the l2 norm over 257 coefficients is rounding noise, ~eps sqrt(257)).
* F: at 240 random points (q1, q2 in [1e-3, 1e3] log-uniform; 200 with |rho| <= 0.9, 40 with rho = +-1
  or 1 - |rho| in [1e-14, 1e-12]): |F_table - F_true| <= bound. F_true: |rho| <= 0.9 the Mehler sum of
  the long-double coefficients to k = 256 (tail <= |rho|^257 sqrt(tau1 tau2) by Parseval); rho = +-1 a 1-D quadrature;
  near +-1 its first-order Taylor term (Price: dF/drho = sqrt(q1 q2) E[f'(u) f'(v)]) with the
  remainder bounded by delta^2 q1 q2 sqrt(E f''(u)^2 E f''(v)^2) / 2 (Cauchy-Schwarz), added to the slack.
  Measured (|rho| <= 0.9): error / sqrt(V1 V2) <= 2.1e-15 (median 2.6e-16) where the bound says
  1.5e-14 to 1.9e-14: at least 8x (median ~60x) above the error, so not needlessly loose at its worst.
* Foil: the truth of a point moved by 1e-13 in rho misses the bound at some points (the truth resolves
  errors at the bound's level).
"""
import numpy as np
import pytest

LD = np.longdouble


def _silu(x):
    return x / (1 + np.exp(-x))


def _dsilu(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 + x * (1 - s))


def _d2silu(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s) * (2 + x * (1 - 2 * s))


def _d2sq(x):
    return _d2silu(x) ** 2


def _one(x):
    return 1 + 0 * x


def _rule():
    """Nodes and weights (standard normal density included) on [-14, 14] in long double: 20-point
    Gauss-Legendre panels, graded geometrically towards 0 down to 2^-14, then of width 1/4."""
    x, w = np.polynomial.legendre.leggauss(20)
    x, w = x.astype(LD), w.astype(LD)
    edges = np.array([0.0] + [2.0 ** -j for j in range(14, 2, -1)] + list(np.arange(0.25, 14.0 + 1e-9, 0.25)),
                     dtype=LD)
    a, b = edges[:-1, None], edges[1:, None]
    z = ((b - a) / 2 * x + (a + b) / 2).ravel()
    wz = ((b - a) / 2 * w).ravel()
    z, wz = np.concatenate([-z[::-1], z]), np.concatenate([wz[::-1], wz])
    return z, wz * np.exp(-z * z / 2) / np.sqrt(2 * np.pi * LD(1))


Z, W = _rule()


def _hermite(kmax):
    h = np.empty((Z.size, kmax + 1), dtype=LD)
    h[:, 0], h[:, 1] = 1, Z
    for k in range(1, kmax):
        h[:, k + 1] = (Z * h[:, k] - np.sqrt(LD(k)) * h[:, k - 1]) / np.sqrt(LD(k + 1))
    return h * W[:, None]


def _coefficients(q, basis):
    """(b (n, kmax + 1), V) in long double by the rule above."""
    fz = _silu(np.sqrt(np.asarray(q, dtype=LD))[:, None] * Z[None, :])
    V = (fz * fz) @ W
    return (fz @ basis) / np.sqrt(V)[:, None], V


def _expect(g1, g2, q1, q2, sign):
    """E[g1(u) g2(v)] at rho = sign (v = sign sqrt(q2/q1) u): 1-D, long double."""
    s1, s2 = np.sqrt(LD(q1)), np.sqrt(LD(q2))
    return float(np.sum(W * g1(s1 * Z) * g2(sign * s2 * Z)))


@pytest.fixture(scope="module")
def table():
    from symndk.kernels.mehler import MehlerTable

    return MehlerTable(_silu, tol=1e-12)


@pytest.fixture(scope="module")
def basis(table):
    return _hermite(table.kmax)


def test_interpolated_coefficients_within_their_panel_error(table, basis):
    rng = np.random.default_rng(1)
    q = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), 200))
    b, V = table.coefficients(q)
    bt, Vt = _coefficients(q, basis)
    measured = np.sqrt(np.sum((b - bt.astype(float)) ** 2, axis=1)) + np.abs(np.log(V) - np.log(Vt)).astype(float) / 2
    assert np.all(measured <= table.e_int), (measured / table.e_int).max()
    assert np.median(measured) > 1e-17                  # the comparison resolves the coefficients' errors


def test_bound_holds_against_long_double_truth(table, basis):
    rng = np.random.default_rng(2)
    n, m = 200, 40
    q1 = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), n + m))
    q2 = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), n + m))
    rho = rng.uniform(-0.9, 0.9, n + m)
    sign = np.where(rng.uniform(size=m) < 0.5, -1.0, 1.0)
    delta = np.where(np.arange(m) < 10, 0.0, np.exp(rng.uniform(np.log(1e-14), np.log(1e-12), m)))
    rho[n:] = sign * (1 - delta)
    value, bound = table.evaluate(q1, q2, rho * np.sqrt(q1 * q2))
    truth, slack = np.empty(n + m), np.empty(n + m)
    b1, V1 = _coefficients(q1[:n], basis)
    b2, V2 = _coefficients(q2[:n], basis)
    powers = rho[:n, None].astype(LD) ** np.arange(table.kmax + 1)
    truth[:n] = (np.sqrt(V1 * V2) * np.sum(b1 * b2 * powers, axis=1)).astype(float)
    tails = [np.maximum(1 - np.sum(b * b, axis=1), 0) + LD(1e-18) for b in (b1, b2)]   # Parseval, long double
    slack[:n] = (np.abs(rho[:n]) ** (table.kmax + 1) * np.sqrt(tails[0] * tails[1] * V1 * V2)).astype(float) \
        + 1e-18 * np.abs(truth[:n])
    for i in range(n, n + m):
        s, d = sign[i - n], delta[i - n]
        F1 = _expect(_silu, _silu, q1[i], q2[i], s)
        slope = np.sqrt(q1[i] * q2[i]) * _expect(_dsilu, _dsilu, q1[i], q2[i], s)
        truth[i] = F1 - s * d * slope
        curv = np.sqrt(_expect(_d2sq, _one, q1[i], q1[i], 1) * _expect(_d2sq, _one, q2[i], q2[i], 1))
        slack[i] = d * d * q1[i] * q2[i] * curv / 2 + 1e-18 * abs(truth[i])
    err = np.abs(value - truth)
    assert np.all(err <= bound + slack), np.max(err / (bound + slack))
    # foil: the Mehler-sum truth at rho (1 + 1e-13) is off by more than the bound at some points
    moved = (np.sqrt(V1 * V2) * np.sum(b1 * b2 * (rho[:n, None].astype(LD) * (1 + LD(1e-13))) ** np.arange(
        table.kmax + 1), axis=1)).astype(float)
    assert np.any(np.abs(value[:n] - moved) > bound[:n] + slack[:n])
