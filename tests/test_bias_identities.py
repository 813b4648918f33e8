"""The bias identities of ``symndk verify`` (symndk/identities/cat_bias.py) and the numpy code that runs
them (TwoTimeKernel with biases: generated float64 kernels, expm1 priors) against the spec at 60
digits. Foils: one propagator for both parameter groups must fail the fluctuation-dissipation
proof; the bias-free transient recursion must not match the bias transient."""
import mpmath as mp
import numpy as np
import pytest

from symndk.checks import verify
from symndk.dynamics.twotime import TwoTimeKernel
from symndk.identities import cat_bias
from symndk.identities.engine import rng_for
from symndk.spec.activations import get_activation


def test_bias_identities_pass_with_their_tiers():
    res = {r.id: r for r in verify("bias.*", activations=["relu", "erf"])}
    assert all(r.passed for r in res.values()), [(r.id, r.detail) for r in res.values() if not r.passed]
    for ident in ("bias.fdt.induction_step", "bias.reduction", "bias.transient.induction_step",
                  "bias.equilibrium.linear", "bias.ntk.relu", "bias.ntk.erf"):
        assert res[ident].tier == "symbolic", ident
    for ident in ("bias.fdt.relu", "bias.longtime.erf", "bias.transient.relu", "bias.equilibrium.erf.integral"):
        assert res[ident].tier == "sampled" and res[ident].residual < 1e-40, ident


def test_foils_fail():
    assert cat_bias._fdt_induction(foil=True).verify().tier == "failed"
    from symndk.identities.cat_kernels import transient_terms as bias_free
    duals = cat_bias.Duals(get_activation("erf"))
    p = cat_bias._point(rng_for("foil"), stationary=False)
    with mp.workdps(40):
        want = cat_bias.transient_terms(duals, 2, p, p["t"], p["s"])[1][2]
        wrong = bias_free(duals, 2, p, p["t"], p["s"])[1][2]
    assert abs(want - wrong) > 1e-3 * abs(want)


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_numpy_twotime_kernel_with_biases_equals_the_spec(act):
    """The float64 path the solvers run (generated kernels, bias_terms with expm1 and lag) vs the spec."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3, 4))
    s0, s2, T, b0, b2, L = 0.7, 1.3, 0.4, 0.3, 0.6, 3
    k = TwoTimeKernel(X, X[:0], act, L, s0, s2, T, bias=(b0, b2)).with_channels("ndk", "prior")
    duals = cat_bias.Duals(get_activation(act))
    norms = np.einsum("ij,ij->i", X, X) / 4
    for tt, ss in ((0.0, 0.0), (2.5, 0.7), (9.0, 8.5)):
        ndk, prior = k.block(tt, ss)
        with mp.workdps(40):
            for i in range(3):
                for j in range(3):
                    p = {"ktt": mp.mpf(norms[i]), "kss": mp.mpf(norms[j]), "kts": mp.mpf(X[i] @ X[j] / 4),
                         "s0": mp.mpf(s0), "sig": mp.mpf(s2), "b0": mp.mpf(b0), "b2": mp.mpf(b2),
                         "g": mp.mpf(T) / mp.mpf(s2)}
                    if i == j:
                        p["kts"] = p["ktt"] * (1 - mp.mpf(10) ** -30)   # same input: the spec at its limit
                    G, lay = cat_bias.output_cov(duals, L, p, mp.mpf(tt), mp.mpf(ss))
                    assert abs(ndk[i, j] - float(lay[L].Theta_ts)) < 1e-12 * max(1.0, abs(float(lay[L].Theta_ts)))
                    assert abs(prior[i, j] - float(G)) < 1e-12 * max(1.0, abs(float(G)))
