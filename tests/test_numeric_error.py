"""TwoTimeKernel.numeric_error (issue 12): the relative error of the kernel channels due to numerically
evaluated dual kernels, normalised per channel by max |channel| over the three time pairs (0, 0),
(t_end, 0), (t_end, t_end) -- not by each block's own max, which a decayed (t_end, 0) block inflates.

The dual kernels are replaced by linear ones (F = c, Fdot = 1, V = q) that declare an error bound eps,
so that the perturbed recursion is a hand computation: L = 1, stationary prior (C(t, t) = 1,
C(t, s) = e = e^{-gamma (t - s)}), K_0 = k, norms n:

    nngp = K_1 = e k,                    moved by eps sqrt(n n')           (F + eps sqrt(V V'))
    ndk  = e Theta_1 = e (e k + e k),    moved by e eps (sqrt(n n') + e k) (and Fdot + eps).
"""
from types import SimpleNamespace

import numpy as np

from symndk.dynamics.twotime import TwoTimeKernel

EPS = 1e-9
X = np.array([[1.0, 0.0], [0.6, 1.8]])            # training norms |x|^2 / N0 = 0.5, 1.8
XT = np.array([[2.5, -1.5]])                      # a test row with the largest norm, 4.25
GAMMA, T_END = 0.5, 40.0                          # gamma t_end = 20: the (t_end, 0) blocks decay by e^{-20}


def _linear_with_bound(eps):
    table = SimpleNamespace(rel_error=eps)
    return SimpleNamespace(F=lambda q1, q2, c, D=None: c, Fdot=lambda q1, q2, c, D=None: 1.0 + 0.0 * c,
                           V=lambda q: q, Vdot=lambda q: 1.0 + 0.0 * q, tables={"F": table, "Fdot": table})


def _kernel():
    k = TwoTimeKernel(X, XT, "linear", 1, 1.0, 1.0, GAMMA).with_channels("ndk", "nngp")
    k.duals = _linear_with_bound(EPS)
    return k


def _by_hand():
    """(new, old) normalisations from the closed forms above, on the (R, P) blocks."""
    rows = np.vstack([X, XT])
    k = rows @ X.T / 2
    nn = np.sqrt(np.outer(np.sum(rows ** 2, 1), np.sum(X ** 2, 1)) / 4)
    blocks = []                                                  # per time pair: (base, change) per channel
    for e in (1.0, np.exp(-GAMMA * T_END), 1.0):
        blocks.append({"ndk": (2 * e * e * k, e * EPS * (nn + e * k)), "nngp": (e * k, EPS * nn)})
    new = max(max(np.max(np.abs(b[c][1])) for b in blocks) / max(np.max(np.abs(b[c][0])) for b in blocks)
              for c in ("ndk", "nngp"))
    old = max(max(np.max(np.abs(b[c][1])) for c in b) / max(np.max(np.abs(b[c][0])) for c in b) for b in blocks)
    return new, old


def test_the_hand_computation_is_the_recursion():
    """The closed forms of the module docstring are what the kernel evaluates (unperturbed)."""
    k = _kernel()
    rows = np.vstack([X, XT])
    e = np.exp(-GAMMA * T_END)
    ndk, nngp = k.block(T_END, 0.0)
    assert np.allclose(nngp, e * rows @ X.T / 2, rtol=1e-13, atol=0)
    assert np.allclose(ndk, 2 * e * e * rows @ X.T / 2, rtol=1e-13, atol=0)


def test_numeric_error_is_normalised_per_channel_over_the_three_blocks():
    """Hand value 1.5366e-9 = eps sqrt(4.25 * 1.8) / 1.8 (the nngp channel: the test row's change over the
    largest training entry; the ndk channel gives eps). The old per-block normalisation (all channels of a
    block by that block's max) gives 0.7455 from the decayed (t_end, 0) block; foil: with the old
    twotime.numeric_error this test fails (0.7455 against 1.5366e-9)."""
    new, old = _by_hand()
    got = _kernel().numeric_error(T_END)
    assert abs(got - new) <= 1e-12 * new, (got, new)
    assert old > 1e6 * new                                       # the decayed block inflates the old form
    assert abs(got - old) > 0.5 * old
