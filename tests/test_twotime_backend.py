"""Two-time kernel blocks and their compression in an array-API namespace (issue 16, "Scale" item 1), on
CPU with array_api_strict (the standard and nothing else): equal to the NumPy blocks, the Gram-determinant
carry kept near rho = 1 against an independent 40-digit mpmath arccos recursion, compression's basis on
the device."""
import mpmath
import numpy as np
import pytest

from symndk.backend.select import to_numpy
from symndk.dynamics.twotime import CHANNELS, TwoTimeKernel
from symndk.errors import SymndkError
from test_static import _pair  # two float64 inputs at 1 - rho = delta

xp = pytest.importorskip("array_api_strict")
PAIRS = [(0.0, 0.0), (3.0, 1.0), (1.0, 3.0), (10.0, 10.0), (50.0, 2.0), (1e3, 0.0)]
CONFIGS = {
    "plain": dict(sigma0_sq=0.7, sigma_sq=1.3),
    "bias": dict(sigma0_sq=0.7, sigma_sq=1.3, bias=(0.3, 0.5)),
    "layers": dict(sigma0_sq=[0.5, 1.0, 2.0], sigma_sq=[1.0, 0.7, 1.3]),
    "layers+bias": dict(sigma0_sq=[0.5, 1.0, 2.0], sigma_sq=[1.0, 0.7, 1.3], bias=([0.1, 0.0, 0.2], [0.3, 0.0, 0.4])),
}


def _inputs():
    rng = np.random.default_rng(0)
    X, Xt = rng.normal(size=(20, 5)), rng.normal(size=(4, 5))
    X[7], Xt[1] = X[2], X[3]  # identical inputs, train-train and test-train
    return X, Xt


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_block_in_array_api_strict_equals_numpy(activation, config):
    """Every channel, at t > s, t < s, t = s and long lags. Measured: max 5.3e-16 relative (erf, plain)."""
    X, Xt = _inputs()
    k = TwoTimeKernel(X, Xt, activation, 2, T=0.1, **CONFIGS[config]).with_channels(*CHANNELS)
    kx = TwoTimeKernel(X, Xt, activation, 2, T=0.1, backend="array_api_strict", **CONFIGS[config]).with_channels(*CHANNELS)
    assert kx.xp is xp and type(kx.device.gram) is type(xp.asarray(1.0))
    for t, s in PAIRS:
        want, got = k.block(t, s), kx.block(t, s)
        assert type(got) is type(xp.asarray(1.0))
        got = to_numpy(got)
        err = np.max(np.abs(got - want), axis=(1, 2)) / np.max(np.abs(want), axis=(1, 2))
        assert err.max() <= 1e-14, (t, s, err)
    rows, cols = [0, 2, 21, 23], [0, 7, 3, 19]
    np.testing.assert_allclose(kx.entries(rows, cols, [4.0, 0.5], [1.0, 0.5]),
                               k.entries(rows, cols, [4.0, 0.5], [1.0, 0.5]), rtol=1e-14)


def test_inputs_of_the_namespace_select_it():
    X, Xt = _inputs()
    kx = TwoTimeKernel(xp.asarray(X), xp.asarray(Xt), "relu", 2, 0.5, 1.0, 0.1)
    k = TwoTimeKernel(X, Xt, "relu", 2, 0.5, 1.0, 0.1)
    assert kx.xp is xp and k.xp is np and k.device is None
    np.testing.assert_allclose(to_numpy(kx.block(2.0, 1.0)), k.block(2.0, 1.0), rtol=1e-14)


def _mp_relu_ndk(X, t, s, sigma0_sq, sigma_sq, T, depth, dps=40):
    """K^d(t, s) between the two inputs at 40 digits, written out here (docs/theory.md §2-§4, §9): the OU
    prior C(t, s) and the ReLU arccos kernel, from the float64 inputs; nothing of symndk's."""
    with mpmath.workdps(dps):
        x, y = ([mpmath.mpf(float(v)) for v in r] for r in X)
        n0, g, t, s = len(x), mpmath.mpf(T) / sigma_sq, mpmath.mpf(t), mpmath.mpf(s)

        def C(a, b):
            return mpmath.exp(-g * (a - b)) * (sigma_sq + (sigma0_sq - sigma_sq) * mpmath.exp(-2 * g * b))

        k_tt, k_ss, k_ts = mpmath.fdot(x, x) / n0, mpmath.fdot(y, y) / n0, mpmath.fdot(x, y) / n0
        theta = k_ts
        for _ in range(depth):
            q1, q2, c = C(t, t) * k_tt, C(s, s) * k_ss, C(t, s) * k_ts
            ang = mpmath.acos(c / mpmath.sqrt(q1 * q2))
            K = mpmath.sqrt(q1 * q2) * (mpmath.sin(ang) + (mpmath.pi - ang) * mpmath.cos(ang)) / (2 * mpmath.pi)
            theta = K + C(t, s) * (mpmath.pi - ang) / (2 * mpmath.pi) * theta
            k_tt, k_ss, k_ts = q1 / 2, q2 / 2, K
        return mpmath.exp(-g * (t - s)) * theta


