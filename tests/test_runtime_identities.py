"""The runtime.* identities tie every backend's recursion to the SymPy spec, and they can fail."""
import mpmath as mp
import pytest

from symndk.checks import runtime as rt
from symndk.checks import verify
from symndk.identities import catalogue, select
from symndk.kernels import loader
from symndk.runtime import recursion


@pytest.mark.parametrize("name", ["relu", "erf", "linear", "abs"])
def test_runtime_identities_pass(name):
    results = verify(f"runtime.*.{name}", [name])
    assert [r.id.split(".")[1] for r in results] == ["numpy", "mpmath", "mpfr"]
    assert all(r.tier == "sampled" for r in results), [(r.id, r.detail) for r in results]
    assert all("5 random + 4 singular points" in r.detail for r in results)


def test_runtime_identities_are_in_the_verify_catalogue():
    from symndk.checks import catalogue as full

    ids = {i.id for i in full(["relu"])}
    assert {"runtime.numpy.relu", "runtime.mpmath.relu", "runtime.mpfr.relu", "longtime.relu.L1"} <= ids


def test_perturbed_prior_gram_fails(monkeypatch):
    """The Gram determinant carried by the backends (not used by the SymPy spec) is checked."""
    real = recursion.prior_gram
    monkeypatch.setattr(recursion, "prior_gram", lambda *a, **k: real(*a, **k) * (1 + 1e-9))
    results = verify("runtime.mpmath.relu", ["relu"]) + verify("runtime.numpy.relu", ["relu"])
    assert [r.tier for r in results] == ["failed", "failed"], [r.detail for r in results]


def test_perturbed_generated_kernel_fails(monkeypatch):
    """A generated fused layer map that is off by 1e-30 relative fails the 1e-40 comparison."""
    mod = loader.load("erf", "mpmath")
    real = mod.layer

    def layer(q1, q2, c, D=None):
        F, Fdot, gram = real(q1, q2, c, D)
        return F * (1 + mp.mpf("1e-30")), Fdot, gram

    monkeypatch.setattr(mod, "layer", layer)
    (r,) = verify("runtime.mpmath.erf", ["erf"])
    assert r.tier == "failed" and "K_L" in r.detail


def test_perturbed_recursion_fails_the_spec_identities(monkeypatch):
    """The recursion itself is the spec: perturbing Theta_l breaks the long-time identity it must obey."""
    real = recursion.step

    def step(*a, **k):
        lay = real(*a, **k)
        return lay._replace(Theta_ts=lay.Theta_ts * (1 + mp.mpf("1e-30")))

    monkeypatch.setattr(recursion, "step", step)
    (ident,) = select(catalogue(["relu"]), "longtime.relu.L2")
    assert ident.verify().tier == "failed"


def test_singular_points_cover_the_issue_list():
    p = {"ktt": mp.mpf(1), "kss": mp.mpf(2), "kts": mp.mpf("0.5"), "s0": 1, "sig": 1, "g": 1, "s": 1, "t": 2}
    assert set(rt.singular_points(p)) == {"same input, t = s", "rho = -1, t = s", "t = s", "C -> 0"}
