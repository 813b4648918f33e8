"""A staged lambda_n schedule (runs of equal lambda) through the MPL panel solver (docs/theory.md §D).

Reference: the brute-force direct sums with the per-step recurrence of the chain
(:func:`symndk.runtime.proximal.schedule`), every term summed with exact kernel blocks; the panel
solver evaluates the chain in closed form per stage at real steps (:class:`Stages`) and reads the
compressed kernel at the decay clock. Foil: the constant-lambda solution at the first stage's lambda.
"""
import numpy as np
import pytest

import symndk
from symndk.dynamics import proximal as px
from symndk.runtime import proximal as rt

D = symndk.data.synthetic(P=3, r=0.6)


def test_stage_statistics_at_integer_steps_are_the_recurrence():
    lams = np.concatenate([np.full(7, 0.5), np.full(5, 3.0), np.full(9, 1.0)])
    st = px.Stages(lams, 0.2, 4.0, 1.7)
    a, v, C = (np.array(x) for x in rt.schedule(list(lams), 0.2, 4.0, 1.7))
    n = np.arange(lams.size + 1.0)
    assert np.allclose(st.C(n), C, rtol=1e-14, atol=0)
    assert np.allclose(np.exp(-st.G(n)), np.cumprod(a), rtol=1e-13)
    assert np.array_equal(st.v_at(n[1:]), v[1:])
    m = np.array([1.0, 6.0, 7.0, 8.0, 12.0, 13.0, 3.0])
    nn = np.array([21.0, 9.0, 7.0, 20.0, 13.0, 21.0, 3.0])
    A = np.exp(-(st.G(nn) - st.G(m)))
    assert np.allclose(st.E(nn, m), C[nn.astype(int)] - A * A * C[m.astype(int)], rtol=1e-12, atol=1e-15)
    assert np.allclose(st.steps_at(st.G(n)), n, rtol=0, atol=1e-11)


@pytest.mark.parametrize("act,L", [("erf", 1), pytest.param("relu", 2, marks=pytest.mark.slow)])
def test_staged_schedule_panels_match_the_direct_sums(act, L):
    lams = np.concatenate([np.full(100, 0.5), np.full(200, 2.0), np.full(200, 8.0)])
    k = px.ProximalKernel(D.X_train, D.X_test, act, L, 2.0, 1.0, 0.05, lams)
    ref = px.direct(k, D.y_train, 500)
    steps = np.arange(501)
    # predict_proximal picks the panel solver for a staged schedule beyond 400 steps
    res = px.predict_proximal(D.X_train, D.y_train, steps, lams, D.X_test, activation=act, depth=L, sigma0_sq=2.0,
                              sigma_sq=1.0, T=0.05, kernel=k)
    assert res.metadata["method"] == "mpl panels"
    rows = np.hstack([res.train, res.test])
    err = float(np.max(np.abs(rows - ref.rows)))
    # the estimate bounds the error down to the rounding of the O(N^2) reference sums (~1e-13)
    assert err < 1e-10 and err <= max(res.error_estimate, 1e-13), (err, res.error_estimate)
    foil = px.panels(px.ProximalKernel(D.X_train, D.X_test, act, L, 2.0, 1.0, 0.05, 0.5), D.y_train, 500, p=12)
    assert np.max(np.abs(foil.rows - ref.rows)) > 1e-3
