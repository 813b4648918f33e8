"""The near-rho = 1 branch of the fused layer maps (generated ``_near`` + ``_patch``): a block with no entry
near rho = +-1 skips the mask by one reduction (min D >= k max q1 max q2, since c^2 <= q1 q2), a block with
one such entry still patches it, and the outputs do not depend on which entries share the block."""
import numpy as np
import pytest

from symndk.kernels.loader import load
from symndk_generated._runtime import _near

K = 0.09568891532254714


def test_near_is_none_only_when_no_entry_can_be_near():
    q1, q2 = np.array([[1.0], [2.0]]), np.array([[1.5, 0.5]])
    c = np.array([[0.1, 0.2], [0.3, -0.1]])
    D = q1 * q2 - c * c
    assert _near(D, c, q1, q2, K) is None
    c[1, 0] = np.sqrt(3.0) * (1 - 1e-9)                              # one pair at 1 - rho ~ 1e-9
    D = q1 * q2 - c * c
    assert _near(D, c, q1, q2, K).tolist() == [[False, False], [True, False]]


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_layer_outputs_do_not_depend_on_their_neighbours(activation):
    """The numpy map (the compiled one: tests/test_native.py)."""
    layer = load(activation).layer
    layer = getattr(layer, "numpy", layer)
    rng = np.random.default_rng(3)
    q1, q2 = rng.uniform(1.0, 1.5, (1, 64)), rng.uniform(1.0, 1.5, (1, 64))
    c = rng.uniform(-0.3, 0.3, (1, 64)) * np.sqrt(q1 * q2)
    c[0, 7] = np.sqrt(q1[0, 7] * q2[0, 7]) * (1 - 1e-12)             # one near-collinear entry
    D = q1 * q2 - c * c
    D[0, 7] = q1[0, 7] * q2[0, 7] * 2e-12                             # its Gram determinant, carried exactly
    block = layer(q1, q2, c, D)
    for j in (0, 7, 63):
        alone = layer(q1[:, j:j + 1], q2[:, j:j + 1], c[:, j:j + 1], D[:, j:j + 1])
        assert all(np.array_equal(b[:, j:j + 1], a) for b, a in zip(block, alone)), j
    assert _near(D[:, :7], c[:, :7], q1[:, :7], q2[:, :7], K) is None and _near(D, c, q1, q2, K) is not None
    far = layer(q1[:, :7], q2[:, :7], c[:, :7], D[:, :7])      # a block the early test skips
    assert all(np.array_equal(b[:, :7], f) for b, f in zip(block, far))
