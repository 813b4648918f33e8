"""The simulator's temporal-correlation pairs with an output bias (docs/theory.md §8): the readout group of t_a is
(a(t_a), b_out(t_a)), paired with the hidden layers of t_w. Targets with a nonzero mean make the output bias learn,
so taking it from any other time (the last step, before the fix) is visible."""
import dataclasses

import numpy as np
import pytest

import symndk
from symndk.langevin.simulator import simulate

DS = symndk.data.synthetic(4, 0.6)
SHIFTED = dataclasses.replace(DS, y_train=DS.y_train + 1.5)    # targets 2.5, 0.5: b_out learns ~1
T, WIDTH = 0.5, 256


@pytest.mark.parametrize("outputs", [1, 2])
def test_a_pair_at_equal_times_is_the_recorded_output(outputs):
    """g(x; t, t) is f(x, t) network by network, so the ensemble means agree to rounding at every t, also before
    the last step (measured 0; the output bias of the last step instead: 0.14, with two outputs 0.27)."""
    y = SHIFTED.y_train if outputs == 1 else np.stack([SHIFTED.y_train, -SHIFTED.y_train], axis=1)
    times = [0.5, 1.0, 2.0]
    sim = simulate(DS.X_train, y, DS.X_test, "erf", 2, 32, 0.8, 1.0, T, 0.02, times, 8, 1, progress=False,
                   bias=(0.3, 2.0), pairs=[(t, t) for t in times])
    assert np.max(np.abs(sim.pair_train - sim.train)) < 1e-12 and np.max(np.abs(sim.pair_test - sim.test)) < 1e-12
    assert np.max(np.abs(sim.train[-1] - sim.train[0])) > 0.1            # the outputs (and b_out) did move


def test_pairs_with_an_output_bias_match_the_theory():
    """Ensemble (erf L = 1, width 256, 200 networks, gamma_b = gamma / 2) vs NDK.temporal_correlation, pairs with
    t_a before the last time: measured max |z| 1.63 (z on the standard error + 1/width); the output bias of the last
    step instead (the old simulator): |z| up to 19; the bias-free theory (foil): 129."""
    s0, s2, b = 0.8, 1.0, (0.3, 2.0)
    pairs = [(1.0, 3.0), (2.5, 4.0), (1.0, 1.0), (4.0, 2.0)]
    sim = simulate(SHIFTED.X_train, SHIFTED.y_train, SHIFTED.X_test, "erf", 1, WIDTH, s0, s2, T, 0.02, (1.0,), 200,
                   3, progress=False, bias=b, pairs=pairs)
    mean, se = np.hstack([sim.pair_train, sim.pair_test]), np.hstack([sim.pair_train_se, sim.pair_test_se])

    def theory(bias):
        ndk = symndk.NDK(symndk.Network("erf", 1, s0, s2, *bias), SHIFTED.X_train, SHIFTED.y_train, T=T)
        rows = [ndk.temporal_correlation(ta, tw, SHIFTED.X_test) for ta, tw in pairs]
        return np.array([np.hstack([r.train[0], r.test[0]]) for r in rows])

    z = lambda th: np.abs(mean - th) / (se + 1.0 / WIDTH)  # noqa: E731
    assert np.max(z(theory(b))) < 4
    assert np.max(z(theory((0.0, 0.0)))) > 8