def _error(block, refs):
    return max(float(abs((mpmath.mpf(float(block[i, j])) - r) / r)) for (i, j), r in refs.items())


def test_near_collinear_pair_keeps_its_digits_in_array_api_strict():
    """1 - rho = 1e-12: the block keeps the digits in both namespaces (measured <= 3.9e-16 at these pairs; NumPy
    3.5e-17, since it runs the same input_blocks). Foils: given D_0 by the subtraction |x|^2 |x'|^2 - (x.x')^2
    (what the NumPy path did before), both are 9.2e-12 off at t = s (the prior's D_C is 0 there, so the carry has
    only D_0 to go on)."""
    X = _pair(1e-12)
    args = ("relu", 2, 0.7, 1.3, 0.1)
    kx = TwoTimeKernel(X, X[:0], *args, backend="array_api_strict")
    for t, s in [(0.0, 0.0), (10.0, 10.0), (3.0, 1.0), (50.0, 2.0)]:
        refs = {(0, 1): _mp_relu_ndk(X, t, s, 0.7, 1.3, 0.1, 2), (1, 0): _mp_relu_ndk(X[::-1], t, s, 0.7, 1.3, 0.1, 2)}
        assert _error(to_numpy(kx.block(t, s)), refs) <= 1e-14, (t, s)
    refs = {(0, 1): _mp_relu_ndk(X, 10.0, 10.0, 0.7, 1.3, 0.1, 2)}
    k = TwoTimeKernel(X, X[:0], *args)
    assert _error(k.block(10.0, 10.0), refs) <= 1e-14
    k.det0 = np.maximum(np.outer(k.norm_rows, k.norm_cols) - k.gram ** 2, 0.0)
    assert _error(k.block(10.0, 10.0), refs) > 1e-12
    dev = kx.device
    naive = xp.clip(dev.norm_rows[:, None] * dev.norm_cols[None, :] - dev.gram * dev.gram, min=0.0)
    kx.device = dev._replace(det0=naive)
    assert _error(to_numpy(kx.block(10.0, 10.0)), refs) > 1e-12


@pytest.mark.parametrize("bias", [None, (0.2, 1.0)])
def test_compression_builds_its_basis_in_the_namespace(bias):
    """The r full blocks and their QR on the device; reconstruction against the NumPy block, as good as NumPy's
    own. Measured: no bias, rank 39 both, error estimate 6.7e-16 (NumPy 2.9e-16), reconstruction 7.5e-15
    (NumPy 9.4e-15); with the bias, rank 200 both (the sample's cap), 1.4e-12 (1.8e-12), 2.4e-11 (4.9e-11)."""
    X = np.random.default_rng(0).normal(size=(30, 5))
    k = TwoTimeKernel(X, X[:2] + 0.1, "relu", 2, 2.0, 1.0, 0.01, bias).with_channels("ndk", "nngp")
    kx = TwoTimeKernel(X, X[:2] + 0.1, "relu", 2, 2.0, 1.0, 0.01, bias, backend="array_api_strict")
    ck, ckx = k.compressed(1000.0), kx.with_channels("ndk", "nngp").compressed(1000.0)
    assert type(ckx.basis) is type(xp.asarray(1.0)) and ckx.rank == ck.rank and ckx.error < 3 * ck.error + 1e-15
    assert isinstance(ckx.weights([1.0], [0.5]), np.ndarray)
    want = k.block(500.0, 250.0)
    got = to_numpy(xp.tensordot(xp.asarray(ckx.weights([500.0], [250.0])[0]), ckx.basis, axes=1))
    own = np.tensordot(ck.weights([500.0], [250.0])[0], ck.basis, 1)
    assert np.abs(got - want).max() <= 3 * np.abs(own - want).max() + 1e-14 * np.abs(want).max()


def test_bad_backend_is_one_line():
    X, _ = _inputs()
    with pytest.raises(SymndkError, match="backend must be one of") as err:
        TwoTimeKernel(X, X[:0], "relu", 2, 1.0, 1.0, 0.1, backend="tensorflow")
    assert "\n" not in str(err.value)
