"""Exactly collinear inputs of different norms (x' = a x, rho = 1): the static and the two-time ReLU kernels
equal the rho = 1 closed form (theta = 0: K = sqrt(q q') / 2, Kdot = 1/2), computed here in mpmath at
40 digits. neural-tangents' arccos of a clipped ratio is O(sqrt(eps)) off there (4e-9 in the ensemble mean
of benchmarks/nt_covariance.py); symndk's input Gram determinant comes from the difference of the inputs
(symndk.kernels.collinear), so the rounding of the ratio does not enter."""
import mpmath as mp
import numpy as np
import pytest

import symndk
from symndk.dynamics.twotime import TwoTimeKernel


def _exact(x, z, s, depth):
    """(NNGP K_L, NTK Theta_L) at weight variance s for collinear x, z: the recursion at angle 0."""
    with mp.workdps(40):
        n0 = len(x)
        xx, zz = (mp.fsum(mp.mpf(float(v)) ** 2 for v in w) / n0 for w in (x, z))
        xz = mp.fsum(mp.mpf(float(a)) * mp.mpf(float(b)) for a, b in zip(x, z)) / n0
        theta = xz
        for _ in range(depth):
            q1, q2, c = s * xx, s * zz, s * xz
            K = mp.sign(c) * mp.sqrt(q1 * q2) / 2 if c > 0 else mp.mpf(0)   # a > 0 here: c > 0, angle 0
            theta = K + s * mp.mpf(1) / 2 * theta
            xx, zz, xz = q1 / 2, q2 / 2, K
        return K, theta


@pytest.mark.parametrize("a", [0.7, 3.0, 1.0 + 2.0 ** -30])
@pytest.mark.parametrize("depth", [1, 2])
def test_collinear_inputs_have_the_rho_one_kernels(a, depth):
    x = symndk.data.synthetic(4, 0.6).X_train[2]
    z = a * x
    K, theta = _exact(x, z, 0.6, depth)
    both = symndk.static_kernels(x[None], z[None], activation="relu", depth=depth, sigma_sq=0.6)
    two = TwoTimeKernel(x[None], z[None], "relu", depth, 0.6, 0.6, 1e-3).with_channels("nngp", "ndk").block(0.0, 0.0)
    for got, want in ((both.nngp.test[0, 0], K), (both.ntk.test[0, 0], theta), (two[0][1, 0], K),
                      (two[1][1, 0], theta)):
        assert abs((mp.mpf(float(got)) - want) / want) <= 1e-15, (got, want)
    if a != 3.0:   # foil: D_0 by subtraction (rounds to 2.2e-16 here, 0 for a = 3) misses by 2.4e-9 .. 6.8e-9
        k = TwoTimeKernel(x[None], z[None], "relu", depth, 0.6, 0.6, 1e-3)
        k.det0 = np.maximum(np.outer(k.norm_rows, k.norm_cols) - k.gram ** 2, 0.0)
        assert abs((mp.mpf(float(k.block(0.0, 0.0)[1, 0])) - theta) / theta) > 1e-9
